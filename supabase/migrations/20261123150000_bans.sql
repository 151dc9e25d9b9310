-- Ban lists: per tenant, staff ban an email, a phone, an email domain (and its subdomains) or a
-- device (the sha256 of the opaque device token the booking page sends), with a reason and an
-- optional expiry. create_booking refuses a banned PUBLIC booker (staff booking on someone's
-- behalf are not checked) with exactly what an unavailable time answers: SBTAK 'this time was
-- just taken' for an appointment, SBFUL 'not enough seats left in this session' for a session.
-- The check sits where that answer would come from (after every other validation), so no code,
-- message or ordering of errors tells a booker they are banned.
--
-- Why the attempt is logged by the API and not by create_booking: the refusal raises, and a raise
-- rolls back everything the transaction wrote, the log row included (PostgreSQL has no autonomous
-- transactions, and pg_notify or a graphile_worker job would be rolled back as well). A distinct
-- internal SQLSTATE (say SBBAN) that the API maps to slot_taken would tell the API when to log, but
-- it would also tell any direct SQL client (Supabase's PostgREST shows the SQLSTATE) that they are
-- banned. So the database answers the plain SBTAK/SBFUL, and after such an answer to a public
-- booking the API, in a second short transaction as slotbase_api, calls
-- slotbase_private.record_ban_hit(...) with what was attempted; that function re-checks the ban
-- itself and writes a ban_hits row only when one matches (a no-op for a genuinely taken time).
-- Bookers are never let through (the check is in create_booking), clients see one response, and
-- staff get a durable log of attempts made through the API.

-- why: what a ban matches is compared in one canonical form: emails and domains lower-case,
-- phones as digits with a leading +, device hashes lower-case hex.
create function slotbase_private.normalize_ban_value(p_kind text, p_value text)
returns text
language sql
immutable
set search_path = ''
as $$
  select case p_kind
    when 'email' then lower(btrim(p_value))
    when 'domain' then lower(btrim(ltrim(btrim(p_value), '@'), '.'))
    when 'phone' then case when p_value ~ '[0-9]' then '+' || regexp_replace(p_value, '[^0-9]', '', 'g') else p_value end
    when 'device' then lower(btrim(p_value))
    else p_value
  end
$$;
comment on function slotbase_private.normalize_ban_value(text, text) is 'The canonical form of a ban value (or of a booker''s contact) for its kind; what cannot be normalized is returned as is (and refused by bans_value_check).';

-- why: a domain ban covers its subdomains: the booker's email domain and each parent domain
-- (never the bare top-level label) are looked up in the index, one equality each.
create function slotbase_private.email_domains(p_email text)
returns text[]
language sql
immutable
set search_path = ''
as $$
  select coalesce(array_agg(array_to_string(l.labels[i:], '.') order by i), '{}')
  from (select string_to_array(substring(lower(btrim(p_email)) from '@([^@]+)$'), '.') as labels) as l,
       generate_subscripts(l.labels, 1) as i
  where i < cardinality(l.labels)
$$;
comment on function slotbase_private.email_domains(text) is 'The domain of an email and its parent domains: a@x.spam.example → {x.spam.example, spam.example}.';

-- why: who may not book a tenant's public services. Values are stored normalized (trigger
-- _050_prepare), so the check is a few equality lookups in bans_tenant_id_value_key.
create table slotbase.bans (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  kind text not null,
  value text not null,
  reason text not null,
  expires_at timestamptz,
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  constraint bans_pkey primary key (tenant_id, id),
  constraint bans_tenant_id_fkey foreign key (tenant_id) references slotbase.tenants (id),
  constraint bans_created_by_fkey foreign key (created_by) references slotbase.users (id),
  constraint bans_kind_check check (kind in ('email', 'phone', 'domain', 'device')),
  constraint bans_value_check check (
    case kind
      when 'email' then value ~ '^[^@[:space:]]+@[^@[:space:]]+$' and length(value) <= 254
      when 'domain' then value ~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$' and length(value) <= 253
      when 'phone' then value ~ '^\+[0-9]{3,20}$'
      when 'device' then value ~ '^[0-9a-f]{64}$'
      else false
    end
  ),
  constraint bans_reason_check check (length(btrim(reason)) between 1 and 1000),
  constraint bans_expires_at_check check (expires_at is null or expires_at > created_at)
);
alter table slotbase.bans enable row level security;
alter table slotbase.bans force row level security;
-- One live ban per kind and value (named for the field a 409 is about).
create unique index bans_tenant_id_value_key on slotbase.bans (tenant_id, kind, value) where deleted_at is null;

