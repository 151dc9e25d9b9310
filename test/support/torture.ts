import type postgres from 'postgres';
import type { Queryable, Row } from './db.ts';
import { invariantViolations } from './invariants.ts';

/**
 * The torture run: N real connections issue random booking operations AS USERS (anon bookers with
 * manage tokens, staff with JWT claims, the worker as owner) against several populated tenants,
 * through the SQL functions the API calls, each in one transaction (`begin; set_config(role,
 * claims); call; commit`, pipelined like the API). Afterwards `tortureViolations` checks the
 * whole database with SQL. Shared by `npm run torture` (bench/torture.ts) and the small version in
 * `npm test` (test/db/torture.pg.test.ts). No vitest in here.
 */

type Params = postgres.ParameterOrJSON<never>[];

/** Who a transaction runs as; null = the connection's own role (the owner: the background worker). */
export interface Caller {
  role: 'anon' | 'authenticated';
  claims: Record<string, unknown>;
}

export interface TortureTenant {
  id: string;
  slug: string;
  ownerId: string;
  receptionistId: string;
  locationId: string;
  providers: string[];
  /** Appointment services with the start times on their grid and who offers them. */
  services: { id: string; name: string; providers: string[]; starts: Date[] }[];
  groupServiceId: string;
  sessions: string[];
}

export interface TortureWorld {
  tenants: TortureTenant[];
  baseDay: Date;
}

