import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { anon, expectSqlState, useTestDb } from '../support/db.ts';
import { at, book, configure, day, failureCodes, failureHints, plusMinutes, ruleWorld, successes, useRacePool } from '../support/rules-race.ts';

/**
 * Anti-scalping per service: `none`, `standard` (caps on active future bookings per contact and
 * per device), `strict` (an issued, unexpired device token, one active booking per device).
 * Public bookers only; staff are not subject to it.
 */
describe('anti-scalping', () => {
  const db = useTestDb();
  const { raceBookings } = useRacePool(db);

  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  /** A device token issued to the tenant (as POST /v1/public/{tenant}/device-tokens would), its hash. */
  async function issue(tenantId: string, expiresInMinutes = 60): Promise<string> {
    const hash = sha(randomBytes(16).toString('hex'));
    await db().query(
      `insert into slotbase_private.device_tokens (tenant_id, token_hash, key_thumbprint, public_key, issued_at, expires_at)
       values ($1, $2, $3, '{"kty":"EC"}', now() - interval '2 hours', now() + make_interval(mins => $4))`,
      [tenantId, hash, randomBytes(32).toString('base64url'), expiresInMinutes],
    );
    return hash;
  }

  it('strict: 12 concurrent bookings from one device at 12 times → exactly one', async () => {
    const w = await ruleWorld(db(), 3);
    await configure(db(), 'services', w.serviceId, { anti_scalping: 'strict', anti_scalping_max_per_contact: 100 });
    const device = await issue(w.tenantId);
    const base = day(1);
    const outcomes = await raceBookings(12, () => anon, (i) => ({
      tenantId: w.tenantId, serviceId: w.serviceId, startsAt: plusMinutes(at(base, '09:00'), 30 * i), email: `scalper-${i}@example.test`, device,
    }));
    expect(successes(outcomes)).toHaveLength(1);
    expect(new Set(failureCodes(outcomes))).toEqual(new Set(['SBLIM']));
    expect(new Set(failureHints(outcomes))).toEqual(new Set(['anti_scalping_max_per_device']));
    const [row] = await db().query<{ n: string }>(`select count(*) as n from slotbase.bookings where device_hash = $1 and status in ('held', 'pending', 'confirmed')`, [device]);
    expect(row!.n).toBe('1');
  });

  it('strict: no device, an unknown or an expired one is refused with SBDEV; staff need none', async () => {
    const w = await ruleWorld(db(), 1);
    await configure(db(), 'services', w.serviceId, { anti_scalping: 'strict' });
    const startsAt = at(day(2), '09:00');
    const args = { tenantId: w.tenantId, serviceId: w.serviceId, startsAt };
    await expectSqlState(db().as(anon, (q) => book(q, { ...args, device: null })), 'SBDEV');
    await expectSqlState(db().as(anon, (q) => book(q, { ...args, device: sha('never issued') })), 'SBDEV');
    const expired = await issue(w.tenantId, -1);
    await expectSqlState(db().as(anon, (q) => book(q, { ...args, device: expired })), 'SBDEV');
    await expectSqlState(db().as(anon, (q) => book(q, { ...args, device: 'not-a-hash' })), 'SBVAL');
    const [n] = await db().query<{ n: string }>('select count(*) as n from slotbase.bookings where service_id = $1', [w.serviceId]);
    expect(n!.n).toBe('0');
    const staff = await db().as(w.tenant.owner, (q) => book(q, args));
    expect(staff.status).toBe('confirmed');
  });

  it('strict: the device hash is stored with the booking, and cancelling it frees the device', async () => {
    const w = await ruleWorld(db(), 1);
    await configure(db(), 'services', w.serviceId, { anti_scalping: 'strict', anti_scalping_max_per_contact: 5 });
    const device = await issue(w.tenantId);
    const first = await db().as(anon, (q) => book(q, { tenantId: w.tenantId, serviceId: w.serviceId, startsAt: at(day(3), '09:00'), device }));
    await expectSqlState(db().as(anon, (q) => book(q, { tenantId: w.tenantId, serviceId: w.serviceId, startsAt: at(day(3), '10:00'), device })), 'SBLIM');
    const [stored] = await db().query<{ device_hash: string }>('select device_hash from slotbase.bookings where id = $1', [first.id]);
    expect(stored!.device_hash).toBe(device);
    await db().query(`update slotbase.bookings set status = 'cancelled' where id = $1`, [first.id]);
    await db().as(anon, (q) => book(q, { tenantId: w.tenantId, serviceId: w.serviceId, startsAt: at(day(3), '10:00'), device }));
  });

  it('standard: the per-contact cap holds against 10 concurrent bookers with one email and different devices', async () => {
    const w = await ruleWorld(db(), 3);
    await configure(db(), 'services', w.serviceId, { anti_scalping: 'standard', anti_scalping_max_per_contact: 2, anti_scalping_max_per_device: 50 });
    const outcomes = await raceBookings(10, () => anon, (i) => ({
      tenantId: w.tenantId, serviceId: w.serviceId, startsAt: plusMinutes(at(day(4), '09:00'), 30 * i), email: 'fan@example.test', device: sha(`device-${i}`),
    }));
    expect(successes(outcomes)).toHaveLength(2);
    expect(new Set(failureHints(outcomes))).toEqual(new Set(['anti_scalping_max_per_contact']));
  });

  it('standard: the per-device cap holds against 10 concurrent bookers with one device and different emails', async () => {
    const w = await ruleWorld(db(), 3);
    await configure(db(), 'services', w.serviceId, { anti_scalping: 'standard', anti_scalping_max_per_contact: 50, anti_scalping_max_per_device: 3 });
    const device = sha('one-device');
    const outcomes = await raceBookings(10, () => anon, (i) => ({
      tenantId: w.tenantId, serviceId: w.serviceId, startsAt: plusMinutes(at(day(5), '09:00'), 30 * i), email: `fan-${i}@example.test`, device,
    }));
    expect(successes(outcomes)).toHaveLength(3);
    expect(new Set(failureHints(outcomes))).toEqual(new Set(['anti_scalping_max_per_device']));
    // Staff book for that device's owner regardless.
    await db().as(w.tenant.owner, (q) => book(q, { tenantId: w.tenantId, serviceId: w.serviceId, startsAt: at(day(6), '09:00'), device }));
  });

  it('none (the default) caps nothing', async () => {
    const w = await ruleWorld(db(), 1);
    const device = sha('free');
    for (let i = 0; i < 4; i++) {
      await db().as(anon, (q) => book(q, { tenantId: w.tenantId, serviceId: w.serviceId, startsAt: plusMinutes(at(day(7), '09:00'), 30 * i), email: 'same@example.test', device }));
    }
  });
});
