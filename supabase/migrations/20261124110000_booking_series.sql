-- Recurring series (issue 9): weekly, biweekly and monthly bookings created in one call from an
-- RRULE subset. Every occurrence is an ordinary booking made by create_booking (called with named
-- arguments), so every rule create_booking enforces (availability, notice, horizon, bans, plan and
-- booking limits, the exclusion constraint) applies to each occurrence. Occurrences are computed
-- in the location's zone as local wall-clock times, so a weekly 09:00 stays 09:00 across DST.
--
-- Modes: all_or_nothing (any occurrence that cannot be booked → SBSRC, nothing written; the
-- DETAIL is a JSON array of the conflicting occurrences with their SQLSTATEs) and partial (each
-- occurrence in its own subtransaction: book what is free, record the rest in `conflicts`).
-- A series has its own code (SR-…) and manage token; each occurrence keeps its own code and
-- manage token too, so a guest can manage one date or the rest of the series.

-- why: one recurring request and how it was made; its occurrences are bookings with series_id.
create table slotbase.booking_series (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  code text not null,
  manage_token_hash bytea not null,
  service_id uuid not null,
  provider_id uuid,
  location_id uuid not null,
  customer_user_id uuid,
  rrule text not null,
  mode text not null,
  time_zone text not null,
  first_starts_at timestamptz not null,
  contact_name text not null,
  contact_email text,
  contact_phone text,
  party_size integer not null default 1,
  notes text,
  source text not null,
  conflicts jsonb not null default '[]'::jsonb,
  idempotency_key text,
  request_hash text,
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint booking_series_pkey primary key (tenant_id, id),
  constraint booking_series_code_key unique (tenant_id, code),
  constraint booking_series_idempotency_key_key unique (tenant_id, idempotency_key),
  constraint booking_series_tenant_id_fkey foreign key (tenant_id) references slotbase.tenants (id),
  constraint booking_series_service_id_fkey foreign key (tenant_id, service_id) references slotbase.services (tenant_id, id),
  constraint booking_series_provider_id_fkey foreign key (tenant_id, provider_id) references slotbase.providers (tenant_id, id),
  constraint booking_series_location_id_fkey foreign key (tenant_id, location_id) references slotbase.locations (tenant_id, id),
  constraint booking_series_customer_user_id_fkey foreign key (customer_user_id) references slotbase.users (id),
  constraint booking_series_code_check check (code ~ '^SR-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{6,8}$'),
  constraint booking_series_rrule_check check (length(rrule) between 1 and 500),
  constraint booking_series_mode_check check (mode in ('all_or_nothing', 'partial')),
  constraint booking_series_source_check check (source in ('public', 'staff')),
  constraint booking_series_party_size_check check (party_size between 1 and 1000),
  constraint booking_series_contact_name_check check (length(btrim(contact_name)) between 1 and 200),
  constraint booking_series_conflicts_check check (jsonb_typeof(conflicts) = 'array'),
  constraint booking_series_idempotency_key_check check (idempotency_key is null or length(idempotency_key) between 1 and 255)
);
alter table slotbase.booking_series enable row level security;
alter table slotbase.booking_series force row level security;
create index booking_series_tenant_id_location_id_idx on slotbase.booking_series (tenant_id, location_id);
create index booking_series_tenant_id_customer_user_id_idx on slotbase.booking_series (tenant_id, customer_user_id) where customer_user_id is not null;
create index booking_series_code_idx on slotbase.booking_series (code);
create index booking_series_id_idx on slotbase.booking_series (id);
create trigger _100_timestamps before update on slotbase.booking_series
  for each row execute function slotbase_private.tg__set_updated_at();
comment on table slotbase.booking_series is 'A recurring booking request (RRULE subset); its occurrences are bookings with series_id. Written only by the series functions.';
comment on column slotbase.booking_series.conflicts is 'Occurrences that could not be booked when the series was created (partial mode): occurrence, starts_at, local_starts_at, sqlstate, message.';
comment on column slotbase.booking_series.time_zone is 'The location''s zone: occurrences keep their local wall-clock time in it.';
comment on column slotbase.booking_series.manage_token_hash is 'sha256 of the series manage token given to the booker; never readable by callers.';

create policy select_member_or_customer on slotbase.booking_series for select to authenticated
  using (
    (
      tenant_id = (select slotbase.current_tenant_id())
      and (select slotbase.current_member_role()) is not null
      and slotbase.can_see_location(location_id)
    )
    or customer_user_id = (select slotbase.current_user_id())
  );
