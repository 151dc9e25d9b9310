import { beforeAll, describe, expect, it } from 'vitest';
import { insertBooking } from '../support/booking-rows.ts';
import { anon, expectSqlState, useTestDb, type Principal } from '../support/db.ts';
import {
  addDailyRules,
  addMember,
  createLocation,
  createProvider,
  createService,
  createTenant,
  linkProvider,
  uniq,
  type TenantFixture,
} from '../support/factories.ts';

/**
 * Plan limits live in PostgreSQL (20261123180100_billing.sql): a member writing SQL directly meets
 * the same SBPLN the API maps to 402 plan_limit_reached. The per-file database turns enforcement
 * on (slotbase_private.billing_settings), as a SaaS deployment does; setup writes as the owner of
 * the tables, assertions act as the member.
 */

const BOOK = `select id from slotbase.create_booking(
  p_tenant_id => $1, p_service_id => $2, p_starts_at => $3, p_contact_name => 'Guest', p_contact_email => 'guest@example.test')`;

describe('plan limits', () => {
  const db = useTestDb();

  beforeAll(async () => {
    await db().query('update slotbase_private.billing_settings set enforce_plan_limits = true');
    // A plan small enough to fill in a test.
    await db().query(`insert into slotbase.plans (id, name, max_providers, max_locations, max_bookings_per_month, max_webhook_endpoints, max_sms_per_month)
                      values ('tiny', 'Tiny', 1, 1, 2, 1, 1)`);
  });

  async function tenantOn(plan: string): Promise<TenantFixture> {
    const t = await createTenant(db());
    await db().query('update slotbase.tenants set plan = $2 where id = $1', [t.id, plan]);
    return t;
  }

  const addProvider = (who: Principal, tenantId: string) =>
    db().queryAs(who, `insert into slotbase.providers (tenant_id, name) values ($1, $2) returning id`, [tenantId, uniq('Provider ')]);

  /** A tenant on `plan` with one location, one provider working around the clock and a public 30-minute service. */
  async function clinicOn(plan: string) {
    const t = await createTenant(db(), { timeZone: 'UTC' });
    const location = await createLocation(db(), t.id, { timeZone: 'UTC' });
    const provider = await createProvider(db(), t.id, { locationId: location.id });
    await addDailyRules(db(), t.id, { providerId: provider.id }, location.id, '00:00', '24:00');
    const service = await createService(db(), t.id, { durationMinutes: 30, maxAdvanceDays: 365 });
    await linkProvider(db(), t.id, service.id, provider.id);
    await db().query('update slotbase.tenants set plan = $2 where id = $1', [t.id, plan]);
    return { ...t, locationId: location.id, providerId: provider.id, serviceId: service.id };
  }

  let hour = 0;
  async function nextSlot(): Promise<Date> {
    hour += 1;
    const [row] = await db().query<{ t: Date }>(`select date_trunc('hour', now()) + make_interval(days => 2, hours => $1) as t`, [hour]);
    return row!.t;
  }

  it('plans and their limits are readable by anyone, signed in or not', async () => {
    const rows = await db().queryAs<{ id: string; max_providers: number | null }>(anon, 'select id, max_providers from slotbase.plans order by sort_order, id');
    expect(rows.map((r) => r.id)).toEqual(expect.arrayContaining(['free', 'pro', 'business']));
    expect(rows.find((r) => r.id === 'business')!.max_providers).toBeNull();
  });

  it('no member can change plans, the billing switch or their tenant\'s plan and status, not even the owner', async () => {
    const t = await tenantOn('free');
    await expectSqlState(db().queryAs(t.owner, `update slotbase.plans set max_providers = 1000 where id = 'free'`), '42501');
    await expectSqlState(db().queryAs(t.owner, 'update slotbase_private.billing_settings set enforce_plan_limits = false'), '42501');
    await expectSqlState(db().queryAs(t.owner, `update slotbase.tenants set plan = 'business' where id = $1`, [t.id]), '42501');
    await expectSqlState(db().queryAs(t.owner, `update slotbase.tenants set status = 'active' where id = $1`, [t.id]), '42501');
    const [row] = await db().queryAs<{ plan: string }>(t.owner, 'select plan from slotbase.tenants where id = $1', [t.id]);
    expect(row!.plan).toBe('free');
  });

  it('a member creating the N+1th provider on a plan allowing N gets SBPLN', async () => {
    const t = await tenantOn('free');
    await addProvider(t.owner, t.id);
    await expectSqlState(addProvider(t.owner, t.id), 'SBPLN');
    const rows = await db().queryAs(t.owner, 'select id from slotbase.providers where tenant_id = $1', [t.id]);
    expect(rows).toHaveLength(1);
  });

  it('the N+1th location and the N+1th webhook endpoint are refused with SBPLN too', async () => {
    const t = await tenantOn('free');
    const location = `insert into slotbase.locations (tenant_id, name, time_zone) values ($1, $2, 'UTC')`;
    await db().queryAs(t.owner, location, [t.id, 'Mitte']);
    await expectSqlState(db().queryAs(t.owner, location, [t.id, 'Kreuzberg']), 'SBPLN');
    const endpoint = 'select * from slotbase.create_webhook_endpoint($1)';
    await db().queryAs(t.owner, endpoint, ['https://hooks.example.test/a']);
    await expectSqlState(db().queryAs(t.owner, endpoint, ['https://hooks.example.test/b']), 'SBPLN');
  });

  it('a soft-deleted provider frees its place, and restoring it counts like creating one', async () => {
    const t = await tenantOn('free');
    const [first] = await addProvider(t.owner, t.id);
    await db().queryAs(t.owner, 'update slotbase.providers set deleted_at = now() where tenant_id = $1 and id = $2', [t.id, first!.id]);
    await addProvider(t.owner, t.id);
    await expectSqlState(
      db().queryAs(t.owner, 'update slotbase.providers set deleted_at = null where tenant_id = $1 and id = $2', [t.id, first!.id]),
      'SBPLN',
    );
  });

  it('moving the tenant to a bigger plan lifts the limit', async () => {
    const t = await tenantOn('free');
    await addProvider(t.owner, t.id);
    await expectSqlState(addProvider(t.owner, t.id), 'SBPLN');
    await db().query(`update slotbase.tenants set plan = 'pro' where id = $1`, [t.id]);
    await addProvider(t.owner, t.id);
    const rows = await db().queryAs(t.owner, 'select id from slotbase.providers where tenant_id = $1', [t.id]);
    expect(rows).toHaveLength(2);
  });

  it('with enforcement off (a self-hosted deployment) plans limit nothing', async () => {
    const t = await tenantOn('free');
    await db().query('update slotbase_private.billing_settings set enforce_plan_limits = false');
    try {
      await addProvider(t.owner, t.id);
      await addProvider(t.owner, t.id);
      await addProvider(t.owner, t.id);
    } finally {
      await db().query('update slotbase_private.billing_settings set enforce_plan_limits = true');
    }
    await expectSqlState(addProvider(t.owner, t.id), 'SBPLN');
  });

  it('the monthly booking limit refuses the next booking with SBPLN; last month\'s bookings and expired holds do not count', async () => {
    const c = await clinicOn('tiny');
    const row = { tenantId: c.id, serviceId: c.serviceId, providerId: c.providerId, locationId: c.locationId };
    const [{ last_month } = { last_month: '' }] = await db().query<{ last_month: string }>(
      `select (date_trunc('month', now() at time zone 'UTC') at time zone 'UTC' - interval '1 hour')::text as last_month`,
    );
    await insertBooking(db(), { ...row, startsAt: '2031-01-01T10:00Z', createdAt: last_month });
    await insertBooking(db(), { ...row, startsAt: '2031-01-01T11:00Z', status: 'expired' });
    await db().queryAs(anon, BOOK, [c.id, c.serviceId, await nextSlot()]);
    await db().queryAs(c.owner, BOOK, [c.id, c.serviceId, await nextSlot()]);
    await expectSqlState(db().queryAs(anon, BOOK, [c.id, c.serviceId, await nextSlot()]), 'SBPLN');
    await expectSqlState(db().queryAs(c.owner, BOOK, [c.id, c.serviceId, await nextSlot()]), 'SBPLN');
  });

  it('past due beyond the grace period, a public booking is refused with SBPAU and the booking page is not accepting; staff still book', async () => {
    const c = await clinicOn('pro');
    await db().query(`update slotbase.tenants set status = 'past_due' where id = $1`, [c.id]);
    await db().query(
      `insert into slotbase_private.tenant_billing (tenant_id, stripe_customer_id, subscription_status, past_due_since, grace_ends_at)
       values ($1, $2, 'past_due', now() - interval '8 days', now() - interval '1 day')`,
      [c.id, uniq('cus_')],
    );
    await expectSqlState(db().queryAs(anon, BOOK, [c.id, c.serviceId, await nextSlot()]), 'SBPAU');
    const [page] = await db().queryAs<{ is_accepting_bookings: boolean }>(anon, 'select is_accepting_bookings from slotbase.public_tenant($1)', [c.slug]);
    expect(page!.is_accepting_bookings).toBe(false);
    const staff = await db().queryAs(c.owner, BOOK, [c.id, c.serviceId, await nextSlot()]);
    expect(staff).toHaveLength(1);
  });

  it('within the grace period a past-due tenant keeps taking public bookings', async () => {
    const c = await clinicOn('pro');
    await db().query(`update slotbase.tenants set status = 'past_due' where id = $1`, [c.id]);
    await db().query(
      `insert into slotbase_private.tenant_billing (tenant_id, subscription_status, past_due_since, grace_ends_at)
       values ($1, 'past_due', now() - interval '1 day', now() + interval '6 days')`,
      [c.id],
    );
    expect(await db().queryAs(anon, BOOK, [c.id, c.serviceId, await nextSlot()])).toHaveLength(1);
    const [page] = await db().queryAs<{ is_accepting_bookings: boolean }>(anon, 'select is_accepting_bookings from slotbase.public_tenant($1)', [c.slug]);
    expect(page!.is_accepting_bookings).toBe(true);
  });

  it('an SMS beyond the plan\'s monthly allowance is logged skipped (plan_limit_reached), not queued', async () => {
    const c = await clinicOn('tiny');
    const claim = (n: number) =>
      db().query<{ status: string; reason: string | null }>(
        `select status, reason from slotbase_private.claim_notification($1, null, 'sms', 'reminder', '+4930123456', $2)`,
        [c.id, `test:${n}:${uniq()}`],
      );
    expect((await claim(1))[0]).toMatchObject({ status: 'queued', reason: null });
    expect((await claim(2))[0]).toMatchObject({ status: 'skipped', reason: 'plan_limit_reached' });
    const [email] = await db().query<{ status: string }>(
      `select status from slotbase_private.claim_notification($1, null, 'email', 'reminder', 'guest@example.test', $2)`,
      [c.id, `test:email:${uniq()}`],
    );
    expect(email!.status).toBe('queued');
  });

  it('tenant-wide owners and admins read usage against limits; other roles are refused', async () => {
    const c = await clinicOn('tiny');
    const [row] = await db().queryAs<{ plan: string; limits_enforced: boolean; usage: Record<string, { used: number; limit: number | null }> }>(
      c.owner,
      'select plan, limits_enforced, usage from slotbase.billing_overview()',
    );
    expect(row).toMatchObject({ plan: 'tiny', limits_enforced: true });
    expect(row!.usage.providers).toEqual({ used: 1, limit: 1 });
    expect(row!.usage.locations).toEqual({ used: 1, limit: 1 });
    const receptionist = await addMember(db(), c.id, 'receptionist');
    await expectSqlState(db().queryAs(receptionist, 'select * from slotbase.billing_overview()'), '42501');
  });
});
