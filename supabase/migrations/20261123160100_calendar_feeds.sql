-- Calendars (RFC 5545): what the .ics of a booking and a provider's subscription feed are made
-- of. A booking is one calendar event for its whole life: its UID is derived from the booking id
-- (src/lib/ics.ts), and its SEQUENCE counts the changes a calendar client must apply over an
-- earlier copy: each reschedule (an audit row whose changes name starts_at) plus one once it is
-- cancelled, rejected or expired. Providers subscribe to a secret feed URL; only the token's
-- sha256 is stored, and the feed shows the provider's bookings from 30 days ago to 365 days ahead,
-- cancelled ones included so subscribed clients drop them.

-- why: one definition of an event's SEQUENCE for the download, the feeds and the emails (the
-- worker calls it on the owner connection). Callers have no privilege in slotbase_private.
create function slotbase_private.booking_ical_sequence(p_tenant_id uuid, p_booking_id uuid)
returns integer
language sql
stable
set search_path = ''
as $$
  select (
    select count(*)::integer from slotbase.booking_events as e
    where e.tenant_id = p_tenant_id and e.booking_id = p_booking_id and e.changes ? 'starts_at'
  ) + coalesce((
    select 1 from slotbase.bookings as b
    where b.tenant_id = p_tenant_id and b.id = p_booking_id and b.status in ('cancelled', 'rejected', 'expired')
  ), 0)
$$;
comment on function slotbase_private.booking_ical_sequence(uuid, uuid) is
  'iCalendar SEQUENCE of a booking: its reschedules (booking_events naming starts_at) + 1 once cancelled, rejected or expired.';

-- why: everything a calendar event of a booking shows, in one shape for the download and the feeds.
create type slotbase.calendar_event as (
  booking_id uuid,
  code text,
  status text,
  starts_at timestamptz,
  ends_at timestamptz,
  time_zone text,
  service_name text,
  provider_name text,
  provider_email text,
  location_name text,
  location_address text,
  tenant_name text,
  contact_name text,
  contact_email text,
  contact_phone text,
  party_size integer,
  sequence integer,
  created_at timestamptz,
  updated_at timestamptz
);
comment on type slotbase.calendar_event is 'A booking as a calendar event: times with the location''s zone, names, contact, and its iCalendar SEQUENCE.';

-- why: the public .ics download of one booking, for its code + manage token, exactly as
-- find_booking checks them (SBNF1 for a wrong code or token alike, so neither leaks).
create function slotbase.booking_calendar_event(p_code text, p_manage_token text)
returns slotbase.calendar_event
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_event slotbase.calendar_event;
begin
  select b.id, b.code, b.status, b.starts_at, b.ends_at, l.time_zone, s.name, p.name, p.email, l.name, l.address, t.name,
         b.contact_name, b.contact_email, b.contact_phone, b.party_size,
         slotbase_private.booking_ical_sequence(b.tenant_id, b.id), b.created_at, b.updated_at
  into v_event
  from slotbase.bookings as b
  join slotbase.services as s on s.tenant_id = b.tenant_id and s.id = b.service_id
  join slotbase.providers as p on p.tenant_id = b.tenant_id and p.id = b.provider_id
  join slotbase.locations as l on l.tenant_id = b.tenant_id and l.id = b.location_id
  join slotbase.tenants as t on t.id = b.tenant_id
  where b.code = upper(btrim(p_code))
    and b.manage_token_hash = slotbase_private.hash_token(p_manage_token)
    and b.deleted_at is null;
  if not found then
    raise exception 'booking not found' using errcode = 'SBNF1';
  end if;
  return v_event;
end
$$;
comment on function slotbase.booking_calendar_event(text, text) is 'A booking as a calendar event, for its code and manage token; SBNF1 for a wrong code or token.';

