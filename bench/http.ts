import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type postgres from 'postgres';
import { withSession, type Caller as ApiCaller } from '#src/db/session.ts';
import { BOOKING_COLUMNS } from '#src/http/routes/bookings/index.ts';
import { QUICK_SLOTS_SIZES, type BenchContext } from './booking-engine.ts';
import { createCatalog, createOtherTenants, createWorld, type World } from './fixtures.ts';
import { HistoryLoader } from './history.ts';
import { connect, errorInfo, pipelinedTx, sqlState, type Caller } from './lib/pg.ts';
import { median, msSince, now, summarize, type LatencySummary } from './lib/stats.ts';

/**
 * The HTTP API against calling the SQL functions directly, in the same run, on the same database.
 *
 * The API is the real thing: `bin/slotbase.js serve` (src/cli/main.ts → startServer in
 * src/server.ts, its postgres.js pool as slotbase_api) in a CHILD PROCESS on a free 127.0.0.1
 * port. A child process because (a) the load generator (autocannon) and the direct-SQL baseline
 * must not share the server's event loop — in-process, every client-side microsecond would be
 * charged to the API and the reverse; (b) its memory is its own: VmRSS/VmHWM from
 * /proc/<pid>/status, not the bench process's heap full of samples; (c) it is exactly what an
 * operator runs. The baseline is N postgres.js connections, also logged in as slotbase_api, each
 * call one pipelined round trip (begin + set_config(role, claims) + call + commit) as the same
 * staff user. Machine note: on a 2-vCPU box the API process, the load generator and PostgreSQL
 * compete for the same cores, so the API's CPU time is taken from PostgreSQL's.
 */

const DAY_MS = 24 * 3600_000;
const SLOT_MS = 15 * 60_000;
const SLOTS_PER_DAY = 40;
const REPO = fileURLToPath(new URL('../', import.meta.url));
/** The API's pool size: hard-coded in src/server.ts (startServer). */
export const API_POOL_MAX = 20;
const TENANT_SLUG = 'bench-http';
const OWNER = { email: 'owner@bench-http.example', password: 'bench-http-password-0123' };
const BOOKING_PROVIDERS = 64;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HANDLER_TX =
  'the route handler\'s transaction without HTTP: withSession (src/db/session.ts: postgres.js sql.begin, role + claims sent ahead) → ' +
  'create_booking → select the booking row → commit, a pool of as many connections as slotbase_api';

function utcDay(days: number): number {
  const d = new Date();
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) + days * DAY_MS;
}

// ---------------------------------------------------------------------------------------------
// Results

export interface SideResult {
  calls: number;
  seconds: number;
  perSecond: number;
  latency: LatencySummary;
  /** Non-2xx statuses (HTTP) or SQLSTATEs (SQL), counted in measured rounds. */
  errors: Record<string, number>;
  firstError?: string;
  rounds: number[];
}

export interface PairResult {
  connections: number;
  http: SideResult;
  sql: SideResult;
  /** The route handler's own transaction (src/db/session.ts withSession + its queries), no HTTP. */
  apiTx: SideResult;
  /** http / sql calls per second: median over rounds of the per-round ratio. */
  ratio: number;
  /** apiTx / sql: what the handler's transaction shape costs (round trips, lock held across them). */
  apiTxRatio: number;
  /** http / apiTx: what HTTP, Hono, validation, auth and JSON cost on top. */
  httpOverApiTx: number;
  /** Most connections of the API's pool busy at once (pg_stat_activity every 250 ms, state <> idle). */
  apiConnectionsSeen: number;
}

export interface ThroughputSection {
  what: string;
  httpRequest: string;
  sqlCall: string;
  apiTxCall: string;
  roundSeconds: number;
  rounds: number;
  pairs: PairResult[];
}

export interface HttpSlotsResult {
  providers: number;
  days: number;
  bookings: number;
  rows: number;
  expectedRows: number;
  responseBytes: number;
  url: string;
  http: LatencySummary;
  sql: LatencySummary;
  /** http p95 / sql p95 (the cost of the HTTP path; 1 = free). */
  p95Ratio: number;
  p50Ratio: number;
}

export interface MemoryPoint {
  at: string;
  rssMiB: number;
}

