import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { anon, expectSqlState, useTestDb, type Principal, type Queryable } from '../support/db.ts';
import { addMember, createLocation, createProvider, createResource, createUser, addRule } from '../support/factories.ts';
import { createTenantWorld, tenantOwnedTables, type TenantWorld } from '../support/tenant-world.ts';

/** An insert into `table` for tenant `t`, using ids of world `w` (which may be another tenant's). */
type Probe = (t: string, w: TenantWorld) => [string, unknown[]];
const inserts: Record<string, Probe> = {
  locations: (t) => [`insert into slotbase.locations (tenant_id, name, time_zone) values ($1, 'x', 'UTC')`, [t]],
  memberships: (t, w) => [
    `insert into slotbase.memberships (tenant_id, user_id, role, location_id) values ($1, $2, 'viewer', $3)`,
    [t, w.viewer.userId, w.locationId],
  ],
  providers: (t, w) => [`insert into slotbase.providers (tenant_id, name, location_id) values ($1, 'x', $2)`, [t, w.locationId]],
  resources: (t, w) => [`insert into slotbase.resources (tenant_id, name, location_id) values ($1, 'x', $2)`, [t, w.locationId]],
  services: (t) => [`insert into slotbase.services (tenant_id, slug, name, duration_minutes) values ($1, 'probe', 'x', 30)`, [t]],
  service_providers: (t, w) => [
    `insert into slotbase.service_providers (tenant_id, service_id, provider_id) values ($1, $2, $3)`,
    [t, w.serviceId, w.providerId],
  ],
  service_resources: (t, w) => [
    `insert into slotbase.service_resources (tenant_id, service_id, resource_id) values ($1, $2, $3)`,
    [t, w.serviceId, w.resourceId],
  ],
  availability_rules: (t, w) => [
    `insert into slotbase.availability_rules (tenant_id, provider_id, location_id, weekday, start_time, end_time) values ($1, $2, $3, 2, '09:00', '10:00')`,
    [t, w.providerId, w.locationId],
  ],
  date_overrides: (t, w) => [
    `insert into slotbase.date_overrides (tenant_id, provider_id, location_id, date) values ($1, $2, $3, '2031-01-01')`,
    [t, w.providerId, w.locationId],
  ],
  time_off: (t, w) => [
    `insert into slotbase.time_off (tenant_id, provider_id, starts_at, ends_at) values ($1, $2, '2031-01-01T00:00Z', '2031-01-02T00:00Z')`,
    [t, w.providerId],
  ],
  // Forced: the provider has no hours then (sessions outside working time need is_forced).
  sessions: (t, w) => [
    `insert into slotbase.sessions (tenant_id, service_id, provider_id, location_id, starts_at, ends_at, capacity, is_forced)
     values ($1, $2, $3, $4, '2031-01-01T10:00Z', '2031-01-01T11:00Z', 5, true)`,
    [t, w.groupServiceId, w.providerId, w.locationId],
  ],
  // Bookings, claims and events are written only by the booking functions: no caller may insert.
  bookings: (t, w) => [
    `insert into slotbase.bookings (tenant_id, code, manage_token_hash, service_id, provider_id, location_id, contact_name, during, status, source)
     values ($1, 'BK-2222222', '\\x00', $2, $3, $4, 'x', tstzrange('2031-01-01T10:00Z', '2031-01-01T11:00Z'), 'confirmed', 'staff')`,
    [t, w.serviceId, w.providerId, w.locationId],
  ],
  booking_claims: (t, w) => [
    `insert into slotbase.booking_claims (tenant_id, booking_id, subject_id, subject_kind, busy)
     values ($1, $2, $3, 'provider', tstzrange('2031-01-01T10:00Z', '2031-01-01T11:00Z'))`,
    [t, w.bookingId, w.providerId],
  ],
  booking_events: (t, w) => [
    `insert into slotbase.booking_events (tenant_id, booking_id, to_status) values ($1, $2, 'cancelled')`,
    [t, w.bookingId],
  ],
  // Keys are issued and revoked only by create_api_key / revoke_api_key: no caller may write the table.
  api_keys: (t, w) => [
    `insert into slotbase.api_keys (tenant_id, name, key_prefix, scopes, service_user_id) values ($1, 'x', 'sb_live_abcd', '{*}', $2)`,
    [t, w.viewer.userId],
  ],
  bans: (t) => [`insert into slotbase.bans (tenant_id, kind, value, reason) values ($1, 'phone', '+49 30 999', 'probe')`, [t]],
  // Hits are written only by record_ban_hit (as the API's role): no caller may insert.
  ban_hits: (t, w) => [
    `insert into slotbase.ban_hits (tenant_id, ban_id, service_id) values ($1, $2, $3)`,
    [t, w.banId, w.serviceId],
  ],
  // The delivery log is written only by the worker (slotbase_private functions): no caller may insert.
  notifications: (t, w) => [
    `insert into slotbase.notifications (tenant_id, booking_id, channel, template, recipient, dedupe_key) values ($1, $2, 'email', 'confirmation', 'x@example.test', 'probe')`,
    [t, w.bookingId],
  ],
  notification_opt_outs: (t) => [`insert into slotbase.notification_opt_outs (tenant_id, channel, address) values ($1, 'email', 'probe@example.test')`, [t]],
  calendar_feeds: (t, w) => [
    `insert into slotbase.calendar_feeds (tenant_id, provider_id, token_hash) values ($1, $2, $3)`,
    [t, w.providerId, randomBytes(32)],
  ],
  // Endpoints are created only by create_webhook_endpoint (with their secret); deliveries and
  // attempts only by the booking trigger, the webhook functions and the worker.
  webhook_endpoints: (t) => [`insert into slotbase.webhook_endpoints (tenant_id, url) values ($1, 'https://probe.example/hook')`, [t]],
  webhook_deliveries: (t) => [
    `insert into slotbase.webhook_deliveries (tenant_id, endpoint_id, event_type, payload) values ($1, gen_random_uuid(), 'booking.created', '{}')`,
    [t],
  ],
  webhook_attempts: (t) => [
    `insert into slotbase.webhook_attempts (tenant_id, delivery_id, duration_ms, is_success) values ($1, gen_random_uuid(), 1, true)`,
    [t],
  ],
  // Invitations are written only by add_member and revoke_invitation: no caller may insert.
  invitations: (t, w) => [
    `insert into slotbase.invitations (tenant_id, email, role, location_id, expires_at) values ($1, 'probe@example.test', 'viewer', $2, now() + interval '1 day')`,
    [t, w.locationId],
  ],
  location_travel_times: (t, w) => [
    `insert into slotbase.location_travel_times (tenant_id, location_a_id, location_b_id, minutes) values ($1, $2, $3, 15)`,
    [t, w.locationId, w.location2Id],
  ],
  service_questions: (t, w) => [
    `insert into slotbase.service_questions (tenant_id, service_id, kind, label) values ($1, $2, 'checkbox', 'Probe')`,
    [t, w.serviceId],
  ],
  // Series, waitlist entries and offers are written only by the series and waitlist functions: no caller may insert.
  booking_series: (t, w) => [
    `insert into slotbase.booking_series (tenant_id, code, manage_token_hash, service_id, provider_id, location_id, rrule, mode, time_zone, first_starts_at, contact_name, source)
     values ($1, 'SR-333333', '\\x00', $2, $3, $4, 'FREQ=WEEKLY;COUNT=2', 'partial', 'UTC', '2031-01-06T09:00Z', 'x', 'staff')`,
    [t, w.serviceId, w.providerId, w.locationId],
  ],
  waitlist_entries: (t, w) => [
    `insert into slotbase.waitlist_entries (tenant_id, service_id, provider_id, location_id, booking_id, window_from, window_to, contact_name, sort_key, source, manage_token_hash)
     values ($1, $2, $3, $4, $5, '2031-01-01T00:00Z', '2031-01-02T00:00Z', 'x', 1, 'staff', '\\x00')`,
    [t, w.serviceId, w.providerId, w.locationId, w.bookingId],
  ],
  waitlist_offers: (t, w) => [
    `insert into slotbase.waitlist_offers (tenant_id, entry_id, booking_id, starts_at, expires_at) values ($1, $2, $3, '2031-01-01T10:00Z', '2031-01-01T09:00Z')`,
    [t, w.waitlistEntryId, w.bookingId],
  ],
};

