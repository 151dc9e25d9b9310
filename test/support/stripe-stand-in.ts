import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { afterAll, beforeAll } from 'vitest';
import { createStripeClient, type StripeBilling } from '#src/lib/stripe.ts';

/**
 * A local stand-in for Stripe's API host (node:http on 127.0.0.1): the real `stripe` client is
 * pointed at it with its host/port/protocol options, so tests see exactly what Slotbase sends
 * (path, form parameters, Idempotency-Key, Stripe-Version) and nothing reaches the internet.
 * It answers Checkout sessions, billing-portal sessions, refunds and connected accounts the way
 * Stripe does (the fields Slotbase reads), per account (the Stripe-Account header), and replays the
 * first answer to a repeated Idempotency-Key on the same account, as Stripe does.
 */

export const TEST_STRIPE_KEY = 'sk_test_slotbaseStandIn0123456789';
export const TEST_WEBHOOK_SECRET = 'whsec_slotbaseTestSigningSecret0123456789';
export const TEST_PRICES = { pro: 'price_TestPro0001', business: 'price_TestBusiness0001' } as const;
/** The configuration a worker needs to map prices to plans (workerTestConfig env). */
export const TEST_STRIPE_ENV = {
  STRIPE_SECRET_KEY: TEST_STRIPE_KEY,
  STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
  STRIPE_PRICE_PRO: TEST_PRICES.pro,
  STRIPE_PRICE_BUSINESS: TEST_PRICES.business,
};

export interface StandInRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** The form body, flat as sent: `line_items[0][price]` → `price_…`. */
  form: Record<string, string>;
}

export interface StripeStandIn {
  url: string;
  requests: StandInRequest[];
  /** The next request is answered with this status and Stripe error body. */
  failNext(status: number, error?: { type: string; message: string; code?: string }): void;
  /** Make an account known as connected to the platform (GET /v1/accounts/{id} answers it). */
  connectAccount(id: string, metadata?: Record<string, string>): void;
  /** The status new refunds are created with (default succeeded). */
  refundStatus: string;
  /** Refunds created (replays of an idempotency key not counted), with the account they were made on. */
  refunds: { id: string; payment_intent: string; amount: number | null; account: string | null; idempotencyKey: string | null }[];
  /** Billing deps for createApp, with a real Stripe client pointed here. */
  billing(): StripeBilling;
  close(): Promise<void>;
}

const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

