import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { anon, expectSqlState, useTestDb, type Principal, type Row } from '../support/db.ts';
import {
  addDailyRules,
  addMember,
  createLocation,
  createProvider,
  createService,
  createTenant,
  linkProvider,
  type Member,
} from '../support/factories.ts';

const TZ = 'Europe/Berlin';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

interface Clinic {
  tenantId: string;
  owner: Member;
  admin: Member;
  locationId: string;
  providerId: string;
  serviceId: string;
  groupId: string;
}

interface Contact {
  email?: string | null;
  phone?: string | null;
  device?: string | null;
}

const BOOK = `select id from slotbase.create_booking(
  p_tenant_id => $1, p_service_id => $2, p_starts_at => $3, p_session_id => $4, p_contact_name => 'Guest',
  p_contact_email => $5, p_contact_phone => $6, p_device_hash => $7)`;

describe('ban lists', () => {
  const db = useTestDb();
  let c: Clinic;
  let hour = 0;

  /** A distinct free slot on the grid of the 24/7 clinic, some days ahead. */
  async function nextSlot(): Promise<Date> {
    hour += 1;
    const [row] = await db().query<{ t: Date }>(`select date_trunc('hour', now()) + make_interval(days => 3, hours => $1) as t`, [hour]);
    return row!.t;
  }

  function book(who: Principal, startsAt: Date | null, contact: Contact, sessionId: string | null = null, serviceId?: string) {
    return db().queryAs<{ id: string }>(who, BOOK, [
      c.tenantId,
      serviceId ?? (sessionId ? c.groupId : c.serviceId),
      startsAt,
      sessionId,
      contact.email === undefined ? 'guest@example.test' : contact.email,
      contact.phone ?? null,
      contact.device ?? null,
    ]);
  }

  async function ban(kind: string, value: string, extra: { by?: Principal } = {}): Promise<Row & { id: string; value: string }> {
    const [row] = await db().queryAs<Row & { id: string; value: string }>(
      extra.by ?? c.admin,
      `insert into slotbase.bans (tenant_id, kind, value, reason) values ($1, $2, $3, 'test') returning *`,
      [c.tenantId, kind, value],
    );
    return row!;
  }

  /** The SQLSTATE and message a booker gets, or 'booked'. */
  async function outcome(p: Promise<unknown>): Promise<{ code: string; message: string } | 'booked'> {
    return p.then(
      () => 'booked' as const,
      (e: { code: string; message: string }) => ({ code: e.code, message: e.message }),
    );
  }

  /** What a guest who is not banned is told for a time someone else just took. */
  async function takenAnswer(): Promise<{ code: string; message: string }> {
    const at = await nextSlot();
    await book(anon, at, { email: 'first@example.test' });
    const answer = await outcome(book(anon, at, { email: 'second@example.test' }));
    expect(answer).not.toBe('booked');
    return answer as { code: string; message: string };
  }

  async function newSession(capacity: number): Promise<string> {
    const at = await nextSlot();
    const [s] = await db().queryAs<{ id: string }>(
      c.owner,
      `insert into slotbase.sessions (tenant_id, service_id, provider_id, location_id, starts_at, capacity) values ($1, $2, $3, $4, $5, $6) returning id`,
      [c.tenantId, c.groupId, c.providerId, c.locationId, at, capacity],
    );
    return s!.id;
  }

  beforeAll(async () => {
    const tenant = await createTenant(db(), { timeZone: TZ });
    const location = await createLocation(db(), tenant.id, { timeZone: TZ });
    const provider = await createProvider(db(), tenant.id, { locationId: location.id });
    const service = await createService(db(), tenant.id, { durationMinutes: 60, maxAdvanceDays: 60 });
    const group = await createService(db(), tenant.id, { kind: 'group', durationMinutes: 30, defaultCapacity: 4, maxPartySize: 4, maxAdvanceDays: 60 });
    await linkProvider(db(), tenant.id, service.id, provider.id);
    await linkProvider(db(), tenant.id, group.id, provider.id);
    await addDailyRules(db(), tenant.id, { providerId: provider.id }, location.id, '00:00', '24:00');
    c = {
      tenantId: tenant.id,
      owner: tenant.owner,
      admin: await addMember(db(), tenant.id, 'admin'),
      locationId: location.id,
      providerId: provider.id,
      serviceId: service.id,
      groupId: group.id,
    };
  });

  it('values are stored normalized, with who banned', async () => {
    expect((await ban('email', '  Mallory@Example.TEST ')).value).toBe('mallory@example.test');
    expect((await ban('phone', '+49 (30) 555-0101')).value).toBe('+49305550101');
    expect((await ban('domain', '@Spam.Example.')).value).toBe('spam.example');
    const device = await ban('device', sha256('norm-device').toUpperCase());
    expect(device.value).toBe(sha256('norm-device'));
    expect(device.created_by).toBe(c.admin.userId);
  });

  it('a value that is not an email, phone, domain or sha256 of its kind is refused (23514)', async () => {
    for (const [kind, value] of [['email', 'no-at-sign'], ['phone', 'call me'], ['domain', 'localhost'], ['device', 'abc'], ['ip', '10.0.0.1']]) {
      const e = await expectSqlState(ban(kind!, value!), '23514');
      expect(e.constraint ?? e.constraint_name).toMatch(/^bans_(value|kind)_check$/);
    }
  });

  it('one live ban per kind and value (23505); a lifted ban can be issued again', async () => {
    const first = await ban('email', 'twice@example.test');
    await expectSqlState(ban('email', 'TWICE@example.test'), '23505');
    await db().queryAs(c.admin, 'update slotbase.bans set deleted_at = now() where id = $1', [first.id]);
    expect((await ban('email', 'twice@example.test')).id).not.toBe(first.id);
  });

  it('a banned email, phone, domain (and subdomain) or device cannot book, and is told exactly what a taken slot tells anyone', async () => {
    const taken = await takenAnswer();
    expect(taken.code).toBe('SBTAK');
    await ban('email', 'banned-email@example.test');
    await ban('phone', '+44 20 7946 0001');
    await ban('domain', 'blocked.example');
    const device = sha256('device-token-of-a-banned-booker');
    await ban('device', device);
    const banned: Contact[] = [
      { email: 'Banned-Email@Example.test' },
      { email: null, phone: '+44 (20) 7946-0001' },
      { email: 'anyone@blocked.example' },
      { email: 'anyone@mail.blocked.example' },
      { email: 'fresh-address@example.test', device },
    ];
    for (const contact of banned) {
      const at = await nextSlot();
      expect(await outcome(book(anon, at, contact)), JSON.stringify(contact)).toEqual(taken);
      // The slot was free all along: a booker who is not banned gets it.
      expect(await outcome(book(anon, at, { email: 'someone-else@example.test' }))).toBe('booked');
    }
  });

  it('a booker banned after booking cannot move the booking with their manage token (told: taken)', async () => {
    const at = await nextSlot();
    const [receipt] = await db().queryAs<{ id: string; manage_token: string }>(
      anon,
      `select id, manage_token from slotbase.create_booking(p_tenant_id => $1, p_service_id => $2, p_starts_at => $3,
         p_contact_name => 'Later Banned', p_contact_email => 'later-banned@example.test')`,
      [c.tenantId, c.serviceId, at],
    );
    await ban('email', 'later-banned@example.test');
    const moveTo = await nextSlot();
    const answer = await outcome(
      db().queryAs(anon, 'select slotbase.reschedule_booking($1, $2, p_manage_token => $3)', [receipt!.id, moveTo, receipt!.manage_token]),
    );
    expect(answer).toMatchObject({ code: 'SBTAK' });
    const [still] = await db().queryAs<{ starts_at: Date }>(c.owner, 'select starts_at from slotbase.bookings where id = $1', [receipt!.id]);
    expect(still!.starts_at).toEqual(at);
    // Cancelling stays possible: a ban keeps people from booking, not from leaving.
    const [cancelled] = await db().queryAs<{ status: string }>(anon, 'select (slotbase.cancel_booking($1, null, $2)).status', [receipt!.id, receipt!.manage_token]);
    expect(cancelled!.status).toBe('cancelled');
  });

  it('a lookalike domain, another email or another device is not banned', async () => {
    await ban('domain', 'spam-domain.example');
    await ban('email', 'exact@example.test');
    for (const contact of [
      { email: 'a@notspam-domain.example' },
      { email: 'a@spam-domain.example.org' },
      { email: 'exact@example.testing' },
      { email: 'b@example.test', device: sha256('some other device') },
    ]) {
      expect(await outcome(book(anon, await nextSlot(), contact)), JSON.stringify(contact)).toBe('booked');
    }
  });

  it('a banned booker still gets every other answer anyone would get (no ordering leak)', async () => {
    await ban('email', 'early-check@example.test');
    const [soon] = await db().query<{ t: Date }>(`select date_trunc('hour', now()) + interval '90 days' as t`);
    const tooEarly = await outcome(book(anon, soon!.t, { email: 'early-check@example.test' }));
    expect(tooEarly).toEqual(await outcome(book(anon, soon!.t, { email: 'not-banned@example.test' })));
    expect(tooEarly).toMatchObject({ code: 'SBEAR' });
  });

  it('a banned booker of a session is told what a full session tells anyone, and takes no seat', async () => {
    const full = await newSession(1);
    await book(anon, null, { email: 'one@example.test' }, full);
    const fullAnswer = await outcome(book(anon, null, { email: 'two@example.test' }, full));
    expect(fullAnswer).toMatchObject({ code: 'SBFUL' });
    await ban('email', 'group-banned@example.test');
    const open = await newSession(4);
    expect(await outcome(book(anon, null, { email: 'group-banned@example.test' }, open))).toEqual(fullAnswer);
    const [s] = await db().queryAs<{ seats_taken: number }>(c.owner, 'select seats_taken from slotbase.sessions where id = $1', [open]);
    expect(s!.seats_taken).toBe(0);
  });

  it('an expired ban no longer applies; nor does a lifted (soft-deleted) one', async () => {
    await db().query(
      `insert into slotbase.bans (tenant_id, kind, value, reason, created_at, expires_at)
       values ($1, 'email', 'expired@example.test', 'served', now() - interval '2 days', now() - interval '1 day')`,
      [c.tenantId],
    );
    expect(await outcome(book(anon, await nextSlot(), { email: 'expired@example.test' }))).toBe('booked');
    const lifted = await ban('email', 'lifted@example.test');
    expect(await outcome(book(anon, await nextSlot(), { email: 'lifted@example.test' }))).not.toBe('booked');
    await db().queryAs(c.admin, 'update slotbase.bans set deleted_at = now() where id = $1', [lifted.id]);
    expect(await outcome(book(anon, await nextSlot(), { email: 'lifted@example.test' }))).toBe('booked');
  });

  it('a ban with a future expiry applies until then', async () => {
    await db().queryAs(c.admin, `insert into slotbase.bans (tenant_id, kind, value, reason, expires_at) values ($1, 'email', 'until@example.test', 'x', now() + interval '1 day')`, [
      c.tenantId,
    ]);
    expect(await outcome(book(anon, await nextSlot(), { email: 'until@example.test' }))).toMatchObject({ code: 'SBTAK' });
  });

  it('staff booking on someone\'s behalf are not checked', async () => {
    await ban('email', 'walk-in-banned@example.test');
    const receptionist = await addMember(db(), c.tenantId, 'receptionist');
    for (const staff of [c.owner, receptionist]) {
      const [b] = await book(staff, await nextSlot(), { email: 'walk-in-banned@example.test' });
      const [row] = await db().queryAs<{ source: string }>(c.owner, 'select source from slotbase.bookings where id = $1', [b!.id]);
      expect(row!.source).toBe('staff');
    }
  });

  it('a signed-in member of another tenant books here as a public booker: checked', async () => {
    const other = await createTenant(db());
    await ban('email', 'outsider@example.test');
    expect(await outcome(book(other.owner, await nextSlot(), { email: 'outsider@example.test' }))).toMatchObject({ code: 'SBTAK' });
  });

  it('record_ban_hit logs an attempt only when a live ban matches, and only slotbase_api may call it', async () => {
    const b = await ban('email', 'logged@example.test');
    const at = await nextSlot();
    const call = `select slotbase_private.record_ban_hit($1, $2, $3, null, $4, null, $5) as id`;
    const device = sha256('logged-device');
    const [hit] = await db().query<{ id: string | null }>(call, [c.tenantId, c.serviceId, at, 'Logged@Example.test', device]);
    expect(hit!.id).toBeTruthy();
    const [none] = await db().query<{ id: string | null }>(call, [c.tenantId, c.serviceId, at, 'innocent@example.test', null]);
    expect(none!.id).toBeNull();
    const rows = await db().queryAs<Row>(c.admin, 'select ban_id, service_id, starts_at, contact_email, device_hash from slotbase.ban_hits where id = $1', [hit!.id]);
    expect(rows).toEqual([{ ban_id: b.id, service_id: c.serviceId, starts_at: at, contact_email: 'Logged@Example.test', device_hash: device }]);
    const [grant] = await db().query<{ api: boolean; anon: boolean; auth: boolean }>(
      `select has_function_privilege('slotbase_api', p, 'execute') as api, has_function_privilege('anon', p, 'execute') as anon,
              has_function_privilege('authenticated', p, 'execute') as auth
       from (select 'slotbase_private.record_ban_hit(uuid, uuid, timestamptz, uuid, text, text, text)'::regprocedure as p) as f`,
    );
    expect(grant).toEqual({ api: true, anon: false, auth: false });
    await expectSqlState(db().queryAs(anon, call, [c.tenantId, c.serviceId, at, 'logged@example.test', null]), '42501');
    await expectSqlState(db().queryAs(c.owner, call, [c.tenantId, c.serviceId, at, 'logged@example.test', null]), '42501');
  });

  it('owners, admins and receptionists see bans and hits; providers and viewers see neither', async () => {
    const b = await ban('email', 'seen@example.test');
    await db().query(`select slotbase_private.record_ban_hit($1, $2, now(), null, 'seen@example.test', null, null)`, [c.tenantId, c.serviceId]);
    const receptionist = await addMember(db(), c.tenantId, 'receptionist');
    for (const who of [c.owner, c.admin, receptionist]) {
      expect(await db().queryAs(who, 'select 1 from slotbase.bans where id = $1', [b.id])).toHaveLength(1);
      expect(await db().queryAs(who, 'select 1 from slotbase.ban_hits where ban_id = $1', [b.id])).toHaveLength(1);
    }
    for (const role of ['provider', 'viewer'] as const) {
      const who = await addMember(db(), c.tenantId, role);
      expect(await db().queryAs(who, 'select 1 from slotbase.bans')).toEqual([]);
      expect(await db().queryAs(who, 'select 1 from slotbase.ban_hits')).toEqual([]);
    }
  });

  it('only tenant-wide owners and admins write bans; nobody hard-deletes them or writes hits', async () => {
    const receptionist = await addMember(db(), c.tenantId, 'receptionist');
    const branchAdmin = await addMember(db(), c.tenantId, 'admin', { locationId: c.locationId });
    for (const who of [receptionist, branchAdmin]) {
      await expectSqlState(ban('email', 'nope@example.test', { by: who }), '42501');
    }
    const b = await ban('email', 'kept@example.test', { by: c.owner });
    expect(await db().queryAs(receptionist, `update slotbase.bans set reason = 'x' where id = $1 returning 1`, [b.id])).toEqual([]);
    const [changed] = await db().queryAs<{ reason: string }>(c.admin, `update slotbase.bans set reason = 'repeat no-show' where id = $1 returning reason`, [b.id]);
    expect(changed!.reason).toBe('repeat no-show');
    await expectSqlState(db().queryAs(c.owner, 'delete from slotbase.bans where id = $1', [b.id]), '42501');
    await expectSqlState(db().queryAs(c.owner, `update slotbase.bans set value = 'other@example.test' where id = $1`, [b.id]), '42501');
    await expectSqlState(
      db().queryAs(c.owner, 'insert into slotbase.ban_hits (tenant_id, ban_id, service_id) values ($1, $2, $3)', [c.tenantId, b.id, c.serviceId]),
      '42501',
    );
  });
});