/** A column each role may update per table (so the update reaches RLS rather than a grant error). */
const updatable: Record<string, string | null> = {
  locations: 'name',
  memberships: 'role',
  providers: 'name',
  resources: 'name',
  services: 'name',
  service_providers: null,
  service_resources: null,
  availability_rules: 'weekday',
  date_overrides: 'date',
  time_off: 'reason',
  sessions: 'capacity',
  bookings: null,
  booking_claims: null,
  booking_events: null,
  api_keys: null,
  bans: 'reason',
  ban_hits: null,
  notifications: null,
  // Opt-outs are recorded and lifted (deleted), never changed.
  notification_opt_outs: null,
  // Feeds are created and revoked (deleted), never changed.
  calendar_feeds: null,
  webhook_endpoints: 'description',
  webhook_deliveries: null,
  webhook_attempts: null,
  // Invitations are revoked through revoke_invitation, never changed.
  invitations: null,
  location_travel_times: 'minutes',
  service_questions: 'label',
  // Series are changed only by the series functions (cancel, move), entries and offers only by the waitlist functions.
  booking_series: null,
  waitlist_entries: null,
  waitlist_offers: null,
};

/** A fingerprint of everything tenant `w` owns, read by its own owner (only the columns callers may select). */
async function fingerprint(q: Queryable, tables: string[], tenantId: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of tables) {
    const cols = await q.query<{ name: string }>(
      `select attname as name from pg_attribute
       where attrelid = ('slotbase.' || $1)::regclass and attnum > 0 and not attisdropped
         and has_column_privilege('authenticated', attrelid, attname, 'select')
       order by attnum`,
      [table],
    );
    const list = cols.map((c) => `t.${c.name}`).join(', ');
    const [row] = await q.query<{ n: number; md5: string }>(
      `select count(*)::int as n, md5(coalesce(string_agg(row(${list})::text, ',' order by row(${list})::text), '')) as md5
       from slotbase.${table} t where tenant_id = $1`,
      [tenantId],
    );
    out[table] = `${row!.n}:${row!.md5}`;
  }
  const [tenant] = await q.query<{ t: string }>(`select t::text from slotbase.tenants t where id = $1`, [tenantId]);
  out.tenants = tenant!.t;
  return out;
}