-- why: a provider's subscription feed. The URL carries a secret token; the row keeps its sha256
-- only (the API generates the token and shows it once, like API keys). Revoking deletes the row.
create table slotbase.calendar_feeds (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  provider_id uuid not null,
  name text,
  token_hash bytea not null,
  created_by uuid,
  created_at timestamptz not null default now(),
  constraint calendar_feeds_pkey primary key (tenant_id, id),
  constraint calendar_feeds_tenant_id_fkey foreign key (tenant_id) references slotbase.tenants (id),
  constraint calendar_feeds_provider_id_fkey foreign key (tenant_id, provider_id) references slotbase.providers (tenant_id, id) on delete cascade,
  constraint calendar_feeds_created_by_fkey foreign key (created_by) references slotbase.users (id),
  constraint calendar_feeds_token_hash_key unique (tenant_id, token_hash),
  constraint calendar_feeds_name_check check (name is null or length(btrim(name)) between 1 and 200),
  constraint calendar_feeds_token_hash_check check (octet_length(token_hash) = 32)
);
alter table slotbase.calendar_feeds enable row level security;
alter table slotbase.calendar_feeds force row level security;
-- The feed URL names no tenant: a fetch looks the hash up across tenants (one equality).
create index calendar_feeds_token_hash_idx on slotbase.calendar_feeds (token_hash);
create index calendar_feeds_tenant_id_provider_id_idx on slotbase.calendar_feeds (tenant_id, provider_id);

-- why: the creator is recorded by the database, not sent by the caller.
create function slotbase_private.tg_calendar_feeds__prepare()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  new.created_by := slotbase.current_user_id();
  return new;
end
$$;
create trigger _050_prepare before insert on slotbase.calendar_feeds
  for each row execute function slotbase_private.tg_calendar_feeds__prepare();
comment on table slotbase.calendar_feeds is 'Secret .ics subscription URLs of a provider''s bookings; token_hash is the sha256 of the URL''s token and never readable by callers.';
comment on column slotbase.calendar_feeds.name is 'What the feed is for (e.g. "Phone"), to recognise it in the list.';

-- why: who manages a provider's feeds: owners and admins whose scope holds the provider's home
-- location, and the person the provider is (providers.user_id) for their own. Never an API key's
-- service member: a feed URL is a standing credential to booking data, which key scopes do not
-- describe. security definer: reads providers and api_keys past their policies.
create function slotbase.can_manage_calendar_feeds(p_provider_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1
    from slotbase.providers as p
    where p.tenant_id = slotbase.current_tenant_id()
      and p.id = p_provider_id
      and p.deleted_at is null
      and slotbase.current_member_role() is not null
      and not exists (select 1 from slotbase.api_keys as k where k.service_user_id = slotbase.current_user_id())
      and (
        (
          slotbase.current_member_role() in ('owner', 'admin')
          and (slotbase.current_member_location_id() is null or p.location_id = slotbase.current_member_location_id())
        )
        or p.user_id = slotbase.current_user_id()
      )
  )
$$;
comment on function slotbase.can_manage_calendar_feeds(uuid) is 'True when the caller may create, list and revoke feeds of this provider (owner/admin in scope, or the provider themself; never an API key).';

create policy select_manager on slotbase.calendar_feeds for select to authenticated
  using (tenant_id = (select slotbase.current_tenant_id()) and slotbase.can_manage_calendar_feeds(provider_id));
comment on policy select_manager on slotbase.calendar_feeds is 'Owners and admins in scope see the feeds of their providers; a provider sees their own.';
create policy insert_manager on slotbase.calendar_feeds for insert to authenticated
  with check (tenant_id = (select slotbase.current_tenant_id()) and slotbase.can_manage_calendar_feeds(provider_id));
comment on policy insert_manager on slotbase.calendar_feeds is 'Owners and admins in scope create feeds for their providers; a provider creates their own.';
create policy delete_manager on slotbase.calendar_feeds for delete to authenticated
  using (tenant_id = (select slotbase.current_tenant_id()) and slotbase.can_manage_calendar_feeds(provider_id));
comment on policy delete_manager on slotbase.calendar_feeds is 'Whoever may create a provider''s feeds revokes them (the URL stops working at once).';
grant select (tenant_id, id, provider_id, name, created_by, created_at) on slotbase.calendar_feeds to authenticated;
grant insert (tenant_id, id, provider_id, name, token_hash) on slotbase.calendar_feeds to authenticated;
grant delete on slotbase.calendar_feeds to authenticated;

