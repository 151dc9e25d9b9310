import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anon, claimsOf, useTestDb, type Principal, type Row } from '../support/db.ts';
import {
  addDailyRules,
  createLocation,
  createProvider,
  createResource,
  createService,
  createTenant,
  linkProvider,
  linkResource,
  type ServiceOptions,
  type TenantFixture,
} from '../support/factories.ts';
import { invariantViolations } from '../support/invariants.ts';

/**
 * The booking engine's concurrency guarantees, with real concurrent connections on real
 * PostgreSQL: every operation is its own transaction as a principal (role + JWT claims), exactly
 * as the API runs it; afterwards the whole-database invariants (test/support/invariants.ts) must hold.
 */

type Tx = postgres.TransactionSql;
type Params = postgres.ParameterOrJSON<never>[];

interface Receipt extends Row {
  id: string;
  code: string;
  manage_token: string;
  status: string;
  starts_at: Date;
  ends_at: Date;
  provider_id: string | null;
  location_id: string | null;
  session_id: string | null;
  party_size: number;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

/** Domain SQLSTATEs a booking operation may legitimately end with under contention. */
const SLOT_TAKEN = ['23P01', 'SBTAK'];
// SBNST: completing a booking that has not started yet (the random walk completes future ones too).
const DOMAIN_CODES = ['23P01', 'SBTAK', 'SBFUL', 'SBTRN', 'SBOUT', 'SBLAT', 'SBNF1', 'SBNST'];

/** The background worker (graphile-worker), which runs as the database owner. */
const WORKER = 'worker' as const;

const BECOME = `select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)`;

const CREATE = `select * from slotbase.create_booking(
  p_tenant_id => $1, p_service_id => $2, p_starts_at => $3, p_provider_id => $4, p_location_id => $5,
  p_session_id => $6, p_party_size => $7, p_contact_name => $8, p_contact_email => $9, p_hold => $10)`;

interface CreateArgs {
  tenantId: string;
  serviceId: string;
  startsAt?: Date | null;
  providerId?: string | null;
  locationId?: string | null;
  sessionId?: string | null;
  partySize?: number;
  hold?: boolean;
  contact?: number;
}

function createParams(a: CreateArgs): Params {
  const n = a.contact ?? 0;
  return [
    a.tenantId,
    a.serviceId,
    a.startsAt ? a.startsAt.toISOString() : null,
    a.providerId ?? null,
    a.locationId ?? null,
    a.sessionId ?? null,
    a.partySize ?? 1,
    `Racer ${n}`,
    `racer-${n}@example.test`,
    a.hold ?? false,
  ] as Params;
}

async function createBooking(tx: Tx, a: CreateArgs): Promise<Receipt> {
  const [row] = (await tx.unsafe(CREATE, createParams(a))) as unknown as Receipt[];
  if (!row) throw new Error('create_booking returned no row');
  return row;
}

/** A moment on the UTC day `day` days after the base day (2 days from now, so notice never bites). */
function at(baseDay: Date, day: number, hhmm: string): Date {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return new Date(baseDay.getTime() + day * 86_400_000 + (h * 60 + m) * 60_000);
}

/** Midnight UTC two days from now, fixed once per run (a run across midnight keeps its days). */
const BASE_DAY = ((d: Date) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 2)))(new Date());
const baseDay = (): Date => BASE_DAY;

/** A small deterministic PRNG (mulberry32), so a failing run can be replayed by its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** Resolves once `n` callers are waiting (all their transactions open), so they fire together. */
function barrier(n: number, timeoutMs = 20_000): { wait(): Promise<void>; readonly reached: boolean } {
  let count = 0;
  let reached = false;
  let release!: () => void;
  const all = new Promise<void>((r) => (release = r));
  const timer = setTimeout(release, timeoutMs);
  return {
    async wait() {
      if (++count >= n) {
        reached = true;
        clearTimeout(timer);
        release();
      }
      await all;
    },
    get reached() {
      return reached;
    },
  };
}

/** Overlap of half-open [a0, a1) and [b0, b1) in ms. */
const overlaps = (a0: number, a1: number, b0: number, b1: number): boolean => a0 < b1 && b0 < a1;
const minutes = (m: number): number => m * 60_000;

