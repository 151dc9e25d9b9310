import { describe, expect, it } from 'vitest';
import { anon, expectSqlState, useTestDb, type Queryable } from '../support/db.ts';
import { addDailyRules, createLocation, createProvider, createService, createTenant, linkProvider } from '../support/factories.ts';
import { at, book, day } from '../support/rules-race.ts';

/**
 * Travel time between locations (slotbase.location_travel_times): a provider working at two
 * branches gets the configured gap between consecutive bookings at different locations, in
 * create_booking, reschedule_booking and available_slots.
 */
describe('travel time between locations', () => {
  const db = useTestDb();

  /** One provider: branch A 08:00–13:00, branch B 13:00–18:00 (UTC); 30-minute service. */
  async function twoBranches(travelMinutes: number | null) {
    const tenant = await createTenant(db(), { timeZone: 'UTC' });
    const a = (await createLocation(db(), tenant.id, { timeZone: 'UTC' })).id;
    const b = (await createLocation(db(), tenant.id, { timeZone: 'UTC' })).id;
    const p = (await createProvider(db(), tenant.id, { locationId: a })).id;
    await addDailyRules(db(), tenant.id, { providerId: p }, a, '08:00', '13:00');
    await addDailyRules(db(), tenant.id, { providerId: p }, b, '13:00', '18:00');
    const svc = (await createService(db(), tenant.id, { durationMinutes: 30, maxAdvanceDays: 365 })).id;
    await linkProvider(db(), tenant.id, svc, p);
    if (travelMinutes !== null) {
      // Named in the "wrong" order on purpose: the pair is stored once, smaller id first.
      await db().as(tenant.owner, (q) => q.query('insert into slotbase.location_travel_times (tenant_id, location_a_id, location_b_id, minutes) values ($1, $2, $3, $4)',
        [tenant.id, a > b ? a : b, a > b ? b : a, travelMinutes]));
    }
    return { tenant, tenantId: tenant.id, a, b, p, svc };
  }

  const slotsAt = async (q: Queryable, w: Awaited<ReturnType<typeof twoBranches>>, base: Date, location: string) =>
    (await q.query<{ starts_at: Date }>('select starts_at from slotbase.available_slots($1, $2, $3, $4, null, $5)',
      [w.tenantId, w.svc, base.toISOString(), new Date(base.getTime() + 86_400_000).toISOString(), location])).map((r) => r.starts_at.toISOString().slice(11, 16));

  it('a booking at A ending 13:00 blocks B until 13:45 with 45 minutes of travel; without travel B starts at 13:00', async () => {
    for (const [travel, first] of [[45, '14:00'], [null, '13:00']] as const) {
      const w = await twoBranches(travel);
      const base = day(1);
      await db().as(anon, (q) => book(q, { tenantId: w.tenantId, serviceId: w.svc, startsAt: at(base, '12:30'), email: 'x@example.test' }));
      const b = await db().as(anon, (q) => slotsAt(q, w, base, w.b));
      // The grid is 30 minutes from 13:00: 13:00 and 13:30 are within 45 minutes of 13:00; 14:00 is the first.
      expect(b[0]).toBe(first);
      if (travel !== null) {
        await expectSqlState(db().as(anon, (q) => book(q, { tenantId: w.tenantId, serviceId: w.svc, startsAt: at(base, '13:30'), locationId: w.b })), 'SBTAK');
        const ok = await db().as(anon, (q) => book(q, { tenantId: w.tenantId, serviceId: w.svc, startsAt: at(base, '14:00'), locationId: w.b }));
        expect(ok.location_id).toBe(w.b);
      }
    }
  });

  it('travel applies in both directions, and not between bookings at the same location', async () => {
    const w = await twoBranches(60);
    const base = day(2);
    await db().as(anon, (q) => book(q, { tenantId: w.tenantId, serviceId: w.svc, startsAt: at(base, '13:00'), locationId: w.b }));
    const a = await db().as(anon, (q) => slotsAt(q, w, base, w.a));
    expect(a).toContain('11:30');
    expect(a).not.toContain('12:00');
    expect(a).not.toContain('12:30');
    await expectSqlState(db().as(anon, (q) => book(q, { tenantId: w.tenantId, serviceId: w.svc, startsAt: at(base, '12:00'), locationId: w.a })), 'SBTAK');
    // Same location, back to back: no gap needed.
    await db().as(anon, (q) => book(q, { tenantId: w.tenantId, serviceId: w.svc, startsAt: at(base, '13:30'), locationId: w.b }));
  });

  it('reschedule_booking refuses a move that leaves too little travel time, and keeps the booking where it was', async () => {
    const w = await twoBranches(30);
    const base = day(3);
    await db().as(w.tenant.owner, (q) => book(q, { tenantId: w.tenantId, serviceId: w.svc, startsAt: at(base, '12:30'), locationId: w.a }));
    const movable = await db().as(w.tenant.owner, (q) => book(q, { tenantId: w.tenantId, serviceId: w.svc, startsAt: at(base, '16:00'), locationId: w.b }));
    await expectSqlState(db().queryAs(w.tenant.owner, 'select * from slotbase.reschedule_booking($1, $2)', [movable.id, at(base, '13:00').toISOString()]), 'SBTAK');
    const [still] = await db().query<{ starts_at: Date }>('select starts_at from slotbase.bookings where id = $1', [movable.id]);
    expect(still!.starts_at.toISOString()).toBe(at(base, '16:00').toISOString());
    const [moved] = await db().queryAs<{ starts_at: Date }>(w.tenant.owner, 'select * from slotbase.reschedule_booking($1, $2)', [movable.id, at(base, '13:30').toISOString()]);
    expect(moved!.starts_at.toISOString()).toBe(at(base, '13:30').toISOString());
  });

  it('travel times are validated: the same location twice, zero or a day and more are refused; one row per pair', async () => {
    const w = await twoBranches(20);
    const insert = (x: string, y: string, m: number) =>
      db().as(w.tenant.owner, (q) => q.query('insert into slotbase.location_travel_times (tenant_id, location_a_id, location_b_id, minutes) values ($1, $2, $3, $4)', [w.tenantId, x, y, m]));
    await expectSqlState(insert(w.a, w.a, 10), '23514');
    await expectSqlState(insert(w.a, w.b, 0), '23514');
    await expectSqlState(insert(w.a, w.b, 1441), '23514');
    await expectSqlState(insert(w.b, w.a, 10), '23505');
    // Another tenant's owner cannot set them.
    const other = await createTenant(db(), { timeZone: 'UTC' });
    await expectSqlState(db().as(other.owner, (q) => q.query('insert into slotbase.location_travel_times (tenant_id, location_a_id, location_b_id, minutes) values ($1, $2, $3, 5)', [w.tenantId, w.a, w.b])), '42501');
  });
});
