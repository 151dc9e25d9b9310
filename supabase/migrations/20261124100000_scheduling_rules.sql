-- Scheduling rules inside the booking engine (issue "Scheduling rules beyond the basics"):
-- round-robin assignment of "any provider" (least booked in a period, weighted, priority), limits
-- (per provider per day and week, per service per day, per customer per period, a minimum gap
-- between one customer's bookings), anti-scalping (none / standard / strict) and travel time
-- between locations. create_booking, reschedule_booking, available_slots and slot_candidates are
-- redefined here. Every count a limit makes is taken under an advisory lock on the limit's key,
-- all of one booking's rule locks at once in key order, before its subject locks (the lock order
-- is written down in supabase/CONVENTIONS.md). A rule that is not configured costs no lock and no
-- count.

-- Settings -----------------------------------------------------------------------------------------

alter table slotbase.services
  add column assignment_strategy text not null default 'least_booked',
  add column assignment_period text not null default 'day',
  add column max_bookings_per_day integer,
  add column max_bookings_per_customer integer,
  add column customer_limit_period text not null default 'month',
  add column customer_min_gap_minutes integer,
  add column anti_scalping text not null default 'none',
  add column anti_scalping_max_per_contact integer not null default 1,
  add column anti_scalping_max_per_device integer not null default 1,
  add constraint services_assignment_strategy_check check (assignment_strategy in ('least_booked', 'weighted', 'priority')),
  add constraint services_assignment_period_check check (assignment_period in ('day', 'week', 'month')),
  add constraint services_max_bookings_per_day_check check (max_bookings_per_day is null or max_bookings_per_day between 1 and 100000),
  add constraint services_max_bookings_per_customer_check check (max_bookings_per_customer is null or max_bookings_per_customer between 1 and 1000),
  add constraint services_customer_limit_period_check check (customer_limit_period in ('day', 'week', 'month', 'year')),
  add constraint services_customer_min_gap_minutes_check check (customer_min_gap_minutes is null or customer_min_gap_minutes between 1 and 525600),
  add constraint services_anti_scalping_check check (anti_scalping in ('none', 'standard', 'strict')),
  add constraint services_anti_scalping_max_per_contact_check check (anti_scalping_max_per_contact between 1 and 100),
  add constraint services_anti_scalping_max_per_device_check check (anti_scalping_max_per_device between 1 and 100);
comment on column slotbase.services.assignment_strategy is 'How "any provider" is assigned: least_booked (fewest bookings in assignment_period), weighted (shares of this service''s bookings by service_providers.weight), priority (lowest service_providers.priority that is free, ties least booked).';
comment on column slotbase.services.assignment_period is 'The local day, ISO week or month whose bookings round-robin counts.';
comment on column slotbase.services.max_bookings_per_day is 'At most this many active appointments of the service per local day (all providers); null = no limit.';
comment on column slotbase.services.max_bookings_per_customer is 'At most this many bookings of the service per customer (email, phone or account) per customer_limit_period; null = no limit.';
comment on column slotbase.services.customer_min_gap_minutes is 'One customer''s bookings of the service are at least this far apart; null = no gap.';
comment on column slotbase.services.anti_scalping is 'none; standard (public bookers: at most anti_scalping_max_per_contact / _per_device active future bookings of the service); strict (additionally an issued, unexpired device token and one active booking per device).';
grant insert (
  assignment_strategy, assignment_period, max_bookings_per_day, max_bookings_per_customer, customer_limit_period,
  customer_min_gap_minutes, anti_scalping, anti_scalping_max_per_contact, anti_scalping_max_per_device
) on slotbase.services to authenticated;
grant update (
  assignment_strategy, assignment_period, max_bookings_per_day, max_bookings_per_customer, customer_limit_period,
  customer_min_gap_minutes, anti_scalping, anti_scalping_max_per_contact, anti_scalping_max_per_device
) on slotbase.services to authenticated;

alter table slotbase.providers
  add column max_bookings_per_day integer,
  add column max_bookings_per_week integer,
  add constraint providers_max_bookings_per_day_check check (max_bookings_per_day is null or max_bookings_per_day between 1 and 1000),
  add constraint providers_max_bookings_per_week_check check (max_bookings_per_week is null or max_bookings_per_week between 1 and 10000);
comment on column slotbase.providers.max_bookings_per_day is 'At most this many active appointments (all services) per local day of the booking''s location; null = no limit.';
comment on column slotbase.providers.max_bookings_per_week is 'At most this many active appointments (all services) per local ISO week; null = no limit.';
grant insert (max_bookings_per_day, max_bookings_per_week) on slotbase.providers to authenticated;
grant update (max_bookings_per_day, max_bookings_per_week) on slotbase.providers to authenticated;

alter table slotbase.service_providers
  add column weight integer not null default 1,
  add column priority integer not null default 0,
  add constraint service_providers_weight_check check (weight between 1 and 1000),
  add constraint service_providers_priority_check check (priority between 0 and 1000);
comment on column slotbase.service_providers.weight is 'Share of the service''s bookings under the weighted strategy (3 and 1 → 3:1).';
comment on column slotbase.service_providers.priority is 'Under the priority strategy the lowest number that is free is assigned first.';
-- why: owners and admins tune the pool (weights, priorities) of providers they can see.
create policy update_admin on slotbase.service_providers for update to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and exists (select 1 from slotbase.providers as p where p.tenant_id = service_providers.tenant_id and p.id = service_providers.provider_id)
  )
  with check (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and exists (select 1 from slotbase.providers as p where p.tenant_id = service_providers.tenant_id and p.id = service_providers.provider_id)
  );