/** A write that must change nothing: it either affects no row (RLS) or is refused outright (no grant: 42501). */
async function changesNothing(write: Promise<unknown[]>, what: string): Promise<void> {
  const result = await write.then(
    (rows) => ({ rows }),
    (e: { code?: string }) => ({ code: e.code }),
  );
  if ('rows' in result) expect(result.rows, what).toEqual([]);
  else expect(result.code, what).toBe('42501');
}

describe('tenant isolation', () => {
  const db = useTestDb();
  let a: TenantWorld;
  let b: TenantWorld;
  let tables: string[];

  beforeAll(async () => {
    a = await createTenantWorld(db());
    b = await createTenantWorld(db());
    for (const w of [a, b]) await db().queryAs(w.owner, `select slotbase.create_api_key('probe', '{*}', 'viewer', null, $1, 'sb_live_abcd')`, [randomBytes(32)]);
    for (const w of [a, b]) await db().queryAs(w.owner, `insert into slotbase.calendar_feeds (tenant_id, provider_id, token_hash) values ($1, $2, $3)`, [w.id, w.providerId, randomBytes(32)]);
    for (const w of [a, b]) await db().queryAs(w.owner, `select slotbase.send_test_webhook(webhook_endpoint_id) from slotbase.create_webhook_endpoint('https://probe.example/hook')`);
    tables = await tenantOwnedTables(db());
  });

  it('the write probes cover every tenant-owned table', () => {
    expect(Object.keys(inserts).sort()).toEqual([...tables].sort());
    expect(Object.keys(updatable).sort()).toEqual([...tables].sort());
  });

  it('a member of tenant A reads nothing of tenant B in any table', async () => {
    for (const member of [a.owner, a.admin, a.viewer]) {
      await db().as(member, async (q) => {
        for (const table of tables) {
          const rows = await q.query(`select 1 from slotbase.${table} where tenant_id = $1`, [b.id]);
          expect(rows, `${member.memberRole} of A reads slotbase.${table} of B`).toEqual([]);
        }
        expect(await q.query('select 1 from slotbase.tenants where id = $1', [b.id])).toEqual([]);
        expect(await q.query('select 1 from slotbase.users where id = $1', [b.owner.userId])).toEqual([]);
      });
    }
  });

  it('claiming tenant B without a membership there shows nothing at all', async () => {
    const forged: Principal = { ...a.owner, tenantId: b.id };
    await db().as(forged, async (q) => {
      for (const table of tables) {
        expect(await q.query(`select 1 from slotbase.${table}`), `slotbase.${table}`).toEqual([]);
      }
      expect(await q.query('select 1 from slotbase.tenants')).toEqual([]);
    });
  });

  it('anonymous callers read nothing of any tenant', async () => {
    for (const table of [...tables, 'tenants', 'users']) {
      await expectSqlState(db().queryAs(anon, `select 1 from slotbase.${table}`), '42501');
    }
  });

  it('every insert into tenant B by a member of A fails with 42501', async () => {
    for (const table of tables) {
      const [text, params] = inserts[table]!(b.id, b);
      await expectSqlState(db().queryAs(a.owner, text, params), '42501');
    }
    // Acting "in" B with a forged claim does not help either.
    for (const table of tables) {
      const [text, params] = inserts[table]!(b.id, b);
      await expectSqlState(db().queryAs({ ...a.owner, tenantId: b.id }, text, params), '42501');
    }
  });

  it('a row of tenant A can never point at a row of tenant B (23503, or 42501 where the policy cannot see it)', async () => {
    // locations, services, bans and opt-outs reference no other tenant-owned row a caller can set.
    for (const table of tables.filter((t) => !['locations', 'services', 'bans', 'notification_opt_outs'].includes(t))) {
      // bookings, claims and events are not insertable by callers at all (42501), which the set allows.
      const [text, params] = inserts[table]!(a.id, b);
      if (table === 'memberships') params[1] = (await createUser(db())).id;
      await expectSqlState(db().queryAs(a.owner, text, params), ['23503', '42501']);
    }
  });

  it('every foreign key between tenant-owned tables includes tenant_id (rows written only by functions cannot cross tenants either)', async () => {
    // The probe above gets 42501 for tables callers cannot insert into at all (bookings, series,
    // waitlist, …), so it proves nothing about their references: the catalog does.
    const single = await db().query<{ name: string }>(`
      select c.conrelid::regclass::text || '.' || c.conname as name
      from pg_constraint c
      join pg_class r on r.oid = c.conrelid
      join pg_namespace n on n.oid = r.relnamespace
      where c.contype = 'f' and n.nspname in ('slotbase', 'slotbase_private')
        and exists (select 1 from pg_attribute a where a.attrelid = c.conrelid and a.attname = 'tenant_id' and not a.attisdropped)
        and exists (select 1 from pg_attribute a where a.attrelid = c.confrelid and a.attname = 'tenant_id' and not a.attisdropped)
        and not exists (
          select 1 from unnest(c.conkey, c.confkey) as k(l, f)
          join pg_attribute la on la.attrelid = c.conrelid and la.attnum = k.l
          join pg_attribute fa on fa.attrelid = c.confrelid and fa.attnum = k.f
          where la.attname = 'tenant_id' and fa.attname = 'tenant_id')
      order by 1`);
    expect(single.map((r) => r.name)).toEqual([]);
    // And the check above has something to check: the new tables' references are among them.
    const [{ n }] = (await db().query<{ n: number }>(
      `select count(*)::int as n from pg_constraint where contype = 'f' and conrelid in ('slotbase.waitlist_offers'::regclass, 'slotbase.booking_series'::regclass, 'slotbase.location_travel_times'::regclass)`,
    )) as [{ n: number }];
    expect(n).toBeGreaterThanOrEqual(7);
  });

  it('updates and deletes by a member of A leave every row of B unchanged', async () => {
    const before = await db().as(b.owner, (q) => fingerprint(q, tables, b.id));
    for (const table of tables) {
      const column = updatable[table];
      if (column) {
        await changesNothing(db().queryAs(a.owner, `update slotbase.${table} set ${column} = ${column} where tenant_id = $1 returning 1`, [b.id]), `update of ${table}`);
      } else {
        await expectSqlState(db().queryAs(a.owner, `update slotbase.${table} set tenant_id = tenant_id where tenant_id = $1`, [b.id]), '42501');
      }
      await changesNothing(db().queryAs(a.owner, `delete from slotbase.${table} where tenant_id = $1 returning 1`, [b.id]), `delete from ${table}`);
    }
    expect(await db().queryAs(a.owner, `update slotbase.tenants set name = 'taken' where id = $1 returning 1`, [b.id])).toEqual([]);
    expect(await db().as(b.owner, (q) => fingerprint(q, tables, b.id))).toEqual(before);
  });
});

