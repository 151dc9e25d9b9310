import { afterEach, describe, expect, it } from 'vitest';
import { useApi } from '../support/http.ts';
import { createStaffWorld, utc, type StaffWorld } from '../support/staff-world.ts';
import { drainJobs } from '../support/worker.ts';
import { startReceiver, type Receiver } from './webhooks-receiver.ts';

/**
 * The event catalogue: which booking change produces which event (the table at the top of
 * supabase/migrations/20261123160300_webhooks.sql), delivered to a real receiver and verified
 * with standardwebhooks.
 */
describe('webhook events for every booking lifecycle change', () => {
  const api = useApi();
  const receivers: Receiver[] = [];
  afterEach(async () => {
    const all = receivers.splice(0);
    await Promise.all(all.map((r) => r.close()));
    expect(all.flatMap((r) => r.received.filter((x) => x.verifyError !== undefined).map((x) => x.verifyError))).toEqual([]);
  });

  const call = <T = { id: string; status: string }>(method: string, path: string, token: string, body?: unknown) =>
    api().json<T>(method, path, { token, ...(body !== undefined ? { body } : {}) });

  async function listening(w: StaffWorld): Promise<Receiver> {
    const r = await startReceiver();
    receivers.push(r);
    const ep = await call<{ secret: string }>('POST', '/v1/webhook-endpoints', w.tokens.owner, { url: r.url });
    expect(ep.status).toBe(201);
    r.secret = ep.body.secret;
    return r;
  }

  async function book(w: StaffWorld, serviceId: string, startsAt: string, hold = false): Promise<{ id: string; status: string }> {
    const res = await call('POST', '/v1/bookings', w.tokens.owner, {
      service_id: serviceId, starts_at: startsAt, provider_id: w.providerA, hold, contact: { name: 'Ada Guest', email: 'ada@example.test' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }

  /** [type, booking id, status, previous_status] of what the receiver got, in order. */
  const seen = (r: Receiver) => r.events().map((e) => [e.type, e.data.id, e.data.status, e.data.previous_status ?? null]);

  it('approval flow: a pending request sends booking.created only; approving sends booking.confirmed, rejecting booking.rejected with the reason', async () => {
    const w = await createStaffWorld(api());
    const r = await listening(w);
    const approval = await w.addService({ requiresApproval: true });
    const a = await book(w, approval, utc(3, '09:00'));
    const b = await book(w, approval, utc(3, '10:00'));
    expect([a.status, b.status]).toEqual(['pending', 'pending']);
    expect((await call('POST', `/v1/bookings/${a.id}/confirm`, w.tokens.owner)).status).toBe(200);
    expect((await call('POST', `/v1/bookings/${b.id}/reject`, w.tokens.owner, { reason: 'Fully booked that week' })).status).toBe(200);
    await drainJobs(api().db);
    expect(seen(r)).toEqual([
      ['booking.created', a.id, 'pending', null],
      ['booking.created', b.id, 'pending', null],
      ['booking.confirmed', a.id, 'confirmed', 'pending'],
      ['booking.rejected', b.id, 'rejected', 'pending'],
    ]);
    expect(r.events()[3]!.data.status_reason).toBe('Fully booked that week');
  });

  it('holds: confirming a hold sends booking.confirmed; a hold that runs out sends booking.expired', async () => {
    const w = await createStaffWorld(api());
    const r = await listening(w);
    const kept = await book(w, w.serviceId, utc(3, '11:00'), true);
    const lapsed = await book(w, w.serviceId, utc(3, '12:00'), true);
    expect([kept.status, lapsed.status]).toEqual(['held', 'held']);
    expect((await call('POST', `/v1/bookings/${kept.id}/confirm`, w.tokens.owner)).status).toBe(200);
    // Setup: the hold's time is up (instead of waiting for it); the worker's sweep expires it.
    await api().db.query(`update slotbase.bookings set hold_expires_at = now() - interval '1 second' where id = $1`, [lapsed.id]);
    await api().db.query(`select slotbase.expire_holds($1::uuid)`, [w.tenantId]);
    await drainJobs(api().db);
    expect(seen(r)).toEqual([
      ['booking.created', kept.id, 'held', null],
      ['booking.created', lapsed.id, 'held', null],
      ['booking.confirmed', kept.id, 'confirmed', 'held'],
      ['booking.expired', lapsed.id, 'expired', 'held'],
    ]);
    expect(r.events()[3]!.data.hold_expires_at).toBeNull();
  });

  it('after the appointment: completing sends booking.completed, marking a no-show booking.no_show', async () => {
    const w = await createStaffWorld(api());
    const done = await book(w, w.serviceId, utc(-1, '13:00'));
    const missed = await book(w, w.serviceId, utc(-1, '14:00'));
    const r = await listening(w); // subscribed after the bookings were made: no created/confirmed events
    expect((await call('POST', `/v1/bookings/${done.id}/complete`, w.tokens.owner)).status).toBe(200);
    expect((await call('POST', `/v1/bookings/${missed.id}/no-show`, w.tokens.owner)).status).toBe(200);
    await drainJobs(api().db);
    expect(seen(r)).toEqual([
      ['booking.completed', done.id, 'completed', 'confirmed'],
      ['booking.no_show', missed.id, 'no_show', 'confirmed'],
    ]);
  });

  it('a reschedule to another provider sends booking.rescheduled with the previous start, provider and location', async () => {
    const w = await createStaffWorld(api());
    const r = await listening(w);
    const b = await book(w, w.serviceId, utc(3, '15:00'));
    const moved = await call<{ starts_at: string; provider_id: string; location_id: string }>('POST', `/v1/bookings/${b.id}/reschedule`, w.tokens.owner, {
      starts_at: utc(3, '16:00'), provider_id: w.providerB,
    });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    await drainJobs(api().db);
    const rescheduled = r.events().find((e) => e.type === 'booking.rescheduled');
    expect(rescheduled?.data).toMatchObject({
      id: b.id, status: 'confirmed', starts_at: moved.body.starts_at, provider_id: w.providerB, location_id: w.locationB,
      previous_starts_at: utc(3, '15:00'), previous_provider_id: w.providerA, previous_location_id: w.locationA,
    });
    expect(rescheduled?.data).not.toHaveProperty('previous_status');
  });
});