-- why: callers send values as people type them; the row keeps the canonical form and who made it.
create function slotbase_private.tg_bans__prepare()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  new.value := slotbase_private.normalize_ban_value(new.kind, new.value);
  if tg_op = 'INSERT' then
    new.created_by := slotbase.current_user_id();
  end if;
  return new;
end
$$;
create trigger _050_prepare before insert or update of kind, value on slotbase.bans
  for each row execute function slotbase_private.tg_bans__prepare();
create trigger _100_timestamps before update on slotbase.bans
  for each row execute function slotbase_private.tg__set_updated_at();
comment on table slotbase.bans is 'Who may not book this tenant''s public services; a banned booker is answered like an unavailable time.';
comment on column slotbase.bans.kind is 'email (exact), phone, domain (the email domain and its subdomains) or device (sha256 of the device token).';
comment on column slotbase.bans.value is 'Normalized: lower-case email/domain, phone as + and digits, device as lower-case sha256 hex.';
comment on column slotbase.bans.expires_at is 'The ban stops applying at this instant; null = until deleted.';

-- bans: staff who take bookings (owners, admins, receptionists) see the list; tenant-wide owners
-- and admins manage it. Lifting a ban soft-deletes it (deleted_at), so its hits keep their ban.
create policy select_staff on slotbase.bans for select to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin', 'receptionist')
  );
comment on policy select_staff on slotbase.bans is 'Owners, admins and receptionists see their tenant''s bans (they meet the bookers).';
create policy insert_admin on slotbase.bans for insert to authenticated
  with check (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and (select slotbase.current_member_location_id()) is null
  );
comment on policy insert_admin on slotbase.bans is 'Tenant-wide owners and admins ban (a ban applies to every location).';
create policy update_admin on slotbase.bans for update to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and (select slotbase.current_member_location_id()) is null
  )
  with check (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and (select slotbase.current_member_location_id()) is null
  );
comment on policy update_admin on slotbase.bans is 'Tenant-wide owners and admins change a ban''s reason or expiry, and lift it (soft delete).';
grant select on slotbase.bans to authenticated;
grant insert (tenant_id, id, kind, value, reason, expires_at) on slotbase.bans to authenticated;
grant update (reason, expires_at, deleted_at) on slotbase.bans to authenticated;

-- why: staff see when a banned booker tried again, with what they tried. Written only by
-- record_ban_hit (see the top of this file); append-only for callers (no write grants).
create table slotbase.ban_hits (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  ban_id uuid not null,
  at timestamptz not null default now(),
  service_id uuid not null,
  starts_at timestamptz,
  contact_email text,
  contact_phone text,
  device_hash text,
  constraint ban_hits_pkey primary key (tenant_id, id),
  constraint ban_hits_ban_id_fkey foreign key (tenant_id, ban_id) references slotbase.bans (tenant_id, id),
  constraint ban_hits_service_id_fkey foreign key (tenant_id, service_id) references slotbase.services (tenant_id, id) on delete cascade,
  constraint ban_hits_device_hash_check check (device_hash is null or device_hash ~ '^[0-9a-f]{64}$')
);
alter table slotbase.ban_hits enable row level security;
alter table slotbase.ban_hits force row level security;
create index ban_hits_tenant_id_at_idx on slotbase.ban_hits (tenant_id, at desc, id desc);
create index ban_hits_tenant_id_ban_id_idx on slotbase.ban_hits (tenant_id, ban_id);
create index ban_hits_tenant_id_service_id_idx on slotbase.ban_hits (tenant_id, service_id);
comment on table slotbase.ban_hits is 'Attempts by banned bookers to book (what they were told was an unavailable time).';
comment on column slotbase.ban_hits.starts_at is 'The start the booker asked for (a session''s start for group services).';
comment on column slotbase.ban_hits.contact_email is 'The contact email as the booker gave it (not normalized).';
comment on column slotbase.ban_hits.device_hash is 'sha256 of the device token the booking came with, if any: ban it to stop new addresses from the same device.';

