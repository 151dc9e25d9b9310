-- The booking engine: sessions, bookings, their claims on providers and resources, the audit
-- trail, availability, and every booking action. Exclusion constraints and row locks hold the
-- guarantees; the functions take per-subject advisory locks in sorted order first, so
-- concurrent bookers queue instead of deadlocking (DESIGN §12).

-- why: manage tokens are derived from a private key (so an idempotent replay can return the
-- same token) and only their hash is stored with the booking.
create table slotbase_private.secrets (
  name text not null,
  value bytea not null,
  constraint secrets_pkey primary key (name)
);
alter table slotbase_private.secrets enable row level security;
alter table slotbase_private.secrets force row level security;
comment on table slotbase_private.secrets is 'Server-side keys; no caller has any privilege here.';
insert into slotbase_private.secrets (name, value)
values ('manage_token', sha256(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())));

-- why: a scheduled occurrence of a group service with seats. The session claims its provider
-- once; bookings take seats under the row lock of the seats_taken update.
create table slotbase.sessions (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  service_id uuid not null,
  provider_id uuid not null,
  location_id uuid not null,
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  capacity integer not null,
  seats_taken integer not null default 0,
  status text not null default 'scheduled',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint sessions_pkey primary key (tenant_id, id),
  constraint sessions_service_id_fkey foreign key (tenant_id, service_id) references slotbase.services (tenant_id, id),
  constraint sessions_provider_id_fkey foreign key (tenant_id, provider_id) references slotbase.providers (tenant_id, id),
  constraint sessions_location_id_fkey foreign key (tenant_id, location_id) references slotbase.locations (tenant_id, id),
  constraint sessions_time_range_check check (ends_at > starts_at),
  constraint sessions_capacity_check check (capacity between 1 and 10000),
  constraint sessions_seats_taken_check check (seats_taken >= 0 and seats_taken <= capacity),
  constraint sessions_status_check check (status in ('scheduled', 'cancelled'))
);
alter table slotbase.sessions enable row level security;
alter table slotbase.sessions force row level security;
create index sessions_tenant_id_service_id_starts_at_idx on slotbase.sessions (tenant_id, service_id, starts_at);
create index sessions_tenant_id_provider_id_idx on slotbase.sessions (tenant_id, provider_id);
create index sessions_tenant_id_location_id_idx on slotbase.sessions (tenant_id, location_id);
create trigger _100_timestamps before update on slotbase.sessions
  for each row execute function slotbase_private.tg__set_updated_at();
comment on table slotbase.sessions is 'A group session with capacity; seats_taken never exceeds capacity (sessions_seats_taken_check).';

-- why: one appointment or one party's seats in a session. `during` is the appointment itself;
-- starts_at/ends_at are plain copies for btree reads under RLS (DESIGN §12).
create table slotbase.bookings (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  code text not null,
  manage_token_hash bytea not null,
  service_id uuid not null,
  provider_id uuid not null,
  location_id uuid not null,
  session_id uuid,
  customer_user_id uuid,
  contact_name text not null,
  contact_email text,
  contact_phone text,
  party_size integer not null default 1,
  during tstzrange not null,
  starts_at timestamptz not null generated always as (lower(during)) stored,
  ends_at timestamptz not null generated always as (upper(during)) stored,
  status text not null,
  source text not null,
  idempotency_key text,
  request_hash text,
  notes text,
  hold_expires_at timestamptz,
  status_reason text,
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  constraint bookings_pkey primary key (tenant_id, id),
  constraint bookings_code_key unique (tenant_id, code),
  constraint bookings_idempotency_key_key unique (tenant_id, idempotency_key),
  constraint bookings_tenant_id_fkey foreign key (tenant_id) references slotbase.tenants (id),
  constraint bookings_service_id_fkey foreign key (tenant_id, service_id) references slotbase.services (tenant_id, id),
  constraint bookings_provider_id_fkey foreign key (tenant_id, provider_id) references slotbase.providers (tenant_id, id),
  constraint bookings_location_id_fkey foreign key (tenant_id, location_id) references slotbase.locations (tenant_id, id),
  constraint bookings_session_id_fkey foreign key (tenant_id, session_id) references slotbase.sessions (tenant_id, id),
  constraint bookings_customer_user_id_fkey foreign key (customer_user_id) references slotbase.users (id),
  constraint bookings_code_check check (code ~ '^BK-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{6,8}$'),
  constraint bookings_status_check check (status in ('held', 'pending', 'confirmed', 'completed', 'no_show', 'cancelled', 'rejected', 'expired')),
  constraint bookings_source_check check (source in ('public', 'staff')),
  constraint bookings_party_size_check check (party_size between 1 and 1000),
  constraint bookings_during_check check (not isempty(during) and not lower_inf(during) and not upper_inf(during) and lower_inc(during) and not upper_inc(during)),
  constraint bookings_contact_name_check check (length(btrim(contact_name)) between 1 and 200),
  constraint bookings_contact_email_check check (contact_email is null or (contact_email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' and length(contact_email) <= 254)),
  constraint bookings_contact_phone_check check (contact_phone is null or contact_phone ~ '^\+?[0-9 ()./-]{3,32}$'),
  constraint bookings_notes_check check (notes is null or length(notes) <= 5000),
  constraint bookings_idempotency_key_check check (idempotency_key is null or length(idempotency_key) between 1 and 255),
  constraint bookings_hold_check check (status <> 'held' or hold_expires_at is not null)
);
alter table slotbase.bookings enable row level security;
alter table slotbase.bookings force row level security;
create index bookings_code_idx on slotbase.bookings (code);
create index bookings_id_idx on slotbase.bookings (id);
create index bookings_tenant_id_starts_at_idx on slotbase.bookings (tenant_id, starts_at);
create index bookings_tenant_id_provider_id_starts_at_idx on slotbase.bookings (tenant_id, provider_id, starts_at);
create index bookings_tenant_id_location_id_starts_at_idx on slotbase.bookings (tenant_id, location_id, starts_at);
create index bookings_tenant_id_service_id_idx on slotbase.bookings (tenant_id, service_id);
create index bookings_tenant_id_session_id_idx on slotbase.bookings (tenant_id, session_id) where session_id is not null;
create index bookings_tenant_id_customer_user_id_idx on slotbase.bookings (tenant_id, customer_user_id) where customer_user_id is not null;
create index bookings_tenant_id_hold_expires_at_idx on slotbase.bookings (tenant_id, hold_expires_at) where status = 'held';
create trigger _100_timestamps before update on slotbase.bookings
  for each row execute function slotbase_private.tg__set_updated_at();
comment on table slotbase.bookings is 'A booking. Written only by the booking functions; status changes follow the lifecycle (SBTRN otherwise).';
comment on column slotbase.bookings.manage_token_hash is 'sha256 of the manage token given to the booker; never readable by callers.';

-- why: what a booking (or a group session) occupies. The exclusion constraint is THE guarantee
-- against double booking: no two active claims on one subject overlap, buffers included.
create table slotbase.booking_claims (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  booking_id uuid,
  session_id uuid,
  subject_id uuid not null,
  subject_kind text not null,
  busy tstzrange not null,
  starts_at timestamptz not null generated always as (lower(busy)) stored,
  ends_at timestamptz not null generated always as (upper(busy)) stored,
  is_active boolean not null default true,
  created_at timestamptz not null default now(),
  constraint booking_claims_pkey primary key (tenant_id, id),
  constraint booking_claims_booking_id_fkey foreign key (tenant_id, booking_id) references slotbase.bookings (tenant_id, id) on delete cascade,
  constraint booking_claims_session_id_fkey foreign key (tenant_id, session_id) references slotbase.sessions (tenant_id, id) on delete cascade,
  constraint booking_claims_owner_check check (num_nonnulls(booking_id, session_id) = 1),
  constraint booking_claims_subject_kind_check check (subject_kind in ('provider', 'resource')),
  constraint booking_claims_busy_check check (not isempty(busy) and not lower_inf(busy) and not upper_inf(busy)),
  constraint booking_claims_busy_excl exclude using gist (tenant_id with =, subject_id with =, busy with &&) where (is_active)
);
alter table slotbase.booking_claims enable row level security;
alter table slotbase.booking_claims force row level security;
-- Reads use plain bounds with btree comparisons (leakproof under RLS); the gist index guards writes.
create index booking_claims_tenant_id_subject_id_ends_at_idx on slotbase.booking_claims (tenant_id, subject_id, ends_at) include (starts_at) where is_active;
create index booking_claims_tenant_id_booking_id_idx on slotbase.booking_claims (tenant_id, booking_id) where booking_id is not null;
create index booking_claims_tenant_id_session_id_idx on slotbase.booking_claims (tenant_id, session_id) where session_id is not null;
comment on table slotbase.booking_claims is 'Time a booking or session occupies on a provider or resource, buffers included; active claims never overlap (booking_claims_busy_excl).';

-- why: who changed what and when, for staff and disputes. Append-only, even for the owner.
create table slotbase.booking_events (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  booking_id uuid not null,
  at timestamptz not null default now(),
  actor_user_id uuid,
  actor_role text,
  from_status text,
  to_status text not null,
  changes jsonb not null default '{}'::jsonb,
  constraint booking_events_pkey primary key (tenant_id, id),
  constraint booking_events_booking_id_fkey foreign key (tenant_id, booking_id) references slotbase.bookings (tenant_id, id)
);
alter table slotbase.booking_events enable row level security;
alter table slotbase.booking_events force row level security;
create index booking_events_tenant_id_booking_id_at_idx on slotbase.booking_events (tenant_id, booking_id, at);
comment on table slotbase.booking_events is 'Append-only audit trail of bookings, written by triggers; updates and deletes raise SBAPP.';

create function slotbase_private.tg_booking_events__append_only()
returns trigger
language plpgsql
as $$
begin
  raise exception 'booking_events is append-only' using errcode = 'SBAPP';
end
$$;
create trigger _100_append_only before update or delete on slotbase.booking_events
  for each row execute function slotbase_private.tg_booking_events__append_only();
create trigger _101_append_only_truncate before truncate on slotbase.booking_events
  for each statement execute function slotbase_private.tg_booking_events__append_only();

-- Policies: members read within their location scope; registered customers read their own
-- bookings. Nobody writes these tables directly except staff creating and cancelling sessions.

create policy select_member on slotbase.sessions for select to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) is not null
    and slotbase.can_see_location(location_id)
  );
