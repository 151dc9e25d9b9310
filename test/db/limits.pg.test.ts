import { describe, expect, it } from 'vitest';
import { anon, expectSqlState, useTestDb } from '../support/db.ts';
import { invariantViolations } from '../support/invariants.ts';
import { at, book, configure, day, failureCodes, failureHints, plusMinutes, ruleWorld, successes, useRacePool } from '../support/rules-race.ts';

/**
 * Booking limits (per provider per day and week, per service per day, per customer per period,
 * minimum gap between one customer's bookings), enforced in create_booking and
 * reschedule_booking under advisory locks: N concurrent bookers never exceed a limit. Each race
 * is checked afterwards with SQL.
 */
describe('booking limits under real concurrency', () => {
  const db = useTestDb();
  const { raceBookings, act, race } = useRacePool(db);

  const count = async (sql: string, params: unknown[]) => Number((await db().query<{ n: string }>(sql, params))[0]!.n);
  const ACTIVE = `status in ('held', 'pending', 'confirmed')`;

  it('a provider\'s daily limit holds against 16 concurrent bookers at 16 different times, and their slots vanish', async () => {
    const w = await ruleWorld(db(), 2);
    const [limited, other] = w.providers as [string, string];
    await configure(db(), 'providers', limited, { max_bookings_per_day: 3 });
    const base = day(1);
    const outcomes = await raceBookings(16, () => anon, (i) => ({
      tenantId: w.tenantId, serviceId: w.serviceId, startsAt: plusMinutes(at(base, '06:00'), 30 * i), providerId: limited, email: `d-${i}@example.test`,
    }));
    expect(successes(outcomes)).toHaveLength(3);
    expect(failureCodes(outcomes).every((c) => c === 'SBLIM')).toBe(true);
    expect(new Set(failureHints(outcomes))).toEqual(new Set(['provider_max_bookings_per_day']));
    expect(await count(`select count(*) as n from slotbase.bookings where provider_id = $1 and ${ACTIVE}`, [limited])).toBe(3);
    // available_slots: none of the limited provider that day, theirs the next day, the other's still.
    const slots = await db().queryAs<{ provider_id: string; starts_at: Date }>(anon,
      'select provider_id, starts_at from slotbase.available_slots($1, $2, $3, $4)', [w.tenantId, w.serviceId, base.toISOString(), plusMinutes(base, 2 * 1440).toISOString()]);
    const limitedSlots = slots.filter((s) => s.provider_id === limited);
    expect(limitedSlots.length).toBeGreaterThan(0);
    expect(limitedSlots.every((s) => s.starts_at.getTime() >= base.getTime() + 86_400_000)).toBe(true);
    expect(slots.some((s) => s.provider_id === other && s.starts_at.getTime() < base.getTime() + 86_400_000)).toBe(true);
    // "Any provider" skips the limited provider that day.
    const any = await db().as(anon, (q) => book(q, { tenantId: w.tenantId, serviceId: w.serviceId, startsAt: at(base, '20:00') }));
    expect(any.provider_id).toBe(other);
    expect(await invariantViolations(db(), w.tenantId)).toEqual({});
  });

  it('a provider\'s weekly limit holds against concurrent bookers on different days of one week', async () => {
    const w = await ruleWorld(db(), 1);
    const [p] = w.providers as [string];
    await configure(db(), 'providers', p, { max_bookings_per_week: 4 });
    const monday = day(1);
    while (monday.getUTCDay() !== 1) monday.setUTCDate(monday.getUTCDate() + 1);
    const outcomes = await raceBookings(14, () => anon, (i) => ({
      tenantId: w.tenantId, serviceId: w.serviceId, startsAt: plusMinutes(monday, 1440 * (i % 7) + 600 + 30 * Math.floor(i / 7)), email: `wk-${i}@example.test`,
    }));
    expect(successes(outcomes)).toHaveLength(4);
    expect(new Set(failureHints(outcomes))).toEqual(new Set(['provider_max_bookings_per_week']));
    expect(await count(`select count(*) as n from slotbase.bookings where provider_id = $1 and ${ACTIVE}
                        and starts_at >= $2 and starts_at < $3`, [p, monday.toISOString(), plusMinutes(monday, 7 * 1440).toISOString()])).toBe(4);
    // The next week is free again.
    await db().as(anon, (q) => book(q, { tenantId: w.tenantId, serviceId: w.serviceId, startsAt: plusMinutes(monday, 7 * 1440 + 600) }));
  });

  it('a service\'s daily limit holds across providers against 15 concurrent "any provider" bookers', async () => {
    const w = await ruleWorld(db(), 3);
    await configure(db(), 'services', w.serviceId, { max_bookings_per_day: 5 });
    const base = day(2);
    const outcomes = await raceBookings(15, () => anon, (i) => ({
      tenantId: w.tenantId, serviceId: w.serviceId, startsAt: plusMinutes(at(base, '08:00'), 30 * (i % 5)), email: `s-${i}@example.test`,
    }));
    expect(successes(outcomes)).toHaveLength(5);
    expect(failureCodes(outcomes).every((c) => c === 'SBLIM' || c === 'SBTAK')).toBe(true);
    expect(failureHints(outcomes)).toContain('max_bookings_per_day');
    expect(await count(`select count(*) as n from slotbase.bookings where service_id = $1 and ${ACTIVE}`, [w.serviceId])).toBe(5);
    const slots = await db().queryAs(anon, 'select 1 from slotbase.available_slots($1, $2, $3, $4)',
      [w.tenantId, w.serviceId, base.toISOString(), plusMinutes(base, 1440).toISOString()]);
    expect(slots).toHaveLength(0);
    // A cancellation frees room for one more.
    const first = successes(outcomes)[0]!;
    await db().query(`update slotbase.bookings set status = 'cancelled' where id = $1`, [first.id]);
    await db().as(anon, (q) => book(q, { tenantId: w.tenantId, serviceId: w.serviceId, startsAt: at(base, '20:00') }));
  });

  it('a customer\'s limit per period holds against 12 concurrent bookings by one email, and matches by phone too', async () => {
    const w = await ruleWorld(db(), 3);
    await configure(db(), 'services', w.serviceId, { max_bookings_per_customer: 2, customer_limit_period: 'day' });
    const base = day(3);
    const outcomes = await raceBookings(12, () => anon, (i) => ({
      tenantId: w.tenantId, serviceId: w.serviceId, startsAt: plusMinutes(at(base, '08:00'), 30 * i), email: i % 2 ? 'Same@Example.test' : 'same@example.test',
    }));
    expect(successes(outcomes)).toHaveLength(2);
    expect(new Set(failureHints(outcomes))).toEqual(new Set(['max_bookings_per_customer']));
    expect(await count(`select count(*) as n from slotbase.bookings where lower(contact_email) = 'same@example.test' and ${ACTIVE}`, [])).toBe(2);
    // The same phone under another email is the same customer.
    await db().as(anon, (q) => book(q, { tenantId: w.tenantId, serviceId: w.serviceId, startsAt: at(day(4), '09:00'), email: 'a@example.test', phone: '+49 30 111' }));
    await db().as(anon, (q) => book(q, { tenantId: w.tenantId, serviceId: w.serviceId, startsAt: at(day(4), '10:00'), email: 'b@example.test', phone: '+4930111' }));
    const e = await expectSqlState(db().as(anon, (q) => book(q, { tenantId: w.tenantId, serviceId: w.serviceId, startsAt: at(day(4), '11:00'), email: null, phone: '+49 (30) 111' })), 'SBLIM');
    expect((e as { hint?: string }).hint).toBe('max_bookings_per_customer');
    // Staff bookings count and are limited too (the limit is the customer's, whoever books).
    await expectSqlState(db().as(w.tenant.owner, (q) => book(q, { tenantId: w.tenantId, serviceId: w.serviceId, startsAt: at(day(4), '12:00'), email: 'c@example.test', phone: '+49-30-111' })), 'SBLIM');
  });

  it('several bookings in one transaction (a series) cannot bypass the customer limit', async () => {
    const w = await ruleWorld(db(), 1);
    await configure(db(), 'services', w.serviceId, { max_bookings_per_customer: 3, customer_limit_period: 'month' });
    const base = day(5);
    const first = new Date(Date.UTC(base.getUTCFullYear(), base.getUTCMonth() + 1, 1));
    const outcome = await act(anon, async (tx) => {
      for (let i = 0; i < 5; i++) {
        await tx.unsafe(`select * from slotbase.create_booking(p_tenant_id => $1, p_service_id => $2, p_starts_at => $3,
          p_contact_name => 'Series', p_contact_email => 'series@example.test')`, [w.tenantId, w.serviceId, plusMinutes(first, 1440 * i + 600).toISOString()]);
      }
    });
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.code).toBe('SBLIM');
    expect(await count(`select count(*) as n from slotbase.bookings where contact_email = 'series@example.test'`, [])).toBe(0);
  });

  it('a minimum gap between one customer\'s bookings holds against 10 concurrent bookings 30 minutes apart', async () => {
    const w = await ruleWorld(db(), 2);
    await configure(db(), 'services', w.serviceId, { customer_min_gap_minutes: 120 });
    const base = day(6);
    const outcomes = await raceBookings(10, () => anon, (i) => ({
      tenantId: w.tenantId, serviceId: w.serviceId, startsAt: plusMinutes(at(base, '08:00'), 30 * i), email: 'gap@example.test',
    }));
    expect(successes(outcomes).length).toBeGreaterThanOrEqual(1);
    expect(new Set(failureHints(outcomes))).toEqual(new Set(['customer_min_gap_minutes']));
    // No two active bookings of the customer are closer than 120 minutes (end to start).
    expect(await count(`select count(*) as n from slotbase.bookings as a join slotbase.bookings as b
      on a.id < b.id and a.contact_email = b.contact_email
      where a.contact_email = 'gap@example.test' and a.${ACTIVE} and b.${ACTIVE}
        and a.starts_at < b.ends_at + interval '120 minutes' and b.starts_at < a.ends_at + interval '120 minutes'`, [])).toBe(0);
  });

  it('reschedule_booking keeps the limits, not counting the booking being moved', async () => {
    const w = await ruleWorld(db(), 1);
    const [p] = w.providers as [string];
    await configure(db(), 'providers', p, { max_bookings_per_day: 1 });
    const a = await db().as(w.tenant.owner, (q) => book(q, { tenantId: w.tenantId, serviceId: w.serviceId, startsAt: at(day(7), '09:00') }));
    const b = await db().as(w.tenant.owner, (q) => book(q, { tenantId: w.tenantId, serviceId: w.serviceId, startsAt: at(day(8), '09:00') }));
    const e = await expectSqlState(db().queryAs(w.tenant.owner, 'select * from slotbase.reschedule_booking($1, $2)', [b.id, at(day(7), '15:00').toISOString()]), 'SBLIM');
    expect((e as { hint?: string }).hint).toBe('provider_max_bookings_per_day');
    // Moving within its own day is fine.
    const [moved] = await db().queryAs<{ starts_at: Date }>(w.tenant.owner, 'select * from slotbase.reschedule_booking($1, $2)', [a.id, at(day(7), '15:00').toISOString()]);
    expect(moved!.starts_at.toISOString()).toBe(at(day(7), '15:00').toISOString());
    expect(await count('select count(*) as n from slotbase.bookings where id = $1 and starts_at = $2', [b.id, at(day(8), '09:00').toISOString()])).toBe(1);
  });

  it('concurrent reschedules into a day at its provider limit: only as many as fit', async () => {
    const w = await ruleWorld(db(), 1);
    const [p] = w.providers as [string];
    await configure(db(), 'providers', p, { max_bookings_per_day: 2 });
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      ids.push((await db().as(w.tenant.owner, (q) => book(q, { tenantId: w.tenantId, serviceId: w.serviceId, startsAt: at(day(10 + i), '09:00') }))).id);
    }
    const target = day(9);
    const outcomes = await race(ids.length, () => w.tenant.owner, (tx, i) =>
      tx.unsafe('select * from slotbase.reschedule_booking($1, $2)', [ids[i]!, plusMinutes(at(target, '08:00'), 30 * i).toISOString()]));
    expect(outcomes.filter((o) => o.ok)).toHaveLength(2);
    expect(new Set(failureCodes(outcomes))).toEqual(new Set(['SBLIM']));
    expect(await count(`select count(*) as n from slotbase.bookings where provider_id = $1 and ${ACTIVE} and starts_at >= $2 and starts_at < $3`,
      [p, target.toISOString(), plusMinutes(target, 1440).toISOString()])).toBe(2);
  });
});
