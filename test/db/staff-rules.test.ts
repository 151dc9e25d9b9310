import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectSqlState, useTestDb, type Principal, type Queryable, type TestDb } from '../support/db.ts';
import {
  addDailyRules,
  addMember,
  createLocation,
  createProvider,
  createService,
  createTenant,
  linkProvider,
  type Member,
  type TenantFixture,
} from '../support/factories.ts';

const TZ = 'Europe/Berlin';

/** The instant of local wall-clock time `hhmm` in Berlin, `days` local days from today. */
async function at(db: Queryable, days: number, hhmm: string): Promise<Date> {
  const [row] = await db.query<{ t: Date }>(
    `select ((date_trunc('day', now() at time zone $1) + make_interval(days => $2)) + $3::time) at time zone $1 as t`,
    [TZ, days, hhmm],
  );
  return row!.t;
}

describe('an API key acts with at most its creator\'s current role', () => {
  const getDb = useTestDb();
  let db: TestDb;
  let t: TenantFixture;

  beforeAll(async () => {
    db = getDb();
    t = await createTenant(db);
  });

  /** A key created by `creator`, and the principal its requests act as. */
  async function keyOf(creator: Member, role = 'admin') {
    const prefix = `sb_live_${randomBytes(3).toString('base64url')}`;
    const [key] = await db.queryAs<{ id: string; service_user_id: string }>(
      creator,
      `select id, service_user_id from slotbase.create_api_key('Sync', array['*'], $1, null, $2::bytea, $3)`,
      [role, randomBytes(32), prefix],
    );
    const acting: Principal = { role: 'authenticated', userId: key!.service_user_id, tenantId: t.id, claims: { api_key_id: key!.id } };
    return { ...key!, acting };
  }
  const roleOf = async (who: Principal) => (await db.queryAs<{ role: string | null }>(who, 'select slotbase.current_member_role() as role'))[0]!.role;
  const setRole = (role: string, m: Member) => db.queryAs(t.owner, 'update slotbase.memberships set role = $1 where id = $2', [role, m.membershipId]);
  const createLocationAs = (who: Principal) =>
    db.queryAs(who, `insert into slotbase.locations (tenant_id, name, time_zone) values ($1, 'Key branch', 'Europe/Berlin')`, [t.id]);

  it('demoting the creator lowers the key at once (it can no longer create locations); promoting them back restores it', async () => {
    const admin = await addMember(db, t.id, 'admin');
    const key = await keyOf(admin);
    expect(await roleOf(key.acting)).toBe('admin');
    await setRole('receptionist', admin);
    expect(await roleOf(key.acting)).toBe('receptionist');
    await expectSqlState(createLocationAs(key.acting), '42501');
    await setRole('provider', admin);
    expect(await roleOf(key.acting)).toBe('viewer');
    await setRole('admin', admin);
    expect(await roleOf(key.acting)).toBe('admin');
    await createLocationAs(key.acting);
  });

  it('a key never rises above its own role when its creator is promoted', async () => {
    const admin = await addMember(db, t.id, 'admin');
    const key = await keyOf(admin, 'viewer');
    await setRole('owner', admin);
    expect(await roleOf(key.acting)).toBe('viewer');
  });

  it('editing the key\'s membership directly cannot lift it above its creator', async () => {
    const admin = await addMember(db, t.id, 'admin');
    const key = await keyOf(admin);
    await setRole('viewer', admin);
    await db.queryAs(t.owner, `update slotbase.memberships set role = 'admin' where tenant_id = $1 and user_id = $2`, [t.id, key.service_user_id]);
    expect(await roleOf(key.acting)).toBe('viewer');
  });

  it('a creator scoped to a branch scopes their keys to it', async () => {
    const admin = await addMember(db, t.id, 'admin');
    const key = await keyOf(admin);
    const branch = (await createLocation(db, t.id)).id;
    await db.queryAs(t.owner, 'update slotbase.memberships set location_id = $1 where id = $2', [branch, admin.membershipId]);
    const [scope] = await db.queryAs<{ location_id: string | null }>(key.acting, 'select slotbase.current_member_location_id() as location_id');
    expect(scope!.location_id).toBe(branch);
  });

  it('removing the creator revokes their keys for good, also when they are added back', async () => {
    const admin = await addMember(db, t.id, 'admin');
    const key = await keyOf(admin);
    const other = await keyOf(t.owner);
    await db.queryAs(t.owner, 'update slotbase.memberships set deleted_at = now() where id = $1', [admin.membershipId]);
    expect(await roleOf(key.acting)).toBeNull();
    const [row] = await db.queryAs<{ revoked: boolean }>(t.owner, 'select revoked_at is not null as revoked from slotbase.api_keys where id = $1', [key.id]);
    expect(row!.revoked).toBe(true);
    expect(await roleOf(other.acting)).toBe('admin');
    await db.queryAs(t.owner, `insert into slotbase.memberships (tenant_id, user_id, role) values ($1, $2, 'admin')`, [t.id, admin.userId]);
    expect(await roleOf(key.acting)).toBeNull();
  });

  it('deleting the creator\'s membership row revokes their keys too', async () => {
    const admin = await addMember(db, t.id, 'admin');
    const key = await keyOf(admin);
    await db.queryAs(t.owner, 'delete from slotbase.memberships where id = $1', [admin.membershipId]);
    expect(await roleOf(key.acting)).toBeNull();
  });
});