comment on policy select_member on slotbase.sessions is 'Members see sessions at locations in their scope.';
create policy insert_admin on slotbase.sessions for insert to authenticated
  with check (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and slotbase.can_see_location(location_id)
  );
comment on policy insert_admin on slotbase.sessions is 'Owners and admins schedule sessions in their scope.';
create policy update_admin on slotbase.sessions for update to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and slotbase.can_see_location(location_id)
  )
  with check (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and slotbase.can_see_location(location_id)
  );
comment on policy update_admin on slotbase.sessions is 'Owners and admins change capacity or cancel sessions in their scope.';
grant select on slotbase.sessions to authenticated;
grant insert (tenant_id, id, service_id, provider_id, location_id, starts_at, ends_at, capacity) on slotbase.sessions to authenticated;
grant update (capacity) on slotbase.sessions to authenticated;

create policy select_member_or_customer on slotbase.bookings for select to authenticated
  using (
    (
      tenant_id = (select slotbase.current_tenant_id())
      and (select slotbase.current_member_role()) is not null
      and slotbase.can_see_location(location_id)
    )
    or customer_user_id = (select slotbase.current_user_id())
  );
comment on policy select_member_or_customer on slotbase.bookings is 'Members see bookings at locations in their scope; a registered customer sees their own.';
grant select (
  tenant_id, id, code, service_id, provider_id, location_id, session_id, customer_user_id, contact_name, contact_email,
  contact_phone, party_size, during, starts_at, ends_at, status, source, idempotency_key, notes, hold_expires_at,
  status_reason, created_by, created_at, updated_at, deleted_at
) on slotbase.bookings to authenticated;

create policy select_member on slotbase.booking_claims for select to authenticated
  using (tenant_id = (select slotbase.current_tenant_id()) and (select slotbase.current_member_role()) is not null);
comment on policy select_member on slotbase.booking_claims is 'Members see what is occupied (calendars); claims carry no customer data.';
grant select on slotbase.booking_claims to authenticated;

create policy select_member on slotbase.booking_events for select to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) is not null
    and exists (select 1 from slotbase.bookings as b where b.tenant_id = booking_events.tenant_id and b.id = booking_events.booking_id)
  );
comment on policy select_member on slotbase.booking_events is 'Members see the history of bookings they can see.';
grant select on slotbase.booking_events to authenticated;

-- Internal helpers -----------------------------------------------------------------------------

-- why: short public codes from an alphabet without look-alikes (no 0/O, 1/I/L, U).
create function slotbase_private.random_booking_code()
returns text
language sql
volatile
set search_path = ''
as $$
  select 'BK-' || string_agg(substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + get_byte(v.b, i) % 30, 1), '' order by i)
  from (select pg_catalog.sha256(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())) as b) as v,
       generate_series(0, 6) as i
$$;

-- why: the manage token of a booking: a keyed hash of its id (url-safe base64, 43 chars).
create function slotbase_private.manage_token(p_booking_id uuid)
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select translate(rtrim(encode(pg_catalog.sha256(s.value || uuid_send(p_booking_id)), 'base64'), '='), '+/', '-_')
  from slotbase_private.secrets as s where s.name = 'manage_token'
$$;

create function slotbase_private.hash_token(p_token text)
returns bytea
language sql
immutable
set search_path = ''
as $$
  select pg_catalog.sha256(convert_to(p_token, 'UTF8'))
$$;

-- why: the weekly rules and date overrides of one provider or resource at one location,
-- turned into instants in the location's zone: a multirange of working time in [p_from, p_to)
-- (whole local days around the range). A local window whose ends map out of order across a DST
-- gap is empty that day.
create function slotbase_private.working_time(
  p_tenant_id uuid,
  p_subject_id uuid,
  p_location_id uuid,
  p_time_zone text,
  p_from timestamptz,
  p_to timestamptz
)
returns tstzmultirange
language plpgsql
stable
set search_path = ''
as $$
begin
  return (
  with bounds as (
    select (p_from at time zone p_time_zone)::date - 1 as first_day, (p_to at time zone p_time_zone)::date + 1 as last_day
  ),
  rules as materialized (
    select r.weekday, r.start_time, r.end_time, r.valid_from, r.valid_until
    from slotbase.availability_rules as r
    where r.tenant_id = p_tenant_id and r.location_id = p_location_id
      and (r.provider_id = p_subject_id or r.resource_id = p_subject_id)
  ),
  overrides as materialized (
    select o.date, o.start_time, o.end_time
    from slotbase.date_overrides as o, bounds
    where o.tenant_id = p_tenant_id and o.location_id = p_location_id
      and (o.provider_id = p_subject_id or o.resource_id = p_subject_id)
      and o.date between bounds.first_day and bounds.last_day
  ),
  days as (
    select d::date as day, extract(isodow from d)::smallint as weekday
    from bounds, generate_series(bounds.first_day, bounds.last_day, interval '1 day') as d
  ),
  windows as (
    select (days.day + r.start_time) at time zone p_time_zone as a, (days.day + r.end_time) at time zone p_time_zone as b
    from days
    join rules as r
      on r.weekday = days.weekday
     and (r.valid_from is null or r.valid_from <= days.day)
     and (r.valid_until is null or days.day <= r.valid_until)
    where not exists (select 1 from overrides as o where o.date = days.day)
    union all
    select (o.date + o.start_time) at time zone p_time_zone, (o.date + o.end_time) at time zone p_time_zone
    from overrides as o
    where o.start_time is not null
  )
  select coalesce(range_agg(tstzrange(w.a, w.b)), '{}'::tstzmultirange)
  from windows as w
  where w.a < w.b
  );
end
$$;

-- why: time a subject cannot take a slot [s, s + d): its time off, and every active claim
-- widened by the new booking's buffers ([start - after, end + before)), which is exactly
-- the overlap test of the exclusion constraint rewritten for the slot itself.
create function slotbase_private.blocked_time(
  p_tenant_id uuid,
  p_subject_id uuid,
  p_from timestamptz,
  p_to timestamptz,
  p_before interval,
  p_after interval,
  p_include_claims boolean
)
returns tstzmultirange
language plpgsql
stable
set search_path = ''
as $$
begin
  return (
  select coalesce(range_agg(x.r), '{}'::tstzmultirange)
  from (
    select tstzrange(t.starts_at, t.ends_at) as r
    from slotbase.time_off as t
    where t.tenant_id = p_tenant_id and (t.provider_id = p_subject_id or t.resource_id = p_subject_id)
      and t.ends_at > p_from and t.starts_at < p_to
    union all
    select tstzrange(c.starts_at - p_after, c.ends_at + p_before)
    from slotbase.booking_claims as c
    where p_include_claims and c.tenant_id = p_tenant_id and c.subject_id = p_subject_id and c.is_active
      and c.ends_at > p_from - p_before and c.starts_at < p_to + p_after
  ) as x
  );
end
$$;

-- PL/pgSQL rather than SQL for these three: a SQL function with SET search_path is never inlined
-- and is planned again on every call, while PL/pgSQL caches its plans per session (measured:
-- the one-instant check create_booking makes went from ~2 ms to ~0.6 ms).

