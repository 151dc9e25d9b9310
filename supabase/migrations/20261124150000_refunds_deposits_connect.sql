-- Paid bookings, continued: a cancellation policy per service (full refund before a notice window,
-- a percentage after it), deposits (a percentage of the price paid up front, the rest due at the
-- appointment), refunds on cancellation and rejection executed by the `booking_refund` job, and
-- Checkout on a tenant's own Stripe account (Stripe Connect, `stripe_account`).
--
-- The refund is decided here, in the cancelling transaction: a trigger on bookings computes the
-- amount from the policy the booker paid under and the moment of cancellation, stores it in
-- slotbase_private.booking_refunds (one row per booking) and queues the job (job_key
-- refund:<booking>). The job only executes it, once (idempotency key per booking; it acts only while
-- no Stripe refund id is recorded).
--
-- Connected accounts: a Checkout session opened on a tenant's account is recorded with that
-- account; a webhook event from a connected account (`account`) is applied only to the session or
-- refund recorded with the same account, so no account can touch another tenant's bookings, and
-- subscription/invoice events from connected accounts never touch the platform's billing.

-- Services: the policy and the deposit -------------------------------------------------------

alter table slotbase.services
  add column cancellation_notice_minutes integer not null default 0,
  add column late_cancellation_refund_percent integer not null default 0,
  add column deposit_percent integer,
  add constraint services_cancellation_notice_minutes_check check (cancellation_notice_minutes between 0 and 525600),
  add constraint services_late_cancellation_refund_percent_check check (late_cancellation_refund_percent between 0 and 100),
  add constraint services_deposit_percent_check check (
    deposit_percent is null or (deposit_percent between 1 and 100 and coalesce(price_cents, 0) > 0)
  );
comment on column slotbase.services.cancellation_notice_minutes is
  'A paid booking cancelled by the booker at least this long before its start is refunded in full; later, late_cancellation_refund_percent of it.';
comment on column slotbase.services.late_cancellation_refund_percent is 'Share (0-100) of the amount paid refunded for a cancellation inside the notice window.';
comment on column slotbase.services.deposit_percent is 'Share (1-100) of the price paid at booking through Checkout; the rest is due at the appointment. null: the full price. Needs a price.';
grant insert (cancellation_notice_minutes, late_cancellation_refund_percent, deposit_percent) on slotbase.services to authenticated;
grant update (cancellation_notice_minutes, late_cancellation_refund_percent, deposit_percent) on slotbase.services to authenticated;

-- Connected accounts -------------------------------------------------------------------------

-- why: the tenant's own Stripe account (Connect), where its booking payments are taken. One
-- account serves one tenant (unique), so events from an account can only belong to one business.
-- Written only through slotbase.set_stripe_account (owners).
create table slotbase_private.stripe_connected_accounts (
  tenant_id uuid not null,
  stripe_account_id text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint stripe_connected_accounts_pkey primary key (tenant_id),
  constraint stripe_connected_accounts_tenant_id_fkey foreign key (tenant_id) references slotbase.tenants (id),
  constraint stripe_connected_accounts_stripe_account_id_key unique (stripe_account_id),
  constraint stripe_connected_accounts_stripe_account_id_check check (stripe_account_id ~ '^acct_[A-Za-z0-9]{1,250}$')
);
alter table slotbase_private.stripe_connected_accounts enable row level security;
alter table slotbase_private.stripe_connected_accounts force row level security;
create trigger _100_timestamps before update on slotbase_private.stripe_connected_accounts
  for each row execute function slotbase_private.tg__set_updated_at();
comment on table slotbase_private.stripe_connected_accounts is 'A tenant''s connected Stripe account (acct_…): its booking Checkout sessions and refunds are made there.';

