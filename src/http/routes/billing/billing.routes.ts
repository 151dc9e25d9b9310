import { createRoute, z } from '@hono/zod-openapi';
import { manageToken } from '../../examples.ts';
import { jsonBody, jsonContent, problems, Timestamp } from '../../openapi.ts';
import { IdParam, peopleOnly, staffOnly } from '../../staff.ts';

const Limit = z
  .object({
    used: z.number().int().openapi({ example: 1 }),
    limit: z.number().int().nullable().openapi({ example: 10, description: 'null: no limit' }),
  })
  .openapi('PlanUsage');

const planExamples = [
  { id: 'free', name: 'Free', max_providers: 1, max_locations: 1, max_bookings_per_month: 100, max_webhook_endpoints: 1, max_sms_per_month: 0 },
  { id: 'pro', name: 'Pro', max_providers: 10, max_locations: 3, max_bookings_per_month: 2000, max_webhook_endpoints: 5, max_sms_per_month: 500 },
  { id: 'business', name: 'Business', max_providers: null, max_locations: null, max_bookings_per_month: null, max_webhook_endpoints: 25, max_sms_per_month: 5000 },
];

export const Plan = z
  .object({
    id: z.string().openapi({ example: 'pro' }),
    name: z.string().openapi({ example: 'Pro' }),
    max_providers: z.number().int().nullable(),
    max_locations: z.number().int().nullable(),
    max_bookings_per_month: z.number().int().nullable().openapi({ description: 'Bookings created per calendar month (UTC); expired holds do not count' }),
    max_webhook_endpoints: z.number().int().nullable(),
    max_sms_per_month: z.number().int().nullable().openapi({ description: 'Beyond it, SMS are logged `skipped` (reason `plan_limit_reached`)' }),
  })
  .openapi('Plan', { description: 'A plan and its limits; null means unlimited', example: planExamples[1] });

const billingExample = {
  plan: 'pro',
  plan_name: 'Pro',
  status: 'active' as const,
  subscription_status: 'active',
  stripe_customer_id: 'cus_SunriseClinic01',
  current_period_end: '2027-03-01T08:15:00.000Z',
  cancel_at_period_end: false,
  past_due_since: null,
  grace_ends_at: null,
  is_booking_paused: false,
  limits_enforced: true,
  stripe_account: null,
  usage: {
    providers: { used: 1, limit: 10 },
    locations: { used: 1, limit: 3 },
    bookings_per_month: { used: 42, limit: 2000 },
    webhook_endpoints: { used: 0, limit: 5 },
    sms_per_month: { used: 17, limit: 500 },
  },
};

export const Billing = z
  .object({
    plan: z.string().openapi({ example: 'pro' }),
    plan_name: z.string().openapi({ example: 'Pro' }),
    status: z.enum(['active', 'past_due', 'paused', 'suspended']).openapi({ description: 'The tenant\'s status (past_due while a payment is outstanding)' }),
    subscription_status: z.string().nullable().openapi({ example: 'active', description: 'Stripe\'s subscription status, null without a subscription' }),
    stripe_customer_id: z.string().nullable().openapi({ example: 'cus_SunriseClinic01' }),
    current_period_end: Timestamp.nullable(),
    cancel_at_period_end: z.boolean(),
    past_due_since: Timestamp.nullable().openapi({ description: 'When the first unpaid invoice failed' }),
    grace_ends_at: Timestamp.nullable().openapi({ description: 'If still past due then, public booking pauses (BILLING_GRACE_DAYS after past_due_since)' }),
    is_booking_paused: z.boolean().openapi({ description: 'Public booking is paused (past due beyond the grace period); staff can still book and pay' }),
    limits_enforced: z.boolean().openapi({ description: 'Whether this deployment enforces plan limits' }),
    stripe_account: z.string().nullable().openapi({ example: 'acct_1SunriseClinic01', description: 'The connected Stripe account booking payments are taken on (null: the platform account)' }),
    usage: z.object({
      providers: Limit,
      locations: Limit,
      bookings_per_month: Limit,
      webhook_endpoints: Limit,
      sms_per_month: Limit,
    }),
  })
  .openapi('Billing', { example: billingExample });

export const CheckoutRequest = z
  .strictObject({ plan: z.enum(['pro', 'business']).openapi({ description: 'The paid plan to subscribe to' }) })
  .openapi('CheckoutRequest', { example: { plan: 'pro' } });

