-- Outbound webhooks, signed per the Standard Webhooks spec (webhook-id, webhook-timestamp,
-- webhook-signature: v1,<base64 HMAC-SHA256>). Tenant-wide owners and admins register endpoints;
-- each endpoint has a signing secret (`whsec_` + base64 of 32 random bytes) kept in
-- slotbase_private, returned only by create_webhook_endpoint and rotate_webhook_endpoint_secret.
--
-- Events come from the booking audit trail: an AFTER INSERT trigger on booking_events turns each
-- row into booking.* events, writes one delivery per enabled, subscribed endpoint with a payload
-- snapshot of the booking as it is at that moment, and enqueues a `webhook_delivery` job — all
-- in the booking's own transaction, so a rolled-back booking sends nothing and a committed one
-- cannot lose its webhook. Which audit rows produce which events:
--
--   booking_events row                          events (in this order)
--   insert (from_status null), any status       booking.created
--   insert with to_status 'confirmed'           booking.created, then booking.confirmed
--                                               (a booking made directly as confirmed also gets
--                                               booking.confirmed, so a subscriber to
--                                               booking.confirmed sees every confirmed booking)
--   held|pending → confirmed                    booking.confirmed
--   → cancelled | rejected | expired            booking.cancelled | booking.rejected | booking.expired
--   confirmed → completed | no_show             booking.completed | booking.no_show
--   same status (time, provider, location or    booking.rescheduled (data carries previous_starts_at,
--   session changed: a reschedule)              previous_provider_id, previous_location_id)
--   held → pending (awaiting approval)          none (the status shows in later events)
--
-- The worker (src/jobs/tasks/webhook_delivery.ts) posts the stored payload, and records every
-- attempt with record_webhook_attempt, which also schedules the retry (exponential backoff,
-- computed by the task from its config) and disables an endpoint after too many consecutive
-- failed attempts — in one transaction.

-- why: who may manage webhooks: tenant-wide owners and admins. Endpoints receive the events of
-- every location, with customer contacts, so a branch-scoped admin may not.
create function slotbase.can_manage_webhooks()
returns boolean
language sql
stable
set search_path = ''
as $$
  select coalesce(
    slotbase.current_member_role() in ('owner', 'admin') and slotbase.current_member_location_id() is null,
    false)
$$;
comment on function slotbase.can_manage_webhooks() is 'True when the caller is a tenant-wide owner or admin of the tenant they act in.';

-- why: a URL the tenant wants booking events posted to, and what it subscribed to.
create table slotbase.webhook_endpoints (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  url text not null,
  description text,
  event_types text[] not null default '{}',
  is_enabled boolean not null default true,
  disabled_reason text,
  consecutive_failures integer not null default 0,
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint webhook_endpoints_pkey primary key (tenant_id, id),
  constraint webhook_endpoints_tenant_id_fkey foreign key (tenant_id) references slotbase.tenants (id),
  constraint webhook_endpoints_created_by_fkey foreign key (created_by) references slotbase.users (id),
  constraint webhook_endpoints_url_check check (
    url ~* '^https?://[^/?#[:space:]@]+([/?#][^[:space:]]*)?$' and url !~ '[[:cntrl:]]' and length(url) <= 2000
  ),
  constraint webhook_endpoints_description_check check (description is null or length(description) <= 500),
  constraint webhook_endpoints_event_types_check check (
    event_types <@ array['booking.created', 'booking.confirmed', 'booking.rescheduled', 'booking.cancelled',
                         'booking.rejected', 'booking.completed', 'booking.no_show', 'booking.expired']::text[]
    and array_position(event_types, null) is null
  ),
  constraint webhook_endpoints_consecutive_failures_check check (consecutive_failures >= 0)
);
alter table slotbase.webhook_endpoints enable row level security;
alter table slotbase.webhook_endpoints force row level security;
create index webhook_endpoints_tenant_id_enabled_idx on slotbase.webhook_endpoints (tenant_id) where is_enabled;