/** A small deterministic PRNG (mulberry32), so a run can be replayed by its seed. */
export function rng(seed: number): () => number {
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

const DAYS = 3;
const OPENS = 9 * 60;
const CLOSES = 15 * 60;

function grid(baseDay: Date, duration: number, step: number): Date[] {
  const out: Date[] = [];
  for (let day = 0; day < DAYS; day++)
    for (let m = OPENS; m + duration <= CLOSES; m += step) out.push(new Date(baseDay.getTime() + day * 86_400_000 + m * 60_000));
  return out;
}

/**
 * Arranges `tenants` tenants as the table owner: each a UTC location, 3 providers and 2 rooms
 * working 09:00–15:00 every day, three appointment services (one needing a room with a buffer,
 * one requiring approval, one needing the other room with a buffer before), a group service
 * with 4 sessions of 4–8 seats, an owner and a receptionist. Days start two days from now, so
 * notice never bites and every confirmed booking is in the future.
 */
export async function createTortureWorld(sql: postgres.Sql, tenants: number, label = 'torture'): Promise<TortureWorld> {
  const now = new Date();
  const baseDay = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 2));
  const out: TortureTenant[] = [];
  for (let t = 0; t < tenants; t++) {
    const tenant = (await sql.begin(async (tx) => {
      const slug = `${label}-${t}-${Math.random().toString(36).slice(2, 8)}`;
      const one = async <T extends Row>(q: string, p: unknown[]): Promise<T> => ((await tx.unsafe(q, p as Params)) as unknown as T[])[0]!;
      const tenantId = (await one<{ id: string }>(`insert into slotbase.tenants (slug, name, time_zone) values ($1, $1, 'UTC') returning id`, [slug])).id;
      const member = async (role: string) => {
        const user = await one<{ id: string }>(`insert into slotbase.users (email) values ($1) returning id`, [`${role}-${slug}@torture.example`]);
        await tx.unsafe(`insert into slotbase.memberships (tenant_id, user_id, role) values ($1, $2, $3)`, [tenantId, user.id, role]);
        return user.id;
      };
      const ownerId = await member('owner');
      const receptionistId = await member('receptionist');
      const locationId = (await one<{ id: string }>(`insert into slotbase.locations (tenant_id, name, time_zone) values ($1, 'Main', 'UTC') returning id`, [tenantId])).id;
      const providers: string[] = [];
      for (let i = 0; i < 3; i++)
        providers.push((await one<{ id: string }>(`insert into slotbase.providers (tenant_id, name, location_id) values ($1, $2, $3) returning id`, [tenantId, `P${i}`, locationId])).id);
      const rooms: string[] = [];
      for (let i = 0; i < 2; i++)
        rooms.push((await one<{ id: string }>(`insert into slotbase.resources (tenant_id, location_id, name) values ($1, $2, $3) returning id`, [tenantId, locationId, `Room ${i}`])).id);
      await tx.unsafe(
        `insert into slotbase.availability_rules (tenant_id, provider_id, resource_id, location_id, weekday, start_time, end_time)
         select $1, s.p, s.r, $2, wd, '09:00', '15:00'
           from (select unnest($3::uuid[]) as p, null::uuid as r union all select null, unnest($4::uuid[])) as s
          cross join generate_series(1, 7) as wd`,
        [tenantId, locationId, providers, rooms] as Params,
      );
      const service = async (o: { name: string; kind?: string; duration: number; step: number; before?: number; after?: number; approval?: boolean; party?: number; capacity?: number }, offered: string[], needs: string[]) => {
        const id = (await one<{ id: string }>(
          `insert into slotbase.services (tenant_id, slug, name, kind, duration_minutes, slot_interval_minutes, buffer_before_minutes, buffer_after_minutes,
             min_notice_minutes, max_advance_days, max_party_size, default_capacity, requires_approval)
           values ($1, $2, $2, $3, $4, $5, $6, $7, 0, 30, $8, $9, $10) returning id`,
          [tenantId, o.name, o.kind ?? 'appointment', o.duration, o.step, o.before ?? 0, o.after ?? 0, o.party ?? 1, o.capacity ?? null, o.approval ?? false],
        )).id;
        for (const p of offered) await tx.unsafe(`insert into slotbase.service_providers (tenant_id, service_id, provider_id) values ($1, $2, $3)`, [tenantId, id, p]);
        for (const r of needs) await tx.unsafe(`insert into slotbase.service_resources (tenant_id, service_id, resource_id) values ($1, $2, $3)`, [tenantId, id, r]);
        return id;
      };
      const [p0, p1, p2] = providers as [string, string, string];
      const services = [
        { id: await service({ name: 'room', duration: 30, step: 30, after: 10 }, [p0, p1, p2], [rooms[0]!]), name: 'room', providers: [p0, p1, p2], starts: grid(baseDay, 30, 30) },
        { id: await service({ name: 'approval', duration: 60, step: 30, approval: true }, [p0, p1], []), name: 'approval', providers: [p0, p1], starts: grid(baseDay, 60, 30) },
        { id: await service({ name: 'buffered', duration: 45, step: 15, before: 15 }, [p1, p2], [rooms[1]!]), name: 'buffered', providers: [p1, p2], starts: grid(baseDay, 45, 15) },
      ];
      const groupServiceId = await service({ name: 'class', kind: 'group', duration: 60, step: 60, party: 4, capacity: 6 }, [p0, p2], []);
      const sessions: string[] = [];
      const plan: [string, number, number][] = [[p0, 0, 11 * 60], [p2, 1, 9 * 60], [p0, 1, 12 * 60], [p2, 2, 13 * 60]];
      for (const [k, [provider, day, minute]] of plan.entries()) {
        const starts = new Date(baseDay.getTime() + day * 86_400_000 + minute * 60_000);
        sessions.push((await one<{ id: string }>(
          `insert into slotbase.sessions (tenant_id, service_id, provider_id, location_id, starts_at, ends_at, capacity)
           values ($1, $2, $3, $4, $5, $6, $7) returning id`,
          [tenantId, groupServiceId, provider, locationId, starts.toISOString(), new Date(starts.getTime() + 3_600_000).toISOString(), k % 2 ? 4 : 8],
        )).id);
      }
      return { id: tenantId, slug, ownerId, receptionistId, locationId, providers, services, groupServiceId, sessions } satisfies TortureTenant;
    })) as TortureTenant;
    out.push(tenant);
  }
  return { tenants: out, baseDay };
}

/** SQLSTATEs a booking operation may end with under contention (the documented domain errors). */
export const DOMAIN_CODES = ['23P01', 'SBTAK', 'SBFUL', 'SBTRN', 'SBNF1', 'SBOUT', 'SBLAT', 'SBEAR', 'SBPTY'] as const;

export interface OperationLog {
  op: string;
  tenant: number;
  caller: 'anon' | 'staff' | 'worker';
  ok: boolean;
  /** SQLSTATE of a failure ('?' when it was not a server error). */
  code?: string;
  message?: string;
  /** A cross-tenant attempt (must fail with SBNF1). */
  foreign?: boolean;
}