-- why: the slot grid of an appointment service: starts anchored at each merged working range,
-- every slot_interval, that fit the working time of the provider and of each resource the
-- service needs at that location, and avoid time off (and, when asked, active claims).
-- Notice and horizon are the caller's business. One row per (start, provider, location).
create function slotbase_private.slot_candidates(
  p_tenant_id uuid,
  p_service_id uuid,
  p_from timestamptz,
  p_to timestamptz,
  p_provider_id uuid,
  p_location_id uuid,
  p_include_claims boolean
)
returns table (starts_at timestamptz, provider_id uuid, location_id uuid)
language plpgsql
stable
set search_path = ''
as $$
#variable_conflict use_column
begin
  return query
  with svc as materialized (
    select make_interval(mins => s.duration_minutes) as dur,
           make_interval(mins => s.buffer_before_minutes) as before,
           make_interval(mins => s.buffer_after_minutes) as after,
           make_interval(mins => coalesce(s.slot_interval_minutes, s.duration_minutes)) as step
    from slotbase.services as s
    where s.tenant_id = p_tenant_id and s.id = p_service_id and s.deleted_at is null
  ),
  pairs as materialized (
    select distinct p.id as provider_id, l.id as location_id, l.time_zone
    from slotbase.service_providers as sp
    join slotbase.providers as p on p.tenant_id = sp.tenant_id and p.id = sp.provider_id and p.deleted_at is null
    join (
      select r.location_id, r.provider_id from slotbase.availability_rules as r where r.tenant_id = p_tenant_id and r.provider_id is not null
      union
      select o.location_id, o.provider_id from slotbase.date_overrides as o where o.tenant_id = p_tenant_id and o.provider_id is not null
    ) as works on works.provider_id = p.id
    join slotbase.locations as l on l.tenant_id = sp.tenant_id and l.id = works.location_id and l.deleted_at is null
    where sp.tenant_id = p_tenant_id and sp.service_id = p_service_id
      and (p_provider_id is null or p.id = p_provider_id)
      and (p_location_id is null or l.id = p_location_id)
  ),
  needs as materialized (
    select res.id as resource_id, res.location_id
    from slotbase.service_resources as sr
    join slotbase.resources as res on res.tenant_id = sr.tenant_id and res.id = sr.resource_id and res.deleted_at is null
    where sr.tenant_id = p_tenant_id and sr.service_id = p_service_id
  ),
  resource_free as materialized (
    select n.resource_id, n.location_id,
           case when exists (select 1 from slotbase.availability_rules as r where r.tenant_id = p_tenant_id and r.resource_id = n.resource_id)
                  or exists (select 1 from slotbase.date_overrides as o where o.tenant_id = p_tenant_id and o.resource_id = n.resource_id)
                then slotbase_private.working_time(p_tenant_id, n.resource_id, n.location_id, l.time_zone, p_from, p_to + svc.dur)
                else tstzmultirange(tstzrange(p_from - interval '1 day', p_to + interval '1 day'))
           end
           - slotbase_private.blocked_time(p_tenant_id, n.resource_id, p_from - interval '1 day', p_to + interval '1 day', svc.before, svc.after, p_include_claims)
             as free
    from needs as n
    join pairs as pl on pl.location_id = n.location_id
    join slotbase.locations as l on l.tenant_id = p_tenant_id and l.id = n.location_id
    cross join svc
    group by n.resource_id, n.location_id, l.time_zone, svc.dur, svc.before, svc.after
  ),
  provider_time as materialized (
    select pr.provider_id, pr.location_id,
           slotbase_private.working_time(p_tenant_id, pr.provider_id, pr.location_id, pr.time_zone, p_from - interval '8 days', p_to + svc.dur) as work
    from pairs as pr cross join svc
  ),
  provider_free as materialized (
    select pt.provider_id, pt.location_id, pt.work,
           pt.work - slotbase_private.blocked_time(p_tenant_id, pt.provider_id, p_from - interval '1 day', p_to + interval '1 day', svc.before, svc.after, p_include_claims) as free,
           exists (select 1 from needs as n where n.location_id = pt.location_id) as needs_resources_here
    from provider_time as pt cross join svc
    where not exists (select 1 from needs) or exists (select 1 from needs as n where n.location_id = pt.location_id)
  )
  -- Starts are generated only inside free ranges. A slot up to 7 days after the start of
  -- its working range is on that range's grid: working time is computed from 8 days back, so
  -- that start is always seen, whatever the query range. Later slots of longer ranges (a 24/7
  -- schedule has no start to see) are on a fixed grid aligned to the Unix epoch.
  select g.s as starts_at, fr.provider_id, fr.location_id
  from (
    -- Free ranges with the start of the working range that contains each (free time is working
    -- time minus blocked time, so one always does): both streams sorted by lower bound, the latest
    -- working-range start at or before a free range's start is its anchor. O(n log n), where
    -- looking the range up per free range was O(n·m).
    select x.provider_id, x.location_id, x.needs_resources_here, x.rng,
           max(x.lo) filter (where x.is_work) over (partition by x.provider_id, x.location_id order by x.lo, x.is_work desc rows unbounded preceding) as anchor,
           x.is_work
    from (
      select pf.provider_id, pf.location_id, pf.needs_resources_here, w.rng, lower(w.rng) as lo, true as is_work
      from provider_free as pf cross join lateral unnest(pf.work) as w(rng)
      union all
      select pf.provider_id, pf.location_id, pf.needs_resources_here, f.rng, lower(f.rng), false
      from provider_free as pf cross join lateral unnest(pf.free) as f(rng)
      where upper(f.rng) > p_from and lower(f.rng) < p_to
    ) as x
  ) as fr
  cross join svc
  cross join lateral (
    select greatest(lower(fr.rng), p_from) as first_start, least(upper(fr.rng) - svc.dur, p_to) as last_start,
           fr.anchor + interval '7 days' as anchor_until
  ) as b
  cross join lateral (
    select x.s from generate_series(
      fr.anchor + svc.step * ceil(extract(epoch from b.first_start - fr.anchor) / extract(epoch from svc.step)),
      least(b.last_start, b.anchor_until),
      svc.step) as x(s)
    union all
    select x.s from generate_series(
      'epoch'::timestamptz + svc.step * ceil(extract(epoch from greatest(b.first_start, b.anchor_until + interval '1 microsecond')) / extract(epoch from svc.step)),
      b.last_start,
      svc.step) as x(s)
  ) as g
  where not fr.is_work and g.s < p_to
    and (not fr.needs_resources_here or not exists (
      select 1 from resource_free as rf
      where rf.location_id = fr.location_id and not rf.free @> tstzrange(g.s, g.s + svc.dur)
    ));
end
$$;

-- why: who is acting, decided once per call: staff of the tenant (owner/admin/receptionist,
-- within their location scope) may act for anyone; everyone else is a public booker.
create function slotbase_private.is_staff_of(p_tenant_id uuid, p_location_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1 from slotbase.memberships as m
    join slotbase.tenants as t on t.id = m.tenant_id and t.deleted_at is null
    where m.tenant_id = p_tenant_id
      and p_tenant_id = slotbase.current_tenant_id()
      and m.user_id = slotbase.current_user_id()
      and m.deleted_at is null
      and m.role in ('owner', 'admin', 'receptionist')
      and (m.location_id is null or p_location_id is null or m.location_id = p_location_id)
  )
$$;

-- why: every writer of claims first locks what it may claim, in one global order (by key):
-- concurrent bookers of overlapping times queue instead of deadlocking on each other's
-- uncommitted exclusion-index entries (DESIGN §12). A lock covers one subject for one hour
-- (Unix-epoch hours the busy range touches), so bookings of one provider at different hours do
-- not wait for each other; any two overlapping claims share at least one hour, hence one lock.
create function slotbase_private.lock_subjects(p_tenant_id uuid, p_subject_ids uuid[], p_busy tstzrange)
returns void
language sql
volatile
set search_path = ''
as $$
  select count(pg_catalog.pg_advisory_xact_lock(k.key))::int * 0
  from (
    select distinct hashtextextended(p_tenant_id::text || ':' || s.id::text || ':' || h.hour::text, 0) as key
    from unnest(p_subject_ids) as s(id),
         generate_series(floor(extract(epoch from lower(p_busy)) / 3600)::bigint,
                         floor((extract(epoch from upper(p_busy)) - 0.000001) / 3600)::bigint) as h(hour)
    order by 1
  ) as k
$$;

-- why: an expired hold must never block a new booker, even when the worker is down.
create function slotbase_private.expire_overlapping_holds(p_tenant_id uuid, p_subject_ids uuid[], p_from timestamptz, p_to timestamptz)
returns void
language sql
volatile
set search_path = ''
as $$
  update slotbase.bookings as b
  set status = 'expired', status_reason = 'hold expired'
  where b.tenant_id = p_tenant_id and b.id in (
    select h.id from slotbase.bookings as h
    where h.tenant_id = p_tenant_id and h.status = 'held' and h.hold_expires_at <= pg_catalog.now()
      and exists (
        select 1 from slotbase.booking_claims as c
        where c.tenant_id = h.tenant_id and c.booking_id = h.id and c.is_active
          and c.subject_id = any (p_subject_ids) and c.ends_at > p_from and c.starts_at < p_to
      )
    order by h.id
    for update
  ) and b.status = 'held'
$$;

-- why: the subjects an appointment of a service claims with a given provider at a location.
create function slotbase_private.required_resources(p_tenant_id uuid, p_service_id uuid, p_location_id uuid)
returns uuid[]
language sql
stable
set search_path = ''
as $$
  select coalesce(array_agg(r.id order by r.id), '{}')
  from slotbase.service_resources as sr
  join slotbase.resources as r on r.tenant_id = sr.tenant_id and r.id = sr.resource_id and r.deleted_at is null
  where sr.tenant_id = p_tenant_id and sr.service_id = p_service_id and r.location_id = p_location_id
$$;

