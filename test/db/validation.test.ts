import { beforeAll, describe, expect, it } from 'vitest';
import { constraintOf, expectSqlState, useTestDb, type Principal } from '../support/db.ts';
import { createUser } from '../support/factories.ts';
import { createTenantWorld, type TenantWorld } from '../support/tenant-world.ts';

// Bad input is refused by PostgreSQL with a stable SQLSTATE and constraint name (what the API
// maps to a 422/409 field error), and a refused statement writes nothing.
describe('bad input fails in SQL and writes nothing', () => {
  const db = useTestDb();
  let w: TenantWorld;
  let other: TenantWorld;

  beforeAll(async () => {
    w = await createTenantWorld(db());
    other = await createTenantWorld(db());
  });

  /** Runs a statement as the owner that must fail; asserts code + constraint and that `table` is unchanged. */
  async function refused(table: string, text: string, params: unknown[], code: string, constraint?: string) {
    const count = () => db().queryAs<{ n: number }>(w.owner, `select count(*)::int as n from slotbase.${table}`).then((r) => r[0]!.n);
    const before = await count();
    const error = await expectSqlState(db().queryAs(w.owner, text, params), code);
    if (constraint) expect(constraintOf(error)).toBe(constraint);
    expect(await count()).toBe(before);
  }

  it('rejects a time zone that is not an IANA name', async () => {
    for (const tz of ['Mars/Olympus_Mons', 'Europe/berlin ', '', '+02:00']) {
      await refused(
        'locations',
        `insert into slotbase.locations (tenant_id, name, time_zone) values ($1, 'Bad zone', $2)`,
        [w.id, tz],
        '23514',
        'locations_time_zone_check',
      );
    }
    await expectSqlState(db().queryAs(w.owner, `update slotbase.tenants set time_zone = 'Nowhere/Land' where id = $1`, [w.id]), '23514');
  });

  it('rejects weekly hours that end before they start', async () => {
    await refused(
      'availability_rules',
      `insert into slotbase.availability_rules (tenant_id, provider_id, location_id, weekday, start_time, end_time) values ($1, $2, $3, 1, '17:00', '09:00')`,
      [w.id, w.providerId, w.locationId],
      '23514',
      'availability_rules_time_range_check',
    );
    await refused(
      'availability_rules',
      `insert into slotbase.availability_rules (tenant_id, provider_id, location_id, weekday, start_time, end_time) values ($1, $2, $3, 8, '09:00', '17:00')`,
      [w.id, w.providerId, w.locationId],
      '23514',
      'availability_rules_weekday_check',
    );
  });

  it('rejects time off and date overrides that end before they start', async () => {
    await refused(
      'time_off',
      `insert into slotbase.time_off (tenant_id, provider_id, starts_at, ends_at) values ($1, $2, '2030-01-02T00:00Z', '2030-01-01T00:00Z')`,
      [w.id, w.providerId],
      '23514',
      'time_off_time_range_check',
    );
    await refused(
      'date_overrides',
      `insert into slotbase.date_overrides (tenant_id, provider_id, location_id, date, start_time, end_time) values ($1, $2, $3, '2030-01-01', '12:00', '11:00')`,
      [w.id, w.providerId, w.locationId],
      '23514',
      'date_overrides_time_range_check',
    );
    await refused(
      'date_overrides',
      `insert into slotbase.date_overrides (tenant_id, provider_id, location_id, date, start_time) values ($1, $2, $3, '2030-01-01', '12:00')`,
      [w.id, w.providerId, w.locationId],
      '23514',
      'date_overrides_closed_check',
    );
  });

  it('rejects zero or negative durations and negative buffers', async () => {
    const insert = (column: string, value: number) =>
      refused(
        'services',
        `insert into slotbase.services (tenant_id, slug, name, duration_minutes, ${column === 'duration_minutes' ? 'kind' : column})
         values ($1, 'bad-svc', 'Bad', ${column === 'duration_minutes' ? '$2' : '30'}, ${column === 'duration_minutes' ? `'appointment'` : '$2'})`,
        [w.id, value],
        '23514',
        `services_${column}_check`,
      );
    await insert('duration_minutes', 0);
    await insert('duration_minutes', -15);
    await insert('buffer_before_minutes', -5);
    await insert('buffer_after_minutes', -1);
    await insert('slot_interval_minutes', 0);
    await insert('max_party_size', 0);
    await expectSqlState(db().queryAs(w.owner, `update slotbase.services set duration_minutes = 0 where id = $1`, [w.serviceId]), '23514');
  });

  it('rejects a tenant slug that is taken, malformed or reserved', async () => {
    const user = await createUser(db());
    const who: Principal = { role: 'authenticated', userId: user.id };
    const countTenants = () => db().query<{ n: number }>('select count(*)::int as n from slotbase.tenants').then((r) => r[0]!.n);
    const before = await countTenants();
    const taken = await expectSqlState(db().queryAs(who, `select slotbase.create_tenant($1, 'Copycat', 'UTC')`, [w.slug]), '23505');
    expect(constraintOf(taken)).toBe('tenants_slug_key');
    for (const [slug, constraint] of [
      ['Has Spaces', 'tenants_slug_check'],
      ['-dash-first', 'tenants_slug_check'],
      ['manage', 'tenants_slug_reserved_check'],
    ] as const) {
      const e = await expectSqlState(db().queryAs(who, `select slotbase.create_tenant($1, 'X', 'UTC')`, [slug]), '23514');
      expect(constraintOf(e)).toBe(constraint);
    }
    await expectSqlState(db().queryAs(who, `select slotbase.create_tenant('fine-slug', 'X', 'Not/AZone')`), '23514');
    // No tenant, and no orphan membership, was written by any of the failures.
    expect(await countTenants()).toBe(before);
    expect(await db().queryAs(who, 'select 1 from slotbase.memberships where user_id = $1', [user.id])).toEqual([]);
  });

  it('rejects a service slug already used in the same tenant, but allows it in another', async () => {
    const [{ slug }] = (await db().queryAs<{ slug: string }>(w.owner, 'select slug from slotbase.services where id = $1', [w.serviceId])) as [
      { slug: string },
    ];
    const e = await expectSqlState(
      db().queryAs(w.owner, `insert into slotbase.services (tenant_id, slug, name, duration_minutes) values ($1, $2, 'Dup', 30)`, [w.id, slug]),
      '23505',
    );
    expect(constraintOf(e)).toBe('services_tenant_id_slug_key');
    const ok = await db().queryAs(other.owner, `insert into slotbase.services (tenant_id, slug, name, duration_minutes) values ($1, $2, 'Same slug elsewhere', 30) returning 1`, [
      other.id,
      slug,
    ]);
    expect(ok).toHaveLength(1);
  });

  it('rejects a reference to another tenant\'s row', async () => {
    await refused(
      'resources',
      `insert into slotbase.resources (tenant_id, location_id, name) values ($1, $2, 'Stolen room')`,
      [w.id, other.locationId],
      '23503',
      'resources_location_id_fkey',
    );
    await refused(
      'availability_rules',
      `insert into slotbase.availability_rules (tenant_id, provider_id, location_id, weekday, start_time, end_time) values ($1, $2, $3, 1, '09:00', '10:00')`,
      [w.id, w.providerId, other.locationId],
      '23503',
      'availability_rules_location_id_fkey',
    );
    await expectSqlState(db().queryAs(w.owner, `update slotbase.providers set location_id = $2 where id = $1`, [w.providerId, other.locationId]), '23503');
  });

  it('rejects an email that is already registered, whatever its case', async () => {
    const user = await createUser(db(), 'Mixed.Case@Example.test');
    expect(user.email).toBe('Mixed.Case@Example.test');
    const e = await expectSqlState(db().query(`insert into slotbase.users (email) values ('mixed.case@example.TEST')`), '23505');
    expect(constraintOf(e)).toBe('users_email_key');
  });
});