export const RedirectUrl = z
  .object({
    id: z.string().openapi({ example: 'cs_test_a1B2c3D4e5F6' }),
    url: z.url().openapi({ example: 'https://checkout.stripe.com/c/pay/cs_test_a1B2c3D4e5F6' }),
  })
  .openapi('BillingRedirect', { description: 'Send the user to `url` (a Stripe-hosted page)' });

export const StripeEvent = z
  .looseObject({
    id: z.string().regex(/^evt_/).openapi({ example: 'evt_1SunriseInvoicePaid' }),
    object: z.literal('event'),
    type: z.string().openapi({ example: 'invoice.paid' }),
    created: z.number().int().openapi({ example: 1803800000 }),
    data: z.looseObject({ object: z.record(z.string(), z.unknown()) }),
  })
  .openapi('StripeEvent', {
    description: 'A Stripe event exactly as Stripe sends it (verified against the Stripe-Signature header)',
    example: {
      id: 'evt_1SunriseInvoicePaid',
      object: 'event',
      type: 'invoice.paid',
      created: 1803800000,
      livemode: false,
      data: { object: { id: 'in_1SunriseClinic', object: 'invoice', customer: 'cus_SunriseClinic01' } },
    },
  });

export const WebhookReceipt = z
  .object({
    received: z.literal(true),
    stored: z.boolean().openapi({ description: 'false for a replayed event id or an event type Slotbase does not handle' }),
  })
  .openapi('StripeWebhookReceipt', { example: { received: true, stored: true } });

const tags = ['Billing'];
const staffDescription =
  'Tenant-wide owners and admins. Answers 501 `billing_not_configured` when this server has no Stripe configuration.';

export const listPlans = createRoute({
  method: 'get',
  path: '/v1/plans',
  operationId: 'listPlans',
  tags,
  summary: 'The plans and their limits (public)',
  description: 'Limits are enforced by the database (402 `plan_limit_reached`) when the deployment enforces them.',
  security: [],
  responses: { 200: jsonContent(z.object({ data: z.array(Plan) }).openapi('PlanList'), 'Plans, cheapest first', { data: planExamples }), ...problems() },
});

export const getBilling = createRoute({
  method: 'get',
  path: '/v1/billing',
  operationId: 'getBilling',
  tags,
  summary: 'The tenant\'s plan, subscription and usage against its limits',
  description: staffDescription,
  ...peopleOnly,
  responses: { 200: jsonContent(Billing, 'Billing state'), ...problems(401, 403, 501) },
});

export const createCheckout = createRoute({
  method: 'post',
  path: '/v1/billing/checkout',
  operationId: 'createBillingCheckout',
  tags,
  summary: 'Start a Stripe Checkout session to subscribe to a paid plan',
  description:
    `${staffDescription} The session is in subscription mode for the plan's price and carries the tenant id; the tenant's plan changes ` +
    'when Stripe reports the subscription (webhook). A tenant that already has a subscription changes plans in the portal ' +
    '(409 `subscription_exists`). An `Idempotency-Key` header is passed on to Stripe (scoped to the tenant).',
  ...peopleOnly,
  request: {
    body: jsonBody(CheckoutRequest),
    headers: z.object({
      'idempotency-key': z.string().regex(/^[A-Za-z0-9_.:-]{1,200}$/).optional().openapi({ description: 'Passed on to Stripe (scoped to the tenant): a retried request opens the same session', example: 'upgrade-2027-02-01' }),
    }),
  },
  responses: {
    200: jsonContent(RedirectUrl, 'The Checkout page to send the user to', { id: 'cs_test_a1B2c3D4e5F6', url: 'https://checkout.stripe.com/c/pay/cs_test_a1B2c3D4e5F6' }),
    ...problems(400, 401, 403, 409, 413, 415, 422, 501, 502),
  },
});

export const createPortal = createRoute({
  method: 'post',
  path: '/v1/billing/portal',
  operationId: 'createBillingPortal',
  tags,
  summary: 'Open the Stripe customer portal (change plan, payment method, invoices, cancel)',
  description: `${staffDescription} 409 \`no_billing_customer\` before the tenant's first Checkout.`,
  ...peopleOnly,
  responses: {
    200: jsonContent(RedirectUrl, 'The portal page to send the user to', { id: 'bps_1SunriseClinic', url: 'https://billing.stripe.com/p/session/test_YWNjdF8x' }),
    ...problems(401, 403, 409, 501, 502),
  },
});

