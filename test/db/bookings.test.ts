import { beforeAll, describe, expect, it } from 'vitest';
import { anon, expectSqlState, useTestDb, type Principal, type Queryable, type Row, type TestDb } from '../support/db.ts';
import {
  addDailyRules,
  addMember,
  createLocation,
  createProvider,
  createResource,
  createService,
  createTenant,
  createUser,
  linkProvider,
  linkResource,
  type Member,
  type ServiceOptions,
} from '../support/factories.ts';

const TZ = 'Europe/Berlin';

interface Receipt extends Row {
  id: string;
  code: string;
  manage_token: string;
  status: string;
  starts_at: Date;
  ends_at: Date;
  provider_id: string;
  location_id: string;
  hold_expires_at: Date | null;
}

/** A clinic open around the clock (so notice rules are the only time rules in play), in Berlin. */
interface Clinic {
  tenantId: string;
  owner: Member;
  locationId: string;
  providers: string[];
  serviceId: string;
}

async function createClinic(db: Queryable, service: ServiceOptions = {}, providers = 1): Promise<Clinic> {
  const tenant = await createTenant(db, { timeZone: TZ });
  const location = await createLocation(db, tenant.id, { timeZone: TZ });
  const svc = await createService(db, tenant.id, { maxAdvanceDays: 730, ...service });
  const ids: string[] = [];
  for (let i = 0; i < providers; i++) {
    const p = await createProvider(db, tenant.id, { locationId: location.id });
    await linkProvider(db, tenant.id, svc.id, p.id);
    await addDailyRules(db, tenant.id, { providerId: p.id }, location.id, '00:00', '24:00');
    ids.push(p.id);
  }
  return { tenantId: tenant.id, owner: tenant.owner, locationId: location.id, providers: ids, serviceId: svc.id };
}

/** The instant of local wall-clock time `hhmm` in Berlin, `days` local days from today. */
async function at(db: Queryable, days: number, hhmm: string): Promise<Date> {
  const [row] = await db.query<{ t: Date }>(
    `select ((date_trunc('day', now() at time zone $1) + make_interval(days => $2)) + $3::time) at time zone $1 as t`,
    [TZ, days, hhmm],
  );
  return row!.t;
}

const BOOK = `select * from slotbase.create_booking(
  p_tenant_id => $1, p_service_id => $2, p_starts_at => $3, p_provider_id => $4, p_location_id => $5, p_session_id => $6,
  p_party_size => coalesce($7::int, 1), p_contact_name => coalesce($8, 'Ada Guest'), p_contact_email => $9,
  p_hold => coalesce($10::boolean, false), p_idempotency_key => $11)`;

interface BookArgs {
  serviceId?: string;
  startsAt?: Date | null;
  providerId?: string | null;
  locationId?: string | null;
  sessionId?: string | null;
  partySize?: number;
  name?: string;
  email?: string | null;
  hold?: boolean;
  key?: string;
}

function book(db: TestDb, who: Principal, c: Clinic, a: BookArgs = {}): Promise<Receipt> {
  return db
    .queryAs<Receipt>(who, BOOK, [
      c.tenantId,
      a.serviceId ?? c.serviceId,
      a.startsAt ?? null,
      a.providerId ?? null,
      a.locationId ?? null,
      a.sessionId ?? null,
      a.partySize ?? null,
      a.name ?? null,
      a.email === undefined ? 'ada@example.test' : a.email,
      a.hold ?? null,
      a.key ?? null,
    ])
    .then((rows) => rows[0]!);
}

