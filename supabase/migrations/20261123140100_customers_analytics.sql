-- Customer accounts (a phone on the profile, customer refresh-token families), the staff view of a
-- tenant's customers, and analytics. Every view is security_invoker and every function but one is
-- security invoker, so the RLS of bookings decides what is counted: a branch receptionist's
-- customers are their branch's, and nothing of another tenant is ever aggregated.

-- why: a customer's profile fills the contact of their bookings; phones follow the same rule as
-- contact_phone so a profile phone is always a valid booking phone.
alter table slotbase.users add column phone text;
alter table slotbase.users add constraint users_phone_check check (phone is null or phone ~ '^\+?[0-9 ()./-]{3,32}$');
comment on column slotbase.users.phone is 'Optional phone of the profile; fills contact_phone when a signed-in customer books.';
grant select (phone) on slotbase.users to authenticated;
grant update (phone) on slotbase.users to authenticated;

-- why: a refresh must hand back the same kind of session it came from: a customer session never
-- turns into a staff one (which could act in a tenant) by being refreshed.
alter table slotbase_private.refresh_tokens add column kind text not null default 'staff';
alter table slotbase_private.refresh_tokens add constraint refresh_tokens_kind_check check (kind in ('staff', 'customer'));
comment on column slotbase_private.refresh_tokens.kind is 'staff: may act in a tenant it is a member of; customer: never carries a tenant.';

-- why: a customer login starts a family of kind customer; rotations within it keep the kind.
create function slotbase_private.issue_customer_refresh_token(
  p_user_id uuid, p_token_hash bytea, p_expires_at timestamptz, p_family_id uuid default null
)
returns uuid
language sql
volatile
security definer
set search_path = ''
as $$
  insert into slotbase_private.refresh_tokens (family_id, user_id, tenant_id, token_hash, expires_at, kind)
  values (coalesce(p_family_id, gen_random_uuid()), p_user_id, null, p_token_hash, p_expires_at, 'customer')
  returning family_id
$$;

create function slotbase_private.refresh_family_kind(p_family_id uuid)
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select t.kind from slotbase_private.refresh_tokens as t where t.family_id = p_family_id order by t.created_at limit 1
$$;

-- why: staff look customers up by who booked, not by account: a contact is identified by its
-- email (case-insensitive) or, without one, its phone (digits and a leading +). Bookings without
-- either (walk-ins) have no identity and are not listed. Aggregates only the bookings the caller
-- may see (security_invoker), in the tenant the request acts in (a member's own bookings as a
-- customer elsewhere are visible to them too, and must not count here).
create view slotbase.customer_summaries with (security_invoker = true) as
select
  b.tenant_id,
  coalesce(lower(b.contact_email), regexp_replace(b.contact_phone, '[^0-9+]', '', 'g')) as customer_key,
  (array_agg(b.contact_name order by b.created_at desc, b.id desc))[1] as name,
  (array_agg(b.contact_email order by b.created_at desc, b.id desc) filter (where b.contact_email is not null))[1] as email,
  (array_agg(b.contact_phone order by b.created_at desc, b.id desc) filter (where b.contact_phone is not null))[1] as phone,
  (array_agg(b.customer_user_id order by b.created_at desc, b.id desc) filter (where b.customer_user_id is not null))[1] as customer_user_id,
  count(*) as bookings_count,
  max(b.starts_at) filter (where b.starts_at < now() and b.status in ('confirmed', 'completed', 'no_show')) as last_booking_at,
  min(b.starts_at) filter (where b.starts_at >= now() and b.status in ('held', 'pending', 'confirmed')) as next_booking_at
from slotbase.bookings as b
where b.tenant_id = (select slotbase.current_tenant_id())
  and b.deleted_at is null
  and (b.contact_email is not null or b.contact_phone is not null)
group by b.tenant_id, coalesce(lower(b.contact_email), regexp_replace(b.contact_phone, '[^0-9+]', '', 'g'));
comment on view slotbase.customer_summaries is
  'Contacts of the current tenant aggregated from the bookings the caller may see (security_invoker: RLS of bookings applies).';
grant select on slotbase.customer_summaries to authenticated;

-- why: analytics are for owners and admins; the views repeat that rule so no SQL client holding
-- a receptionist's claims reads them either.