-- why: owners (tenant-wide) connect or disconnect the tenant's Stripe account. The API checks with
-- Stripe that the account is reachable before calling this. SBVAL for a malformed id, SBACT when
-- another tenant uses it, 42501 for other roles.
create function slotbase.set_stripe_account(p_stripe_account text)
returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_tenant uuid := slotbase.current_tenant_id();
begin
  if slotbase.current_member_role() is null then
    raise exception 'tenant not found' using errcode = 'SBNF1';
  end if;
  if slotbase.current_member_role() <> 'owner' or slotbase.current_member_location_id() is not null then
    raise exception 'only owners connect a Stripe account' using errcode = 'insufficient_privilege';
  end if;
  if p_stripe_account is null then
    delete from slotbase_private.stripe_connected_accounts where tenant_id = v_tenant;
    return null;
  end if;
  if p_stripe_account !~ '^acct_[A-Za-z0-9]{1,250}$' then
    raise exception 'a Stripe account id looks like acct_…' using errcode = 'SBVAL', hint = 'stripe_account';
  end if;
  if exists (select 1 from slotbase_private.stripe_connected_accounts where stripe_account_id = p_stripe_account and tenant_id <> v_tenant) then
    raise exception 'this Stripe account is connected to another business' using errcode = 'SBACT';
  end if;
  insert into slotbase_private.stripe_connected_accounts (tenant_id, stripe_account_id)
  values (v_tenant, p_stripe_account)
  on conflict (tenant_id) do update set stripe_account_id = excluded.stripe_account_id;
  return p_stripe_account;
exception
  when unique_violation then
    raise exception 'this Stripe account is connected to another business' using errcode = 'SBACT';
end
$$;
comment on function slotbase.set_stripe_account(text) is
  'Owners: connect (acct_…) or disconnect (null) the tenant''s Stripe account for booking payments. SBNF1, SBVAL, SBACT, 42501.';

-- why: owners and admins see which account their booking payments go to (GET /v1/billing).
create function slotbase.stripe_account()
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if slotbase.current_member_role() is null or slotbase.current_member_role() not in ('owner', 'admin') then
    return null;
  end if;
  return (select a.stripe_account_id from slotbase_private.stripe_connected_accounts as a where a.tenant_id = slotbase.current_tenant_id());
end
$$;
comment on function slotbase.stripe_account() is 'Owners/admins: the tenant''s connected Stripe account id, or null.';

-- Booking payments: deposit, policy, account, payment intent ----------------------------------

alter table slotbase_private.booking_payments
  add column total_cents integer,
  add column deposit_percent integer,
  add column cancellation_notice_minutes integer not null default 0,
  add column late_cancellation_refund_percent integer not null default 0,
  add column stripe_account text,
  add column payment_intent_id text,
  add constraint booking_payments_deposit_percent_check check (deposit_percent is null or deposit_percent between 1 and 100),
  add constraint booking_payments_late_cancellation_refund_percent_check check (late_cancellation_refund_percent between 0 and 100),
  add constraint booking_payments_stripe_account_check check (stripe_account is null or stripe_account ~ '^acct_[A-Za-z0-9]{1,250}$'),
  add constraint booking_payments_payment_intent_id_check check (payment_intent_id is null or payment_intent_id ~ '^pi_[A-Za-z0-9_]{1,250}$');
update slotbase_private.booking_payments set total_cents = amount_cents;
alter table slotbase_private.booking_payments
  alter column total_cents set not null,
  add constraint booking_payments_total_cents_check check (total_cents >= amount_cents),
  drop constraint booking_payments_status_check,
  add constraint booking_payments_status_check check (status in ('open', 'paid', 'expired', 'paid_too_late', 'paid_twice'));
comment on column slotbase_private.booking_payments.total_cents is 'The booking''s full price (price × party size); amount_cents is what this session charges (the deposit, or all of it).';
comment on column slotbase_private.booking_payments.stripe_account is 'The connected account the session was opened on (null: the platform account). Events must come from the same account.';
comment on column slotbase_private.booking_payments.cancellation_notice_minutes is 'The service''s cancellation policy when the booker paid (what the manage page showed).';
comment on column slotbase_private.booking_payments.status is 'open, paid, expired, paid_too_late (paid after the hold expired: refunded) or paid_twice (a second paid session: refunded).';

drop function slotbase_private.booking_checkout_details(text, text);
drop function slotbase_private.record_booking_checkout(uuid, uuid, text, integer, text);
drop function slotbase_private.apply_booking_payment(uuid, uuid, text, boolean);