comment on policy select_member_or_customer on slotbase.booking_series is 'Members see series at locations in their scope; a registered customer sees their own.';
grant select (
  tenant_id, id, code, service_id, provider_id, location_id, customer_user_id, rrule, mode, time_zone, first_starts_at,
  contact_name, contact_email, contact_phone, party_size, notes, source, conflicts, idempotency_key, created_by, created_at, updated_at
) on slotbase.booking_series to authenticated;

alter table slotbase.bookings add column series_id uuid;
alter table slotbase.bookings add constraint bookings_series_id_fkey
  foreign key (tenant_id, series_id) references slotbase.booking_series (tenant_id, id);
create index bookings_tenant_id_series_id_starts_at_idx on slotbase.bookings (tenant_id, series_id, starts_at) where series_id is not null;
comment on column slotbase.bookings.series_id is 'The recurring series this booking is an occurrence of, if any.';
grant select (series_id) on slotbase.bookings to authenticated;

-- why: a timestamptz as RFC 3339 UTC text, whatever the session's TimeZone (JSON results).
create function slotbase_private.utc_text(p_at timestamptz)
returns text
language sql
immutable
set search_path = ''
as $$
  select to_char(p_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- why: the series manage token: a keyed hash of the series id under its own label (so it never
-- equals a booking's token), url-safe base64.
create function slotbase_private.series_manage_token(p_series_id uuid)
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select translate(rtrim(encode(pg_catalog.sha256(s.value || convert_to('series:', 'UTF8') || uuid_send(p_series_id)), 'base64'), '='), '+/', '-_')
  from slotbase_private.secrets as s where s.name = 'manage_token'
$$;

-- why: the occurrences an RRULE subset yields from a first start, as local wall-clock times in a
-- zone turned into instants. Supported: FREQ=WEEKLY (INTERVAL 1 or 2, BYDAY=MO,…) and
-- FREQ=MONTHLY (INTERVAL 1–12, BYMONTHDAY=1–31; a month without that day is skipped, as RFC 5545
-- says), with exactly one of COUNT or UNTIL (a date, inclusive, or a UTC date-time …Z). The first
-- start must itself match the rule. At most 52 occurrences (SBRMX); anything else is SBRRL.
create function slotbase_private.series_occurrences(p_rrule text, p_starts_at timestamptz, p_time_zone text)
returns table (occurrence integer, starts_at timestamptz, local_starts_at timestamp)
language plpgsql
stable
set search_path = ''
as $$
#variable_conflict use_variable
declare
  c_max constant integer := 52;
  c_days constant text[] := array['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];
  v_rule text := upper(btrim(coalesce(p_rrule, '')));
  v_part text;
  v_key text;
  v_value text;
  v_seen text[] := '{}';
  v_freq text;
  v_interval integer := 1;
  v_byday integer[];
  v_monthday integer;
  v_count integer;
  v_until_at timestamptz;
  v_until_date date;
  v_local timestamp;
  v_time time;
  v_first date;
  v_week date;
  v_month date;
  v_day date;
  v_d integer;
  v_n integer := 0;
begin
  if p_starts_at is null then
    raise exception 'a first start is required' using errcode = 'SBVAL', hint = 'starts_at';
  end if;
  v_local := p_starts_at at time zone p_time_zone;
  v_time := v_local::time;
  v_first := v_local::date;
  if v_rule like 'RRULE:%' then
    v_rule := substr(v_rule, 7);
  end if;
  if v_rule = '' or length(v_rule) > 500 then
    raise exception 'the recurrence rule is empty or too long' using errcode = 'SBRRL', hint = 'rrule';
  end if;
  foreach v_part in array string_to_array(rtrim(v_rule, ';'), ';') loop
    if v_part !~ '^[A-Z]+=[A-Z0-9,]+$' then
      raise exception 'the recurrence rule part "%" is not KEY=VALUE', left(v_part, 40) using errcode = 'SBRRL', hint = 'rrule';
    end if;
    v_key := split_part(v_part, '=', 1);
    v_value := split_part(v_part, '=', 2);
    if v_key = any (v_seen) then
      raise exception 'the recurrence rule repeats %', v_key using errcode = 'SBRRL', hint = 'rrule';
    end if;
    v_seen := v_seen || v_key;
    case v_key
      when 'FREQ' then
        if v_value not in ('WEEKLY', 'MONTHLY') then
          raise exception 'only FREQ=WEEKLY and FREQ=MONTHLY are supported' using errcode = 'SBRRL', hint = 'rrule';
        end if;
        v_freq := v_value;
      when 'INTERVAL' then
        if v_value !~ '^[0-9]{1,2}$' then
          raise exception 'INTERVAL must be a small whole number' using errcode = 'SBRRL', hint = 'rrule';
        end if;
        v_interval := v_value::integer;
      when 'BYDAY' then
        if v_value !~ '^(MO|TU|WE|TH|FR|SA|SU)(,(MO|TU|WE|TH|FR|SA|SU))*$' then
          raise exception 'BYDAY must list weekdays (MO,TU,WE,TH,FR,SA,SU)' using errcode = 'SBRRL', hint = 'rrule';
        end if;
        select array_agg(distinct array_position(c_days, d) order by array_position(c_days, d))
        into v_byday
        from unnest(string_to_array(v_value, ',')) as d;
      when 'BYMONTHDAY' then
        if v_value !~ '^[0-9]{1,2}$' or v_value::integer not between 1 and 31 then
          raise exception 'BYMONTHDAY must be one day of the month, 1 to 31' using errcode = 'SBRRL', hint = 'rrule';
        end if;
        v_monthday := v_value::integer;
      when 'COUNT' then
        if v_value !~ '^[0-9]{1,6}$' or v_value::integer < 1 then
          raise exception 'COUNT must be a positive whole number' using errcode = 'SBRRL', hint = 'rrule';
        end if;
        v_count := v_value::integer;
        if v_count > c_max then
          raise exception 'a series has at most % occurrences', c_max using errcode = 'SBRMX', hint = 'rrule';
        end if;
      when 'UNTIL' then
        begin
          if v_value ~ '^[0-9]{8}$' then
            v_until_date := make_date(substr(v_value, 1, 4)::integer, substr(v_value, 5, 2)::integer, substr(v_value, 7, 2)::integer);
          elsif v_value ~ '^[0-9]{8}T[0-9]{6}Z$' then
            v_until_at := make_timestamptz(substr(v_value, 1, 4)::integer, substr(v_value, 5, 2)::integer, substr(v_value, 7, 2)::integer,
                                           substr(v_value, 10, 2)::integer, substr(v_value, 12, 2)::integer, substr(v_value, 14, 2)::integer, 'UTC');
          else
            raise exception 'bad UNTIL' using errcode = 'SBRRL';
          end if;
        exception when others then
          raise exception 'UNTIL must be a date (YYYYMMDD) or a UTC date-time (YYYYMMDDTHHMMSSZ)' using errcode = 'SBRRL', hint = 'rrule';
        end;
      else
        raise exception 'the recurrence rule part % is not supported', v_key using errcode = 'SBRRL', hint = 'rrule';
    end case;
  end loop;

  if v_freq is null then
    raise exception 'the recurrence rule needs FREQ' using errcode = 'SBRRL', hint = 'rrule';
  end if;
  if v_count is not null and (v_until_at is not null or v_until_date is not null) then
    raise exception 'COUNT and UNTIL cannot both be given' using errcode = 'SBRRL', hint = 'rrule';
  end if;
  if v_count is null and v_until_at is null and v_until_date is null then
    raise exception 'a series needs COUNT or UNTIL' using errcode = 'SBRRL', hint = 'rrule';
  end if;

  if v_freq = 'WEEKLY' then
    if v_interval not in (1, 2) then
      raise exception 'weekly series repeat every week or every other week (INTERVAL=1 or 2)' using errcode = 'SBRRL', hint = 'rrule';
    end if;
    if v_monthday is not null then
      raise exception 'BYMONTHDAY belongs to monthly series' using errcode = 'SBRRL', hint = 'rrule';
    end if;
    v_byday := coalesce(v_byday, array[extract(isodow from v_first)::integer]);
    if not extract(isodow from v_first)::integer = any (v_byday) then
      raise exception 'the first start must fall on one of the BYDAY days' using errcode = 'SBRRL', hint = 'rrule';
    end if;
    v_week := v_first - (extract(isodow from v_first)::integer - 1);
    <<weeks>>
    loop
      foreach v_d in array v_byday loop
        v_day := v_week + (v_d - 1);
        continue when v_day < v_first;
        local_starts_at := v_day + v_time;
        starts_at := local_starts_at at time zone p_time_zone;
        exit weeks when (v_until_at is not null and starts_at > v_until_at) or (v_until_date is not null and v_day > v_until_date);
        v_n := v_n + 1;
        if v_n > c_max then
          raise exception 'a series has at most % occurrences', c_max using errcode = 'SBRMX', hint = 'rrule';
        end if;
        occurrence := v_n;
        return next;
        exit weeks when v_count is not null and v_n >= v_count;
      end loop;
      v_week := v_week + 7 * v_interval;
    end loop;
  else
    if v_interval not between 1 and 12 then
      raise exception 'monthly series repeat every 1 to 12 months' using errcode = 'SBRRL', hint = 'rrule';
    end if;
    if v_byday is not null then
      raise exception 'monthly series repeat on a day of the month (BYMONTHDAY), not on weekdays' using errcode = 'SBRRL', hint = 'rrule';
    end if;
    v_monthday := coalesce(v_monthday, extract(day from v_first)::integer);
    if v_monthday <> extract(day from v_first)::integer then
      raise exception 'the first start must fall on BYMONTHDAY' using errcode = 'SBRRL', hint = 'rrule';
    end if;
    v_month := date_trunc('month', v_first)::date;
    -- Bounded: at most 52 occurrences, and a day that exists in a month recurs within a year.
    for v_d in 0 .. c_max * 12 loop
      v_day := (v_month + make_interval(months => v_d * v_interval))::date + (v_monthday - 1);
      -- A month without that day (the 31st in April) has no occurrence (RFC 5545).
      continue when date_trunc('month', v_day) <> date_trunc('month', (v_month + make_interval(months => v_d * v_interval))::date);
      local_starts_at := v_day + v_time;
      starts_at := local_starts_at at time zone p_time_zone;
      exit when (v_until_at is not null and starts_at > v_until_at) or (v_until_date is not null and v_day > v_until_date);
      v_n := v_n + 1;
      if v_n > c_max then
        raise exception 'a series has at most % occurrences', c_max using errcode = 'SBRMX', hint = 'rrule';
      end if;
      occurrence := v_n;
      return next;
      exit when v_count is not null and v_n >= v_count;
    end loop;
  end if;
  if v_n = 0 then
    raise exception 'the recurrence rule yields no occurrence (UNTIL is before the first start)' using errcode = 'SBRRL', hint = 'rrule';
  end if;
end
$$;
comment on function slotbase_private.series_occurrences(text, timestamptz, text) is
  'Occurrences of an RRULE subset (WEEKLY INTERVAL 1|2 BYDAY; MONTHLY BYMONTHDAY; COUNT or UNTIL) as local wall-clock times in a zone. SBRRL, SBRMX (over 52).';

-- why: whether an error of one occurrence is about that date (recorded as a conflict: taken,
-- outside hours, notice, horizon, a plan or booking limit, …) rather than about the request
-- itself (bad contact, unknown service or provider, party size, permissions), which fails the call.
create function slotbase_private.is_occurrence_conflict(p_sqlstate text)
returns boolean
language sql
immutable
set search_path = ''
as $$
  select p_sqlstate = '23P01'
      or (p_sqlstate like 'SB%' and p_sqlstate not in ('SBVAL', 'SBNF1', 'SBPTY', 'SBIDM', 'SBPAU', 'SBUNA', 'SBRRL', 'SBRMX', 'SBSRC', 'SBTRN'))
$$;

-- why: what callers get back for a series: the series, each occurrence (with its manage token when
-- the caller holds the series token or made it), and the conflicts recorded at creation.
create function slotbase_private.series_result(p_tenant_id uuid, p_series_id uuid, p_with_tokens boolean)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'id', s.id,
    'code', s.code,
    'manage_token', case when p_with_tokens then slotbase_private.series_manage_token(s.id) end,
    'service_id', s.service_id,
    'provider_id', s.provider_id,
    'location_id', s.location_id,
    'rrule', s.rrule,
    'mode', s.mode,
    'time_zone', s.time_zone,
    'contact_name', s.contact_name,
    'party_size', s.party_size,
    'source', s.source,
    'created_at', slotbase_private.utc_text(s.created_at),
    'occurrences', coalesce((
      select jsonb_agg(jsonb_build_object(
        'booking_id', b.id,
        'code', b.code,
        'manage_token', case when p_with_tokens then slotbase_private.manage_token(b.id) end,
        'status', b.status,
        'starts_at', slotbase_private.utc_text(b.starts_at),
        'ends_at', slotbase_private.utc_text(b.ends_at),
        'local_starts_at', to_char(b.starts_at at time zone s.time_zone, 'YYYY-MM-DD"T"HH24:MI:SS'),
        'provider_id', b.provider_id,
        'location_id', b.location_id
      ) order by b.starts_at, b.id)
      from slotbase.bookings as b
      where b.tenant_id = s.tenant_id and b.series_id = s.id and b.deleted_at is null
    ), '[]'::jsonb),
    'conflicts', s.conflicts
  )
  from slotbase.booking_series as s
  where s.tenant_id = p_tenant_id and s.id = p_series_id
$$;

-- why: the one way to book a series. Occurrences are booked through create_booking (named
-- arguments, so limits and checks added to it later apply to each occurrence), each in its own
-- subtransaction; the mode decides what a conflict does. Idempotent per key, like create_booking.
create function slotbase.create_booking_series(
  p_tenant_id uuid,
  p_service_id uuid,
  p_starts_at timestamptz,
  p_rrule text,
  p_mode text default 'all_or_nothing',
  p_provider_id uuid default null,
  p_location_id uuid default null,
  p_party_size integer default 1,
  p_contact_name text default null,
  p_contact_email text default null,
  p_contact_phone text default null,
  p_notes text default null,
  p_idempotency_key text default null,
  p_device_hash text default null,
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
  v_series slotbase.booking_series;
  v_request_hash text;
  v_location uuid;
  v_locations uuid[];
  v_zone text;
  v_staff boolean;
  v_id uuid := gen_random_uuid();
  v_occ record;
  v_booking_id uuid;
  v_booked integer := 0;
  v_conflicts jsonb := '[]'::jsonb;
  v_state text;
  v_message text;
begin
  if p_mode is null or p_mode not in ('all_or_nothing', 'partial') then
    raise exception 'mode must be all_or_nothing or partial' using errcode = 'SBVAL', hint = 'mode';
  end if;
  if p_starts_at is null then
    raise exception 'a first start is required' using errcode = 'SBVAL', hint = 'starts_at';
  end if;
  v_request_hash := md5(row(slotbase.current_user_id(), p_service_id, extract(epoch from p_starts_at), upper(btrim(p_rrule)), p_mode,
                            p_provider_id, p_location_id, p_party_size, p_contact_name, lower(p_contact_email), p_contact_phone,
                            p_notes, p_on_behalf)::text);
  if p_idempotency_key is not null then
    perform pg_catalog.pg_advisory_xact_lock(hashtextextended(p_tenant_id::text || ':series-idem:' || p_idempotency_key, 0));
    select * into v_series from slotbase.booking_series where tenant_id = p_tenant_id and idempotency_key = p_idempotency_key;
    if found then
      if v_series.request_hash is distinct from v_request_hash then
        raise exception 'this idempotency key was used for a different request' using errcode = 'SBIDM';
      end if;
      return slotbase_private.series_result(p_tenant_id, v_series.id, true);
    end if;
  end if;

  select s.* into v_service
  from slotbase.services as s
  join slotbase.tenants as t on t.id = s.tenant_id
  where s.tenant_id = p_tenant_id and s.id = p_service_id and s.deleted_at is null
    and t.deleted_at is null and t.status in ('active', 'past_due');
  if not found or (not v_service.is_public and not slotbase_private.is_staff_of(p_tenant_id, null)) then
    raise exception 'service not found' using errcode = 'SBNF1';
  end if;
  if p_on_behalf and not slotbase_private.is_staff_of(p_tenant_id, null) then
    raise exception 'only owners, admins and receptionists book on a customer''s behalf' using errcode = 'insufficient_privilege';
  end if;
  if v_service.kind <> 'appointment' then
    raise exception 'series are for appointment services' using errcode = 'SBVAL', hint = 'service_id';
  end if;
  if p_provider_id is not null and not exists (
    select 1 from slotbase.service_providers where tenant_id = p_tenant_id and service_id = p_service_id and provider_id = p_provider_id
  ) then
    raise exception 'provider not found' using errcode = 'SBNF1';
  end if;

  -- Where every occurrence takes place (and so the zone its wall-clock time is kept in): the given
  -- location, else where the first start is offered, else the one location the providers work at.
  if p_location_id is not null then
    select l.id, l.time_zone into v_location, v_zone
    from slotbase.locations as l where l.tenant_id = p_tenant_id and l.id = p_location_id and l.deleted_at is null;
    if not found then
      raise exception 'location not found' using errcode = 'SBNF1';
    end if;
  else
    select array_agg(distinct c.location_id) into v_locations
    from slotbase_private.slot_candidates(p_tenant_id, p_service_id, p_starts_at, p_starts_at + interval '1 microsecond',
                                          p_provider_id, null, false) as c
    where c.starts_at = p_starts_at;
    if v_locations is null then
      select array_agg(distinct r.location_id) into v_locations
      from slotbase.service_providers as sp
      join slotbase.availability_rules as r on r.tenant_id = sp.tenant_id and r.provider_id = sp.provider_id
      where sp.tenant_id = p_tenant_id and sp.service_id = p_service_id and (p_provider_id is null or sp.provider_id = p_provider_id);
    end if;
    if cardinality(v_locations) is distinct from 1 then
      raise exception 'choose a location' using errcode = 'SBVAL', hint = 'location_id';
    end if;
    v_location := v_locations[1];
    select l.time_zone into v_zone from slotbase.locations as l where l.tenant_id = p_tenant_id and l.id = v_location;
  end if;

  v_staff := slotbase_private.is_staff_of(p_tenant_id, v_location);
  if p_on_behalf and not v_staff then
    raise exception 'only staff of this location book on a customer''s behalf' using errcode = 'insufficient_privilege';
  end if;
  perform slotbase_private.check_public_booker(v_service, v_staff, p_contact_email, p_contact_phone);
  if p_contact_name is null or btrim(p_contact_name) = '' then
    raise exception 'a contact name is required' using errcode = 'SBVAL', hint = 'contact_name';
  end if;
  -- Validates the rule (SBRRL, SBRMX) before anything is written.
  perform 1 from slotbase_private.series_occurrences(p_rrule, p_starts_at, v_zone);

  insert into slotbase.booking_series (
    tenant_id, id, code, manage_token_hash, service_id, provider_id, location_id, customer_user_id, rrule, mode, time_zone,
    first_starts_at, contact_name, contact_email, contact_phone, party_size, notes, source, idempotency_key, request_hash, created_by
  ) values (
    p_tenant_id, v_id, 'SR-' || substr(slotbase_private.random_booking_code(), 4),
    slotbase_private.hash_token(slotbase_private.series_manage_token(v_id)), p_service_id, p_provider_id, v_location,
    case when v_staff then null else (select u.id from slotbase.users as u where u.id = slotbase.current_user_id()) end,
    upper(btrim(p_rrule)), p_mode, v_zone, p_starts_at, btrim(p_contact_name), p_contact_email, p_contact_phone,
    coalesce(p_party_size, 1), p_notes, case when v_staff then 'staff' else 'public' end, p_idempotency_key, v_request_hash,
    slotbase.current_user_id()
  );

  for v_occ in select * from slotbase_private.series_occurrences(p_rrule, p_starts_at, v_zone) order by 1 loop
    begin
      select r.id into v_booking_id
      from slotbase.create_booking(
        p_tenant_id => p_tenant_id, p_service_id => p_service_id, p_starts_at => v_occ.starts_at,
        p_provider_id => p_provider_id, p_location_id => v_location, p_party_size => p_party_size,
        p_contact_name => p_contact_name, p_contact_email => p_contact_email, p_contact_phone => p_contact_phone,
        p_notes => p_notes, p_device_hash => p_device_hash, p_on_behalf => p_on_behalf) as r;
      update slotbase.bookings set series_id = v_id where tenant_id = p_tenant_id and id = v_booking_id;
      v_booked := v_booked + 1;
    exception when others then
      get stacked diagnostics v_state = returned_sqlstate, v_message = message_text;
      if not slotbase_private.is_occurrence_conflict(v_state) then
        raise;
      end if;
      v_conflicts := v_conflicts || jsonb_build_object(
        'occurrence', v_occ.occurrence,
        'starts_at', slotbase_private.utc_text(v_occ.starts_at),
        'local_starts_at', to_char(v_occ.local_starts_at, 'YYYY-MM-DD"T"HH24:MI:SS'),
        'sqlstate', v_state,
        'message', v_message);
    end;
  end loop;

  if jsonb_array_length(v_conflicts) > 0 and (p_mode = 'all_or_nothing' or v_booked = 0) then
    raise exception '% of the series'' dates cannot be booked; nothing was booked', jsonb_array_length(v_conflicts)
      using errcode = 'SBSRC', detail = v_conflicts::text;
  end if;
  update slotbase.booking_series set conflicts = v_conflicts where tenant_id = p_tenant_id and id = v_id;
  return slotbase_private.series_result(p_tenant_id, v_id, true);
end
$$;
comment on function slotbase.create_booking_series(uuid, uuid, timestamptz, text, text, uuid, uuid, integer, text, text, text, text, text, text, boolean) is
  'Books a recurring series through create_booking per occurrence. all_or_nothing: any conflict raises SBSRC (DETAIL: JSON array of {occurrence, starts_at, local_starts_at, sqlstate, message}) and writes nothing; partial: books what is free and lists the rest in conflicts (SBSRC when nothing is free). Also SBRRL, SBRMX, SBVAL, SBNF1, SBIDM.';

-- why: one place that decides who may act on a series: the holder of its manage token, staff in
-- scope, or the registered customer who made it. Everyone else gets not_found.
create function slotbase_private.authorize_series(p_series_id uuid, p_manage_token text)
returns slotbase.booking_series
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_series slotbase.booking_series;
  v_tenant uuid := slotbase.current_tenant_id();
begin
  if p_manage_token is not null then
    select * into v_series from slotbase.booking_series
    where id = p_series_id and manage_token_hash = slotbase_private.hash_token(p_manage_token);
    if found then
      return v_series;
    end if;
  end if;
  select * into v_series from slotbase.booking_series where tenant_id = v_tenant and id = p_series_id;
  if found and slotbase_private.is_staff_of(v_series.tenant_id, v_series.location_id) then
    return v_series;
  end if;
  select * into v_series from slotbase.booking_series
  where id = p_series_id and customer_user_id = slotbase.current_user_id() and (v_tenant is null or tenant_id = v_tenant);
  if found then
    return v_series;
  end if;
  raise exception 'series not found' using errcode = 'SBNF1';
end
$$;

-- why: the guest's view of a series by its code and manage token (the link in their receipt).
create function slotbase.find_booking_series(p_code text, p_manage_token text)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_series slotbase.booking_series;
begin
  select * into v_series from slotbase.booking_series
  where code = upper(btrim(p_code)) and manage_token_hash = slotbase_private.hash_token(p_manage_token);
  if not found then
    raise exception 'series not found' using errcode = 'SBNF1';
  end if;
  return slotbase_private.series_result(v_series.tenant_id, v_series.id, true);
end
$$;
comment on function slotbase.find_booking_series(text, text) is 'A series by its code and manage token, with its occurrences and their manage tokens; SBNF1 otherwise.';

-- why: staff (and the registered customer) read a series by id; the manage tokens are not shown.
create function slotbase.get_booking_series(p_series_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_series slotbase.booking_series := slotbase_private.authorize_series(p_series_id, null);
begin
  return slotbase_private.series_result(v_series.tenant_id, v_series.id, false);
end
$$;
comment on function slotbase.get_booking_series(uuid) is 'Staff in scope or the registered customer: a series with its occurrences. SBNF1.';

-- why: "cancel this and the following dates" (from one occurrence) or "cancel the rest" (every
-- future occurrence). Each goes through cancel_booking, so its notices and freed time (and the
-- waitlist) follow as for a single cancellation.
create function slotbase.cancel_booking_series(
  p_series_id uuid,
  p_from_booking_id uuid default null,
  p_reason text default null,
  p_manage_token text default null
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_series slotbase.booking_series := slotbase_private.authorize_series(p_series_id, p_manage_token);
  v_from timestamptz := pg_catalog.now();
  v_booking_id uuid;
begin
  if p_from_booking_id is not null then
    select greatest(b.starts_at, pg_catalog.now()) into v_from from slotbase.bookings as b
    where b.tenant_id = v_series.tenant_id and b.id = p_from_booking_id and b.series_id = v_series.id and b.deleted_at is null;
    if not found then
      raise exception 'occurrence not found in this series' using errcode = 'SBNF1';
    end if;
  end if;
  for v_booking_id in
    select b.id from slotbase.bookings as b
    where b.tenant_id = v_series.tenant_id and b.series_id = v_series.id and b.deleted_at is null
      and b.status in ('held', 'pending', 'confirmed') and b.starts_at >= v_from
    order by b.id
  loop
    perform slotbase.cancel_booking(p_booking_id => v_booking_id, p_reason => coalesce(p_reason, 'series cancelled'),
                                    p_manage_token => slotbase_private.manage_token(v_booking_id));
  end loop;
  return slotbase_private.series_result(v_series.tenant_id, v_series.id, p_manage_token is not null);
end
$$;
comment on function slotbase.cancel_booking_series(uuid, uuid, text, text) is
  'Cancels every active future occurrence of a series, or those from one occurrence on. Staff in scope, the registered customer, or the series manage token. SBNF1.';

-- why: "move this and the following dates": every active occurrence from the given one on is
-- shifted by the same local wall-clock delta (Tuesday 09:00 → Wednesday 10:00 moves each later
-- date one day and one hour, in the series' zone, across DST). All or nothing: any occurrence that
-- cannot move raises SBSRC with the conflicts in DETAIL, and every date stays where it was.
create function slotbase.reschedule_booking_series(
  p_series_id uuid,
  p_from_booking_id uuid,
  p_starts_at timestamptz,
  p_manage_token text default null
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_series slotbase.booking_series := slotbase_private.authorize_series(p_series_id, p_manage_token);
  v_from slotbase.bookings;
  v_delta interval;
  v_targets uuid[];
  v_booking slotbase.bookings;
  v_new timestamptz;
  v_conflicts jsonb := '[]'::jsonb;
  v_state text;
  v_message text;
begin
  if p_starts_at is null then
    raise exception 'a new start is required' using errcode = 'SBVAL', hint = 'starts_at';
  end if;
  select * into v_from from slotbase.bookings as b
  where b.tenant_id = v_series.tenant_id and b.id = p_from_booking_id and b.series_id = v_series.id and b.deleted_at is null;
  if not found then
    raise exception 'occurrence not found in this series' using errcode = 'SBNF1';
  end if;
  if v_from.status not in ('held', 'pending', 'confirmed') then
    raise exception 'only an active occurrence can be rescheduled' using errcode = 'SBTRN';
  end if;
  v_delta := (p_starts_at at time zone v_series.time_zone) - (v_from.starts_at at time zone v_series.time_zone);
  if v_delta = interval '0' then
    return slotbase_private.series_result(v_series.tenant_id, v_series.id, p_manage_token is not null);
  end if;
  select array_agg(b.id order by b.starts_at) into v_targets
  from slotbase.bookings as b
  where b.tenant_id = v_series.tenant_id and b.series_id = v_series.id and b.deleted_at is null
    and b.status in ('held', 'pending', 'confirmed') and b.starts_at >= v_from.starts_at;
  -- The dates being moved do not block each other: their old time is released first (each new
  -- time is claimed by reschedule_booking under the subject locks; a failure rolls all back).
  update slotbase.booking_claims set is_active = false
  where tenant_id = v_series.tenant_id and booking_id = any (v_targets) and is_active;
  for v_booking in
    select b.* from slotbase.bookings as b
    where b.tenant_id = v_series.tenant_id and b.id = any (v_targets)
    order by b.starts_at
  loop
    v_new := ((v_booking.starts_at at time zone v_series.time_zone) + v_delta) at time zone v_series.time_zone;
    begin
      perform slotbase.reschedule_booking(
        p_booking_id => v_booking.id, p_starts_at => v_new, p_provider_id => v_booking.provider_id,
        p_location_id => v_booking.location_id, p_manage_token => slotbase_private.manage_token(v_booking.id));
    exception when others then
      get stacked diagnostics v_state = returned_sqlstate, v_message = message_text;
      if not slotbase_private.is_occurrence_conflict(v_state) then
        raise;
      end if;
      v_conflicts := v_conflicts || jsonb_build_object(
        'booking_id', v_booking.id,
        'starts_at', slotbase_private.utc_text(v_new),
        'local_starts_at', to_char(v_new at time zone v_series.time_zone, 'YYYY-MM-DD"T"HH24:MI:SS'),
        'sqlstate', v_state,
        'message', v_message);
    end;
  end loop;
  if jsonb_array_length(v_conflicts) > 0 then
    raise exception '% of the series'' dates cannot move; nothing was moved', jsonb_array_length(v_conflicts)
      using errcode = 'SBSRC', detail = v_conflicts::text;
  end if;
  return slotbase_private.series_result(v_series.tenant_id, v_series.id, p_manage_token is not null);
end
$$;
comment on function slotbase.reschedule_booking_series(uuid, uuid, timestamptz, text) is
  'Shifts an occurrence and every later active one by the same local-time delta, all or nothing (SBSRC with the conflicts in DETAIL). SBNF1, SBTRN, SBVAL.';

revoke execute on all functions in schema slotbase, slotbase_private from public;
grant execute on function
  slotbase.create_booking_series(uuid, uuid, timestamptz, text, text, uuid, uuid, integer, text, text, text, text, text, text, boolean),
  slotbase.find_booking_series(text, text),
  slotbase.cancel_booking_series(uuid, uuid, text, text),
  slotbase.reschedule_booking_series(uuid, uuid, timestamptz, text)
  to anon, authenticated;
grant execute on function slotbase.get_booking_series(uuid) to authenticated;