describe('booking engine', () => {
  const db = useTestDb();

  async function activeClaims(c: Clinic, bookingId: string) {
    return db().queryAs<{ subject_id: string; subject_kind: string }>(
      c.owner,
      'select subject_id, subject_kind from slotbase.booking_claims where booking_id = $1 and is_active order by subject_kind',
      [bookingId],
    );
  }

  it('a guest books a free slot: confirmed, with a BK- code and a manage token whose hash only is stored', async () => {
    const c = await createClinic(db());
    const r = await book(db(), anon, c, { startsAt: await at(db(), 3, '10:00') });
    expect(r.status).toBe('confirmed');
    expect(r.code).toMatch(/^BK-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{7}$/);
    expect(r.manage_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await activeClaims(c, r.id)).toEqual([{ subject_id: c.providers[0], subject_kind: 'provider' }]);
    await expectSqlState(db().queryAs(c.owner, 'select manage_token_hash from slotbase.bookings where id = $1', [r.id]), '42501');
    const [seen] = await db().queryAs<{ code: string; source: string }>(anon, 'select code, source from slotbase.find_booking($1, $2)', [
      r.code.toLowerCase(),
      r.manage_token,
    ]);
    expect(seen).toEqual({ code: r.code, source: 'public' });
  });

  it('back-to-back bookings touch but never overlap', async () => {
    const c = await createClinic(db(), { durationMinutes: 30, slotIntervalMinutes: 15 });
    await book(db(), anon, c, { startsAt: await at(db(), 3, '10:00') });
    await book(db(), anon, c, { startsAt: await at(db(), 3, '10:30') });
    await book(db(), anon, c, { startsAt: await at(db(), 3, '09:30') });
    await expectSqlState(book(db(), anon, c, { startsAt: await at(db(), 3, '10:15') }), ['SBTAK', '23P01']);
    await expectSqlState(book(db(), anon, c, { startsAt: await at(db(), 3, '09:45') }), ['SBTAK', '23P01']);
  });

  it('buffers keep the neighbouring slots free', async () => {
    const c = await createClinic(db(), { durationMinutes: 30, bufferAfterMinutes: 15, bufferBeforeMinutes: 10 });
    await book(db(), anon, c, { startsAt: await at(db(), 3, '10:00') });
    // Busy 09:50–10:45 with this service's buffers: 10:30 (busy 10:20–11:15) and 09:30 (busy 09:20–10:15) collide.
    await expectSqlState(book(db(), anon, c, { startsAt: await at(db(), 3, '10:30') }), ['SBTAK', '23P01']);
    await expectSqlState(book(db(), anon, c, { startsAt: await at(db(), 3, '09:30') }), ['SBTAK', '23P01']);
    const ok = await book(db(), anon, c, { startsAt: await at(db(), 3, '11:00') });
    expect(ok.status).toBe('confirmed');
  });

  it('a booking needing a provider and a room gets all its claims or none', async () => {
    const c = await createClinic(db(), {}, 2);
    const room = await createResource(db(), c.tenantId, c.locationId);
    await linkResource(db(), c.tenantId, c.serviceId, room.id);
    const first = await book(db(), anon, c, { startsAt: await at(db(), 3, '10:00'), providerId: c.providers[0] });
    expect((await activeClaims(c, first.id)).map((x) => x.subject_kind)).toEqual(['provider', 'resource']);
    // The second provider is free, but the room is not: nothing of the second booking may remain.
    await expectSqlState(book(db(), anon, c, { startsAt: await at(db(), 3, '10:00'), providerId: c.providers[1] }), ['SBTAK', '23P01']);
    const [{ n }] = (await db().queryAs<{ n: number }>(c.owner, 'select count(*)::int as n from slotbase.booking_claims where subject_id = $1', [
      c.providers[1],
    ])) as [{ n: number }];
    expect(n).toBe(0);
  });

  it('"any provider" picks the provider with fewer bookings that day', async () => {
    const c = await createClinic(db(), {}, 2);
    const [busier, freer] = [...c.providers].sort();
    await book(db(), anon, c, { startsAt: await at(db(), 4, '08:00'), providerId: busier });
    const r = await book(db(), anon, c, { startsAt: await at(db(), 4, '15:00') });
    expect(r.provider_id).toBe(freer);
    const tie = await book(db(), anon, c, { startsAt: await at(db(), 5, '15:00') });
    expect(tie.provider_id).toBe(busier); // equal counts: lowest id first
  });

  it('a party of N takes N seats of a session or none (session_full)', async () => {
    const c = await createClinic(db(), { kind: 'group', maxPartySize: 4, defaultCapacity: 5 });
    const starts = await at(db(), 6, '18:00');
    const [session] = await db().queryAs<{ id: string }>(
      c.owner,
      `insert into slotbase.sessions (tenant_id, service_id, provider_id, location_id, starts_at, ends_at, capacity)
       values ($1, $2, $3, $4, $5, $5::timestamptz + interval '1 hour', 5) returning id`,
      [c.tenantId, c.serviceId, c.providers[0], c.locationId, starts],
    );
    await book(db(), anon, c, { sessionId: session!.id, partySize: 3 });
    await expectSqlState(book(db(), anon, c, { sessionId: session!.id, partySize: 3 }), 'SBFUL');
    await book(db(), anon, c, { sessionId: session!.id, partySize: 2 });
    const [s] = await db().queryAs<{ seats_taken: number }>(c.owner, 'select seats_taken from slotbase.sessions where id = $1', [session!.id]);
    expect(s!.seats_taken).toBe(5);
    const slots = await db().queryAs(anon, 'select * from slotbase.available_slots($1, $2, now(), now() + interval \'30 days\')', [c.tenantId, c.serviceId]);
    expect(slots).toEqual([]);
    // The session holds its provider's time: an appointment service of the same provider cannot overlap it.
    await expectSqlState(
      db().queryAs(c.owner, `insert into slotbase.sessions (tenant_id, service_id, provider_id, location_id, starts_at, ends_at, capacity)
       values ($1, $2, $3, $4, $5::timestamptz + interval '30 minutes', $5::timestamptz + interval '90 minutes', 5)`, [
        c.tenantId,
        c.serviceId,
        c.providers[0],
        c.locationId,
        starts,
      ]),
      '23P01',
    );
  });

  it('a session\'s provider must offer the service (SBVAL)', async () => {
    const c = await createClinic(db(), { kind: 'group' });
    const outsider = await createProvider(db(), c.tenantId, { locationId: c.locationId });
    const e = await expectSqlState(
      db().queryAs(c.owner, `insert into slotbase.sessions (tenant_id, service_id, provider_id, location_id, starts_at, capacity)
        values ($1, $2, $3, $4, now() + interval '5 days', 8)`, [c.tenantId, c.serviceId, outsider.id, c.locationId]),
      'SBVAL',
    );
    expect((e as { hint?: string }).hint).toBe('provider_id');
  });

  it('a session without an end lasts the service\'s duration', async () => {
    const c = await createClinic(db(), { kind: 'group', durationMinutes: 45 });
    const [session] = await db().queryAs<{ minutes: number }>(
      c.owner,
      `insert into slotbase.sessions (tenant_id, service_id, provider_id, location_id, starts_at, capacity)
       values ($1, $2, $3, $4, now() + interval '5 days', 8) returning extract(epoch from ends_at - starts_at)::int / 60 as minutes`,
      [c.tenantId, c.serviceId, c.providers[0], c.locationId],
    );
    expect(session!.minutes).toBe(45);
  });

  it('cancelling a session cancels its bookings and frees the provider', async () => {
    const c = await createClinic(db(), { kind: 'group', defaultCapacity: 5 });
    const [session] = await db().queryAs<{ id: string }>(
      c.owner,
      `insert into slotbase.sessions (tenant_id, service_id, provider_id, location_id, starts_at, ends_at, capacity)
       values ($1, $2, $3, $4, now() + interval '3 days', now() + interval '3 days 1 hour', 5) returning id`,
      [c.tenantId, c.serviceId, c.providers[0], c.locationId],
    );
    const r = await book(db(), anon, c, { sessionId: session!.id });
    await db().queryAs(c.owner, 'select slotbase.cancel_session($1)', [session!.id]);
    const [b] = await db().queryAs<{ status: string }>(c.owner, 'select status from slotbase.bookings where id = $1', [r.id]);
    expect(b!.status).toBe('cancelled');
    const claims = await db().queryAs(c.owner, 'select 1 from slotbase.booking_claims where session_id = $1 and is_active', [session!.id]);
    expect(claims).toEqual([]);
    await expectSqlState(db().queryAs(c.owner, 'select slotbase.cancel_session($1)', [session!.id]), 'SBTRN');
    await expectSqlState(db().queryAs(anon, 'select slotbase.reschedule_booking($1, p_manage_token => $2)', [r.id, r.manage_token]), 'SBTRN');
  });

  it('bad input raises a stable code and writes nothing', async () => {
    const c = await createClinic(db(), { minNoticeMinutes: 120, maxAdvanceDays: 30, maxPartySize: 2, durationMinutes: 30 });
    const other = await createClinic(db());
    const hidden = await createService(db(), c.tenantId, { maxAdvanceDays: 30 });
    await db().query('update slotbase.services set is_public = false where id = $1', [hidden.id]);
    await linkProvider(db(), c.tenantId, hidden.id, c.providers[0]!);
    const count = async () =>
      (await db().queryAs<{ n: number }>(c.owner, 'select count(*)::int as n from slotbase.bookings where tenant_id = $1', [c.tenantId]))[0]!.n;
    const before = await count();
    const soon = new Date(Date.now() + 30 * 60_000);
    await expectSqlState(book(db(), anon, c, { startsAt: await at(db(), 3, '10:10') }), 'SBOUT'); // off the 30-minute grid
    await expectSqlState(book(db(), anon, c, { startsAt: await at(db(), 40, '10:00') }), 'SBEAR');
    await expectSqlState(book(db(), anon, c, { startsAt: new Date(Math.ceil(soon.getTime() / 1_800_000) * 1_800_000) }), 'SBLAT');
    await expectSqlState(book(db(), anon, c, { startsAt: await at(db(), 3, '10:00'), partySize: 3 }), 'SBPTY');
    await expectSqlState(book(db(), anon, c, { startsAt: await at(db(), 3, '10:00'), name: ' ' }), 'SBVAL');
    await expectSqlState(book(db(), anon, c, { startsAt: await at(db(), 3, '10:00'), email: null }), 'SBVAL');
    await expectSqlState(book(db(), anon, c, { startsAt: await at(db(), 3, '10:00'), email: 'not-an-email' }), '23514');
    await expectSqlState(book(db(), anon, c, { startsAt: await at(db(), 3, '10:00'), serviceId: hidden.id }), 'SBNF1');
    await expectSqlState(book(db(), anon, c, { startsAt: await at(db(), 3, '10:00'), serviceId: other.serviceId }), 'SBNF1');
    await expectSqlState(book(db(), anon, c, { startsAt: await at(db(), 3, '10:00'), providerId: other.providers[0] }), 'SBNF1');
    await expectSqlState(book(db(), anon, c, { startsAt: await at(db(), 3, '10:00'), locationId: other.locationId }), 'SBNF1');
    await expectSqlState(book(db(), anon, c, { startsAt: await at(db(), 3, '10:00'), serviceId: '00000000-0000-4000-8000-000000000000' }), 'SBNF1');
    expect(await count()).toBe(before);
    // Staff may book hidden services and inside the notice period (a walk-in).
    const walkIn = await book(db(), c.owner, c, { startsAt: new Date(Math.ceil(soon.getTime() / 1_800_000) * 1_800_000), email: null });
    expect(walkIn.status).toBe('confirmed');
  });

  it('illegal status changes raise invalid_transition (SBTRN)', async () => {
    const c = await createClinic(db());
    // Staff book yesterday's: completing needs a booking that has started.
    const r = await book(db(), c.owner, c, { startsAt: await at(db(), -1, '10:00') });
    await db().queryAs(c.owner, 'select slotbase.complete_booking($1)', [r.id]);
    await expectSqlState(db().queryAs(c.owner, 'select slotbase.cancel_booking($1)', [r.id]), 'SBTRN');
    await expectSqlState(db().queryAs(c.owner, 'select slotbase.mark_no_show($1)', [r.id]), 'SBTRN');
    await expectSqlState(db().queryAs(c.owner, 'select slotbase.confirm_booking($1)', [r.id]), 'SBTRN');
    const r2 = await book(db(), anon, c, { startsAt: await at(db(), 3, '11:00') });
    await db().queryAs(anon, 'select slotbase.cancel_booking($1, $2, $3)', [r2.id, 'changed plans', r2.manage_token]);
    await expectSqlState(db().queryAs(anon, 'select slotbase.cancel_booking($1, null, $2)', [r2.id, r2.manage_token]), 'SBTRN');
    await expectSqlState(db().queryAs(c.owner, 'select slotbase.confirm_booking($1)', [r2.id]), 'SBTRN');
    await expectSqlState(db().queryAs(anon, 'select slotbase.reschedule_booking($1, $2, p_manage_token => $3)', [r2.id, await at(db(), 3, '12:00'), r2.manage_token]), 'SBTRN');
  });

  it('approval flow: pending until staff confirm or reject with a reason', async () => {
    const c = await createClinic(db(), { requiresApproval: true });
    const r = await book(db(), anon, c, { startsAt: await at(db(), 3, '10:00') });
    expect(r.status).toBe('pending');
    await expectSqlState(db().queryAs(anon, 'select slotbase.confirm_booking($1)', [r.id]), '42501');
    const [ok] = await db().queryAs<{ status: string }>(c.owner, 'select (slotbase.confirm_booking($1)).status', [r.id]);
    expect(ok!.status).toBe('confirmed');
    const r2 = await book(db(), anon, c, { startsAt: await at(db(), 3, '11:00') });
    const [no] = await db().queryAs<{ status: string; status_reason: string }>(c.owner, 'select (b).status, (b).status_reason from slotbase.reject_booking($1, $2) as b', [
      r2.id,
      'fully booked that week',
    ]);
    expect(no).toEqual({ status: 'rejected', status_reason: 'fully booked that week' });
    // Rejected frees the time.
    const again = await book(db(), anon, c, { startsAt: await at(db(), 3, '11:00') });
    expect(again.status).toBe('pending');
  });

  it('a wrong manage token finds nothing, and acts on nothing', async () => {
    const c = await createClinic(db());
    const r = await book(db(), anon, c, { startsAt: await at(db(), 3, '10:00') });
    await expectSqlState(db().queryAs(anon, 'select * from slotbase.find_booking($1, $2)', [r.code, 'x'.repeat(43)]), 'SBNF1');
    await expectSqlState(db().queryAs(anon, 'select slotbase.cancel_booking($1, null, $2)', [r.id, 'x'.repeat(43)]), 'SBNF1');
    await expectSqlState(db().queryAs(anon, 'select slotbase.cancel_booking($1)', [r.id]), 'SBNF1');
    await expectSqlState(db().queryAs(anon, 'select slotbase.reschedule_booking($1, $2, p_manage_token => $3)', [r.id, await at(db(), 3, '12:00'), 'nope']), 'SBNF1');
    const [b] = await db().queryAs<{ status: string }>(c.owner, 'select status from slotbase.bookings where id = $1', [r.id]);
    expect(b!.status).toBe('confirmed');
  });

  it('rescheduling is atomic: a taken target leaves the booking where it was', async () => {
    const c = await createClinic(db());
    const a = await book(db(), anon, c, { startsAt: await at(db(), 3, '10:00') });
    await book(db(), anon, c, { startsAt: await at(db(), 3, '11:00') });
    await expectSqlState(
      db().queryAs(anon, 'select slotbase.reschedule_booking($1, $2, p_manage_token => $3)', [a.id, await at(db(), 3, '11:00'), a.manage_token]),
      ['SBTAK', '23P01'],
    );
    const [still] = await db().queryAs<{ starts_at: Date }>(c.owner, 'select starts_at from slotbase.bookings where id = $1', [a.id]);
    expect(still!.starts_at).toEqual(await at(db(), 3, '10:00'));
    expect(await activeClaims(c, a.id)).toHaveLength(1);
    await db().queryAs(anon, 'select slotbase.reschedule_booking($1, $2, p_manage_token => $3)', [a.id, await at(db(), 3, '10:30'), a.manage_token]);
    // The old time is free again.
    const other = await book(db(), anon, c, { startsAt: await at(db(), 3, '09:30') });
    expect(other.status).toBe('confirmed');
  });

  it('a hold blocks the slot until it expires; an expired hold never blocks a new booker', async () => {
    const c = await createClinic(db(), { holdMinutes: 15 });
    const start = await at(db(), 3, '10:00');
    const hold = await book(db(), anon, c, { startsAt: start, hold: true });
    expect(hold.status).toBe('held');
    expect(hold.hold_expires_at).not.toBeNull();
    await expectSqlState(book(db(), anon, c, { startsAt: start }), ['SBTAK', '23P01']);
    const [job] = await db().query<{ key: string; run_at: Date }>(`select key, run_at from graphile_worker.jobs where key = $1`, [`hold:${hold.id}`]);
    expect(job!.run_at).toEqual(hold.hold_expires_at);
    // Move the hold's expiry into the past (the worker is down): the next booker still gets the slot.
    await db().query(`update slotbase.bookings set hold_expires_at = now() - interval '1 second' where id = $1`, [hold.id]);
    const winner = await book(db(), anon, c, { startsAt: start });
    expect(winner.status).toBe('confirmed');
    const [h] = await db().queryAs<{ status: string }>(c.owner, 'select status from slotbase.bookings where id = $1', [hold.id]);
    expect(h!.status).toBe('expired');
  });

  it('the same idempotency key replays the original booking; a different request with it conflicts', async () => {
    const c = await createClinic(db());
    const start = await at(db(), 3, '10:00');
    const first = await book(db(), anon, c, { startsAt: start, key: 'order-42' });
    const replay = await book(db(), anon, c, { startsAt: start, key: 'order-42' });
    expect(replay).toEqual(first);
    await expectSqlState(book(db(), anon, c, { startsAt: await at(db(), 3, '11:00'), key: 'order-42' }), 'SBIDM');
    const n = await db().queryAs(c.owner, 'select 1 from slotbase.bookings where tenant_id = $1', [c.tenantId]);
    expect(n).toHaveLength(1);
  });

  it('jobs are enqueued in the booking transaction: confirmation, reminders that move and disappear', async () => {
    const c = await createClinic(db());
    const r = await book(db(), anon, c, { startsAt: await at(db(), 5, '10:00') });
    const jobs = () =>
      db().query<{ task: string; key: string; run_at: Date }>(
        `select task_identifier as task, key, run_at from graphile_worker.jobs where key like '%' || $1 || '%' order by key`,
        [r.id],
      );
    const created = await jobs();
    expect(created.map((j) => [j.task, j.key])).toEqual([
      ['booking_confirmation', `confirmation:${r.id}`],
      ['booking_reminder', `reminder:${r.id}:120`],
      ['booking_reminder', `reminder:${r.id}:1440`],
    ]);
    expect(created.find((j) => j.key.endsWith(':120'))!.run_at.getTime()).toBe(r.starts_at.getTime() - 120 * 60_000);
    const moved = await at(db(), 6, '10:00');
    await db().queryAs(anon, 'select slotbase.reschedule_booking($1, $2, p_manage_token => $3)', [r.id, moved, r.manage_token]);
    const after = await jobs();
    expect(after.find((j) => j.key.endsWith(':120'))!.run_at.getTime()).toBe(moved.getTime() - 120 * 60_000);
    await db().queryAs(anon, 'select slotbase.cancel_booking($1, null, $2)', [r.id, r.manage_token]);
    expect((await jobs()).map((j) => j.task)).toEqual(['booking_cancelled', 'booking_confirmation']);
  });

  it('a rolled-back booking leaves no booking and no job', async () => {
    const c = await createClinic(db());
    const start = await at(db(), 3, '10:00');
    let id: string | undefined;
    await db()
      .as(anon, async (q) => {
        const [r] = await q.query<Receipt>(BOOK, [c.tenantId, c.serviceId, start, null, null, null, null, null, 'x@example.test', null, null]);
        id = r!.id;
        throw new Error('client went away');
      })
      .catch(() => undefined);
    expect(id).toBeDefined();
    expect(await db().query('select 1 from graphile_worker.jobs where key like $1', [`%${id}%`])).toEqual([]);
    expect(await db().queryAs(c.owner, 'select 1 from slotbase.bookings where id = $1', [id])).toEqual([]);
  });

  it('the audit trail records each change and nobody can rewrite it', async () => {
    const c = await createClinic(db());
    const r = await book(db(), anon, c, { startsAt: await at(db(), 3, '10:00') });
    await db().queryAs(c.owner, 'select slotbase.reschedule_booking($1, $2)', [r.id, await at(db(), 3, '11:00')]);
    await db().queryAs(c.owner, 'select slotbase.cancel_booking($1, $2)', [r.id, 'doctor ill']);
    const events = await db().queryAs<{ from_status: string | null; to_status: string; actor_role: string }>(
      c.owner,
      'select from_status, to_status, actor_role from slotbase.booking_events where booking_id = $1 order by at, to_status desc',
      [r.id],
    );
    expect(events).toEqual([
      { from_status: null, to_status: 'confirmed', actor_role: 'anon' },
      { from_status: 'confirmed', to_status: 'confirmed', actor_role: 'owner' },
      { from_status: 'confirmed', to_status: 'cancelled', actor_role: 'owner' },
    ]);
    await expectSqlState(db().queryAs(c.owner, `update slotbase.booking_events set to_status = 'x' where booking_id = $1`, [r.id]), '42501');
    await expectSqlState(db().queryAs(c.owner, 'delete from slotbase.booking_events where booking_id = $1', [r.id]), '42501');
    // Not even the table owner can rewrite history.
    await expectSqlState(db().query(`delete from slotbase.booking_events where booking_id = $1`, [r.id]), 'SBAPP');
  });

  it('a receptionist of branch 2 sees and touches nothing of branch 1', async () => {
    const c = await createClinic(db());
    const branch2 = await createLocation(db(), c.tenantId, { timeZone: TZ });
    const receptionist2 = await addMember(db(), c.tenantId, 'receptionist', { locationId: branch2.id });
    const r = await book(db(), anon, c, { startsAt: await at(db(), 3, '10:00') });
    expect(await db().queryAs(receptionist2, 'select 1 from slotbase.bookings where id = $1', [r.id])).toEqual([]);
    await expectSqlState(db().queryAs(receptionist2, 'select slotbase.cancel_booking($1)', [r.id]), 'SBNF1');
    const receptionist1 = await addMember(db(), c.tenantId, 'receptionist', { locationId: c.locationId });
    expect(await db().queryAs(receptionist1, 'select 1 from slotbase.bookings where id = $1', [r.id])).toHaveLength(1);
    const [done] = await db().queryAs<{ status: string }>(receptionist1, 'select (slotbase.cancel_booking($1)).status', [r.id]);
    expect(done!.status).toBe('cancelled');
  });

  it('booking on a customer\'s behalf is refused (42501) to anyone but staff of that location, before anything is written', async () => {
    const c = await createClinic(db());
    const viewer = await addMember(db(), c.tenantId, 'viewer');
    const branch2 = await createLocation(db(), c.tenantId, { timeZone: TZ });
    const receptionist2 = await addMember(db(), c.tenantId, 'receptionist', { locationId: branch2.id });
    const start = await at(db(), 3, '10:00');
    const onBehalf = `select id from slotbase.create_booking(p_tenant_id => $1, p_service_id => $2, p_starts_at => $3,
      p_contact_name => 'Walk-in', p_on_behalf => true)`;
    await expectSqlState(db().queryAs(viewer, onBehalf, [c.tenantId, c.serviceId, start]), '42501');
    await expectSqlState(db().queryAs(receptionist2, onBehalf, [c.tenantId, c.serviceId, start]), '42501');
    expect(await db().queryAs(c.owner, 'select 1 from slotbase.bookings where tenant_id = $1', [c.tenantId])).toEqual([]);
    const [ok] = await db().queryAs<{ id: string }>(c.owner, onBehalf, [c.tenantId, c.serviceId, start]);
    const [row] = await db().queryAs<{ source: string }>(c.owner, 'select source from slotbase.bookings where id = $1', [ok!.id]);
    expect(row!.source).toBe('staff');
  });

  it('a provider completes or marks no-show on their own bookings only', async () => {
    const c = await createClinic(db(), {}, 2);
    const me = await addMember(db(), c.tenantId, 'provider');
    await db().query('update slotbase.providers set user_id = $1 where id = $2', [me.userId, c.providers[0]]);
    const mine = await book(db(), c.owner, c, { startsAt: await at(db(), -1, '10:00'), providerId: c.providers[0] });
    const theirs = await book(db(), c.owner, c, { startsAt: await at(db(), -1, '10:00'), providerId: c.providers[1] });
    const [done] = await db().queryAs<{ status: string }>(me, 'select (slotbase.mark_no_show($1)).status', [mine.id]);
    expect(done!.status).toBe('no_show');
    await expectSqlState(db().queryAs(me, 'select slotbase.complete_booking($1)', [theirs.id]), 'SBNF1');
    await expectSqlState(db().queryAs(me, 'select slotbase.cancel_booking($1)', [theirs.id]), 'SBNF1');
  });

  it('a registered customer sees their own bookings and no one else\'s', async () => {
    const c = await createClinic(db());
    const user = await createUser(db());
    const customer: Principal = { role: 'authenticated', userId: user.id };
    const mine = await book(db(), customer, c, { startsAt: await at(db(), 3, '10:00') });
    await book(db(), anon, c, { startsAt: await at(db(), 3, '11:00') });
    const seen = await db().queryAs<{ id: string }>(customer, 'select id from slotbase.bookings');
    expect(seen).toEqual([{ id: mine.id }]);
    // Acting in another tenant (a claim naming it), the customer cannot reach this booking.
    const elsewhere = await createClinic(db());
    await expectSqlState(db().queryAs({ ...customer, tenantId: elsewhere.tenantId }, 'select slotbase.cancel_booking($1)', [mine.id]), 'SBNF1');
    const [cancelled] = await db().queryAs<{ status: string }>(customer, 'select (slotbase.cancel_booking($1)).status', [mine.id]);
    expect(cancelled!.status).toBe('cancelled');
  });
});

describe('available_slots basics', () => {
  const db = useTestDb();
  let c: Clinic;
  beforeAll(async () => {
    c = await createClinic(db(), { durationMinutes: 60 });
  });

  it('a booked hour disappears from the slots of every caller', async () => {
    const from = await at(db(), 10, '09:00');
    const to = await at(db(), 10, '12:00');
    const slots = () =>
      db()
        .queryAs<{ starts_at: Date }>(anon, 'select starts_at from slotbase.available_slots($1, $2, $3, $4)', [c.tenantId, c.serviceId, from, to])
        .then((rows) => rows.map((r) => r.starts_at.toISOString()));
    const before = await slots();
    expect(before).toHaveLength(3);
    await book(db(), anon, c, { startsAt: await at(db(), 10, '10:00') });
    expect(await slots()).toEqual([before[0], before[2]]);
  });
});
