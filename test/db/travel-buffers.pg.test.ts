import { describe, expect, it } from 'vitest';
import { anon, useTestDb } from '../support/db.ts';
import { addDailyRules, createLocation, createProvider, createService, createTenant, linkProvider } from '../support/factories.ts';
import { invariantViolations } from '../support/invariants.ts';
import { at, day, failureCodes, plusMinutes, successes, useRacePool } from '../support/rules-race.ts';

/** Travel time between locations under real concurrency: bookers at two branches at once. */
describe('travel time under real concurrency', () => {
  const db = useTestDb();
  const { raceBookings } = useRacePool(db);

  it('24 concurrent bookers at two branches never leave a provider less than the travel time between them', async () => {
    const tenant = await createTenant(db(), { timeZone: 'UTC' });
    const a = (await createLocation(db(), tenant.id, { timeZone: 'UTC' })).id;
    const b = (await createLocation(db(), tenant.id, { timeZone: 'UTC' })).id;
    const p = (await createProvider(db(), tenant.id, { locationId: a })).id;
    // Both branches all day, so every start is possible at either: only travel (and overlap) decides.
    await addDailyRules(db(), tenant.id, { providerId: p }, a, '08:00', '18:00');
    await addDailyRules(db(), tenant.id, { providerId: p }, b, '08:00', '18:00');
    const svc = (await createService(db(), tenant.id, { durationMinutes: 30, maxAdvanceDays: 365 })).id;
    await linkProvider(db(), tenant.id, svc, p);
    await db().query('insert into slotbase.location_travel_times (tenant_id, location_a_id, location_b_id, minutes) values ($1, least($2::uuid, $3::uuid), greatest($2::uuid, $3::uuid), 45)', [tenant.id, a, b]);
    const base = day(1);
    const outcomes = await raceBookings(24, () => anon, (i) => ({
      tenantId: tenant.id, serviceId: svc, startsAt: plusMinutes(at(base, '09:00'), 30 * Math.floor(i / 2)), locationId: i % 2 ? b : a, email: `t-${i}@example.test`,
    }));
    const won = successes(outcomes);
    expect(won.length).toBeGreaterThan(1);
    expect(failureCodes(outcomes).every((c) => c === 'SBTAK' || c === '23P01'), failureCodes(outcomes).join()).toBe(true);
    const [bad] = await db().query<{ n: string }>(
      `select count(*) as n from slotbase.bookings as x join slotbase.bookings as y
         on x.provider_id = y.provider_id and x.id < y.id and x.location_id <> y.location_id
       where x.tenant_id = $1 and x.status = 'confirmed' and y.status = 'confirmed'
         and x.starts_at < y.ends_at + interval '45 minutes' and y.starts_at < x.ends_at + interval '45 minutes'`,
      [tenant.id],
    );
    expect(bad!.n).toBe('0');
    expect(await invariantViolations(db(), tenant.id)).toEqual({});
  });
});
