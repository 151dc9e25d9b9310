import { beforeAll, describe, expect, it } from 'vitest';
import { addDailyRules, addMember, createLocation, createProvider, createService, createTenant, linkProvider } from '../support/factories.ts';
import { useApi } from '../support/http.ts';
import { utc } from '../support/staff-world.ts';
import { signStripe, stripeEvent, TEST_STRIPE_ENV, useStripeStandIn } from '../support/stripe-stand-in.ts';
import { drainJobs, jobsOf } from '../support/worker.ts';

/**
 * Paid services end to end: a public booking of a priced service is held, the booker pays through
 * a Checkout session (the real `stripe` client against the local stand-in), and Stripe's signed
 * webhook confirms or releases it. This file's database collects booking payments
 * (billing_settings.collect_booking_payments), as a deployment with Stripe does.
 */

type Body = Record<string, unknown> & { code?: string };
interface Receipt {
  id: string;
  code: string;
  status: string;
  manage_token: string;
  hold_expires_at: string | null;
}

describe('paid bookings through holds and Stripe Checkout', () => {
  const { standIn, billing } = useStripeStandIn();
  const api = useApi({ stripe: billing, publicUrl: 'http://slotbase.test', rateLimit: false });
  const workerEnv = () => ({ ...TEST_STRIPE_ENV, STRIPE_API_URL: standIn().url });

  beforeAll(async () => {
    await api().db.query('update slotbase_private.billing_settings set collect_booking_payments = true');
  });

  /** A UTC clinic open around the clock with a 40 EUR service (and a free one). */
  async function clinic(options: { requiresApproval?: boolean } = {}) {
    const db = api().db;
    const tenant = await createTenant(db, { timeZone: 'UTC' });
    const location = await createLocation(db, tenant.id, { timeZone: 'UTC' });
    const provider = await createProvider(db, tenant.id, { locationId: location.id });
    await addDailyRules(db, tenant.id, { providerId: provider.id }, location.id, '00:00', '24:00');
    const paid = await createService(db, tenant.id, { durationMinutes: 30, maxAdvanceDays: 365, maxPartySize: 4, requiresApproval: options.requiresApproval ?? false });
    await db.query(`update slotbase.services set name = 'Massage', price_cents = 4000, currency = 'EUR' where tenant_id = $1 and id = $2`, [tenant.id, paid.id]);
    const free = await createService(db, tenant.id, { durationMinutes: 30, maxAdvanceDays: 365 });
    for (const s of [paid, free]) await linkProvider(db, tenant.id, s.id, provider.id);
    const receptionist = await addMember(db, tenant.id, 'receptionist');
    const staffToken = (await api().tokens.signAccess({ sub: receptionist.userId, tenant_id: tenant.id })).token;
    const ownerToken = (await api().tokens.signAccess({ sub: tenant.owner.userId, tenant_id: tenant.id })).token;
    return { id: tenant.id, slug: tenant.slug, providerId: provider.id, paidId: paid.id, freeId: free.id, staffToken, ownerToken };
  }
  type Clinic = Awaited<ReturnType<typeof clinic>>;

  const book = (c: Clinic, serviceId: string, startsAt: string, extra: Record<string, unknown> = {}) =>
    api().json<Receipt & Body>('POST', `/v1/public/${c.slug}/bookings`, {
      body: { service_id: serviceId, starts_at: startsAt, contact: { name: 'Ada Guest', email: 'ada@example.test' }, ...extra },
    });

  const checkout = (r: Receipt) =>
    api().json<Body & { id: string; url: string }>('POST', `/v1/public/bookings/${r.code}/checkout`, { headers: { 'x-manage-token': r.manage_token } });

  async function deliver(fixture: string, c: Clinic, bookingId: string, session: string) {
    const e = stripeEvent(fixture, { tenantId: c.id, bookingId, session });
    const res = await api().json<Body>('POST', '/v1/billing/stripe/webhook', { body: e.payload, headers: { 'content-type': 'application/json', 'stripe-signature': signStripe(e.payload) } });
    expect(res.status).toBe(200);
  }

  const statusOf = async (c: Clinic, id: string) =>
    (await api().json<{ status: string }>('GET', `/v1/bookings/${id}`, { token: c.ownerToken })).body.status;

  it('a public booking of a priced service is held for at least 31 minutes even when not asked to hold; free services and staff bookings are not', async () => {
    const c = await clinic();
    const before = Date.now();
    const paid = await book(c, c.paidId, utc(3, '10:00'));
    expect(paid).toMatchObject({ status: 201, body: { status: 'held' } });
    expect(new Date(paid.body.hold_expires_at!).getTime()).toBeGreaterThanOrEqual(before + 31 * 60_000 - 1000);
    expect(await book(c, c.freeId, utc(3, '11:00'))).toMatchObject({ status: 201, body: { status: 'confirmed' } });
    const staff = await api().json<Body>('POST', '/v1/bookings', {
      token: c.staffToken,
      body: { service_id: c.paidId, provider_id: c.providerId, starts_at: utc(3, '12:00'), contact: { name: 'Walk-in' } },
    });
    expect(staff).toMatchObject({ status: 201, body: { status: 'confirmed' } });
  });

  it('the booker opens Checkout with code and manage token: payment mode, price × party size, the booking id in metadata, expiry with the hold, an idempotency key', async () => {
    const c = await clinic();
    const { body: r } = await book(c, c.paidId, utc(3, '10:00'), { party_size: 2 });
    const before = standIn().requests.length;
    const res = await checkout(r);
    expect(res.status).toBe(200);
    expect(res.body.url).toMatch(/^https:\/\/checkout\.stripe\.test\//);
    const [req] = standIn().requests.slice(before);
    const expiresAt = Math.floor(new Date(r.hold_expires_at!).getTime() / 1000);
    expect(req).toMatchObject({ method: 'POST', path: '/v1/checkout/sessions' });
    expect(req!.form).toMatchObject({
      mode: 'payment',
      'line_items[0][quantity]': '1',
      'line_items[0][price_data][currency]': 'eur',
      'line_items[0][price_data][unit_amount]': '8000',
      'line_items[0][price_data][product_data][name]': 'Massage',
      client_reference_id: r.id,
      'metadata[booking_id]': r.id,
      'metadata[tenant_id]': c.id,
      'payment_intent_data[metadata][booking_id]': r.id,
      customer_email: 'ada@example.test',
      expires_at: String(expiresAt),
      success_url: `http://slotbase.test/b/manage/${r.code}?token=${encodeURIComponent(r.manage_token)}&checkout=success`,
      cancel_url: `http://slotbase.test/b/manage/${r.code}?token=${encodeURIComponent(r.manage_token)}&checkout=cancelled`,
    });
    expect(req!.headers['idempotency-key']).toBe(`slotbase:booking-checkout:${r.id}:${expiresAt}`);
  });

  it('Checkout needs the right manage token (404) and a held, priced booking (409)', async () => {
    const c = await clinic();
    const { body: r } = await book(c, c.paidId, utc(3, '10:00'));
    expect(await checkout({ ...r, manage_token: 'not-the-token' })).toMatchObject({ status: 404, body: { code: 'not_found' } });
    const { body: free } = await book(c, c.freeId, utc(3, '11:00'));
    expect(await checkout(free)).toMatchObject({ status: 409, body: { code: 'invalid_transition' } });
  });

  it('a signed checkout.session.completed confirms the held booking and queues its confirmation', async () => {
    const c = await clinic();
    const { body: r } = await book(c, c.paidId, utc(3, '10:00'));
    const { body: session } = await checkout(r);
    expect(await jobsOf(api().db, 'booking_confirmation')).not.toContainEqual(expect.objectContaining({ key: `confirmation:${r.id}` }));
    await deliver('checkout.session.completed.payment', c, r.id, session.id);
    await drainJobs(api().db, { env: workerEnv(), overrides: {} });
    expect(await statusOf(c, r.id)).toBe('confirmed');
    const [payment] = await api().db.query<{ status: string }>('select status from slotbase_private.booking_payments where checkout_session_id = $1', [session.id]);
    expect(payment!.status).toBe('paid');
    // The confirmation job ran in the drain; its delivery log entry shows it was queued by the confirmation.
    const log = await api().json<{ data: { template: string }[] }>('GET', `/v1/notifications?booking_id=${r.id}`, { token: c.ownerToken });
    expect(log.body.data.map((n) => n.template)).toContain('confirmation');
  });

  it('a paid booking of a service that needs approval becomes pending, not confirmed', async () => {
    const c = await clinic({ requiresApproval: true });
    const { body: r } = await book(c, c.paidId, utc(3, '10:00'));
    const { body: session } = await checkout(r);
    await deliver('checkout.session.completed.payment', c, r.id, session.id);
    await drainJobs(api().db, { env: workerEnv() });
    expect(await statusOf(c, r.id)).toBe('pending');
  });

  it('checkout.session.expired releases the slot at once: another booker can take it', async () => {
    const c = await clinic();
    const at = utc(3, '10:00');
    const { body: r } = await book(c, c.paidId, at);
    expect(await book(c, c.paidId, at)).toMatchObject({ status: 409, body: { code: 'slot_taken' } });
    const { body: session } = await checkout(r);
    await deliver('checkout.session.expired.payment', c, r.id, session.id);
    await drainJobs(api().db, { env: workerEnv() });
    expect(await statusOf(c, r.id)).toBe('expired');
    expect(await book(c, c.paidId, at)).toMatchObject({ status: 201, body: { status: 'held' } });
  });

  it('an unpaid hold expires at its time (its job) and the slot is free again', async () => {
    const c = await clinic();
    const at = utc(3, '10:00');
    const { body: r } = await book(c, c.paidId, at);
    // Pass the clock: the hold ended a minute ago, and its job is due.
    await api().db.query(`update slotbase.bookings set hold_expires_at = now() - interval '1 minute' where tenant_id = $1 and id = $2`, [c.id, r.id]);
    await api().db.query(`update graphile_worker._private_jobs set run_at = now() where key = $1`, [`hold:${r.id}`]);
    await drainJobs(api().db, { env: workerEnv() });
    expect(await statusOf(c, r.id)).toBe('expired');
    expect(await book(c, c.paidId, at)).toMatchObject({ status: 201, body: { status: 'held' } });
  });

  it('paid after the hold expired: the booking is not revived and the payment is refunded once', async () => {
    const c = await clinic();
    const { body: r } = await book(c, c.paidId, utc(3, '10:00'));
    const { body: session } = await checkout(r);
    await api().db.query(`update slotbase.bookings set hold_expires_at = now() - interval '1 minute' where tenant_id = $1 and id = $2`, [c.id, r.id]);
    await api().db.query(`select slotbase.expire_holds($1)`, [c.id]);
    const before = standIn().requests.length;
    await deliver('checkout.session.completed.payment', c, r.id, session.id);
    await drainJobs(api().db, { env: workerEnv() });
    expect(await statusOf(c, r.id)).toBe('expired');
    const refunds = standIn().requests.slice(before).filter((q) => q.path === '/v1/refunds');
    expect(refunds).toHaveLength(1);
    expect(refunds[0]!.form).toMatchObject({ payment_intent: 'pi_3SunriseBooking0001', 'metadata[booking_id]': r.id });
    expect(refunds[0]!.headers['idempotency-key']).toBe(`slotbase:refund:${session.id}`);
    const [payment] = await api().db.query<{ status: string }>('select status from slotbase_private.booking_payments where checkout_session_id = $1', [session.id]);
    expect(payment!.status).toBe('paid_too_late');
  });

  it('two bookers racing for the same paid slot: one hold, one 409 slot_taken', async () => {
    const c = await clinic();
    const at = utc(4, '10:00');
    const results = await Promise.all([
      api().json<Body>('POST', `/v1/public/${c.slug}/bookings`, { body: { service_id: c.paidId, starts_at: at, contact: { name: 'Ada', email: 'ada@example.test' } } }),
      api().json<Body>('POST', `/v1/public/${c.slug}/bookings`, { body: { service_id: c.paidId, starts_at: at, contact: { name: 'Bob', email: 'bob@example.test' } } }),
    ]);
    expect(results.map((x) => x.status).sort()).toEqual([201, 409]);
    expect(results.find((x) => x.status === 201)!.body.status).toBe('held');
    expect(results.find((x) => x.status === 409)!.body.code).toBe('slot_taken');
  });
});
