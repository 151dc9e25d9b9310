import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDailyRules, addMember, createLocation, createProvider, createService, createTenant, linkProvider } from '../support/factories.ts';
import { useApi } from '../support/http.ts';
import { utc } from '../support/staff-world.ts';
import { signStripe, stripeEvent, TEST_STRIPE_ENV, useStripeStandIn } from '../support/stripe-stand-in.ts';
import { drainJobs, jobsOf } from '../support/worker.ts';
import { startSmtp, type TestSmtp } from '../jobs/notifications-support.ts';

/**
 * Cancellation policy, deposits and refunds of paid bookings: the refund is decided in SQL when
 * the booking is cancelled or rejected, executed by the booking_refund job through the real
 * `stripe` client against the local stand-in, and shown to the booker before they cancel.
 */

type Body = Record<string, unknown> & { code?: string };
interface Receipt {
  id: string;
  code: string;
  status: string;
  manage_token: string;
}
interface Payment {
  amount_total_cents: number | null;
  amount_paid_cents: number;
  amount_due_cents: number | null;
  refund_if_cancelled_cents: number | null;
  full_refund_until: string | null;
  refund: { amount_cents: number; status: string; basis: string; stripe_refund_id: string | null } | null;
}
interface Policy {
  notice?: number;
  latePercent?: number;
  deposit?: number | null;
  requiresApproval?: boolean;
}

