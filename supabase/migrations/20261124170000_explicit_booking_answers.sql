-- Booking answers as an explicit parameter (issue 9, booking questions). Until now answers reached
-- create_booking through a transaction-local setting (slotbase.set_booking_answers), which a
-- one-call-per-transaction client (Supabase/PostgREST) cannot use, which the idempotency hash did
-- not see, and which every booking of the transaction took implicitly. Now:
--
-- - create_booking(…, p_answers jsonb default null), appended so named calls keep working: the raw
--   answers (question id → answer) go into the inserted row, and the before-insert trigger
--   _070_answers validates and normalizes NEW.answers (whatever inserts a booking, it is checked;
--   a direct SQL client still cannot store an invalid answer or skip a required one). The answers
--   are part of the idempotency request hash. set_booking_answers and the setting are gone.
-- - create_booking_series(…, p_answers): the answers are given once for the series and passed to
--   every occurrence; an invalid or missing answer fails the whole call (SBANS, 422), in both
--   modes, instead of counting as a conflict of each date.
-- - join_waitlist(…, p_answers): checked when joining (the required ones from staff too: the offer
--   books as the customer, under public rules), stored on the entry, and passed to create_booking
--   by the offer.
-- - prune_logs also deletes expired device-token proofs and expired device tokens.

-- why: one reading of "no answers" for every caller: SQL null, JSON null, {} and [] (the column's
-- default) all mean none were given.
create function slotbase_private.answers_input(p_answers jsonb)
returns jsonb
language sql
immutable
set search_path = ''
as $$
  select case when p_answers is null or jsonb_typeof(p_answers) = 'null' or p_answers in ('{}'::jsonb, '[]'::jsonb) then null
              else p_answers end
$$;
comment on function slotbase_private.answers_input(jsonb) is 'The answers a caller gave (question id → answer), or null when none (null, JSON null, {} or []).';

-- why: the answers a booking is inserted with arrive in the row itself (create_booking puts its
-- p_answers there); whatever inserts the row, they are checked here and stored normalized, and
-- the required ones are demanded for bookings made by bookers (source 'public').
create or replace function slotbase_private.tg_bookings__answers()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_input jsonb := slotbase_private.answers_input(new.answers);
begin
  if v_input is null and not exists (
    select 1 from slotbase.service_questions as q where q.tenant_id = new.tenant_id and q.service_id = new.service_id
  ) then
    new.answers := '[]'::jsonb;
    return new;
  end if;
  new.answers := slotbase_private.validate_booking_answers(new.tenant_id, new.service_id, v_input, new.source = 'public');
  return new;
end
$$;
comment on function slotbase_private.tg_bookings__answers() is
  'Before insert on bookings: validates the raw answers in NEW.answers (question id → answer) against the service''s questions and stores them as [{question_id, label, kind, value}]. SBANS.';

drop function slotbase.set_booking_answers(jsonb);
comment on column slotbase.bookings.answers is 'Answers to the service''s questions as asked at booking time: [{question_id, label, kind, value}]; value is a string (text, single_choice), an array of strings (multiple_choice) or a boolean (checkbox). create_booking inserts the raw answers (question id → answer, its p_answers); the _070_answers trigger checks and normalizes them.';

-- Booking ----------------------------------------------------------------------------------------

drop function slotbase.create_booking(uuid, uuid, timestamptz, uuid, uuid, uuid, integer, text, text, text, text, boolean, text, text, boolean);

