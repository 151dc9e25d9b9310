import type Stripe from 'stripe';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '#src/config.ts';
import { STRIPE_API_VERSION, stripeBillingFromConfig } from '#src/lib/stripe.ts';
import { addDailyRules, addMember, createLocation, createProvider, createService, createTenant, linkProvider } from '../support/factories.ts';
import { useApi, type TestApi } from '../support/http.ts';
import { utc } from '../support/staff-world.ts';
import { signStripe, stripeEvent, stripeIds, TEST_PRICES, TEST_STRIPE_ENV, useStripeStandIn, type EventVars } from '../support/stripe-stand-in.ts';
import { drainJobs, jobsOf } from '../support/worker.ts';

/**
 * Billing through the API: the real `stripe` client talks to a local stand-in for Stripe's API
 * host (test/support/stripe-stand-in.ts), webhook events are recorded fixtures signed in the test,
 * and the stripe_event job runs in this process (drainJobs). Plan limits are enforced in this
 * file's database, as in a SaaS deployment.
 */

type Body = Record<string, unknown> & { code?: string };
const GRACE_DAYS = 7;
const workerEnv = { ...TEST_STRIPE_ENV, BILLING_GRACE_DAYS: String(GRACE_DAYS) };
const now = () => Math.floor(Date.now() / 1000);