describe('refunds on cancellation, cancellation policy and deposits', () => {
  const { standIn, billing } = useStripeStandIn();
  const api = useApi({ stripe: billing, publicUrl: 'http://slotbase.test', rateLimit: false });
  let smtp: TestSmtp;
  const workerEnv = () => ({ ...TEST_STRIPE_ENV, STRIPE_API_URL: standIn().url, SMTP_URL: smtp.url });
  const drain = () => drainJobs(api().db, { env: workerEnv() });

  beforeAll(async () => {
    smtp = await startSmtp();
    await api().db.query('update slotbase_private.billing_settings set collect_booking_payments = true');
  });
  afterAll(async () => {
    await smtp?.close();
  });

  /** A UTC clinic open around the clock with a 40 EUR service under the given policy; its owner sets it through the API. */
  async function clinic(policy: Policy = {}) {
    const db = api().db;
    const tenant = await createTenant(db, { timeZone: 'UTC' });
    const location = await createLocation(db, tenant.id, { timeZone: 'UTC' });
    const provider = await createProvider(db, tenant.id, { locationId: location.id });
    await addDailyRules(db, tenant.id, { providerId: provider.id }, location.id, '00:00', '24:00');
    const service = await createService(db, tenant.id, { durationMinutes: 30, maxAdvanceDays: 365, maxPartySize: 4, requiresApproval: policy.requiresApproval ?? false });
    await linkProvider(db, tenant.id, service.id, provider.id);
    const ownerToken = (await api().tokens.signAccess({ sub: tenant.owner.userId, tenant_id: tenant.id })).token;
    const receptionist = await addMember(db, tenant.id, 'receptionist');
    const staffToken = (await api().tokens.signAccess({ sub: receptionist.userId, tenant_id: tenant.id })).token;
    const patch = await api().json<Body>('PATCH', `/v1/services/${service.id}`, {
      token: ownerToken,
      body: {
        price_cents: 4000,
        currency: 'EUR',
        cancellation_notice_minutes: policy.notice ?? 1440,
        late_cancellation_refund_percent: policy.latePercent ?? 0,
        deposit_percent: policy.deposit ?? null,
      },
    });
    expect(patch.status).toBe(200);
    return { id: tenant.id, slug: tenant.slug, serviceId: service.id, ownerToken, staffToken };
  }
  type Clinic = Awaited<ReturnType<typeof clinic>>;

  /** Books (held), opens Checkout, delivers the signed completed event and runs the worker: a paid booking. */
  async function paidBooking(c: Clinic, startsAt: string, partySize = 1) {
    const booked = await api().json<Receipt & Body>('POST', `/v1/public/${c.slug}/bookings`, {
      body: { service_id: c.serviceId, starts_at: startsAt, party_size: partySize, contact: { name: 'Ada Guest', email: `ada-${Date.now()}@example.test` } },
    });
    expect(booked.body.status).toBe('held');
    const r = booked.body;
    const before = standIn().requests.length;
    const session = await api().json<{ id: string }>('POST', `/v1/public/bookings/${r.code}/checkout`, { headers: { 'x-manage-token': r.manage_token } });
    expect(session.status).toBe(200);
    const checkoutRequest = standIn().requests.slice(before).find((q) => q.path === '/v1/checkout/sessions')!;
    const paymentIntent = `pi_3Refund${r.id.replaceAll('-', '').slice(0, 16)}`;
    const e = stripeEvent('checkout.session.completed.payment', { tenantId: c.id, bookingId: r.id, session: session.body.id, paymentIntent });
    const res = await api().json<Body>('POST', '/v1/billing/stripe/webhook', { body: e.payload, headers: { 'content-type': 'application/json', 'stripe-signature': signStripe(e.payload) } });
    expect(res.status).toBe(200);
    await drain();
    expect(await statusOf(c, r.id)).toMatch(/^(confirmed|pending)$/);
    return { ...r, sessionId: session.body.id, paymentIntent, checkoutRequest };
  }

  const statusOf = async (c: Clinic, id: string) =>
    (await api().json<{ status: string }>('GET', `/v1/bookings/${id}`, { token: c.ownerToken })).body.status;
  const publicPayment = (r: Receipt) => api().json<Payment & Body>('GET', `/v1/public/bookings/${r.code}/payment?token=${encodeURIComponent(r.manage_token)}`);
  const staffPayment = (c: Clinic, id: string) => api().json<Payment & Body>('GET', `/v1/bookings/${id}/payment`, { token: c.ownerToken });
  const cancelAsBooker = (r: Receipt) => api().json<Body>('DELETE', `/v1/public/bookings/${r.code}?token=${encodeURIComponent(r.manage_token)}`);
  const refundsFor = (paymentIntent: string) => standIn().refunds.filter((x) => x.payment_intent === paymentIntent);

  it('the booker cancels before the notice window: the manage view promised all of it, the job refunds all of it once, with an idempotency key, and the mail says so', async () => {
    const c = await clinic({ notice: 1440, latePercent: 0 });
    const r = await paidBooking(c, utc(3, '10:00'));
    const quote = await publicPayment(r);
    expect(quote).toMatchObject({ status: 200, body: { amount_paid_cents: 4000, refund_if_cancelled_cents: 4000, amount_due_cents: 0 } });
    expect(new Date(quote.body.full_refund_until!).getTime()).toBe(new Date(utc(2, '10:00')).getTime());
    expect(await cancelAsBooker(r)).toMatchObject({ status: 200, body: { status: 'cancelled' } });
    expect(await jobsOf(api().db, 'booking_refund')).toContainEqual(expect.objectContaining({ key: `refund:${r.id}` }));
    await drain();
    const refunds = refundsFor(r.paymentIntent);
    expect(refunds).toEqual([expect.objectContaining({ amount: 4000, account: null, idempotencyKey: `slotbase:booking-refund:${r.id}` })]);
    const request = standIn().requests.find((q) => q.path === '/v1/refunds' && q.form.payment_intent === r.paymentIntent)!;
    expect(request.form).toMatchObject({ amount: '4000', reason: 'requested_by_customer', 'metadata[booking_id]': r.id, 'metadata[basis]': 'before_notice' });
    expect((await staffPayment(c, r.id)).body.refund).toEqual({ amount_cents: 4000, status: 'succeeded', basis: 'before_notice', stripe_refund_id: refunds[0]!.id });
    const mail = smtp.received.find((m) => m.parsed.subject?.startsWith('Cancelled:') && m.parsed.text?.includes(r.code));
    expect(mail?.parsed.text).toContain('Refund: €40.00, back to the card you paid with');
  });

  it('the booker cancels inside the notice window: the late share is refunded (rounded down), as the manage view said', async () => {
    // A 10-day notice window: a booking 3 days ahead is already inside it (no clock to pass).
    const c = await clinic({ notice: 14_400, latePercent: 33 });
    const r = await paidBooking(c, utc(3, '11:00'));
    expect((await publicPayment(r)).body).toMatchObject({ amount_paid_cents: 4000, refund_if_cancelled_cents: 1320 });
    await cancelAsBooker(r);
    await drain();
    expect(refundsFor(r.paymentIntent).map((x) => x.amount)).toEqual([1320]);
    const mail = smtp.received.find((m) => m.parsed.subject?.startsWith('Cancelled:') && m.parsed.text?.includes(r.code));
    expect(mail?.parsed.text).toContain('€13.20 of the €40.00 paid');
  });

  it('no refund inside the window when the policy gives none: recorded as none, no job, nothing sent to Stripe', async () => {
    const c = await clinic({ notice: 14_400, latePercent: 0 });
    const r = await paidBooking(c, utc(3, '12:00'));
    expect((await publicPayment(r)).body.refund_if_cancelled_cents).toBe(0);
    await cancelAsBooker(r);
    expect(await jobsOf(api().db, 'booking_refund')).not.toContainEqual(expect.objectContaining({ key: `refund:${r.id}` }));
    await drain();
    expect(refundsFor(r.paymentIntent)).toEqual([]);
    expect((await staffPayment(c, r.id)).body.refund).toMatchObject({ amount_cents: 0, status: 'none', basis: 'late' });
  });

  it('staff cancelling inside the window refunds everything; a rejection refunds everything', async () => {
    const c = await clinic({ notice: 14_400, latePercent: 0 });
    const r = await paidBooking(c, utc(3, '13:00'));
    expect(await api().json('POST', `/v1/bookings/${r.id}/cancel`, { token: c.staffToken, body: { reason: 'Doctor ill' } })).toMatchObject({ status: 200 });
    const approval = await clinic({ notice: 14_400, latePercent: 0, requiresApproval: true });
    const p = await paidBooking(approval, utc(3, '14:00'));
    expect(await statusOf(approval, p.id)).toBe('pending');
    expect(await api().json('POST', `/v1/bookings/${p.id}/reject`, { token: approval.staffToken, body: { reason: 'Fully booked' } })).toMatchObject({ status: 200 });
    await drain();
    expect(refundsFor(r.paymentIntent).map((x) => x.amount)).toEqual([4000]);
    expect(refundsFor(p.paymentIntent).map((x) => x.amount)).toEqual([4000]);
    expect((await staffPayment(c, r.id)).body.refund).toMatchObject({ basis: 'staff_cancelled', status: 'succeeded' });
    expect((await staffPayment(approval, p.id)).body.refund).toMatchObject({ basis: 'rejected', status: 'succeeded' });
  });

  it('a duplicated job, and a retry after the refund id was lost, refund once (idempotency key replayed by Stripe)', async () => {
    const c = await clinic();
    const r = await paidBooking(c, utc(4, '10:00'));
    await cancelAsBooker(r);
    await drain();
    // The same job again: the refund is recorded, nothing is sent.
    await api().db.query(`select graphile_worker.add_job('booking_refund', json_build_object('tenant_id', $1::uuid, 'booking_id', $2::uuid))`, [c.id, r.id]);
    await drain();
    const sent = () => standIn().requests.filter((q) => q.path === '/v1/refunds' && q.form.payment_intent === r.paymentIntent);
    expect(sent()).toHaveLength(1);
    // The worker died after Stripe accepted the refund and before the id committed: the retry sends
    // the same idempotency key, and Stripe answers the first refund again.
    const [first] = await api().db.query<{ stripe_refund_id: string }>('select stripe_refund_id from slotbase_private.booking_refunds where booking_id = $1', [r.id]);
    await api().db.query(`update slotbase_private.booking_refunds set stripe_refund_id = null, status = 'queued' where booking_id = $1`, [r.id]);
    await api().db.query(`select graphile_worker.add_job('booking_refund', json_build_object('tenant_id', $1::uuid, 'booking_id', $2::uuid))`, [c.id, r.id]);
    await drain();
    expect(sent()).toHaveLength(2);
    expect(new Set(sent().map((q) => q.headers['idempotency-key']))).toEqual(new Set([`slotbase:booking-refund:${r.id}`]));
    expect(refundsFor(r.paymentIntent)).toHaveLength(1);
    const [again] = await api().db.query<{ stripe_refund_id: string }>('select stripe_refund_id from slotbase_private.booking_refunds where booking_id = $1', [r.id]);
    expect(again!.stripe_refund_id).toBe(first!.stripe_refund_id);
  });

  it('Stripe refusing the refund records it failed and does not retry', async () => {
    const c = await clinic();
    const r = await paidBooking(c, utc(4, '11:00'));
    await cancelAsBooker(r);
    standIn().failNext(400, { type: 'invalid_request_error', message: 'Charge has already been refunded.', code: 'charge_already_refunded' });
    await drain();
    expect((await staffPayment(c, r.id)).body.refund).toMatchObject({ status: 'failed', stripe_refund_id: null });
    expect(await jobsOf(api().db, 'booking_refund')).toEqual([]);
  });

  it('refund.updated moves the refund status; an older event after a newer one changes nothing', async () => {
    const c = await clinic();
    // Stripe answers this refund `pending` (as for some payment methods), then reports it by webhook.
    const r = await (async () => {
      standIn().refundStatus = 'pending';
      try {
        const b = await paidBooking(c, utc(4, '12:00'));
        await cancelAsBooker(b);
        await drain();
        return b;
      } finally {
        standIn().refundStatus = 'succeeded';
      }
    })();
    const refundId = (await staffPayment(c, r.id)).body.refund!.stripe_refund_id!;
    expect((await staffPayment(c, r.id)).body.refund!.status).toBe('pending');
    const now = Math.floor(Date.now() / 1000);
    const send = async (status: string, created: number) => {
      const e = stripeEvent('refund.updated', { tenantId: c.id, bookingId: r.id, refund: refundId, created });
      (e.event as { data: { object: { status: string } } }).data.object.status = status;
      const payload = JSON.stringify(e.event);
      expect((await api().json('POST', '/v1/billing/stripe/webhook', { body: payload, headers: { 'content-type': 'application/json', 'stripe-signature': signStripe(payload) } })).status).toBe(200);
    };
    await send('succeeded', now);
    await send('failed', now - 60);
    await drain();
    expect((await staffPayment(c, r.id)).body.refund!.status).toBe('succeeded');
  });

  it('a deposit: Checkout charges the deposit share, the booking records paid and due, and a refund returns what was paid', async () => {
    const c = await clinic({ deposit: 30, notice: 1440 });
    const r = await paidBooking(c, utc(5, '10:00'), 2);
    expect(r.checkoutRequest.form).toMatchObject({
      'line_items[0][price_data][unit_amount]': '2400',
      'line_items[0][price_data][product_data][name]': expect.stringContaining('deposit (30%)'),
      'metadata[amount_total_cents]': '8000',
      'metadata[amount_due_cents]': '5600',
      'metadata[deposit_percent]': '30',
      'payment_intent_data[metadata][deposit_percent]': '30',
    });
    expect(r.checkoutRequest.form['custom_text[submit][message]']).toContain('30% deposit');
    expect((await staffPayment(c, r.id)).body).toMatchObject({ amount_total_cents: 8000, amount_paid_cents: 2400, amount_due_cents: 5600, deposit_percent: 30 });
    expect((await publicPayment(r)).body).toMatchObject({ amount_paid_cents: 2400, amount_due_cents: 5600, refund_if_cancelled_cents: 2400 });
    await cancelAsBooker(r);
    await drain();
    expect(refundsFor(r.paymentIntent).map((x) => x.amount)).toEqual([2400]);
    expect((await staffPayment(c, r.id)).body.amount_due_cents).toBe(0);
  });

  it('the payment views need the manage token or staff rights (404 otherwise)', async () => {
    const c = await clinic();
    const other = await clinic();
    const r = await paidBooking(c, utc(5, '11:00'));
    expect(await publicPayment({ ...r, manage_token: 'wrong' })).toMatchObject({ status: 404, body: { code: 'not_found' } });
    expect(await api().json('GET', `/v1/bookings/${r.id}/payment`, { token: other.ownerToken })).toMatchObject({ status: 404, body: { code: 'not_found' } });
  });

  describe('the policy and deposit fields of a service', () => {
    const fields = `select cancellation_notice_minutes, late_cancellation_refund_percent, deposit_percent, price_cents from slotbase.services where id = $1`;

    it('are part of the catalog API', async () => {
      const c = await clinic({ notice: 2880, latePercent: 25, deposit: 20 });
      const res = await api().json<Body>('GET', `/v1/services/${c.serviceId}`, { token: c.ownerToken });
      expect(res.body).toMatchObject({ cancellation_notice_minutes: 2880, late_cancellation_refund_percent: 25, deposit_percent: 20, price_cents: 4000 });
      const created = await api().json<Body>('POST', '/v1/services', {
        token: c.ownerToken,
        body: { slug: 'deposit-only', name: 'Deposit', duration_minutes: 30, price_cents: 1000, currency: 'EUR', deposit_percent: 50 },
      });
      expect(created).toMatchObject({ status: 201, body: { deposit_percent: 50, cancellation_notice_minutes: 0, late_cancellation_refund_percent: 0 } });
    });

    it.each([
      ['a refund share above 100', { late_cancellation_refund_percent: 101 }, 'late_cancellation_refund_percent'],
      ['a negative notice', { cancellation_notice_minutes: -1 }, 'cancellation_notice_minutes'],
      ['a deposit above 100', { deposit_percent: 150 }, 'deposit_percent'],
      ['a deposit without a price', { deposit_percent: 30, price_cents: null, currency: null }, 'deposit_percent'],
    ])('%s is refused with 422 validation_failed naming the field, and nothing is written', async (_what, patch, field) => {
      const c = await clinic({ notice: 60, latePercent: 10 });
      const before = await api().db.query(fields, [c.serviceId]);
      const res = await api().json<Body & { errors?: { field?: string }[] }>('PATCH', `/v1/services/${c.serviceId}`, { token: c.ownerToken, body: patch });
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('validation_failed');
      expect(JSON.stringify(res.body)).toContain(field);
      expect(await api().db.query(fields, [c.serviceId])).toEqual(before);
    });

    it('a member writing SQL directly meets the same rule (deposit without a price: 23514)', async () => {
      const tenant = await createTenant(api().db, { timeZone: 'UTC' });
      await expect(
        api().db.queryAs(tenant.owner, `insert into slotbase.services (tenant_id, slug, name, duration_minutes, deposit_percent) values ($1, 'x', 'X', 30, 20)`, [tenant.id]),
      ).rejects.toMatchObject({ code: '23514' });
    });
  });
});
