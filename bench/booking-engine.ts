import type postgres from 'postgres';
import { createOtherTenants, createWorld, type World } from './fixtures.ts';
import { HistoryLoader, type LoadStep } from './history.ts';
import { connect, errorInfo, explainAnalyze, explainNested, pipelinedTx, sqlState, type Caller, type ErrorInfo } from './lib/pg.ts';
import { median, msSince, now, summarize, type LatencySummary } from './lib/stats.ts';

/** What every benchmark gets from bench/run.ts. */
export interface BenchContext {
  url: string;
  quick: boolean;
  /** Largest table size for available_slots; null = default sizes (10⁶ only if loading is fast enough). */
  maxBookings: number | null;
  log(message: string): void;
}

const ANON: Caller = { role: 'anon', claims: { role: 'anon' } };
const staff = (w: World): Caller => ({
  role: 'authenticated',
  claims: { role: 'authenticated', sub: w.ownerUserId, tenant_id: w.tenantId },
});

const DAY_MS = 24 * 3600_000;
const SLOT_MS = 15 * 60_000;
/** 08:00–18:00 in 15-minute steps. */
const SLOTS_PER_DAY = 40;

/** Midnight UTC `days` days after today (UTC). */
function utcDay(days: number): number {
  const d = new Date();
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) + days * DAY_MS;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Table sizes of the available_slots benchmark with --quick (the HTTP benchmark uses the largest). */
export const QUICK_SLOTS_SIZES = [10_000, 50_000];

// ---------------------------------------------------------------------------------------------
// 1. available_slots latency vs table size

export interface SlotsSample {
  bookings: number;
  /** Rows the call returned (must not change with the table size). */
  rows: number;
  expectedRows: number;
  /** anon, rows sent to the client (postgres.js .raw(): no type parsing) — the public path. */
  anonFull: LatencySummary;
  /** anon, `select count(*) from available_slots(…)` — the server's share. */
  anonCount: LatencySummary;
  /** table owner (superuser: no RLS), count(*) — the reference DESIGN §12 compares with. */
  ownerCount: LatencySummary;
  /** Active claims of the 5 benchmark providers (their history the query must not wade through). */
  providerClaims: number;
  load: LoadStep | null;
  explain: string;
}

/** One cell of the provider × window matrix at one table size (anon, rows to the client). */
export interface SlotsMatrixCell {
  bookings: number;
  providers: number;
  days: number;
  rows: number;
  latency: LatencySummary;
}

export interface SlotsResult {
  /** 1 / 5 / 50 providers × 31 / 90 days at every size (absent in older results). */
  matrix?: SlotsMatrixCell[];
  providers: number;
  days: number;
  stepMinutes: number;
  windowFrom: string;
  windowTo: string;
  timeZone: string;
  samples: SlotsSample[];
  skipped: string[];
  filledColumns: string[];
  growth: { from: number; to: number; p50: number; p95: number; countP50: number; countP95: number } | null;
  nestedPlans: { caller: string; bookings: number; plans: string[] }[];
}

