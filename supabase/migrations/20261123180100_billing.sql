-- Billing: plans and their limits, enforced here for every path (API, direct SQL, worker); the
-- mirror of each tenant's Stripe subscription; Stripe's webhook events, stored by id and applied by
-- the `stripe_event` job; and the pause of public booking once a past-due tenant's grace is over.
--
-- Limits are enforced only when slotbase_private.billing_settings.enforce_plan_limits is on (the
-- SaaS deployment turns it on; a self-hosted Slotbase without Stripe has no limits, and tenants
-- created before billing existed keep working). Each check takes a transaction-level advisory
-- lock per tenant and limit before counting, so two concurrent inserts cannot both pass the last
-- free place: the second counts after the first commits.
--
-- Pausing: a tenant whose subscription is past due keeps taking bookings for its grace period
-- (BILLING_GRACE_DAYS, computed into tenant_billing.grace_ends_at by the job). After it, public
-- bookings are refused with SBPAU (409 booking_paused) and public_tenant answers
-- is_accepting_bookings = false (the booking page says so). Staff keep signing in, booking and
-- paying; nothing is deleted; invoice.paid (or an active subscription) ends the pause.

-- why: what each plan allows. A global reference table (not tenant-owned): small, read by anyone
-- (the pricing page, GET /v1/billing), written only by migrations or the operator. null = no limit.
create table slotbase.plans (
  id text not null,
  name text not null,
  max_providers integer,
  max_locations integer,
  max_bookings_per_month integer,
  max_webhook_endpoints integer,
  max_sms_per_month integer,
  sort_order integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint plans_pkey primary key (id),
  constraint plans_id_check check (id ~ '^[a-z][a-z0-9_]{0,31}$'),
  constraint plans_name_check check (length(btrim(name)) between 1 and 100),
  constraint plans_limits_check check (
    coalesce(max_providers, 0) >= 0 and coalesce(max_locations, 0) >= 0 and coalesce(max_bookings_per_month, 0) >= 0
    and coalesce(max_webhook_endpoints, 0) >= 0 and coalesce(max_sms_per_month, 0) >= 0
  )
);
alter table slotbase.plans enable row level security;
alter table slotbase.plans force row level security;
create trigger _100_timestamps before update on slotbase.plans
  for each row execute function slotbase_private.tg__set_updated_at();
comment on table slotbase.plans is 'Billing plans and their limits (null = unlimited); tenants.plan references one.';
comment on column slotbase.plans.max_bookings_per_month is 'Bookings created per calendar month (UTC), expired holds not counted.';
comment on column slotbase.plans.max_sms_per_month is 'SMS per calendar month (UTC); beyond it an SMS is logged skipped (reason plan_limit_reached).';

insert into slotbase.plans (id, name, max_providers, max_locations, max_bookings_per_month, max_webhook_endpoints, max_sms_per_month, sort_order)
values ('free', 'Free', 1, 1, 100, 1, 0, 0),
       ('pro', 'Pro', 10, 3, 2000, 5, 500, 1),
       ('business', 'Business', null, null, null, 25, 5000, 2);

create policy select_anyone on slotbase.plans for select to anon, authenticated using (true);
comment on policy select_anyone on slotbase.plans is 'Plans and their limits are public (pricing page, booking limits).';
grant select on slotbase.plans to anon, authenticated;

alter table slotbase.tenants add constraint tenants_plan_fkey foreign key (plan) references slotbase.plans (id);

-- why: the deployment's billing switch, one row. Off (the default), plans carry no limits: a
-- self-hosted Slotbase is not billed. The SaaS operator turns it on (see README, Billing).
create table slotbase_private.billing_settings (
  id boolean not null default true,
  enforce_plan_limits boolean not null default false,
  updated_at timestamptz not null default now(),
  constraint billing_settings_pkey primary key (id),
  constraint billing_settings_id_check check (id)
);
alter table slotbase_private.billing_settings enable row level security;
alter table slotbase_private.billing_settings force row level security;
create trigger _100_timestamps before update on slotbase_private.billing_settings
  for each row execute function slotbase_private.tg__set_updated_at();