comment on policy update_admin on slotbase.service_providers is 'Owners and admins set the weight and priority of providers they can see.';
grant insert (weight, priority) on slotbase.service_providers to authenticated;
grant update (weight, priority) on slotbase.service_providers to authenticated;

-- why: the device a public booking was made from (sha256 hex of its X-Device-Token), so per-device
-- caps are counted in SQL; the lookups of customer limits use the indexes below.
alter table slotbase.bookings
  add column device_hash text,
  add constraint bookings_device_hash_check check (device_hash is null or device_hash ~ '^[0-9a-f]{64}$');
create index bookings_tenant_id_contact_email_idx on slotbase.bookings (tenant_id, lower(contact_email)) where contact_email is not null;
create index bookings_tenant_id_contact_phone_idx on slotbase.bookings (tenant_id, regexp_replace(contact_phone, '[^0-9]', '', 'g')) where contact_phone is not null;
create index bookings_tenant_id_device_hash_idx on slotbase.bookings (tenant_id, device_hash) where device_hash is not null;
comment on column slotbase.bookings.device_hash is 'sha256 hex of the device token the booking was made with (create_booking p_device_hash); counted by anti-scalping.';
grant select (device_hash) on slotbase.bookings to authenticated;

-- why: how long a provider needs between two of their bookings at different locations. Symmetric:
-- stored once per pair with location_a_id < location_b_id (the prepare trigger orders them).
create table slotbase.location_travel_times (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  location_a_id uuid not null,
  location_b_id uuid not null,
  minutes integer not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint location_travel_times_pkey primary key (tenant_id, id),
  constraint location_travel_times_tenant_id_location_a_id_location_b_id_key unique (tenant_id, location_a_id, location_b_id),
  constraint location_travel_times_location_a_id_fkey foreign key (tenant_id, location_a_id) references slotbase.locations (tenant_id, id) on delete cascade,
  constraint location_travel_times_location_b_id_fkey foreign key (tenant_id, location_b_id) references slotbase.locations (tenant_id, id) on delete cascade,
  constraint location_travel_times_location_b_id_check check (location_a_id < location_b_id),
  constraint location_travel_times_minutes_check check (minutes between 1 and 1440)
);
alter table slotbase.location_travel_times enable row level security;
alter table slotbase.location_travel_times force row level security;
create index location_travel_times_tenant_id_location_b_id_idx on slotbase.location_travel_times (tenant_id, location_b_id);

-- why: callers name the two locations in any order; the pair is stored once, smaller id first.
create function slotbase_private.tg_location_travel_times__prepare()
returns trigger
language plpgsql
as $$
declare
  v_a uuid := new.location_a_id;
begin
  if new.location_b_id < v_a then
    new.location_a_id := new.location_b_id;
    new.location_b_id := v_a;
  end if;
  return new;
end
$$;
create trigger _050_prepare before insert or update on slotbase.location_travel_times
  for each row execute function slotbase_private.tg_location_travel_times__prepare();
create trigger _100_timestamps before update on slotbase.location_travel_times
  for each row execute function slotbase_private.tg__set_updated_at();
comment on table slotbase.location_travel_times is 'Minutes a provider needs between bookings at two locations (either direction); enforced by create_booking/reschedule_booking, reflected by available_slots.';

create policy select_member on slotbase.location_travel_times for select to authenticated
  using (tenant_id = (select slotbase.current_tenant_id()) and (select slotbase.current_member_role()) is not null);
comment on policy select_member on slotbase.location_travel_times is 'Members see travel times between their tenant''s locations.';
create policy insert_admin on slotbase.location_travel_times for insert to authenticated
  with check (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and (select slotbase.current_member_location_id()) is null
  );
comment on policy insert_admin on slotbase.location_travel_times is 'Tenant-wide owners and admins set travel times.';
create policy update_admin on slotbase.location_travel_times for update to authenticated
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
comment on policy update_admin on slotbase.location_travel_times is 'Tenant-wide owners and admins change travel times.';
create policy delete_admin on slotbase.location_travel_times for delete to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and (select slotbase.current_member_location_id()) is null
  );
comment on policy delete_admin on slotbase.location_travel_times is 'Tenant-wide owners and admins remove travel times.';
grant select, delete on slotbase.location_travel_times to authenticated;
grant insert (tenant_id, id, location_a_id, location_b_id, minutes) on slotbase.location_travel_times to authenticated;
grant update (minutes) on slotbase.location_travel_times to authenticated;

-- Helpers ----------------------------------------------------------------------------------------