-- why: the feed behind a token, for anyone holding the URL (calendar clients fetch anonymously).
-- A hash that matches no live feed, or (never by chance: 256-bit tokens) rows of two tenants,
-- is SBNF1; so is a feed whose provider or tenant was deleted.
create function slotbase_private.calendar_feed_of(p_token text)
returns slotbase.calendar_feeds
language plpgsql
stable
set search_path = ''
as $$
declare
  v_hash bytea := slotbase_private.hash_token(p_token);
  v_feed slotbase.calendar_feeds;
begin
  select f.* into v_feed
  from slotbase.calendar_feeds as f
  join slotbase.providers as p on p.tenant_id = f.tenant_id and p.id = f.provider_id and p.deleted_at is null
  join slotbase.tenants as t on t.id = f.tenant_id and t.deleted_at is null
  where f.token_hash = v_hash
  limit 1;
  if not found or exists (
    select 1 from slotbase.calendar_feeds as o
    where o.token_hash = v_hash and (o.tenant_id, o.id) <> (v_feed.tenant_id, v_feed.id)
  ) then
    raise exception 'calendar feed not found' using errcode = 'SBNF1';
  end if;
  return v_feed;
end
$$;

-- why: what the feed's calendar is called and which zone it defaults to (the provider's home
-- location, else the tenant's), even when it has no events.
create function slotbase.find_calendar_feed(p_token text)
returns table (feed_id uuid, provider_id uuid, provider_name text, tenant_name text, time_zone text)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_feed slotbase.calendar_feeds := slotbase_private.calendar_feed_of(p_token);
begin
  return query
  select v_feed.id, p.id, p.name, t.name, coalesce(l.time_zone, t.time_zone)
  from slotbase.providers as p
  join slotbase.tenants as t on t.id = p.tenant_id
  left join slotbase.locations as l on l.tenant_id = p.tenant_id and l.id = p.location_id
  where p.tenant_id = v_feed.tenant_id and p.id = v_feed.provider_id;
end
$$;
comment on function slotbase.find_calendar_feed(text) is 'The feed behind a token: provider, tenant name, default zone. SBNF1 for an unknown or revoked token.';

-- why: the events of a feed: the provider's bookings starting from 30 days ago to 365 days
-- ahead, at every location (the window is fixed: a URL holder cannot page through history). Holds (held, or expired unpaid) are not appointments and never
-- appear; cancelled and rejected ones stay, as STATUS:CANCELLED, so clients remove them.
create function slotbase.calendar_feed_events(p_token text)
returns setof slotbase.calendar_event
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_feed slotbase.calendar_feeds := slotbase_private.calendar_feed_of(p_token);
  v_at timestamptz := pg_catalog.now();
begin
  return query
  select b.id, b.code, b.status, b.starts_at, b.ends_at, l.time_zone, s.name, p.name, p.email, l.name, l.address, t.name,
         b.contact_name, b.contact_email, b.contact_phone, b.party_size,
         slotbase_private.booking_ical_sequence(b.tenant_id, b.id), b.created_at, b.updated_at
  from slotbase.bookings as b
  join slotbase.services as s on s.tenant_id = b.tenant_id and s.id = b.service_id
  join slotbase.providers as p on p.tenant_id = b.tenant_id and p.id = b.provider_id
  join slotbase.locations as l on l.tenant_id = b.tenant_id and l.id = b.location_id
  join slotbase.tenants as t on t.id = b.tenant_id
  where b.tenant_id = v_feed.tenant_id
    and b.provider_id = v_feed.provider_id
    and b.starts_at >= v_at - interval '30 days'
    and b.starts_at < v_at + interval '365 days'
    and b.status not in ('held', 'expired')
    and b.deleted_at is null
  order by b.starts_at, b.id
  limit 5000;
end
$$;
comment on function slotbase.calendar_feed_events(text) is
  'Bookings of the feed''s provider from 30 days ago to 365 days ahead, cancelled ones included; SBNF1 for an unknown token.';

revoke execute on all functions in schema slotbase, slotbase_private from public;
grant execute on function
  slotbase.booking_calendar_event(text, text),
  slotbase.find_calendar_feed(text),
  slotbase.calendar_feed_events(text)
  to anon, authenticated;
grant execute on function slotbase.can_manage_calendar_feeds(uuid) to authenticated;
grant usage on type slotbase.calendar_event to anon, authenticated;