describe('roles within a tenant', () => {
  const db = useTestDb();
  let w: TenantWorld;

  beforeAll(async () => {
    w = await createTenantWorld(db());
  });

  it('a viewer reads the catalog but cannot write any of it', async () => {
    const seen = await db().queryAs(w.viewer, 'select id from slotbase.providers where id = $1', [w.providerId]);
    expect(seen).toHaveLength(1);
    for (const [table, probe] of Object.entries(inserts)) {
      const [text, params] = probe(w.id, w);
      if (table === 'memberships') params[1] = (await createUser(db())).id;
      await expectSqlState(db().queryAs(w.viewer, text, params), '42501');
    }
    expect(await db().queryAs(w.viewer, `update slotbase.services set name = 'x' where tenant_id = $1 returning 1`, [w.id])).toEqual([]);
    expect(await db().queryAs(w.viewer, `delete from slotbase.providers where tenant_id = $1 returning 1`, [w.id])).toEqual([]);
    expect(await db().queryAs(w.viewer, `update slotbase.tenants set name = 'x' where id = $1 returning 1`, [w.id])).toEqual([]);
  });

  it('an admin manages the catalog: creates a location, provider and weekly hours', async () => {
    await db().as(w.admin, async (q) => {
      const [loc] = await q.query<{ id: string }>(
        `insert into slotbase.locations (tenant_id, name, time_zone) values ($1, 'Second branch', 'America/New_York') returning id`,
        [w.id],
      );
      const [p] = await q.query<{ id: string }>(`insert into slotbase.providers (tenant_id, name, location_id) values ($1, 'Dr. Two', $2) returning id`, [
        w.id,
        loc!.id,
      ]);
      await q.query(
        `insert into slotbase.availability_rules (tenant_id, provider_id, location_id, weekday, start_time, end_time) values ($1, $2, $3, 3, '08:00', '12:00')`,
        [w.id, p!.id, loc!.id],
      );
    });
    const rules = await db().queryAs(w.owner, 'select 1 from slotbase.availability_rules where tenant_id = $1', [w.id]);
    expect(rules).toHaveLength(2);
  });

  it('plan and status cannot be changed by any member, not even the owner', async () => {
    await expectSqlState(db().queryAs(w.owner, `update slotbase.tenants set plan = 'business' where id = $1`, [w.id]), '42501');
    await expectSqlState(db().queryAs(w.owner, `update slotbase.tenants set status = 'active' where id = $1`, [w.id]), '42501');
    const [t] = await db().queryAs<{ name: string }>(w.owner, `update slotbase.tenants set name = 'Renamed' where id = $1 returning name`, [w.id]);
    expect(t?.name).toBe('Renamed');
  });

  it('only an owner can make someone an owner', async () => {
    const newcomer = await createUser(db());
    await expectSqlState(
      db().queryAs(w.admin, `insert into slotbase.memberships (tenant_id, user_id, role) values ($1, $2, 'owner')`, [w.id, newcomer.id]),
      '42501',
    );
    const [m] = await db().queryAs<{ role: string }>(
      w.owner,
      `insert into slotbase.memberships (tenant_id, user_id, role) values ($1, $2, 'owner') returning role`,
      [w.id, newcomer.id],
    );
    expect(m?.role).toBe('owner');
  });

  it('the last owner cannot leave or be demoted (SBOWN)', async () => {
    const t = await createTenantWorld(db());
    await expectSqlState(
      db().queryAs(t.owner, `update slotbase.memberships set role = 'admin' where id = $1`, [t.owner.membershipId]),
      'SBOWN',
    );
    await expectSqlState(db().queryAs(t.owner, `delete from slotbase.memberships where id = $1`, [t.owner.membershipId]), 'SBOWN');
    await expectSqlState(
      db().queryAs(t.owner, `update slotbase.memberships set deleted_at = now() where id = $1`, [t.owner.membershipId]),
      'SBOWN',
    );
    const [still] = await db().queryAs<{ role: string }>(t.owner, 'select role from slotbase.memberships where id = $1', [t.owner.membershipId]);
    expect(still?.role).toBe('owner');
  });

  it('a removed (soft-deleted) member loses access at once', async () => {
    const gone = await addMember(db(), w.id, 'receptionist');
    expect(await db().queryAs(gone, 'select 1 from slotbase.services where id = $1', [w.serviceId])).toHaveLength(1);
    await db().queryAs(w.owner, 'update slotbase.memberships set deleted_at = now() where id = $1', [gone.membershipId]);
    expect(await db().queryAs(gone, 'select 1 from slotbase.services where id = $1', [w.serviceId])).toEqual([]);
  });

  it('a provider manages their own hours and time off, not a colleague\'s', async () => {
    const me = await addMember(db(), w.id, 'provider');
    const mine = await createProvider(db(), w.id, { locationId: w.locationId, userId: me.userId });
    await db().queryAs(
      me,
      `insert into slotbase.availability_rules (tenant_id, provider_id, location_id, weekday, start_time, end_time) values ($1, $2, $3, 5, '10:00', '14:00')`,
      [w.id, mine.id, w.locationId],
    );
    await db().queryAs(me, `insert into slotbase.time_off (tenant_id, provider_id, starts_at, ends_at) values ($1, $2, '2031-03-01T00:00Z', '2031-03-02T00:00Z')`, [
      w.id,
      mine.id,
    ]);
    await expectSqlState(
      db().queryAs(
        me,
        `insert into slotbase.availability_rules (tenant_id, provider_id, location_id, weekday, start_time, end_time) values ($1, $2, $3, 5, '10:00', '14:00')`,
        [w.id, w.providerId, w.locationId],
      ),
      '42501',
    );
    expect(await db().queryAs(me, 'delete from slotbase.time_off where id = $1 returning 1', [w.timeOffId])).toEqual([]);
  });

  it('create_tenant makes the signed-in caller the owner of a new tenant', async () => {
    const user = await createUser(db());
    const who: Principal = { role: 'authenticated', userId: user.id };
    const [tenant] = await db().queryAs<{ id: string; slug: string }>(who, `select id, slug from slotbase.create_tenant('fresh-clinic', 'Fresh Clinic', 'Europe/Lisbon')`);
    expect(tenant?.slug).toBe('fresh-clinic');
    const [m] = await db().queryAs<{ role: string }>({ ...who, tenantId: tenant!.id }, 'select role from slotbase.memberships where user_id = $1', [user.id]);
    expect(m?.role).toBe('owner');
    await expectSqlState(db().queryAs(anon, `select slotbase.create_tenant('x-clinic', 'X', 'UTC')`), '42501');
    await expectSqlState(
      db().queryAs({ role: 'authenticated', userId: '00000000-0000-4000-8000-000000000000' }, `select slotbase.create_tenant('y-clinic', 'Y', 'UTC')`),
      'SBUNA',
    );
  });
});

