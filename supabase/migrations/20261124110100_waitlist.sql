-- Waitlist (issue 9): customers wait for a service (optionally a provider and a location) within a
-- time window. When an appointment's time frees up (cancelled, rejected, an expired hold, moved
-- away), a trigger on bookings enqueues a `waitlist_offer` job in the same transaction; the job
-- (slotbase_private.offer_waitlist_slot) books the freed time as a HELD booking for the first
-- waiting entry in order, through create_booking, so the exclusion constraint decides against any
-- concurrent booker. The entry is notified with a link to accept; accepting confirms the held
-- booking (accept_waitlist_offer, under the booking's row lock, so it and a booker sweeping the
-- expired hold never both win). An unanswered offer expires at its time (job
-- `waitlist_offer_expiry`, job_key waitlist-offer:<offer>): the hold expires, the entry waits
-- again, and the same trigger offers the time to the next entry (never twice to the same entry).

-- why: who waits for what, in which order (sort_key; staff may reorder).
create table slotbase.waitlist_entries (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  service_id uuid not null,
  provider_id uuid,
  location_id uuid,
  window_from timestamptz not null,
  window_to timestamptz not null,
  customer_user_id uuid,
  contact_name text not null,
  contact_email text,
  contact_phone text,
  party_size integer not null default 1,
  notes text,
  status text not null default 'waiting',
  sort_key numeric not null,
  booking_id uuid,
  source text not null,
  manage_token_hash bytea not null,
  idempotency_key text,
  request_hash text,
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint waitlist_entries_pkey primary key (tenant_id, id),
  constraint waitlist_entries_idempotency_key_key unique (tenant_id, idempotency_key),
  constraint waitlist_entries_tenant_id_fkey foreign key (tenant_id) references slotbase.tenants (id),
  constraint waitlist_entries_service_id_fkey foreign key (tenant_id, service_id) references slotbase.services (tenant_id, id),
  constraint waitlist_entries_provider_id_fkey foreign key (tenant_id, provider_id) references slotbase.providers (tenant_id, id),
  constraint waitlist_entries_location_id_fkey foreign key (tenant_id, location_id) references slotbase.locations (tenant_id, id),
  constraint waitlist_entries_booking_id_fkey foreign key (tenant_id, booking_id) references slotbase.bookings (tenant_id, id),
  constraint waitlist_entries_customer_user_id_fkey foreign key (customer_user_id) references slotbase.users (id),
  constraint waitlist_entries_window_check check (window_to > window_from and window_to - window_from <= interval '100 days'),
  constraint waitlist_entries_status_check check (status in ('waiting', 'offered', 'booked', 'removed')),
  constraint waitlist_entries_source_check check (source in ('public', 'staff')),
  constraint waitlist_entries_party_size_check check (party_size between 1 and 1000),
  constraint waitlist_entries_contact_name_check check (length(btrim(contact_name)) between 1 and 200),
  constraint waitlist_entries_contact_email_check check (contact_email is null or (contact_email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' and length(contact_email) <= 254)),
  constraint waitlist_entries_contact_phone_check check (contact_phone is null or contact_phone ~ '^\+?[0-9 ()./-]{3,32}$'),
  constraint waitlist_entries_notes_check check (notes is null or length(notes) <= 5000),
  constraint waitlist_entries_idempotency_key_check check (idempotency_key is null or length(idempotency_key) between 1 and 255)
);
alter table slotbase.waitlist_entries enable row level security;
alter table slotbase.waitlist_entries force row level security;
create index waitlist_entries_tenant_id_service_id_sort_key_idx on slotbase.waitlist_entries (tenant_id, service_id, sort_key, id)
  where status in ('waiting', 'offered');
create index waitlist_entries_id_idx on slotbase.waitlist_entries (id);
create index waitlist_entries_tenant_id_location_id_idx on slotbase.waitlist_entries (tenant_id, location_id);
create index waitlist_entries_tenant_id_customer_user_id_idx on slotbase.waitlist_entries (tenant_id, customer_user_id) where customer_user_id is not null;
create trigger _100_timestamps before update on slotbase.waitlist_entries
  for each row execute function slotbase_private.tg__set_updated_at();
comment on table slotbase.waitlist_entries is 'Customers waiting for a freed time of a service in a window; offered in sort_key order. Written only by the waitlist functions.';
comment on column slotbase.waitlist_entries.sort_key is 'Order in the service''s line (lower first); join time by default, moved by move_waitlist_entry.';
comment on column slotbase.waitlist_entries.status is 'waiting, offered (an open offer holds a time for them), booked (accepted an offer), removed (left or removed by staff).';

-- why: each time offered to an entry: the held booking, its expiry, and what became of it.
create table slotbase.waitlist_offers (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  entry_id uuid not null,
  booking_id uuid not null,
  starts_at timestamptz not null,
  expires_at timestamptz not null,
  status text not null default 'open',
  responded_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint waitlist_offers_pkey primary key (tenant_id, id),
  constraint waitlist_offers_booking_id_key unique (tenant_id, booking_id),
  constraint waitlist_offers_entry_id_fkey foreign key (tenant_id, entry_id) references slotbase.waitlist_entries (tenant_id, id),
  constraint waitlist_offers_booking_id_fkey foreign key (tenant_id, booking_id) references slotbase.bookings (tenant_id, id),
  constraint waitlist_offers_status_check check (status in ('open', 'accepted', 'declined', 'expired', 'withdrawn'))
);
alter table slotbase.waitlist_offers enable row level security;
alter table slotbase.waitlist_offers force row level security;
create index waitlist_offers_id_idx on slotbase.waitlist_offers (id);
create unique index waitlist_offers_tenant_id_entry_id_open_idx on slotbase.waitlist_offers (tenant_id, entry_id) where status = 'open';
create index waitlist_offers_tenant_id_entry_id_starts_at_idx on slotbase.waitlist_offers (tenant_id, entry_id, starts_at);
create trigger _100_timestamps before update on slotbase.waitlist_offers
  for each row execute function slotbase_private.tg__set_updated_at();
comment on table slotbase.waitlist_offers is 'Times offered to waitlist entries as held bookings; at most one open offer per entry.';

create policy select_member_or_customer on slotbase.waitlist_entries for select to authenticated
  using (
    (
      tenant_id = (select slotbase.current_tenant_id())
      and (select slotbase.current_member_role()) is not null
      and slotbase.can_see_location(location_id)
    )
    or customer_user_id = (select slotbase.current_user_id())
  );
comment on policy select_member_or_customer on slotbase.waitlist_entries is
  'Members see the waitlist of their scope (entries for any location: tenant-wide members only); a registered customer sees their own entries.';
grant select (
  tenant_id, id, service_id, provider_id, location_id, window_from, window_to, customer_user_id, contact_name, contact_email,
  contact_phone, party_size, notes, status, sort_key, booking_id, source, idempotency_key, created_by, created_at, updated_at
) on slotbase.waitlist_entries to authenticated;

create policy select_member_or_customer on slotbase.waitlist_offers for select to authenticated
  using (
    exists (
      select 1 from slotbase.waitlist_entries as e
      where e.tenant_id = waitlist_offers.tenant_id and e.id = waitlist_offers.entry_id
    )
  );
comment on policy select_member_or_customer on slotbase.waitlist_offers is 'Whoever sees an entry (members in scope, its customer) sees its offers.';
grant select on slotbase.waitlist_offers to authenticated;

-- The templates the worker may log: the waitlist offer joins the booking messages.
alter table slotbase.notifications drop constraint notifications_template_check;
alter table slotbase.notifications add constraint notifications_template_check
  check (template in ('confirmation', 'reminder', 'rescheduled', 'cancelled', 'rejected', 'approval_request', 'waitlist_offer'));

-- why: the tokens a guest uses for their entry and their offers: keyed hashes of the id under a
-- label of their own (never equal to a booking's token), url-safe base64.
create function slotbase_private.waitlist_token(p_kind text, p_id uuid)
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select translate(rtrim(encode(pg_catalog.sha256(s.value || convert_to(p_kind || ':', 'UTF8') || uuid_send(p_id)), 'base64'), '='), '+/', '-_')
  from slotbase_private.secrets as s where s.name = 'manage_token'
$$;

-- why: an entry as callers see it, with its place in line (among entries still waiting or
-- offered for the same service) and its offers, newest first.
create function slotbase_private.waitlist_entry_result(p_tenant_id uuid, p_entry_id uuid, p_with_token boolean)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'id', e.id,
    'service_id', e.service_id,
    'provider_id', e.provider_id,
    'location_id', e.location_id,
    'window_from', slotbase_private.utc_text(e.window_from),
    'window_to', slotbase_private.utc_text(e.window_to),
    'contact_name', e.contact_name,
    'contact_email', e.contact_email,
    'contact_phone', e.contact_phone,
    'party_size', e.party_size,
    'notes', e.notes,
    'status', e.status,
    'position', case when e.status in ('waiting', 'offered') then (
      select count(*)::integer from slotbase.waitlist_entries as o
      where o.tenant_id = e.tenant_id and o.service_id = e.service_id and o.status in ('waiting', 'offered')
        and (o.sort_key, o.id) <= (e.sort_key, e.id)
    ) end,
    'booking_id', e.booking_id,
    'source', e.source,
    'manage_token', case when p_with_token then slotbase_private.waitlist_token('waitlist', e.id) end,
    'created_at', slotbase_private.utc_text(e.created_at),
    'offers', coalesce((
      select jsonb_agg(jsonb_build_object(
        'id', o.id, 'booking_id', o.booking_id, 'starts_at', slotbase_private.utc_text(o.starts_at),
        'expires_at', slotbase_private.utc_text(o.expires_at), 'status', o.status,
        'responded_at', case when o.responded_at is not null then slotbase_private.utc_text(o.responded_at) end
      ) order by o.created_at desc, o.id)
      from slotbase.waitlist_offers as o where o.tenant_id = e.tenant_id and o.entry_id = e.id
    ), '[]'::jsonb)
  )
  from slotbase.waitlist_entries as e
  where e.tenant_id = p_tenant_id and e.id = p_entry_id
$$;

-- why: joining the line. Guests give a contact (email or phone); staff may add anyone, also for
-- hidden services. Idempotent per key. Only appointment services have freed times to offer.
create function slotbase.join_waitlist(
  p_tenant_id uuid,
  p_service_id uuid,
  p_window_from timestamptz,
  p_window_to timestamptz,
  p_provider_id uuid default null,
  p_location_id uuid default null,
  p_party_size integer default 1,
  p_contact_name text default null,
  p_contact_email text default null,
  p_contact_phone text default null,
  p_notes text default null,
  p_idempotency_key text default null,
  p_on_behalf boolean default false
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_service slotbase.services;
  v_entry slotbase.waitlist_entries;
  v_staff boolean;
  v_request_hash text;
  v_id uuid := gen_random_uuid();
begin
  v_request_hash := md5(row(slotbase.current_user_id(), p_service_id, extract(epoch from p_window_from), extract(epoch from p_window_to),
                            p_provider_id, p_location_id, p_party_size, p_contact_name, lower(p_contact_email), p_contact_phone,
                            p_notes, p_on_behalf)::text);
  if p_idempotency_key is not null then
    perform pg_catalog.pg_advisory_xact_lock(hashtextextended(p_tenant_id::text || ':waitlist-idem:' || p_idempotency_key, 0));
    select * into v_entry from slotbase.waitlist_entries where tenant_id = p_tenant_id and idempotency_key = p_idempotency_key;
    if found then
      if v_entry.request_hash is distinct from v_request_hash then
        raise exception 'this idempotency key was used for a different request' using errcode = 'SBIDM';
      end if;
      return slotbase_private.waitlist_entry_result(p_tenant_id, v_entry.id, true);
    end if;
  end if;
  select s.* into v_service
  from slotbase.services as s
  join slotbase.tenants as t on t.id = s.tenant_id
  where s.tenant_id = p_tenant_id and s.id = p_service_id and s.deleted_at is null
    and t.deleted_at is null and t.status in ('active', 'past_due');
  if not found then
    raise exception 'service not found' using errcode = 'SBNF1';
  end if;
  v_staff := slotbase_private.is_staff_of(p_tenant_id, p_location_id);
  if not v_service.is_public and not v_staff then
    raise exception 'service not found' using errcode = 'SBNF1';
  end if;
  if p_on_behalf and not v_staff then
    raise exception 'only owners, admins and receptionists add customers to the waitlist' using errcode = 'insufficient_privilege';
  end if;
  if v_service.kind <> 'appointment' then
    raise exception 'the waitlist is for appointment services' using errcode = 'SBVAL', hint = 'service_id';
  end if;
  if p_provider_id is not null and not exists (
    select 1 from slotbase.service_providers where tenant_id = p_tenant_id and service_id = p_service_id and provider_id = p_provider_id
  ) then
    raise exception 'provider not found' using errcode = 'SBNF1';
  end if;
  if p_location_id is not null and not exists (
    select 1 from slotbase.locations where tenant_id = p_tenant_id and id = p_location_id and deleted_at is null
  ) then
    raise exception 'location not found' using errcode = 'SBNF1';
  end if;
  if p_window_from is null or p_window_to is null or p_window_to <= p_window_from or p_window_to - p_window_from > interval '100 days' then
    raise exception 'the window must be non-empty and at most 100 days' using errcode = 'SBRNG';
  end if;
  if p_window_to <= pg_catalog.now() then
    raise exception 'the window is in the past' using errcode = 'SBRNG';
  end if;
  if p_party_size is null or p_party_size < 1 or p_party_size > v_service.max_party_size then
    raise exception 'party size exceeds what this service allows' using errcode = 'SBPTY';
  end if;
  if p_contact_name is null or btrim(p_contact_name) = '' then
    raise exception 'a contact name is required' using errcode = 'SBVAL', hint = 'contact_name';
  end if;
  perform slotbase_private.check_public_booker(v_service, v_staff, p_contact_email, p_contact_phone);
  insert into slotbase.waitlist_entries (
    tenant_id, id, service_id, provider_id, location_id, window_from, window_to, customer_user_id, contact_name, contact_email,
    contact_phone, party_size, notes, sort_key, source, manage_token_hash, idempotency_key, request_hash, created_by
  ) values (
    p_tenant_id, v_id, p_service_id, p_provider_id, p_location_id, p_window_from, p_window_to,
    case when v_staff then null else (select u.id from slotbase.users as u where u.id = slotbase.current_user_id()) end,
    btrim(p_contact_name), p_contact_email, p_contact_phone, p_party_size, p_notes,
    extract(epoch from pg_catalog.clock_timestamp())::numeric, case when v_staff then 'staff' else 'public' end,
    slotbase_private.hash_token(slotbase_private.waitlist_token('waitlist', v_id)), p_idempotency_key, v_request_hash,
    slotbase.current_user_id()
  );
  return slotbase_private.waitlist_entry_result(p_tenant_id, v_id, true);
end
$$;
comment on function slotbase.join_waitlist(uuid, uuid, timestamptz, timestamptz, uuid, uuid, integer, text, text, text, text, text, boolean) is
  'Joins the waitlist of an appointment service for a window (at most 100 days). Returns the entry with its position and, once, its manage token. SBNF1, SBRNG, SBPTY, SBVAL, SBIDM.';

-- why: who may act on an entry: the holder of its manage token, staff in scope, or its
-- registered customer; everyone else gets not_found.
create function slotbase_private.authorize_waitlist_entry(p_entry_id uuid, p_manage_token text, p_staff_only boolean)
returns slotbase.waitlist_entries
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_entry slotbase.waitlist_entries;
  v_tenant uuid := slotbase.current_tenant_id();
begin
  if p_manage_token is not null and not p_staff_only then
    select * into v_entry from slotbase.waitlist_entries
    where id = p_entry_id and manage_token_hash = slotbase_private.hash_token(p_manage_token);
    if found then
      return v_entry;
    end if;
  end if;
  select * into v_entry from slotbase.waitlist_entries where tenant_id = v_tenant and id = p_entry_id;
  if found and slotbase_private.is_staff_of(v_entry.tenant_id, v_entry.location_id) then
    return v_entry;
  end if;
  if not p_staff_only then
    select * into v_entry from slotbase.waitlist_entries
    where id = p_entry_id and customer_user_id = slotbase.current_user_id() and (v_tenant is null or tenant_id = v_tenant);
    if found then
      return v_entry;
    end if;
  end if;
  raise exception 'waitlist entry not found' using errcode = 'SBNF1';
end
$$;

-- why: the guest's view of their entry (position and offers) by id and manage token.
create function slotbase.find_waitlist_entry(p_entry_id uuid, p_manage_token text)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_entry slotbase.waitlist_entries := slotbase_private.authorize_waitlist_entry(p_entry_id, p_manage_token, false);
begin
  return slotbase_private.waitlist_entry_result(v_entry.tenant_id, v_entry.id, false);
end
$$;
comment on function slotbase.find_waitlist_entry(uuid, text) is 'An entry with its position and offers: manage token, staff in scope, or its customer. SBNF1.';

-- why: leaving the line (the guest) or removing someone from it (staff). An open offer is
-- withdrawn and its held time released (which offers it to the next entry). The offer's booking
-- is locked before the entry, the order accepting an offer uses, so the two never deadlock.
create function slotbase.leave_waitlist(p_entry_id uuid, p_manage_token text default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_entry slotbase.waitlist_entries := slotbase_private.authorize_waitlist_entry(p_entry_id, p_manage_token, false);
  v_booking_id uuid;
begin
  select o.booking_id into v_booking_id from slotbase.waitlist_offers as o
  where o.tenant_id = v_entry.tenant_id and o.entry_id = v_entry.id and o.status = 'open';
  if v_booking_id is not null then
    perform 1 from slotbase.bookings where tenant_id = v_entry.tenant_id and id = v_booking_id for update;
  end if;
  select * into v_entry from slotbase.waitlist_entries where tenant_id = v_entry.tenant_id and id = v_entry.id for update;
  if v_entry.status in ('booked', 'removed') then
    return slotbase_private.waitlist_entry_result(v_entry.tenant_id, v_entry.id, false);
  end if;
  update slotbase.waitlist_entries set status = 'removed' where tenant_id = v_entry.tenant_id and id = v_entry.id;
  update slotbase.waitlist_offers set status = 'withdrawn', responded_at = pg_catalog.now()
  where tenant_id = v_entry.tenant_id and entry_id = v_entry.id and status = 'open';
  if v_booking_id is not null then
    update slotbase.bookings set status = 'cancelled', status_reason = 'waitlist entry removed'
    where tenant_id = v_entry.tenant_id and id = v_booking_id and status = 'held';
  end if;
  return slotbase_private.waitlist_entry_result(v_entry.tenant_id, v_entry.id, false);
end
$$;
comment on function slotbase.leave_waitlist(uuid, text) is 'Leaves (guest) or removes (staff) a waitlist entry; withdraws an open offer. SBNF1.';

-- why: staff put an entry at a place in its service's line (1 = next to be offered).
create function slotbase.move_waitlist_entry(p_entry_id uuid, p_position integer)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_entry slotbase.waitlist_entries := slotbase_private.authorize_waitlist_entry(p_entry_id, null, true);
  v_keys numeric[];
  v_key numeric;
begin
  if p_position is null or p_position < 1 then
    raise exception 'position must be 1 or more' using errcode = 'SBVAL', hint = 'position';
  end if;
  if v_entry.status not in ('waiting', 'offered') then
    raise exception 'only a waiting entry has a place in line' using errcode = 'SBTRN';
  end if;
  -- One mover per line at a time.
  perform pg_catalog.pg_advisory_xact_lock(hashtextextended(v_entry.tenant_id::text || ':waitlist-order:' || v_entry.service_id::text, 0));
  select array_agg(e.sort_key order by e.sort_key, e.id) into v_keys
  from slotbase.waitlist_entries as e
  where e.tenant_id = v_entry.tenant_id and e.service_id = v_entry.service_id and e.status in ('waiting', 'offered') and e.id <> v_entry.id;
  v_keys := coalesce(v_keys, '{}');
  if p_position = 1 or cardinality(v_keys) = 0 then
    v_key := coalesce(v_keys[1], 0) - 1;
  elsif p_position > cardinality(v_keys) then
    v_key := v_keys[cardinality(v_keys)] + 1;
  else
    v_key := (v_keys[p_position - 1] + v_keys[p_position]) / 2;
  end if;
  update slotbase.waitlist_entries set sort_key = v_key where tenant_id = v_entry.tenant_id and id = v_entry.id;
  return slotbase_private.waitlist_entry_result(v_entry.tenant_id, v_entry.id, false);
end
$$;
comment on function slotbase.move_waitlist_entry(uuid, integer) is 'Staff in scope: moves an entry to a position in its service''s line. SBNF1, SBVAL, SBTRN.';

-- why: the worker offers a freed time: the first waiting entry in order that wants it (service,
-- provider, location, window) and was never offered it gets a HELD booking through create_booking
-- (so the exclusion constraint decides; a banned or limited entry fails and the next is tried),
-- acting as that customer. The offer lasts settings.waitlist_offer_minutes (default 60), never
-- past the start. Its notice and its expiry are enqueued in the same transaction. Entries are
-- taken with skip locked, so concurrent offer jobs never offer to the same entry.
create function slotbase_private.offer_waitlist_slot(
  p_tenant_id uuid, p_service_id uuid, p_provider_id uuid, p_location_id uuid, p_starts_at timestamptz
)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_service slotbase.services;
  v_minutes integer;
  v_expires timestamptz;
  v_entry slotbase.waitlist_entries;
  v_claims text := pg_catalog.current_setting('request.jwt.claims', true);
  v_booking_id uuid;
  v_offer_id uuid;
  v_state text;
begin
  select * into v_service from slotbase.services where tenant_id = p_tenant_id and id = p_service_id and deleted_at is null;
  if not found or v_service.kind <> 'appointment' then
    return null;
  end if;
  select case when jsonb_typeof(t.settings -> 'waitlist_offer_minutes') = 'number'
              then least(greatest((t.settings ->> 'waitlist_offer_minutes')::numeric, 5), 10080)::integer end
  into v_minutes from slotbase.tenants as t where t.id = p_tenant_id;
  v_expires := least(pg_catalog.now() + make_interval(mins => coalesce(v_minutes, 60)), p_starts_at);
  if v_expires <= pg_catalog.now() + interval '1 minute' then
    return null;
  end if;
  for v_entry in
    select e.* from slotbase.waitlist_entries as e
    where e.tenant_id = p_tenant_id and e.service_id = p_service_id and e.status = 'waiting'
      and (e.provider_id is null or e.provider_id = p_provider_id)
      and (e.location_id is null or e.location_id = p_location_id)
      and e.window_from <= p_starts_at and p_starts_at + make_interval(mins => v_service.duration_minutes) <= e.window_to
      and not exists (
        select 1 from slotbase.waitlist_offers as o
        where o.tenant_id = e.tenant_id and o.entry_id = e.id and o.starts_at = p_starts_at
      )
    order by e.sort_key, e.id
    limit 20
    for update of e skip locked
  loop
    begin
      -- create_booking acts for the customer: public rules, their account if they have one.
      perform pg_catalog.set_config('request.jwt.claims',
        case when v_entry.customer_user_id is null then '{"role":"anon"}'
             else json_build_object('role', 'authenticated', 'sub', v_entry.customer_user_id)::text end, true);
      select r.id into v_booking_id
      from slotbase.create_booking(
        p_tenant_id => p_tenant_id, p_service_id => p_service_id, p_starts_at => p_starts_at,
        p_provider_id => p_provider_id, p_location_id => p_location_id, p_party_size => v_entry.party_size,
        p_contact_name => v_entry.contact_name, p_contact_email => v_entry.contact_email,
        p_contact_phone => v_entry.contact_phone, p_notes => v_entry.notes, p_hold => true) as r;
    exception when others then
      get stacked diagnostics v_state = returned_sqlstate;
      v_booking_id := null;
      -- Outside hours, notice or horizon: nobody can have this time; stop.
      exit when v_state in ('SBOUT', 'SBLAT', 'SBEAR', 'SBNF1');
    end;
    exit when v_booking_id is not null;
  end loop;
  perform pg_catalog.set_config('request.jwt.claims', coalesce(v_claims, ''), true);
  if v_booking_id is null then
    return null;
  end if;
  update slotbase.bookings set hold_expires_at = v_expires
  where tenant_id = p_tenant_id and id = v_booking_id and status = 'held';
  v_offer_id := gen_random_uuid();
  insert into slotbase.waitlist_offers (tenant_id, id, entry_id, booking_id, starts_at, expires_at)
  values (p_tenant_id, v_offer_id, v_entry.id, v_booking_id, p_starts_at, v_expires);
  update slotbase.waitlist_entries set status = 'offered' where tenant_id = p_tenant_id and id = v_entry.id;
  perform graphile_worker.add_job('waitlist_offer_notice', json_build_object('tenant_id', p_tenant_id, 'offer_id', v_offer_id),
                                  job_key => 'waitlist-offer-notice:' || v_offer_id);
  perform graphile_worker.add_job('waitlist_offer_expiry', json_build_object('tenant_id', p_tenant_id, 'offer_id', v_offer_id),
                                  run_at => v_expires, job_key => 'waitlist-offer:' || v_offer_id);
  return v_offer_id;
end
$$;
comment on function slotbase_private.offer_waitlist_slot(uuid, uuid, uuid, uuid, timestamptz) is
  'Worker: offers a freed time to the next waiting entry as a held booking (create_booking decides); enqueues the notice and the expiry. Returns the offer id, or null when nobody could take it.';

-- why: an unanswered offer ends at its time: its hold expires, which (through the bookings
-- trigger) puts the entry back in line and offers the time to the next entry. An offer answered
-- meanwhile, or whose time is not up, is left alone.
create function slotbase_private.expire_waitlist_offer(p_tenant_id uuid, p_offer_id uuid)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_offer slotbase.waitlist_offers;
begin
  select * into v_offer from slotbase.waitlist_offers where tenant_id = p_tenant_id and id = p_offer_id;
  if not found or v_offer.status <> 'open' then
    return false;
  end if;
  update slotbase.bookings set status = 'expired', status_reason = 'waitlist offer expired'
  where tenant_id = p_tenant_id and id = v_offer.booking_id and status = 'held' and hold_expires_at <= pg_catalog.now();
  return found;
end
$$;
comment on function slotbase_private.expire_waitlist_offer(uuid, uuid) is 'Worker: expires an open offer whose time is up (its held booking expires; the next entry is offered). True when it did.';

-- why: what the offer notice needs besides the booking (notification_context): the offer's state,
-- expiry and accept token.
create function slotbase_private.waitlist_offer_context(p_tenant_id uuid, p_offer_id uuid)
returns table (offer_id uuid, booking_id uuid, entry_id uuid, status text, expires_at timestamptz, token text)
language sql
stable
security definer
set search_path = ''
as $$
  select o.id, o.booking_id, o.entry_id, o.status, o.expires_at, slotbase_private.waitlist_token('offer', o.id)
  from slotbase.waitlist_offers as o where o.tenant_id = p_tenant_id and o.id = p_offer_id
$$;
comment on function slotbase_private.waitlist_offer_context(uuid, uuid) is 'Worker: an offer''s state, expiry and accept token.';

-- why: who may answer an offer: the holder of its token (from the notice) or the entry's
-- registered customer. Returns the offer; SBNF1 otherwise.
create function slotbase_private.authorize_waitlist_offer(p_offer_id uuid, p_token text)
returns slotbase.waitlist_offers
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_offer slotbase.waitlist_offers;
begin
  select o.* into v_offer from slotbase.waitlist_offers as o
  where o.id = p_offer_id and p_token is not null and p_token = slotbase_private.waitlist_token('offer', o.id);
  if found then
    return v_offer;
  end if;
  select o.* into v_offer from slotbase.waitlist_offers as o
  join slotbase.waitlist_entries as e on e.tenant_id = o.tenant_id and e.id = o.entry_id
  where o.id = p_offer_id and e.customer_user_id = slotbase.current_user_id();
  if found then
    return v_offer;
  end if;
  raise exception 'offer not found' using errcode = 'SBNF1';
end
$$;

-- why: an offer as its recipient sees it, with the held booking's code and manage token once
-- accepted (the booking is theirs from then on).
create function slotbase_private.waitlist_offer_result(p_tenant_id uuid, p_offer_id uuid)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'id', o.id,
    'entry_id', o.entry_id,
    'status', o.status,
    'service_id', b.service_id,
    'provider_id', b.provider_id,
    'location_id', b.location_id,
    'starts_at', slotbase_private.utc_text(b.starts_at),
    'ends_at', slotbase_private.utc_text(b.ends_at),
    'expires_at', slotbase_private.utc_text(o.expires_at),
    'booking', case when o.status = 'accepted' then jsonb_build_object(
      'id', b.id, 'code', b.code, 'status', b.status, 'manage_token', slotbase_private.manage_token(b.id)) end
  )
  from slotbase.waitlist_offers as o
  join slotbase.bookings as b on b.tenant_id = o.tenant_id and b.id = o.booking_id
  where o.tenant_id = p_tenant_id and o.id = p_offer_id
$$;

create function slotbase.find_waitlist_offer(p_offer_id uuid, p_token text)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_offer slotbase.waitlist_offers := slotbase_private.authorize_waitlist_offer(p_offer_id, p_token);
begin
  return slotbase_private.waitlist_offer_result(v_offer.tenant_id, v_offer.id);
end
$$;
comment on function slotbase.find_waitlist_offer(uuid, text) is 'An offer for its token (or the entry''s customer). SBNF1.';

-- why: accepting confirms the held booking (pending when the service needs approval). Under the
-- booking's row lock, the lock a booker sweeping an expired hold also takes: either the offer is
-- still open and in time and wins (the sweeper then finds the time taken), or it lost (SBOFX).
-- Accepting an accepted offer again answers the same result.
create function slotbase.accept_waitlist_offer(p_offer_id uuid, p_token text default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_offer slotbase.waitlist_offers := slotbase_private.authorize_waitlist_offer(p_offer_id, p_token);
  v_booking slotbase.bookings;
  v_approval boolean;
begin
  select * into v_booking from slotbase.bookings where tenant_id = v_offer.tenant_id and id = v_offer.booking_id for update;
  select * into v_offer from slotbase.waitlist_offers where tenant_id = v_offer.tenant_id and id = v_offer.id;
  if v_offer.status = 'accepted' then
    return slotbase_private.waitlist_offer_result(v_offer.tenant_id, v_offer.id);
  end if;
  if v_offer.status <> 'open' or v_booking.status <> 'held' or v_booking.hold_expires_at <= pg_catalog.now() then
    raise exception 'this offer has expired or was withdrawn' using errcode = 'SBOFX';
  end if;
  select s.requires_approval into v_approval from slotbase.services as s where s.tenant_id = v_booking.tenant_id and s.id = v_booking.service_id;
  update slotbase.bookings set status = case when v_approval then 'pending' else 'confirmed' end
  where tenant_id = v_booking.tenant_id and id = v_booking.id;
  return slotbase_private.waitlist_offer_result(v_offer.tenant_id, v_offer.id);
end
$$;
comment on function slotbase.accept_waitlist_offer(uuid, text) is
  'Accepts an open offer: its held booking becomes confirmed (pending with approval). SBOFX when it expired or was withdrawn, SBNF1 for a wrong token.';

-- why: declining releases the held time at once (offered to the next entry); the entry stays in
-- line for other times.
create function slotbase.decline_waitlist_offer(p_offer_id uuid, p_token text default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_offer slotbase.waitlist_offers := slotbase_private.authorize_waitlist_offer(p_offer_id, p_token);
  v_booking slotbase.bookings;
begin
  select * into v_booking from slotbase.bookings where tenant_id = v_offer.tenant_id and id = v_offer.booking_id for update;
  select * into v_offer from slotbase.waitlist_offers where tenant_id = v_offer.tenant_id and id = v_offer.id;
  if v_offer.status = 'declined' then
    return slotbase_private.waitlist_offer_result(v_offer.tenant_id, v_offer.id);
  end if;
  if v_offer.status <> 'open' or v_booking.status <> 'held' then
    raise exception 'this offer is no longer open' using errcode = 'SBOFX';
  end if;
  update slotbase.bookings set status = 'cancelled', status_reason = 'waitlist offer declined'
  where tenant_id = v_booking.tenant_id and id = v_booking.id;
  return slotbase_private.waitlist_offer_result(v_offer.tenant_id, v_offer.id);
end
$$;
comment on function slotbase.decline_waitlist_offer(uuid, text) is 'Declines an open offer; its time goes to the next entry. SBOFX, SBNF1.';

-- why: the waitlist follows the bookings it offers, and hears about every freed time, in the
-- transaction that freed it: an offer's booking accepted → offer accepted, entry booked; expired,
-- cancelled or rejected → the entry waits again; and an appointment's time released (ended or
-- moved away) enqueues a `waitlist_offer` job for it when someone may want it (job_key per
-- provider and start, so two releases of one time make one job).
create function slotbase_private.tg_bookings__waitlist()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_offer slotbase.waitlist_offers;
  v_duration integer;
begin
  if old.status = 'held' and new.status <> 'held' then
    select * into v_offer from slotbase.waitlist_offers
    where tenant_id = new.tenant_id and booking_id = new.id and status = 'open';
    if found then
      if new.status in ('confirmed', 'pending') then
        update slotbase.waitlist_offers set status = 'accepted', responded_at = pg_catalog.now()
        where tenant_id = new.tenant_id and id = v_offer.id;
        update slotbase.waitlist_entries set status = 'booked', booking_id = new.id
        where tenant_id = new.tenant_id and id = v_offer.entry_id;
      else
        update slotbase.waitlist_offers
        set status = case new.status when 'expired' then 'expired' when 'cancelled' then 'declined' else 'withdrawn' end,
            responded_at = case when new.status = 'cancelled' then pg_catalog.now() end
        where tenant_id = new.tenant_id and id = v_offer.id;
        update slotbase.waitlist_entries set status = 'waiting'
        where tenant_id = new.tenant_id and id = v_offer.entry_id and status = 'offered';
      end if;
      perform graphile_worker.remove_job('waitlist-offer:' || v_offer.id);
    end if;
  end if;

  if new.session_id is null and old.status in ('held', 'pending', 'confirmed')
     and (new.status in ('cancelled', 'rejected', 'expired') or new.during <> old.during or new.provider_id <> old.provider_id) then
    select s.duration_minutes into v_duration from slotbase.services as s where s.tenant_id = old.tenant_id and s.id = old.service_id;
    if old.starts_at > pg_catalog.now() and exists (
      select 1 from slotbase.waitlist_entries as e
      where e.tenant_id = old.tenant_id and e.service_id = old.service_id and e.status = 'waiting'
        and (e.provider_id is null or e.provider_id = old.provider_id)
        and (e.location_id is null or e.location_id = old.location_id)
        and e.window_from <= old.starts_at and old.starts_at + make_interval(mins => v_duration) <= e.window_to
        and not exists (
          select 1 from slotbase.waitlist_offers as o
          where o.tenant_id = e.tenant_id and o.entry_id = e.id and o.starts_at = old.starts_at
        )
    ) then
      perform graphile_worker.add_job('waitlist_offer',
        json_build_object('tenant_id', old.tenant_id, 'service_id', old.service_id, 'provider_id', old.provider_id,
                          'location_id', old.location_id, 'starts_at', slotbase_private.utc_text(old.starts_at)),
        job_key => 'waitlist-slot:' || old.tenant_id || ':' || old.provider_id || ':' || extract(epoch from old.starts_at)::bigint);
    end if;
  end if;
  return null;
end
$$;
create trigger _450_waitlist after update of status, during, provider_id on slotbase.bookings
  for each row execute function slotbase_private.tg_bookings__waitlist();

revoke execute on all functions in schema slotbase, slotbase_private from public;
grant execute on function
  slotbase.join_waitlist(uuid, uuid, timestamptz, timestamptz, uuid, uuid, integer, text, text, text, text, text, boolean),
  slotbase.find_waitlist_entry(uuid, text),
  slotbase.leave_waitlist(uuid, text),
  slotbase.find_waitlist_offer(uuid, text),
  slotbase.accept_waitlist_offer(uuid, text),
  slotbase.decline_waitlist_offer(uuid, text)
  to anon, authenticated;
grant execute on function slotbase.move_waitlist_entry(uuid, integer) to authenticated;