-- why: the local day, ISO week, month or year (in a location's zone) that contains an instant.
create function slotbase_private.local_period(p_at timestamptz, p_time_zone text, p_period text)
returns tstzrange
language sql
stable
set search_path = ''
as $$
  select tstzrange(pg_catalog.date_trunc(p_period, p_at at time zone p_time_zone) at time zone p_time_zone,
                   (pg_catalog.date_trunc(p_period, p_at at time zone p_time_zone) + ('1 ' || p_period)::interval) at time zone p_time_zone)
$$;

-- why: one rule of "counts": a booking counts towards limits and round-robin while it is
-- pending, confirmed or done, or held and not yet expired; cancelled, rejected and expired ones
-- (and lapsed holds the sweep has not reached) do not.
-- No SET search_path (everything is qualified): a SQL function with one is never inlined, and
-- this one runs once per counted row.
create function slotbase_private.counts(p_status text, p_hold_expires_at timestamptz)
returns boolean
language sql
stable
as $$
  select p_status in ('pending', 'confirmed', 'completed', 'no_show') or (p_status = 'held' and p_hold_expires_at > pg_catalog.now())
$$;

-- why: the rule locks of one booking, taken at once in key order (like lock_subjects), so two
-- bookers needing overlapping sets of limit keys queue instead of deadlocking.
create function slotbase_private.lock_keys(p_tenant_id uuid, p_keys text[])
returns void
language sql
volatile
set search_path = ''
as $$
  select count(pg_catalog.pg_advisory_xact_lock(k.key))::int * 0
  from (
    select distinct hashtextextended('slotbase:rule:' || p_tenant_id::text || ':' || k, 0) as key
    from unnest(p_keys) as k
    order by 1
  ) as k
$$;

-- why: true while a provider is below their daily and weekly limits on the local day (and week) of
-- p_at in p_time_zone. Counts appointments of every service; p_exclude (a booking being moved) does
-- not count. No limit configured: true without counting.
create function slotbase_private.provider_has_room(p_tenant_id uuid, p_provider_id uuid, p_at timestamptz, p_time_zone text, p_exclude uuid)
returns text
language plpgsql
stable
set search_path = ''
as $$
declare
  v_day integer;
  v_week integer;
  v_range tstzrange;
begin
  select p.max_bookings_per_day, p.max_bookings_per_week into v_day, v_week
  from slotbase.providers as p where p.tenant_id = p_tenant_id and p.id = p_provider_id;
  if v_day is not null then
    v_range := slotbase_private.local_period(p_at, p_time_zone, 'day');
    if (select count(*) from slotbase.bookings as b
        where b.tenant_id = p_tenant_id and b.provider_id = p_provider_id and b.session_id is null
          and b.starts_at >= lower(v_range) and b.starts_at < upper(v_range)
          and slotbase_private.counts(b.status, b.hold_expires_at) and b.id is distinct from p_exclude) >= v_day then
      return 'provider_max_bookings_per_day';
    end if;
  end if;
  if v_week is not null then
    v_range := slotbase_private.local_period(p_at, p_time_zone, 'week');
    if (select count(*) from slotbase.bookings as b
        where b.tenant_id = p_tenant_id and b.provider_id = p_provider_id and b.session_id is null
          and b.starts_at >= lower(v_range) and b.starts_at < upper(v_range)
          and slotbase_private.counts(b.status, b.hold_expires_at) and b.id is distinct from p_exclude) >= v_week then
      return 'provider_max_bookings_per_week';
    end if;
  end if;
  return null;
end
$$;
comment on function slotbase_private.provider_has_room(uuid, uuid, timestamptz, text, uuid) is
  'null when the provider may take one more appointment on that local day and week; else the name of the limit they are at.';

-- why: true while a service is below its daily limit on the local day of p_at.
create function slotbase_private.service_day_has_room(p_service slotbase.services, p_at timestamptz, p_time_zone text, p_exclude uuid)
returns boolean
language plpgsql
stable
set search_path = ''
as $$
declare
  v_range tstzrange;
begin
  if p_service.max_bookings_per_day is null then
    return true;
  end if;
  v_range := slotbase_private.local_period(p_at, p_time_zone, 'day');
  return (select count(*) from slotbase.bookings as b
          where b.tenant_id = p_service.tenant_id and b.service_id = p_service.id and b.session_id is null
            and b.starts_at >= lower(v_range) and b.starts_at < upper(v_range)
            and slotbase_private.counts(b.status, b.hold_expires_at) and b.id is distinct from p_exclude) < p_service.max_bookings_per_day;
end
$$;

-- why: the longest travel time from a location to any other; 0 (the common case) means no
-- travel rule can apply to bookings there.
create function slotbase_private.max_travel_minutes(p_tenant_id uuid, p_location_id uuid)
returns integer
language sql
stable
set search_path = ''
as $$
  select coalesce(max(t.minutes), 0)::integer
  from slotbase.location_travel_times as t
  where t.tenant_id = p_tenant_id and (t.location_a_id = p_location_id or t.location_b_id = p_location_id)
$$;

-- why: time a provider cannot start a slot at p_location_id because of their claims at other
-- locations: each such claim widened by the new booking's buffers and by the travel time between
-- the two locations (blocked_time's rule, plus the journey).
create function slotbase_private.travel_blocked(
  p_tenant_id uuid, p_provider_id uuid, p_location_id uuid, p_from timestamptz, p_to timestamptz, p_before interval, p_after interval
)
returns tstzmultirange
language plpgsql
stable
set search_path = ''
as $$
begin
  return (
    select coalesce(range_agg(tstzrange(c.starts_at - p_after - make_interval(mins => t.minutes),
                                        c.ends_at + p_before + make_interval(mins => t.minutes))), '{}'::tstzmultirange)
    from slotbase.booking_claims as c
    left join slotbase.bookings as b on b.tenant_id = c.tenant_id and b.id = c.booking_id
    left join slotbase.sessions as se on se.tenant_id = c.tenant_id and se.id = c.session_id
    join slotbase.location_travel_times as t
      on t.tenant_id = c.tenant_id
     and t.location_a_id = least(p_location_id, coalesce(b.location_id, se.location_id))
     and t.location_b_id = greatest(p_location_id, coalesce(b.location_id, se.location_id))
    where c.tenant_id = p_tenant_id and c.subject_id = p_provider_id and c.is_active
      and c.ends_at > p_from - p_before - interval '1 day' and c.starts_at < p_to + p_after + interval '1 day'
  );
end
$$;

-- why: the same rule for one busy range: true when a claim of the provider at another location
-- lies closer to it than the travel time between the two locations.
create function slotbase_private.travel_conflict(p_tenant_id uuid, p_provider_id uuid, p_location_id uuid, p_busy tstzrange, p_max_minutes integer)
returns boolean
language sql
stable
set search_path = ''
as $$
  select exists (
    select 1
    from slotbase.booking_claims as c
    left join slotbase.bookings as b on b.tenant_id = c.tenant_id and b.id = c.booking_id
    left join slotbase.sessions as se on se.tenant_id = c.tenant_id and se.id = c.session_id
    join slotbase.location_travel_times as t
      on t.tenant_id = c.tenant_id
     and t.location_a_id = least(p_location_id, coalesce(b.location_id, se.location_id))
     and t.location_b_id = greatest(p_location_id, coalesce(b.location_id, se.location_id))
    where c.tenant_id = p_tenant_id and c.subject_id = p_provider_id and c.is_active
      and c.ends_at > lower(p_busy) - make_interval(mins => p_max_minutes)
      and c.starts_at < upper(p_busy) + make_interval(mins => p_max_minutes)
      and c.ends_at + make_interval(mins => t.minutes) > lower(p_busy)
      and c.starts_at - make_interval(mins => t.minutes) < upper(p_busy)
  )
$$;

-- why: one booking's limits, in one place for create_booking and reschedule_booking: takes every
-- rule lock the booking needs (provider day/week of each candidate with a limit, the service's
-- day, the customer's and the device's keys) at once in key order, then counts under them.
-- Raises SBLIM (booking_limit_reached, the hint names the setting) or SBDEV (strict anti-scalping
-- without an issued device token); returns the candidates that are below their own limits (all of
-- them when none has one). Staff are not subject to anti-scalping; every other limit holds for
-- everyone. p_exclude: the booking being moved (it does not count against itself), and a move
-- skips the anti-scalping caps (it does not add an active booking).
create function slotbase_private.enforce_booking_rules(
  p_service slotbase.services,
  p_candidates uuid[],
  p_location_id uuid,
  p_during tstzrange,
  p_staff boolean,
  p_email text,
  p_phone text,
  p_user_id uuid,
  p_device_hash text,
  p_exclude uuid
)
returns uuid[]
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_tenant uuid := p_service.tenant_id;
  v_zone text;
  v_keys text[] := '{}';
  v_limited uuid[];
  v_email text := lower(btrim(p_email));
  v_phone text := nullif(regexp_replace(coalesce(p_phone, ''), '[^0-9]', '', 'g'), '');
  v_customer boolean := p_service.max_bookings_per_customer is not null or p_service.customer_min_gap_minutes is not null;
  v_scalping boolean := p_service.anti_scalping <> 'none' and not p_staff and p_exclude is null;
  v_range tstzrange;
  v_result uuid[] := p_candidates;
  v_hit text;
  v_reason text;
  v_provider uuid;
begin
  select coalesce(array_agg(p.id order by p.id), '{}') into v_limited
  from slotbase.providers as p
  where p.tenant_id = v_tenant and p.id = any (p_candidates)
    and (p.max_bookings_per_day is not null or p.max_bookings_per_week is not null);
  if cardinality(v_limited) = 0 and p_service.max_bookings_per_day is null and not v_customer and not v_scalping then
    return v_result;
  end if;

  if v_scalping and p_service.anti_scalping = 'strict' and not exists (
    select 1 from slotbase_private.device_tokens as d
    where d.tenant_id = v_tenant and d.token_hash = p_device_hash and d.expires_at > pg_catalog.now()
  ) then
    raise exception 'this service needs a device token' using errcode = 'SBDEV', hint = 'x_device_token';
  end if;

  select l.time_zone into v_zone from slotbase.locations as l where l.tenant_id = v_tenant and l.id = p_location_id;
  -- Keys: provider day and week (local to the booking's location), service day, the customer's
  -- identities and the device, each scoped to the service. Two bookings that could count each
  -- other share at least one key.
  select v_keys || coalesce(array_agg(k), '{}') into v_keys
  from (
    select 'p:' || p.id || ':d:' || lower(slotbase_private.local_period(lower(p_during), v_zone, 'day'))
    from slotbase.providers as p where p.tenant_id = v_tenant and p.id = any (v_limited) and p.max_bookings_per_day is not null
    union all
    select 'p:' || p.id || ':w:' || lower(slotbase_private.local_period(lower(p_during), v_zone, 'week'))
    from slotbase.providers as p where p.tenant_id = v_tenant and p.id = any (v_limited) and p.max_bookings_per_week is not null
  ) as x(k);
  if p_service.max_bookings_per_day is not null then
    v_keys := v_keys || ('s:' || p_service.id || ':d:' || lower(slotbase_private.local_period(lower(p_during), v_zone, 'day')));
  end if;
  if v_customer or v_scalping then
    if v_email is not null then v_keys := v_keys || ('c:' || p_service.id || ':e:' || v_email); end if;
    if v_phone is not null then v_keys := v_keys || ('c:' || p_service.id || ':p:' || v_phone); end if;
    if p_user_id is not null then v_keys := v_keys || ('c:' || p_service.id || ':u:' || p_user_id); end if;
  end if;
  if v_scalping and p_device_hash is not null then
    v_keys := v_keys || ('d:' || p_service.id || ':' || p_device_hash);
  end if;
  perform slotbase_private.lock_keys(v_tenant, v_keys);

  if p_service.max_bookings_per_day is not null
     and not slotbase_private.service_day_has_room(p_service, lower(p_during), v_zone, p_exclude) then
    raise exception 'this service is fully booked that day' using errcode = 'SBLIM', hint = 'max_bookings_per_day';
  end if;

  if v_customer and (v_email is not null or v_phone is not null or p_user_id is not null) then
    if p_service.max_bookings_per_customer is not null then
      v_range := slotbase_private.local_period(lower(p_during), v_zone, p_service.customer_limit_period);
      if (select count(*) from slotbase.bookings as b
          where b.tenant_id = v_tenant and b.service_id = p_service.id and b.deleted_at is null
            and (lower(b.contact_email) = v_email or regexp_replace(b.contact_phone, '[^0-9]', '', 'g') = v_phone or b.customer_user_id = p_user_id)
            and b.starts_at >= lower(v_range) and b.starts_at < upper(v_range)
            and slotbase_private.counts(b.status, b.hold_expires_at) and b.id is distinct from p_exclude) >= p_service.max_bookings_per_customer then
        raise exception 'this customer has reached the bookings this service allows per %', p_service.customer_limit_period
          using errcode = 'SBLIM', hint = 'max_bookings_per_customer';
      end if;
    end if;
    if p_service.customer_min_gap_minutes is not null and exists (
      select 1 from slotbase.bookings as b
      where b.tenant_id = v_tenant and b.service_id = p_service.id and b.deleted_at is null
        and (lower(b.contact_email) = v_email or regexp_replace(b.contact_phone, '[^0-9]', '', 'g') = v_phone or b.customer_user_id = p_user_id)
        and b.starts_at < upper(p_during) + make_interval(mins => p_service.customer_min_gap_minutes)
        and b.ends_at > lower(p_during) - make_interval(mins => p_service.customer_min_gap_minutes)
        and slotbase_private.counts(b.status, b.hold_expires_at) and b.id is distinct from p_exclude
    ) then
      raise exception 'this customer''s bookings of this service must be further apart' using errcode = 'SBLIM', hint = 'customer_min_gap_minutes';
    end if;
  end if;

  if v_scalping then
    if (v_email is not null or v_phone is not null or p_user_id is not null) and (
      select count(*) from slotbase.bookings as b
      where b.tenant_id = v_tenant and b.service_id = p_service.id and b.deleted_at is null
        and (lower(b.contact_email) = v_email or regexp_replace(b.contact_phone, '[^0-9]', '', 'g') = v_phone or b.customer_user_id = p_user_id)
        and b.ends_at > pg_catalog.now() and b.status in ('held', 'pending', 'confirmed')
        and slotbase_private.counts(b.status, b.hold_expires_at)
    ) >= p_service.anti_scalping_max_per_contact then
      raise exception 'this contact already has as many upcoming bookings of this service as it allows' using errcode = 'SBLIM', hint = 'anti_scalping_max_per_contact';
    end if;
    if p_device_hash is not null and (
      select count(*) from slotbase.bookings as b
      where b.tenant_id = v_tenant and b.service_id = p_service.id and b.deleted_at is null and b.device_hash = p_device_hash
        and b.ends_at > pg_catalog.now() and b.status in ('held', 'pending', 'confirmed')
        and slotbase_private.counts(b.status, b.hold_expires_at)
    ) >= (case when p_service.anti_scalping = 'strict' then 1 else p_service.anti_scalping_max_per_device end) then
      raise exception 'this device already has as many upcoming bookings of this service as it allows' using errcode = 'SBLIM', hint = 'anti_scalping_max_per_device';
    end if;
  end if;

  if cardinality(v_limited) > 0 then
    v_result := '{}';
    foreach v_provider in array p_candidates loop
      v_hit := case when v_provider = any (v_limited)
                    then slotbase_private.provider_has_room(v_tenant, v_provider, lower(p_during), v_zone, p_exclude) end;
      if v_hit is null then
        v_result := v_result || v_provider;
      else
        v_reason := coalesce(v_reason, v_hit);
      end if;
    end loop;
    if cardinality(v_result) = 0 then
      raise exception 'the provider is fully booked then' using errcode = 'SBLIM', hint = v_reason;
    end if;
  end if;
  return v_result;
end
$$;
comment on function slotbase_private.enforce_booking_rules(slotbase.services, uuid[], uuid, tstzrange, boolean, text, text, uuid, text, uuid) is
  'Locks and checks a booking''s limits and anti-scalping (SBLIM, SBDEV); returns the candidate providers below their own limits.';

-- Availability ---------------------------------------------------------------------------------

-- why: as in the booking engine, plus travel: with include_claims, a provider's claims at other
-- locations also block the travel time between the two locations (travel_blocked).
create or replace function slotbase_private.slot_candidates(
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
declare
  -- Travel between locations only narrows free time when the tenant has travel times at all.
  v_travel boolean := p_include_claims and exists (select 1 from slotbase.location_travel_times as t where t.tenant_id = p_tenant_id);
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
           pt.work - slotbase_private.blocked_time(p_tenant_id, pt.provider_id, p_from - interval '1 day', p_to + interval '1 day', svc.before, svc.after, p_include_claims)
             - case when v_travel
                    then slotbase_private.travel_blocked(p_tenant_id, pt.provider_id, pt.location_id, p_from - interval '1 day', p_to + interval '1 day', svc.before, svc.after)
                    else '{}'::tstzmultirange end as free,
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

-- why: as in the booking engine, plus limits: a provider at their daily or weekly limit, and a
-- service at its daily limit, offer no slots on that day (week). Without limits configured the
-- query is exactly the engine's.
create or replace function slotbase.available_slots(
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
  v_from timestamptz;
  v_to timestamptz;
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

  v_from := greatest(p_from, pg_catalog.now() + make_interval(mins => v_service.min_notice_minutes));
  v_to := least(p_to, pg_catalog.now() + make_interval(hours => 24 * v_service.max_advance_days));
  if v_from >= v_to then
    return;
  end if;

  if v_service.max_bookings_per_day is null and not exists (
    select 1 from slotbase.service_providers as sp
    join slotbase.providers as p on p.tenant_id = sp.tenant_id and p.id = sp.provider_id
    where sp.tenant_id = p_tenant_id and sp.service_id = p_service_id
      and (p.max_bookings_per_day is not null or p.max_bookings_per_week is not null)
  ) then
    return query
    select c.starts_at, c.starts_at + make_interval(mins => v_service.duration_minutes), c.provider_id, c.location_id,
           null::uuid, null::integer, c.starts_at at time zone coalesce(p_time_zone, l.time_zone)
    from slotbase_private.slot_candidates(p_tenant_id, p_service_id, v_from, v_to, p_provider_id, p_location_id, true) as c
    join slotbase.locations as l on l.tenant_id = p_tenant_id and l.id = c.location_id
    order by c.starts_at, c.provider_id;
    return;
  end if;

  -- With limits: decide once per provider, location and local day whether it has room.
  return query
  with cand as materialized (
    select c.starts_at as s, c.provider_id as pid, c.location_id as lid, l.time_zone as tz,
           (c.starts_at at time zone l.time_zone)::date as d
    from slotbase_private.slot_candidates(p_tenant_id, p_service_id, v_from, v_to, p_provider_id, p_location_id, true) as c
    join slotbase.locations as l on l.tenant_id = p_tenant_id and l.id = c.location_id
  ),
  days as materialized (
    select g.pid, g.lid, g.d
    from (select x.pid, x.lid, x.tz, x.d, min(x.s) as first_s from cand as x group by x.pid, x.lid, x.tz, x.d) as g
    where slotbase_private.provider_has_room(p_tenant_id, g.pid, g.first_s, g.tz, null) is null
      and slotbase_private.service_day_has_room(v_service, g.first_s, g.tz, null)
  )
  select cand.s, cand.s + make_interval(mins => v_service.duration_minutes), cand.pid, cand.lid,
         null::uuid, null::integer, cand.s at time zone coalesce(p_time_zone, cand.tz)
  from cand
  join days on days.pid = cand.pid and days.lid = cand.lid and days.d = cand.d
  order by cand.s, cand.pid;
end
$$;

-- Booking ----------------------------------------------------------------------------------------

-- why: the one way to book, as in the booking engine, plus the scheduling rules: limits and
-- anti-scalping (enforce_booking_rules, under rule locks taken before the subject locks), the
-- device hash stored with the booking, travel time between locations, and "any provider"
-- assigned by the service's strategy under the subject locks. Same signature as before.
create or replace function slotbase.create_booking(
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
  v_lock_range tstzrange;
  v_candidates uuid[];
  v_resources uuid[];
  v_provider uuid;
  v_location uuid;
  v_locations bigint;
  v_status text;
  v_user uuid;
  v_device text := lower(btrim(p_device_hash));
  v_travel integer;
  v_period tstzrange;
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
  if v_device is not null and v_device !~ '^[0-9a-f]{64}$' then
    raise exception 'a device hash is the sha256 hex of the device token' using errcode = 'SBVAL', hint = 'device_hash';
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
    v_user := case when not v_staff then (select u.id from slotbase.users as u where u.id = slotbase.current_user_id()) end;
    -- Limits and anti-scalping before the ban check: a banned booker meets them exactly as anyone.
    perform slotbase_private.enforce_booking_rules(v_service, '{}', v_session.location_id, tstzrange(v_session.starts_at, v_session.ends_at),
                                                   v_staff, p_contact_email, p_contact_phone, v_user, v_device, null);
    -- A banned public booker is told what a full session tells anyone (20261123150000_bans.sql).
    if not v_staff and slotbase_private.booker_is_banned(p_tenant_id, p_contact_email, p_contact_phone, v_device) is not null then
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
      notes, hold_expires_at, created_by, device_hash
    ) values (
      p_tenant_id, v_id, slotbase_private.random_booking_code(), slotbase_private.hash_token(slotbase_private.manage_token(v_id)),
      p_service_id, v_session.provider_id, v_session.location_id, v_session.id, v_user,
      btrim(p_contact_name), p_contact_email, p_contact_phone, p_party_size, tstzrange(v_session.starts_at, v_session.ends_at),
      v_status, case when v_staff then 'staff' else 'public' end, p_idempotency_key, v_request_hash, p_notes,
      case when p_hold then pg_catalog.now() + make_interval(mins => v_service.hold_minutes) end, slotbase.current_user_id(), v_device
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
  v_user := case when not v_staff then (select u.id from slotbase.users as u where u.id = slotbase.current_user_id()) end;
  -- Limits and anti-scalping (rule locks, in key order, before any subject lock); candidates at
  -- their own limits drop out. Before the ban check: a banned booker meets them exactly as anyone.
  v_candidates := slotbase_private.enforce_booking_rules(v_service, v_candidates, v_location, tstzrange(v_start, v_end), v_staff,
                                                         p_contact_email, p_contact_phone, v_user, v_device, null);
  -- A banned public booker is told what a taken time tells anyone (20261123150000_bans.sql).
  if not v_staff and slotbase_private.booker_is_banned(p_tenant_id, p_contact_email, p_contact_phone, v_device) is not null then
    raise exception 'this time was just taken' using errcode = 'SBTAK';
  end if;

  v_resources := slotbase_private.required_resources(p_tenant_id, p_service_id, v_location);
  v_busy := tstzrange(v_start - make_interval(mins => v_service.buffer_before_minutes),
                      v_end + make_interval(mins => v_service.buffer_after_minutes));
  -- Travel: the subject locks (and the hold sweep) reach as far as the longest journey from here,
  -- so a booking at another location within travel time shares a lock with this one.
  v_travel := slotbase_private.max_travel_minutes(p_tenant_id, v_location);
  v_lock_range := case when v_travel = 0 then v_busy
                       else tstzrange(lower(v_busy) - make_interval(mins => v_travel), upper(v_busy) + make_interval(mins => v_travel)) end;
  -- Fail fast, before queueing on any lock, when the time is visibly taken: every candidate
  -- provider (or a required resource) has an overlapping live claim. Expired holds do not count
  -- (they are swept below). Only the check under the locks decides that a booking succeeds.
  if slotbase_private.visibly_taken(p_tenant_id, v_candidates, v_resources, v_busy) then
    raise exception 'this time was just taken' using errcode = 'SBTAK';
  end if;
  perform slotbase_private.lock_subjects(p_tenant_id, v_candidates || v_resources, v_lock_range);
  perform slotbase_private.expire_overlapping_holds(p_tenant_id, v_candidates || v_resources, lower(v_lock_range), upper(v_lock_range));

  -- Under the locks, claims of these subjects cannot change: assign a free provider by the
  -- service's strategy (one candidate: no counting).
  if cardinality(v_candidates) = 1 then
    v_provider := v_candidates[1];
    if exists (
      select 1 from slotbase.booking_claims as c
      where c.tenant_id = p_tenant_id and c.subject_id = v_provider and c.is_active
        and c.ends_at > lower(v_busy) and c.starts_at < upper(v_busy)
    ) or (v_travel > 0 and slotbase_private.travel_conflict(p_tenant_id, v_provider, v_location, v_busy, v_travel)) then
      v_provider := null;
    end if;
  else
    select slotbase_private.local_period(v_start, l.time_zone, v_service.assignment_period) into v_period
    from slotbase.locations as l where l.tenant_id = p_tenant_id and l.id = v_location;
    select cand.id into v_provider
    from unnest(v_candidates) as cand(id)
    join slotbase.service_providers as sp on sp.tenant_id = p_tenant_id and sp.service_id = p_service_id and sp.provider_id = cand.id
    cross join lateral (
      select count(*) as n from slotbase.bookings as b
      where b.tenant_id = p_tenant_id and b.provider_id = cand.id
        and b.starts_at >= lower(v_period) and b.starts_at < upper(v_period)
        and slotbase_private.counts(b.status, b.hold_expires_at)
        and (v_service.assignment_strategy <> 'weighted' or b.service_id = p_service_id)
    ) as load
    where not exists (
      select 1 from slotbase.booking_claims as c
      where c.tenant_id = p_tenant_id and c.subject_id = cand.id and c.is_active
        and c.ends_at > lower(v_busy) and c.starts_at < upper(v_busy)
    )
      and (v_travel = 0 or not slotbase_private.travel_conflict(p_tenant_id, cand.id, v_location, v_busy, v_travel))
    order by
      case when v_service.assignment_strategy = 'priority' then sp.priority else 0 end,
      -- weighted: the provider whose next booking keeps their share closest to their weight
      -- (D'Hondt: smallest (bookings + 1) / weight; ties to the larger weight).
      case when v_service.assignment_strategy = 'weighted' then (load.n + 1)::numeric / sp.weight else 0 end,
      case when v_service.assignment_strategy = 'weighted' then -sp.weight else 0 end,
      load.n, cand.id
    limit 1;
  end if;
  if v_provider is null then
    raise exception 'this time was just taken' using errcode = 'SBTAK';
  end if;

  insert into slotbase.bookings (
    tenant_id, id, code, manage_token_hash, service_id, provider_id, location_id, customer_user_id,
    contact_name, contact_email, contact_phone, party_size, during, status, source, idempotency_key, request_hash,
    notes, hold_expires_at, created_by, device_hash
  ) values (
    p_tenant_id, v_id, slotbase_private.random_booking_code(), slotbase_private.hash_token(slotbase_private.manage_token(v_id)),
    p_service_id, v_provider, v_location, v_user,
    btrim(p_contact_name), p_contact_email, p_contact_phone, p_party_size, tstzrange(v_start, v_end),
    v_status, case when v_staff then 'staff' else 'public' end, p_idempotency_key, v_request_hash, p_notes,
    case when p_hold then pg_catalog.now() + make_interval(mins => v_service.hold_minutes) end, slotbase.current_user_id(), v_device
  ) returning * into v_booking;
  perform slotbase_private.claim_appointment(p_tenant_id, v_booking.id, v_provider, v_resources, v_busy);
  return slotbase_private.receipt_of(v_booking);
end
$$;
comment on function slotbase.create_booking(uuid, uuid, timestamptz, uuid, uuid, uuid, integer, text, text, text, text, boolean, text, text, boolean) is
  'Books an appointment or seats. Raises 23P01/SBTAK slot_taken, SBFUL session_full, SBOUT, SBLAT, SBEAR, SBPTY, SBNF1, SBIDM, SBVAL, SBLIM booking_limit_reached (hint: the limit), SBDEV device_token_required. p_device_hash: sha256 hex of the booker''s device token (ban lists, anti-scalping; stored as bookings.device_hash).';

-- why: moving a booking is atomic, as in the booking engine, plus the scheduling rules: the new
-- time must keep every limit (the booking itself does not count against them) and the travel
-- time to the provider's bookings at other locations. Same signature as before.
create or replace function slotbase.reschedule_booking(
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
  v_lock_range tstzrange;
  v_travel integer;
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
    perform slotbase_private.enforce_booking_rules(v_service, '{}', v_session.location_id, tstzrange(v_session.starts_at, v_session.ends_at),
                                                   v_staff, v_booking.contact_email, v_booking.contact_phone, v_booking.customer_user_id,
                                                   v_booking.device_hash, v_booking.id);
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

  -- Limits at the new time (rule locks before subject locks, as in create_booking).
  perform slotbase_private.enforce_booking_rules(v_service, array[v_provider], v_location, tstzrange(v_start, v_end), v_staff,
                                                 v_booking.contact_email, v_booking.contact_phone, v_booking.customer_user_id,
                                                 v_booking.device_hash, v_booking.id);
  -- A booker banned since they booked is told what a taken time tells anyone (see bans).
  if not v_staff and slotbase_private.booker_is_banned(v_booking.tenant_id, v_booking.contact_email, v_booking.contact_phone, null) is not null then
    raise exception 'this time was just taken' using errcode = 'SBTAK';
  end if;
  v_resources := slotbase_private.required_resources(v_booking.tenant_id, v_service.id, v_location);
  v_busy := tstzrange(v_start - make_interval(mins => v_service.buffer_before_minutes),
                      v_end + make_interval(mins => v_service.buffer_after_minutes));
  v_travel := slotbase_private.max_travel_minutes(v_booking.tenant_id, v_location);
  v_lock_range := case when v_travel = 0 then v_busy
                       else tstzrange(lower(v_busy) - make_interval(mins => v_travel), upper(v_busy) + make_interval(mins => v_travel)) end;
  perform slotbase_private.lock_subjects(v_booking.tenant_id, v_provider || v_resources, v_lock_range);
  -- Subject locks first, then the row (the order every booking path uses), then re-check it.
  select * into v_booking from slotbase.bookings where tenant_id = v_booking.tenant_id and id = v_booking.id for update;
  if v_booking.status not in ('held', 'pending', 'confirmed') then
    raise exception 'only an active booking can be rescheduled' using errcode = 'SBTRN';
  end if;
  perform slotbase_private.expire_overlapping_holds(v_booking.tenant_id, v_provider || v_resources, lower(v_lock_range), upper(v_lock_range));

  update slotbase.booking_claims set is_active = false
  where tenant_id = v_booking.tenant_id and booking_id = v_booking.id and is_active;
  if exists (
    select 1 from slotbase.booking_claims as c
    where c.tenant_id = v_booking.tenant_id and c.subject_id = any (v_provider || v_resources) and c.is_active
      and c.ends_at > lower(v_busy) and c.starts_at < upper(v_busy)
  ) or (v_travel > 0 and slotbase_private.travel_conflict(v_booking.tenant_id, v_provider, v_location, v_busy, v_travel)) then
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
  'Moves an active booking atomically. Raises 23P01/SBTAK slot_taken, SBFUL, SBOUT, SBLAT, SBEAR, SBNF1, SBTRN, SBLIM booking_limit_reached.';

revoke execute on all functions in schema slotbase, slotbase_private from public;
grant execute on function
  slotbase.available_slots(uuid, uuid, timestamptz, timestamptz, uuid, uuid, text, integer),
  slotbase.create_booking(uuid, uuid, timestamptz, uuid, uuid, uuid, integer, text, text, text, text, boolean, text, text, boolean),
  slotbase.reschedule_booking(uuid, timestamptz, uuid, uuid, uuid, text)
  to anon, authenticated;