export async function benchAvailableSlots(ctx: BenchContext): Promise<SlotsResult> {
  const admin = connect(ctx.url, 1);
  const loaderSql = connect(ctx.url, 1);
  const anonSql = connect(ctx.url, 1);
  const ownerSql = connect(ctx.url, 1);
  try {
    const world = await createWorld(admin, { slug: 'bench-slots', providers: 5, timeZone: 'Europe/Berlin', maxAdvanceDays: 100 });
    const others = await createOtherTenants(admin, 50, 4);
    // For the matrix: a tenant with 50 providers (the table grows around it like around the others).
    const wide = await createWorld(admin, { slug: 'bench-slots-50', providers: 50, timeZone: 'Europe/Berlin', maxAdvanceDays: 100 });
    // The window: 90 local days starting tomorrow (in the location's zone).
    const [w] = await admin<{ first_date: string; from: Date; to: Date }[]>`
      select to_char(d, 'YYYY-MM-DD') as first_date, (d::timestamp at time zone ${world.timeZone}) as from,
             ((d + 90)::timestamp at time zone ${world.timeZone}) as to
      from (select (now() at time zone ${world.timeZone})::date + 1 as d) as x`;
    const windowFrom = w!.from;
    const windowTo = w!.to;
    const windowPerProvider = 400;
    const loader = new HistoryLoader(loaderSql, {
      world,
      windowFirstDate: w!.first_date,
      windowFrom,
      windowTo,
      others,
      windowPerProvider,
      benchShare: 0.5,
    });
    await loader.init();
    await loader.loadWindow(SLOTS_PER_DAY);
    // Active in-window bookings: 9 of every 10 (every 10th is cancelled).
    const activeInWindow = world.providerIds.length * (windowPerProvider - Math.ceil(windowPerProvider / 10));
    const expectedRows = world.providerIds.length * 90 * SLOTS_PER_DAY - activeInWindow;

    const base = 10_000;
    const defaults = ctx.quick ? [...QUICK_SLOTS_SIZES] : [10_000, 100_000, 1_000_000];
    let sizes = defaults;
    if (ctx.maxBookings !== null) {
      sizes = defaults.filter((s) => s < ctx.maxBookings!);
      sizes.push(ctx.maxBookings);
      sizes = [...new Set(sizes)].filter((s) => s >= base || s === ctx.maxBookings).sort((a, b) => a - b);
    }
    const loadBudgetSeconds = 240;

    const anon = await anonSql.reserve();
    await anon.unsafe(`set role anon`);
    await anon`select set_config('request.jwt.claims', ${JSON.stringify(ANON.claims)}, false)`;
    const owner = await ownerSql.reserve();

    const call = (sql: postgres.ReservedSql) =>
      sql`select * from slotbase.available_slots(${world.tenantId}, ${world.serviceId}, ${windowFrom}, ${windowTo})`;
    const count = (sql: postgres.ReservedSql) =>
      sql<{ n: number }[]>`select count(*)::int as n from slotbase.available_slots(${world.tenantId}, ${world.serviceId}, ${windowFrom}, ${windowTo})`;

    const samples: SlotsSample[] = [];
    const matrix: SlotsMatrixCell[] = [];
    const skipped: string[] = [];
    let lastStep: LoadStep | null = null;
    for (const size of sizes) {
      if (size < loader.count) {
        skipped.push(`${size}: below the fixed in-window bookings (${loader.count})`);
        continue;
      }
      if (ctx.maxBookings === null && lastStep && lastStep.added > 0) {
        const perRow = (lastStep.seconds + lastStep.vacuumAnalyzeSeconds) / lastStep.added;
        const predicted = perRow * (size - loader.count);
        if (predicted > loadBudgetSeconds) {
          skipped.push(`${size}: loading predicted ${predicted.toFixed(0)} s > budget ${loadBudgetSeconds} s`);
          ctx.log(`available_slots: skipping ${size} bookings (predicted load ${predicted.toFixed(0)} s)`);
          continue;
        }
      }
      ctx.log(`available_slots: loading history to ${size.toLocaleString('en-US')} bookings …`);
      let lastPrint = 0;
      const step = await loader.growTo(size, (done, of) => {
        if (Date.now() - lastPrint > 10_000) {
          lastPrint = Date.now();
          ctx.log(`  … ${done.toLocaleString('en-US')} / ${of.toLocaleString('en-US')} rows`);
        }
      });
      lastStep = step;
      ctx.log(
        `  loaded ${step.added.toLocaleString('en-US')} rows in ${step.seconds.toFixed(1)} s ` +
          `(${Math.round(step.rowsPerSecond).toLocaleString('en-US')}/s), vacuum analyze ${step.vacuumAnalyzeSeconds.toFixed(1)} s`,
      );

      // Warm up (plans, caches), then alternate the variants so they share the machine's noise.
      // The budget is strict: a slow function gets few samples rather than a long run.
      const t0 = now();
      const [first] = await count(anon);
      const rows = first!.n;
      const firstMs = msSince(t0);
      for (let i = 0; i < 3 && msSince(t0) < 2_000; i++) {
        await call(anon).raw();
        await count(anon);
        await count(owner);
      }
      const target = ctx.quick ? 30 : 150;
      const budgetMs = ctx.quick ? 4_000 : 20_000;
      const minSamples = 5;
      if (firstMs > 1_000) ctx.log(`  one call took ${firstMs.toFixed(0)} ms: sampling only ${minSamples} times`);
      const full: number[] = [];
      const cnt: number[] = [];
      const own: number[] = [];
      const t1 = now();
      for (let i = 0; i < target && (i < minSamples || msSince(t1) < budgetMs); i++) {
        let s = now();
        await call(anon).raw();
        full.push(msSince(s));
        s = now();
        await count(anon);
        cnt.push(msSince(s));
        if (i % 2 === 0) {
          s = now();
          await count(owner);
          own.push(msSince(s));
        }
      }
      const [counted] = await admin<{ bookings: number; claims: number }[]>`
        select (select count(*)::int from slotbase.bookings) as bookings,
               (select count(*)::int from slotbase.booking_claims
                where tenant_id = ${world.tenantId} and subject_id = any(${world.providerIds}::uuid[]) and is_active) as claims`;
      if (counted!.bookings !== loader.count) ctx.log(`  WARNING: ${counted!.bookings} bookings in the table, expected ${loader.count}`);
      const sample: SlotsSample = {
        bookings: counted!.bookings,
        providerClaims: counted!.claims,
        rows,
        expectedRows,
        anonFull: summarize(full),
        anonCount: summarize(cnt),
        ownerCount: summarize(own),
        load: step,
        explain: await explainAnalyze(
          ctx.url,
          ANON,
          `select count(*) from slotbase.available_slots($1, $2, $3, $4)`,
          [world.tenantId, world.serviceId, windowFrom, windowTo],
        ),
      };
      samples.push(sample);
      // The matrix: 1 provider (the first of the 5), 5 providers, 50 providers (another tenant) × 31 and 90 days.
      for (const [providers, tenantId, serviceId, provider] of [
        [1, world.tenantId, world.serviceId, world.providerIds[0]!],
        [5, world.tenantId, world.serviceId, null],
        [50, wide.tenantId, wide.serviceId, null],
      ] as const) {
        for (const days of [31, 90]) {
          const to = new Date(windowFrom.getTime() + days * DAY_MS);
          const q = () => anon`select * from slotbase.available_slots(${tenantId}, ${serviceId}, ${windowFrom}, ${to}, ${provider})`.raw();
          const firstRows = (await q()).length;
          const times: number[] = [];
          const started = now();
          for (let i = 0; i < (ctx.quick ? 10 : 30) && (i < 3 || msSince(started) < (ctx.quick ? 1_500 : 5_000)); i++) {
            const t = now();
            await q();
            times.push(msSince(t));
          }
          matrix.push({ bookings: sample.bookings, providers, days, rows: firstRows, latency: summarize(times) });
        }
      }
      ctx.log(`  matrix p95 (ms): ${matrix.filter((m) => m.bookings === sample.bookings).map((m) => `${m.providers}p×${m.days}d ${m.latency.p95.toFixed(1)}`).join(', ')}`);
      ctx.log(
        `  anon p50/p95/p99 ${sample.anonFull.p50.toFixed(2)}/${sample.anonFull.p95.toFixed(2)}/${sample.anonFull.p99.toFixed(2)} ms ` +
          `(count(*) p50 ${sample.anonCount.p50.toFixed(2)}, owner ${sample.ownerCount.p50.toFixed(2)}), ${rows} rows`,
      );
      if (rows !== expectedRows) ctx.log(`  WARNING: available_slots returned ${rows} rows, expected ${expectedRows}`);
    }
    anon.release();
    owner.release();

    const first = samples.find((s) => s.bookings >= base) ?? samples[0];
    const last = samples.at(-1);
    const growth =
      first && last && last !== first
        ? {
            from: first.bookings,
            to: last.bookings,
            p50: last.anonFull.p50 / first.anonFull.p50,
            p95: last.anonFull.p95 / first.anonFull.p95,
            countP50: last.anonCount.p50 / first.anonCount.p50,
            countP95: last.anonCount.p95 / first.anonCount.p95,
          }
        : null;

    // A missed target: capture the nested plans (function bodies included) at the largest size.
    const nestedPlans: SlotsResult['nestedPlans'] = [];
    const missed = last && (last.anonFull.p95 > 10 || (growth !== null && growth.p50 > 1.2));
    if (missed) {
      ctx.log('available_slots: target missed; capturing EXPLAIN (ANALYZE, BUFFERS) of the function body (auto_explain)');
      const statement = `select count(*) from slotbase.available_slots($1, $2, $3, $4)`;
      const params = [world.tenantId, world.serviceId, windowFrom, windowTo];
      nestedPlans.push({ caller: 'anon', bookings: last.bookings, plans: await explainNested(ctx.url, ANON, statement, params) });
      nestedPlans.push({ caller: 'owner', bookings: last.bookings, plans: await explainNested(ctx.url, null, statement, params) });
    }
    return {
      matrix,
      providers: world.providerIds.length,
      days: 90,
      stepMinutes: 15,
      windowFrom: windowFrom.toISOString(),
      windowTo: windowTo.toISOString(),
      timeZone: world.timeZone,
      samples,
      skipped,
      filledColumns: loader.filledColumns,
      growth,
      nestedPlans,
    };
  } finally {
    await Promise.all([admin, loaderSql, anonSql, ownerSql].map((s) => s.end({ timeout: 5 })));
  }
}