comment on table slotbase_private.billing_settings is 'One row: whether plan limits are enforced in this deployment.';
insert into slotbase_private.billing_settings default values;

-- why: each tenant's Stripe state, mirrored from webhook events. last_event_at is Stripe's
-- `created` of the newest event applied: an older event never overwrites newer state.
create table slotbase_private.tenant_billing (
  tenant_id uuid not null,
  stripe_customer_id text,
  stripe_subscription_id text,
  subscription_status text,
  price_id text,
  current_period_end timestamptz,
  cancel_at_period_end boolean not null default false,
  past_due_since timestamptz,
  grace_ends_at timestamptz,
  last_event_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint tenant_billing_pkey primary key (tenant_id),
  constraint tenant_billing_tenant_id_fkey foreign key (tenant_id) references slotbase.tenants (id),
  constraint tenant_billing_stripe_customer_id_key unique (stripe_customer_id),
  constraint tenant_billing_subscription_status_check check (
    subscription_status is null
    or subscription_status in ('incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'paused')
  ),
  constraint tenant_billing_grace_check check ((past_due_since is null) = (grace_ends_at is null))
);
alter table slotbase_private.tenant_billing enable row level security;
alter table slotbase_private.tenant_billing force row level security;
create trigger _100_timestamps before update on slotbase_private.tenant_billing
  for each row execute function slotbase_private.tg__set_updated_at();
comment on table slotbase_private.tenant_billing is 'Mirror of a tenant''s Stripe customer and subscription; written only by the stripe_event job.';
comment on column slotbase_private.tenant_billing.last_event_at is 'Stripe created time of the newest applied subscription/invoice event (the out-of-order guard).';
comment on column slotbase_private.tenant_billing.grace_ends_at is 'When public booking pauses if the tenant is still past due (past_due_since + BILLING_GRACE_DAYS).';

-- why: every Stripe webhook event once, by its id: a replay (Stripe retries, or a copy) is a no-op.
create table slotbase_private.stripe_events (
  id text not null,
  type text not null,
  created timestamptz not null,
  livemode boolean not null default false,
  payload jsonb not null,
  received_at timestamptz not null default now(),
  processed_at timestamptz,
  outcome text,
  constraint stripe_events_pkey primary key (id),
  constraint stripe_events_id_check check (id ~ '^evt_[A-Za-z0-9_]{1,250}$'),
  constraint stripe_events_type_check check (length(type) between 1 and 200),
  constraint stripe_events_outcome_check check (outcome is null or outcome ~ '^[a-z][a-z0-9_]{0,63}$')
);
alter table slotbase_private.stripe_events enable row level security;
alter table slotbase_private.stripe_events force row level security;
create index stripe_events_received_at_idx on slotbase_private.stripe_events (received_at);
comment on table slotbase_private.stripe_events is 'Stripe webhook events as received (signature verified), applied by the stripe_event job.';
comment on column slotbase_private.stripe_events.outcome is 'What the job did: applied, stale (older than the mirror), ignored (type not handled), unmatched (no tenant).';

-- Limits ------------------------------------------------------------------------------------

-- why: one definition of usage, for the checks below and for GET /v1/billing.
create function slotbase_private.plan_usage(p_tenant_id uuid, p_limit text)
returns bigint
language sql
stable
security definer
set search_path = ''
as $$
  select case p_limit
    when 'providers' then (select count(*) from slotbase.providers where tenant_id = p_tenant_id and deleted_at is null)
    when 'locations' then (select count(*) from slotbase.locations where tenant_id = p_tenant_id and deleted_at is null)
    when 'webhook_endpoints' then (select count(*) from slotbase.webhook_endpoints where tenant_id = p_tenant_id)
    when 'bookings_per_month' then (
      select count(*) from slotbase.bookings
      where tenant_id = p_tenant_id and status <> 'expired'
        and created_at >= pg_catalog.date_trunc('month', pg_catalog.now() at time zone 'UTC') at time zone 'UTC'
    )
    when 'sms_per_month' then (
      select count(*) from slotbase.notifications
      where tenant_id = p_tenant_id and channel = 'sms' and status <> 'skipped'
        and created_at >= pg_catalog.date_trunc('month', pg_catalog.now() at time zone 'UTC') at time zone 'UTC'
    )
  end
$$;
comment on function slotbase_private.plan_usage(uuid, text) is
  'How much of a limit (providers, locations, webhook_endpoints, bookings_per_month, sms_per_month) a tenant uses now.';

-- why: the tenant's limit for one kind of thing, or null when there is none (unlimited plan, or
-- limits not enforced in this deployment).
create function slotbase_private.plan_limit(p_tenant_id uuid, p_limit text)
returns integer
language sql
stable
security definer
set search_path = ''
as $$
  select case p_limit
    when 'providers' then p.max_providers
    when 'locations' then p.max_locations
    when 'webhook_endpoints' then p.max_webhook_endpoints
    when 'bookings_per_month' then p.max_bookings_per_month
    when 'sms_per_month' then p.max_sms_per_month
  end
  from slotbase.tenants as t
  join slotbase.plans as p on p.id = t.plan
  join slotbase_private.billing_settings as s on s.enforce_plan_limits
  where t.id = p_tenant_id