describe('completed and no-show only once a booking has started', () => {
  const getDb = useTestDb();
  let db: TestDb;
  let owner: Member;
  let providerMember: Member;
  let tenantId: string;
  let serviceId: string;

  beforeAll(async () => {
    db = getDb();
    const t = await createTenant(db, { timeZone: TZ });
    tenantId = t.id;
    owner = t.owner;
    const location = await createLocation(db, t.id, { timeZone: TZ });
    providerMember = await addMember(db, t.id, 'provider');
    const provider = await createProvider(db, t.id, { locationId: location.id, userId: providerMember.userId });
    serviceId = (await createService(db, t.id, { maxAdvanceDays: 365 })).id;
    await linkProvider(db, t.id, serviceId, provider.id);
    await addDailyRules(db, t.id, { providerId: provider.id }, location.id, '00:00', '24:00');
  });

  const book = async (startsAt: Date) =>
    (await db.queryAs<{ id: string }>(owner, `select id from slotbase.create_booking(p_tenant_id => $1, p_service_id => $2, p_starts_at => $3, p_contact_name => 'Walk-in')`, [
      tenantId, serviceId, startsAt,
    ]))[0]!.id;
  const statusOf = async (id: string) => (await db.queryAs<{ status: string }>(owner, 'select status from slotbase.bookings where id = $1', [id]))[0]!.status;

  it('before the start, completing and marking a no-show raise SBNST (staff and the provider alike) and change nothing', async () => {
    const id = await book(await at(db, 2, '10:00'));
    await expectSqlState(db.queryAs(owner, 'select slotbase.complete_booking($1)', [id]), 'SBNST');
    await expectSqlState(db.queryAs(owner, 'select slotbase.mark_no_show($1)', [id]), 'SBNST');
    await expectSqlState(db.queryAs(providerMember, 'select slotbase.mark_no_show($1)', [id]), 'SBNST');
    expect(await statusOf(id)).toBe('confirmed');
  });

  it('before the start, staff may still cancel', async () => {
    const id = await book(await at(db, 2, '11:00'));
    await db.queryAs(owner, 'select slotbase.cancel_booking($1)', [id]);
    expect(await statusOf(id)).toBe('cancelled');
  });

  it('once it has started, it can be completed or marked a no-show', async () => {
    const done = await book(await at(db, -1, '10:00'));
    const missed = await book(await at(db, -1, '11:00'));
    await db.queryAs(owner, 'select slotbase.complete_booking($1)', [done]);
    await db.queryAs(providerMember, 'select slotbase.mark_no_show($1)', [missed]);
    expect([await statusOf(done), await statusOf(missed)]).toEqual(['completed', 'no_show']);
  });

  it('an illegal transition is still SBTRN, whatever the time', async () => {
    const id = await book(await at(db, 2, '12:00'));
    await db.queryAs(owner, 'select slotbase.cancel_booking($1)', [id]);
    await expectSqlState(db.queryAs(owner, 'select slotbase.complete_booking($1)', [id]), 'SBTRN');
  });

  it('the auto-complete cron completes bookings that ended (the worker runs it) and leaves future ones alone', async () => {
    const past = await book(await at(db, -2, '09:00'));
    const future = await book(await at(db, 2, '09:00'));
    // complete_past_bookings is the worker's own function (it runs as the database owner, like the worker).
    await db.query('select slotbase_private.complete_past_bookings(1000)');
    expect([await statusOf(past), await statusOf(future)]).toEqual(['completed', 'confirmed']);
  });
});