describe('billing', () => {
  const { standIn, billing } = useStripeStandIn();
  const api = useApi({ stripe: billing, publicUrl: 'http://slotbase.test' });

  beforeAll(async () => {
    await api().db.query('update slotbase_private.billing_settings set enforce_plan_limits = true');
  });

  /** A UTC clinic (one location, one provider open around the clock, a public service) on `plan`, with a token per role. */
  async function clinic(plan = 'free') {
    const db = api().db;
    const tenant = await createTenant(db, { timeZone: 'UTC' });
    const location = await createLocation(db, tenant.id, { timeZone: 'UTC' });
    const provider = await createProvider(db, tenant.id, { locationId: location.id });
    await addDailyRules(db, tenant.id, { providerId: provider.id }, location.id, '00:00', '24:00');
    const service = await createService(db, tenant.id, { durationMinutes: 30, maxAdvanceDays: 365 });
    await linkProvider(db, tenant.id, service.id, provider.id);
    if (plan !== 'free') await db.query('update slotbase.tenants set plan = $2 where id = $1', [tenant.id, plan]);
    const sign = async (userId: string) => (await api().tokens.signAccess({ sub: userId, tenant_id: tenant.id })).token;
    const admin = await addMember(db, tenant.id, 'admin');
    const receptionist = await addMember(db, tenant.id, 'receptionist');
    const viewer = await addMember(db, tenant.id, 'viewer');
    return {
      id: tenant.id,
      slug: tenant.slug,
      locationId: location.id,
      providerId: provider.id,
      serviceId: service.id,
      ...stripeIds(),
      tokens: { owner: await sign(tenant.owner.userId), admin: await sign(admin.userId), receptionist: await sign(receptionist.userId), viewer: await sign(viewer.userId) },
    };
  }
  type Clinic = Awaited<ReturnType<typeof clinic>>;

  /** POSTs a fixture event, signed, to the webhook. */
  async function deliver(type: string, vars: EventVars, options: { secret?: string; tamper?: boolean } = {}) {
    const e = stripeEvent(type, vars);
    const signature = signStripe(e.payload, options.secret);
    const payload = options.tamper ? e.payload.replace('"livemode": false', '"livemode": true') : e.payload;
    const res = await api().json<Body>('POST', '/v1/billing/stripe/webhook', {
      body: payload,
      headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signature },
    });
    return { ...res, id: e.id, payload: e.payload };
  }

  /** Delivers a Checkout completion and an active subscription on `price`, then runs the job. */
  async function subscribe(c: Clinic, price: string = TEST_PRICES.pro, created = now()) {
    const vars = { tenantId: c.id, customer: c.customer, subscription: c.subscription, price };
    expect((await deliver('checkout.session.completed', { ...vars, created })).status).toBe(200);
    expect((await deliver('customer.subscription.updated', { ...vars, created, status: 'active' })).status).toBe(200);
    await drainJobs(api().db, { env: workerEnv });
  }

  const billingOf = async (c: Clinic) => (await api().json<Body>('GET', '/v1/billing', { token: c.tokens.owner })).body;

  const publicBooking = (c: Clinic, day: number) =>
    api().json<Body>('POST', `/v1/public/${c.slug}/bookings`, {
      body: { service_id: c.serviceId, starts_at: utc(day, '10:00'), contact: { name: 'Ada Guest', email: 'ada@example.test' } },
    });

  describe('plan, subscription and usage', () => {
    it('GET /v1/billing shows the plan, status and usage against each limit', async () => {
      const c = await clinic();
      const res = await api().json<Body>('GET', '/v1/billing', { token: c.tokens.owner });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        plan: 'free',
        status: 'active',
        subscription_status: null,
        stripe_customer_id: null,
        is_booking_paused: false,
        limits_enforced: true,
        usage: { providers: { used: 1, limit: 1 }, locations: { used: 1, limit: 1 }, bookings_per_month: { used: 0, limit: 100 } },
      });
    });

    it('billing is for owners and admins: 403 for a receptionist or a viewer, 401 without a token', async () => {
      const c = await clinic();
      expect((await api().json('GET', '/v1/billing', { token: c.tokens.admin })).status).toBe(200);
      for (const token of [c.tokens.receptionist, c.tokens.viewer]) {
        expect(await api().json('GET', '/v1/billing', { token })).toMatchObject({ status: 403, body: { code: 'forbidden' } });
        expect(await api().json('POST', '/v1/billing/checkout', { token, body: { plan: 'pro' } })).toMatchObject({ status: 403, body: { code: 'forbidden' } });
      }
      expect(await api().json('GET', '/v1/billing')).toMatchObject({ status: 401, body: { code: 'unauthenticated' } });
    });

    it('the plans are public', async () => {
      const res = await api().json<{ data: { id: string; max_providers: number | null }[] }>('GET', '/v1/plans');
      expect(res.status).toBe(200);
      expect(res.body.data.map((p) => p.id)).toEqual(['free', 'pro', 'business']);
    });
  });

  describe('Checkout and portal through the Stripe client', () => {
    it('checkout opens a subscription session for the plan\'s price with the tenant id, return URLs, the pinned API version and an idempotency key', async () => {
      const c = await clinic();
      const before = standIn().requests.length;
      const res = await api().json<Body>('POST', '/v1/billing/checkout', { token: c.tokens.owner, body: { plan: 'business' }, headers: { 'idempotency-key': 'upgrade-1' } });
      expect(res.status).toBe(200);
      expect(res.body.url).toMatch(/^https:\/\/checkout\.stripe\.test\/c\/pay\/cs_test_/);
      const sent = standIn().requests.slice(before);
      expect(sent).toHaveLength(1);
      const [req] = sent;
      expect(req).toMatchObject({ method: 'POST', path: '/v1/checkout/sessions' });
      expect(req!.headers['idempotency-key']).toBe(`slotbase:checkout:${c.id}:upgrade-1`);
      expect(req!.headers['stripe-version']).toBe(STRIPE_API_VERSION);
      expect(req!.form).toMatchObject({
        mode: 'subscription',
        'line_items[0][price]': TEST_PRICES.business,
        'line_items[0][quantity]': '1',
        client_reference_id: c.id,
        'metadata[tenant_id]': c.id,
        'metadata[plan]': 'business',
        'subscription_data[metadata][tenant_id]': c.id,
        success_url: 'http://slotbase.test/console?billing=success&session_id={CHECKOUT_SESSION_ID}',
        cancel_url: 'http://slotbase.test/console?billing=cancelled',
      });
      expect(req!.form.customer).toBeUndefined();
      expect(req!.form.customer_email).toMatch(/@example\.test$/);
    });

    it('without an Idempotency-Key header each checkout still carries a fresh tenant-scoped key', async () => {
      const c = await clinic();
      const before = standIn().requests.length;
      await api().json('POST', '/v1/billing/checkout', { token: c.tokens.owner, body: { plan: 'pro' } });
      await api().json('POST', '/v1/billing/checkout', { token: c.tokens.owner, body: { plan: 'pro' } });
      const keys = standIn().requests.slice(before).map((r) => r.headers['idempotency-key']);
      expect(keys).toHaveLength(2);
      expect(keys[0]).toMatch(new RegExp(`^slotbase:checkout:${c.id}:`));
      expect(keys[0]).not.toBe(keys[1]);
    });

    it('a tenant with a Stripe customer reuses it at checkout; a subscribed tenant is sent to the portal (409 subscription_exists)', async () => {
      const c = await clinic();
      await deliver('checkout.session.completed', { tenantId: c.id, customer: c.customer, subscription: c.subscription });
      await drainJobs(api().db, { env: workerEnv });
      const before = standIn().requests.length;
      expect((await api().json('POST', '/v1/billing/checkout', { token: c.tokens.owner, body: { plan: 'pro' } })).status).toBe(200);
      expect(standIn().requests.slice(before)[0]!.form).toMatchObject({ customer: c.customer });

      await deliver('customer.subscription.updated', { tenantId: c.id, customer: c.customer, subscription: c.subscription, status: 'active' });
      await drainJobs(api().db, { env: workerEnv });
      const again = await api().json<Body>('POST', '/v1/billing/checkout', { token: c.tokens.owner, body: { plan: 'business' } });
      expect(again).toMatchObject({ status: 409, body: { code: 'subscription_exists' } });
    });

    it('the portal needs a Stripe customer (409 no_billing_customer), then opens a session for it that returns to the console', async () => {
      const c = await clinic();
      expect(await api().json('POST', '/v1/billing/portal', { token: c.tokens.owner })).toMatchObject({ status: 409, body: { code: 'no_billing_customer' } });
      await subscribe(c);
      const before = standIn().requests.length;
      const res = await api().json<Body>('POST', '/v1/billing/portal', { token: c.tokens.admin });
      expect(res.status).toBe(200);
      expect(res.body.url).toMatch(/^https:\/\/billing\.stripe\.test\/p\/session\//);
      const [req] = standIn().requests.slice(before);
      expect(req).toMatchObject({ path: '/v1/billing_portal/sessions', form: { customer: c.customer, return_url: 'http://slotbase.test/console' } });
    });

    it('Stripe failing or unreachable is a 502 problem, never a 500', async () => {
      const c = await clinic();
      standIn().failNext(500);
      expect(await api().json('POST', '/v1/billing/checkout', { token: c.tokens.owner, body: { plan: 'pro' } })).toMatchObject({
        status: 502,
        body: { code: 'stripe_unavailable' },
      });
      standIn().failNext(400, { type: 'invalid_request_error', message: 'No such price', code: 'resource_missing' });
      expect(await api().json('POST', '/v1/billing/checkout', { token: c.tokens.owner, body: { plan: 'pro' } })).toMatchObject({
        status: 502,
        body: { code: 'stripe_error' },
      });
    });

    it('a plan that is not paid, or an unknown field, is 422', async () => {
      const c = await clinic();
      expect((await api().json('POST', '/v1/billing/checkout', { token: c.tokens.owner, body: { plan: 'free' } })).status).toBe(422);
      expect((await api().json('POST', '/v1/billing/checkout', { token: c.tokens.owner, body: { plan: 'pro', price: 'price_x' } })).status).toBe(422);
    });
  });

  describe('the Stripe webhook', () => {
    it('a signed subscription event is stored, its job applies it, and the tenant is on the subscribed plan', async () => {
      const c = await clinic();
      const periodEnd = new Date(1806478400 * 1000).toISOString();
      const completed = await deliver('checkout.session.completed', { tenantId: c.id, customer: c.customer, subscription: c.subscription });
      expect(completed).toMatchObject({ status: 200, body: { received: true, stored: true } });
      const updated = await deliver('customer.subscription.updated', { tenantId: c.id, customer: c.customer, subscription: c.subscription, price: TEST_PRICES.business, status: 'active' });
      expect(updated).toMatchObject({ status: 200, body: { received: true, stored: true } });
      const jobs = await jobsOf(api().db, 'stripe_event');
      expect(jobs.map((j) => j.key)).toEqual(expect.arrayContaining([`stripe_event:${completed.id}`, `stripe_event:${updated.id}`]));
      await drainJobs(api().db, { env: workerEnv });
      expect(await billingOf(c)).toMatchObject({
        plan: 'business',
        status: 'active',
        subscription_status: 'active',
        stripe_customer_id: c.customer,
        current_period_end: periodEnd,
        usage: { providers: { limit: null } },
      });
    });

    it('a replayed event is answered 200, queues nothing and has no second effect', async () => {
      const c = await clinic();
      const vars = { tenantId: c.id, customer: c.customer, subscription: c.subscription, status: 'active', id: `evt_replay${c.id.slice(0, 8)}`, created: now() - 7200 };
      const first = await deliver('customer.subscription.updated', vars);
      const replay = await deliver('customer.subscription.updated', vars);
      expect(first.body).toMatchObject({ stored: true });
      expect(replay).toMatchObject({ status: 200, body: { received: true, stored: false } });
      expect((await jobsOf(api().db, 'stripe_event')).filter((j) => j.key === `stripe_event:${vars.id}`)).toHaveLength(1);
      await drainJobs(api().db, { env: workerEnv });
      // Past due since the first failure; a replay of that failure later must not restart the grace period.
      const failed = { tenantId: c.id, customer: c.customer, subscription: c.subscription, id: `evt_failed${c.id.slice(0, 8)}`, created: now() - 3600 };
      await deliver('invoice.payment_failed', failed);
      await drainJobs(api().db, { env: workerEnv });
      const before = await billingOf(c);
      expect(before).toMatchObject({ status: 'past_due', past_due_since: new Date(failed.created * 1000).toISOString() });
      expect(await deliver('invoice.payment_failed', { ...failed, created: now() })).toMatchObject({ status: 200, body: { stored: false } });
      await drainJobs(api().db, { env: workerEnv });
      expect(await billingOf(c)).toEqual(before);
    });

    it('an older event delivered after a newer one does not overwrite the newer state', async () => {
      const c = await clinic();
      const t = now();
      await subscribe(c, TEST_PRICES.business, t);
      const older = await deliver('customer.subscription.updated', {
        tenantId: c.id, customer: c.customer, subscription: c.subscription, price: TEST_PRICES.pro, status: 'active', created: t - 60,
      });
      expect(older).toMatchObject({ status: 200, body: { stored: true } });
      const olderFailure = await deliver('invoice.payment_failed', { tenantId: c.id, customer: c.customer, subscription: c.subscription, created: t - 30 });
      expect(olderFailure.status).toBe(200);
      await drainJobs(api().db, { env: workerEnv });
      expect(await billingOf(c)).toMatchObject({ plan: 'business', status: 'active', subscription_status: 'active', past_due_since: null });
      const [row] = await api().db.query<{ outcome: string }>('select outcome from slotbase_private.stripe_events where id = $1', [older.id]);
      expect(row!.outcome).toBe('stale');
    });

    it('a bad signature is 400 invalid_signature and nothing is stored: wrong secret, tampered body, no header', async () => {
      const c = await clinic();
      const vars = { tenantId: c.id, customer: c.customer, subscription: c.subscription, status: 'active' };
      const wrong = await deliver('customer.subscription.updated', vars, { secret: 'whsec_notTheRightSecret0123' });
      expect(wrong).toMatchObject({ status: 400, body: { code: 'invalid_signature' } });
      const tampered = await deliver('customer.subscription.updated', vars, { tamper: true });
      expect(tampered).toMatchObject({ status: 400, body: { code: 'invalid_signature' } });
      const unsigned = await api().json<Body>('POST', '/v1/billing/stripe/webhook', { body: stripeEvent('customer.subscription.updated', vars).payload });
      expect(unsigned).toMatchObject({ status: 400, body: { code: 'invalid_signature' } });
      const stored = await api().db.query('select id from slotbase_private.stripe_events where id = any($1)', [[wrong.id, tampered.id]]);
      expect(stored).toEqual([]);
      expect(await billingOf(c)).toMatchObject({ subscription_status: null });
    });

    it('a signature older than Stripe\'s tolerance (5 minutes) is refused like a bad one', async () => {
      const c = await clinic();
      const e = stripeEvent('customer.subscription.updated', { tenantId: c.id, customer: c.customer, subscription: c.subscription });
      const res = await api().json<Body>('POST', '/v1/billing/stripe/webhook', {
        body: e.payload,
        headers: { 'stripe-signature': signStripe(e.payload, undefined, now() - 600) },
      });
      expect(res).toMatchObject({ status: 400, body: { code: 'invalid_signature' } });
    });

    it('an event type Slotbase does not handle is answered 200 and ignored', async () => {
      const c = await clinic();
      const before = (await jobsOf(api().db, 'stripe_event')).length;
      const res = await deliver('customer.created', { tenantId: c.id, customer: c.customer });
      expect(res).toMatchObject({ status: 200, body: { received: true, stored: false } });
      expect(await jobsOf(api().db, 'stripe_event')).toHaveLength(before);
      expect(await api().db.query('select id from slotbase_private.stripe_events where id = $1', [res.id])).toEqual([]);
    });

    it('a subscription cancelled in Stripe moves the tenant back to the free plan; nothing is deleted', async () => {
      const c = await clinic('pro');
      await api().db.query(`insert into slotbase.providers (tenant_id, name) values ($1, 'Second')`, [c.id]);
      const t = now();
      await subscribe(c, TEST_PRICES.pro, t - 10);
      await deliver('customer.subscription.deleted', { tenantId: c.id, customer: c.customer, subscription: c.subscription, created: t });
      await drainJobs(api().db, { env: workerEnv });
      expect(await billingOf(c)).toMatchObject({ plan: 'free', subscription_status: 'canceled', usage: { providers: { used: 2, limit: 1 } } });
      const providers = await api().json<{ data: unknown[] }>('GET', '/v1/providers', { token: c.tokens.owner });
      expect(providers.body.data).toHaveLength(2);
    });
  });

  describe('limits and pausing through the API', () => {
    it('the N+1th provider on a plan allowing N is 402 plan_limit_reached; a subscription event moving the tenant to pro lifts the limit', async () => {
      const c = await clinic();
      const add = () => api().json<Body>('POST', '/v1/providers', { token: c.tokens.owner, body: { name: 'Dr. Second' } });
      expect(await add()).toMatchObject({ status: 402, body: { code: 'plan_limit_reached' } });
      expect((await api().json('POST', '/v1/locations', { token: c.tokens.owner, body: { name: 'Branch 2', time_zone: 'UTC' } })).status).toBe(402);
      await subscribe(c, TEST_PRICES.pro);
      expect(await add()).toMatchObject({ status: 201 });
    });

    it('past due beyond the grace period pauses public booking (409 booking_paused, the booking page says so) while staff sign in and book; invoice.paid resumes it', async () => {
      const c = await clinic();
      const t = now();
      await subscribe(c, TEST_PRICES.pro, t - (GRACE_DAYS + 2) * 86400);
      await deliver('invoice.payment_failed', { tenantId: c.id, customer: c.customer, subscription: c.subscription, created: t - (GRACE_DAYS + 1) * 86400 });
      await drainJobs(api().db, { env: workerEnv });

      expect(await billingOf(c)).toMatchObject({ plan: 'pro', status: 'past_due', is_booking_paused: true });
      expect(await publicBooking(c, 3)).toMatchObject({ status: 409, body: { code: 'booking_paused' } });
      const page = await api().request('GET', `/b/${c.slug}`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('not taking online bookings');
      const staff = await api().json<Body>('POST', '/v1/bookings', {
        token: c.tokens.owner,
        body: { service_id: c.serviceId, provider_id: c.providerId, starts_at: utc(4, '10:00'), contact: { name: 'Walk-in' } },
      });
      expect(staff.status).toBe(201);
      expect((await api().json('POST', '/v1/billing/portal', { token: c.tokens.owner })).status).toBe(200);

      await deliver('invoice.paid', { tenantId: c.id, customer: c.customer, subscription: c.subscription, created: t });
      await drainJobs(api().db, { env: workerEnv });
      expect(await billingOf(c)).toMatchObject({ status: 'active', is_booking_paused: false, past_due_since: null });
      expect(await publicBooking(c, 5)).toMatchObject({ status: 201 });
    });

    it('within the grace period a past-due tenant still takes public bookings', async () => {
      const c = await clinic();
      const t = now();
      await subscribe(c, TEST_PRICES.pro, t - 3 * 86400);
      await deliver('invoice.payment_failed', { tenantId: c.id, customer: c.customer, subscription: c.subscription, created: t - 2 * 86400 });
      await drainJobs(api().db, { env: workerEnv });
      const state = await billingOf(c);
      expect(state).toMatchObject({ status: 'past_due', is_booking_paused: false });
      expect(new Date(state.grace_ends_at as string).getTime()).toBe((t - 2 * 86400 + GRACE_DAYS * 86400) * 1000);
      expect(await publicBooking(c, 3)).toMatchObject({ status: 201 });
    });
  });
});