-- why: a cheap, lock-free look before queueing: true when every candidate provider, or any
-- required resource, has an overlapping claim that is not an expired hold.
create function slotbase_private.visibly_taken(p_tenant_id uuid, p_providers uuid[], p_resources uuid[], p_busy tstzrange)
returns boolean
language sql
stable
set search_path = ''
as $$
  with live as (
    select c.subject_id
    from slotbase.booking_claims as c
    left join slotbase.bookings as b on b.tenant_id = c.tenant_id and b.id = c.booking_id
    where c.tenant_id = p_tenant_id and c.subject_id = any (p_providers || p_resources) and c.is_active
      and c.ends_at > lower(p_busy) and c.starts_at < upper(p_busy)
      and not (b.status = 'held' and b.hold_expires_at <= pg_catalog.now())
  )
  select (select count(distinct l.subject_id) from live as l where l.subject_id = any (p_providers)) = cardinality(p_providers)
      or exists (select 1 from live as l where l.subject_id = any (p_resources))
$$;

-- why: insert the claims of an appointment: its provider and each required resource, all in one
-- statement, so a conflict on any of them (23P01) leaves none behind.
create function slotbase_private.claim_appointment(
  p_tenant_id uuid, p_booking_id uuid, p_provider_id uuid, p_resources uuid[], p_busy tstzrange
)
returns void
language sql
volatile
set search_path = ''
as $$
  insert into slotbase.booking_claims (tenant_id, booking_id, subject_id, subject_kind, busy)
  select p_tenant_id, p_booking_id, p_provider_id, 'provider', p_busy
  union all
  select p_tenant_id, p_booking_id, r, 'resource', p_busy from unnest(p_resources) as r
$$;

-- Public functions -------------------------------------------------------------------------------