-- why: subscriptions are compared as sets; re-enabling an endpoint starts its failure count
-- afresh; a member turning it off is told apart from the automatic disable.
create function slotbase_private.tg_webhook_endpoints__prepare()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  new.event_types := array(select distinct e from unnest(new.event_types) as e order by e);
  if tg_op = 'INSERT' then
    new.created_by := slotbase.current_user_id();
  elsif new.is_enabled and not old.is_enabled then
    new.consecutive_failures := 0;
    new.disabled_reason := null;
  elsif not new.is_enabled and old.is_enabled and new.disabled_reason is not distinct from old.disabled_reason then
    new.disabled_reason := 'disabled by a member';
  end if;
  return new;
end
$$;
create trigger _050_prepare before insert or update on slotbase.webhook_endpoints
  for each row execute function slotbase_private.tg_webhook_endpoints__prepare();
create trigger _100_timestamps before update on slotbase.webhook_endpoints
  for each row execute function slotbase_private.tg__set_updated_at();
comment on table slotbase.webhook_endpoints is 'Where booking events are posted (Standard Webhooks); the signing secret is in slotbase_private.webhook_endpoint_secrets.';
comment on column slotbase.webhook_endpoints.event_types is 'Subscribed event types (booking.*); empty = every event.';
comment on column slotbase.webhook_endpoints.disabled_reason is 'Why the endpoint is off: after too many consecutive failed attempts, or turned off by a member.';
comment on column slotbase.webhook_endpoints.consecutive_failures is 'Failed delivery attempts since the last success; reaching WEBHOOK_DISABLE_AFTER_FAILURES disables the endpoint.';

create policy select_admin on slotbase.webhook_endpoints for select to authenticated
  using (tenant_id = (select slotbase.current_tenant_id()) and (select slotbase.can_manage_webhooks()));
comment on policy select_admin on slotbase.webhook_endpoints is 'Tenant-wide owners and admins see their tenant''s webhook endpoints.';
create policy update_admin on slotbase.webhook_endpoints for update to authenticated
  using (tenant_id = (select slotbase.current_tenant_id()) and (select slotbase.can_manage_webhooks()))
  with check (tenant_id = (select slotbase.current_tenant_id()) and (select slotbase.can_manage_webhooks()));
comment on policy update_admin on slotbase.webhook_endpoints is 'Tenant-wide owners and admins change the URL, description, subscriptions, or turn an endpoint on and off.';
create policy delete_admin on slotbase.webhook_endpoints for delete to authenticated
  using (tenant_id = (select slotbase.current_tenant_id()) and (select slotbase.can_manage_webhooks()));
comment on policy delete_admin on slotbase.webhook_endpoints is 'Tenant-wide owners and admins delete an endpoint (its deliveries and secret go with it).';
-- No insert grant: create_webhook_endpoint inserts, so every endpoint has a secret from birth.
grant select on slotbase.webhook_endpoints to authenticated;
grant update (url, description, event_types, is_enabled) on slotbase.webhook_endpoints to authenticated;
grant delete on slotbase.webhook_endpoints to authenticated;

-- why: the signing secret is plaintext by necessity (HMAC needs it), so it lives where no caller
-- has any privilege; only the worker (owner) reads it.
create table slotbase_private.webhook_endpoint_secrets (
  tenant_id uuid not null,
  endpoint_id uuid not null,
  secret text not null,
  rotated_at timestamptz not null default now(),
  constraint webhook_endpoint_secrets_pkey primary key (tenant_id, endpoint_id),
  constraint webhook_endpoint_secrets_endpoint_id_fkey foreign key (tenant_id, endpoint_id) references slotbase.webhook_endpoints (tenant_id, id) on delete cascade,
  constraint webhook_endpoint_secrets_secret_check check (secret ~ '^whsec_[A-Za-z0-9+/]{43}=$')
);
alter table slotbase_private.webhook_endpoint_secrets enable row level security;
alter table slotbase_private.webhook_endpoint_secrets force row level security;
comment on table slotbase_private.webhook_endpoint_secrets is 'whsec_ signing secret per webhook endpoint; shown to callers only when created or rotated.';

