import { beforeAll, describe, expect, it } from 'vitest';
import { insertBooking } from '../support/booking-rows.ts';
import { anon, expectSqlState, useTestDb, type Principal } from '../support/db.ts';
import { addMember, addRule, createLocation, createProvider, createService, createTenant, createUser, type Member } from '../support/factories.ts';

/**
 * The customer and analytics views are security_invoker: what they aggregate is exactly what RLS
 * on bookings lets the caller see, in the tenant the request acts in. Runs on PGlite and PostgreSQL.
 */
describe('customer and analytics views under RLS', () => {
  const db = useTestDb();
  let t: { id: string; owner: Member; locationA: string; locationB: string; providerA: string; providerB: string };
  let receptionistA: Member;
  let viewer: Member;
  let adminB: Member;
  let other: { id: string; owner: Member };
  let customer: Principal;

  beforeAll(async () => {
    const tenant = await createTenant(db(), { timeZone: 'Europe/Berlin' });
    const locationA = (await createLocation(db(), tenant.id, { timeZone: 'Europe/Berlin' })).id;
    const locationB = (await createLocation(db(), tenant.id, { timeZone: 'Europe/Berlin' })).id;
    const providerA = (await createProvider(db(), tenant.id, { locationId: locationA })).id;
    const providerB = (await createProvider(db(), tenant.id, { locationId: locationB })).id;
    const service = (await createService(db(), tenant.id)).id;
    await addRule(db(), tenant.id, { providerId: providerA }, locationA, 1, '09:00', '17:00'); // Mondays
    await addRule(db(), tenant.id, { providerId: providerB }, locationB, 1, '09:00', '11:00');
    t = { id: tenant.id, owner: tenant.owner, locationA, locationB, providerA, providerB };
    receptionistA = await addMember(db(), tenant.id, 'receptionist', { locationId: locationA });
    viewer = await addMember(db(), tenant.id, 'viewer');
    adminB = await addMember(db(), tenant.id, 'admin', { locationId: locationB });
    const customerUser = await createUser(db());
    customer = { role: 'authenticated', userId: customerUser.id, claims: { kind: 'customer' } };

    const at = (where: 'A' | 'B') => ({
      tenantId: tenant.id, serviceId: service,
      providerId: where === 'A' ? providerA : providerB, locationId: where === 'A' ? locationA : locationB,
    });
    // Monday 2025-03-03 in Berlin (UTC+1).
    await insertBooking(db(), { ...at('A'), startsAt: '2025-03-03T08:00Z', status: 'completed', name: 'Ada', email: 'ada@example.test', customerUserId: customerUser.id });
    await insertBooking(db(), { ...at('A'), startsAt: '2025-03-03T09:00Z', status: 'no_show', name: 'Ada', email: 'ADA@example.test' });
    await insertBooking(db(), { ...at('B'), startsAt: '2025-03-03T08:00Z', status: 'cancelled', name: 'Bob', email: null, phone: '+49 30 1' });
    await insertBooking(db(), { ...at('B'), startsAt: '2025-03-03T09:00Z', status: 'confirmed', name: 'Bob', email: null, phone: '+49301' });

    // Another tenant, where this tenant's owner is a registered customer.
    const o = await createTenant(db(), { timeZone: 'Europe/Berlin' });
    const oLocation = (await createLocation(db(), o.id)).id;
    const oProvider = (await createProvider(db(), o.id, { locationId: oLocation })).id;
    const oService = (await createService(db(), o.id)).id;
    await insertBooking(db(), {
      tenantId: o.id, serviceId: oService, providerId: oProvider, locationId: oLocation,
      startsAt: '2025-03-03T08:00Z', status: 'completed', name: 'Owner of T', email: 'owner@example.test', customerUserId: tenant.owner.userId,
    });
    other = { id: o.id, owner: o.owner };
  });

  const customers = (who: Principal) =>
    db().queryAs<{ tenant_id: string; customer_key: string; bookings_count: number }>(who, `
      select tenant_id, customer_key, bookings_count::int as bookings_count from slotbase.customer_summaries order by customer_key`);
  const daily = (who: Principal) =>
    db().queryAs<{ tenant_id: string; location_id: string; status: string; n: number }>(who, `
      select tenant_id, location_id, status, bookings_count::int as n from slotbase.booking_daily_stats where local_date = '2025-03-03' order by status`);

  it('both views are security_invoker', async () => {
    const rows = await db().query<{ name: string; options: string[] | string }>(`
      select c.relname as name, c.reloptions as options from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'slotbase' and c.relkind = 'v' and c.relname in ('customer_summaries', 'booking_daily_stats') order by 1`);
    expect(rows.map((r) => [r.name, String(r.options)])).toEqual([
      ['booking_daily_stats', expect.stringContaining('security_invoker=true')],
      ['customer_summaries', expect.stringContaining('security_invoker=true')],
    ]);
  });

  it('customer_summaries: the owner sees the tenant\'s contacts by email or phone, never their own bookings elsewhere', async () => {
    expect(await customers(t.owner)).toEqual([
      { tenant_id: t.id, customer_key: '+49301', bookings_count: 2 },
      { tenant_id: t.id, customer_key: 'ada@example.test', bookings_count: 2 },
    ]);
  });

  it('customer_summaries: a receptionist of branch A sees branch A only', async () => {
    expect(await customers(receptionistA)).toEqual([{ tenant_id: t.id, customer_key: 'ada@example.test', bookings_count: 2 }]);
  });

  it('customer_summaries: a customer, another tenant\'s owner, and a forged tenant claim see nothing; anon may not read it', async () => {
    // The customer can read their own booking row, but acts in no tenant.
    expect(await db().queryAs(customer, 'select count(*)::int as n from slotbase.bookings')).toEqual([{ n: 1 }]);
    expect(await customers(customer)).toEqual([]);
    expect((await customers(other.owner)).map((r) => r.tenant_id)).toEqual([other.id]); // their own tenant's contact only
    expect(await customers({ ...other.owner, tenantId: t.id })).toEqual([]);
    await expectSqlState(db().queryAs(anon, 'select 1 from slotbase.customer_summaries'), '42501');
  });

  it('booking_daily_stats: owners and admins (in scope) only; other roles and tenants see nothing', async () => {
    expect((await daily(t.owner)).map((r) => [r.status, r.n])).toEqual([['cancelled', 1], ['completed', 1], ['confirmed', 1], ['no_show', 1]]);
    expect((await daily(adminB)).map((r) => [r.location_id, r.status])).toEqual([[t.locationB, 'cancelled'], [t.locationB, 'confirmed']]);
    expect(await daily(receptionistA)).toEqual([]);
    expect(await daily(viewer)).toEqual([]);
    expect(await daily(customer)).toEqual([]);
    expect(await daily({ ...other.owner, tenantId: t.id })).toEqual([]);
    expect((await daily(other.owner)).every((r) => r.tenant_id === other.id)).toBe(true);
    await expectSqlState(db().queryAs(anon, 'select 1 from slotbase.booking_daily_stats'), '42501');
  });

  it('provider_utilization and working_minutes follow the caller\'s scope', async () => {
    const util = (who: Principal) =>
      db().queryAs<{ provider_id: string; w: number; b: number }>(who, `
        select provider_id, working_minutes::float8 as w, booked_minutes::float8 as b
        from slotbase.provider_utilization('2025-03-03', '2025-03-04') order by w desc`);
    // A: 09:00–17:00 with 60 + 60 booked (completed, no_show); B: 09:00–11:00 with 60 confirmed (the cancelled one is free).
    expect(await util(t.owner)).toEqual([
      { provider_id: t.providerA, w: 480, b: 60 },
      { provider_id: t.providerB, w: 120, b: 30 },
    ]);
    expect(await util(adminB)).toEqual([{ provider_id: t.providerB, w: 120, b: 30 }]);
    expect(await util(receptionistA)).toEqual([]);
    expect(await util(customer)).toEqual([]);
    const minutes = (who: Principal) =>
      db().queryAs<{ m: number | null }>(who, `select slotbase.working_minutes($1, $2, '2025-03-03', '2025-03-04')::float8 as m`, [t.providerA, t.locationA]);
    expect(await minutes(t.owner)).toEqual([{ m: 480 }]);
    expect(await minutes(viewer)).toEqual([{ m: 480 }]); // any member may read hours in scope, as availability_rules allows
    expect(await minutes(adminB)).toEqual([{ m: null }]); // location A is outside B's scope
    expect(await minutes(other.owner)).toEqual([{ m: null }]);
    expect(await minutes({ ...other.owner, tenantId: t.id })).toEqual([{ m: null }]);
    await expectSqlState(db().queryAs(anon, `select slotbase.working_minutes($1, $2, '2025-03-03', '2025-03-04')`, [t.providerA, t.locationA]), '42501');
  });

  it('a customer may set their own phone, checked like booking phones, and nobody else\'s', async () => {
    const me = customer as Extract<Principal, { role: 'authenticated' }>;
    expect(await db().queryAs(customer, `update slotbase.users set phone = '+49 30 99' where id = $1 returning phone`, [me.userId])).toEqual([{ phone: '+49 30 99' }]);
    await expectSqlState(db().queryAs(customer, `update slotbase.users set phone = 'call me' where id = $1`, [me.userId]), '23514');
    expect(await db().queryAs(customer, `update slotbase.users set phone = '+1 555' where id = $1 returning 1`, [t.owner.userId])).toEqual([]);
  });
});