-- why: what a booker may book, in one set-based query per call. The horizon counts 24-hour days
-- (max_advance_days × 24 h), so it does not depend on the session's time zone. security definer: it must see
-- other people's claims to hide taken slots, and returns only free times.
create function slotbase.available_slots(
  p_tenant_id uuid,
  p_service_id uuid,
  p_from timestamptz,
  p_to timestamptz,
  p_provider_id uuid default null,
  p_location_id uuid default null,
  p_time_zone text default null,
  p_party_size integer default 1
)
returns table (
  starts_at timestamptz,
  ends_at timestamptz,
  provider_id uuid,
  location_id uuid,
  session_id uuid,
  seats_left integer,
  local_starts_at timestamp
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_service slotbase.services;
  v_member boolean;
begin
  if p_from is null or p_to is null or p_to <= p_from or p_to - p_from > interval '100 days' then
    raise exception 'the range must be non-empty and at most 100 days' using errcode = 'SBRNG';
  end if;
  if p_time_zone is not null then
    begin
      perform pg_catalog.now() at time zone p_time_zone;
    exception when others then
      raise exception 'unknown time zone' using errcode = 'SBVAL', hint = 'time_zone';
    end;
  end if;
  v_member := p_tenant_id = slotbase.current_tenant_id() and slotbase.current_member_role() is not null;
  select s.* into v_service
  from slotbase.services as s
  join slotbase.tenants as t on t.id = s.tenant_id
  where s.tenant_id = p_tenant_id and s.id = p_service_id and s.deleted_at is null and t.deleted_at is null
    and (v_member or (s.is_public and t.status in ('active', 'past_due')));
  if not found then
    raise exception 'service not found' using errcode = 'SBNF1';
  end if;

  if v_service.kind = 'group' then
    return query
    select se.starts_at, se.ends_at, se.provider_id, se.location_id, se.id, se.capacity - se.seats_taken,
           se.starts_at at time zone coalesce(p_time_zone, l.time_zone)
    from slotbase.sessions as se
    join slotbase.locations as l on l.tenant_id = se.tenant_id and l.id = se.location_id
    where se.tenant_id = p_tenant_id and se.service_id = p_service_id and se.status = 'scheduled'
      and se.starts_at >= p_from and se.starts_at < p_to
      and se.starts_at >= pg_catalog.now() + make_interval(mins => v_service.min_notice_minutes)
      and se.starts_at < pg_catalog.now() + make_interval(hours => 24 * v_service.max_advance_days)
      and se.capacity - se.seats_taken >= greatest(p_party_size, 1)
      and (p_provider_id is null or se.provider_id = p_provider_id)
      and (p_location_id is null or se.location_id = p_location_id)
    order by se.starts_at, se.provider_id;
    return;
  end if;

  return query
  select c.starts_at, c.starts_at + make_interval(mins => v_service.duration_minutes), c.provider_id, c.location_id,
         null::uuid, null::integer, c.starts_at at time zone coalesce(p_time_zone, l.time_zone)
  from slotbase_private.slot_candidates(
         p_tenant_id, p_service_id,
         greatest(p_from, pg_catalog.now() + make_interval(mins => v_service.min_notice_minutes)),
         least(p_to, pg_catalog.now() + make_interval(hours => 24 * v_service.max_advance_days)),
         p_provider_id, p_location_id, true) as c
  join slotbase.locations as l on l.tenant_id = p_tenant_id and l.id = c.location_id
  where greatest(p_from, pg_catalog.now() + make_interval(mins => v_service.min_notice_minutes))
        < least(p_to, pg_catalog.now() + make_interval(hours => 24 * v_service.max_advance_days))
  order by c.starts_at, c.provider_id;
end
$$;
comment on function slotbase.available_slots(uuid, uuid, timestamptz, timestamptz, uuid, uuid, text, integer) is
  'Free slots of a service in [p_from, p_to). Raises SBNF1 (unknown/hidden service), SBRNG (bad range), SBVAL (bad zone).';

create type slotbase.booking_receipt as (
  id uuid,
  code text,
  manage_token text,
  status text,
  starts_at timestamptz,
  ends_at timestamptz,
  provider_id uuid,
  location_id uuid,
  session_id uuid,
  party_size integer,
  hold_expires_at timestamptz
);
comment on type slotbase.booking_receipt is 'What create_booking returns; manage_token lets the booker view, reschedule or cancel.';

create function slotbase_private.receipt_of(p_booking slotbase.bookings)
returns slotbase.booking_receipt
language sql
stable
set search_path = ''
as $$
  select row(p_booking.id, p_booking.code, slotbase_private.manage_token(p_booking.id), p_booking.status,
             p_booking.starts_at, p_booking.ends_at, p_booking.provider_id, p_booking.location_id,
             p_booking.session_id, p_booking.party_size, p_booking.hold_expires_at)::slotbase.booking_receipt
$$;

-- why: what a public booker must satisfy that staff need not: a public service, and a way to
-- reach them (email or phone).
create function slotbase_private.check_public_booker(p_service slotbase.services, p_staff boolean, p_email text, p_phone text)
returns void
language plpgsql
stable
set search_path = ''
as $$
begin
  if p_staff then
    return;
  end if;
  if not p_service.is_public then
    raise exception 'service not found' using errcode = 'SBNF1';
  end if;
  if p_email is null and p_phone is null then
    raise exception 'an email or phone number is required' using errcode = 'SBVAL', hint = 'contact_email';
  end if;
end
$$;

-- why: the one way to book. Validates against the service's rules, locks what it will claim,
-- clears expired holds, then claims under the exclusion constraint (or takes seats under the
-- session's row lock). Idempotent per key.
create function slotbase.create_booking(
  p_tenant_id uuid,
  p_service_id uuid,
  p_starts_at timestamptz default null,
  p_provider_id uuid default null,
  p_location_id uuid default null,
  p_session_id uuid default null,
  p_party_size integer default 1,
  p_contact_name text default null,
  p_contact_email text default null,
  p_contact_phone text default null,
  p_notes text default null,
  p_hold boolean default false,
  p_idempotency_key text default null,
  p_device_hash text default null,
  p_on_behalf boolean default false
)
returns slotbase.booking_receipt
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_service slotbase.services;
  v_session slotbase.sessions;
  v_booking slotbase.bookings;
  v_request_hash text;
  v_staff boolean;
  v_start timestamptz;
  v_end timestamptz;
  v_busy tstzrange;
  v_candidates uuid[];
  v_resources uuid[];
  v_provider uuid;
  v_location uuid;
  v_locations bigint;
  v_status text;
  v_id uuid := gen_random_uuid();
begin
  -- The same key replays only the same request from the same caller.
  v_request_hash := md5(row(slotbase.current_user_id(), p_service_id, extract(epoch from p_starts_at), p_provider_id, p_location_id,
                            p_session_id, p_party_size, p_contact_name, lower(p_contact_email), p_contact_phone, p_notes, p_hold)::text);
  if p_idempotency_key is not null then
    perform pg_catalog.pg_advisory_xact_lock(hashtextextended(p_tenant_id::text || ':idem:' || p_idempotency_key, 0));
    select * into v_booking from slotbase.bookings where tenant_id = p_tenant_id and idempotency_key = p_idempotency_key;
    if found then
      if v_booking.request_hash is distinct from v_request_hash then
        raise exception 'this idempotency key was used for a different request' using errcode = 'SBIDM';
      end if;
      return slotbase_private.receipt_of(v_booking);
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
  -- Staff of some location may see hidden services; whether they act as staff is decided
  -- once the booking's location is known (a branch receptionist is staff only at their branch).
  -- Booking on a customer's behalf (the receptionist flow) is for staff only; refused before any
  -- work, and again below once the booking's location is known.
  if p_on_behalf and not slotbase_private.is_staff_of(p_tenant_id, null) then
    raise exception 'only owners, admins and receptionists book on a customer''s behalf' using errcode = 'insufficient_privilege';
  end if;
  if not v_service.is_public and not slotbase_private.is_staff_of(p_tenant_id, null) then
    raise exception 'service not found' using errcode = 'SBNF1';
  end if;
  if p_party_size is null or p_party_size < 1 or p_party_size > v_service.max_party_size then
    raise exception 'party size exceeds what this service allows' using errcode = 'SBPTY';
  end if;
  if p_contact_name is null or btrim(p_contact_name) = '' then
    raise exception 'a contact name is required' using errcode = 'SBVAL', hint = 'contact_name';
  end if;

  v_status := case when p_hold then 'held' when v_service.requires_approval then 'pending' else 'confirmed' end;

  if v_service.kind = 'group' then
    if p_session_id is null then
      raise exception 'a session is required for a group service' using errcode = 'SBVAL', hint = 'session_id';
    end if;
    select * into v_session from slotbase.sessions
    where tenant_id = p_tenant_id and id = p_session_id and service_id = p_service_id and status = 'scheduled';
    if not found then
      raise exception 'session not found' using errcode = 'SBNF1';
    end if;
    v_staff := slotbase_private.is_staff_of(p_tenant_id, v_session.location_id);
    if p_on_behalf and not v_staff then
      raise exception 'only staff of this location book on a customer''s behalf' using errcode = 'insufficient_privilege';
    end if;
    perform slotbase_private.check_public_booker(v_service, v_staff, p_contact_email, p_contact_phone);
    if not v_staff and v_session.starts_at < pg_catalog.now() + make_interval(mins => v_service.min_notice_minutes) then
      raise exception 'too late to book this session' using errcode = 'SBLAT';
    end if;
    if v_session.starts_at >= pg_catalog.now() + make_interval(hours => 24 * v_service.max_advance_days) then
      raise exception 'too early to book this session' using errcode = 'SBEAR';
    end if;
    -- A banned public booker is told what a full session tells anyone (20261123150000_bans.sql).
    if not v_staff and slotbase_private.booker_is_banned(p_tenant_id, p_contact_email, p_contact_phone, p_device_hash) is not null then
      raise exception 'not enough seats left in this session' using errcode = 'SBFUL';
    end if;
    update slotbase.sessions set seats_taken = seats_taken + p_party_size
    where tenant_id = p_tenant_id and id = p_session_id and status = 'scheduled' and seats_taken + p_party_size <= capacity
    returning * into v_session;
    if not found then
      raise exception 'not enough seats left in this session' using errcode = 'SBFUL';
    end if;
    insert into slotbase.bookings (
      tenant_id, id, code, manage_token_hash, service_id, provider_id, location_id, session_id, customer_user_id,
      contact_name, contact_email, contact_phone, party_size, during, status, source, idempotency_key, request_hash,
      notes, hold_expires_at, created_by
    ) values (
      p_tenant_id, v_id, slotbase_private.random_booking_code(), slotbase_private.hash_token(slotbase_private.manage_token(v_id)),
      p_service_id, v_session.provider_id, v_session.location_id, v_session.id,
      case when v_staff then null else (select u.id from slotbase.users as u where u.id = slotbase.current_user_id()) end,
      btrim(p_contact_name), p_contact_email, p_contact_phone, p_party_size, tstzrange(v_session.starts_at, v_session.ends_at),
      v_status, case when v_staff then 'staff' else 'public' end, p_idempotency_key, v_request_hash, p_notes,
      case when p_hold then pg_catalog.now() + make_interval(mins => v_service.hold_minutes) end, slotbase.current_user_id()
    ) returning * into v_booking;
    return slotbase_private.receipt_of(v_booking);
  end if;

  -- Appointment: validate the slot against the grid (claims are the constraint's job).
  if p_starts_at is null then
    raise exception 'a start time is required' using errcode = 'SBVAL', hint = 'starts_at';
  end if;
  v_start := p_starts_at;
  v_end := p_starts_at + make_interval(mins => v_service.duration_minutes);
  if v_start >= pg_catalog.now() + make_interval(hours => 24 * v_service.max_advance_days) then
    raise exception 'too early to book this time' using errcode = 'SBEAR';
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

  -- One pass over the grid gives the candidate providers and where they work at that time.
  select array_agg(c.provider_id order by c.provider_id), min(c.location_id::text)::uuid, count(distinct c.location_id)
  into v_candidates, v_location, v_locations
  from slotbase_private.slot_candidates(p_tenant_id, p_service_id, v_start, v_start + interval '1 microsecond',
                                        p_provider_id, p_location_id, false) as c
  where c.starts_at = v_start;
  if v_candidates is null then
    raise exception 'this time is outside the service''s availability' using errcode = 'SBOUT';
  end if;
  if v_locations > 1 then
    -- The candidate providers work at several locations at that time: the booker must say which.
    raise exception 'choose a location' using errcode = 'SBVAL', hint = 'location_id';
  end if;
  v_staff := slotbase_private.is_staff_of(p_tenant_id, v_location);
  if p_on_behalf and not v_staff then
    raise exception 'only staff of this location book on a customer''s behalf' using errcode = 'insufficient_privilege';
  end if;
  perform slotbase_private.check_public_booker(v_service, v_staff, p_contact_email, p_contact_phone);
  if not v_staff and v_start < pg_catalog.now() + make_interval(mins => v_service.min_notice_minutes) then
    raise exception 'too late to book this time' using errcode = 'SBLAT';
  end if;
  -- A banned public booker is told what a taken time tells anyone (20261123150000_bans.sql).
  if not v_staff and slotbase_private.booker_is_banned(p_tenant_id, p_contact_email, p_contact_phone, p_device_hash) is not null then
    raise exception 'this time was just taken' using errcode = 'SBTAK';
  end if;

  v_resources := slotbase_private.required_resources(p_tenant_id, p_service_id, v_location);
  v_busy := tstzrange(v_start - make_interval(mins => v_service.buffer_before_minutes),
                      v_end + make_interval(mins => v_service.buffer_after_minutes));
  -- Fail fast, before queueing on any lock, when the time is visibly taken: every candidate
  -- provider (or a required resource) has an overlapping live claim. Expired holds do not count
  -- (they are swept below). Only the check under the locks decides that a booking succeeds.
  if slotbase_private.visibly_taken(p_tenant_id, v_candidates, v_resources, v_busy) then
    raise exception 'this time was just taken' using errcode = 'SBTAK';
  end if;
  perform slotbase_private.lock_subjects(p_tenant_id, v_candidates || v_resources, v_busy);
  perform slotbase_private.expire_overlapping_holds(p_tenant_id, v_candidates || v_resources, lower(v_busy), upper(v_busy));

  -- Under the locks, claims of these subjects cannot change: pick the fairest free provider.
  select cand.id into v_provider
  from unnest(v_candidates) as cand(id)
  where not exists (
    select 1 from slotbase.booking_claims as c
    where c.tenant_id = p_tenant_id and c.subject_id = cand.id and c.is_active
      and c.ends_at > lower(v_busy) and c.starts_at < upper(v_busy)
  )
  order by (
    select count(*) from slotbase.bookings as b
    join slotbase.locations as l on l.tenant_id = b.tenant_id and l.id = v_location
    where b.tenant_id = p_tenant_id and b.provider_id = cand.id
      and b.status in ('held', 'pending', 'confirmed', 'completed', 'no_show')
      and b.starts_at >= ((v_start at time zone l.time_zone)::date)::timestamp at time zone l.time_zone
      and b.starts_at < ((v_start at time zone l.time_zone)::date + 1)::timestamp at time zone l.time_zone
  ), cand.id
  limit 1;
  if v_provider is null then
    raise exception 'this time was just taken' using errcode = 'SBTAK';
  end if;

  insert into slotbase.bookings (
    tenant_id, id, code, manage_token_hash, service_id, provider_id, location_id, customer_user_id,
    contact_name, contact_email, contact_phone, party_size, during, status, source, idempotency_key, request_hash,
    notes, hold_expires_at, created_by
  ) values (
    p_tenant_id, v_id, slotbase_private.random_booking_code(), slotbase_private.hash_token(slotbase_private.manage_token(v_id)),
    p_service_id, v_provider, v_location, case when v_staff then null else (select u.id from slotbase.users as u where u.id = slotbase.current_user_id()) end,
    btrim(p_contact_name), p_contact_email, p_contact_phone, p_party_size, tstzrange(v_start, v_end),
    v_status, case when v_staff then 'staff' else 'public' end, p_idempotency_key, v_request_hash, p_notes,
    case when p_hold then pg_catalog.now() + make_interval(mins => v_service.hold_minutes) end, slotbase.current_user_id()
  ) returning * into v_booking;
  perform slotbase_private.claim_appointment(p_tenant_id, v_booking.id, v_provider, v_resources, v_busy);
  return slotbase_private.receipt_of(v_booking);
end
$$;
comment on function slotbase.create_booking(uuid, uuid, timestamptz, uuid, uuid, uuid, integer, text, text, text, text, boolean, text, text, boolean) is
  'Books an appointment or seats. Raises 23P01/SBTAK slot_taken, SBFUL session_full, SBOUT, SBLAT, SBEAR, SBPTY, SBNF1, SBIDM, SBVAL. p_device_hash: sha256 hex of the booker''s device token (ban lists).';

-- why: one place that decides whether the caller may act on a booking: staff in scope, the
-- booking's provider for completion, the registered customer, or whoever holds the manage
-- token. Everyone else gets not_found, so a booking's existence never leaks.
create function slotbase_private.authorize_booking(p_booking_id uuid, p_manage_token text, p_action text)
returns slotbase.bookings
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_booking slotbase.bookings;
  v_tenant uuid := slotbase.current_tenant_id();
begin
  if p_manage_token is not null then
    select * into v_booking from slotbase.bookings
    where id = p_booking_id and manage_token_hash = slotbase_private.hash_token(p_manage_token) and deleted_at is null;
    if found and p_action in ('cancel', 'reschedule') then
      return v_booking;
    end if;
  end if;
  select * into v_booking from slotbase.bookings
  where tenant_id = v_tenant and id = p_booking_id and deleted_at is null;
  if found and (
    slotbase_private.is_staff_of(v_booking.tenant_id, v_booking.location_id)
    or (p_action in ('complete', 'no_show') and v_booking.provider_id in (select slotbase.current_provider_ids()))
  ) then
    return v_booking;
  end if;
  -- A registered customer acts on their own bookings; a token that names a tenant limits that
  -- to the tenant (a member acting in tenant A cannot reach their own booking at tenant B).
  select * into v_booking from slotbase.bookings
  where id = p_booking_id and customer_user_id = slotbase.current_user_id() and deleted_at is null
    and (v_tenant is null or tenant_id = v_tenant);
  if found and p_action in ('cancel', 'reschedule') then
    return v_booking;
  end if;
  raise exception 'booking not found' using errcode = 'SBNF1';
end
$$;

-- why: a status change goes through the lifecycle trigger, which rejects illegal transitions.
create function slotbase_private.set_booking_status(p_booking slotbase.bookings, p_status text, p_reason text)
returns slotbase.bookings
language sql
volatile
set search_path = ''
as $$
  update slotbase.bookings
  set status = p_status, status_reason = coalesce(p_reason, status_reason)
  where tenant_id = p_booking.tenant_id and id = p_booking.id
  returning *
$$;

create function slotbase.cancel_booking(p_booking_id uuid, p_reason text default null, p_manage_token text default null)
returns slotbase.bookings
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_booking slotbase.bookings := slotbase_private.authorize_booking(p_booking_id, p_manage_token, 'cancel');
begin
  return slotbase_private.set_booking_status(v_booking, 'cancelled', p_reason);
end
$$;
comment on function slotbase.cancel_booking(uuid, text, text) is 'Cancels a held, pending or confirmed booking and frees its time or seats. SBNF1, SBTRN.';

create function slotbase.confirm_booking(p_booking_id uuid)
returns slotbase.bookings
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  return slotbase_private.set_booking_status(slotbase_private.authorize_booking(p_booking_id, null, 'confirm'), 'confirmed', null);
end
$$;
comment on function slotbase.confirm_booking(uuid) is 'Staff: confirms a held or pending booking. SBNF1, SBTRN.';

create function slotbase.reject_booking(p_booking_id uuid, p_reason text default null)
returns slotbase.bookings
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  return slotbase_private.set_booking_status(slotbase_private.authorize_booking(p_booking_id, null, 'reject'), 'rejected', p_reason);
end
$$;
comment on function slotbase.reject_booking(uuid, text) is 'Staff: rejects a held or pending booking, with a reason. SBNF1, SBTRN.';

create function slotbase.complete_booking(p_booking_id uuid)
returns slotbase.bookings
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  return slotbase_private.set_booking_status(slotbase_private.authorize_booking(p_booking_id, null, 'complete'), 'completed', null);
end
$$;
comment on function slotbase.complete_booking(uuid) is 'Staff or the booking''s provider: marks a confirmed booking completed. SBNF1, SBTRN.';

create function slotbase.mark_no_show(p_booking_id uuid)
returns slotbase.bookings
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  return slotbase_private.set_booking_status(slotbase_private.authorize_booking(p_booking_id, null, 'no_show'), 'no_show', null);
end
$$;
comment on function slotbase.mark_no_show(uuid) is 'Staff or the booking''s provider: marks a confirmed booking as a no-show. SBNF1, SBTRN.';

-- why: moving a booking is atomic: the old claims are released and the new ones taken in one
-- transaction, so a conflict (23P01/SBTAK) leaves the booking exactly where it was.
create function slotbase.reschedule_booking(
  p_booking_id uuid,
  p_starts_at timestamptz default null,
  p_provider_id uuid default null,
  p_location_id uuid default null,
  p_session_id uuid default null,
  p_manage_token text default null
)
returns slotbase.bookings
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_booking slotbase.bookings := slotbase_private.authorize_booking(p_booking_id, p_manage_token, 'reschedule');
  v_service slotbase.services;
  v_session slotbase.sessions;
  v_staff boolean;
  v_start timestamptz;
  v_end timestamptz;
  v_busy tstzrange;
  v_provider uuid;
  v_location uuid;
  v_resources uuid[];
begin
  if v_booking.status not in ('held', 'pending', 'confirmed') then
    raise exception 'only an active booking can be rescheduled' using errcode = 'SBTRN';
  end if;
  select * into v_service from slotbase.services where tenant_id = v_booking.tenant_id and id = v_booking.service_id;
  v_staff := slotbase_private.is_staff_of(v_booking.tenant_id, v_booking.location_id);

  if v_service.kind = 'group' then
    if p_session_id is null then
      raise exception 'a session is required for a group service' using errcode = 'SBVAL', hint = 'session_id';
    end if;
    select * into v_session from slotbase.sessions
    where tenant_id = v_booking.tenant_id and id = p_session_id and service_id = v_service.id and status = 'scheduled';
    if not found then
      raise exception 'session not found' using errcode = 'SBNF1';
    end if;
    if not v_staff and v_session.starts_at < pg_catalog.now() + make_interval(mins => v_service.min_notice_minutes) then
      raise exception 'too late to book this session' using errcode = 'SBLAT';
    end if;
    if v_session.id = v_booking.session_id then
      return v_booking;
    end if;
    -- A booker banned since they booked is told what a full session tells anyone (see bans).
    if not v_staff and slotbase_private.booker_is_banned(v_booking.tenant_id, v_booking.contact_email, v_booking.contact_phone, null) is not null then
      raise exception 'not enough seats left in this session' using errcode = 'SBFUL';
    end if;
    -- Seats: lock the booking, then both sessions in id order; release the old seats, take the new ones.
    select * into v_booking from slotbase.bookings where tenant_id = v_booking.tenant_id and id = v_booking.id for update;
    if v_booking.status not in ('held', 'pending', 'confirmed') then
      raise exception 'only an active booking can be rescheduled' using errcode = 'SBTRN';
    end if;
    perform 1 from slotbase.sessions where tenant_id = v_booking.tenant_id and id in (v_session.id, v_booking.session_id)
    order by id for update;
    update slotbase.sessions set seats_taken = seats_taken - v_booking.party_size
    where tenant_id = v_booking.tenant_id and id = v_booking.session_id;
    update slotbase.sessions set seats_taken = seats_taken + v_booking.party_size
    where tenant_id = v_booking.tenant_id and id = v_session.id and seats_taken + v_booking.party_size <= capacity
    returning * into v_session;
    if not found then
      raise exception 'not enough seats left in this session' using errcode = 'SBFUL';
    end if;
    update slotbase.bookings
    set session_id = v_session.id, provider_id = v_session.provider_id, location_id = v_session.location_id,
        during = tstzrange(v_session.starts_at, v_session.ends_at)
    where tenant_id = v_booking.tenant_id and id = v_booking.id
    returning * into v_booking;
    return v_booking;
  end if;

  if p_starts_at is null then
    raise exception 'a start time is required' using errcode = 'SBVAL', hint = 'starts_at';
  end if;
  v_start := p_starts_at;
  v_end := p_starts_at + make_interval(mins => v_service.duration_minutes);
  if not v_staff and v_start < pg_catalog.now() + make_interval(mins => v_service.min_notice_minutes) then
    raise exception 'too late to book this time' using errcode = 'SBLAT';
  end if;
  if v_start >= pg_catalog.now() + make_interval(hours => 24 * v_service.max_advance_days) then
    raise exception 'too early to book this time' using errcode = 'SBEAR';
  end if;
  v_provider := coalesce(p_provider_id, v_booking.provider_id);
  select c.location_id into v_location
  from slotbase_private.slot_candidates(v_booking.tenant_id, v_service.id, v_start, v_start + interval '1 microsecond',
                                        v_provider, coalesce(p_location_id, v_booking.location_id), false) as c
  where c.starts_at = v_start
  limit 1;
  if v_location is null and p_location_id is null then
    select c.location_id into v_location
    from slotbase_private.slot_candidates(v_booking.tenant_id, v_service.id, v_start, v_start + interval '1 microsecond',
                                          v_provider, null, false) as c
    where c.starts_at = v_start
    order by c.location_id
    limit 1;
  end if;
  if v_location is null then
    raise exception 'this time is outside the service''s availability' using errcode = 'SBOUT';
  end if;

  -- A booker banned since they booked is told what a taken time tells anyone (see bans).
  if not v_staff and slotbase_private.booker_is_banned(v_booking.tenant_id, v_booking.contact_email, v_booking.contact_phone, null) is not null then
    raise exception 'this time was just taken' using errcode = 'SBTAK';
  end if;
  v_resources := slotbase_private.required_resources(v_booking.tenant_id, v_service.id, v_location);
  v_busy := tstzrange(v_start - make_interval(mins => v_service.buffer_before_minutes),
                      v_end + make_interval(mins => v_service.buffer_after_minutes));
  perform slotbase_private.lock_subjects(v_booking.tenant_id, v_provider || v_resources, v_busy);
  -- Subject locks first, then the row (the order every booking path uses), then re-check it.
  select * into v_booking from slotbase.bookings where tenant_id = v_booking.tenant_id and id = v_booking.id for update;
  if v_booking.status not in ('held', 'pending', 'confirmed') then
    raise exception 'only an active booking can be rescheduled' using errcode = 'SBTRN';
  end if;
  perform slotbase_private.expire_overlapping_holds(v_booking.tenant_id, v_provider || v_resources, lower(v_busy), upper(v_busy));

  update slotbase.booking_claims set is_active = false
  where tenant_id = v_booking.tenant_id and booking_id = v_booking.id and is_active;
  if exists (
    select 1 from slotbase.booking_claims as c
    where c.tenant_id = v_booking.tenant_id and c.subject_id = any (v_provider || v_resources) and c.is_active
      and c.ends_at > lower(v_busy) and c.starts_at < upper(v_busy)
  ) then
    raise exception 'this time was just taken' using errcode = 'SBTAK';
  end if;
  update slotbase.bookings
  set during = tstzrange(v_start, v_end), provider_id = v_provider, location_id = v_location
  where tenant_id = v_booking.tenant_id and id = v_booking.id
  returning * into v_booking;
  perform slotbase_private.claim_appointment(v_booking.tenant_id, v_booking.id, v_provider, v_resources, v_busy);
  return v_booking;
end
$$;
comment on function slotbase.reschedule_booking(uuid, timestamptz, uuid, uuid, uuid, text) is
  'Moves an active booking atomically. Raises 23P01/SBTAK slot_taken, SBFUL, SBOUT, SBLAT, SBEAR, SBNF1, SBTRN.';

-- why: the public view of one booking, for its code + manage token (the manage page).
create function slotbase.find_booking(p_code text, p_manage_token text)
returns slotbase.bookings
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_booking slotbase.bookings;
begin
  select * into v_booking from slotbase.bookings
  where code = upper(btrim(p_code)) and manage_token_hash = slotbase_private.hash_token(p_manage_token) and deleted_at is null;
  if not found then
    raise exception 'booking not found' using errcode = 'SBNF1';
  end if;
  v_booking.manage_token_hash := null;
  v_booking.request_hash := null;
  return v_booking;
end
$$;
comment on function slotbase.find_booking(text, text) is 'A booking by its code and manage token; SBNF1 for a wrong code or token.';

-- why: the worker's sweep (and a cron) for holds past their expiry.
create function slotbase.expire_holds(p_tenant_id uuid default null)
returns integer
language sql
volatile
security definer
set search_path = ''
as $$
  with expired as (
    update slotbase.bookings as b set status = 'expired', status_reason = 'hold expired'
    where (b.tenant_id, b.id) in (
      select h.tenant_id, h.id from slotbase.bookings as h
      where h.status = 'held' and h.hold_expires_at <= pg_catalog.now() and (p_tenant_id is null or h.tenant_id = p_tenant_id)
      order by h.id
      for update skip locked
    )
    returning 1
  )
  select count(*)::integer from expired
$$;
comment on function slotbase.expire_holds(uuid) is 'Expires every hold past hold_expires_at (worker/cron); returns how many.';

-- why: cancelling a session cancels its bookings. Their rows are locked first (in id order), then
-- the session: the same booking-then-session order as cancelling one booking, so the two never
-- deadlock.
create function slotbase.cancel_session(p_session_id uuid)
returns slotbase.sessions
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_session slotbase.sessions;
begin
  select * into v_session from slotbase.sessions
  where tenant_id = slotbase.current_tenant_id() and id = p_session_id;
  if not found or slotbase.current_member_role() not in ('owner', 'admin') or not slotbase.can_see_location(v_session.location_id) then
    raise exception 'session not found' using errcode = 'SBNF1';
  end if;
  if v_session.status = 'cancelled' then
    raise exception 'this session is already cancelled' using errcode = 'SBTRN';
  end if;
  perform 1 from slotbase.bookings
  where tenant_id = v_session.tenant_id and session_id = v_session.id and status in ('held', 'pending', 'confirmed')
  order by id
  for update;
  update slotbase.sessions set status = 'cancelled'
  where tenant_id = v_session.tenant_id and id = v_session.id
  returning * into v_session;
  return v_session;
end
$$;
comment on function slotbase.cancel_session(uuid) is 'Owners/admins: cancels a session and every active booking in it. SBNF1, SBTRN.';

-- why: staff generate a group service's sessions on the free slots of its providers' hours.
create function slotbase.generate_sessions(p_tenant_id uuid, p_service_id uuid, p_from timestamptz, p_to timestamptz)
returns setof slotbase.sessions
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_service slotbase.services;
  v_slot record;
  v_session slotbase.sessions;
begin
  select * into v_service from slotbase.services
  where tenant_id = p_tenant_id and id = p_service_id and deleted_at is null and kind = 'group';
  if not found or not (p_tenant_id = slotbase.current_tenant_id() and slotbase.current_member_role() in ('owner', 'admin')) then
    raise exception 'group service not found' using errcode = 'SBNF1';
  end if;
  if p_to <= p_from or p_to - p_from > interval '100 days' then
    raise exception 'the range must be non-empty and at most 100 days' using errcode = 'SBRNG';
  end if;
  for v_slot in
    select c.starts_at, c.provider_id, c.location_id
    from slotbase_private.slot_candidates(p_tenant_id, p_service_id, p_from, p_to, null, null, true) as c
    where slotbase.can_see_location(c.location_id)
    order by c.provider_id, c.starts_at
  loop
    begin
      insert into slotbase.sessions (tenant_id, service_id, provider_id, location_id, starts_at, ends_at, capacity)
      values (p_tenant_id, p_service_id, v_slot.provider_id, v_slot.location_id, v_slot.starts_at,
              v_slot.starts_at + make_interval(mins => v_service.duration_minutes), coalesce(v_service.default_capacity, 1))
      returning * into v_session;
      return next v_session;
    exception when exclusion_violation then
      null; -- overlaps a session generated a moment ago (slot interval shorter than the duration): skip it
    end;
  end loop;
end
$$;
comment on function slotbase.generate_sessions(uuid, uuid, timestamptz, timestamptz) is
  'Owners/admins: creates sessions of a group service on its providers'' free slots. SBNF1, SBRNG.';

-- Triggers ---------------------------------------------------------------------------------------

-- why: a session takes its provider's time like a booking does (one claim for all its seats).
create function slotbase_private.tg_sessions__claim_provider()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_service slotbase.services;
  v_busy tstzrange;
begin
  select * into v_service from slotbase.services where tenant_id = new.tenant_id and id = new.service_id;
  if tg_op = 'INSERT' then
    -- Checked after the insert (so after RLS has accepted the row): a member of another tenant
    -- gets 42501 from the policy and learns nothing about this tenant's services.
    if v_service.kind <> 'group' then
      raise exception 'sessions belong to group services' using errcode = 'SBVAL', hint = 'service_id';
    end if;
    if not exists (
      select 1 from slotbase.service_providers as sp
      where sp.tenant_id = new.tenant_id and sp.service_id = new.service_id and sp.provider_id = new.provider_id
    ) then
      raise exception 'this provider does not offer the service' using errcode = 'SBVAL', hint = 'provider_id';
    end if;
    v_busy := tstzrange(new.starts_at - make_interval(mins => v_service.buffer_before_minutes),
                        new.ends_at + make_interval(mins => v_service.buffer_after_minutes));
    perform slotbase_private.lock_subjects(new.tenant_id, array[new.provider_id], v_busy);
    insert into slotbase.booking_claims (tenant_id, session_id, subject_id, subject_kind, busy)
    values (new.tenant_id, new.id, new.provider_id, 'provider', v_busy);
  elsif new.status = 'cancelled' and old.status = 'scheduled' then
    update slotbase.booking_claims set is_active = false where tenant_id = new.tenant_id and session_id = new.id;
    update slotbase.bookings set status = 'cancelled', status_reason = 'session cancelled'
    where tenant_id = new.tenant_id and session_id = new.id and status in ('held', 'pending', 'confirmed');
  elsif new.status = 'scheduled' and old.status = 'cancelled' then
    raise exception 'a cancelled session stays cancelled' using errcode = 'SBTRN';
  end if;
  return null;
end
$$;
create trigger _200_claim_provider after insert or update of status on slotbase.sessions
  for each row execute function slotbase_private.tg_sessions__claim_provider();

-- why: staff give a session its start; its end follows from the service's duration unless given.
create function slotbase_private.tg_sessions__prepare()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.ends_at is null then
    select new.starts_at + make_interval(mins => s.duration_minutes) into new.ends_at
    from slotbase.services as s where s.tenant_id = new.tenant_id and s.id = new.service_id;
  end if;
  return new;
end
$$;
create trigger _100_prepare before insert on slotbase.sessions
  for each row execute function slotbase_private.tg_sessions__prepare();

-- why: the lifecycle is enforced on the table itself, so no path (function, direct SQL with
-- the owner's rights, future code) can make an illegal transition.
create function slotbase_private.tg_bookings__enforce_lifecycle()
returns trigger
language plpgsql
as $$
begin
  -- Setting a status to itself is not a transition either (cancelling a cancelled booking).
  if not (
    (old.status = 'held' and new.status in ('pending', 'confirmed', 'cancelled', 'rejected', 'expired'))
    or (old.status = 'pending' and new.status in ('confirmed', 'cancelled', 'rejected', 'expired'))
    or (old.status = 'confirmed' and new.status in ('completed', 'no_show', 'cancelled'))
  ) then
    raise exception 'a % booking cannot become %', old.status, new.status using errcode = 'SBTRN';
  end if;
  if new.status is distinct from old.status and new.status <> 'held' then
    new.hold_expires_at := null;
  end if;
  return new;
end
$$;
create trigger _110_enforce_lifecycle before update of status on slotbase.bookings
  for each row execute function slotbase_private.tg_bookings__enforce_lifecycle();

-- why: a booking that stops being active frees its time and seats in the same statement.
create function slotbase_private.tg_bookings__release()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if old.status in ('held', 'pending', 'confirmed') and new.status in ('cancelled', 'rejected', 'expired') then
    update slotbase.booking_claims set is_active = false
    where tenant_id = new.tenant_id and booking_id = new.id and is_active;
    if new.session_id is not null then
      update slotbase.sessions set seats_taken = seats_taken - new.party_size
      where tenant_id = new.tenant_id and id = new.session_id;
    end if;
  end if;
  return null;
end
$$;
create trigger _200_release after update of status on slotbase.bookings
  for each row execute function slotbase_private.tg_bookings__release();

-- why: the audit trail, written for every insert and every change of status, time or provider.
create function slotbase_private.tg_bookings__audit()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_changes jsonb := '{}'::jsonb;
begin
  if tg_op = 'UPDATE' then
    if new.status = old.status and new.during = old.during and new.provider_id = old.provider_id
       and new.location_id = old.location_id and new.session_id is not distinct from old.session_id then
      return null;
    end if;
    if new.during <> old.during then
      v_changes := v_changes || jsonb_build_object('starts_at', jsonb_build_array(old.starts_at, new.starts_at));
    end if;
    if new.provider_id <> old.provider_id then
      v_changes := v_changes || jsonb_build_object('provider_id', jsonb_build_array(old.provider_id, new.provider_id));
    end if;
    if new.location_id <> old.location_id then
      v_changes := v_changes || jsonb_build_object('location_id', jsonb_build_array(old.location_id, new.location_id));
    end if;
    if new.status_reason is distinct from old.status_reason then
      v_changes := v_changes || jsonb_build_object('reason', new.status_reason);
    end if;
  end if;
  insert into slotbase.booking_events (tenant_id, booking_id, actor_user_id, actor_role, from_status, to_status, changes)
  values (new.tenant_id, new.id, slotbase.current_user_id(),
          coalesce(slotbase.current_member_role(), slotbase.jwt_claims() ->> 'role', 'system'),
          case when tg_op = 'UPDATE' then old.status end, new.status, v_changes);
  return null;
end
$$;
create trigger _300_audit after insert or update on slotbase.bookings
  for each row execute function slotbase_private.tg_bookings__audit();

-- why: the outbox. Jobs are added in the booking's own transaction, so a committed booking
-- never loses its messages and a rolled-back one never sends any. Reminder keys are stable per
-- booking and offset: re-adding replaces (run_at moves), removal on cancel is by key.
create function slotbase_private.reminder_offsets(p_tenant_id uuid)
returns integer[]
language sql
stable
set search_path = ''
as $$
  select coalesce(
    (select array_agg(v::integer order by v::integer desc)
     from slotbase.tenants as t, jsonb_array_elements_text(t.settings -> 'reminder_offsets_minutes') as v
     where t.id = p_tenant_id and jsonb_typeof(t.settings -> 'reminder_offsets_minutes') = 'array'),
    array[1440, 120])
$$;

create function slotbase_private.tg_bookings__enqueue_jobs()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_payload json := json_build_object('tenant_id', new.tenant_id, 'booking_id', new.id);
  v_offset integer;
  v_becomes_confirmed boolean := new.status = 'confirmed' and (tg_op = 'INSERT' or old.status <> 'confirmed');
  v_moved boolean := tg_op = 'UPDATE' and new.during <> old.during and new.status in ('held', 'pending', 'confirmed');
  v_ended boolean := tg_op = 'UPDATE' and old.status in ('held', 'pending', 'confirmed') and new.status in ('cancelled', 'rejected', 'expired');
  v_jobs graphile_worker.job_spec[] := '{}';
begin
  if tg_op = 'INSERT' and new.status = 'held' then
    perform graphile_worker.add_job('hold_expiry', v_payload, run_at => new.hold_expires_at, job_key => 'hold:' || new.id);
  end if;
  if tg_op = 'UPDATE' and old.status = 'held' and new.status <> 'held' then
    perform graphile_worker.remove_job('hold:' || new.id);
  end if;
  if new.status = 'pending' and (tg_op = 'INSERT' or old.status <> 'pending') then
    perform graphile_worker.add_job('approval_request', v_payload, job_key => 'approval:' || new.id);
  end if;
  if v_moved then
    perform graphile_worker.add_job('booking_rescheduled',
      json_build_object('tenant_id', new.tenant_id, 'booking_id', new.id, 'previous_starts_at', old.starts_at));
  end if;
  -- Confirmation and reminders go in one add_jobs call (a keyed job is replaced: its run_at moves).
  if v_becomes_confirmed then
    v_jobs := v_jobs || row('booking_confirmation', v_payload, null, null, null, 'confirmation:' || new.id, null, null)::graphile_worker.job_spec;
  end if;
  if new.status = 'confirmed' and (v_becomes_confirmed or v_moved) then
    foreach v_offset in array slotbase_private.reminder_offsets(new.tenant_id) loop
      if new.starts_at - make_interval(mins => v_offset) > pg_catalog.now() then
        v_jobs := v_jobs || row('booking_reminder',
          json_build_object('tenant_id', new.tenant_id, 'booking_id', new.id, 'offset_minutes', v_offset),
          null, new.starts_at - make_interval(mins => v_offset), null, 'reminder:' || new.id || ':' || v_offset, null, null
        )::graphile_worker.job_spec;
      else
        perform graphile_worker.remove_job('reminder:' || new.id || ':' || v_offset);
      end if;
    end loop;
  end if;
  if cardinality(v_jobs) > 0 then
    perform graphile_worker.add_jobs(v_jobs, false);
  end if;
  if v_ended or (tg_op = 'UPDATE' and old.status = 'confirmed' and new.status in ('completed', 'no_show')) then
    perform graphile_worker.remove_job(j.key)
    from graphile_worker.jobs as j
    where j.key like 'reminder:' || new.id || ':%';
  end if;
  if v_ended and new.status = 'cancelled' then
    perform graphile_worker.add_job('booking_cancelled', v_payload, job_key => 'cancelled:' || new.id);
  elsif v_ended and new.status = 'rejected' then
    perform graphile_worker.add_job('booking_rejected', v_payload, job_key => 'rejected:' || new.id);
  end if;
  return null;
end
$$;
create trigger _400_enqueue_jobs after insert or update on slotbase.bookings
  for each row execute function slotbase_private.tg_bookings__enqueue_jobs();

revoke execute on all functions in schema slotbase, slotbase_private from public;
grant execute on function
  slotbase.available_slots(uuid, uuid, timestamptz, timestamptz, uuid, uuid, text, integer),
  slotbase.create_booking(uuid, uuid, timestamptz, uuid, uuid, uuid, integer, text, text, text, text, boolean, text, text, boolean),
  slotbase.cancel_booking(uuid, text, text),
  slotbase.reschedule_booking(uuid, timestamptz, uuid, uuid, uuid, text),
  slotbase.find_booking(text, text)
  to anon, authenticated;
grant execute on function
  slotbase.confirm_booking(uuid),
  slotbase.reject_booking(uuid, text),
  slotbase.complete_booking(uuid),
  slotbase.mark_no_show(uuid),
  slotbase.generate_sessions(uuid, uuid, timestamptz, timestamptz),
  slotbase.cancel_session(uuid)
  to authenticated;
grant usage on type slotbase.booking_receipt to anon, authenticated;