-- why: the one way to book, as in 20261124100000_scheduling_rules.sql (limits, anti-scalping,
-- travel time, round-robin), plus the booker's answers to the service's questions as a parameter:
-- stored in the inserted row and checked there by the _070_answers trigger, and part of the
-- idempotency request hash.
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
  p_on_behalf boolean default false,
  p_answers jsonb default null
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
  -- The same key replays only the same request from the same caller, answers included (a request
  -- without answers hashes as it did before answers were a parameter).
  v_request_hash := md5(row(slotbase.current_user_id(), p_service_id, extract(epoch from p_starts_at), p_provider_id, p_location_id,
                            p_session_id, p_party_size, p_contact_name, lower(p_contact_email), p_contact_phone, p_notes, p_hold)::text
                        || coalesce(' answers:' || slotbase_private.answers_input(p_answers)::text, ''));
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
      notes, hold_expires_at, created_by, device_hash, answers
    ) values (
      p_tenant_id, v_id, slotbase_private.random_booking_code(), slotbase_private.hash_token(slotbase_private.manage_token(v_id)),
      p_service_id, v_session.provider_id, v_session.location_id, v_session.id, v_user,
      btrim(p_contact_name), p_contact_email, p_contact_phone, p_party_size, tstzrange(v_session.starts_at, v_session.ends_at),
      v_status, case when v_staff then 'staff' else 'public' end, p_idempotency_key, v_request_hash, p_notes,
      case when p_hold then pg_catalog.now() + make_interval(mins => v_service.hold_minutes) end, slotbase.current_user_id(), v_device,
      coalesce(p_answers, '[]'::jsonb)
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
    notes, hold_expires_at, created_by, device_hash, answers
  ) values (
    p_tenant_id, v_id, slotbase_private.random_booking_code(), slotbase_private.hash_token(slotbase_private.manage_token(v_id)),
    p_service_id, v_provider, v_location, v_user,
    btrim(p_contact_name), p_contact_email, p_contact_phone, p_party_size, tstzrange(v_start, v_end),
    v_status, case when v_staff then 'staff' else 'public' end, p_idempotency_key, v_request_hash, p_notes,
    case when p_hold then pg_catalog.now() + make_interval(mins => v_service.hold_minutes) end, slotbase.current_user_id(), v_device,
      coalesce(p_answers, '[]'::jsonb)
  ) returning * into v_booking;
  perform slotbase_private.claim_appointment(p_tenant_id, v_booking.id, v_provider, v_resources, v_busy);
  return slotbase_private.receipt_of(v_booking);
end
$$;
comment on function slotbase.create_booking(uuid, uuid, timestamptz, uuid, uuid, uuid, integer, text, text, text, text, boolean, text, text, boolean, jsonb) is
  'Books an appointment or seats. Raises 23P01/SBTAK slot_taken, SBFUL session_full, SBOUT, SBLAT, SBEAR, SBPTY, SBNF1, SBIDM, SBVAL, SBLIM booking_limit_reached (hint: the limit), SBDEV device_token_required, SBANS invalid_answer (hint: answers.<question id>). p_device_hash: sha256 hex of the booker''s device token (ban lists, anti-scalping; stored as bookings.device_hash). p_answers: answers to the service''s questions (question id → answer); required ones may be left out by staff only.';

-- Recurring series ------------------------------------------------------------------------------

-- why: whether an error of one occurrence is about that date (recorded as a conflict: taken,
-- outside hours, notice, horizon, a plan or booking limit, …) rather than about the request
-- itself (bad contact, unknown service or provider, party size, permissions, an invalid or
-- missing answer), which fails the call. Same as in 20261124110000_booking_series.sql plus SBANS.
create or replace function slotbase_private.is_occurrence_conflict(p_sqlstate text)
returns boolean
language sql
immutable
set search_path = ''
as $$
  select p_sqlstate = '23P01'
      or (p_sqlstate like 'SB%' and p_sqlstate not in ('SBVAL', 'SBNF1', 'SBPTY', 'SBIDM', 'SBPAU', 'SBUNA', 'SBRRL', 'SBRMX', 'SBSRC', 'SBTRN', 'SBANS'))
$$;

drop function slotbase.create_booking_series(uuid, uuid, timestamptz, text, text, uuid, uuid, integer, text, text, text, text, text, text, boolean);

-- why: the one way to book a series, as in 20261124110000_booking_series.sql, plus the answers:
-- given once for the series, checked once before anything is written (SBANS fails the call in
-- both modes) and passed to every occurrence's create_booking; part of the idempotency hash.
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
  p_on_behalf boolean default false,
  p_answers jsonb default null
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
                            p_notes, p_on_behalf)::text
                        || coalesce(' answers:' || slotbase_private.answers_input(p_answers)::text, ''));
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
  -- The answers hold for every date: checked once, before anything is written (SBANS fails the
  -- whole call, in both modes; each occurrence's insert checks them again).
  perform slotbase_private.validate_booking_answers(p_tenant_id, p_service_id, slotbase_private.answers_input(p_answers), not v_staff);
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
        p_notes => p_notes, p_device_hash => p_device_hash, p_on_behalf => p_on_behalf,
        p_answers => p_answers) as r;
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
comment on function slotbase.create_booking_series(uuid, uuid, timestamptz, text, text, uuid, uuid, integer, text, text, text, text, text, text, boolean, jsonb) is
  'Books a recurring series through create_booking per occurrence. all_or_nothing: any conflict raises SBSRC (DETAIL: JSON array of {occurrence, starts_at, local_starts_at, sqlstate, message}) and writes nothing; partial: books what is free and lists the rest in conflicts (SBSRC when nothing is free). p_answers: the answers for every occurrence; SBANS fails the whole call. Also SBRRL, SBRMX, SBVAL, SBNF1, SBIDM.';