describe('billing without Stripe configured', () => {
  const api: () => TestApi = useApi();

  it('every billing route answers 501 billing_not_configured; plans and the rest of Slotbase work', async () => {
    const tenant = await createTenant(api().db);
    const token = (await api().tokens.signAccess({ sub: tenant.owner.userId, tenant_id: tenant.id })).token;
    for (const [method, path, body] of [
      ['GET', '/v1/billing', undefined],
      ['POST', '/v1/billing/checkout', { plan: 'pro' }],
      ['POST', '/v1/billing/portal', undefined],
    ] as const) {
      expect(await api().json(method, path, { token, body })).toMatchObject({ status: 501, body: { code: 'billing_not_configured' } });
    }
    const e = stripeEvent('customer.subscription.updated', { tenantId: tenant.id });
    const hook = await api().json('POST', '/v1/billing/stripe/webhook', { body: e.payload, headers: { 'stripe-signature': signStripe(e.payload) } });
    expect(hook).toMatchObject({ status: 501, body: { code: 'billing_not_configured' } });
    expect((await api().json('GET', '/v1/plans')).status).toBe(200);
    expect((await api().json('GET', '/v1/tenant', { token })).status).toBe(200);
  });
});

describe('Stripe configuration at boot', () => {
  const full = { ...TEST_STRIPE_ENV };

  it('partial Stripe configuration is an error naming what is missing', () => {
    const { STRIPE_WEBHOOK_SECRET: _secret, ...partial } = full;
    expect(() => loadConfig(partial, '/nonexistent')).toThrow(/STRIPE_WEBHOOK_SECRET: required/);
    expect(() => loadConfig({ STRIPE_API_URL: 'http://127.0.0.1:12111' }, '/nonexistent')).toThrow(ConfigError);
    expect(() => loadConfig({ ...full, STRIPE_SECRET_KEY: 'pk_test_publishable' }, '/nonexistent')).toThrow(/STRIPE_SECRET_KEY/);
  });

  it('no Stripe configuration means no billing dependency; a complete one builds a client with the pinned API version', () => {
    expect(stripeBillingFromConfig(loadConfig({}, '/nonexistent'))).toBeUndefined();
    const billing = stripeBillingFromConfig(loadConfig(full, '/nonexistent'));
    expect(billing).toMatchObject({ webhookSecret: full.STRIPE_WEBHOOK_SECRET, prices: { pro: TEST_PRICES.pro, business: TEST_PRICES.business } });
    expect((billing!.client as unknown as Stripe).getApiField('version')).toBe(STRIPE_API_VERSION);
  });
});