export interface HttpResult {
  server: { process: string; command: string; why: string; poolMax: number; rateLimits: string; node: string };
  bookings: ThroughputSection;
  seats: ThroughputSection;
  slots: HttpSlotsResult | { error: string };
  memory: { points: MemoryPoint[]; peakMiB: number; deltaMiB: number };
}

// ---------------------------------------------------------------------------------------------
// The API process

interface ApiProcess {
  base: string;
  pid: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** `slotbase serve` as a child process; resolves once /health answers. */
async function startApi(apiDatabaseUrl: string, log: (m: string) => void): Promise<ApiProcess> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.execPath, [`${REPO}bin/slotbase.js`, 'serve'], {
    cwd: REPO,
    env: {
      ...process.env,
      API_DATABASE_URL: apiDatabaseUrl,
      SLOTBASE_JWT_SECRET: randomBytes(32).toString('base64url'),
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      // The limiter stays in the path (its cost is measured) but never refuses: 10⁶/min is the maximum.
      RATE_LIMIT_PUBLIC_PER_MINUTE: '1000000',
      RATE_LIMIT_AUTHENTICATED_PER_MINUTE: '1000000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', (chunk: Buffer) => {
    keep(chunk);
    for (const line of chunk.toString().split('\n')) if (line.trim()) log(`  [api] ${line.slice(0, 300)}`);
  });
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exited = code;
      resolve();
    }),
  );
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    if (exited !== undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exit;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== undefined) throw new Error(`the API exited (${exited}) before answering: ${output}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the API did not answer /health within 60 s: ${output}`);
    }
    try {
      const res = await fetch(`${base}/health`);
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  return { base, pid: child.pid!, stop };
}

/** VmRSS and VmHWM (peak) of a process, MiB. */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