-- why: one message to one endpoint, with its payload frozen at event time (what the booking was
-- then, not what it is when a retry finally gets through) and its delivery state.
create table slotbase.webhook_deliveries (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  endpoint_id uuid not null,
  message_id text not null default 'msg_' || replace(gen_random_uuid()::text, '-', ''),
  event_type text not null,
  payload jsonb not null,
  status text not null default 'pending',
  attempts integer not null default 0,
  next_attempt_at timestamptz default now(),
  last_status_code integer,
  last_duration_ms integer,
  last_response_excerpt text,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  delivered_at timestamptz,
  constraint webhook_deliveries_pkey primary key (tenant_id, id),
  constraint webhook_deliveries_message_id_key unique (tenant_id, message_id),
  constraint webhook_deliveries_endpoint_id_fkey foreign key (tenant_id, endpoint_id) references slotbase.webhook_endpoints (tenant_id, id) on delete cascade,
  constraint webhook_deliveries_message_id_check check (message_id ~ '^msg_[A-Za-z0-9]{8,64}$'),
  constraint webhook_deliveries_event_type_check check (event_type ~ '^[a-z_]+\.[a-z_]+$'),
  constraint webhook_deliveries_payload_check check (jsonb_typeof(payload) = 'object'),
  constraint webhook_deliveries_status_check check (status in ('pending', 'succeeded', 'failed')),
  constraint webhook_deliveries_attempts_check check (attempts >= 0),
  constraint webhook_deliveries_last_response_excerpt_check check (last_response_excerpt is null or octet_length(last_response_excerpt) <= 1024)
);
alter table slotbase.webhook_deliveries enable row level security;
alter table slotbase.webhook_deliveries force row level security;
create index webhook_deliveries_tenant_id_endpoint_id_created_at_idx on slotbase.webhook_deliveries (tenant_id, endpoint_id, created_at desc, id desc);
create trigger _100_timestamps before update on slotbase.webhook_deliveries
  for each row execute function slotbase_private.tg__set_updated_at();
comment on table slotbase.webhook_deliveries is 'One webhook message to one endpoint and its delivery state; written only by the trigger, the worker and the webhook functions.';
comment on column slotbase.webhook_deliveries.message_id is 'The webhook-id header: the same on every attempt and redelivery, so receivers can drop duplicates.';
comment on column slotbase.webhook_deliveries.payload is 'The exact body posted ({type, timestamp, data}), a snapshot taken when the event happened.';
comment on column slotbase.webhook_deliveries.attempts is 'Attempts made so far, redeliveries included.';
comment on column slotbase.webhook_deliveries.next_attempt_at is 'When the next attempt is due while pending; null once succeeded or failed.';
comment on column slotbase.webhook_deliveries.last_response_excerpt is 'The first KiB (at most) of the last response body.';

-- Deliveries and attempts carry booking contacts of every location: tenant-wide owners and
-- admins (the people who manage endpoints) read them; nobody writes them directly.
create policy select_admin on slotbase.webhook_deliveries for select to authenticated
  using (tenant_id = (select slotbase.current_tenant_id()) and (select slotbase.can_manage_webhooks()));
comment on policy select_admin on slotbase.webhook_deliveries is 'Tenant-wide owners and admins read the delivery log (payloads hold contacts of every location, so other staff do not).';
grant select on slotbase.webhook_deliveries to authenticated;

-- why: the delivery log per attempt: what the receiver answered (or why there was no answer).
create table slotbase.webhook_attempts (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  delivery_id uuid not null,
  attempted_at timestamptz not null default now(),
  status_code integer,
  duration_ms integer not null,
  response_excerpt text,
  error text,
  is_success boolean not null,
  constraint webhook_attempts_pkey primary key (tenant_id, id),
  constraint webhook_attempts_delivery_id_fkey foreign key (tenant_id, delivery_id) references slotbase.webhook_deliveries (tenant_id, id) on delete cascade,
  constraint webhook_attempts_duration_ms_check check (duration_ms >= 0),
  constraint webhook_attempts_response_excerpt_check check (response_excerpt is null or octet_length(response_excerpt) <= 1024),
  constraint webhook_attempts_error_check check (error is null or length(error) <= 1000)
);
alter table slotbase.webhook_attempts enable row level security;
alter table slotbase.webhook_attempts force row level security;
create index webhook_attempts_tenant_id_delivery_id_idx on slotbase.webhook_attempts (tenant_id, delivery_id, attempted_at);
comment on table slotbase.webhook_attempts is 'Every attempt to deliver a webhook: status code, duration, response excerpt or error.';
comment on column slotbase.webhook_attempts.status_code is 'The HTTP status the receiver answered; null when there was no answer (timeout, refused, DNS).';