export const stripeWebhook = createRoute({
  method: 'post',
  path: '/v1/billing/stripe/webhook',
  operationId: 'receiveStripeWebhook',
  tags,
  summary: 'Stripe\'s webhook endpoint (signed events)',
  description:
    'Verifies the `Stripe-Signature` header over the raw body (400 `invalid_signature`), stores the event by id (a replay is a no-op, ' +
    'still 200) and queues its processing. Handled: checkout.session.completed|expired, customer.subscription.created|updated|deleted, ' +
    'invoice.paid, invoice.payment_failed; other types are answered 200 and dropped.',
  security: [],
  request: {
    body: jsonBody(StripeEvent),
    headers: z.object({
      'stripe-signature': z.string().optional().openapi({ description: 'Stripe\'s signature over the raw body', example: 't=1803800000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd' }),
    }),
  },
  responses: { 200: jsonContent(WebhookReceipt, 'Received'), ...problems(400, 413, 415, 422, 501) },
});

export const createBookingCheckout = createRoute({
  method: 'post',
  path: '/v1/public/bookings/{code}/checkout',
  operationId: 'createBookingCheckout',
  tags: ['Public booking'],
  summary: 'Pay for a held booking of a priced service (Stripe Checkout)',
  description:
    'When this deployment collects booking payments, a public booking of a service with a price is created `held` (at least 31 minutes). ' +
    'The booker proves the booking with its code and manage token and is sent to a Checkout session in payment mode for the price ' +
    '× party size, carrying the booking id; the payment confirms the booking (Stripe\'s webhook), an expired session or hold releases ' +
    'the slot. 409 `invalid_transition` for a booking that is not (or no longer) held or has nothing to pay; 501 without Stripe.',
  security: [],
  request: {
    params: z.object({ code: z.string().min(3).max(20).openapi({ example: 'BK-7F3K9QM' }) }),
    query: z.object({
      token: z.string().min(1).max(200).optional().openapi({ param: { name: 'token', in: 'query' }, description: 'The manage token (or send it as X-Manage-Token)', example: manageToken }),
    }),
    headers: z.object({ 'x-manage-token': z.string().min(1).max(200).optional().openapi({ description: 'The manage token', example: manageToken }) }),
  },
  responses: {
    200: jsonContent(RedirectUrl, 'The Checkout page to send the booker to', { id: 'cs_test_b1Booking0001', url: 'https://checkout.stripe.com/c/pay/cs_test_b1Booking0001' }),
    ...problems(404, 409, 422, 501, 502),
  },
});

export const StripeAccountRequest = z
  .strictObject({
    stripe_account: z
      .string()
      .regex(/^acct_[A-Za-z0-9]{1,250}$/, 'A Stripe account id looks like acct_…')
      .nullable()
      .openapi({ example: 'acct_1SunriseClinic01', description: 'The tenant\'s connected Stripe account (acct_…), or null to take booking payments on the platform account again' }),
  })
  .openapi('StripeAccountRequest', { example: { stripe_account: 'acct_1SunriseClinic01' } });

export const StripeAccount = z
  .object({ stripe_account: z.string().nullable().openapi({ example: 'acct_1SunriseClinic01' }) })
  .openapi('StripeAccount');

export const setStripeAccount = createRoute({
  method: 'put',
  path: '/v1/billing/stripe-account',
  operationId: 'setStripeAccount',
  tags,
  summary: 'Take booking payments on the tenant\'s own Stripe account (Stripe Connect)',
  description:
    'Tenant-wide owners. Checkout sessions of paid bookings and their refunds are then created on this connected account ' +
    '(the `Stripe-Account` header). Stripe must know the account as connected to this platform (else 422 `stripe_account_unreachable`); ' +
    'an account another business uses, or whose metadata names another tenant, is refused with 409 `stripe_account_in_use`. ' +
    '`null` disconnects it. Answers 501 `billing_not_configured` without Stripe.',
  ...peopleOnly,
  request: { body: jsonBody(StripeAccountRequest) },
  responses: {
    200: jsonContent(StripeAccount, 'The account now used', { stripe_account: 'acct_1SunriseClinic01' }),
    ...problems(400, 401, 403, 409, 413, 415, 422, 501, 502),
  },
});