describe('booking engine under real concurrency', () => {
  const db = useTestDb();
  let pool: postgres.Sql;

  beforeAll(() => {
    const url = db().url;
    if (!url) throw new Error('booking races need real PostgreSQL (db().url)');
    pool = postgres(url, { max: 50, onnotice: () => {}, idle_timeout: 20 });
  });
  afterAll(async () => {
    await pool?.end({ timeout: 5 });
  });

  /**
   * One transaction as `who` on the pool; the SQLSTATE if it fails. WORKER = the background job
   * runner, which connects as the database owner (expire_holds is granted to no request role).
   */
  async function act<T>(who: Principal | typeof WORKER, fn: (tx: Tx) => Promise<T>): Promise<Outcome<T>> {
    try {
      const value = (await pool.begin(async (tx) => {
        if (who !== WORKER) await tx.unsafe(BECOME, [who.role, JSON.stringify(claimsOf(who))]);
        return fn(tx);
      })) as T;
      return { ok: true, value };
    } catch (e) {
      const err = e as { code?: string; message?: string; where?: string };
      const message = `${String(err.message ?? e)}${err.where ? ` (${err.where.split('\n')[0]})` : ''}`;
      return { ok: false, code: String(err.code ?? 'NO_SQLSTATE'), message };
    }
  }

  /** `n` transactions open at once, released together by a barrier, each running `fn(tx, i)`. */
  async function race<T>(n: number, who: (i: number) => Principal | typeof WORKER, fn: (tx: Tx, i: number) => Promise<T>): Promise<Outcome<T>[]> {
    const gate = barrier(n);
    const outcomes = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        act(who(i), async (tx) => {
          await gate.wait();
          return fn(tx, i);
        }),
      ),
    );
    expect(gate.reached, `all ${n} transactions were open before anyone booked`).toBe(true);
    return outcomes;
  }

  const successes = <T>(os: Outcome<T>[]): T[] => os.flatMap((o) => (o.ok ? [o.value] : []));
  const failureCodes = <T>(os: Outcome<T>[]): string[] => os.flatMap((o) => (o.ok ? [] : [o.code]));
  const failures = <T>(os: Outcome<T>[]) => os.flatMap((o) => (o.ok ? [] : [o]));

  /** A UTC tenant with one location, `n` providers working 09:00–17:00 every day. */
  async function world(n: number, hours: [string, string] = ['09:00', '17:00']) {
    const tenant: TenantFixture = await createTenant(db(), { timeZone: 'UTC' });
    const location = await createLocation(db(), tenant.id, { timeZone: 'UTC' });
    const providers: string[] = [];
    for (let i = 0; i < n; i++) {
      const p = await createProvider(db(), tenant.id, { locationId: location.id });
      await addDailyRules(db(), tenant.id, { providerId: p.id }, location.id, hours[0], hours[1]);
      providers.push(p.id);
    }
    return { tenant, locationId: location.id, providers };
  }

  async function service(tenantId: string, providers: string[], resources: string[], o: ServiceOptions = {}): Promise<string> {
    const s = await createService(db(), tenantId, o);
    for (const p of providers) await linkProvider(db(), tenantId, s.id, p);
    for (const r of resources) await linkResource(db(), tenantId, s.id, r);
    return s.id;
  }

  /** Staff create a session through RLS (the documented path); returns its id. */
  async function createSession(
    owner: Principal,
    tenantId: string,
    serviceId: string,
    providerId: string,
    locationId: string,
    startsAt: Date,
    durationMinutes: number,
    capacity: number,
  ) {
    const [row] = await db().queryAs<{ id: string }>(
      owner,
      `insert into slotbase.sessions (tenant_id, service_id, provider_id, location_id, starts_at, ends_at, capacity)
       values ($1, $2, $3, $4, $5, $6, $7) returning id`,
      [tenantId, serviceId, providerId, locationId, startsAt.toISOString(), new Date(startsAt.getTime() + minutes(durationMinutes)).toISOString(), capacity],
    );
    return row!.id;
  }

  it('50 public bookers racing for one appointment slot: exactly one wins, the rest get slot_taken', async () => {
    const { tenant, locationId, providers } = await world(1);
    const serviceId = await service(tenant.id, providers, [], { durationMinutes: 30 });
    const slot = at(baseDay(), 0, '10:00');

    const outcomes = await race(
      50,
      () => anon,
      (tx, i) => createBooking(tx, { tenantId: tenant.id, serviceId, startsAt: slot, providerId: providers[0], locationId, contact: i }),
    );

    const won = successes(outcomes);
    expect(won).toHaveLength(1);
    expect(won[0]!.status).toBe('confirmed');
    expect(new Date(won[0]!.starts_at).getTime()).toBe(slot.getTime());
    const codes = failureCodes(outcomes);
    expect(codes).toHaveLength(49);
    expect(codes.filter((c) => !SLOT_TAKEN.includes(c)), 'failures other than slot_taken (23P01/SBTAK)').toEqual([]);

    const active = await db().queryAs<{ id: string }>(
      tenant.owner,
      `select id from slotbase.bookings where tenant_id = $1 and status in ('held', 'pending', 'confirmed', 'completed', 'no_show')`,
      [tenant.id],
    );
    expect(active.map((r) => r.id)).toEqual([won[0]!.id]);
    expect(await invariantViolations(db(), tenant.id)).toEqual({});
  });

  it('50 bookers with parties of 1–4 on a 20-seat session never oversell it; every rejection is session_full', async () => {
    const { tenant, locationId, providers } = await world(1);
    const serviceId = await service(tenant.id, providers, [], { kind: 'group', durationMinutes: 60, maxPartySize: 4, defaultCapacity: 20 });
    const sessionId = await createSession(tenant.owner, tenant.id, serviceId, providers[0]!, locationId, at(baseDay(), 0, '11:00'), 60, 20);
    const party = (i: number): number => (i % 4) + 1;

    const outcomes = await race(
      50,
      () => anon,
      (tx, i) => createBooking(tx, { tenantId: tenant.id, serviceId, sessionId, partySize: party(i), contact: i }),
    );

    const accepted = successes(outcomes);
    const acceptedSeats = accepted.reduce((n, r) => n + r.party_size, 0);
    const [session] = await db().queryAs<{ seats_taken: number; capacity: number }>(
      tenant.owner,
      'select seats_taken, capacity from slotbase.sessions where tenant_id = $1 and id = $2',
      [tenant.id, sessionId],
    );
    expect(session!.capacity).toBe(20);
    expect(session!.seats_taken).toBe(acceptedSeats);
    expect(acceptedSeats).toBeLessThanOrEqual(20);
    expect(accepted.length).toBeGreaterThan(0);

    const rejected = outcomes.flatMap((o, i) => (o.ok ? [] : [{ i, code: o.code, party: party(i) }]));
    expect(rejected.length, '125 seats were asked for 20').toBeGreaterThan(0);
    expect(rejected.filter((r) => r.code !== 'SBFUL'), 'rejections other than session_full').toEqual([]);
    // Seats only ever go up in this test, so a party was rightly refused only if it does not fit even now.
    const left = 20 - acceptedSeats;
    expect(rejected.filter((r) => r.party <= left), `refused parties that fit the ${left} seats still left`).toEqual([]);
    expect(await invariantViolations(db(), tenant.id)).toEqual({});
  });

  it('provider + room + equipment bookings racing with provider-only bookings never leave a half booking', async () => {
    const { tenant, locationId, providers } = await world(3);
    const room = (await createResource(db(), tenant.id, locationId)).id;
    const equipment = (await createResource(db(), tenant.id, locationId)).id;
    // A: 60 min every 30 min, needs the shared room and equipment, 15 min clean-up after.
    const a = await service(tenant.id, providers, [room, equipment], { durationMinutes: 60, slotIntervalMinutes: 30, bufferAfterMinutes: 15 });
    // B: 30 min, provider only — it takes providers away from A without touching the room.
    const b = await service(tenant.id, providers, [], { durationMinutes: 30 });
    const r = rng(0x5107);
    const starts = ['10:00', '10:30', '11:00', '11:30', '12:00'];

    for (let round = 0; round < 3; round++) {
      // B only ever takes providers 1 and 2, so a room booking through provider 3 can lose only
      // to another room booking: some room booking always wins, and the room is always contended.
      const plan = Array.from({ length: 48 }, (_, i) => ({
        serviceId: i % 3 === 0 ? b : a,
        providerId: i % 3 === 0 ? providers[Math.floor(i / 3) % 2]! : providers[Math.floor(i / 3) % 3]!,
        startsAt: at(baseDay(), round, pick(r, starts)),
        who: i % 2 === 0 ? anon : (tenant.owner as Principal),
      }));
      const outcomes = await race(
        plan.length,
        (i) => plan[i]!.who,
        (tx, i) => createBooking(tx, { tenantId: tenant.id, locationId, contact: i, ...plan[i]! }),
      );
      expect(failures(outcomes).filter((f) => !SLOT_TAKEN.includes(f.code)), `round ${round}: failures other than slot_taken`).toEqual([]);
      const won = successes(outcomes);
      const wonA = outcomes.flatMap((o, i) => (o.ok && plan[i]!.serviceId === a ? [o.value] : []));
      expect(wonA.length, `round ${round}: some room booking won`).toBeGreaterThan(0);
      expect(won.length, `round ${round}: contention happened`).toBeLessThan(plan.length);

      // The room is exclusive: winning A bookings (with their 15 min buffer) never overlap.
      const busyA = wonA.map((w) => [new Date(w.starts_at).getTime(), new Date(w.ends_at).getTime() + minutes(15)] as const);
      for (let x = 0; x < busyA.length; x++)
        for (let y = x + 1; y < busyA.length; y++)
          expect(overlaps(busyA[x]![0], busyA[x]![1], busyA[y]![0], busyA[y]![1]), `round ${round}: room double-booked`).toBe(false);
      // A provider is exclusive across both services.
      const isA = new Set(wonA.map((w) => w.id));
      for (const p of providers) {
        const mine = won
          .filter((w) => w.provider_id === p)
          .map((w) => [new Date(w.starts_at).getTime(), new Date(w.ends_at).getTime() + (isA.has(w.id) ? minutes(15) : 0)] as const);
        for (let x = 0; x < mine.length; x++)
          for (let y = x + 1; y < mine.length; y++)
            expect(overlaps(mine[x]![0], mine[x]![1], mine[y]![0], mine[y]![1]), `round ${round}: provider double-booked`).toBe(false);
      }
      expect(await invariantViolations(db(), tenant.id), `round ${round}`).toEqual({});
    }
  });

  it('30 "any provider" bookers for one slot with 3 providers: exactly 3 win, each with a different provider', async () => {
    const { tenant, locationId, providers } = await world(3);
    const serviceId = await service(tenant.id, providers, [], { durationMinutes: 30 });
    const slot = at(baseDay(), 0, '14:00');

    const outcomes = await race(
      30,
      () => anon,
      (tx, i) => createBooking(tx, { tenantId: tenant.id, serviceId, startsAt: slot, providerId: null, locationId, contact: i }),
    );

    const won = successes(outcomes);
    expect(won.map((w) => w.provider_id).sort()).toEqual([...providers].sort());
    expect(failureCodes(outcomes).filter((c) => !SLOT_TAKEN.includes(c)), 'failures other than slot_taken').toEqual([]);
    expect(await invariantViolations(db(), tenant.id)).toEqual({});
  });

  it('30 bookers and 5 expiry workers racing over an expired hold: the hold expires once and exactly one booker wins', async () => {
    const { tenant, locationId, providers } = await world(1);
    const serviceId = await service(tenant.id, providers, [], { durationMinutes: 30 });
    const slot = at(baseDay(), 0, '15:00');
    const held = await act(anon, (tx) => createBooking(tx, { tenantId: tenant.id, serviceId, startsAt: slot, providerId: providers[0], locationId, hold: true }));
    if (!held.ok) throw new Error(`arranging the hold failed: ${held.code}`);
    expect(held.value.status).toBe('held');
    // Arrange: the hold ran out (the clock is not ours to move, so its deadline is).
    await db().query(`update slotbase.bookings set hold_expires_at = now() - interval '1 minute' where tenant_id = $1 and id = $2`, [tenant.id, held.value.id]);

    const outcomes = await race(
      35,
      (i) => (i < 30 ? anon : WORKER),
      (tx, i): Promise<unknown> =>
        i < 30
          ? createBooking(tx, { tenantId: tenant.id, serviceId, startsAt: slot, providerId: providers[0], locationId, contact: i })
          : tx.unsafe('select slotbase.expire_holds(p_tenant_id => $1) as n', [tenant.id] as Params),
    );

    const bookers = outcomes.slice(0, 30);
    const workers = outcomes.slice(30);
    expect(successes(bookers)).toHaveLength(1);
    expect(failureCodes(bookers).filter((c) => !SLOT_TAKEN.includes(c)), 'booker failures other than slot_taken').toEqual([]);
    expect(failures(workers), 'expiry workers never fail').toEqual([]);
    const expiredByWorkers = successes(workers).reduce<number>((n, rows) => n + Number((rows as { n: number }[])[0]!.n), 0);
    expect(expiredByWorkers).toBeLessThanOrEqual(1);
    const [hold] = await db().queryAs<{ status: string }>(tenant.owner, 'select status from slotbase.bookings where tenant_id = $1 and id = $2', [
      tenant.id,
      held.value.id,
    ]);
    expect(hold!.status).toBe('expired');
    const events = await db().queryAs<{ to_status: string }>(
      tenant.owner,
      `select to_status from slotbase.booking_events where tenant_id = $1 and booking_id = $2 and to_status = 'expired'`,
      [tenant.id, held.value.id],
    );
    expect(events, 'the hold expired exactly once').toHaveLength(1);
    expect(await invariantViolations(db(), tenant.id)).toEqual({});
  });

  it('12 bookings rescheduled into one free slot at once: one moves, the others stay exactly where they were', async () => {
    const { tenant, locationId, providers } = await world(2);
    const room = (await createResource(db(), tenant.id, locationId)).id;
    const serviceId = await service(tenant.id, providers, [room], { durationMinutes: 30, bufferAfterMinutes: 5 });
    // 12 bookings on 2 providers sharing the room, an hour apart on days 0 and 2; all move to day 1.
    const originals: Receipt[] = [];
    for (let k = 0; k < 12; k++) {
      const startsAt = at(baseDay(), k < 6 ? 0 : 2, `${9 + (k % 6)}:00`);
      const o = await act(tenant.owner, (tx) => createBooking(tx, { tenantId: tenant.id, serviceId, startsAt, providerId: providers[k % 2], locationId, contact: k }));
      if (!o.ok) throw new Error(`arranging booking ${k} failed: ${o.code}`);
      originals.push(o.value);
    }
    const target = at(baseDay(), 1, '10:00');

    const outcomes = await race(
      12,
      () => anon,
      (tx, k) =>
        tx.unsafe(
          `select * from slotbase.reschedule_booking(p_booking_id => $1, p_starts_at => $2, p_provider_id => $3, p_location_id => $4, p_manage_token => $5)`,
          [originals[k]!.id, target.toISOString(), providers[k % 2], locationId, originals[k]!.manage_token] as Params,
        ),
    );

    expect(successes(outcomes), 'exactly one booking moved').toHaveLength(1);
    expect(failureCodes(outcomes).filter((c) => !SLOT_TAKEN.includes(c)), 'failures other than slot_taken').toEqual([]);
    const now = await db().queryAs<{ id: string; starts_at: Date; provider_id: string; status: string }>(
      tenant.owner,
      'select id, starts_at, provider_id, status from slotbase.bookings where tenant_id = $1',
      [tenant.id],
    );
    const byId = new Map(now.map((b) => [b.id, b]));
    outcomes.forEach((o, k) => {
      const b = byId.get(originals[k]!.id)!;
      expect(b.status).toBe('confirmed');
      expect(new Date(b.starts_at).getTime(), `booking ${k}`).toBe(o.ok ? target.getTime() : new Date(originals[k]!.starts_at).getTime());
    });
    expect(await invariantViolations(db(), tenant.id)).toEqual({});
  });

  it('crossing reschedules (A → B’s time, B → A’s time, 8 pairs at once) never deadlock and leave both where they were', async () => {
    const { tenant, locationId, providers } = await world(2);
    const [p1, p2] = providers as [string, string];
    const serviceId = await service(tenant.id, providers, [], { durationMinutes: 30 });
    const pairs: { a: Receipt; b: Receipt }[] = [];
    for (let k = 0; k < 8; k++) {
      const t = at(baseDay(), 0, `${9 + Math.floor(k / 2)}:${(k % 2) * 30}`);
      const a = await act(tenant.owner, (tx) => createBooking(tx, { tenantId: tenant.id, serviceId, startsAt: t, providerId: p1, locationId }));
      const b = await act(tenant.owner, (tx) => createBooking(tx, { tenantId: tenant.id, serviceId, startsAt: t, providerId: p2, locationId }));
      if (!a.ok || !b.ok) throw new Error('arranging the pairs failed');
      pairs.push({ a: a.value, b: b.value });
    }
    const moves = pairs.flatMap(({ a, b }) => [
      { booking: a, to: b },
      { booking: b, to: a },
    ]);

    const outcomes = await race(
      moves.length,
      () => tenant.owner,
      (tx, i) =>
        tx.unsafe('select * from slotbase.reschedule_booking(p_booking_id => $1, p_starts_at => $2, p_provider_id => $3, p_location_id => $4)', [
          moves[i]!.booking.id,
          new Date(moves[i]!.to.starts_at).toISOString(),
          moves[i]!.to.provider_id,
          locationId,
        ] as Params),
    );

    expect(successes(outcomes)).toEqual([]);
    expect(failureCodes(outcomes).filter((c) => !SLOT_TAKEN.includes(c)), 'failures other than slot_taken (no 40P01)').toEqual([]);
    const rows = await db().queryAs<{ id: string; starts_at: Date; provider_id: string }>(
      tenant.owner,
      'select id, starts_at, provider_id from slotbase.bookings where tenant_id = $1 order by id',
      [tenant.id],
    );
    const expected = moves.map((m) => ({ id: m.booking.id, starts_at: new Date(m.booking.starts_at).getTime(), provider_id: m.booking.provider_id }));
    expect(rows.map((r) => ({ id: r.id, starts_at: new Date(r.starts_at).getTime(), provider_id: r.provider_id }))).toEqual(
      expected.sort((x, y) => (x.id < y.id ? -1 : 1)),
    );
    expect(await invariantViolations(db(), tenant.id)).toEqual({});
  });

  it('20 concurrent retries with one idempotency key create one booking and all get its receipt', async () => {
    const { tenant, locationId, providers } = await world(1);
    const serviceId = await service(tenant.id, providers, [], { durationMinutes: 30 });
    const slot = at(baseDay(), 0, '16:00');
    const key = `retry-${Math.random().toString(36).slice(2)}`;

    const outcomes = await race(
      20,
      () => anon,
      (tx) =>
        tx.unsafe(
          `select * from slotbase.create_booking(p_tenant_id => $1, p_service_id => $2, p_starts_at => $3, p_provider_id => $4,
             p_location_id => $5, p_contact_name => 'Retry', p_contact_email => 'retry@example.test', p_idempotency_key => $6)`,
          [tenant.id, serviceId, slot.toISOString(), providers[0], locationId, key] as Params,
        ) as unknown as Promise<Receipt[]>,
    );

    expect(failures(outcomes), 'no retry fails').toEqual([]);
    const receipts = successes(outcomes).map((rows) => rows[0]!);
    const first = receipts[0]!;
    expect(receipts.map((r) => [r.id, r.code, r.manage_token])).toEqual(receipts.map(() => [first.id, first.code, first.manage_token]));
    const [count] = await db().query<{ n: number }>('select count(*)::int as n from slotbase.bookings where tenant_id = $1', [tenant.id]);
    expect(count!.n).toBe(1);
    expect(await invariantViolations(db(), tenant.id)).toEqual({});
  });

  it('the invariant checks detect each kind of corruption (so an empty result means something)', async () => {
    const { tenant, locationId, providers } = await world(1);
    const room = (await createResource(db(), tenant.id, locationId)).id;
    const appointment = await service(tenant.id, providers, [room], { durationMinutes: 30, bufferAfterMinutes: 10 });
    const group = await service(tenant.id, providers, [], { kind: 'group', durationMinutes: 60, maxPartySize: 4, defaultCapacity: 10 });
    const sessionId = await createSession(tenant.owner, tenant.id, group, providers[0]!, locationId, at(baseDay(), 0, '14:00'), 60, 10);
    const booked = await act(anon, (tx) =>
      createBooking(tx, { tenantId: tenant.id, serviceId: appointment, startsAt: at(baseDay(), 0, '10:00'), providerId: providers[0], locationId }),
    );
    const seats = await act(anon, (tx) => createBooking(tx, { tenantId: tenant.id, serviceId: group, sessionId, partySize: 3 }));
    if (!booked.ok || !seats.ok) throw new Error('arranging the bookings failed');
    expect(await invariantViolations(db(), tenant.id)).toEqual({});
    const b = booked.value.id;

    // Each corruption runs as the owner with triggers off, inside a savepoint that is rolled back.
    const corruptions: [string, string][] = [
      ['overlappingActiveClaims', `alter table slotbase.booking_claims drop constraint if exists booking_claims_busy_excl;
        insert into slotbase.booking_claims (tenant_id, booking_id, subject_id, subject_kind, busy)
        select tenant_id, booking_id, subject_id, subject_kind, busy from slotbase.booking_claims where booking_id = '${b}' and subject_kind = 'resource'`],
      ['sessionSeatMismatches', `update slotbase.sessions set seats_taken = seats_taken + 1 where id = '${sessionId}'`],
      ['bookingClaimMismatches', `update slotbase.booking_claims set is_active = false where booking_id = '${b}' and subject_kind = 'resource'`],
      ['bookingClaimMismatches', `update slotbase.bookings set status = 'cancelled' where id = '${b}'`],
      ['claimWindowMismatches', `update slotbase.booking_claims set busy = tstzrange(lower(busy), upper(busy) - interval '10 minutes') where booking_id = '${b}'`],
      ['sessionClaimMismatches', `update slotbase.booking_claims set is_active = false where session_id = '${sessionId}'`],
      ['bookingsWithoutEvents', `delete from slotbase.booking_events where booking_id = '${b}'`],
      ['bookingsWithoutEventForStatus', `update slotbase.bookings set status = 'completed' where id = '${b}'`],
    ];
    const ROLLBACK = new Error('rollback');
    const seen: string[][] = [];
    await pool.begin(async (tx) => {
      await tx.unsafe(`set local session_replication_role = replica`);
      for (const [, corruption] of corruptions) {
        await tx
          .savepoint(async (sp) => {
            await sp.unsafe(corruption);
            const q = { query: async <T extends Row>(text: string, params?: unknown[]) => [...(await sp.unsafe(text, params as Params))] as unknown as T[] };
            seen.push(Object.keys(await invariantViolations(q, tenant.id)));
            throw ROLLBACK;
          })
          .catch((e: unknown) => {
            if (e !== ROLLBACK) throw e;
          });
      }
    });
    expect(seen).toEqual(corruptions.map(([name]) => expect.arrayContaining([name])));
    expect(await invariantViolations(db(), tenant.id)).toEqual({});
  });

  it('2,000 random operations by staff and public callers on 20 connections keep every invariant', async () => {
    const { tenant, locationId, providers } = await world(3, ['09:00', '15:00']);
    const [p1, p2, p3] = providers as [string, string, string];
    const r1 = (await createResource(db(), tenant.id, locationId)).id;
    const r2 = (await createResource(db(), tenant.id, locationId)).id;
    const services = {
      s1: { id: await service(tenant.id, [p1, p2, p3], [r1], { durationMinutes: 30, bufferAfterMinutes: 10 }), providers: [p1, p2, p3], grid: grid(30, 30) },
      s2: { id: await service(tenant.id, [p1, p2], [], { durationMinutes: 60, slotIntervalMinutes: 30, requiresApproval: true }), providers: [p1, p2], grid: grid(60, 30) },
      s3: { id: await service(tenant.id, [p2, p3], [r2], { durationMinutes: 45, slotIntervalMinutes: 15, bufferBeforeMinutes: 15 }), providers: [p2, p3], grid: grid(45, 15) },
    };
    const group = await service(tenant.id, [p1, p3], [], { kind: 'group', durationMinutes: 60, maxPartySize: 4, defaultCapacity: 6 });
    const sessions = [
      await createSession(tenant.owner, tenant.id, group, p1, locationId, at(baseDay(), 0, '11:00'), 60, 6),
      await createSession(tenant.owner, tenant.id, group, p3, locationId, at(baseDay(), 1, '09:00'), 60, 6),
      await createSession(tenant.owner, tenant.id, group, p1, locationId, at(baseDay(), 1, '12:00'), 60, 4),
    ];
    /** Starts on the service's grid inside 09:00–15:00 on day 0 and 1. */
    function grid(duration: number, step: number): Date[] {
      const out: Date[] = [];
      for (let day = 0; day < 2; day++) for (let m = 9 * 60; m + duration <= 15 * 60; m += step) out.push(at(baseDay(), day, `${Math.floor(m / 60)}:${m % 60}`));
      return out;
    }

    /** Bookings created so far, with the status last seen by a caller (a hint for picking targets only). */
    type Known = { id: string; token: string; kind: 'appointment' | 'group'; svc: keyof typeof services | 'group'; status: string };
    const known: Known[] = [];
    const staff = tenant.owner as Principal;
    const SEED = 0x2000;
    const TOTAL = 2000;
    const log: { op: string; caller: 'staff' | 'public'; ok: boolean; code?: string; message?: string }[] = [];
    let created = 0;

    async function operation(i: number): Promise<void> {
      const r = rng(SEED + i);
      const asStaff = r() < 0.5;
      const who = asStaff ? staff : anon;
      const roll = r();
      // Mostly act on bookings that were still open when last seen, sometimes on any (terminal ones → SBTRN).
      const open = known.filter((k) => ['held', 'pending', 'confirmed'].includes(k.status));
      const target = known.length === 0 ? undefined : open.length > 0 && r() < 0.8 ? pick(r, open) : pick(r, known);
      let op: string;
      let outcome: Outcome<unknown>;
      if (roll < 0.42 || !target) {
        // book an appointment (20 % of them as holds; 20 % with "any provider")
        const key = pick(r, ['s1', 's2', 's3'] as const);
        const svc = services[key];
        const hold = r() < 0.2;
        op = hold ? 'hold' : 'book';
        outcome = await act(who, (tx) =>
          createBooking(tx, {
            tenantId: tenant.id,
            serviceId: svc.id,
            startsAt: pick(r, svc.grid),
            providerId: r() < 0.2 ? null : pick(r, svc.providers),
            locationId,
            hold,
            contact: i,
          }),
        );
        if (outcome.ok) {
          const v = outcome.value as Receipt;
          known.push({ id: v.id, token: v.manage_token, kind: 'appointment', svc: key, status: v.status });
        }
      } else if (roll < 0.55) {
        op = 'book_group';
        const hold = r() < 0.15;
        outcome = await act(who, (tx) =>
          createBooking(tx, { tenantId: tenant.id, serviceId: group, sessionId: pick(r, sessions), partySize: 1 + Math.floor(r() * 4), hold, contact: i }),
        );
        if (outcome.ok) {
          const v = outcome.value as Receipt;
          known.push({ id: v.id, token: v.manage_token, kind: 'group', svc: 'group', status: v.status });
        }
      } else if (roll < 0.67) {
        op = 'cancel';
        outcome = await act(who, (tx) =>
          tx.unsafe('select * from slotbase.cancel_booking(p_booking_id => $1, p_reason => $2, p_manage_token => $3)', [
            target.id,
            'race',
            asStaff ? null : target.token,
          ] as Params),
        );
      } else if (roll < 0.8) {
        op = 'reschedule';
        if (target.kind === 'group') {
          outcome = await act(who, (tx) =>
            tx.unsafe('select * from slotbase.reschedule_booking(p_booking_id => $1, p_session_id => $2, p_manage_token => $3)', [
              target.id,
              pick(r, sessions),
              asStaff ? null : target.token,
            ] as Params),
          );
        } else {
          const svc = services[target.svc as keyof typeof services];
          outcome = await act(who, (tx) =>
            tx.unsafe(
              `select * from slotbase.reschedule_booking(p_booking_id => $1, p_starts_at => $2, p_provider_id => $3,
                 p_location_id => $4, p_manage_token => $5)`,
              [target.id, pick(r, svc.grid).toISOString(), r() < 0.2 ? null : pick(r, svc.providers), locationId, asStaff ? null : target.token] as Params,
            ),
          );
        }
      } else if (roll < 0.89) {
        op = 'confirm';
        outcome = await act(staff, (tx) => tx.unsafe('select * from slotbase.confirm_booking(p_booking_id => $1)', [target.id] as Params));
      } else if (roll < 0.94) {
        op = 'reject';
        outcome = await act(staff, (tx) => tx.unsafe('select * from slotbase.reject_booking(p_booking_id => $1, p_reason => $2)', [target.id, 'race'] as Params));
      } else {
        op = 'complete';
        outcome = await act(staff, (tx) => tx.unsafe('select * from slotbase.complete_booking(p_booking_id => $1)', [target.id] as Params));
      }
      if (outcome.ok && (op === 'book' || op === 'hold' || op === 'book_group')) created++;
      else if (outcome.ok && target) {
        const [row] = outcome.value as { status?: string }[];
        if (row?.status) target.status = row.status;
      }
      const caller = asStaff || ['confirm', 'reject', 'complete'].includes(op) ? 'staff' : 'public';
      log.push(outcome.ok ? { op, caller, ok: true } : { op, caller, ok: false, code: outcome.code, message: outcome.message });
    }

    let next = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        for (let i = next++; i < TOTAL; i = next++) await operation(i);
      }),
    );

    expect(log).toHaveLength(TOTAL);
    const unexpected = log.filter((l) => !l.ok && !DOMAIN_CODES.includes(l.code!));
    expect(unexpected, `seed ${SEED}: operations failing outside the domain SQLSTATEs`).toEqual([]);
    expect(log.filter((l) => l.code === '40P01' || l.code === '40001')).toEqual([]);
    // Every kind of operation did succeed at least once (the run exercised what it claims to).
    const succeeded = new Set(log.filter((l) => l.ok).map((l) => l.op));
    // Every booking of the run lies in the future: completing one is refused (SBNST), never done.
    expect([...succeeded].sort()).toEqual(['book', 'book_group', 'cancel', 'confirm', 'hold', 'reject', 'reschedule']);
    expect(log.some((l) => l.op === 'complete' && l.code === 'SBNST')).toBe(true);
    // Public callers acted through their manage tokens, not only staff.
    const publicOk = new Set(log.filter((l) => l.ok && l.caller === 'public').map((l) => l.op));
    expect([...publicOk].sort()).toEqual(['book', 'book_group', 'cancel', 'hold', 'reschedule']);
    // Contention was real: some creates were refused because the slot or session was taken.
    expect(log.some((l) => !l.ok && SLOT_TAKEN.includes(l.code!))).toBe(true);
    expect(log.some((l) => l.code === 'SBFUL')).toBe(true);

    const [count] = await db().query<{ n: number }>('select count(*)::int as n from slotbase.bookings where tenant_id = $1', [tenant.id]);
    expect(count!.n, 'every committed create is one booking, and nothing else is').toBe(created);
    expect(await invariantViolations(db(), tenant.id)).toEqual({});
  });
});