-- why: what the API needs to open a booking's Checkout session: the booker proves the booking
-- with its code and manage token (SBNF1 otherwise); only a held booking of a priced service can be
-- paid (SBTRN otherwise). amount_cents is what Checkout charges now: the deposit share of the total
-- (rounded half up, at least 1) or the total. stripe_account: the tenant's connected account.
create function slotbase_private.booking_checkout_details(p_code text, p_manage_token text)
returns table (
  tenant_id uuid, booking_id uuid, code text, service_name text, amount_cents integer, currency text,
  hold_expires_at timestamptz, contact_email text, total_cents integer, deposit_percent integer,
  cancellation_notice_minutes integer, late_cancellation_refund_percent integer, stripe_account text
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_booking slotbase.bookings;
begin
  select * into v_booking from slotbase.bookings as b
  where b.code = upper(btrim(p_code)) and b.manage_token_hash = slotbase_private.hash_token(p_manage_token) and b.deleted_at is null;
  if not found then
    raise exception 'booking not found' using errcode = 'SBNF1';
  end if;
  if v_booking.status <> 'held' or v_booking.hold_expires_at <= pg_catalog.now() then
    raise exception 'only a held booking can be paid' using errcode = 'SBTRN';
  end if;
  return query
  select v_booking.tenant_id, v_booking.id, v_booking.code, s.name,
         case when s.deposit_percent is null then s.price_cents * v_booking.party_size
              else greatest(1, round(s.price_cents * v_booking.party_size * s.deposit_percent / 100.0)::integer) end,
         s.currency, v_booking.hold_expires_at, v_booking.contact_email,
         s.price_cents * v_booking.party_size, s.deposit_percent, s.cancellation_notice_minutes, s.late_cancellation_refund_percent,
         (select a.stripe_account_id from slotbase_private.stripe_connected_accounts as a where a.tenant_id = v_booking.tenant_id)
  from slotbase.services as s
  where s.tenant_id = v_booking.tenant_id and s.id = v_booking.service_id and s.price_cents > 0;
  if not found then
    raise exception 'this booking has nothing to pay' using errcode = 'SBTRN';
  end if;
end
$$;
comment on function slotbase_private.booking_checkout_details(text, text) is
  'slotbase_api only: the amount to charge now (deposit or total), total, policy and connected account of a held, priced booking by code and manage token. SBNF1, SBTRN.';

-- why: the API records each Checkout session it opened for a booking, with the amounts, the policy
-- the booker saw and the account it was opened on (the job matches events to it, account included).
create function slotbase_private.record_booking_checkout(
  p_tenant_id uuid, p_booking_id uuid, p_session_id text, p_amount_cents integer, p_currency text,
  p_total_cents integer, p_deposit_percent integer, p_cancellation_notice_minutes integer,
  p_late_cancellation_refund_percent integer, p_stripe_account text
)
returns void
language sql
volatile
security definer
set search_path = ''
as $$
  insert into slotbase_private.booking_payments (
    checkout_session_id, tenant_id, booking_id, amount_cents, currency, total_cents, deposit_percent,
    cancellation_notice_minutes, late_cancellation_refund_percent, stripe_account
  )
  values (p_session_id, p_tenant_id, p_booking_id, p_amount_cents, p_currency, p_total_cents, p_deposit_percent,
          p_cancellation_notice_minutes, p_late_cancellation_refund_percent, p_stripe_account)
  on conflict (checkout_session_id) do nothing
$$;
comment on function slotbase_private.record_booking_checkout(uuid, uuid, text, integer, text, integer, integer, integer, integer, text) is
  'slotbase_api only: records a Checkout session opened for a booking (amounts, policy, connected account).';

-- why: checkout.session.completed/expired of a booking. The session must be one the API recorded
-- for this booking on the account the event came from (p_stripe_account, null = the platform):
-- the tenant is the recorded one, never taken from the event, so a connected account cannot reach
-- another tenant's booking. A paid session confirms the hold (pending when the service needs
-- approval) and records the payment intent; paid after the hold ended → paid_too_late; a second
-- paid session of a booking already paid → paid_twice (both refunded by the job).
create function slotbase_private.apply_booking_payment(
  p_booking_id uuid, p_session_id text, p_paid boolean, p_payment_intent text, p_stripe_account text
)
returns table (outcome text, tenant_id uuid, stripe_account text)
language plpgsql
volatile
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_payment slotbase_private.booking_payments;
  v_booking slotbase.bookings;
  v_approval boolean;