create policy select_admin on slotbase.webhook_attempts for select to authenticated
  using (tenant_id = (select slotbase.current_tenant_id()) and (select slotbase.can_manage_webhooks()));
comment on policy select_admin on slotbase.webhook_attempts is 'Tenant-wide owners and admins read the attempt log of their deliveries.';
grant select on slotbase.webhook_attempts to authenticated;

-- Internal helpers ----------------------------------------------------------------------------

-- why: webhook payloads print instants exactly as the API does (RFC 3339, UTC, milliseconds),
-- whatever the session's TimeZone.
create function slotbase_private.webhook_time(p_at timestamptz)
returns text
language sql
immutable
set search_path = ''
as $$
  select to_char(p_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- why: a fresh signing secret: `whsec_` + base64 of 32 bytes, the sha256 of three random uuids
-- (366 random bits; no pgcrypto needed, so it runs on PGlite and every Supabase).
create function slotbase_private.new_webhook_secret()
returns text
language sql
volatile
set search_path = ''
as $$
  select 'whsec_' || encode(pg_catalog.sha256(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())), 'base64')
$$;

-- why: what a webhook says about a booking: the fields the staff API shows (never the manage
-- token hash or request hash), contacts grouped as in the booking request.
create function slotbase_private.webhook_booking_data(p_booking slotbase.bookings)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'id', p_booking.id,
    'code', p_booking.code,
    'status', p_booking.status,
    'source', p_booking.source,
    'service_id', p_booking.service_id,
    'provider_id', p_booking.provider_id,
    'location_id', p_booking.location_id,
    'session_id', p_booking.session_id,
    'starts_at', slotbase_private.webhook_time(p_booking.starts_at),
    'ends_at', slotbase_private.webhook_time(p_booking.ends_at),
    'party_size', p_booking.party_size,
    'contact', jsonb_build_object('name', p_booking.contact_name, 'email', p_booking.contact_email, 'phone', p_booking.contact_phone),
    'notes', p_booking.notes,
    'hold_expires_at', slotbase_private.webhook_time(p_booking.hold_expires_at),
    'status_reason', p_booking.status_reason,
    'created_at', slotbase_private.webhook_time(p_booking.created_at),
    'updated_at', slotbase_private.webhook_time(p_booking.updated_at)
  )
$$;

-- why: one place that writes deliveries and their jobs: one delivery per enabled endpoint of the
-- tenant subscribed to p_type (or only p_endpoint_id, for test pings), each with its own job
-- (key webhook:<delivery>, so a redelivery or retry replaces a pending attempt).
create function slotbase_private.enqueue_webhook(
  p_tenant_id uuid, p_type text, p_at timestamptz, p_data jsonb, p_endpoint_id uuid default null
)
returns setof slotbase.webhook_deliveries
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_delivery slotbase.webhook_deliveries;
begin
  for v_delivery in
    insert into slotbase.webhook_deliveries (tenant_id, endpoint_id, event_type, payload)
    select e.tenant_id, e.id, p_type,
           jsonb_build_object('type', p_type, 'timestamp', slotbase_private.webhook_time(p_at), 'data', p_data)
    from slotbase.webhook_endpoints as e
    where e.tenant_id = p_tenant_id
      and e.is_enabled
      and (
        (p_endpoint_id is null and (cardinality(e.event_types) = 0 or p_type = any (e.event_types)))
        or e.id = p_endpoint_id
      )
    order by e.created_at, e.id
    returning *
  loop
    perform graphile_worker.add_job('webhook_delivery',
      json_build_object('tenant_id', v_delivery.tenant_id, 'delivery_id', v_delivery.id),
      job_key => 'webhook:' || v_delivery.id);
    return next v_delivery;
  end loop;
end
$$;

-- why: the outbox of webhooks (see the table at the top of this file). Runs in the booking's
-- transaction; does nothing at all when the tenant has no enabled endpoint.
create function slotbase_private.tg_booking_events__enqueue_webhooks()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_types text[];
  v_type text;
  v_booking slotbase.bookings;
  v_data jsonb;
