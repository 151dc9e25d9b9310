import { randomUUID } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import { ANON, withSession } from '#src/db/session.ts';
import { HANDLED_EVENT_TYPES, stripeErrorOf, type StripeBilling } from '#src/lib/stripe-billing.ts';
import { requireMember } from '../../auth.ts';
import { createRouter } from '../../create-router.ts';
import type { AppEnv } from '../../env.ts';
import { ProblemError } from '../../problem.ts';
import { memberOnly } from '../../staff.ts';
import {
  createBookingCheckout,
  createCheckout,
  createPortal,
  getBilling,
  getBookingPayment,
  getPublicBookingPayment,
  listPlans,
  setStripeAccount,
  stripeWebhook,
} from './billing.routes.ts';

/** Route middleware: 501 billing_not_configured when this server has no Stripe configuration. */
const billingConfigured = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.var.deps.stripe) throw new ProblemError(501, 'billing_not_configured', 'Billing is not configured on this server');
  await next();
});

const stripeOf = (c: { var: { deps: { stripe?: StripeBilling } } }): StripeBilling => {
  if (!c.var.deps.stripe) throw new ProblemError(501, 'billing_not_configured', 'Billing is not configured on this server');
  return c.var.deps.stripe;
};

/** Verified events by request: the signature is checked over the raw bytes before the JSON validator parses them. */
const verifiedEvents = new WeakMap<Request, ReturnType<StripeBilling['client']['webhooks']['constructEvent']>>();

/**
 * Route middleware of the webhook: reads the raw body first (Hono caches it, so the validator
 * parses these same bytes) and verifies Stripe-Signature over it; 400 invalid_signature otherwise.
 */
const verifyStripeSignature = createMiddleware<AppEnv>(async (c, next) => {
  const stripe = stripeOf(c);
  const raw = await c.req.text();
  const signature = c.req.header('stripe-signature');
  if (!signature) throw new ProblemError(400, 'invalid_signature', 'The Stripe-Signature header is missing');
  // The platform endpoint's secret, then the Connect endpoint's (events from connected accounts).
  for (const secret of [stripe.webhookSecret, stripe.connectWebhookSecret]) {
    if (!secret) continue;
    try {
      verifiedEvents.set(c.req.raw, stripe.client.webhooks.constructEvent(raw, signature, secret));
      return await next();
    } catch {
      // try the next secret
    }
  }
  throw new ProblemError(400, 'invalid_signature', 'The Stripe signature does not match the body, or it is too old');
});

/** A Stripe call; Stripe's failures become 502 problems (never a 500, never Stripe's own message). */
async function callStripe<T>(c: { var: { deps: AppEnv['Variables']['deps']; requestId: string } }, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const stripeError = stripeErrorOf(error);
    if (!stripeError) throw error;
    c.var.deps.logger.warn({ err: error, requestId: c.var.requestId, stripeRequestId: stripeError.requestId, what }, 'Stripe request failed');
    if (stripeError.type === 'StripeConnectionError' || (stripeError.statusCode ?? 500) >= 500) {
      throw new ProblemError(502, 'stripe_unavailable', 'Stripe could not be reached; try again shortly');
    }
    throw new ProblemError(502, 'stripe_error', 'Stripe refused the request; the billing configuration may be wrong');
  }
}

interface Overview {
  plan: string;
  subscription_status: string | null;
  stripe_customer_id: string | null;
  email: string | null;
}

/** The caller's billing row (owners and admins only: billing_overview raises 42501 for others). */
async function overviewOf(c: Parameters<typeof requireMember>[0] & { var: { deps: AppEnv['Variables']['deps'] } }): Promise<Overview> {
  const caller = requireMember(c);
  const [row] = await withSession(c.var.deps.sql, caller, (tx) => tx<Overview[]>`
    select o.plan, o.subscription_status, o.stripe_customer_id,
           (select u.email from slotbase.users as u where u.id = slotbase.current_user_id()) as email
    from slotbase.billing_overview() as o`);
  if (!row) throw new ProblemError(404, 'not_found', 'Tenant not found');
  return row;
}