-- Waitlist -------------------------------------------------------------------------------------

-- The answers an entry joined with, as stored with bookings: [{question_id, label, kind, value}].
alter table slotbase.waitlist_entries add column answers jsonb not null default '[]'::jsonb;
alter table slotbase.waitlist_entries add constraint waitlist_entries_answers_check check (jsonb_typeof(answers) = 'array');
grant select (answers) on slotbase.waitlist_entries to authenticated;
comment on column slotbase.waitlist_entries.answers is 'Answers to the service''s questions given when joining, checked then (required ones included): [{question_id, label, kind, value}]; the offer books with them.';

-- why: an entry as callers see it (20261124110100_waitlist.sql), now with its answers.
create or replace function slotbase_private.waitlist_entry_result(p_tenant_id uuid, p_entry_id uuid, p_with_token boolean)
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
    'answers', e.answers,
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

-- why: the answers an offer books with: the entry's stored answers as question id → answer, for
-- the questions the service still has (a question deleted since is no longer asked); null when none.
create function slotbase_private.waitlist_entry_answers(p_entry slotbase.waitlist_entries)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select jsonb_object_agg(a ->> 'question_id', a -> 'value')
  from jsonb_array_elements(p_entry.answers) as a
  where exists (
    select 1 from slotbase.service_questions as q
    where q.tenant_id = p_entry.tenant_id and q.service_id = p_entry.service_id and q.id::text = a ->> 'question_id'
  )
$$;
comment on function slotbase_private.waitlist_entry_answers(slotbase.waitlist_entries) is
  'Worker: an entry''s answers as create_booking takes them (question id → answer), for questions the service still asks; null when none.';

drop function slotbase.join_waitlist(uuid, uuid, timestamptz, timestamptz, uuid, uuid, integer, text, text, text, text, text, boolean);

-- why: joining the line, as in 20261124110100_waitlist.sql, plus the answers: checked now by the
-- rules of a booker (the offer will book as the customer, so required questions are required of
-- staff too), stored on the entry, part of the idempotency hash.
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
  p_on_behalf boolean default false,
  p_answers jsonb default null
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
  v_answers jsonb;
begin
  v_request_hash := md5(row(slotbase.current_user_id(), p_service_id, extract(epoch from p_window_from), extract(epoch from p_window_to),
                            p_provider_id, p_location_id, p_party_size, p_contact_name, lower(p_contact_email), p_contact_phone,
                            p_notes, p_on_behalf)::text
                        || coalesce(' answers:' || slotbase_private.answers_input(p_answers)::text, ''));
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
  -- The offer books as the customer under public rules, so the required questions are required
  -- here, from staff too: an entry that could never be offered is refused now (SBANS).
  v_answers := slotbase_private.validate_booking_answers(p_tenant_id, p_service_id, slotbase_private.answers_input(p_answers), true);
  insert into slotbase.waitlist_entries (
    tenant_id, id, service_id, provider_id, location_id, window_from, window_to, customer_user_id, contact_name, contact_email,
    contact_phone, party_size, notes, sort_key, source, manage_token_hash, idempotency_key, request_hash, created_by, answers
  ) values (
    p_tenant_id, v_id, p_service_id, p_provider_id, p_location_id, p_window_from, p_window_to,
    case when v_staff then null else (select u.id from slotbase.users as u where u.id = slotbase.current_user_id()) end,
    btrim(p_contact_name), p_contact_email, p_contact_phone, p_party_size, p_notes,
    extract(epoch from pg_catalog.clock_timestamp())::numeric, case when v_staff then 'staff' else 'public' end,
    slotbase_private.hash_token(slotbase_private.waitlist_token('waitlist', v_id)), p_idempotency_key, v_request_hash,
    slotbase.current_user_id(), v_answers
  );
  return slotbase_private.waitlist_entry_result(p_tenant_id, v_id, true);
end
$$;
comment on function slotbase.join_waitlist(uuid, uuid, timestamptz, timestamptz, uuid, uuid, integer, text, text, text, text, text, boolean, jsonb) is
  'Joins the waitlist of an appointment service for a window (at most 100 days). Returns the entry with its position and, once, its manage token. p_answers: answers to the service''s questions, required ones included (the offer books with them). SBNF1, SBRNG, SBPTY, SBVAL, SBIDM, SBANS.';

