import { describe, expect, it } from 'vitest';
import { anon, useTestDb } from '../support/db.ts';
import { invariantViolations } from '../support/invariants.ts';
import { at, book, configure, day, failureCodes, ruleWorld, successes, useRacePool } from '../support/rules-race.ts';

/**
 * Round-robin assignment of "any provider" (services.assignment_strategy): least booked in a
 * period, weighted, priority. Assignment happens inside create_booking under the subject locks,
 * so concurrent bookers never get the same provider for overlapping times.
 */
describe('round-robin assignment', () => {
  const db = useTestDb();
  const { raceBookings } = useRacePool(db);

  const providersOf = async (tenantId: string, ids: string[]) =>
    (await db().query<{ provider_id: string }>('select provider_id from slotbase.bookings where tenant_id = $1 and id = any ($2::uuid[])', [tenantId, ids])).map((r) => r.provider_id);

  it.each(['least_booked', 'weighted', 'priority'])(
    '%s: 24 concurrent "any provider" bookers for 4 times get 3 distinct providers per time and never share one',
    async (strategy) => {
      const w = await ruleWorld(db(), 3);
      await configure(db(), 'services', w.serviceId, { assignment_strategy: strategy });
      await db().query('update slotbase.service_providers set weight = 3, priority = 1 where provider_id = $1', [w.providers[0]]);
      const base = day(1);
      const times = ['10:00', '10:30', '11:00', '11:30'].map((t) => at(base, t));
      const outcomes = await raceBookings(24, () => anon, (i) => ({
        tenantId: w.tenantId, serviceId: w.serviceId, startsAt: times[i % 4]!, email: `racer-${i}@example.test`,
      }));
      const won = successes(outcomes);
      expect(failureCodes(outcomes).every((c) => c === 'SBTAK' || c === '23P01'), failureCodes(outcomes).join()).toBe(true);
      expect(won).toHaveLength(12);
      for (const t of times) {
        const there = won.filter((r) => r.starts_at.getTime() === t.getTime()).map((r) => r.provider_id).sort();
        expect(there).toEqual(w.providers);
      }
      const rows = await db().query<{ n: string }>(
        `select count(*) as n from slotbase.bookings as a join slotbase.bookings as b
           on a.tenant_id = b.tenant_id and a.provider_id = b.provider_id and a.id < b.id and a.during && b.during
         where a.tenant_id = $1 and a.status in ('confirmed', 'pending', 'held') and b.status in ('confirmed', 'pending', 'held')`,
        [w.tenantId],
      );
      expect(rows[0]!.n).toBe('0');
      expect(await invariantViolations(db(), w.tenantId)).toEqual({});
    },
  );

  it('weighted 3:1 assigns 30 and 10 of 40 sequential bookings, in D\'Hondt order', async () => {
    const w = await ruleWorld(db(), 2);
    const [heavy, light] = w.providers as [string, string];
    await configure(db(), 'services', w.serviceId, { assignment_strategy: 'weighted', assignment_period: 'day' });
    await db().query('update slotbase.service_providers set weight = 3 where provider_id = $1', [heavy]);
    await db().query('update slotbase.service_providers set weight = 1 where provider_id = $1', [light]);
    const base = day(2);
    const assigned: string[] = [];
    for (let i = 0; i < 40; i++) {
      const r = await db().as(anon, (q) => book(q, {
        tenantId: w.tenantId, serviceId: w.serviceId, startsAt: new Date(base.getTime() + i * 30 * 60_000), email: `w-${i}@example.test`,
      }));
      assigned.push(r.provider_id);
    }
    expect(assigned.filter((p) => p === heavy)).toHaveLength(30);
    expect(assigned.filter((p) => p === light)).toHaveLength(10);
    // Every prefix stays within one booking of the 3:1 share.
    for (let n = 1; n <= 40; n++) {
      const h = assigned.slice(0, n).filter((p) => p === heavy).length;
      expect(Math.abs(h - (n * 3) / 4)).toBeLessThanOrEqual(1);
    }
  });

  it('weighted counts only this service\'s bookings: another service\'s load does not shift the shares', async () => {
    const w = await ruleWorld(db(), 2);
    const [a, b] = w.providers as [string, string];
    await configure(db(), 'services', w.serviceId, { assignment_strategy: 'weighted' });
    const other = (await db().query<{ id: string }>(
      `insert into slotbase.services (tenant_id, slug, name, duration_minutes) values ($1, 'other', 'Other', 30) returning id`, [w.tenantId]))[0]!.id;
    await db().query('insert into slotbase.service_providers (tenant_id, service_id, provider_id) values ($1, $2, $3)', [w.tenantId, other, a]);
    const base = day(3);
    for (let i = 0; i < 3; i++) {
      await db().as(anon, (q) => book(q, { tenantId: w.tenantId, serviceId: other, startsAt: at(base, `0${i}:00`), providerId: a }));
    }
    const r = await db().as(anon, (q) => book(q, { tenantId: w.tenantId, serviceId: w.serviceId, startsAt: at(base, '10:00') }));
    expect(r.provider_id).toBe(a); // equal weights, no bookings of this service yet: the lower id
    const r2 = await db().as(anon, (q) => book(q, { tenantId: w.tenantId, serviceId: w.serviceId, startsAt: at(base, '11:00') }));
    expect(r2.provider_id).toBe(b);
  });

  it('priority always assigns the lowest priority number that is free, then the next', async () => {
    const w = await ruleWorld(db(), 3);
    const [p0, p1, p2] = w.providers as [string, string, string];
    await configure(db(), 'services', w.serviceId, { assignment_strategy: 'priority' });
    // Priorities opposite to id order, so "lowest id" would pick differently.
    await db().query('update slotbase.service_providers set priority = 1 where provider_id = $1', [p2]);
    await db().query('update slotbase.service_providers set priority = 5 where provider_id = $1', [p1]);
    await db().query('update slotbase.service_providers set priority = 9 where provider_id = $1', [p0]);
    const base = day(4);
    // At ten different times, the top provider gets every booking (least booked would spread them).
    for (let i = 0; i < 10; i++) {
      const r = await db().as(anon, (q) => book(q, { tenantId: w.tenantId, serviceId: w.serviceId, startsAt: at(base, `1${i}:00`), email: `p-${i}@example.test` }));
      expect(r.provider_id).toBe(p2);
    }
    // At one time: top, then second, then third.
    const order: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await db().as(anon, (q) => book(q, { tenantId: w.tenantId, serviceId: w.serviceId, startsAt: at(base, '08:00'), email: `q-${i}@example.test` }));
      order.push(r.provider_id);
    }
    expect(order).toEqual([p2, p1, p0]);
  });

  it('priority under a race: the top provider is assigned once per time, and all three are used', async () => {
    const w = await ruleWorld(db(), 3);
    const [p0, p1, p2] = w.providers as [string, string, string];
    await configure(db(), 'services', w.serviceId, { assignment_strategy: 'priority' });
    await db().query('update slotbase.service_providers set priority = 1 where provider_id = $1', [p1]);
    await db().query('update slotbase.service_providers set priority = 2 where provider_id = $1', [p0]);
    await db().query('update slotbase.service_providers set priority = 3 where provider_id = $1', [p2]);
    const startsAt = at(day(5), '09:00');
    const outcomes = await raceBookings(8, () => anon, (i) => ({ tenantId: w.tenantId, serviceId: w.serviceId, startsAt, email: `r-${i}@example.test` }));
    const won = successes(outcomes);
    expect(won.map((r) => r.provider_id).sort()).toEqual([p0, p1, p2].sort());
    // A single booker at a fresh time gets the top one.
    const r = await db().as(anon, (q) => book(q, { tenantId: w.tenantId, serviceId: w.serviceId, startsAt: at(day(5), '15:00') }));
    expect(r.provider_id).toBe(p1);
    expect(await invariantViolations(db(), w.tenantId)).toEqual({});
  });

  it('least booked counts the configured period: by week, a provider busy earlier in the week is passed over', async () => {
    const w = await ruleWorld(db(), 2);
    const [busy, idle] = w.providers as [string, string];
    // A Monday at least two days ahead, and the Tuesday after it (one ISO week).
    const monday = day(1);
    while (monday.getUTCDay() !== 1) monday.setUTCDate(monday.getUTCDate() + 1);
    const tuesday = new Date(monday.getTime() + 86_400_000);
    for (const t of ['09:00', '10:00']) {
      await db().as(anon, (q) => book(q, { tenantId: w.tenantId, serviceId: w.serviceId, startsAt: at(monday, t), providerId: busy }));
    }
    // By day (the default), Tuesday is a tie: the lower id, which is the busy one.
    const byDay = await db().as(anon, (q) => book(q, { tenantId: w.tenantId, serviceId: w.serviceId, startsAt: at(tuesday, '09:00') }));
    expect(byDay.provider_id).toBe(busy);
    await db().query(`update slotbase.bookings set status = 'cancelled' where id = $1`, [byDay.id]);
    await configure(db(), 'services', w.serviceId, { assignment_period: 'week' });
    const byWeek = await db().as(anon, (q) => book(q, { tenantId: w.tenantId, serviceId: w.serviceId, startsAt: at(tuesday, '09:00') }));
    expect(byWeek.provider_id).toBe(idle);
    expect(await providersOf(w.tenantId, [byWeek.id])).toEqual([idle]);
  });
});