const Refund = z
  .object({
    amount_cents: z.number().int().openapi({ example: 2000 }),
    status: z.enum(['queued', 'none', 'pending', 'requires_action', 'succeeded', 'failed', 'canceled']).openapi({
      description: '`queued` until the refund job ran, `none` when nothing is refunded, then Stripe\'s refund status',
    }),
    basis: z.enum(['before_notice', 'late', 'staff_cancelled', 'rejected']).openapi({
      description: 'Why this amount: cancelled by the booker before the notice window (all) or inside it (the late share), by staff, or rejected (all)',
    }),
    stripe_refund_id: z.string().nullable().openapi({ example: 're_3SunriseBooking0001' }),
  })
  .openapi('BookingRefund');

export const BookingPayment = z
  .object({
    booking_id: z.uuid(),
    currency: z.string().nullable().openapi({ example: 'EUR' }),
    amount_total_cents: z.number().int().nullable().openapi({ example: 8000, description: 'The booking\'s price (price × party size); null for a free service' }),
    amount_paid_cents: z.number().int().openapi({ example: 2400, description: 'Paid through Checkout (the deposit, or everything)' }),
    amount_due_cents: z.number().int().nullable().openapi({ example: 5600, description: 'Still to pay at the appointment (0 once cancelled)' }),
    deposit_percent: z.number().int().nullable().openapi({ example: 30 }),
    cancellation_notice_minutes: z.number().int().nullable().openapi({ example: 1440 }),
    late_cancellation_refund_percent: z.number().int().nullable().openapi({ example: 50 }),
    full_refund_until: Timestamp.nullable().openapi({ description: 'Cancelling before this refunds everything paid (null: nothing paid)' }),
    refund_if_cancelled_cents: z.number().int().nullable().openapi({ example: 2400, description: 'What the booker gets back if they cancel now (null when the booking can no longer be cancelled)' }),
    refund: Refund.nullable().openapi({ description: 'The refund decided when the booking was cancelled or rejected' }),
  })
  .openapi('BookingPayment', {
    example: {
      booking_id: '0b5a3c8e-4b7f-4f6e-9d36-0c5f8f2b9a11', currency: 'EUR', amount_total_cents: 8000, amount_paid_cents: 2400, amount_due_cents: 5600,
      deposit_percent: 30, cancellation_notice_minutes: 1440, late_cancellation_refund_percent: 50, full_refund_until: '2027-02-28T09:00:00.000Z',
      refund_if_cancelled_cents: 2400, refund: null,
    },
  });

export const getBookingPayment = createRoute({
  method: 'get',
  path: '/v1/bookings/{id}/payment',
  operationId: 'getBookingPayment',
  tags: ['Bookings'],
  summary: 'What a booking cost, what was paid (deposit or all), what is due at the appointment, and its refund',
  description: 'Staff who can see the booking (scope `bookings:read` for API keys).',
  ...staffOnly,
  request: { params: IdParam },
  responses: { 200: jsonContent(BookingPayment, 'The booking\'s money'), ...problems(401, 404, 422) },
});

export const getPublicBookingPayment = createRoute({
  method: 'get',
  path: '/v1/public/bookings/{code}/payment',
  operationId: 'getPublicBookingPayment',
  tags: ['Public booking'],
  summary: 'The booker\'s view of a booking\'s payment: paid, due at the appointment, and what cancelling now refunds',
  description: 'Code and manage token (`?token=` or `X-Manage-Token`); 404 otherwise. The manage page shows this before the booker cancels.',
  security: [],
  request: {
    params: z.object({ code: z.string().min(3).max(20).openapi({ example: 'BK-7F3K9QM' }) }),
    query: z.object({
      token: z.string().min(1).max(200).optional().openapi({ param: { name: 'token', in: 'query' }, description: 'The manage token (or send it as X-Manage-Token)', example: manageToken }),
    }),
    headers: z.object({ 'x-manage-token': z.string().min(1).max(200).optional().openapi({ description: 'The manage token', example: manageToken }) }),
  },
  responses: { 200: jsonContent(BookingPayment, 'The booking\'s money'), ...problems(404, 422) },
});