-- why: the worker offers a freed time (20261124110100_waitlist.sql), now booking with the entry's
-- answers; an entry whose answers no longer satisfy the service (a required question added since
-- it joined) fails with SBANS like a limited entry and the next one is tried.
create or replace function slotbase_private.offer_waitlist_slot(
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
        p_contact_phone => v_entry.contact_phone, p_notes => v_entry.notes, p_hold => true,
        p_answers => slotbase_private.waitlist_entry_answers(v_entry)) as r;
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
  'Worker: offers a freed time to the next waiting entry as a held booking with the entry''s answers (create_booking decides); enqueues the notice and the expiry. Returns the offer id, or null when nobody could take it.';

-- Retention ------------------------------------------------------------------------------------

-- why: the daily sweep (20261123160400_worker_retention.sql, same signature and the same log
-- deletions) also drops device-token rows that can no longer be of use: proof ids past their
-- expiry (a proof that old is refused by its age anyway) and expired device tokens (strict
-- anti-scalping accepts only unexpired ones; counts and bans use the hash stored with bookings
-- and bans, not this table), with the client address they hold. At most p_limit of each per call,
-- like the logs; the rest goes in the next call or the next day.
create or replace function slotbase_private.prune_logs(p_older_than interval, p_limit integer default 5000)
returns table (notifications_deleted integer, webhook_deliveries_deleted integer)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_cutoff timestamptz := pg_catalog.now() - p_older_than;
begin
  if p_older_than is null or p_older_than < interval '1 day' or p_limit is null or p_limit < 1 then
    raise exception 'prune_logs keeps at least one day of logs, in batches of at least one row'
      using errcode = 'SBVAL', hint = 'p_older_than';
  end if;
  with doomed as (
    select n.tenant_id, n.id from slotbase.notifications as n
    where n.created_at < v_cutoff
    order by n.created_at
    limit p_limit
    for update skip locked
  ), deleted as (
    delete from slotbase.notifications as n using doomed
    where n.tenant_id = doomed.tenant_id and n.id = doomed.id
    returning 1
  )
  select count(*)::integer into notifications_deleted from deleted;
  with doomed as (
    select d.tenant_id, d.id from slotbase.webhook_deliveries as d
    where d.created_at < v_cutoff and d.status <> 'pending'
    order by d.created_at
    limit p_limit
    for update skip locked
  ), deleted as (
    delete from slotbase.webhook_deliveries as d using doomed
    where d.tenant_id = doomed.tenant_id and d.id = doomed.id
    returning 1
  )
  select count(*)::integer into webhook_deliveries_deleted from deleted;
  with doomed as (
    select p.tenant_id, p.key_thumbprint, p.jti from slotbase_private.device_proofs as p
    where p.expires_at <= pg_catalog.now()
    order by p.expires_at
    limit p_limit
    for update skip locked
  )
  delete from slotbase_private.device_proofs as p using doomed
  where p.tenant_id = doomed.tenant_id and p.key_thumbprint = doomed.key_thumbprint and p.jti = doomed.jti;
  with doomed as (
    select d.tenant_id, d.token_hash from slotbase_private.device_tokens as d
    where d.expires_at <= pg_catalog.now()
    order by d.expires_at
    limit p_limit
    for update skip locked
  )
  delete from slotbase_private.device_tokens as d using doomed
  where d.tenant_id = doomed.tenant_id and d.token_hash = doomed.token_hash;
  return next;
end
$$;
comment on function slotbase_private.prune_logs(interval, integer) is
  'Cron: deletes notifications and finished webhook deliveries (with their attempts) older than p_older_than, and expired device-token proofs and device tokens, at most p_limit of each per call. SBVAL.';

revoke execute on all functions in schema slotbase, slotbase_private from public;
grant execute on function
  slotbase.create_booking(uuid, uuid, timestamptz, uuid, uuid, uuid, integer, text, text, text, text, boolean, text, text, boolean, jsonb),
  slotbase.create_booking_series(uuid, uuid, timestamptz, text, text, uuid, uuid, integer, text, text, text, text, text, text, boolean, jsonb),
  slotbase.join_waitlist(uuid, uuid, timestamptz, timestamptz, uuid, uuid, integer, text, text, text, text, text, boolean, jsonb)
  to anon, authenticated;