describe('location scope', () => {
  const db = useTestDb();
  let w: TenantWorld;
  let branch2: { id: string };
  let receptionist1: Principal;
  let ids2: { providerId: string; resourceId: string; memberId: string };

  beforeAll(async () => {
    w = await createTenantWorld(db());
    branch2 = await createLocation(db(), w.id, { name: 'Branch 2' });
    const p2 = await createProvider(db(), w.id, { locationId: branch2.id });
    const r2 = await createResource(db(), w.id, branch2.id);
    await addRule(db(), w.id, { providerId: p2.id }, branch2.id, 2, '09:00', '17:00');
    await addRule(db(), w.id, { resourceId: r2.id }, branch2.id, 2, '09:00', '17:00');
    await db().query(`insert into slotbase.date_overrides (tenant_id, provider_id, location_id, date) values ($1, $2, $3, '2030-05-01')`, [w.id, p2.id, branch2.id]);
    await db().query(`insert into slotbase.time_off (tenant_id, provider_id, starts_at, ends_at) values ($1, $2, '2030-06-01T00:00Z', '2030-06-02T00:00Z')`, [
      w.id,
      p2.id,
    ]);
    const member2 = await addMember(db(), w.id, 'receptionist', { locationId: branch2.id });
    receptionist1 = await addMember(db(), w.id, 'receptionist', { locationId: w.locationId });
    ids2 = { providerId: p2.id, resourceId: r2.id, memberId: member2.membershipId };
  });

  it('a receptionist scoped to location 1 sees nothing of location 2', async () => {
    await db().as(receptionist1, async (q) => {
      expect(await q.query('select 1 from slotbase.locations where id = $1', [branch2.id])).toEqual([]);
      expect(await q.query('select 1 from slotbase.providers where id = $1', [ids2.providerId])).toEqual([]);
      expect(await q.query('select 1 from slotbase.resources where id = $1', [ids2.resourceId])).toEqual([]);
      expect(await q.query('select 1 from slotbase.availability_rules where location_id = $1', [branch2.id])).toEqual([]);
      expect(await q.query('select 1 from slotbase.date_overrides where location_id = $1', [branch2.id])).toEqual([]);
      expect(await q.query('select 1 from slotbase.time_off where provider_id = $1', [ids2.providerId])).toEqual([]);
      expect(await q.query('select 1 from slotbase.memberships where id = $1', [ids2.memberId])).toEqual([]);
    });
  });

  it('the same receptionist sees their own location and what belongs to it', async () => {
    await db().as(receptionist1, async (q) => {
      expect(await q.query('select 1 from slotbase.locations where id = $1', [w.locationId])).toHaveLength(1);
      expect(await q.query('select 1 from slotbase.providers where id = $1', [w.providerId])).toHaveLength(1);
      expect(await q.query('select 1 from slotbase.resources where id = $1', [w.resourceId])).toHaveLength(1);
      expect(await q.query('select 1 from slotbase.time_off where id = $1', [w.timeOffId])).toHaveLength(1);
    });
  });

  it('a provider based elsewhere becomes visible once they work at the location', async () => {
    const visiting = await createProvider(db(), w.id, { locationId: branch2.id });
    expect(await db().queryAs(receptionist1, 'select 1 from slotbase.providers where id = $1', [visiting.id])).toEqual([]);
    await addRule(db(), w.id, { providerId: visiting.id }, w.locationId, 4, '09:00', '12:00');
    expect(await db().queryAs(receptionist1, 'select 1 from slotbase.providers where id = $1', [visiting.id])).toHaveLength(1);
  });

  it('a scoped admin cannot add members or providers outside their location', async () => {
    const admin1 = await addMember(db(), w.id, 'admin', { locationId: w.locationId });
    const user = await createUser(db());
    await expectSqlState(
      db().queryAs(admin1, `insert into slotbase.memberships (tenant_id, user_id, role, location_id) values ($1, $2, 'receptionist', $3)`, [
        w.id,
        user.id,
        branch2.id,
      ]),
      '42501',
    );
    await expectSqlState(
      db().queryAs(admin1, `insert into slotbase.memberships (tenant_id, user_id, role) values ($1, $2, 'receptionist')`, [w.id, user.id]),
      '42501',
    );
    await expectSqlState(
      db().queryAs(admin1, `insert into slotbase.providers (tenant_id, name, location_id) values ($1, 'x', $2)`, [w.id, branch2.id]),
      '42501',
    );
    await expectSqlState(db().queryAs(admin1, `insert into slotbase.locations (tenant_id, name, time_zone) values ($1, 'x', 'UTC')`, [w.id]), '42501');
    const [ok] = await db().queryAs<{ role: string }>(
      admin1,
      `insert into slotbase.memberships (tenant_id, user_id, role, location_id) values ($1, $2, 'receptionist', $3) returning role`,
      [w.id, user.id, w.locationId],
    );
    expect(ok?.role).toBe('receptionist');
  });
});