begin
  select * into v_payment from slotbase_private.booking_payments as p
  where p.checkout_session_id = p_session_id and p.booking_id = p_booking_id
    and p.stripe_account is not distinct from p_stripe_account
  for update;
  if not found then
    return query select 'unmatched'::text, null::uuid, null::text;
    return;
  end if;
  select * into v_booking from slotbase.bookings as b where b.tenant_id = v_payment.tenant_id and b.id = p_booking_id for update;
  if not found then
    return query select 'unmatched'::text, null::uuid, null::text;
    return;
  end if;
  if not p_paid then
    update slotbase_private.booking_payments as p set status = 'expired' where p.checkout_session_id = p_session_id and p.status = 'open';
    -- The session ended unpaid: release the slot now rather than at hold_expires_at.
    if v_booking.status = 'held' then
      update slotbase.bookings as b set status = 'expired', status_reason = 'checkout_expired' where b.tenant_id = v_booking.tenant_id and b.id = p_booking_id;
    end if;
    return query select 'applied'::text, v_payment.tenant_id, v_payment.stripe_account;
    return;
  end if;
  if v_payment.status in ('paid', 'paid_too_late', 'paid_twice') then
    return query select 'applied'::text, v_payment.tenant_id, v_payment.stripe_account;
    return;
  end if;
  if v_booking.status <> 'held' then
    update slotbase_private.booking_payments as p
    set status = case when v_booking.status in ('confirmed', 'pending', 'completed', 'no_show') then 'paid_twice' else 'paid_too_late' end,
        payment_intent_id = coalesce(p_payment_intent, p.payment_intent_id)
    where p.checkout_session_id = p_session_id;
    return query select case when v_booking.status in ('confirmed', 'pending', 'completed', 'no_show') then 'paid_twice' else 'paid_too_late' end,
                        v_payment.tenant_id, v_payment.stripe_account;
    return;
  end if;
  select s.requires_approval into v_approval from slotbase.services as s where s.tenant_id = v_booking.tenant_id and s.id = v_booking.service_id;
  update slotbase_private.booking_payments as p set status = 'paid', payment_intent_id = coalesce(p_payment_intent, p.payment_intent_id)
  where p.checkout_session_id = p_session_id;
  update slotbase.bookings as b set status = case when v_approval then 'pending' else 'confirmed' end
  where b.tenant_id = v_booking.tenant_id and b.id = p_booking_id;
  return query select 'applied'::text, v_payment.tenant_id, v_payment.stripe_account;
end
$$;
comment on function slotbase_private.apply_booking_payment(uuid, text, boolean, text, text) is
  'stripe_event job: a paid Checkout (recorded for this booking on this account) confirms the held booking; an expired one releases it. Outcome applied, paid_too_late, paid_twice or unmatched, with the recorded tenant and account.';

-- Refunds ------------------------------------------------------------------------------------

-- A refund names its payment with the tenant (composite key), like every reference between
-- tenant-owned rows: it can never point at another tenant's payment.
alter table slotbase_private.booking_payments
  add constraint booking_payments_tenant_id_checkout_session_id_key unique (tenant_id, checkout_session_id);

-- why: the refund owed for a cancelled or rejected paid booking, decided once in the cancelling
-- transaction and executed by the booking_refund job. One per booking (a booking is cancelled once).
-- stripe_refund_id is set once Stripe accepted it: a retried job that finds it does nothing.
create table slotbase_private.booking_refunds (
  tenant_id uuid not null,
  booking_id uuid not null,
  checkout_session_id text not null,
  payment_intent_id text,
  stripe_account text,
  currency text not null,
  paid_cents integer not null,
  amount_cents integer not null,
  basis text not null,
  status text not null default 'queued',
  stripe_refund_id text,
  error text,
  last_event_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint booking_refunds_pkey primary key (tenant_id, booking_id),
  constraint booking_refunds_booking_id_fkey foreign key (tenant_id, booking_id) references slotbase.bookings (tenant_id, id) on delete cascade,
  constraint booking_refunds_checkout_session_id_fkey foreign key (tenant_id, checkout_session_id) references slotbase_private.booking_payments (tenant_id, checkout_session_id),
  constraint booking_refunds_stripe_refund_id_key unique (stripe_refund_id),
  constraint booking_refunds_amount_cents_check check (amount_cents between 0 and paid_cents),
  constraint booking_refunds_basis_check check (basis in ('before_notice', 'late', 'staff_cancelled', 'rejected')),
  constraint booking_refunds_status_check check (status in ('queued', 'none', 'pending', 'requires_action', 'succeeded', 'failed', 'canceled')),
  constraint booking_refunds_none_check check ((status = 'none') = (amount_cents = 0))
);
alter table slotbase_private.booking_refunds enable row level security;
alter table slotbase_private.booking_refunds force row level security;
create trigger _100_timestamps before update on slotbase_private.booking_refunds
  for each row execute function slotbase_private.tg__set_updated_at();