create policy select_staff on slotbase.ban_hits for select to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin', 'receptionist')
  );
comment on policy select_staff on slotbase.ban_hits is 'Owners, admins and receptionists see the attempts of banned bookers in their tenant.';
grant select on slotbase.ban_hits to authenticated;

-- why: one definition of "banned" for create_booking and record_ban_hit: a live (not deleted,
-- not expired) ban of the tenant on the booker's email, its domain or a parent domain, phone or
-- device. Security definer: bookers cannot read bans.
create function slotbase_private.booker_is_banned(p_tenant_id uuid, p_email text, p_phone text, p_device_hash text)
returns uuid
language sql
stable
security definer
set search_path = ''
as $$
  select b.id
  from slotbase.bans as b
  where b.tenant_id = p_tenant_id
    and b.deleted_at is null
    and (b.expires_at is null or b.expires_at > pg_catalog.now())
    and (b.kind, b.value) in (
      select 'email', slotbase_private.normalize_ban_value('email', p_email)
      union all select 'phone', slotbase_private.normalize_ban_value('phone', p_phone)
      union all select 'device', slotbase_private.normalize_ban_value('device', p_device_hash)
      union all select 'domain', d from unnest(slotbase_private.email_domains(p_email)) as d
    )
  order by b.created_at, b.id
  limit 1
$$;
comment on function slotbase_private.booker_is_banned(uuid, text, text, text) is
  'The live ban matching a booker''s email, email domain, phone or device hash in the tenant, or null.';

-- why: the durable log of a refused attempt, written after create_booking's transaction has
-- rolled back (see the top of this file). Executable by slotbase_api only, which calls it after a
-- public booking was answered slot_taken or session_full; it re-checks the ban itself, so a
-- genuinely taken time of a booker who is not banned logs nothing.
create function slotbase_private.record_ban_hit(
  p_tenant_id uuid, p_service_id uuid, p_starts_at timestamptz, p_session_id uuid,
  p_email text, p_phone text, p_device_hash text
)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_ban uuid := slotbase_private.booker_is_banned(p_tenant_id, p_email, p_phone, p_device_hash);
  v_hit uuid;
begin
  if v_ban is null then
    return null;
  end if;
  insert into slotbase.ban_hits (tenant_id, ban_id, service_id, starts_at, contact_email, contact_phone, device_hash)
  select p_tenant_id, v_ban, s.id,
         coalesce(p_starts_at, (select se.starts_at from slotbase.sessions as se where se.tenant_id = p_tenant_id and se.id = p_session_id)),
         left(p_email, 254), left(p_phone, 32),
         case when lower(p_device_hash) ~ '^[0-9a-f]{64}$' then lower(p_device_hash) end
  from slotbase.services as s
  where s.tenant_id = p_tenant_id and s.id = p_service_id
  returning id into v_hit;
  return v_hit;
end
$$;
comment on function slotbase_private.record_ban_hit(uuid, uuid, timestamptz, uuid, text, text, text) is
  'slotbase_api only: logs an attempt by a banned booker (returns the hit id), or does nothing when no live ban matches.';

revoke execute on all functions in schema slotbase, slotbase_private from public;
grant execute on function slotbase_private.record_ban_hit(uuid, uuid, timestamptz, uuid, text, text, text) to slotbase_api;
