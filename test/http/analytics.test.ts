import { describe, expect, it } from 'vitest';
import { insertBooking, type BookingRowSpec } from '../support/booking-rows.ts';
import { addMember, addRule, createLocation, createProvider, createService, createTenant } from '../support/factories.ts';
import { useApi, type TestApi } from '../support/http.ts';

/**
 * A small, fixed fixture (early March 2025, before either DST change) whose numbers are worked
 * out by hand below. Location A is in Berlin (UTC+1), location B in New York (UTC−5).
 *
 *   PA at A: Mondays 09:00–17:00 (480 min), time off Mon 3 March 09:00–10:00 → 420 working minutes.
 *   PB at B: Tuesdays 10:00–12:00 → 120 working minutes.
 *
 *   Mon 3 March (local): at A confirmed 30, completed 30, no_show 60, cancelled, completed 30, and a
 *   cancelled one at 00:30 Berlin (still Sunday in UTC); at B a cancelled one at 23:30 New York
 *   (already Tuesday in UTC) → confirmed 1, completed 2, no_show 1, cancelled 3 = 7.
 *   Tue 4 March (local), at B: two confirmed 10:00–10:30 (one group session: counted once for
 *   utilization), expired 11:00, rejected 11:30 → confirmed 2, expired 1, rejected 1 = 4.
 *   Outside the period: Sun 2 March 23:30 Berlin, Wed 5 March at B.
 *
 *   Totals: 11 = confirmed 3, completed 2, no_show 1, cancelled 3, expired 1, rejected 1.
 *   no-show rate 1 / (2 + 1); cancellation rate 3 / (11 − 1).
 *   Utilization: PA/A booked 30 + 30 + 60 + 30 = 150 of 420; PB/B booked 30 of 120.
 */
async function analyticsWorld(api: TestApi) {
  const db = api.db;
  const tenant = await createTenant(db, { timeZone: 'Europe/Berlin' });
  const locationA = (await createLocation(db, tenant.id, { timeZone: 'Europe/Berlin' })).id;
  const locationB = (await createLocation(db, tenant.id, { timeZone: 'America/New_York' })).id;
  const pa = (await createProvider(db, tenant.id, { locationId: locationA })).id;
  const pb = (await createProvider(db, tenant.id, { locationId: locationB })).id;
  const service = (await createService(db, tenant.id)).id;
  await addRule(db, tenant.id, { providerId: pa }, locationA, 1, '09:00', '17:00');
  await addRule(db, tenant.id, { providerId: pb }, locationB, 2, '10:00', '12:00');
  await db.query(`insert into slotbase.time_off (tenant_id, provider_id, starts_at, ends_at) values ($1, $2, '2025-03-03T08:00Z', '2025-03-03T09:00Z')`, [tenant.id, pa]);
  const atA = (startsAt: string, status: BookingRowSpec['status'], minutes = 30) =>
    insertBooking(db, { tenantId: tenant.id, serviceId: service, providerId: pa, locationId: locationA, startsAt, status, minutes });
  const atB = (startsAt: string, status: BookingRowSpec['status'], minutes = 30) =>
    insertBooking(db, { tenantId: tenant.id, serviceId: service, providerId: pb, locationId: locationB, startsAt, status, minutes });
  await atA('2025-03-03T09:00Z', 'confirmed');
  await atA('2025-03-03T10:00Z', 'completed');
  await atA('2025-03-03T11:00Z', 'no_show', 60);
  await atA('2025-03-03T12:00Z', 'cancelled');
  await atA('2025-03-03T13:00Z', 'completed');
  await atA('2025-03-02T23:30Z', 'cancelled'); // Mon 00:30 Berlin
  await atA('2025-03-02T22:30Z', 'completed'); // Sun 23:30 Berlin: outside
  await atB('2025-03-04T04:30Z', 'cancelled'); // Mon 23:30 New York
  await atB('2025-03-04T15:00Z', 'confirmed');
  await atB('2025-03-04T15:00Z', 'confirmed');
  await atB('2025-03-04T16:00Z', 'expired');
  await atB('2025-03-04T16:30Z', 'rejected');
  await atB('2025-03-05T15:00Z', 'completed'); // Wed: outside

  const admin = await addMember(db, tenant.id, 'admin');
  const adminB = await addMember(db, tenant.id, 'admin', { locationId: locationB });
  const receptionist = await addMember(db, tenant.id, 'receptionist');
  const viewer = await addMember(db, tenant.id, 'viewer');
  const provider = await addMember(db, tenant.id, 'provider');

  // Another tenant, busy in the same week, where this tenant's owner booked as a customer.
  const other = await createTenant(db, { timeZone: 'Europe/Berlin' });
  const otherLocation = (await createLocation(db, other.id, { timeZone: 'Europe/Berlin' })).id;
  const otherProvider = (await createProvider(db, other.id, { locationId: otherLocation })).id;
  const otherService = (await createService(db, other.id)).id;
  await addRule(db, other.id, { providerId: otherProvider }, otherLocation, 1, '00:00', '24:00');
  for (const status of ['completed', 'no_show', 'cancelled'] as const) {
    await insertBooking(db, {
      tenantId: other.id, serviceId: otherService, providerId: otherProvider, locationId: otherLocation,
      startsAt: '2025-03-03T15:00Z', status, customerUserId: tenant.owner.userId,
    });
  }

  const sign = async (userId: string) => (await api.tokens.signAccess({ sub: userId, tenant_id: tenant.id })).token;
  return {
    locationA, locationB, pa, pb,
    tokens: {
      owner: await sign(tenant.owner.userId), admin: await sign(admin.userId), adminB: await sign(adminB.userId),
      receptionist: await sign(receptionist.userId), viewer: await sign(viewer.userId), provider: await sign(provider.userId),
    },
  };
}

