-- Paid services: when the deployment collects booking payments (billing_settings
-- .collect_booking_payments, with Stripe configured), a PUBLIC booking of a service with a price
-- is always created `held`, whatever the caller asked for, and lives at least 31 minutes (a Stripe
-- Checkout session cannot expire sooner than 30). The booker pays through a Checkout session in
-- payment mode whose metadata carries the booking id; the stripe_event job confirms the booking on
-- checkout.session.completed (pending when the service needs approval) and expires it on
-- checkout.session.expired; the hold's own job releases it at hold_expires_at in any case. Staff
-- bookings are not held (staff take payment their own way).

alter table slotbase_private.billing_settings add column collect_booking_payments boolean not null default false;
comment on column slotbase_private.billing_settings.collect_booking_payments is
  'Public bookings of priced services are held until paid through Stripe Checkout.';

-- why: what a booking's Checkout sessions were, and what became of them; written by the API
-- (record_booking_checkout) and the stripe_event job only.
create table slotbase_private.booking_payments (
  checkout_session_id text not null,
  tenant_id uuid not null,
  booking_id uuid not null,
  amount_cents integer not null,
  currency text not null,
  status text not null default 'open',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint booking_payments_pkey primary key (checkout_session_id),
  constraint booking_payments_booking_id_fkey foreign key (tenant_id, booking_id) references slotbase.bookings (tenant_id, id) on delete cascade,
  constraint booking_payments_checkout_session_id_check check (checkout_session_id ~ '^cs_[A-Za-z0-9_]{1,250}$'),
  constraint booking_payments_amount_cents_check check (amount_cents >= 0),
  constraint booking_payments_currency_check check (currency ~ '^[A-Z]{3}$'),
  constraint booking_payments_status_check check (status in ('open', 'paid', 'expired', 'paid_too_late'))
);
alter table slotbase_private.booking_payments enable row level security;
alter table slotbase_private.booking_payments force row level security;
create index booking_payments_tenant_id_booking_id_idx on slotbase_private.booking_payments (tenant_id, booking_id);
create trigger _100_timestamps before update on slotbase_private.booking_payments
  for each row execute function slotbase_private.tg__set_updated_at();
comment on table slotbase_private.booking_payments is 'Stripe Checkout sessions of paid bookings and their outcome.';
comment on column slotbase_private.booking_payments.status is 'open, paid, expired, or paid_too_late (paid after the hold had expired: refund it).';

-- why: a public booking of a priced service is not confirmed before it is paid, whichever
-- function or flag created it: the row is turned into a hold here.
create function slotbase_private.tg_bookings__paid_hold()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.source = 'public'
     and exists (select 1 from slotbase_private.billing_settings where collect_booking_payments)
     and exists (
       select 1 from slotbase.services as s
       where s.tenant_id = new.tenant_id and s.id = new.service_id and s.price_cents > 0
     ) then
    new.status := 'held';
    new.hold_expires_at := greatest(coalesce(new.hold_expires_at, pg_catalog.now()), pg_catalog.now() + interval '31 minutes');
  end if;
  return new;
end
$$;
create trigger _060_paid_hold before insert on slotbase.bookings
  for each row execute function slotbase_private.tg_bookings__paid_hold();

-- why: what the API needs to open a booking's Checkout session: the booker proves the booking
-- with its code and manage token (SBNF1 otherwise); only a held booking of a priced service can be
-- paid (SBTRN otherwise). Executable by slotbase_api only.
create function slotbase_private.booking_checkout_details(p_code text, p_manage_token text)
returns table (
  tenant_id uuid, booking_id uuid, code text, service_name text, amount_cents integer, currency text,
  hold_expires_at timestamptz, contact_email text
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
  select v_booking.tenant_id, v_booking.id, v_booking.code, s.name, s.price_cents * v_booking.party_size, s.currency,
         v_booking.hold_expires_at, v_booking.contact_email
  from slotbase.services as s
  where s.tenant_id = v_booking.tenant_id and s.id = v_booking.service_id and s.price_cents > 0;
  if not found then
    raise exception 'this booking has nothing to pay' using errcode = 'SBTRN';
  end if;
end
$$;
comment on function slotbase_private.booking_checkout_details(text, text) is
  'slotbase_api only: the amount and hold of a held, priced booking by code and manage token. SBNF1, SBTRN.';

-- why: the API records each Checkout session it opened for a booking (the job matches events to it).
create function slotbase_private.record_booking_checkout(p_tenant_id uuid, p_booking_id uuid, p_session_id text, p_amount_cents integer, p_currency text)
returns void
language sql
volatile
security definer
set search_path = ''
as $$
  insert into slotbase_private.booking_payments (checkout_session_id, tenant_id, booking_id, amount_cents, currency)
  values (p_session_id, p_tenant_id, p_booking_id, p_amount_cents, p_currency)
  on conflict (checkout_session_id) do nothing
$$;
comment on function slotbase_private.record_booking_checkout(uuid, uuid, text, integer, text) is 'slotbase_api only: records a Checkout session opened for a booking.';

-- why: checkout.session.completed of a booking: the hold becomes the booking (confirmed, or
-- pending when the service needs approval), whose triggers queue the confirmation. A booking that
-- is no longer held (its hold expired first) is not revived: the payment is marked paid_too_late.
create function slotbase_private.apply_booking_payment(p_tenant_id uuid, p_booking_id uuid, p_session_id text, p_paid boolean)
returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_booking slotbase.bookings;
  v_approval boolean;
begin
  select * into v_booking from slotbase.bookings where tenant_id = p_tenant_id and id = p_booking_id for update;
  if not found then
    return 'unmatched';
  end if;
  if not p_paid then
    update slotbase_private.booking_payments set status = 'expired' where checkout_session_id = p_session_id and status = 'open';
    -- The session ended unpaid: release the slot now rather than at hold_expires_at.
    if v_booking.status = 'held' then
      update slotbase.bookings set status = 'expired', status_reason = 'checkout_expired' where tenant_id = p_tenant_id and id = p_booking_id;
    end if;
    return 'applied';
  end if;
  if v_booking.status <> 'held' then
    update slotbase_private.booking_payments set status = case when v_booking.status in ('confirmed', 'pending', 'completed') then 'paid' else 'paid_too_late' end
    where checkout_session_id = p_session_id;
    return case when v_booking.status in ('confirmed', 'pending', 'completed') then 'applied' else 'paid_too_late' end;
  end if;
  select s.requires_approval into v_approval from slotbase.services as s where s.tenant_id = p_tenant_id and s.id = v_booking.service_id;
  update slotbase_private.booking_payments set status = 'paid' where checkout_session_id = p_session_id;
  update slotbase.bookings set status = case when v_approval then 'pending' else 'confirmed' end
  where tenant_id = p_tenant_id and id = p_booking_id;
  return 'applied';
end
$$;
comment on function slotbase_private.apply_booking_payment(uuid, uuid, text, boolean) is
  'stripe_event job: a paid Checkout confirms the held booking; an expired one releases it. Returns applied, paid_too_late or unmatched.';

revoke execute on all functions in schema slotbase, slotbase_private from public;
grant execute on function slotbase_private.booking_checkout_details(text, text) to slotbase_api;
grant execute on function slotbase_private.record_booking_checkout(uuid, uuid, text, integer, text) to slotbase_api;