begin
  if not exists (select 1 from slotbase.webhook_endpoints as e where e.tenant_id = new.tenant_id and e.is_enabled) then
    return null;
  end if;
  if new.from_status is null then
    v_types := case when new.to_status = 'confirmed' then array['booking.created', 'booking.confirmed'] else array['booking.created'] end;
  elsif new.from_status = new.to_status then
    v_types := array['booking.rescheduled'];
  elsif new.to_status in ('confirmed', 'cancelled', 'rejected', 'completed', 'no_show', 'expired') then
    v_types := array['booking.' || new.to_status];
  else
    return null;
  end if;
  select * into v_booking from slotbase.bookings as b where b.tenant_id = new.tenant_id and b.id = new.booking_id;
  v_data := slotbase_private.webhook_booking_data(v_booking);
  if new.from_status is not null and new.from_status <> new.to_status then
    v_data := v_data || jsonb_build_object('previous_status', new.from_status);
  end if;
  if v_types = array['booking.rescheduled'] then
    v_data := v_data || jsonb_build_object(
      'previous_starts_at', slotbase_private.webhook_time(coalesce((new.changes #>> '{starts_at,0}')::timestamptz, v_booking.starts_at)),
      'previous_provider_id', coalesce(new.changes #>> '{provider_id,0}', v_booking.provider_id::text),
      'previous_location_id', coalesce(new.changes #>> '{location_id,0}', v_booking.location_id::text)
    );
  end if;
  foreach v_type in array v_types loop
    perform slotbase_private.enqueue_webhook(new.tenant_id, v_type, new.at, v_data);
  end loop;
  return null;
end
$$;
create trigger _200_enqueue_webhooks after insert on slotbase.booking_events
  for each row execute function slotbase_private.tg_booking_events__enqueue_webhooks();

-- why: the result of one attempt, written by the worker in one transaction: the attempt row, the
-- delivery's state, the endpoint's failure streak (and its automatic disable), and the retry job
-- when one is due (p_retry_in_ms not null and the endpoint still enabled). Returns the delivery's
-- status afterwards.
create function slotbase_private.record_webhook_attempt(
  p_tenant_id uuid,
  p_delivery_id uuid,
  p_status_code integer,
  p_duration_ms integer,
  p_response_excerpt text,
  p_error text,
  p_retry_in_ms integer,
  p_next_attempt integer,
  p_disable_after integer
)
returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_success boolean := p_error is null and p_status_code between 200 and 299;
  v_endpoint_id uuid;
  v_delivery slotbase.webhook_deliveries;
  v_enabled boolean;
  v_failures integer;
  v_retry_at timestamptz;
begin
  -- Endpoint row first, then the delivery: the order a DELETE of the endpoint takes them in
  -- (its cascade), so the two never deadlock. KEY SHARE is enough to order against a DELETE and
  -- does not conflict with itself: concurrent attempts to one busy endpoint do not queue here
  -- (only failures, which update its streak, take turns on the row).
  select d.endpoint_id into v_endpoint_id from slotbase.webhook_deliveries as d
  where d.tenant_id = p_tenant_id and d.id = p_delivery_id;
  perform 1 from slotbase.webhook_endpoints as e
  where e.tenant_id = p_tenant_id and e.id = v_endpoint_id
  for key share;
  select * into v_delivery from slotbase.webhook_deliveries as d
  where d.tenant_id = p_tenant_id and d.id = p_delivery_id
  for update;
  if not found then
    return null;
  end if;
  insert into slotbase.webhook_attempts (tenant_id, delivery_id, status_code, duration_ms, response_excerpt, error, is_success)
  values (p_tenant_id, p_delivery_id, p_status_code, greatest(p_duration_ms, 0), p_response_excerpt, left(p_error, 1000), v_success);

  if v_success then
    update slotbase.webhook_endpoints set consecutive_failures = 0
    where tenant_id = p_tenant_id and id = v_delivery.endpoint_id and consecutive_failures <> 0;
    update slotbase.webhook_deliveries
    set status = 'succeeded', attempts = attempts + 1, next_attempt_at = null, delivered_at = pg_catalog.now(),
        last_status_code = p_status_code, last_duration_ms = p_duration_ms, last_response_excerpt = p_response_excerpt, last_error = null
    where tenant_id = p_tenant_id and id = p_delivery_id;
    return 'succeeded';
  end if;

  update slotbase.webhook_endpoints
  set consecutive_failures = consecutive_failures + 1,
      is_enabled = is_enabled and consecutive_failures + 1 < p_disable_after,
      disabled_reason = case
        when is_enabled and consecutive_failures + 1 >= p_disable_after
        then 'disabled automatically after ' || (consecutive_failures + 1) || ' consecutive failed delivery attempts'
        else disabled_reason end
  where tenant_id = p_tenant_id and id = v_delivery.endpoint_id
  returning is_enabled, consecutive_failures into v_enabled, v_failures;

  if p_retry_in_ms is not null and coalesce(v_enabled, false) then
    v_retry_at := pg_catalog.now() + pg_catalog.make_interval(secs => p_retry_in_ms / 1000.0);
    perform graphile_worker.add_job('webhook_delivery',
      json_build_object('tenant_id', p_tenant_id, 'delivery_id', p_delivery_id, 'attempt', p_next_attempt),
      run_at => v_retry_at, job_key => 'webhook:' || p_delivery_id);
  end if;
  update slotbase.webhook_deliveries
  set status = case when v_retry_at is null then 'failed' else 'pending' end,
      attempts = attempts + 1, next_attempt_at = v_retry_at,
      last_status_code = p_status_code, last_duration_ms = p_duration_ms, last_response_excerpt = p_response_excerpt,
      last_error = left(p_error, 1000) || case when not coalesce(v_enabled, false) then '; endpoint disabled' else '' end
  where tenant_id = p_tenant_id and id = p_delivery_id;
  return case when v_retry_at is null then 'failed' else 'pending' end;
end
$$;
comment on function slotbase_private.record_webhook_attempt(uuid, uuid, integer, integer, text, text, integer, integer, integer) is
  'Worker: logs an attempt, updates the delivery and the endpoint''s failure streak (disabling it at p_disable_after), schedules the retry; returns the delivery status.';

-- why: a delivery that cannot be attempted (its endpoint was turned off meanwhile) ends as
-- failed with the reason, instead of waiting forever.
create function slotbase_private.skip_webhook_delivery(p_tenant_id uuid, p_delivery_id uuid, p_reason text)
returns void
language sql
volatile
security definer
set search_path = ''
as $$
  update slotbase.webhook_deliveries
  set status = 'failed', next_attempt_at = null, last_error = left(p_reason, 1000)
  where tenant_id = p_tenant_id and id = p_delivery_id and status = 'pending'
$$;

-- why: only tenant-wide owners and admins manage webhooks (42501 otherwise).
create function slotbase_private.assert_can_manage_webhooks()
returns void
language plpgsql
stable
set search_path = ''
as $$
begin
  if not slotbase.can_manage_webhooks() then
    raise exception 'only tenant-wide owners and admins manage webhooks' using errcode = 'insufficient_privilege';
  end if;
end
$$;

-- The functions callers use -------------------------------------------------------------------

-- why: an endpoint is born with its secret (no insert grant on the table), and the secret is
-- returned exactly once, here. Bad URL or event type: 23514 (webhook_endpoints_url_check,
-- webhook_endpoints_event_types_check).
create function slotbase.create_webhook_endpoint(
  p_url text, p_description text default null, p_event_types text[] default '{}', p_is_enabled boolean default true
)
returns table (webhook_endpoint_id uuid, webhook_secret text)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_id uuid;
  v_secret text := slotbase_private.new_webhook_secret();
begin
  perform slotbase_private.assert_can_manage_webhooks();
  insert into slotbase.webhook_endpoints (tenant_id, url, description, event_types, is_enabled)
  values (slotbase.current_tenant_id(), p_url, p_description, coalesce(p_event_types, '{}'), coalesce(p_is_enabled, true))
  returning id into v_id;
  insert into slotbase_private.webhook_endpoint_secrets (tenant_id, endpoint_id, secret)
  values (slotbase.current_tenant_id(), v_id, v_secret);
  return query select v_id, v_secret;
end
$$;
comment on function slotbase.create_webhook_endpoint(text, text, text[], boolean) is
  'Owners/admins: registers a webhook endpoint and returns its id and whsec_ signing secret (shown only now). 42501, 23514.';

-- why: a leaked secret is replaced at once; the new one is returned exactly once, and every
-- attempt from now on (retries of older messages included) is signed with it.
create function slotbase.rotate_webhook_endpoint_secret(p_endpoint_id uuid)
returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_secret text := slotbase_private.new_webhook_secret();
begin
  perform slotbase_private.assert_can_manage_webhooks();
  update slotbase_private.webhook_endpoint_secrets
  set secret = v_secret, rotated_at = pg_catalog.now()
  where tenant_id = slotbase.current_tenant_id() and endpoint_id = p_endpoint_id;
  if not found then
    raise exception 'webhook endpoint not found' using errcode = 'SBNF1';
  end if;
  update slotbase.webhook_endpoints set updated_at = pg_catalog.now()
  where tenant_id = slotbase.current_tenant_id() and id = p_endpoint_id;
  return v_secret;
end
$$;
comment on function slotbase.rotate_webhook_endpoint_secret(uuid) is 'Owners/admins: replaces an endpoint''s signing secret and returns the new one (shown only now). 42501, SBNF1.';

-- why: lets a developer check their receiver: a `webhook.test` message to this endpoint only.
create function slotbase.send_test_webhook(p_endpoint_id uuid)
returns slotbase.webhook_deliveries
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_endpoint slotbase.webhook_endpoints;
  v_delivery slotbase.webhook_deliveries;
begin
  perform slotbase_private.assert_can_manage_webhooks();
  select * into v_endpoint from slotbase.webhook_endpoints as e
  where e.tenant_id = slotbase.current_tenant_id() and e.id = p_endpoint_id;
  if not found then
    raise exception 'webhook endpoint not found' using errcode = 'SBNF1';
  end if;
  if not v_endpoint.is_enabled then
    raise exception 'the webhook endpoint is disabled' using errcode = 'SBWHD';
  end if;
  select * into v_delivery
  from slotbase_private.enqueue_webhook(v_endpoint.tenant_id, 'webhook.test', pg_catalog.now(),
         jsonb_build_object('endpoint_id', v_endpoint.id, 'message', 'This is a test event from Slotbase.'), v_endpoint.id);
  return v_delivery;
end
$$;
comment on function slotbase.send_test_webhook(uuid) is 'Owners/admins: enqueues a webhook.test delivery to an enabled endpoint. 42501, SBNF1, SBWHD.';

-- why: after fixing a receiver, send a message again: the same message id (webhook-id) with a new
-- timestamp and signature, as a fresh round of attempts (retries included).
create function slotbase.redeliver_webhook(p_delivery_id uuid)
returns slotbase.webhook_deliveries
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_delivery slotbase.webhook_deliveries;
begin
  perform slotbase_private.assert_can_manage_webhooks();
  select d.* into v_delivery from slotbase.webhook_deliveries as d
  where d.tenant_id = slotbase.current_tenant_id() and d.id = p_delivery_id
  for update;
  if not found then
    raise exception 'webhook delivery not found' using errcode = 'SBNF1';
  end if;
  if not exists (
    select 1 from slotbase.webhook_endpoints as e
    where e.tenant_id = v_delivery.tenant_id and e.id = v_delivery.endpoint_id and e.is_enabled
  ) then
    raise exception 'the webhook endpoint is disabled' using errcode = 'SBWHD';
  end if;
  update slotbase.webhook_deliveries
  set status = 'pending', next_attempt_at = pg_catalog.now()
  where tenant_id = v_delivery.tenant_id and id = v_delivery.id
  returning * into v_delivery;
  perform graphile_worker.add_job('webhook_delivery',
    json_build_object('tenant_id', v_delivery.tenant_id, 'delivery_id', v_delivery.id),
    job_key => 'webhook:' || v_delivery.id);
  return v_delivery;
end
$$;
comment on function slotbase.redeliver_webhook(uuid) is 'Owners/admins: sends a delivery again with the same webhook-id (new timestamp and signature). 42501, SBNF1, SBWHD.';

revoke execute on all functions in schema slotbase, slotbase_private from public;
grant execute on function
  slotbase.can_manage_webhooks(),
  slotbase.create_webhook_endpoint(text, text, text[], boolean),
  slotbase.rotate_webhook_endpoint_secret(uuid),
  slotbase.send_test_webhook(uuid),
  slotbase.redeliver_webhook(uuid)
  to authenticated;