-- why: bookings per local day (in the booking location's zone) and status, the base of every
-- count and rate. Minutes are the appointment itself, without buffers.
create view slotbase.booking_daily_stats with (security_invoker = true) as
select
  b.tenant_id,
  b.location_id,
  (b.starts_at at time zone l.time_zone)::date as local_date,
  b.status,
  count(*) as bookings_count,
  sum(b.party_size) as seats,
  sum(extract(epoch from b.ends_at - b.starts_at) / 60)::bigint as minutes
from slotbase.bookings as b
join slotbase.locations as l on l.tenant_id = b.tenant_id and l.id = b.location_id
where b.tenant_id = (select slotbase.current_tenant_id())
  and (select slotbase.current_member_role()) in ('owner', 'admin')
  and b.deleted_at is null
group by b.tenant_id, b.location_id, (b.starts_at at time zone l.time_zone)::date, b.status;
comment on view slotbase.booking_daily_stats is
  'Owners/admins: bookings per location, local day and status (security_invoker: RLS of bookings applies).';
grant select on slotbase.booking_daily_stats to authenticated;

-- why: working minutes come from the private working_time/blocked_time, which callers cannot
-- reach; security definer, so it repeats the read rule of availability itself: a member of the
-- current tenant, the location in their scope. Null for anyone else or an unknown location.
-- The period is local days [p_from, p_to) in the location's zone, minus time off.
create function slotbase.working_minutes(p_provider_id uuid, p_location_id uuid, p_from date, p_to date)
returns numeric
language sql
stable
security definer
set search_path = ''
as $$
  select (
    select coalesce(sum(extract(epoch from upper(w.r) - lower(w.r))), 0) / 60
    from unnest(
      (slotbase_private.working_time(l.tenant_id, p_provider_id, l.id, l.time_zone, v.from_at, v.to_at)
       - slotbase_private.blocked_time(l.tenant_id, p_provider_id, v.from_at, v.to_at, interval '0', interval '0', false))
      * tstzmultirange(tstzrange(v.from_at, v.to_at))
    ) as w(r)
  )
  from slotbase.locations as l
  cross join lateral (
    select p_from::timestamp at time zone l.time_zone as from_at, p_to::timestamp at time zone l.time_zone as to_at
  ) as v
  where l.tenant_id = slotbase.current_tenant_id()
    and l.id = p_location_id
    and slotbase.current_member_role() is not null
    and slotbase.can_see_location(l.id)
    and p_from < p_to
$$;
comment on function slotbase.working_minutes(uuid, uuid, date, date) is
  'Minutes a provider works at a location over local days [p_from, p_to), time off excluded; null outside the caller''s scope.';

-- why: utilization per provider and location over a period: booked minutes (the union of the
-- appointments that hold the provider's time, so a group session counts once, clipped to the
-- period) against working minutes. Pairs come from hours and from bookings the caller may see.
-- security invoker: RLS of availability and bookings applies; owners and admins only.
create function slotbase.provider_utilization(p_from date, p_to date)
returns table (tenant_id uuid, provider_id uuid, location_id uuid, working_minutes numeric, booked_minutes numeric)
language sql
stable
set search_path = ''
as $$
  with pairs as (
    select r.tenant_id, r.provider_id, r.location_id
    from slotbase.availability_rules as r
    where r.tenant_id = slotbase.current_tenant_id() and r.provider_id is not null
    union
    select o.tenant_id, o.provider_id, o.location_id
    from slotbase.date_overrides as o
    where o.tenant_id = slotbase.current_tenant_id() and o.provider_id is not null
    union
    select b.tenant_id, b.provider_id, b.location_id
    from slotbase.bookings as b
    where b.tenant_id = slotbase.current_tenant_id() and b.deleted_at is null
  ),
  periods as (
    select p.tenant_id, p.provider_id, p.location_id,
           tstzrange(p_from::timestamp at time zone l.time_zone, p_to::timestamp at time zone l.time_zone) as period
    from pairs as p
    join slotbase.locations as l on l.tenant_id = p.tenant_id and l.id = p.location_id
    where slotbase.current_member_role() in ('owner', 'admin') and p_from < p_to
  )
  select pe.tenant_id, pe.provider_id, pe.location_id,
         coalesce(slotbase.working_minutes(pe.provider_id, pe.location_id, p_from, p_to), 0),
         coalesce((
           select sum(extract(epoch from upper(x.r) - lower(x.r))) / 60
           from unnest((
             select range_agg(b.during) * tstzmultirange(pe.period)
             from slotbase.bookings as b
             where b.tenant_id = pe.tenant_id and b.provider_id = pe.provider_id and b.location_id = pe.location_id
               and b.deleted_at is null and b.status in ('held', 'pending', 'confirmed', 'completed', 'no_show')
               and b.starts_at < upper(pe.period) and b.ends_at > lower(pe.period)
           )) as x(r)
         ), 0)
  from periods as pe
$$;
comment on function slotbase.provider_utilization(date, date) is
  'Owners/admins: working and booked minutes per provider and location over local days [p_from, p_to).';

revoke execute on all functions in schema slotbase, slotbase_private from public;
grant execute on function
  slotbase.working_minutes(uuid, uuid, date, date),
  slotbase.provider_utilization(date, date)
  to authenticated;
grant execute on function
  slotbase_private.issue_customer_refresh_token(uuid, bytea, timestamptz, uuid),
  slotbase_private.refresh_family_kind(uuid)
  to slotbase_api;