// ---------------------------------------------------------------------------------------------
// 2. create_booking throughput: under RLS as a staff member vs as the table owner

type Mode = 'owner' | 'owner-tx' | 'rls-1rt' | 'rls-3rt';

const MODE_DOC: Record<Mode, string> = {
  owner: 'table owner (superuser, RLS bypassed), one autocommit statement',
  'owner-tx': 'table owner, begin + call + commit pipelined in one round trip',
  'rls-1rt': 'staff owner under RLS: begin + set_config(role, claims) + call + commit pipelined in one round trip',
  'rls-3rt': 'staff owner under RLS: like postgres.js sql.begin — begin; (set_config + call); commit = 3 round trips',
};

export interface ModeResult {
  mode: Mode;
  description: string;
  calls: number;
  seconds: number;
  perSecond: number;
  latency: LatencySummary;
  errors: Record<string, number>;
  firstError?: ErrorInfo;
  /** Per measured round, calls per second. */
  rounds: number[];
}

export interface ThroughputResult {
  connections: number;
  providers: number;
  roundSeconds: number;
  rounds: number;
  modes: ModeResult[];
  /** rls-1rt / owner, median over rounds (each round runs every mode back to back). */
  ratio: number;
  /** rls-1rt / owner-tx: RLS + the role switch alone, same transaction shape. */
  ratioSameShape: number;
  /** rls-3rt / owner. */
  ratio3rt: number;
  nestedPlans: string[];
}