comment on table slotbase_private.booking_refunds is 'Refunds of cancelled or rejected paid bookings: the amount decided at cancellation, and what Stripe made of it.';
comment on column slotbase_private.booking_refunds.basis is 'before_notice (booker, in time: all), late (booker, inside the notice window: the late share), staff_cancelled or rejected (all).';
comment on column slotbase_private.booking_refunds.status is 'queued (job to run), none (nothing to refund), then Stripe''s refund status: pending, requires_action, succeeded, failed, canceled.';

-- why: one definition of "what would the booker get back now", for the cancelling trigger and for
-- the manage page (which shows it before the booker cancels). By the booker: everything paid up to
-- starts_at − notice, the late share (rounded down) after; by staff or a rejection: everything.
create function slotbase_private.refund_quote(p_tenant_id uuid, p_booking_id uuid, p_by_staff boolean)
returns table (
  checkout_session_id text, payment_intent_id text, stripe_account text, currency text, paid_cents integer,
  total_cents integer, deposit_percent integer, cancellation_notice_minutes integer,
  late_cancellation_refund_percent integer, full_refund_until timestamptz, amount_cents integer, basis text
)
language sql
stable
security definer
set search_path = ''
as $$
  select p.checkout_session_id, p.payment_intent_id, p.stripe_account, p.currency, p.amount_cents,
         p.total_cents, p.deposit_percent, p.cancellation_notice_minutes, p.late_cancellation_refund_percent,
         b.starts_at - make_interval(mins => p.cancellation_notice_minutes),
         case when p_by_staff or pg_catalog.now() < b.starts_at - make_interval(mins => p.cancellation_notice_minutes) then p.amount_cents
              else (p.amount_cents * p.late_cancellation_refund_percent) / 100 end,
         case when p_by_staff then 'staff_cancelled'
              when pg_catalog.now() < b.starts_at - make_interval(mins => p.cancellation_notice_minutes) then 'before_notice'
              else 'late' end
  from slotbase.bookings as b
  join slotbase_private.booking_payments as p on p.tenant_id = b.tenant_id and p.booking_id = b.id and p.status = 'paid'
  where b.tenant_id = p_tenant_id and b.id = p_booking_id
  order by p.created_at desc, p.checkout_session_id
  limit 1
$$;
comment on function slotbase_private.refund_quote(uuid, uuid, boolean) is
  'The refund a paid booking would get if cancelled now, by the booker (policy) or by staff (all); no row when nothing was paid.';

-- why: a paid booking that is cancelled or rejected owes a refund: decided here, in the same
-- transaction, and queued as a job (the outbox). Who cancels decides the rule: a rejection, a
-- member of staff (or an operator/worker without claims) refunds everything; the booker (manage
-- token, or a registered customer) gets what the policy says at this moment.
create function slotbase_private.tg_bookings__refund()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_by_staff boolean := new.status = 'rejected'
    or slotbase_private.is_staff_of(new.tenant_id, new.location_id)
    or coalesce(slotbase.jwt_claims() ->> 'role', '') not in ('anon', 'authenticated');
  v_quote record;