const baseUrlOf = (c: { req: { url: string }; var: { deps: { publicUrl?: string } } }) =>
  (c.var.deps.publicUrl ?? new URL(c.req.url).origin).replace(/\/+$/, '');

/** "1 day 2 hours"-style notice, in whole minutes as services store it. */
function noticeText(minutes: number): string {
  const parts: [number, string][] = [[Math.floor(minutes / 1440), 'day'], [Math.floor((minutes % 1440) / 60), 'hour'], [minutes % 60, 'minute']];
  return parts.filter(([n]) => n > 0).map(([n, unit]) => `${n} ${unit}${n === 1 ? '' : 's'}`).join(' ');
}

/** The cancellation policy (and the deposit) as Checkout shows it above the pay button. */
function policyText(b: { cancellation_notice_minutes: number; late_cancellation_refund_percent: number; deposit_percent: number | null }, deposit: boolean): string {
  const until = b.cancellation_notice_minutes > 0 ? `up to ${noticeText(b.cancellation_notice_minutes)} before the appointment` : 'up to the start of the appointment';
  const late = b.late_cancellation_refund_percent === 0 ? 'later cancellations are not refunded' : `later cancellations get ${b.late_cancellation_refund_percent}% back`;
  const rest = deposit ? `This is a ${b.deposit_percent}% deposit; the rest is due at the appointment. ` : '';
  return `${rest}Cancel ${until} for a full refund of what you pay now; ${late}.`;
}

const withBilling = { middleware: [memberOnly, billingConfigured] };