export interface TortureOptions {
  connections: number;
  operations: number;
  /** Stop after this many seconds even if `operations` were not all issued. */
  seconds?: number;
  seed: number;
}

interface Known {
  tenant: number;
  id: string;
  token: string;
  group: boolean;
  service: number;
  status: string;
}

const CREATE = `select * from slotbase.create_booking(p_tenant_id => $1, p_service_id => $2, p_starts_at => $3, p_provider_id => $4,
  p_location_id => $5, p_session_id => $6, p_party_size => $7, p_contact_name => $8, p_contact_email => $9, p_hold => $10, p_on_behalf => $11)`;

/** One transaction in one round trip, exactly as the API sends it (see bench/lib/pg.ts pipelinedTx). */
async function tx<T extends readonly Row[]>(conn: postgres.ReservedSql, caller: Caller | null, text: string | string[], params: unknown[]): Promise<T> {
  const queries: Promise<unknown>[] = [conn`begin`];
  if (caller) queries.push(conn`select set_config('role', ${caller.role}, true), set_config('request.jwt.claims', ${JSON.stringify(caller.claims)}, true)`);
  for (const statement of Array.isArray(text) ? text : [text]) queries.push(conn.unsafe(statement, params as Params));
  queries.push(conn`commit`);
  const settled = await Promise.allSettled(queries);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return (settled[settled.length - 2] as PromiseFulfilledResult<T>).value;
}

/**
 * Runs the random operations on `connections` reserved connections and returns one log entry per
 * operation. Operations: book (public and staff on behalf; 20 % "any provider"), hold, join a
 * session with a party of 1–4, cancel (manage token / staff), reschedule (token / staff; sessions
 * too), confirm and reject (staff), expire holds (the worker: a random hold's deadline is moved
 * into the past, then `expire_holds` sweeps the tenant), and cross-tenant attempts (a staff member
 * of one tenant cancelling or confirming another tenant's booking, a manage token used on another
 * booking) that must all fail with SBNF1.
 */