begin
  select * into v_quote from slotbase_private.refund_quote(new.tenant_id, new.id, v_by_staff);
  if not found then
    return null;
  end if;
  insert into slotbase_private.booking_refunds (
    tenant_id, booking_id, checkout_session_id, payment_intent_id, stripe_account, currency, paid_cents, amount_cents, basis, status
  ) values (
    new.tenant_id, new.id, v_quote.checkout_session_id, v_quote.payment_intent_id, v_quote.stripe_account, v_quote.currency,
    v_quote.paid_cents, v_quote.amount_cents,
    case when new.status = 'rejected' then 'rejected' else v_quote.basis end,
    case when v_quote.amount_cents = 0 then 'none' else 'queued' end
  )
  on conflict (tenant_id, booking_id) do nothing;
  if found and v_quote.amount_cents > 0 then
    perform graphile_worker.add_job('booking_refund', pg_catalog.json_build_object('tenant_id', new.tenant_id, 'booking_id', new.id),
                                    job_key => 'refund:' || new.id, max_attempts => 25);
  end if;
  return null;
end
$$;
create trigger _410_refund after update of status on slotbase.bookings
  for each row when (old.status in ('pending', 'confirmed') and new.status in ('cancelled', 'rejected'))
  execute function slotbase_private.tg_bookings__refund();

-- why: the booking_refund job records what Stripe answered, once: only while no refund id is set.
create function slotbase_private.record_booking_refund(p_tenant_id uuid, p_booking_id uuid, p_refund_id text, p_status text, p_error text)
returns boolean
language sql
volatile
security definer
set search_path = ''
as $$
  with done as (
    update slotbase_private.booking_refunds
    set stripe_refund_id = p_refund_id, status = p_status, error = p_error
    where tenant_id = p_tenant_id and booking_id = p_booking_id and stripe_refund_id is null and status = 'queued'
    returning 1
  )
  select exists (select 1 from done)
$$;
comment on function slotbase_private.record_booking_refund(uuid, uuid, text, text, text) is
  'booking_refund job: stores Stripe''s refund id and status (or failed with an error) for a queued refund; false when already recorded.';

-- why: refund.updated / refund.failed from Stripe: the refund's status, matched by refund id and
-- by the account the event came from, and never older than the newest event applied.
create function slotbase_private.apply_refund_update(p_stripe_account text, p_refund_id text, p_status text, p_event_at timestamptz)
returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_row slotbase_private.booking_refunds;
begin
  select * into v_row from slotbase_private.booking_refunds
  where stripe_refund_id = p_refund_id and stripe_account is not distinct from p_stripe_account
  for update;
  if not found or p_status not in ('pending', 'requires_action', 'succeeded', 'failed', 'canceled') then
    return 'unmatched';
  end if;
  if v_row.last_event_at is not null and v_row.last_event_at > p_event_at then
    return 'stale';
  end if;
  update slotbase_private.booking_refunds set status = p_status, last_event_at = p_event_at
  where tenant_id = v_row.tenant_id and booking_id = v_row.booking_id;
  return 'applied';
end
$$;
comment on function slotbase_private.apply_refund_update(text, text, text, timestamptz) is
  'stripe_event job: timestamp-guarded refund status from refund.updated/refund.failed; applied, stale or unmatched.';

-- Reading payments ---------------------------------------------------------------------------

