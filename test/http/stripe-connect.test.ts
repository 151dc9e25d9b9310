import { beforeAll, describe, expect, it } from 'vitest';
import { addDailyRules, addMember, createLocation, createProvider, createService, createTenant, linkProvider, uniq } from '../support/factories.ts';
import { useApi } from '../support/http.ts';
import { utc } from '../support/staff-world.ts';
import { signStripe, stripeEvent, stripeIds, TEST_PRICES, TEST_STRIPE_ENV, useStripeStandIn, type EventVars } from '../support/stripe-stand-in.ts';
import type { StripeBilling } from '#src/lib/stripe-billing.ts';
import { drainJobs } from '../support/worker.ts';

/**
 * Booking payments on a tenant's own Stripe account (Stripe Connect): owners connect an acct_… id,
 * Checkout sessions and refunds are created with the Stripe-Account header, and events from a
 * connected account (signed with the Connect endpoint's secret, carrying `account`) reach only the
 * bookings recorded on that account.
 */

const CONNECT_SECRET = 'whsec_slotbaseConnectSigningSecret0123';
type Body = Record<string, unknown> & { code?: string };
interface Receipt {
  id: string;
  code: string;
  status: string;
  manage_token: string;
}

describe('Stripe Connect: booking payments on the tenant\'s connected account', () => {
  const { standIn, billing } = useStripeStandIn();
  const stripe: StripeBilling = {
    get client() {
      return billing.client;
    },
    webhookSecret: billing.webhookSecret,
    connectWebhookSecret: CONNECT_SECRET,
    prices: billing.prices,
  };
  const api = useApi({ stripe, publicUrl: 'http://slotbase.test', rateLimit: false });
  const workerEnv = () => ({ ...TEST_STRIPE_ENV, STRIPE_API_URL: standIn().url });

  beforeAll(async () => {
    await api().db.query('update slotbase_private.billing_settings set collect_booking_payments = true');
  });

  const newAccount = () => `acct_1${uniq().toUpperCase()}Test`;

  async function clinic() {
    const db = api().db;
    const tenant = await createTenant(db, { timeZone: 'UTC' });
    const location = await createLocation(db, tenant.id, { timeZone: 'UTC' });
    const provider = await createProvider(db, tenant.id, { locationId: location.id });
    await addDailyRules(db, tenant.id, { providerId: provider.id }, location.id, '00:00', '24:00');
    const service = await createService(db, tenant.id, { durationMinutes: 30, maxAdvanceDays: 365 });
    await db.query(`update slotbase.services set price_cents = 5000, currency = 'EUR' where tenant_id = $1 and id = $2`, [tenant.id, service.id]);
    await linkProvider(db, tenant.id, service.id, provider.id);
    const ownerToken = (await api().tokens.signAccess({ sub: tenant.owner.userId, tenant_id: tenant.id })).token;
    const admin = await addMember(db, tenant.id, 'admin');
    const adminToken = (await api().tokens.signAccess({ sub: admin.userId, tenant_id: tenant.id })).token;
    return { id: tenant.id, slug: tenant.slug, serviceId: service.id, ownerToken, adminToken };
  }
  type Clinic = Awaited<ReturnType<typeof clinic>>;

  const connect = (c: Clinic, account: string | null, token = c.ownerToken) =>
    api().json<Body>('PUT', '/v1/billing/stripe-account', { token, body: { stripe_account: account } });
  const connectedAccountOf = async (c: Clinic) =>
    (await api().db.query<{ stripe_account_id: string }>('select stripe_account_id from slotbase_private.stripe_connected_accounts where tenant_id = $1', [c.id]))[0]?.stripe_account_id ?? null;

  async function connected() {
    const c = await clinic();
    const account = newAccount();
    standIn().connectAccount(account);
    expect(await connect(c, account)).toMatchObject({ status: 200, body: { stripe_account: account } });
    return { ...c, account };
  }

  async function heldWithCheckout(c: Clinic, startsAt: string) {
    const { body: r } = await api().json<Receipt & Body>('POST', `/v1/public/${c.slug}/bookings`, {
      body: { service_id: c.serviceId, starts_at: startsAt, contact: { name: 'Ada Guest', email: 'ada@example.test' } },
    });
    const before = standIn().requests.length;
    const session = await api().json<{ id: string }>('POST', `/v1/public/bookings/${r.code}/checkout`, { headers: { 'x-manage-token': r.manage_token } });
    expect(session.status).toBe(200);
    return { r, sessionId: session.body.id, request: standIn().requests.slice(before).find((q) => q.path === '/v1/checkout/sessions')! };
  }

  /** Delivers a fixture as Stripe would: signed with the Connect endpoint's secret when it comes from an account. */
  async function deliver(fixture: string, vars: EventVars) {
    const e = stripeEvent(fixture, vars);
    const res = await api().json<Body>('POST', '/v1/billing/stripe/webhook', {
      body: e.payload,
      headers: { 'content-type': 'application/json', 'stripe-signature': signStripe(e.payload, vars.account ? CONNECT_SECRET : undefined) },
    });
    expect(res.status).toBe(200);
    await drainJobs(api().db, { env: workerEnv() });
    return (await api().db.query<{ outcome: string }>('select outcome from slotbase_private.stripe_events where id = $1', [e.id]))[0]?.outcome;
  }

  const statusOf = async (c: Clinic, id: string) =>
    (await api().json<{ status: string }>('GET', `/v1/bookings/${id}`, { token: c.ownerToken })).body.status;

  it('an owner connects an account Stripe knows as connected; GET /v1/billing shows it; null disconnects', async () => {
    const c = await connected();
    expect(standIn().requests.some((q) => q.method === 'GET' && q.path === `/v1/accounts/${c.account}`)).toBe(true);
    expect(await api().json<Body>('GET', '/v1/billing', { token: c.ownerToken })).toMatchObject({ status: 200, body: { stripe_account: c.account } });
    expect(await connect(c, null)).toMatchObject({ status: 200, body: { stripe_account: null } });
    expect(await connectedAccountOf(c)).toBeNull();
  });

  it.each([
    ['a malformed id', 'acct-not-valid', 422, 'validation_failed'],
    ['an account Stripe does not know as connected', 'acct_1UnknownToThePlatform', 422, 'stripe_account_unreachable'],
  ])('%s is refused (%i %s) and nothing is written', async (_what, account, status, code) => {
    const c = await clinic();
    expect(await connect(c, account)).toMatchObject({ status, body: { code } });
    expect(await connectedAccountOf(c)).toBeNull();
  });

  it('admins cannot connect an account (403), and neither can a member through SQL (42501)', async () => {
    const c = await clinic();
    const account = newAccount();
    standIn().connectAccount(account);
    expect(await connect(c, account, c.adminToken)).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    const admin = await addMember(api().db, c.id, 'admin');
    await expect(api().db.queryAs(admin, 'select slotbase.set_stripe_account($1)', [account])).rejects.toMatchObject({ code: '42501' });
    expect(await connectedAccountOf(c)).toBeNull();
  });

  it('another tenant\'s account is refused with 409 stripe_account_in_use, by the API and in SQL; one whose metadata names another tenant too', async () => {
    const a = await connected();
    const b = await clinic();
    expect(await connect(b, a.account)).toMatchObject({ status: 409, body: { code: 'stripe_account_in_use' } });
    const tenant = await createTenant(api().db);
    await expect(api().db.queryAs(tenant.owner, 'select slotbase.set_stripe_account($1)', [a.account])).rejects.toMatchObject({ code: 'SBACT' });
    const claimed = newAccount();
    standIn().connectAccount(claimed, { tenant_id: a.id });
    expect(await connect(b, claimed)).toMatchObject({ status: 409, body: { code: 'stripe_account_in_use' } });
    expect(await connectedAccountOf(b)).toBeNull();
  });

  it('Checkout of a paid booking is created on the connected account (Stripe-Account header) and the account\'s signed event confirms it', async () => {
    const c = await connected();
    const { r, sessionId, request } = await heldWithCheckout(c, utc(3, '10:00'));
    expect(request.headers['stripe-account']).toBe(c.account);
    expect(request.form).toMatchObject({ mode: 'payment', 'metadata[booking_id]': r.id, 'line_items[0][price_data][unit_amount]': '5000' });
    expect(await deliver('checkout.session.completed.payment', { tenantId: c.id, bookingId: r.id, session: sessionId, account: c.account })).toBe('applied');
    expect(await statusOf(c, r.id)).toBe('confirmed');
  });

  it('an event from another tenant\'s account, or from the platform, cannot confirm a session opened on this account', async () => {
    const a = await connected();
    const b = await connected();
    const { r, sessionId } = await heldWithCheckout(a, utc(3, '11:00'));
    // Tenant B's account sends a completed session naming A's booking and tenant in its metadata.
    expect(await deliver('checkout.session.completed.payment', { tenantId: a.id, bookingId: r.id, session: sessionId, account: b.account })).toBe('unmatched');
    expect(await deliver('checkout.session.completed.payment', { tenantId: a.id, bookingId: r.id, session: sessionId })).toBe('unmatched');
    expect(await statusOf(a, r.id)).toBe('held');
    const [payment] = await api().db.query<{ status: string }>('select status from slotbase_private.booking_payments where checkout_session_id = $1', [sessionId]);
    expect(payment!.status).toBe('open');
  });

  it('subscription and invoice events from a connected account never change the platform billing of the tenant they name', async () => {
    const c = await connected();
    const ids = stripeIds();
    expect(await deliver('customer.subscription.updated', { tenantId: c.id, ...ids, price: TEST_PRICES.business, status: 'active', account: c.account })).toBe('ignored');
    expect(await deliver('invoice.payment_failed', { tenantId: c.id, ...ids, account: c.account })).toBe('ignored');
    expect(await api().json<Body>('GET', '/v1/billing', { token: c.ownerToken })).toMatchObject({ body: { plan: 'free', status: 'active', subscription_status: null } });
  });

  it('a cancelled booking paid on the connected account is refunded on that account', async () => {
    const c = await connected();
    const { r, sessionId } = await heldWithCheckout(c, utc(4, '10:00'));
    await deliver('checkout.session.completed.payment', { tenantId: c.id, bookingId: r.id, session: sessionId, account: c.account, paymentIntent: 'pi_3ConnectRefund0001' });
    expect(await api().json('DELETE', `/v1/public/bookings/${r.code}?token=${encodeURIComponent(r.manage_token)}`)).toMatchObject({ status: 200 });
    await drainJobs(api().db, { env: workerEnv() });
    expect(standIn().refunds.filter((x) => x.payment_intent === 'pi_3ConnectRefund0001')).toEqual([
      expect.objectContaining({ amount: 5000, account: c.account, idempotencyKey: `slotbase:booking-refund:${r.id}` }),
    ]);
  });
});