export async function runTorture(sql: postgres.Sql, world: TortureWorld, o: TortureOptions): Promise<OperationLog[]> {
  const known: Known[] = [];
  const log: OperationLog[] = [];
  const deadline = o.seconds ? Date.now() + o.seconds * 1000 : Infinity;
  const staff = (t: TortureTenant, r: () => number): Caller => ({
    role: 'authenticated',
    claims: { role: 'authenticated', sub: r() < 0.5 ? t.ownerId : t.receptionistId, tenant_id: t.id },
  });
  const anon: Caller = { role: 'anon', claims: { role: 'anon' } };

  async function operation(conn: postgres.ReservedSql, i: number): Promise<OperationLog> {
    const r = rng(o.seed + i * 7919);
    const ti = Math.floor(r() * world.tenants.length);
    const t = world.tenants[ti]!;
    const asStaff = r() < 0.4;
    const caller = asStaff ? staff(t, r) : anon;
    const mine = known.filter((k) => k.tenant === ti);
    const open = mine.filter((k) => ['held', 'pending', 'confirmed'].includes(k.status));
    const target = mine.length === 0 ? undefined : open.length > 0 && r() < 0.85 ? pick(r, open) : pick(r, mine);
    const roll = r();
    const entry = (op: string, who: OperationLog['caller'], foreign = false) => ({ op, tenant: ti, caller: who, foreign });
    const run = async (e: ReturnType<typeof entry>, c: Caller | null, text: string | string[], params: unknown[], after?: (rows: Row[]) => void): Promise<OperationLog> => {
      try {
        const rows = (await tx(conn, c, text, params)) as unknown as Row[];
        after?.(rows);
        return { ...e, ok: true };
      } catch (error) {
        const err = error as { code?: unknown; message?: string };
        return { ...e, ok: false, code: typeof err.code === 'string' ? err.code : '?', message: String(err.message ?? error) };
      }
    };
    const remember = (group: boolean, service: number) => (rows: Row[]) => {
      const row = rows[0] as { id: string; manage_token: string; status: string };
      known.push({ tenant: ti, id: row.id, token: row.manage_token, group, service, status: row.status });
    };
    const track = (k: Known) => (rows: Row[]) => {
      const status = (rows[0] as { status?: string } | undefined)?.status;
      if (status) k.status = status;
    };
    const who: OperationLog['caller'] = asStaff ? 'staff' : 'anon';

    if (roll < 0.34 || !target) {
      const s = Math.floor(r() * t.services.length);
      const svc = t.services[s]!;
      const hold = !asStaff && r() < 0.25;
      return run(entry(hold ? 'hold' : asStaff ? 'book_staff' : 'book_public', who), caller, CREATE, [
        t.id, svc.id, pick(r, svc.starts).toISOString(), r() < 0.2 ? null : pick(r, svc.providers), t.locationId, null, 1,
        `Guest ${i}`, `guest-${i % 97}@torture.example`, hold, asStaff,
      ], remember(false, s));
    }
    if (roll < 0.48) {
      const hold = !asStaff && r() < 0.15;
      return run(entry('join_session', who), caller, CREATE, [
        t.id, t.groupServiceId, null, null, null, pick(r, t.sessions), 1 + Math.floor(r() * 4), `Guest ${i}`, `guest-${i % 97}@torture.example`, hold, asStaff,
      ], remember(true, -1));
    }
    if (roll < 0.6)
      return run(entry(asStaff ? 'cancel_staff' : 'cancel_token', who), caller,
        'select * from slotbase.cancel_booking(p_booking_id => $1, p_reason => $2, p_manage_token => $3)',
        [target.id, 'torture', asStaff ? null : target.token], track(target));
    if (roll < 0.72) {
      const op = asStaff ? 'reschedule_staff' : 'reschedule_token';
      if (target.group)
        return run(entry(op, who), caller, 'select * from slotbase.reschedule_booking(p_booking_id => $1, p_session_id => $2, p_manage_token => $3)',
          [target.id, pick(r, t.sessions), asStaff ? null : target.token], track(target));
      const svc = t.services[target.service]!;
      return run(entry(op, who), caller,
        'select * from slotbase.reschedule_booking(p_booking_id => $1, p_starts_at => $2, p_provider_id => $3, p_location_id => $4, p_manage_token => $5)',
        [target.id, pick(r, svc.starts).toISOString(), r() < 0.2 ? null : pick(r, svc.providers), t.locationId, asStaff ? null : target.token], track(target));
    }
    if (roll < 0.84) {
      const waiting = mine.filter((k) => k.status === 'held' || k.status === 'pending');
      const c = waiting.length && r() < 0.8 ? pick(r, waiting) : target;
      return run(entry('confirm', 'staff'), staff(t, r), 'select * from slotbase.confirm_booking(p_booking_id => $1)', [c.id], track(c));
    }
    if (roll < 0.88)
      return run(entry('reject', 'staff'), staff(t, r), 'select * from slotbase.reject_booking(p_booking_id => $1, p_reason => $2)', [target.id, 'torture'], track(target));
    if (roll < 0.93) {
      // The worker: time passes for one hold (its deadline moves into the past), then the sweep runs.
      const held = mine.filter((k) => k.status === 'held');
      const h = held.length ? pick(r, held) : target;
      // Time passing is its own autocommitted statement: the sweep must not start holding a row lock.
      await conn.unsafe(`update slotbase.bookings set hold_expires_at = now() - interval '1 minute' where tenant_id = $1 and id = $2 and status = 'held'`, [t.id, h.id]);
      return run(entry('expire_holds', 'worker'), null, 'select slotbase.expire_holds(p_tenant_id => $1) as expired', [t.id], () => {
        if (h.status === 'held') h.status = 'expired';
      });
    }
    // Cross-tenant attempts: another tenant's staff or another booking's token. Must be SBNF1.
    const others = known.filter((k) => k.tenant !== ti);
    const foreignTarget = others.length ? pick(r, others) : undefined;
    const kind = r();
    if (kind < 0.4 && foreignTarget)
      return run(entry('foreign_cancel', 'staff', true), staff(t, r),
        'select * from slotbase.cancel_booking(p_booking_id => $1, p_reason => $2)', [foreignTarget.id, 'intruder']);
    if (kind < 0.7 && foreignTarget)
      return run(entry('foreign_confirm', 'staff', true), staff(t, r), 'select * from slotbase.confirm_booking(p_booking_id => $1)', [foreignTarget.id]);
    const other = known.length > 1 ? pick(r, known.filter((k) => k.id !== target.id)) : undefined;
    if (!other) return run(entry('confirm', 'staff'), staff(t, r), 'select * from slotbase.confirm_booking(p_booking_id => $1)', [target.id], track(target));
    return run(entry('foreign_token_cancel', 'anon', true), anon,
      'select * from slotbase.cancel_booking(p_booking_id => $1, p_reason => $2, p_manage_token => $3)', [target.id, 'intruder', other.token]);
  }

  let next = 0;
  await Promise.all(
    Array.from({ length: o.connections }, async () => {
      const conn = await sql.reserve();
      try {
        for (let i = next++; i < o.operations && Date.now() < deadline; i = next++) log.push(await operation(conn, i));
      } finally {
        conn.release();
      }
    }),
  );
  return log;
}