const zero = { held: 0, pending: 0, confirmed: 0, completed: 0, no_show: 0, cancelled: 0, rejected: 0, expired: 0 };

interface Summary {
  bookings: { total: number; by_status: Record<string, number> };
  no_show_rate: number | null;
  cancellation_rate: number | null;
  by_day: { date: string; total: number; by_status: Record<string, number> }[];
  utilization: {
    providers: { provider_id: string; working_minutes: number; booked_minutes: number; utilization: number | null }[];
    locations: { location_id: string; working_minutes: number; booked_minutes: number; utilization: number | null }[];
  };
}

describe('analytics summary', () => {
  const api = useApi();
  const summary = (token: string | undefined, from = '2025-03-03', to = '2025-03-05') =>
    api().json<Summary>('GET', `/v1/analytics/summary?from=${from}&to=${to}`, token ? { token } : {});

  it('counts bookings by status and local day of their location, with no-show and cancellation rates', async () => {
    const w = await analyticsWorld(api());
    const res = await summary(w.tokens.owner);
    expect(res.status).toBe(200);
    expect(res.body.bookings).toEqual({ total: 11, by_status: { ...zero, confirmed: 3, completed: 2, no_show: 1, cancelled: 3, expired: 1, rejected: 1 } });
    expect(res.body.by_day).toEqual([
      { date: '2025-03-03', total: 7, by_status: { ...zero, confirmed: 1, completed: 2, no_show: 1, cancelled: 3 } },
      { date: '2025-03-04', total: 4, by_status: { ...zero, confirmed: 2, expired: 1, rejected: 1 } },
    ]);
    expect(res.body.no_show_rate).toBeCloseTo(1 / 3, 10);
    expect(res.body.cancellation_rate).toBeCloseTo(3 / 10, 10);
  });

  it('utilization is booked minutes over working minutes (hours minus time off), per provider and per location', async () => {
    const w = await analyticsWorld(api());
    const { body } = await summary(w.tokens.admin);
    const byProvider = Object.fromEntries(body.utilization.providers.map((p) => [p.provider_id, p]));
    expect(byProvider[w.pa]).toMatchObject({ working_minutes: 420, booked_minutes: 150 });
    expect(byProvider[w.pa]!.utilization).toBeCloseTo(150 / 420, 10);
    expect(byProvider[w.pb]).toEqual({ provider_id: w.pb, working_minutes: 120, booked_minutes: 30, utilization: 0.25 });
    expect(body.utilization.providers).toHaveLength(2);
    const byLocation = Object.fromEntries(body.utilization.locations.map((l) => [l.location_id, l]));
    expect(byLocation[w.locationA]).toMatchObject({ working_minutes: 420, booked_minutes: 150 });
    expect(byLocation[w.locationB]).toMatchObject({ working_minutes: 120, booked_minutes: 30, utilization: 0.25 });
  });

  it('a period clips booked and working time: only Tuesday', async () => {
    const w = await analyticsWorld(api());
    const { body } = await summary(w.tokens.owner, '2025-03-04', '2025-03-05');
    expect(body.bookings.total).toBe(4);
    expect(body.no_show_rate).toBeNull();
    const byProvider = Object.fromEntries(body.utilization.providers.map((p) => [p.provider_id, p]));
    expect(byProvider[w.pa]).toMatchObject({ working_minutes: 0, booked_minutes: 0, utilization: null });
    expect(byProvider[w.pb]).toMatchObject({ working_minutes: 120, booked_minutes: 30 });
  });

  it('an admin scoped to branch B counts only branch B', async () => {
    const w = await analyticsWorld(api());
    const { body } = await summary(w.tokens.adminB);
    expect(body.bookings).toEqual({ total: 5, by_status: { ...zero, confirmed: 2, cancelled: 1, expired: 1, rejected: 1 } });
    expect(body.utilization.locations.map((l) => l.location_id)).toEqual([w.locationB]);
  });

  it('receptionists, viewers and providers get 403; anonymous callers 401', async () => {
    const w = await analyticsWorld(api());
    for (const role of ['receptionist', 'viewer', 'provider'] as const) {
      expect((await summary(w.tokens[role])).body, role).toMatchObject({ status: 403, code: 'forbidden' });
    }
    expect((await summary(undefined)).status).toBe(401);
  });

  it('rejects a period that is empty, inverted, longer than 366 days or not made of dates', async () => {
    const w = await analyticsWorld(api());
    expect((await summary(w.tokens.owner, '2025-03-03', '2025-03-03')).body).toMatchObject({ status: 422, code: 'invalid_range' });
    expect((await summary(w.tokens.owner, '2025-03-05', '2025-03-03')).status).toBe(422);
    expect((await summary(w.tokens.owner, '2025-01-01', '2026-01-03')).status).toBe(422);
    expect((await summary(w.tokens.owner, '2025-03-03T00:00:00Z', '2025-03-05')).status).toBe(422);
  });
});