export async function benchCreateBooking(ctx: BenchContext): Promise<ThroughputResult> {
  const connections = 8;
  const perWorker = 8;
  const admin = connect(ctx.url, 1);
  const pool = connect(ctx.url, connections, { connection: { application_name: 'slotbase-bench-throughput' } });
  try {
    const world = await createWorld(admin, {
      slug: 'bench-throughput',
      providers: connections * perWorker,
      timeZone: 'UTC',
      maxAdvanceDays: 730,
    });
    const user = staff(world);
    const conns = await Promise.all(Array.from({ length: connections }, () => pool.reserve()));
    // The owner modes see the same claims (set once per session, no per-call cost), so the function
    // takes the same staff path; only RLS and the role switch differ.
    for (const c of conns) await c`select set_config('request.jwt.claims', ${JSON.stringify(user.claims)}, false)`;

    const firstDay = utcDay(1);
    const next = conns.map(() => 0);
    /** Distinct (provider, start) per call: each worker owns 8 providers, walks their days and slots. */
    const slotFor = (w: number): { providerId: string; startsAt: Date } => {
      const k = next[w]!++;
      const day = Math.floor(k / (perWorker * SLOTS_PER_DAY));
      const r = k % (perWorker * SLOTS_PER_DAY);
      const providerId = world.providerIds[w * perWorker + (r % perWorker)]!;
      const startsAt = new Date(firstDay + day * DAY_MS + 8 * 3600_000 + Math.floor(r / perWorker) * SLOT_MS);
      if (day >= 700) throw new Error('throughput benchmark ran out of distinct slots');
      return { providerId, startsAt };
    };
    const book = (sql: postgres.ReservedSql, slot: { providerId: string; startsAt: Date }) =>
      sql`select * from slotbase.create_booking(p_tenant_id => ${world.tenantId}, p_service_id => ${world.serviceId},
            p_starts_at => ${slot.startsAt}, p_provider_id => ${slot.providerId},
            p_contact_name => 'Bench Booker', p_contact_email => 'booker@bench.example')`;

    const once = async (mode: Mode, sql: postgres.ReservedSql, w: number): Promise<void> => {
      const slot = slotFor(w);
      if (mode === 'owner') {
        await book(sql, slot);
      } else if (mode === 'owner-tx') {
        await pipelinedTx(sql, null, (s) => book(s, slot));
      } else if (mode === 'rls-1rt') {
        await pipelinedTx(sql, user, (s) => book(s, slot));
      } else {
        await sql`begin`;
        try {
          await Promise.all([
            sql`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${JSON.stringify(user.claims)}, true)`,
            book(sql, slot),
          ]);
          await sql`commit`;
        } catch (error) {
          await sql`rollback`;
          throw error;
        }
      }
    };

    const totals = new Map<Mode, { calls: number; ms: number; lat: number[]; errors: Record<string, number>; firstError?: ErrorInfo; rounds: number[] }>();
    const modes: Mode[] = ['owner', 'rls-1rt', 'owner-tx', 'rls-3rt'];
    for (const m of modes) totals.set(m, { calls: 0, ms: 0, lat: [], errors: {}, rounds: [] });

    const runRound = async (mode: Mode, seconds: number, record: boolean) => {
      const t = totals.get(mode)!;
      const deadline = Date.now() + seconds * 1000;
      const start = now();
      let calls = 0;
      await Promise.all(
        conns.map(async (sql, w) => {
          while (Date.now() < deadline) {
            const s = now();
            try {
              await once(mode, sql, w);
              calls++;
              if (record) t.lat.push(msSince(s));
            } catch (error) {
              const code = sqlState(error);
              if (record) {
                t.errors[code] = (t.errors[code] ?? 0) + 1;
                t.firstError ??= errorInfo(error);
              }
              if (code === '?') throw error;
            }
          }
        }),
      );
      const ms = msSince(start);
      if (record) {
        t.calls += calls;
        t.ms += ms;
        t.rounds.push((calls / ms) * 1000);
      }
    };

    const roundSeconds = ctx.quick ? 1.5 : 3;
    const rounds = ctx.quick ? 2 : 3;
    ctx.log(`create_booking: warm-up, then ${rounds} rounds × ${modes.length} modes × ${roundSeconds} s with ${connections} connections`);
    for (const m of modes) await runRound(m, ctx.quick ? 0.5 : 1, false);
    for (let r = 0; r < rounds; r++) {
      // Rotate the order so no mode always runs first (warmer caches) or last (bigger tables).
      const order = modes.map((_, i) => modes[(i + r) % modes.length]!);
      for (const m of order) await runRound(m, roundSeconds, true);
      ctx.log(
        `  round ${r + 1}: ` +
          modes.map((m) => `${m} ${Math.round(totals.get(m)!.rounds.at(-1)!).toLocaleString('en-US')}/s`).join(', '),
      );
    }
    for (const c of conns) c.release();

    const results: ModeResult[] = modes.map((m) => {
      const t = totals.get(m)!;
      const res: ModeResult = {
        mode: m,
        description: MODE_DOC[m],
        calls: t.calls,
        seconds: t.ms / 1000,
        perSecond: (t.calls / t.ms) * 1000,
        latency: summarize(t.lat),
        errors: t.errors,
        rounds: t.rounds,
      };
      if (t.firstError) res.firstError = t.firstError;
      return res;
    });
    const roundRatio = (a: Mode, b: Mode) =>
      median(totals.get(a)!.rounds.map((x, i) => x / totals.get(b)!.rounds[i]!));
    const ratio = roundRatio('rls-1rt', 'owner');

    let nestedPlans: string[] = [];
    if (ratio < 0.9) {
      ctx.log('create_booking: RLS overhead above target; capturing the nested plans of one call (auto_explain)');
      const slot = slotFor(0);
      const statement = `select * from slotbase.create_booking(p_tenant_id => $1, p_service_id => $2, p_starts_at => $3,
        p_provider_id => $4, p_contact_name => 'Bench Booker', p_contact_email => 'booker@bench.example')`;
      const params = [world.tenantId, world.serviceId, slot.startsAt, slot.providerId];
      nestedPlans = [
        '-- as the staff owner under RLS --',
        ...(await explainNested(ctx.url, user, statement, params)),
        '-- as the table owner --',
        ...(await explainNested(ctx.url, null, statement, params)),
      ];
    }
    return {
      connections,
      providers: world.providerIds.length,
      roundSeconds,
      rounds,
      modes: results,
      ratio,
      ratioSameShape: roundRatio('rls-1rt', 'owner-tx'),
      ratio3rt: roundRatio('rls-3rt', 'owner'),
      nestedPlans,
    };
  } finally {
    await pool.end({ timeout: 5 });
    await admin.end({ timeout: 5 });
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Contention: 32 connections racing for 20 slots of one provider

export interface ContentionResult {
  connections: number;
  slots: number;
  caller: string;
  rounds: number;
  incompleteRounds: number;
  raceSeconds: number;
  attempts: number;
  attemptsPerSecond: number;
  successes: number;
  slotTaken: number;
  deadlocks: number;
  otherErrors: Record<string, number>;
  latency: LatencySummary;
  firstDeadlock?: ErrorInfo;
  firstOtherError?: ErrorInfo;
  /** pg_stat_activity samples of the racing connections, by wait event (CPU = active, no wait). */
  waits: Record<string, number>;
  overlappingActiveClaims: number;
  resetMethod: string;
  nestedPlans: string[];
}

export async function benchContention(ctx: BenchContext): Promise<ContentionResult> {
  const connections = 32;
  const slotCount = 20;
  const admin = connect(ctx.url, 1);
  const pool = connect(ctx.url, connections, { connection: { application_name: 'slotbase-bench-race' } });
  const monitor = connect(ctx.url, 1);
  try {
    const world = await createWorld(admin, { slug: 'bench-contention', providers: 1, timeZone: 'UTC', maxAdvanceDays: 100 });
    const providerId = world.providerIds[0]!;
    const day = utcDay(2);
    const slots = Array.from({ length: slotCount }, (_, i) => new Date(day + 8 * 3600_000 + i * SLOT_MS));
    const conns = await Promise.all(Array.from({ length: connections }, () => pool.reserve()));
    const book = (sql: postgres.ReservedSql, startsAt: Date) =>
      sql<{ id: string; manage_token: string }[]>`select id, manage_token from slotbase.create_booking(
            p_tenant_id => ${world.tenantId}, p_service_id => ${world.serviceId},
            p_starts_at => ${startsAt}, p_provider_id => ${providerId},
            p_contact_name => 'Racer', p_contact_email => 'racer@bench.example')`;

    // Reset: cancel what a round booked — as the booker with the manage token (the public path);
    // if that is refused, as the tenant's owner.
    let resetMethod = 'cancel_booking as anon with the manage token';
    const cancel = async (sql: postgres.ReservedSql, r: { id: string; manage_token: string }) => {
      try {
        await pipelinedTx(sql, ANON, (s) => s`select 1 from slotbase.cancel_booking(p_booking_id => ${r.id}, p_reason => 'bench reset', p_manage_token => ${r.manage_token})`);
      } catch (error) {
        resetMethod = `cancel_booking as the tenant owner (anon + manage token failed: ${sqlState(error)})`;
        await pipelinedTx(sql, staff(world), (s) => s`select 1 from slotbase.cancel_booking(p_booking_id => ${r.id}, p_reason => 'bench reset')`);
      }
    };

    const lat: number[] = [];
    let attempts = 0;
    let successes = 0;
    let slotTaken = 0;
    let deadlocks = 0;
    const otherErrors: Record<string, number> = {};
    let firstDeadlock: ErrorInfo | undefined;
    let firstOtherError: ErrorInfo | undefined;
    const waits: Record<string, number> = {};
    let racing = false;
    let monitoring = true;
    const monitorLoop = (async () => {
      while (monitoring) {
        if (racing) {
          const rows = await monitor<{ wait: string; n: number }[]>`
            select coalesce(wait_event_type || ':' || wait_event, 'CPU') as wait, count(*)::int as n
            from pg_stat_activity
            where application_name = 'slotbase-bench-race' and state = 'active'
            group by 1`;
          for (const r of rows) waits[r.wait] = (waits[r.wait] ?? 0) + r.n;
        }
        await sleep(100);
      }
    })();

    const budgetMs = ctx.quick ? 4_000 : 15_000;
    const roundTimeoutMs = 10_000;
    let raceMs = 0;
    let rounds = 0;
    let incompleteRounds = 0;
    ctx.log(`contention: ${connections} connections racing for ${slotCount} slots of one provider for ~${budgetMs / 1000} s`);
    // Warm-up: one uncontended booking per connection's prepared statements is not needed; one round is.
    for (let warm = true; ; warm = false) {
      const taken: { id: string; manage_token: string }[] = [];
      let done = false;
      const roundDeadline = Date.now() + roundTimeoutMs;
      racing = !warm;
      const start = now();
      await Promise.all(
        conns.map(async (sql) => {
          while (!done && Date.now() < roundDeadline) {
            const startsAt = slots[Math.floor(Math.random() * slotCount)]!;
            const s = now();
            let outcome: 'ok' | 'taken' | 'deadlock' | 'other' = 'ok';
            try {
              const [r] = await pipelinedTx(sql, ANON, (c) => book(c, startsAt));
              taken.push(r!);
              if (taken.length >= slotCount) done = true;
            } catch (error) {
              const code = sqlState(error);
              if (code === '23P01' || code === 'SBTAK') outcome = 'taken';
              else if (code === '40P01') {
                outcome = 'deadlock';
                firstDeadlock ??= errorInfo(error);
              } else {
                outcome = 'other';
                if (!warm) otherErrors[code] = (otherErrors[code] ?? 0) + 1;
                firstOtherError ??= errorInfo(error);
                if (code === '?') throw error;
              }
            }
            if (warm) continue;
            lat.push(msSince(s));
            attempts++;
            if (outcome === 'ok') successes++;
            else if (outcome === 'taken') slotTaken++;
            else if (outcome === 'deadlock') deadlocks++;
          }
        }),
      );
      racing = false;
      if (!warm) {
        raceMs += msSince(start);
        rounds++;
        if (!done) incompleteRounds++;
      }
      if (!done && Object.keys(otherErrors).length > 0 && taken.length === 0) {
        ctx.log(`  contention: no booking succeeded in a round; first error ${JSON.stringify(firstOtherError)}`);
      }
      // Reset between rounds: cancel everything this round booked (spread over the connections).
      await Promise.all(
        conns.map(async (sql, i) => {
          for (let k = i; k < taken.length; k += conns.length) await cancel(sql, taken[k]!);
        }),
      );
      if (!warm && (raceMs >= budgetMs || (!done && successes === 0))) break;
    }
    monitoring = false;
    await monitorLoop;
    for (const c of conns) c.release();

    const [overlap] = await admin<{ n: number }[]>`
      select count(*)::int as n
      from slotbase.booking_claims as a join slotbase.booking_claims as b
        on a.tenant_id = b.tenant_id and a.subject_id = b.subject_id and a.id < b.id and a.busy && b.busy
      where a.tenant_id = ${world.tenantId} and a.is_active and b.is_active`;

    const latency = summarize(lat);
    let nestedPlans: string[] = [];
    if (deadlocks > 0 || latency.p99 > 100) {
      ctx.log('contention: target missed; capturing the nested plans of one uncontended call (auto_explain)');
      const statement = `select * from slotbase.create_booking(p_tenant_id => $1, p_service_id => $2, p_starts_at => $3,
        p_provider_id => $4, p_contact_name => 'Racer', p_contact_email => 'racer@bench.example')`;
      nestedPlans = await explainNested(ctx.url, ANON, statement, [
        world.tenantId,
        world.serviceId,
        new Date(utcDay(3) + 8 * 3600_000),
        providerId,
      ]);
    }
    const result: ContentionResult = {
      connections,
      slots: slotCount,
      caller: 'anon (public booker), begin + set_config + create_booking + commit pipelined in one round trip',
      rounds,
      incompleteRounds,
      raceSeconds: raceMs / 1000,
      attempts,
      attemptsPerSecond: (attempts / raceMs) * 1000,
      successes,
      slotTaken,
      deadlocks,
      otherErrors,
      latency,
      waits,
      overlappingActiveClaims: overlap!.n,
      resetMethod,
      nestedPlans,
    };
    if (firstDeadlock) result.firstDeadlock = firstDeadlock;
    if (firstOtherError) result.firstOtherError = firstOtherError;
    return result;
  } finally {
    await Promise.all([pool, monitor, admin].map((s) => s.end({ timeout: 5 })));
  }
}