/** Log entries that broke the rules: a code outside the domain errors (40P01 included), or a cross-tenant attempt that did anything but SBNF1. */
export function unexpectedOutcomes(log: OperationLog[]): OperationLog[] {
  return log.filter((l) => (l.foreign ? l.ok || l.code !== 'SBNF1' : !l.ok && !(DOMAIN_CODES as readonly string[]).includes(l.code!)));
}

/** Outcome counts: op → (ok | SQLSTATE) → n. */
export function outcomeTable(log: OperationLog[]): Map<string, Map<string, number>> {
  const table = new Map<string, Map<string, number>>();
  for (const l of log) {
    const row = table.get(l.op) ?? new Map<string, number>();
    const key = l.ok ? 'ok' : l.code!;
    row.set(key, (row.get(key) ?? 0) + 1);
    table.set(l.op, row);
  }
  return table;
}

/**
 * (e) The outbox matches the bookings: a held booking has its hold-expiry job, a pending one its
 * approval request, a confirmed one a reminder job per offset still in the future (run_at =
 * starts_at − offset); a booking that ended has no reminder or hold job left.
 */
export async function jobMismatches(db: Queryable): Promise<Row[]> {
  return db.query(`
    with offsets as (
      select b.tenant_id, b.id, o.v as offset_minutes
        from slotbase.bookings as b
        cross join lateral unnest(slotbase_private.reminder_offsets(b.tenant_id)) as o(v)
       where b.status = 'confirmed' and b.starts_at - make_interval(mins => o.v) > now()
    ),
    expected as (
      select tenant_id, id as booking_id, 'hold:' || id as key, null::timestamptz as run_at from slotbase.bookings where status = 'held'
      union all
      select tenant_id, id, 'approval:' || id, null from slotbase.bookings where status = 'pending'
      union all
      select o.tenant_id, o.id, 'reminder:' || o.id || ':' || o.offset_minutes, b.starts_at - make_interval(mins => o.offset_minutes)
        from offsets as o join slotbase.bookings as b on b.tenant_id = o.tenant_id and b.id = o.id
    )
    select e.tenant_id, e.booking_id, e.key, 'missing or wrong run_at' as problem
      from expected as e
      left join graphile_worker.jobs as j on j.key = e.key
     where j.id is null or (e.run_at is not null and j.run_at <> e.run_at)
    union all
    select b.tenant_id, b.id, j.key, 'left behind by a booking that is ' || b.status
      from slotbase.bookings as b
      join graphile_worker.jobs as j on j.key like 'reminder:' || b.id || ':%' or j.key = 'hold:' || b.id
     where b.status in ('cancelled', 'rejected', 'expired')
        or (b.status <> 'held' and j.key = 'hold:' || b.id)`);
}