async function api<T>(base: string, method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

// ---------------------------------------------------------------------------------------------
// Measuring one side for a round

interface Tally {
  calls: number;
  ms: number;
  lat: number[];
  errors: Record<string, number>;
  firstError?: string;
  rounds: number[];
}

const newTally = (): Tally => ({ calls: 0, ms: 0, lat: [], errors: {}, rounds: [] });

/** autocannon: `connections` keep-alive sockets, one request in flight on each, for `seconds`. */
async function httpRound(
  o: { base: string; path: string; token: string; connections: number; seconds: number; body: () => unknown },
  tally: Tally | null,
): Promise<void> {
  let ok = 0;
  const lat: number[] = [];
  const start = now();
  await new Promise<void>((resolve, reject) => {
    const instance = autocannon(
      {
        url: o.base,
        connections: o.connections,
        pipelining: 1,
        duration: o.seconds,
        timeout: 30,
        requests: [
          {
            method: 'POST',
            path: o.path,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${o.token}` },
            setupRequest: (req) => ({ ...req, body: JSON.stringify(o.body()) }),
            onResponse: (status, body) => {
              if (status >= 300 && tally) tally.firstError ??= `${status} ${body.slice(0, 300)}`;
            },
          },
        ],
      },
      (error) => (error ? reject(error) : resolve()),
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) {
        ok++;
        lat.push(ms);
      } else if (tally) tally.errors[String(status)] = (tally.errors[String(status)] ?? 0) + 1;
    });
    instance.on('reqError', (error) => {
      if (tally) {
        const code = (error as { code?: string }).code ?? 'request_error';
        tally.errors[code] = (tally.errors[code] ?? 0) + 1;
        tally.firstError ??= String((error as Error).message ?? error);
      }
    });
  });
  const ms = msSince(start);
  if (tally) {
    tally.calls += ok;
    tally.ms += ms;
    tally.lat.push(...lat);
    tally.rounds.push((ok / ms) * 1000);
  }
}

/** N workers (one per reserved postgres.js connection), each calling back to back for `seconds`. */
async function sqlRound<C>(
  conns: C[],
  seconds: number,
  call: (sql: C) => Promise<unknown>,
  tally: Tally | null,
): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  const start = now();
  let ok = 0;
  const lat: number[] = [];
  await Promise.all(
    conns.map(async (sql) => {
      while (Date.now() < deadline) {
        const s = now();
        try {
          await call(sql);
          ok++;
          lat.push(msSince(s));
        } catch (error) {
          const code = sqlState(error);
          if (tally) {
            tally.errors[code] = (tally.errors[code] ?? 0) + 1;
            tally.firstError ??= JSON.stringify(errorInfo(error));
          }
          if (code === '?') throw error;
        }
      }
    }),
  );
  const ms = msSince(start);
  if (tally) {
    tally.calls += ok;
    tally.ms += ms;
    tally.lat.push(...lat);
    tally.rounds.push((ok / ms) * 1000);
  }
}

const sideOf = (t: Tally): SideResult => {
  const r: SideResult = {
    calls: t.calls,
    seconds: t.ms / 1000,
    perSecond: (t.calls / t.ms) * 1000,
    latency: summarize(t.lat),
    errors: t.errors,
    rounds: t.rounds,
  };
  if (t.firstError) r.firstError = t.firstError;
  return r;
};

/** The most API pool connections busy at once (not idle: running or in a transaction) while a phase runs. */
function watchApiConnections(monitor: postgres.Sql): { stop(): Promise<number> } {
  let running = true;
  let max = 0;
  const loop = (async () => {
    while (running) {
      const [r] = await monitor<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity
        where application_name = 'slotbase-api' and datname = current_database() and state <> 'idle'`;
      max = Math.max(max, r!.n);
      await sleep(250);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return max;
    },
  };
}

/**
 * HTTP vs SQL at each concurrency: warm-up, then `rounds` rounds, each running both sides back to
 * back (order alternating), so both share the machine's noise; ratio = median per-round ratio.
 */
async function compare(
  ctx: BenchContext,
  label: string,
  o: {
    connectionsList: number[];
    roundSeconds: number;
    rounds: number;
    warmSeconds: number;
    pool: postgres.Sql;
    monitor: postgres.Sql;
    /** A pool of `max` connections as the API's login role, for the handler-shaped side. */
    apiPool: (max: number) => postgres.Sql;
    /** Called before every phase (e.g. a fresh session); returns the HTTP body and SQL call makers. */
    phase: () => Promise<{
      body: () => unknown;
      call: (sql: postgres.ReservedSql) => Promise<unknown>;
      apiTx: (sql: postgres.Sql) => Promise<unknown>;
    }>;
    http: (connections: number, seconds: number, body: () => unknown, tally: Tally | null) => Promise<void>;
  },
): Promise<PairResult[]> {
  const pairs: PairResult[] = [];
  for (const connections of o.connectionsList) {
    const conns = await Promise.all(Array.from({ length: connections }, () => o.pool.reserve()));
    const apiPool = o.apiPool(connections);
    try {
      const h = newTally();
      const s = newTally();
      const a = newTally();
      let apiConnectionsSeen = 0;
      const runHttp = async (seconds: number, tally: Tally | null) => {
        const p = await o.phase();
        const watch = watchApiConnections(o.monitor);
        await o.http(connections, seconds, p.body, tally);
        apiConnectionsSeen = Math.max(apiConnectionsSeen, await watch.stop());
        await sleep(200); // requests cut off at the deadline finish on the server
      };
      const runSql = async (seconds: number, tally: Tally | null) => {
        const p = await o.phase();
        await sqlRound(conns, seconds, p.call, tally);
      };
      const workers = Array.from({ length: connections }, () => apiPool);
      const runApiTx = async (seconds: number, tally: Tally | null) => {
        const p = await o.phase();
        await sqlRound(workers, seconds, p.apiTx, tally);
      };
      const sides = [runHttp, runSql, runApiTx];
      const tallies = [h, s, a];
      ctx.log(`http ${label}: ${connections} connections, warm-up, then ${o.rounds} rounds × 3 sides × ${o.roundSeconds} s`);
      for (const run of sides) await run(o.warmSeconds, null);
      for (let r = 0; r < o.rounds; r++) {
        // Rotate the order so no side always runs first.
        for (let i = 0; i < sides.length; i++) await sides[(i + r) % sides.length]!(o.roundSeconds, tallies[(i + r) % sides.length]!);
        ctx.log(
          `  round ${r + 1}: http ${Math.round(h.rounds.at(-1)!)}/s, sql ${Math.round(s.rounds.at(-1)!)}/s, ` +
            `handler tx without HTTP ${Math.round(a.rounds.at(-1)!)}/s (http ÷ sql ${(h.rounds.at(-1)! / s.rounds.at(-1)!).toFixed(2)})`,
        );
      }
      const ratio = (x: Tally, y: Tally) => median(x.rounds.map((v, i) => v / y.rounds[i]!));
      pairs.push({
        connections,
        http: sideOf(h),
        sql: sideOf(s),
        apiTx: sideOf(a),
        ratio: ratio(h, s),
        apiTxRatio: ratio(a, s),
        httpOverApiTx: ratio(h, a),
        apiConnectionsSeen,
      });
    } finally {
      for (const c of conns) c.release();
      await apiPool.end({ timeout: 5 });
    }
  }
  return pairs;
}

// ---------------------------------------------------------------------------------------------

export async function benchHttp(ctx: BenchContext): Promise<HttpResult> {
  const admin = connect(ctx.url, 1);
  const monitor = connect(ctx.url, 1);
  let server: ApiProcess | undefined;
  let pool: postgres.Sql | undefined;
  const memory: MemoryPoint[] = [];
  try {
    // The API logs in as slotbase_api, as `slotbase start` arranges it (prepareApiRole in
    // src/cli/main.ts). Roles are cluster-wide: this sets the role's password on the server, as
    // the test setup does; on a trust-auth server (this machine's) the password is not checked.
    const password = randomBytes(18).toString('base64url');
    await admin.unsafe(`alter role slotbase_api with login password '${password}'`);
    const apiUrl = new URL(ctx.url);
    apiUrl.username = 'slotbase_api';
    apiUrl.password = password;

    server = await startApi(apiUrl.toString(), ctx.log);
    const s = server;
    const mem = (at: string) => {
      const m = memoryOf(s.pid);
      memory.push({ at, rssMiB: m.rss });
      ctx.log(`  API RSS ${m.rss.toFixed(1)} MiB (${at})`);
    };
    mem('started, idle');

    // The staff owner signs up through the API; the catalog comes from the fixtures (as the table owner).
    const session = await api<{ access_token: string; user: { id: string }; tenant: { id: string } }>(s.base, 'POST', '/v1/signup', {
      email: OWNER.email,
      password: OWNER.password,
      name: 'Bench Owner',
      tenant: { slug: TENANT_SLUG, name: 'Bench HTTP', time_zone: 'UTC' },
    });
    const tenantId = session.tenant.id;
    const world: World = await admin.begin((tx) =>
      createCatalog(tx, tenantId, session.user.id, { slug: TENANT_SLUG, providers: BOOKING_PROVIDERS, timeZone: 'UTC', maxAdvanceDays: 730 }),
    ) as World;
    const group = (await admin.begin(async (tx) => {
      const [svc] = await tx<{ id: string }[]>`
        insert into slotbase.services (tenant_id, slug, name, kind, duration_minutes, max_advance_days, max_party_size, default_capacity, is_public)
        values (${tenantId}, 'class', 'Group class', 'group', 60, 730, 1, 10000, true) returning id`;
      const [host] = await tx<{ id: string }[]>`
        insert into slotbase.providers (tenant_id, name, location_id) values (${tenantId}, 'Group host', ${world.locationId}) returning id`;
      await tx`insert into slotbase.service_providers (tenant_id, service_id, provider_id) values (${tenantId}, ${svc!.id}, ${host!.id})`;
      await tx`
        insert into slotbase.availability_rules (tenant_id, provider_id, location_id, weekday, start_time, end_time)
        select ${tenantId}, ${host!.id}, ${world.locationId}, wd, '08:00', '20:00' from generate_series(1, 7) as wd`;
      return { serviceId: svc!.id, providerId: host!.id };
    })) as { serviceId: string; providerId: string };
    const staff: Caller = { role: 'authenticated', claims: { role: 'authenticated', sub: session.user.id, tenant_id: tenantId } };
    // What the API makes of the owner's token (src/app.ts), for the handler-shaped side.
    const apiCaller: ApiCaller = { role: 'authenticated', userId: session.user.id, tenantId };
    const apiPool = (max: number) => connect(apiUrl.toString(), max, { connection: { application_name: 'slotbase-bench-http-apitx' } });
    /** POST /v1/bookings's transaction (src/http/routes/bookings/index.ts), minus HTTP. */
    const handlerTx = (sql: postgres.Sql, b: { serviceId: string; startsAt?: Date; providerId?: string; sessionId?: string; name: string; email: string }) =>
      withSession(sql, apiCaller, async (tx) => {
        const [receipt] = await tx<{ id: string; manage_token: string }[]>`
          select id, manage_token from slotbase.create_booking(
            p_tenant_id => ${tenantId}, p_service_id => ${b.serviceId}, p_starts_at => ${b.startsAt ?? null},
            p_provider_id => ${b.providerId ?? null}, p_location_id => ${null},
            p_session_id => ${b.sessionId ?? null}, p_party_size => ${1},
            p_contact_name => ${b.name}, p_contact_email => ${b.email},
            p_contact_phone => ${null}, p_notes => ${null},
            p_hold => ${false}, p_idempotency_key => ${null})`;
        const [row] = await tx<{ source: string }[]>`
          select ${tx(BOOKING_COLUMNS)} from slotbase.bookings where tenant_id = ${tenantId} and id = ${receipt!.id}`;
        if (!row || row.source !== 'staff') throw new Error('not a staff booking');
        return row;
      });
    const login = async () =>
      (await api<{ access_token: string }>(s.base, 'POST', '/v1/auth/login', { email: OWNER.email, password: OWNER.password, tenant: TENANT_SLUG }))
        .access_token;

    // -- 1. Public slots over HTTP vs available_slots called directly, with the quick slots history. First, so the
    //    table holds exactly that many bookings (the booking rounds add thousands more).
    let slots: HttpSlotsResult | { error: string };
    try {
      slots = await slotsOverHttp(ctx, admin, s.base, apiUrl.toString());
    } catch (error) {
      ctx.log(`http slots failed: ${(error as Error).stack ?? error}`);
      slots = { error: `${(error as { code?: string }).code ?? ''} ${(error as Error).message}`.trim() };
    }
    mem('after the slots requests');

    const connectionsList = [1, 8, 32];
    const roundSeconds = ctx.quick ? 1.5 : 3;
    const rounds = ctx.quick ? 2 : 3;
    const warmSeconds = ctx.quick ? 0.4 : 1;
    pool = connect(apiUrl.toString(), Math.max(...connectionsList), { connection: { application_name: 'slotbase-bench-http-sql' } });
    const sqlPool = pool;

    // -- 2. Appointment bookings on distinct slots: request k books provider k mod 64 at its next free slot.
    const firstDay = utcDay(1);
    let k = 0;
    const nextSlot = () => {
      const i = k++;
      const slot = Math.floor(i / BOOKING_PROVIDERS);
      const day = Math.floor(slot / SLOTS_PER_DAY);
      if (day >= 700) throw new Error('HTTP benchmark ran out of distinct slots');
      return {
        providerId: world.providerIds[i % BOOKING_PROVIDERS]!,
        startsAt: new Date(firstDay + day * DAY_MS + 8 * 3600_000 + (slot % SLOTS_PER_DAY) * SLOT_MS),
      };
    };
    let token = await login();
    const httpPost = (path: string) => (connections: number, seconds: number, body: () => unknown, tally: Tally | null) =>
      httpRound({ base: s.base, path, token, connections, seconds, body }, tally);
    const bookingPairs = await compare(ctx, 'bookings', {
      connectionsList,
      roundSeconds,
      rounds,
      warmSeconds,
      pool: sqlPool,
      monitor,
      phase: async () => ({
        body: () => {
          const slot = nextSlot();
          return {
            service_id: world.serviceId,
            provider_id: slot.providerId,
            starts_at: slot.startsAt.toISOString(),
            contact: { name: 'Bench Booker', email: 'booker@bench.example' },
          };
        },
        call: (sql) => {
          const slot = nextSlot();
          return pipelinedTx(sql, staff, (c) => c`
            select id, manage_token from slotbase.create_booking(
              p_tenant_id => ${tenantId}, p_service_id => ${world.serviceId}, p_starts_at => ${slot.startsAt},
              p_provider_id => ${slot.providerId}, p_contact_name => 'Bench Booker', p_contact_email => 'booker@bench.example')`);
        },
        apiTx: (sql) => {
          const slot = nextSlot();
          return handlerTx(sql, { serviceId: world.serviceId, startsAt: slot.startsAt, providerId: slot.providerId, name: 'Bench Booker', email: 'booker@bench.example' });
        },
      }),
      apiPool,
      http: httpPost('/v1/bookings'),
    });
    mem('after the booking rounds');

    // -- 3. Seats: every phase books party size 1 into ONE fresh session (capacity 10,000) — one hot row.
    token = await login();
    let sessionDay = 1;
    let seat = 0;
    const seatPairs = await compare(ctx, 'seats', {
      // --quick: 8 connections only, to stay within its time budget.
      connectionsList: ctx.quick ? [8] : connectionsList,
      roundSeconds,
      rounds,
      warmSeconds,
      pool: sqlPool,
      monitor,
      phase: async () => {
        const startsAt = new Date(utcDay(sessionDay++) + 10 * 3600_000);
        const created = await api<{ id: string }>(s.base, 'POST', '/v1/sessions', {
          service_id: group.serviceId,
          provider_id: group.providerId,
          location_id: world.locationId,
          starts_at: startsAt.toISOString(),
          capacity: 10_000,
        }, token);
        const sessionId = created.id;
        return {
          body: () => ({
            service_id: group.serviceId,
            session_id: sessionId,
            party_size: 1,
            contact: { name: 'Bench Guest', email: `guest${seat++}@bench.example` },
          }),
          call: (sql) => {
            const email = `guest${seat++}@bench.example`;
            return pipelinedTx(sql, staff, (c) => c`
              select id, manage_token from slotbase.create_booking(
                p_tenant_id => ${tenantId}, p_service_id => ${group.serviceId}, p_session_id => ${sessionId},
                p_party_size => 1, p_contact_name => 'Bench Guest', p_contact_email => ${email})`);
          },
          apiTx: (sql) => handlerTx(sql, { serviceId: group.serviceId, sessionId, name: 'Bench Guest', email: `guest${seat++}@bench.example` }),
        };
      },
      http: httpPost('/v1/bookings'),
      apiPool,
    });
    mem('after the seat rounds');

    const peak = memoryOf(s.pid).hwm;

    const seatsWhat =
      'Seat reservation: party size 1 into one group session (capacity 10,000) per phase — every call updates the same session row, ' +
      'so calls serialize on its row lock until commit; the staff owner books (POST /v1/bookings with session_id)';
    return {
      server: {
        process: `child process (pid ${s.pid})`,
        command: 'node bin/slotbase.js serve (src/cli/main.ts → startServer in src/server.ts), LOG_LEVEL=warn',
        why:
          'its own event loop and core time (the load generator and the SQL baseline run in the bench process), ' +
          'and its own memory to measure (VmRSS from /proc/<pid>/status); the same entry point an operator runs',
        poolMax: API_POOL_MAX,
        rateLimits: 'RATE_LIMIT_*_PER_MINUTE=1000000 (limiter in the path, never refusing)',
        node: process.version,
      },
      bookings: {
        what: 'Appointment bookings on distinct slots (64 providers, request k → provider k mod 64, no contention), as the staff owner',
        httpRequest: 'POST /v1/bookings with the owner\'s bearer token (autocannon, keep-alive, 1 request in flight per connection)',
        sqlCall:
          'slotbase.create_booking as the same staff user: begin + set_config(role, claims) + call + commit pipelined in one round trip, ' +
          'postgres.js logged in as slotbase_api',
        apiTxCall: HANDLER_TX,
        roundSeconds,
        rounds,
        pairs: bookingPairs,
      },
      seats: {
        what: seatsWhat,
        httpRequest: 'POST /v1/bookings {session_id, party_size: 1} with the owner\'s bearer token',
        sqlCall: 'slotbase.create_booking(p_session_id, p_party_size => 1) as the same staff user, one round trip',
        apiTxCall: HANDLER_TX,
        roundSeconds,
        rounds,
        pairs: seatPairs,
      },
      slots,
      memory: {
        points: memory,
        peakMiB: peak,
        deltaMiB: memory.at(-1)!.rssMiB - memory[0]!.rssMiB,
      },
    };
  } finally {
    await server?.stop();
    await Promise.all([admin, monitor, ...(pool ? [pool] : [])].map((x) => x.end({ timeout: 5 })));
  }
}

/**
 * GET /v1/public/{tenant}/services/{service}/slots for 5 providers × 90 days (15-min steps),
 * one client, against `select * from slotbase.available_slots(…)` as anon (rows to the client,
 * no type parsing — section 1's "rows to client"), alternating.
 */
async function slotsOverHttp(ctx: BenchContext, admin: postgres.Sql, base: string, apiUrl: string): Promise<HttpSlotsResult> {
  const slug = 'bench-http-slots';
  const world = await createWorld(admin, { slug, providers: 5, timeZone: 'Europe/Berlin', maxAdvanceDays: 100 });
  const others = await createOtherTenants(admin, 50, 4);
  const [w] = await admin<{ first_date: string; from: Date; to: Date }[]>`
    select to_char(d, 'YYYY-MM-DD') as first_date, (d::timestamp at time zone ${world.timeZone}) as from,
           ((d + 90)::timestamp at time zone ${world.timeZone}) as to
    from (select (now() at time zone ${world.timeZone})::date + 1 as d) as x`;
  const windowPerProvider = 400;
  const loaderSql = connect(ctx.url, 1);
  const anonSql = connect(apiUrl, 1);
  try {
    const loader = new HistoryLoader(loaderSql, {
      world,
      windowFirstDate: w!.first_date,
      windowFrom: w!.from,
      windowTo: w!.to,
      others,
      windowPerProvider,
      benchShare: 0.5,
    });
    await loader.init();
    await loader.loadWindow(SLOTS_PER_DAY);
    const size = QUICK_SLOTS_SIZES.at(-1)!;
    ctx.log(`http slots: loading history to ${size.toLocaleString('en-US')} bookings (the slots benchmark's --quick size) …`);
    await loader.growTo(size);
    const [counted] = await admin<{ n: number }[]>`select count(*)::int as n from slotbase.bookings`;
    const activeInWindow = world.providerIds.length * (windowPerProvider - Math.ceil(windowPerProvider / 10));
    const expectedRows = world.providerIds.length * 90 * SLOTS_PER_DAY - activeInWindow;

    const url = `${base}/v1/public/${slug}/services/consult/slots?from=${encodeURIComponent(w!.from.toISOString())}&to=${encodeURIComponent(w!.to.toISOString())}`;
    const anon = await anonSql.reserve();
    await anon.unsafe('set role anon');
    await anon`select set_config('request.jwt.claims', ${JSON.stringify({ role: 'anon' })}, false)`;
    const direct = () => anon`select * from slotbase.available_slots(${world.tenantId}, ${world.serviceId}, ${w!.from}, ${w!.to})`.raw();
    const overHttp = async () => {
      const res = await fetch(url);
      const body = await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`GET slots: ${res.status} ${Buffer.from(body).toString().slice(0, 300)}`);
      return body;
    };
    const first = await overHttp();
    const rows = (JSON.parse(Buffer.from(first).toString()) as { data: unknown[] }).data.length;
    for (let i = 0; i < 3; i++) {
      await overHttp();
      await direct();
    }
    const target = ctx.quick ? 30 : 150;
    const budgetMs = ctx.quick ? 8_000 : 30_000;
    const h: number[] = [];
    const q: number[] = [];
    const t0 = now();
    for (let i = 0; i < target && (i < 5 || msSince(t0) < budgetMs); i++) {
      let t = now();
      await overHttp();
      h.push(msSince(t));
      t = now();
      await direct();
      q.push(msSince(t));
    }
    anon.release();
    const http = summarize(h);
    const sql = summarize(q);
    ctx.log(`  slots p50/p95: http ${http.p50.toFixed(1)}/${http.p95.toFixed(1)} ms, sql ${sql.p50.toFixed(1)}/${sql.p95.toFixed(1)} ms, ${rows} rows`);
    return {
      providers: world.providerIds.length,
      days: 90,
      bookings: counted!.n,
      rows,
      expectedRows,
      responseBytes: first.byteLength,
      url: url.replace(base, ''),
      http,
      sql,
      p95Ratio: http.p95 / sql.p95,
      p50Ratio: http.p50 / sql.p50,
    };
  } finally {
    await Promise.all([loaderSql, anonSql].map((x) => x.end({ timeout: 5 })));
  }
}