describe('sessions lie inside their provider\'s working time unless forced', () => {
  const getDb = useTestDb();
  let db: TestDb;
  let t: TenantFixture;
  let admin: Member;
  let locationId: string;
  let providerId: string;
  let groupId: string;

  beforeAll(async () => {
    db = getDb();
    t = await createTenant(db, { timeZone: TZ });
    admin = await addMember(db, t.id, 'admin');
    locationId = (await createLocation(db, t.id, { timeZone: TZ })).id;
    providerId = (await createProvider(db, t.id, { locationId })).id;
    groupId = (await createService(db, t.id, { kind: 'group', durationMinutes: 60, defaultCapacity: 8, maxAdvanceDays: 365 })).id;
    await linkProvider(db, t.id, groupId, providerId);
    await addDailyRules(db, t.id, { providerId }, locationId, '09:00', '17:00');
  });

  const schedule = (who: Principal, startsAt: Date, force?: boolean) =>
    db.queryAs<{ id: string; is_forced: boolean }>(
      who,
      `insert into slotbase.sessions (tenant_id, service_id, provider_id, location_id, starts_at, capacity${force === undefined ? '' : ', is_forced'})
       values ($1, $2, $3, $4, $5, 8${force === undefined ? '' : ', $6'}) returning id, is_forced`,
      force === undefined ? [t.id, groupId, providerId, locationId, startsAt] : [t.id, groupId, providerId, locationId, startsAt, force],
    );

  it('inside the weekly hours a session is scheduled; after hours, or running past the end, it is SBOUT', async () => {
    const [ok] = await schedule(admin, await at(db, 3, '10:00'));
    expect(ok!.is_forced).toBe(false);
    await expectSqlState(schedule(admin, await at(db, 3, '18:00')), 'SBOUT');
    await expectSqlState(schedule(admin, await at(db, 3, '16:30')), 'SBOUT');
    await expectSqlState(schedule(t.owner, await at(db, 3, '07:00')), 'SBOUT');
    expect(await db.queryAs(admin, 'select 1 from slotbase.sessions where starts_at = $1', [await at(db, 3, '18:00')])).toEqual([]);
  });

  it('time off and a closed date override count; an override with other hours opens them', async () => {
    await db.query('insert into slotbase.time_off (tenant_id, provider_id, starts_at, ends_at) values ($1, $2, $3, $4)', [
      t.id, providerId, await at(db, 4, '11:00'), await at(db, 4, '13:00'),
    ]);
    await expectSqlState(schedule(admin, await at(db, 4, '12:00')), 'SBOUT');
    const day = (d: Date) => d.toISOString().slice(0, 10);
    await db.query('insert into slotbase.date_overrides (tenant_id, provider_id, location_id, date) values ($1, $2, $3, $4)', [
      t.id, providerId, locationId, day(await at(db, 5, '12:00')),
    ]);
    await expectSqlState(schedule(admin, await at(db, 5, '10:00')), 'SBOUT');
    await db.query(`insert into slotbase.date_overrides (tenant_id, provider_id, location_id, date, start_time, end_time) values ($1, $2, $3, $4, '18:00', '21:00')`, [
      t.id, providerId, locationId, day(await at(db, 6, '12:00')),
    ]);
    await schedule(admin, await at(db, 6, '19:00'));
    await expectSqlState(schedule(admin, await at(db, 6, '10:00')), 'SBOUT');
  });

  it('forced by an owner or admin, a session outside the hours is scheduled and says so; a busy provider stays 23P01', async () => {
    const evening = await at(db, 7, '19:00');
    const [forced] = await schedule(admin, evening, true);
    expect(forced!.is_forced).toBe(true);
    await expectSqlState(schedule(t.owner, evening, true), '23P01');
  });

  it('receptionists cannot schedule sessions at all, forced or not (42501)', async () => {
    const receptionist = await addMember(db, t.id, 'receptionist');
    await expectSqlState(schedule(receptionist, await at(db, 8, '19:00'), true), '42501');
  });

  it('generated sessions come from the hours and all pass', async () => {
    const made = await db.queryAs<{ starts_at: Date }>(admin, 'select starts_at from slotbase.generate_sessions($1, $2, $3, $4) order by starts_at', [
      t.id, groupId, await at(db, 9, '00:00'), await at(db, 10, '00:00'),
    ]);
    expect(made.map((s) => s.starts_at.toISOString())).toEqual(
      await Promise.all(['09:00', '10:00', '11:00', '12:00', '13:00', '14:00', '15:00', '16:00'].map(async (h) => (await at(db, 9, h)).toISOString())),
    );
  });
});