/** (f) No booking, claim, session or event references a row of another tenant (joined by id alone). */
export async function crossTenantReferences(db: Queryable): Promise<Row[]> {
  return db.query(`
    select 'booking.service' as ref, b.tenant_id, b.id from slotbase.bookings b join slotbase.services x on x.id = b.service_id where x.tenant_id <> b.tenant_id
    union all select 'booking.provider', b.tenant_id, b.id from slotbase.bookings b join slotbase.providers x on x.id = b.provider_id where x.tenant_id <> b.tenant_id
    union all select 'booking.location', b.tenant_id, b.id from slotbase.bookings b join slotbase.locations x on x.id = b.location_id where x.tenant_id <> b.tenant_id
    union all select 'booking.session', b.tenant_id, b.id from slotbase.bookings b join slotbase.sessions x on x.id = b.session_id where x.tenant_id <> b.tenant_id
    union all select 'claim.booking', c.tenant_id, c.id from slotbase.booking_claims c join slotbase.bookings x on x.id = c.booking_id where x.tenant_id <> c.tenant_id
    union all select 'claim.provider', c.tenant_id, c.id from slotbase.booking_claims c join slotbase.providers x on x.id = c.subject_id where x.tenant_id <> c.tenant_id
    union all select 'claim.resource', c.tenant_id, c.id from slotbase.booking_claims c join slotbase.resources x on x.id = c.subject_id where x.tenant_id <> c.tenant_id
    union all select 'event.booking', e.tenant_id, e.id from slotbase.booking_events e join slotbase.bookings x on x.id = e.booking_id where x.tenant_id <> e.tenant_id
    union all select 'session.service', s.tenant_id, s.id from slotbase.sessions s join slotbase.services x on x.id = s.service_id where x.tenant_id <> s.tenant_id
    union all select 'event.actor', e.tenant_id, e.id from slotbase.booking_events e
      where e.actor_user_id is not null and e.actor_role in ('owner', 'admin', 'receptionist', 'provider', 'viewer')
        and not exists (select 1 from slotbase.memberships m where m.tenant_id = e.tenant_id and m.user_id = e.actor_user_id)`);
}

/**
 * (g) The audit trail is complete: each booking has exactly one creation event (from_status
 * null), its status changes form one chain (each starts where the previous one ended), and the
 * chain ends at the booking's status. The chain is ordered by the lifecycle (held → pending →
 * confirmed → an end state), not by `at`: `at` is the transaction's start time, and a transaction
 * that started earlier may change the booking later (it waited for the row lock).
 * Events that change no status (reschedules) are not part of the chain.
 */
export async function auditTrailGaps(db: Queryable): Promise<Row[]> {
  return db.query(`
    with chain as (
      select e.tenant_id, e.booking_id, e.from_status, e.to_status,
             lag(e.to_status) over w as previous_to,
             row_number() over w as n,
             count(*) over (partition by e.tenant_id, e.booking_id) as total
        from slotbase.booking_events as e
       where e.from_status is null or e.from_status <> e.to_status
      window w as (partition by e.tenant_id, e.booking_id
                   order by e.from_status is not null,
                            case e.to_status when 'held' then 0 when 'pending' then 1 when 'confirmed' then 2 else 3 end,
                            e.at, e.id)
    )
    select b.tenant_id, b.id as booking_id, b.status, 'no single creation event' as problem
      from slotbase.bookings as b
     where (select count(*) from slotbase.booking_events as e where e.tenant_id = b.tenant_id and e.booking_id = b.id and e.from_status is null) <> 1
    union all
    select c.tenant_id, c.booking_id, c.to_status, 'change ' || c.n || ' starts at ' || coalesce(c.from_status, 'null') || ' after ' || coalesce(c.previous_to, 'nothing')
      from chain as c
     where c.n > 1 and c.from_status is distinct from c.previous_to
    union all
    select b.tenant_id, b.id, b.status, 'the last change ends at ' || c.to_status
      from slotbase.bookings as b
      join chain as c on c.tenant_id = b.tenant_id and c.booking_id = b.id and c.n = c.total
     where c.to_status <> b.status`);
}

export const TORTURE_INVARIANTS = { jobMismatches, crossTenantReferences, auditTrailGaps } as const;

/**
 * Every invariant of test/support/invariants.ts plus the torture run's own (jobs, cross-tenant
 * references, audit chain), over the whole database, read as the table owner. `{}` when all hold.
 */
export async function tortureViolations(db: Queryable): Promise<Record<string, Row[]>> {
  const out: Record<string, Row[]> = { ...(await invariantViolations(db)) };
  for (const [name, check] of Object.entries(TORTURE_INVARIANTS)) {
    const rows = await check(db);
    if (rows.length > 0) out[name] = rows;
  }
  return out;
}

/** A Queryable over a postgres.js pool (the owner connection). */
export function queryable(sql: postgres.Sql): Queryable {
  return {
    async query<T extends Row>(text: string, params?: unknown[]) {
      return [...(await sql.unsafe(text, params as Params))] as unknown as T[];
    },
  };
}
