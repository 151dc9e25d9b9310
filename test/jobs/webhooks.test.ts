import { afterEach, describe, expect, it } from 'vitest';
import { useApi } from '../support/http.ts';
import { createStaffWorld, utc, type StaffWorld } from '../support/staff-world.ts';
import { retryDelayMs } from '#src/jobs/tasks/webhook_delivery.ts';
import { drainJobs, jobsOf, startTestWorker } from '../support/worker.ts';
import { startReceiver, waitFor, type Answer, type Receiver } from './webhooks-receiver.ts';

interface Endpoint {
  id: string;
  url: string;
  secret: string;
  event_types: string[];
  is_enabled: boolean;
  disabled_reason: string | null;
  consecutive_failures: number;
}
interface Attempt {
  status_code: number | null;
  error: string | null;
  is_success: boolean;
  duration_ms: number;
}
interface Delivery {
  id: string;
  message_id: string;
  event_type: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  last_response_excerpt: string | null;
  payload: { type: string; timestamp: string; data: Record<string, unknown> };
  attempt_log: Attempt[];
}
interface Booking {
  id: string;
  code: string;
  status: string;
  starts_at: string;
}

describe('outbound webhooks (worker, real receivers, verified with standardwebhooks)', () => {
  const api = useApi();
  const db = () => api().db;
  const receivers: Receiver[] = [];
  afterEach(async () => {
    const all = receivers.splice(0);
    await Promise.all(all.map((r) => r.close()));
    // Every request any receiver got verified with standardwebhooks (the secret of its time).
    expect(all.flatMap((r) => r.received.filter((x) => x.verifyError !== undefined).map((x) => x.verifyError))).toEqual([]);
  });

  async function receiver(answer?: (n: number) => Answer): Promise<Receiver> {
    const r = await startReceiver(answer);
    receivers.push(r);
    return r;
  }

  const call = <T = Record<string, unknown>>(method: string, path: string, token: string, body?: unknown) =>
    api().json<T>(method, path, { token, ...(body !== undefined ? { body } : {}) });

  /** Registers an endpoint for the receiver through the API and gives the receiver its secret. */
  async function subscribe(w: StaffWorld, r: Receiver, body: Record<string, unknown> = {}): Promise<Endpoint> {
    const res = await call<Endpoint>('POST', '/v1/webhook-endpoints', w.tokens.owner, { url: r.url, ...body });
    expect(res.status).toBe(201);
    r.secret = res.body.secret;
    return res.body;
  }

  async function book(w: StaffWorld, startsAt: string): Promise<Booking> {
    const res = await call<Booking>('POST', '/v1/bookings', w.tokens.owner, {
      service_id: w.serviceId, starts_at: startsAt, provider_id: w.providerA, contact: { name: 'Ada Guest', email: 'ada@example.test', phone: '+49 30 1234567' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }

  const deliveries = async (w: StaffWorld, endpointId: string) =>
    (await call<{ data: Delivery[] }>('GET', `/v1/webhook-endpoints/${endpointId}/deliveries`, w.tokens.owner)).body.data;
  const delivery = async (w: StaffWorld, id: string) => (await call<Delivery>('GET', `/v1/webhook-deliveries/${id}`, w.tokens.owner)).body;
  const endpoint = async (w: StaffWorld, id: string) => (await call<Endpoint>('GET', `/v1/webhook-endpoints/${id}`, w.tokens.owner)).body;
  const ping = async (w: StaffWorld, endpointId: string) => {
    const res = await call<Delivery>('POST', `/v1/webhook-endpoints/${endpointId}/test`, w.tokens.owner);
    expect(res.status).toBe(202);
    return res.body;
  };

  it('a booking made and cancelled through the API posts booking.created then booking.cancelled, each verified, with the booking as it was then', async () => {
    const w = await createStaffWorld(api());
    const r = await receiver();
    const ep = await subscribe(w, r, { event_types: ['booking.created', 'booking.cancelled'] });
    const b = await book(w, utc(3, '10:00'));
    expect((await call('POST', `/v1/bookings/${b.id}/cancel`, w.tokens.owner, { reason: 'Patient is ill' })).status).toBe(200);
    await drainJobs(db());

    expect(r.received.map((x) => x.verifyError)).toEqual([undefined, undefined]);
    expect(r.events().map((e) => e.type)).toEqual(['booking.created', 'booking.cancelled']);
    const [created, cancelled] = r.events();
    expect(created!.data).toMatchObject({
      id: b.id, code: b.code, status: 'confirmed', source: 'staff', service_id: w.serviceId, provider_id: w.providerA, location_id: w.locationA,
      starts_at: b.starts_at, party_size: 1, contact: { name: 'Ada Guest', email: 'ada@example.test', phone: '+49 30 1234567' }, status_reason: null,
    });
    expect(cancelled!.data).toMatchObject({ id: b.id, status: 'cancelled', previous_status: 'confirmed', status_reason: 'Patient is ill' });
    expect(Date.parse(cancelled!.timestamp)).toBeGreaterThanOrEqual(Date.parse(created!.timestamp));

    const [first] = r.received;
    expect(first!.headers['content-type']).toBe('application/json');
    expect(first!.headers['user-agent']).toBe('Slotbase-Webhooks/1');
    const log = await deliveries(w, ep.id);
    expect(log.map((d) => [d.event_type, d.status, d.attempts])).toEqual([['booking.cancelled', 'succeeded', 1], ['booking.created', 'succeeded', 1]]);
    // webhook-id is the delivery's message id; the body is exactly the stored payload.
    const byId = new Map(log.map((d) => [d.message_id, d]));
    expect(new Set(r.received.map((x) => x.headers['webhook-id']))).toEqual(new Set(byId.keys()));
    for (const x of r.received) expect(JSON.parse(x.body)).toEqual(byId.get(x.headers['webhook-id'] as string)!.payload);
  });

  it('a booking created as confirmed sends booking.created and booking.confirmed; a reschedule sends booking.rescheduled with previous_starts_at', async () => {
    const w = await createStaffWorld(api());
    const r = await receiver();
    await subscribe(w, r);
    const before = utc(4, '09:00');
    const b = await book(w, before);
    const moved = await call<Booking>('POST', `/v1/bookings/${b.id}/reschedule`, w.tokens.owner, { starts_at: utc(4, '11:00') });
    expect(moved.status).toBe(200);
    await drainJobs(db());
    expect(r.received.every((x) => x.verifyError === undefined)).toBe(true);
    expect(r.events().map((e) => e.type)).toEqual(['booking.created', 'booking.confirmed', 'booking.rescheduled']);
    expect(r.events()[2]!.data).toMatchObject({ id: b.id, starts_at: moved.body.starts_at, previous_starts_at: before, previous_provider_id: w.providerA });
  });

  it('an endpoint subscribed to booking.cancelled gets nothing when a booking is created, and the cancellation when it is cancelled', async () => {
    const w = await createStaffWorld(api());
    const r = await receiver();
    const ep = await subscribe(w, r, { event_types: ['booking.cancelled'] });
    const b = await book(w, utc(3, '12:00'));
    await drainJobs(db());
    expect(r.received).toEqual([]);
    expect(await deliveries(w, ep.id)).toEqual([]);
    await call('POST', `/v1/bookings/${b.id}/cancel`, w.tokens.owner);
    await drainJobs(db());
    expect(r.events().map((e) => e.type)).toEqual(['booking.cancelled']);
  });

  it('a rolled-back booking leaves no delivery and no job (the trigger writes them in the booking\'s own transaction)', async () => {
    const w = await createStaffWorld(api());
    const r = await receiver();
    const ep = await subscribe(w, r);
    const [owner] = await db().query<{ user_id: string }>(`select user_id from slotbase.memberships where tenant_id = $1 and role = 'owner'`, [w.tenantId]);
    const principal = { role: 'authenticated' as const, userId: owner!.user_id, tenantId: w.tenantId };
    const rollback = new Error('roll back');
    let seenInside = -1;
    await expect(
      db().as(principal, async (q) => {
        await q.query(
          `select slotbase.create_booking(p_tenant_id => $1, p_service_id => $2, p_starts_at => $3, p_provider_id => $4,
             p_contact_name => 'Never Was', p_on_behalf => true)`,
          [w.tenantId, w.serviceId, utc(5, '10:00'), w.providerA],
        );
        seenInside = (await q.query(`select 1 from slotbase.webhook_deliveries where endpoint_id = $1`, [ep.id])).length;
        throw rollback;
      }),
    ).rejects.toBe(rollback);
    expect(seenInside).toBe(2); // booking.created and booking.confirmed existed inside the transaction
    const webhookJobsOfTenant = async () => (await jobsOf(db(), 'webhook_delivery')).filter((j) => j.payload.tenant_id === w.tenantId);
    expect(await webhookJobsOfTenant()).toEqual([]);
    expect(await deliveries(w, ep.id)).toEqual([]);
    // The same booking committed does produce them.
    await book(w, utc(5, '10:00'));
    expect(await webhookJobsOfTenant()).toHaveLength(2);
    await drainJobs(db());
    expect(r.events().map((e) => e.data.contact)).toEqual([
      expect.objectContaining({ name: 'Ada Guest' }),
      expect.objectContaining({ name: 'Ada Guest' }),
    ]);
  });

  it('another tenant\'s endpoint never receives this tenant\'s events', async () => {
    const a = await createStaffWorld(api());
    const b = await createStaffWorld(api());
    const ra = await receiver();
    const rb = await receiver();
    await subscribe(a, ra);
    const epB = await subscribe(b, rb);
    await book(a, utc(3, '14:00'));
    await drainJobs(db());
    expect(ra.events().map((e) => e.type)).toEqual(['booking.created', 'booking.confirmed']);
    expect(rb.received).toEqual([]);
    expect(await deliveries(b, epB.id)).toEqual([]);
  });

  it('a receiver answering 500 three times and then 200 gets the same message four times: one success, four attempts logged', async () => {
    const w = await createStaffWorld(api());
    const r = await receiver((n) => (n < 3 ? { status: 500, body: 'database is down' } : { status: 200, body: 'ok' }));
    const ep = await subscribe(w, r);
    const d = await ping(w, ep.id);
    const worker = await startTestWorker(db(), { env: { WEBHOOK_RETRY_BASE_MS: '20' } });
    try {
      await waitFor(async () => (await delivery(w, d.id)).status === 'succeeded', 'the delivery to succeed');
    } finally {
      await worker.stop();
    }
    expect(r.received).toHaveLength(4);
    expect(r.received.map((x) => x.verifyError)).toEqual([undefined, undefined, undefined, undefined]);
    expect(new Set(r.received.map((x) => x.headers['webhook-id']))).toEqual(new Set([d.message_id]));
    const done = await delivery(w, d.id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 4, last_status_code: 200, last_error: null, last_response_excerpt: 'ok' });
    expect(done.attempt_log.map((a) => [a.status_code, a.is_success])).toEqual([[500, false], [500, false], [500, false], [200, true]]);
    expect(done.attempt_log[0]).toMatchObject({ error: 'HTTP 500', response_excerpt: 'database is down' });
    expect((await endpoint(w, ep.id)).consecutive_failures).toBe(0);
    expect((await jobsOf(db(), 'webhook_delivery')).filter((j) => j.payload.delivery_id === d.id)).toEqual([]);
  });

  it('a receiver that never answers is cut off at WEBHOOK_TIMEOUT_MS, the timeout is recorded, and the worker goes on to the next delivery', async () => {
    const w = await createStaffWorld(api());
    const hang = await receiver(() => 'hang');
    const fine = await receiver();
    const slow = await subscribe(w, hang);
    const ok = await subscribe(w, fine);
    const stuck = await ping(w, slow.id);
    const next = await ping(w, ok.id);
    await drainJobs(db(), { env: { WEBHOOK_TIMEOUT_MS: '200', WEBHOOK_MAX_ATTEMPTS: '1' } });
    expect(hang.received).toHaveLength(1);
    const failed = await delivery(w, stuck.id);
    expect(failed).toMatchObject({ status: 'failed', attempts: 1, last_status_code: null, last_error: 'timeout after 200 ms' });
    expect(failed.attempt_log).toEqual([expect.objectContaining({ status_code: null, error: 'timeout after 200 ms', is_success: false })]);
    expect((await delivery(w, next.id)).status).toBe('succeeded');
    expect(fine.events().map((e) => e.type)).toEqual(['webhook.test']);
  });

  it('a redirect is not followed: a 3xx is a failed attempt', async () => {
    const w = await createStaffWorld(api());
    const target = await receiver();
    const r = await receiver(() => ({ status: 302, headers: { location: target.url } }));
    const ep = await subscribe(w, r);
    target.secret = r.secret;
    const d = await ping(w, ep.id);
    await drainJobs(db(), { env: { WEBHOOK_MAX_ATTEMPTS: '1' } });
    expect(target.received).toEqual([]);
    expect(await delivery(w, d.id)).toMatchObject({ status: 'failed', last_status_code: 302, last_error: 'HTTP 302 (redirects are not followed)' });
  });

  it('a refused connection is a failed attempt with the reason, and the next attempt is scheduled with backoff', async () => {
    const w = await createStaffWorld(api());
    const gone = await receiver();
    const ep = await subscribe(w, gone);
    await gone.close();
    const d = await ping(w, ep.id);
    await drainJobs(db(), { env: { WEBHOOK_RETRY_BASE_MS: '3600000' } });
    const after = await delivery(w, d.id);
    expect(after).toMatchObject({ status: 'pending', attempts: 1, last_status_code: null });
    expect(after.last_error).toMatch(/ECONNREFUSED/);
    const [retry] = (await jobsOf(db(), 'webhook_delivery')).filter((j) => j.payload.delivery_id === d.id);
    expect(retry).toMatchObject({ key: `webhook:${d.id}`, payload: { attempt: 2 } });
    // Due in one base delay (plus at most 20 % jitter) from the attempt.
    const attemptedAt = Date.parse((after as unknown as { updated_at: string }).updated_at);
    expect(retry!.run_at.getTime() - attemptedAt).toBeGreaterThanOrEqual(3_600_000 - 1_000);
    expect(retry!.run_at.getTime() - attemptedAt).toBeLessThanOrEqual(3_600_000 * 1.2 + 1_000);
  });

  it('the backoff doubles from WEBHOOK_RETRY_BASE_MS, with at most 20 % jitter', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(30_000, n, () => 0))).toEqual([30_000, 60_000, 120_000, 240_000, 480_000]);
    expect(retryDelayMs(30_000, 3, () => 0.5)).toBe(132_000);
    expect(retryDelayMs(30_000, 3, () => 1)).toBe(144_000);
  });

  it('an endpoint is disabled after WEBHOOK_DISABLE_AFTER_FAILURES consecutive failed attempts, gets no new deliveries, and re-enabling resets its count', async () => {
    const w = await createStaffWorld(api());
    const r = await receiver(() => ({ status: 503 }));
    const ep = await subscribe(w, r);
    const d = await ping(w, ep.id);
    const worker = await startTestWorker(db(), { env: { WEBHOOK_RETRY_BASE_MS: '20', WEBHOOK_MAX_ATTEMPTS: '10', WEBHOOK_DISABLE_AFTER_FAILURES: '3' } });
    try {
      await waitFor(async () => (await delivery(w, d.id)).status === 'failed', 'the delivery to fail');
    } finally {
      await worker.stop();
    }
    expect(r.received).toHaveLength(3);
    const off = await endpoint(w, ep.id);
    expect(off).toMatchObject({ is_enabled: false, consecutive_failures: 3 });
    expect(off.disabled_reason).toMatch(/3 consecutive failed/);
    expect(await delivery(w, d.id)).toMatchObject({ status: 'failed', attempts: 3 });
    expect((await jobsOf(db(), 'webhook_delivery')).filter((j) => j.payload.delivery_id === d.id)).toEqual([]);

    await book(w, utc(3, '16:00'));
    expect((await deliveries(w, ep.id)).map((x) => x.id)).toEqual([d.id]);
    expect((await call('POST', `/v1/webhook-endpoints/${ep.id}/test`, w.tokens.owner)).body).toMatchObject({ status: 409, code: 'webhook_endpoint_disabled' });
    expect((await call('POST', `/v1/webhook-deliveries/${d.id}/redeliver`, w.tokens.owner)).body).toMatchObject({ status: 409, code: 'webhook_endpoint_disabled' });

    const on = await call<Endpoint>('PATCH', `/v1/webhook-endpoints/${ep.id}`, w.tokens.admin, { is_enabled: true });
    expect(on.body).toMatchObject({ is_enabled: true, consecutive_failures: 0, disabled_reason: null });
  });

  it('a delivery whose endpoint was turned off before its attempt ends as failed without a request', async () => {
    const w = await createStaffWorld(api());
    const r = await receiver();
    const ep = await subscribe(w, r);
    const d = await ping(w, ep.id);
    await call('PATCH', `/v1/webhook-endpoints/${ep.id}`, w.tokens.owner, { is_enabled: false });
    await drainJobs(db());
    expect(r.received).toEqual([]);
    expect(await delivery(w, d.id)).toMatchObject({ status: 'failed', attempts: 0, last_error: 'endpoint disabled (disabled by a member)' });
  });

  it('redelivery through the API sends the same webhook-id with a new signature, signed with the rotated secret', async () => {
    const w = await createStaffWorld(api());
    const r = await receiver();
    const ep = await subscribe(w, r);
    const d = await ping(w, ep.id);
    await drainJobs(db());
    const oldSecret = r.secret;
    const rotated = await call<Endpoint>('POST', `/v1/webhook-endpoints/${ep.id}/rotate-secret`, w.tokens.owner);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(oldSecret);
    r.secret = rotated.body.secret;
    const again = await call<Delivery>('POST', `/v1/webhook-deliveries/${d.id}/redeliver`, w.tokens.owner);
    expect(again).toMatchObject({ status: 202, body: { id: d.id, message_id: d.message_id, status: 'pending' } });
    await drainJobs(db());

    expect(r.received).toHaveLength(2);
    expect(r.received.map((x) => x.headers['webhook-id'])).toEqual([d.message_id, d.message_id]);
    expect(r.received[1]!.verifyError).toBeUndefined();
    expect(r.received[1]!.body).toBe(r.received[0]!.body);
    expect(r.received[1]!.headers['webhook-signature']).not.toBe(r.received[0]!.headers['webhook-signature']);
    expect((await delivery(w, d.id))).toMatchObject({ status: 'succeeded', attempts: 2 });
  });

  it('without WEBHOOK_ALLOW_PRIVATE_TARGETS a webhook to this host is refused before any request: the attempt says why, the receiver gets nothing', async () => {
    const w = await createStaffWorld(api());
    const r = await receiver();
    const endpoint = await subscribe(w, r);
    await book(w, utc(9, '10:00'));
    await drainJobs(db(), { env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false' } });
    expect(r.received).toHaveLength(0);
    const [d] = await deliveries(w, endpoint.id);
    const full = await delivery(w, d!.id);
    expect(full.attempt_log[0]).toMatchObject({ status_code: null, is_success: false });
    expect(full.attempt_log[0]!.error).toMatch(/may not reach/);
  });
});