export const billingRouter = createRouter()
  .openapi(listPlans, async (c) => {
    const data = await withSession(c.var.deps.sql, ANON, (tx) => tx`
      select id, name, max_providers, max_locations, max_bookings_per_month, max_webhook_endpoints, max_sms_per_month
      from slotbase.plans order by sort_order, id`);
    return c.json({ data: [...data] as never[] }, 200);
  })
  .openapi({ ...getBilling, ...withBilling }, async (c) => {
    const caller = requireMember(c);
    const [row] = await withSession(c.var.deps.sql, caller, (tx) => tx`select *, slotbase.stripe_account() as stripe_account from slotbase.billing_overview()`);
    if (!row) throw new ProblemError(404, 'not_found', 'Tenant not found');
    return c.json(JSON.parse(JSON.stringify(row)), 200);
  })
  .openapi({ ...createCheckout, ...withBilling }, async (c) => {
    const { tenantId } = requireMember(c);
    const stripe = stripeOf(c);
    const { plan } = c.req.valid('json');
    const key = c.req.valid('header')['idempotency-key'];
    const billing = await overviewOf(c);
    if (billing.subscription_status && ['active', 'trialing', 'past_due', 'unpaid'].includes(billing.subscription_status)) {
      throw new ProblemError(409, 'subscription_exists', 'This tenant already has a subscription; change plans in the billing portal');
    }
    const base = baseUrlOf(c);
    const metadata = { tenant_id: tenantId, plan };
    const session = await callStripe(c, 'checkout.sessions.create', () =>
      stripe.client.checkout.sessions.create(
        {
          mode: 'subscription',
          line_items: [{ price: stripe.prices[plan], quantity: 1 }],
          client_reference_id: tenantId,
          metadata,
          subscription_data: { metadata },
          ...(billing.stripe_customer_id ? { customer: billing.stripe_customer_id } : billing.email ? { customer_email: billing.email } : {}),
          success_url: `${base}/console?billing=success&session_id={CHECKOUT_SESSION_ID}`,
          cancel_url: `${base}/console?billing=cancelled`,
        },
        { idempotencyKey: `slotbase:checkout:${tenantId}:${key ?? randomUUID()}` },
      ),
    );
    if (!session.url) throw new ProblemError(502, 'stripe_error', 'Stripe returned no Checkout URL');
    return c.json({ id: session.id, url: session.url }, 200);
  })
  .openapi({ ...createPortal, ...withBilling }, async (c) => {
    const stripe = stripeOf(c);
    const billing = await overviewOf(c);
    if (!billing.stripe_customer_id) {
      throw new ProblemError(409, 'no_billing_customer', 'Subscribe to a plan first (POST /v1/billing/checkout)');
    }
    const customer = billing.stripe_customer_id;
    const session = await callStripe(c, 'billingPortal.sessions.create', () =>
      stripe.client.billingPortal.sessions.create({ customer, return_url: `${baseUrlOf(c)}/console` }),
    );
    return c.json({ id: session.id, url: session.url }, 200);
  })
  .openapi({ ...createBookingCheckout, middleware: [billingConfigured] }, async (c) => {
    const stripe = stripeOf(c);
    const { code } = c.req.valid('param');
    const token = c.req.valid('query').token ?? c.req.valid('header')['x-manage-token'];
    if (!token) throw new ProblemError(404, 'not_found', 'Booking not found');
    // As slotbase_api: the booker holds no session; the code and manage token are the proof.
    const [booking] = await c.var.deps.sql<{
      tenant_id: string; booking_id: string; code: string; service_name: string; amount_cents: number; currency: string;
      hold_expires_at: Date; contact_email: string | null; total_cents: number; deposit_percent: number | null;
      cancellation_notice_minutes: number; late_cancellation_refund_percent: number; stripe_account: string | null;
    }[]>`select * from slotbase_private.booking_checkout_details(${code}, ${token})`;
    if (!booking) throw new ProblemError(404, 'not_found', 'Booking not found');
    // Stripe expires a session 30 minutes after creation at the earliest: a booker who comes back
    // late gets a session that outlives the hold, and a payment after the hold is refunded (job).
    const expiresAt = Math.max(Math.floor(booking.hold_expires_at.getTime() / 1000), Math.ceil(Date.now() / 1000) + 30 * 60 + 30);
    // A deposit charges its share now; the rest is due at the appointment (both in the metadata).
    const deposit = booking.deposit_percent !== null;
    const metadata = {
      booking_id: booking.booking_id,
      tenant_id: booking.tenant_id,
      amount_total_cents: String(booking.total_cents),
      amount_due_cents: String(booking.total_cents - booking.amount_cents),
      ...(deposit ? { deposit_percent: String(booking.deposit_percent) } : {}),
    };
    const base = baseUrlOf(c);
    const name = deposit ? `${booking.service_name} — deposit (${booking.deposit_percent}%)` : booking.service_name;
    const session = await callStripe(c, 'checkout.sessions.create (booking)', () =>
      stripe.client.checkout.sessions.create(
        {
          mode: 'payment',
          line_items: [{ quantity: 1, price_data: { currency: booking.currency.toLowerCase(), unit_amount: booking.amount_cents, product_data: { name } } }],
          client_reference_id: booking.booking_id,
          metadata,
          payment_intent_data: { metadata },
          ...(booking.contact_email ? { customer_email: booking.contact_email } : {}),
          expires_at: expiresAt,
          custom_text: { submit: { message: policyText(booking, deposit) } },
          // Back to the manage page, which opens only with the manage token (Stripe, the processor, keeps these URLs).
          success_url: `${base}/b/manage/${booking.code}?token=${encodeURIComponent(token)}&checkout=success`,
          cancel_url: `${base}/b/manage/${booking.code}?token=${encodeURIComponent(token)}&checkout=cancelled`,
        },
        {
          idempotencyKey: `slotbase:booking-checkout:${booking.booking_id}:${expiresAt}`,
          // On the tenant's connected account (Stripe Connect): the Stripe-Account header.
          ...(booking.stripe_account ? { stripeAccount: booking.stripe_account } : {}),
        },
      ),
    );
    if (!session.url) throw new ProblemError(502, 'stripe_error', 'Stripe returned no Checkout URL');
    await c.var.deps.sql`
      select slotbase_private.record_booking_checkout(${booking.tenant_id}, ${booking.booking_id}, ${session.id}, ${booking.amount_cents}, ${booking.currency},
        ${booking.total_cents}, ${booking.deposit_percent}, ${booking.cancellation_notice_minutes}, ${booking.late_cancellation_refund_percent},
        ${booking.stripe_account})`;
    return c.json({ id: session.id, url: session.url }, 200);
  })
  .openapi({ ...setStripeAccount, ...withBilling }, async (c) => {
    const caller = requireMember(c);
    const stripe = stripeOf(c);
    const { stripe_account } = c.req.valid('json');
    // Owners only, checked before asking Stripe (set_stripe_account checks again in the transaction).
    const [me] = await withSession(c.var.deps.sql, caller, (tx) => tx<{ role: string | null; location_id: string | null }[]>`
      select slotbase.current_member_role() as role, slotbase.current_member_location_id() as location_id`);
    if (!me?.role) throw new ProblemError(404, 'not_found', 'Tenant not found');
    if (me.role !== 'owner' || me.location_id) throw new ProblemError(403, 'forbidden', 'Only owners connect a Stripe account');
    if (stripe_account) {
      // Stripe answers for accounts connected to this platform only: a typo or a stranger's account fails here.
      let account: Awaited<ReturnType<StripeBilling['client']['accounts']['retrieve']>>;
      try {
        account = await stripe.client.accounts.retrieve(stripe_account);
      } catch (error) {
        const stripeError = stripeErrorOf(error);
        if (stripeError && stripeError.type !== 'StripeConnectionError' && (stripeError.statusCode ?? 500) < 500) {
          throw new ProblemError(422, 'stripe_account_unreachable', 'Stripe does not know this account as connected to this platform');
        }
        return callStripe(c, 'accounts.retrieve', () => Promise.reject(error));
      }
      // A platform that onboards accounts itself may name their business in metadata.tenant_id.
      const owner = account.metadata?.tenant_id;
      if (owner && owner !== caller.tenantId) {
        throw new ProblemError(409, 'stripe_account_in_use', 'This Stripe account belongs to another business');
      }
    }
    const [row] = await withSession(c.var.deps.sql, caller, (tx) => tx<{ stripe_account: string | null }[]>`
      select slotbase.set_stripe_account(${stripe_account}) as stripe_account`);
    return c.json({ stripe_account: row?.stripe_account ?? null }, 200);
  })
  .openapi(getBookingPayment, async (c) => {
    const { id } = c.req.valid('param');
    const [row] = await withSession(c.var.deps.sql, c.var.caller, (tx) => tx`select * from slotbase.booking_payment(${id})`);
    if (!row) throw new ProblemError(404, 'not_found', 'Booking not found');
    return c.json(JSON.parse(JSON.stringify(row)), 200);
  })
  .openapi(getPublicBookingPayment, async (c) => {
    const { code } = c.req.valid('param');
    const token = c.req.valid('query').token ?? c.req.valid('header')['x-manage-token'];
    if (!token) throw new ProblemError(404, 'not_found', 'Booking not found');
    const [row] = await withSession(c.var.deps.sql, c.var.caller, (tx) => tx`select * from slotbase.public_booking_payment(${code}, ${token})`);
    if (!row) throw new ProblemError(404, 'not_found', 'Booking not found');
    return c.json(JSON.parse(JSON.stringify(row)), 200);
  })
  .openapi({ ...stripeWebhook, middleware: [billingConfigured, verifyStripeSignature] }, async (c) => {
    const event = verifiedEvents.get(c.req.raw);
    if (!event) throw new ProblemError(400, 'invalid_signature', 'The Stripe signature was not verified');
    if (!HANDLED_EVENT_TYPES.has(event.type)) return c.json({ received: true as const, stored: false }, 200);
    // As slotbase_api itself: the one function it may execute in slotbase_private stores the
    // event and queues its job in one transaction (a known id does nothing).
    const raw = await c.req.text();
    const [row] = await c.var.deps.sql<{ stored: boolean }[]>`
      select slotbase_private.record_stripe_event(${event.id}, ${event.type}, to_timestamp(${event.created}), ${event.livemode}, ${raw}::text::jsonb) as stored`;
    return c.json({ received: true as const, stored: row?.stored ?? false }, 200);
  });