-- why: one summary of a booking's money for staff and for the booker: the total, what was paid,
-- what is due at the appointment, the policy, the refund decided (if any), and what cancelling now
-- would refund (by the booker's rule).
create function slotbase_private.booking_payment_summary(p_booking slotbase.bookings)
returns table (
  booking_id uuid, currency text, amount_total_cents integer, amount_paid_cents integer, amount_due_cents integer,
  deposit_percent integer, cancellation_notice_minutes integer, late_cancellation_refund_percent integer,
  full_refund_until timestamptz, refund_if_cancelled_cents integer, refund jsonb
)
language sql
stable
security definer
set search_path = ''
as $$
  select p_booking.id,
         coalesce(pay.currency, s.currency),
         coalesce(pay.total_cents, s.price_cents * p_booking.party_size),
         coalesce(pay.amount_cents, 0),
         case when p_booking.status in ('held', 'pending', 'confirmed', 'completed', 'no_show')
              then greatest(0, coalesce(pay.total_cents, s.price_cents * p_booking.party_size) - coalesce(pay.amount_cents, 0)) else 0 end,
         coalesce(pay.deposit_percent, s.deposit_percent),
         coalesce(pay.cancellation_notice_minutes, s.cancellation_notice_minutes),
         coalesce(pay.late_cancellation_refund_percent, s.late_cancellation_refund_percent),
         q.full_refund_until,
         case when p_booking.status in ('pending', 'confirmed') then coalesce(q.amount_cents, 0) end,
         (select jsonb_build_object('amount_cents', r.amount_cents, 'status', r.status, 'basis', r.basis, 'stripe_refund_id', r.stripe_refund_id)
          from slotbase_private.booking_refunds as r where r.tenant_id = p_booking.tenant_id and r.booking_id = p_booking.id)
  from slotbase.services as s
  left join lateral (
    select p.* from slotbase_private.booking_payments as p
    where p.tenant_id = p_booking.tenant_id and p.booking_id = p_booking.id and p.status = 'paid'
    order by p.created_at desc, p.checkout_session_id limit 1
  ) as pay on true
  left join lateral slotbase_private.refund_quote(p_booking.tenant_id, p_booking.id, false) as q on true
  where s.tenant_id = p_booking.tenant_id and s.id = p_booking.service_id
$$;
comment on function slotbase_private.booking_payment_summary(slotbase.bookings) is 'Money of one booking: total, paid, due at the appointment, policy, refund decided, refund if cancelled now.';

-- why: staff (in scope) see a booking's payment; everyone else gets not_found (SBNF1).
create function slotbase.booking_payment(p_booking_id uuid)
returns table (
  booking_id uuid, currency text, amount_total_cents integer, amount_paid_cents integer, amount_due_cents integer,
  deposit_percent integer, cancellation_notice_minutes integer, late_cancellation_refund_percent integer,
  full_refund_until timestamptz, refund_if_cancelled_cents integer, refund jsonb
)
language sql
stable
security definer
set search_path = ''
as $$
  select * from slotbase_private.booking_payment_summary(slotbase_private.authorize_booking(p_booking_id, null, 'view'))
$$;
comment on function slotbase.booking_payment(uuid) is 'Staff: the booking''s money (total, paid, due at the appointment, policy, refund). SBNF1.';

-- why: the booker's manage page shows what was paid, what is due, and what cancelling now would
-- refund, before they cancel. Only code + manage token open it (SBNF1 otherwise).
create function slotbase.public_booking_payment(p_code text, p_manage_token text)
returns table (
  booking_id uuid, currency text, amount_total_cents integer, amount_paid_cents integer, amount_due_cents integer,
  deposit_percent integer, cancellation_notice_minutes integer, late_cancellation_refund_percent integer,
  full_refund_until timestamptz, refund_if_cancelled_cents integer, refund jsonb
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_booking slotbase.bookings;
begin
  select * into v_booking from slotbase.bookings as b
  where b.code = upper(btrim(p_code)) and b.manage_token_hash = slotbase_private.hash_token(p_manage_token) and b.deleted_at is null;
  if not found then
    raise exception 'booking not found' using errcode = 'SBNF1';
  end if;
  return query select * from slotbase_private.booking_payment_summary(v_booking);
end
$$;
comment on function slotbase.public_booking_payment(text, text) is 'The booker (code + manage token): paid, due, policy and the refund if cancelled now. SBNF1.';

-- why: the cancellation and rejection mails say what is refunded (worker).
create function slotbase_private.booking_refund_of(p_tenant_id uuid, p_booking_id uuid)
returns table (amount_cents integer, paid_cents integer, currency text, basis text, status text)
language sql
stable
security definer
set search_path = ''
as $$
  select r.amount_cents, r.paid_cents, r.currency, r.basis, r.status
  from slotbase_private.booking_refunds as r
  where r.tenant_id = p_tenant_id and r.booking_id = p_booking_id
$$;
comment on function slotbase_private.booking_refund_of(uuid, uuid) is 'Worker: the refund decided for a booking, if any.';

revoke execute on all functions in schema slotbase, slotbase_private from public;
grant execute on function slotbase.set_stripe_account(text), slotbase.stripe_account(), slotbase.booking_payment(uuid) to authenticated;
grant execute on function slotbase.public_booking_payment(text, text) to anon, authenticated;
grant execute on function slotbase_private.booking_checkout_details(text, text) to slotbase_api;
grant execute on function slotbase_private.record_booking_checkout(uuid, uuid, text, integer, text, integer, integer, integer, integer, text) to slotbase_api;