$$;
comment on function slotbase_private.plan_limit(uuid, text) is 'The enforced limit of the tenant''s plan for one kind of thing; null = none.';

-- why: true when one more would stay within the plan. Serialized per tenant and limit by an
-- advisory lock held to the end of the transaction, so the count sees every earlier winner.
create function slotbase_private.plan_has_room(p_tenant_id uuid, p_limit text)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_max integer := slotbase_private.plan_limit(p_tenant_id, p_limit);
begin
  if v_max is null then
    return true;
  end if;
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('slotbase:plan:' || p_limit || ':' || p_tenant_id::text, 0));
  return slotbase_private.plan_usage(p_tenant_id, p_limit) < v_max;
end
$$;
comment on function slotbase_private.plan_has_room(uuid, text) is 'Locks the tenant''s limit (to the end of the transaction) and tells whether one more fits.';

-- why: raises SBPLN (402 plan_limit_reached) when the row would exceed the plan. One trigger
-- function for providers, locations and webhook endpoints (the limit is the trigger argument);
-- restoring a soft-deleted row counts like an insert (the restore triggers' WHEN says when).
create function slotbase_private.tg__enforce_plan_limit()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_limit text := tg_argv[0];
begin
  if not slotbase_private.plan_has_room(new.tenant_id, v_limit) then
    raise exception 'the % plan allows at most % %', (select t.plan from slotbase.tenants as t where t.id = new.tenant_id),
      slotbase_private.plan_limit(new.tenant_id, v_limit), replace(v_limit, '_', ' ')
      using errcode = 'SBPLN';
  end if;
  return new;
end
$$;
create trigger _050_plan_limit before insert on slotbase.providers
  for each row execute function slotbase_private.tg__enforce_plan_limit('providers');
create trigger _051_plan_limit_restore before update of deleted_at on slotbase.providers
  for each row when (old.deleted_at is not null and new.deleted_at is null)
  execute function slotbase_private.tg__enforce_plan_limit('providers');
create trigger _050_plan_limit before insert on slotbase.locations
  for each row execute function slotbase_private.tg__enforce_plan_limit('locations');
create trigger _051_plan_limit_restore before update of deleted_at on slotbase.locations
  for each row when (old.deleted_at is not null and new.deleted_at is null)
  execute function slotbase_private.tg__enforce_plan_limit('locations');
create trigger _050_plan_limit before insert on slotbase.webhook_endpoints
  for each row execute function slotbase_private.tg__enforce_plan_limit('webhook_endpoints');

-- why: public booking of a tenant is paused when it is past due and its grace period is over.
create function slotbase_private.booking_paused(p_tenant_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1
    from slotbase.tenants as t
    join slotbase_private.tenant_billing as b on b.tenant_id = t.id
    where t.id = p_tenant_id and t.status = 'past_due' and b.grace_ends_at <= pg_catalog.now()
  )
$$;
comment on function slotbase_private.booking_paused(uuid) is 'True when the tenant is past due beyond its grace period: public bookings are refused (SBPAU).';

-- why: every booking, whichever function creates it, passes here: a paused tenant refuses public
-- bookings (SBPAU), and the plan's bookings per month hold (SBPLN), locked per tenant.
create function slotbase_private.tg_bookings__billing()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.source = 'public' and slotbase_private.booking_paused(new.tenant_id) then
    raise exception 'this business is not taking online bookings right now' using errcode = 'SBPAU';
  end if;
  if not slotbase_private.plan_has_room(new.tenant_id, 'bookings_per_month') then
    raise exception 'this business has reached the bookings its plan allows this month' using errcode = 'SBPLN';
  end if;
  return new;
end
$$;
create trigger _050_billing before insert on slotbase.bookings
  for each row execute function slotbase_private.tg_bookings__billing();
create index bookings_tenant_id_created_at_idx on slotbase.bookings (tenant_id, created_at);

-- why: beyond the plan's SMS per month, an SMS is logged `skipped` (reason plan_limit_reached)
-- instead of sent; the worker sends only queued rows (claim_notification), so nothing else changes.
create function slotbase_private.tg_notifications__sms_limit()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.channel = 'sms' and new.status = 'queued' and not slotbase_private.plan_has_room(new.tenant_id, 'sms_per_month') then
    new.status := 'skipped';
    new.reason := 'plan_limit_reached';
  end if;
  return new;
end
$$;
create trigger _050_sms_limit before insert on slotbase.notifications
  for each row execute function slotbase_private.tg_notifications__sms_limit();

-- The booking page: a paused tenant is not accepting bookings (same signature and rows as before).
create or replace function slotbase.public_tenant(p_slug text)
returns table (id uuid, slug text, name text, time_zone text, locale text, is_accepting_bookings boolean)
language sql
stable
security definer
set search_path = ''
as $$
  select t.id, t.slug, t.name, t.time_zone, t.locale,
         t.status in ('active', 'past_due') and not slotbase_private.booking_paused(t.id)
  from slotbase.tenants as t
  where t.slug = lower(p_slug) and t.deleted_at is null
$$;

-- Reading billing (GET /v1/billing) -----------------------------------------------------------

-- why: tenant-wide owners and admins see their tenant's plan, subscription and usage against each limit;
-- the mirror lives in slotbase_private, so this security definer function is the only window.
create function slotbase.billing_overview()
returns table (
  plan text, plan_name text, status text, subscription_status text, stripe_customer_id text,
  current_period_end timestamptz, cancel_at_period_end boolean, past_due_since timestamptz, grace_ends_at timestamptz,
  is_booking_paused boolean, limits_enforced boolean, usage jsonb
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_tenant uuid := slotbase.current_tenant_id();
begin
  if slotbase.current_member_role() is null then
    raise exception 'billing not found' using errcode = 'SBNF1';
  end if;
  if slotbase.current_member_role() not in ('owner', 'admin') or slotbase.current_member_location_id() is not null then
    raise exception 'only owners and admins see billing' using errcode = 'insufficient_privilege';
  end if;
  return query
  select t.plan, p.name, t.status, b.subscription_status, b.stripe_customer_id, b.current_period_end,
         coalesce(b.cancel_at_period_end, false), b.past_due_since, b.grace_ends_at,
         slotbase_private.booking_paused(t.id), s.enforce_plan_limits,
         (select jsonb_object_agg(k.name, jsonb_build_object(
            'used', slotbase_private.plan_usage(t.id, k.name),
            'limit', case k.name
              when 'providers' then p.max_providers when 'locations' then p.max_locations
              when 'bookings_per_month' then p.max_bookings_per_month when 'webhook_endpoints' then p.max_webhook_endpoints
              when 'sms_per_month' then p.max_sms_per_month end))
          from unnest(array['providers', 'locations', 'bookings_per_month', 'webhook_endpoints', 'sms_per_month']) as k(name))
  from slotbase.tenants as t
  join slotbase.plans as p on p.id = t.plan
  cross join slotbase_private.billing_settings as s
  left join slotbase_private.tenant_billing as b on b.tenant_id = t.id
  where t.id = v_tenant;
end
$$;
comment on function slotbase.billing_overview() is
  'Owners/admins: the tenant''s plan, Stripe subscription mirror and usage per limit. Raises SBNF1 (not a member), 42501 (other roles).';

-- Webhook intake and the job's writes ----------------------------------------------------------

-- why: the webhook endpoint (as slotbase_api, after verifying the signature) stores the event and
-- enqueues its job in one transaction; a known id does nothing (returns false).
create function slotbase_private.record_stripe_event(p_id text, p_type text, p_created timestamptz, p_livemode boolean, p_payload jsonb)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  insert into slotbase_private.stripe_events (id, type, created, livemode, payload)
  values (p_id, p_type, p_created, coalesce(p_livemode, false), p_payload)
  on conflict (id) do nothing;
  if not found then
    return false;
  end if;
  perform graphile_worker.add_job('stripe_event', pg_catalog.json_build_object('event_id', p_id),
                                  job_key => 'stripe_event:' || p_id, max_attempts => 25);
  return true;
end
$$;
comment on function slotbase_private.record_stripe_event(text, text, timestamptz, boolean, jsonb) is
  'slotbase_api only: stores a verified Stripe event and enqueues stripe_event; false (and nothing done) for a replayed id.';

-- why: a completed Checkout links the tenant to its Stripe customer and subscription (ids only:
-- the subscription events carry its state).
create function slotbase_private.link_stripe_customer(p_tenant_id uuid, p_customer text, p_subscription text)
returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if not exists (select 1 from slotbase.tenants where id = p_tenant_id) then
    return 'unmatched';
  end if;
  insert into slotbase_private.tenant_billing (tenant_id, stripe_customer_id, stripe_subscription_id)
  values (p_tenant_id, p_customer, p_subscription)
  on conflict (tenant_id) do update
  set stripe_customer_id = coalesce(excluded.stripe_customer_id, tenant_billing.stripe_customer_id),
      stripe_subscription_id = coalesce(tenant_billing.stripe_subscription_id, excluded.stripe_subscription_id);
  return 'applied';
end
$$;
comment on function slotbase_private.link_stripe_customer(uuid, text, text) is 'stripe_event job: links a tenant to its Stripe customer (checkout.session.completed).';

-- why: the tenant a Stripe object belongs to: the tenant id we put in its metadata, else the
-- tenant already linked to its customer.
create function slotbase_private.tenant_of_stripe(p_tenant_id text, p_customer text)
returns uuid
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(
    (select t.id from slotbase.tenants as t
     where p_tenant_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' and t.id = p_tenant_id::uuid),
    (select b.tenant_id from slotbase_private.tenant_billing as b where b.stripe_customer_id = p_customer)
  )
$$;
comment on function slotbase_private.tenant_of_stripe(text, text) is 'The tenant of a Stripe object by metadata tenant_id, else by linked customer id; null if none.';

-- why: the one write of billing state. Applied only when the event is not older than the newest
-- applied (last_event_at), so out-of-order delivery never rolls state back. Then the tenant's plan
-- and status follow: active/trialing → the subscribed plan, active; past_due/unpaid → past due
-- (grace from the first failure); canceled/ended → free. A tenant an operator suspended or paused
-- keeps that status.
create function slotbase_private.apply_stripe_billing(
  p_tenant_id uuid,
  p_event_at timestamptz,
  p_customer text,
  p_subscription text,
  p_subscription_status text,
  p_price_id text,
  p_plan text,
  p_current_period_end timestamptz,
  p_cancel_at_period_end boolean,
  p_grace interval
)
returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_row slotbase_private.tenant_billing;
  v_status text;
  v_plan text;
begin
  if p_tenant_id is null or not exists (select 1 from slotbase.tenants where id = p_tenant_id) then
    return 'unmatched';
  end if;
  insert into slotbase_private.tenant_billing as b (
    tenant_id, stripe_customer_id, stripe_subscription_id, subscription_status, price_id, current_period_end,
    cancel_at_period_end, past_due_since, grace_ends_at, last_event_at
  ) values (
    p_tenant_id, p_customer, p_subscription, p_subscription_status, p_price_id, p_current_period_end,
    coalesce(p_cancel_at_period_end, false),
    case when p_subscription_status in ('past_due', 'unpaid') then p_event_at end,
    case when p_subscription_status in ('past_due', 'unpaid') then p_event_at + p_grace end,
    p_event_at
  )
  on conflict (tenant_id) do update
  set stripe_customer_id = coalesce(excluded.stripe_customer_id, b.stripe_customer_id),
      stripe_subscription_id = coalesce(excluded.stripe_subscription_id, b.stripe_subscription_id),
      subscription_status = excluded.subscription_status,
      price_id = coalesce(excluded.price_id, b.price_id),
      current_period_end = coalesce(excluded.current_period_end, b.current_period_end),
      cancel_at_period_end = coalesce(p_cancel_at_period_end, b.cancel_at_period_end),
      past_due_since = case when excluded.subscription_status in ('past_due', 'unpaid')
                            then coalesce(b.past_due_since, excluded.past_due_since) end,
      grace_ends_at = case when excluded.subscription_status in ('past_due', 'unpaid')
                           then coalesce(b.past_due_since, excluded.past_due_since) + p_grace end,
      last_event_at = excluded.last_event_at
  where b.last_event_at is null or b.last_event_at <= excluded.last_event_at
  returning * into v_row;
  if not found then
    return 'stale';
  end if;

  v_status := case
    when p_subscription_status in ('past_due', 'unpaid') then 'past_due'
    when p_subscription_status in ('active', 'trialing', 'canceled', 'incomplete_expired') then 'active'
  end;
  v_plan := case
    when p_subscription_status in ('active', 'trialing', 'past_due', 'unpaid') then p_plan
    when p_subscription_status in ('canceled', 'incomplete_expired') then 'free'
  end;
  update slotbase.tenants as t
  set plan = coalesce(v_plan, t.plan),
      status = case when t.status in ('active', 'past_due') then coalesce(v_status, t.status) else t.status end
  where t.id = p_tenant_id
    and (t.plan is distinct from coalesce(v_plan, t.plan)
         or (t.status in ('active', 'past_due') and t.status is distinct from coalesce(v_status, t.status)));
  return 'applied';
end
$$;
comment on function slotbase_private.apply_stripe_billing(uuid, timestamptz, text, text, text, text, text, timestamptz, boolean, interval) is
  'stripe_event job: timestamp-guarded upsert of the subscription mirror, then the tenant''s plan and status; returns applied, stale or unmatched.';

-- why: the job's bookkeeping: what it did with an event, once.
create function slotbase_private.finish_stripe_event(p_id text, p_outcome text)
returns void
language sql
volatile
security definer
set search_path = ''
as $$
  update slotbase_private.stripe_events set processed_at = pg_catalog.now(), outcome = p_outcome
  where id = p_id and processed_at is null
$$;
comment on function slotbase_private.finish_stripe_event(text, text) is 'stripe_event job: marks an event processed with its outcome.';

revoke execute on all functions in schema slotbase, slotbase_private from public;
grant execute on function slotbase.billing_overview() to authenticated;
grant execute on function slotbase.public_tenant(text) to anon, authenticated;
grant execute on function slotbase_private.record_stripe_event(text, text, timestamptz, boolean, jsonb) to slotbase_api;