export async function startStripeStandIn(): Promise<StripeStandIn> {
  const requests: StandInRequest[] = [];
  const accounts = new Map<string, Record<string, string>>();
  const replays = new Map<string, { status: number; body: unknown }>();
  const refunds: StripeStandIn['refunds'] = [];
  const state = { refundStatus: 'succeeded' };
  let failure: { status: number; error: { type: string; message: string; code?: string } } | undefined;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      const path = (req.url ?? '/').split('?')[0]!;
      requests.push({ method: req.method ?? 'GET', path, headers: req.headers, form });
      const account = typeof req.headers['stripe-account'] === 'string' ? req.headers['stripe-account'] : null;
      const key = typeof req.headers['idempotency-key'] === 'string' ? `${account ?? 'platform'}:${req.headers['idempotency-key']}` : undefined;
      const send = (status: number, body: unknown) => {
        if (key && req.method === 'POST' && status < 500) replays.set(key, { status, body });
        res.writeHead(status, { 'content-type': 'application/json', 'request-id': id('req') });
        res.end(JSON.stringify(body));
      };
      const replay = key && req.method === 'POST' ? replays.get(key) : undefined;
      if (replay) {
        res.writeHead(replay.status, { 'content-type': 'application/json', 'request-id': id('req'), 'idempotent-replayed': 'true' });
        return res.end(JSON.stringify(replay.body));
      }
      if (failure) {
        // A simulated failure is not remembered for the idempotency key (Stripe saves no result for a request that did not run).
        const { status, error } = failure;
        failure = undefined;
        res.writeHead(status, { 'content-type': 'application/json', 'request-id': id('req') });
        return res.end(JSON.stringify({ error }));
      }
      if (req.headers.authorization !== `Bearer ${TEST_STRIPE_KEY}`) {
        res.writeHead(401, { 'content-type': 'application/json', 'request-id': id('req') });
        return res.end(JSON.stringify({ error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } }));
      }
      if (account && !accounts.has(account)) {
        return send(403, { error: { type: 'invalid_request_error', message: 'The provided key does not have access to account (or that account does not exist).', code: 'account_invalid' } });
      }
      if (req.method === 'POST' && path === '/v1/checkout/sessions') {
        const sid = id('cs_test');
        return send(200, {
          id: sid,
          object: 'checkout.session',
          mode: form.mode,
          client_reference_id: form.client_reference_id ?? null,
          customer: form.customer ?? null,
          metadata: Object.fromEntries(Object.entries(form).filter(([k]) => k.startsWith('metadata[')).map(([k, v]) => [k.slice(9, -1), v])),
          success_url: form.success_url,
          cancel_url: form.cancel_url,
          status: 'open',
          url: `https://checkout.stripe.test/c/pay/${sid}`,
        });
      }
      if (req.method === 'POST' && path === '/v1/billing_portal/sessions') {
        const sid = id('bps');
        return send(200, { id: sid, object: 'billing_portal.session', customer: form.customer, return_url: form.return_url, url: `https://billing.stripe.test/p/session/${sid}` });
      }
      if (req.method === 'POST' && path === '/v1/refunds') {
        const rid = id('re');
        refunds.push({ id: rid, payment_intent: form.payment_intent ?? '', amount: form.amount ? Number(form.amount) : null, account, idempotencyKey: (req.headers['idempotency-key'] as string | undefined) ?? null });
        return send(200, { id: rid, object: 'refund', amount: form.amount ? Number(form.amount) : null, payment_intent: form.payment_intent ?? null, status: state.refundStatus, metadata: {} });
      }
      const accountPath = /^\/v1\/accounts\/(acct_[A-Za-z0-9]+)$/.exec(path);
      if (req.method === 'GET' && accountPath) {
        const metadata = accounts.get(accountPath[1]!);
        if (!metadata) return send(403, { error: { type: 'invalid_request_error', message: 'The provided key does not have access to account (or that account does not exist).', code: 'account_invalid' } });
        return send(200, { id: accountPath[1], object: 'account', charges_enabled: true, metadata });
      }
      return send(404, { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${req.method}: ${path})` } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    failNext(status, error = { type: 'api_error', message: 'Something went wrong' }) {
      failure = { status, error };
    },
    connectAccount(account, metadata = {}) {
      accounts.set(account, metadata);
    },
    get refundStatus() {
      return state.refundStatus;
    },
    set refundStatus(status: string) {
      state.refundStatus = status;
    },
    refunds,
    billing: () => ({
      client: createStripeClient(TEST_STRIPE_KEY, { apiUrl: url, maxNetworkRetries: 0, timeoutMs: 5_000 }),
      webhookSecret: TEST_WEBHOOK_SECRET,
      prices: { ...TEST_PRICES },
    }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A stand-in for this test file (started in beforeAll), and billing deps for `useApi({ stripe })`
 * whose client is created on first use, once the stand-in's port is known.
 */
export function useStripeStandIn(): { standIn: () => StripeStandIn; billing: StripeBilling } {
  let standIn: StripeStandIn | undefined;
  let billing: StripeBilling | undefined;
  beforeAll(async () => {
    standIn = await startStripeStandIn();
  });
  afterAll(async () => {
    await standIn?.close();
  });
  const get = () => {
    if (!standIn) throw new Error('the Stripe stand-in starts in beforeAll');
    return standIn;
  };
  return {
    standIn: get,
    billing: {
      get client() {
        billing ??= get().billing();
        return billing.client;
      },
      webhookSecret: TEST_WEBHOOK_SECRET,
      prices: { ...TEST_PRICES },
    },
  };
}

export interface EventVars {
  tenantId: string;
  customer?: string;
  subscription?: string;
  price?: string;
  /** Stripe's `created` (seconds); default now. */
  created?: number;
  /** The event id; default a fresh one. */
  id?: string;
  /** Subscription status (subscription events). */
  status?: string;
  /** Paid bookings: the booking and its Checkout session. */
  bookingId?: string;
  session?: string;
  /** Events from a connected account (Stripe Connect) carry its id as `account`. */
  account?: string;
  /** Refund events: the refund id. */
  refund?: string;
  /** Paid bookings: the payment intent (default pi_3SunriseBooking0001). */
  paymentIntent?: string;
}

/** A recorded event fixture (test/fixtures/stripe/<fixture>.json) with this test's ids and times filled in. */
export function stripeEvent(fixture: string, vars: EventVars): { id: string; payload: string; event: Record<string, unknown> } {
  const text = readFileSync(new URL(`../fixtures/stripe/${fixture}.json`, import.meta.url), 'utf8')
    .replaceAll('__TENANT_ID__', vars.tenantId)
    .replaceAll('__CUSTOMER__', vars.customer ?? 'cus_TestNoCustomer')
    .replaceAll('__SUBSCRIPTION__', vars.subscription ?? 'sub_TestNoSubscription')
    .replaceAll('__PRICE__', vars.price ?? TEST_PRICES.pro)
    .replaceAll('__BOOKING_ID__', vars.bookingId ?? '00000000-0000-4000-8000-000000000000')
    .replaceAll('__SESSION__', vars.session ?? 'cs_test_NoSession')
    .replaceAll('__REFUND__', vars.refund ?? 're_TestNoRefund')
    .replaceAll('pi_3SunriseBooking0001', vars.paymentIntent ?? 'pi_3SunriseBooking0001');
  const event = JSON.parse(text) as Record<string, unknown> & { data: { object: Record<string, unknown> } };
  event.id = vars.id ?? id('evt');
  event.created = vars.created ?? Math.floor(Date.now() / 1000);
  if (vars.account) event.account = vars.account;
  if (vars.status) event.data.object.status = vars.status;
  return { id: event.id as string, payload: JSON.stringify(event, null, 2), event };
}

/** The Stripe-Signature header Stripe would send for this payload (signed with the test secret unless given). */
export function signStripe(payload: string, secret: string = TEST_WEBHOOK_SECRET, timestamp?: number): string {
  return Stripe.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp ? { timestamp } : {}) });
}

/** Fresh Stripe-looking ids for one test's customer and subscription. */
export const stripeIds = () => ({ customer: id('cus'), subscription: id('sub') });
