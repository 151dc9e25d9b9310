/**
 * `npm run bench [-- --quick] [-- --max-bookings N]` — booking engine benchmarks on real PostgreSQL.
 *
 * Creates `slotbase_bench_<random>` on DATABASE_URL's server (default
 * postgres://postgres@127.0.0.1:5432/postgres, a superuser), migrates it, runs
 *   1. available_slots latency at growing table sizes (anon, public service),
 *   2. create_booking throughput under RLS vs as the table owner (8 connections),
 *   3. 32 connections racing for 20 slots of one provider,
 *   4. the HTTP API (`slotbase serve` in a child process) vs the same SQL functions called directly:
 *      booking and seat throughput at 8 and 32 connections, public slots latency, the API's memory
 *      (bench/http.ts; in a database of its own when other benchmarks ran before it),
 * prints Markdown tables with ratios, writes bench/results/<date>.json and .md (quick, --only and
 * custom-migration runs: <date>-quick.*, <date>-only-….*, <date>-custom-migrations.*), and drops the database(s). Never part of `npm test`; never asserts.
 *
 * Options: --quick (smaller sizes, ~1.5 min), --max-bookings N (largest table for available_slots;
 * without it 10⁶ is skipped when loading would take more than 4 minutes), --only
 * slots,throughput,contention,http. SLOTBASE_BENCH_MIGRATIONS_DIR=<dir> benchmarks another migrations
 * folder (e.g. a candidate fix) without touching supabase/migrations.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { migrate } from '#src/db/migrate.ts';
import { benchAvailableSlots, benchContention, benchCreateBooking, type BenchContext } from './booking-engine.ts';
import { benchHttp } from './http.ts';
import { benchWorker } from './worker.ts';
import { benchPgbench } from './pgbench.ts';
import { writeHtmlReport } from './report-html.ts';
import { connect, createBenchDatabase, DEFAULT_DATABASE_URL, type BenchDatabase } from './lib/pg.ts';
import { msSince, now } from './lib/stats.ts';
import { renderMarkdown, targetsOf, type Machine, type Results } from './report.ts';

interface Args {
  /** --report [file]: render a results file as HTML with charts, run nothing. */
  report: string | true | null;
  quick: boolean;
  maxBookings: number | null;
  only: string[] | null;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { report: null, quick: false, maxBookings: null, only: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--report') args.report = argv[i + 1]?.endsWith('.json') ? argv[++i]! : true;
    else if (a === '--quick') args.quick = true;
    else if (a === '--max-bookings' || a.startsWith('--max-bookings=')) {
      const n = Number(value().replace(/_/g, ''));
      if (!Number.isInteger(n) || n < 1000) throw new Error('--max-bookings must be an integer ≥ 1000');
      args.maxBookings = n;
    } else if (a === '--only' || a.startsWith('--only=')) {
      args.only = value().split(',');
      const known = ['slots', 'throughput', 'contention', 'pgbench', 'http', 'worker'];
      const unknown = args.only.filter((o) => !known.includes(o));
      if (unknown.length) throw new Error(`--only: unknown benchmark ${unknown.join(', ')} (known: ${known.join(', ')})`);
    } else if (a === '--help' || a === '-h') {
      console.log('usage: npm run bench [-- --quick] [--max-bookings N] [--only slots,throughput,contention,pgbench,http,worker] | --report [results.json]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

const started = now();
const log = (message: string) => console.error(`[bench ${(msSince(started) / 1000).toFixed(0).padStart(4)}s] ${message}`);

async function machineInfo(url: string): Promise<Machine> {
  const sql = connect(url, 1);
  try {
    const [v] = await sql<{ version: string }[]>`select version()`;
    const settings = await sql<{ name: string; setting: string; unit: string | null }[]>`
      select name, setting, unit from pg_settings
      where name in ('shared_buffers', 'work_mem', 'max_connections', 'synchronous_commit', 'jit', 'deadlock_timeout', 'random_page_cost')
      order by name`;
    const cpus = os.cpus();
    return {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model.trim() ?? 'unknown',
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      os: `${os.type()} ${os.release()}`,
      node: process.version,
      postgres: (v?.version ?? '').split(' on ')[0] ?? '',
      settings: Object.fromEntries(
        settings.map((s) => [s.name, s.unit === '8kB' ? `${(Number(s.setting) * 8) / 1024}MB` : `${s.setting}${s.unit ?? ''}`]),
      ),
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.report) {
    const out = await writeHtmlReport(args.report === true ? undefined : args.report);
    console.log(`wrote ${out}`);
    return 0;
  }
  const serverUrl = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
  const startedAt = new Date();
  const date = startedAt.toISOString().slice(0, 10);
  const durations: Record<string, number> = {};

  const db = await createBenchDatabase(serverUrl, log);
  log(`database ${db.name} on ${new URL(serverUrl).host}`);
  /** Databases of single benchmarks (http), dropped with the main one. */
  const extraDbs: BenchDatabase[] = [];
  let dropping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (dropping) return;
    dropping = true;
    log(`${signal}: dropping ${[db, ...extraDbs].map((d) => d.name).join(', ')}`);
    Promise.allSettled([db, ...extraDbs].map((d) => d.drop())).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const t = now();
    // SLOTBASE_BENCH_MIGRATIONS_DIR: benchmark another migrations folder (e.g. a candidate fix).
    const dir = process.env.SLOTBASE_BENCH_MIGRATIONS_DIR || undefined;
    const migrated = await migrate({ databaseUrl: db.url, ...(dir ? { dir } : {}) });
    durations.migrate = msSince(t) / 1000;
    log(`migrated: ${migrated.applied.join(', ')}`);
    if (!migrated.applied.some((m) => m.includes('booking_engine'))) {
      log('WARNING: no booking_engine migration was applied; the benchmarks will fail');
    }

    const ctx: BenchContext = { url: db.url, quick: args.quick, maxBookings: args.maxBookings, log };
    const machine = await machineInfo(db.url);
    const runOne = async <T>(name: string, key: string, fn: () => Promise<T>): Promise<T | { error: string } | null> => {
      if (args.only && !args.only.includes(key)) return null;
      const s = now();
      try {
        return await fn();
      } catch (error) {
        log(`${name} failed: ${(error as Error).stack ?? error}`);
        return { error: `${(error as { code?: string }).code ?? ''} ${(error as Error).message}`.trim() };
      } finally {
        durations[key] = msSince(s) / 1000;
      }
    };

    const availableSlots = await runOne('available_slots', 'slots', () => benchAvailableSlots(ctx));
    const createBooking = await runOne('create_booking', 'throughput', () => benchCreateBooking(ctx));
    const contention = await runOne('contention', 'contention', () => benchContention(ctx));
    const pgbench = await runOne('pgbench', 'pgbench', () => benchPgbench(ctx));
    // The HTTP benchmark measures slots at a fixed history size: after the others it gets a fresh database.
    const http = await runOne('http', 'http', async () => {
      if (availableSlots === null && createBooking === null && contention === null) return benchHttp(ctx);
      const own = await createBenchDatabase(serverUrl, log);
      extraDbs.push(own);
      try {
        await migrate({ databaseUrl: own.url, ...(dir ? { dir } : {}) });
        log(`http: database ${own.name}, migrated`);
        return await benchHttp({ ...ctx, url: own.url });
      } finally {
        await own.drop().catch((e) => log(`could not drop ${own.name}: ${(e as Error).message}`));
      }
    });
    // The worker benchmark parks and deletes jobs: it gets a database of its own too.
    const worker = await runOne('worker', 'worker', async () => {
      const own = await createBenchDatabase(serverUrl, log);
      extraDbs.push(own);
      try {
        await migrate({ databaseUrl: own.url, ...(dir ? { dir } : {}) });
        log(`worker: database ${own.name}, migrated`);
        return await benchWorker({ ...ctx, url: own.url });
      } finally {
        await own.drop().catch((e) => log(`could not drop ${own.name}: ${(e as Error).message}`));
      }
    });
    durations.total = msSince(started) / 1000;

    const results: Results = {
      date,
      startedAt: startedAt.toISOString(),
      quick: args.quick,
      maxBookings: args.maxBookings,
      database: db.name,
      machine,
      migrations: migrated.applied,
      durations,
      availableSlots,
      createBooking,
      contention,
      pgbench,
      http,
      worker,
      targets: [],
    };
    results.targets = targetsOf(results);
    const markdown = renderMarkdown(results);
    const dirOut = fileURLToPath(new URL('./results/', import.meta.url));
    await mkdir(dirOut, { recursive: true });
    // Partial or custom-migration runs never overwrite a full run's files.
    const suffix = [args.quick ? 'quick' : '', args.only ? `only-${args.only.join('-')}` : '', dir ? 'custom-migrations' : '']
      .filter(Boolean)
      .join('-');
    const base = `${dirOut}${date}${suffix ? `-${suffix}` : ''}`;
    await writeFile(`${base}.json`, `${JSON.stringify(results, null, 2)}\n`);
    await writeFile(`${base}.md`, `${markdown}\n`);
    console.log(markdown);
    await writeHtmlReport(`${base}.json`);
    log(`wrote ${base}.json, ${base}.md and ${base}.html (charts)`);
    return 0;
  } finally {
    if (!dropping) {
      dropping = true;
      for (const d of [db, ...extraDbs]) await d.drop().catch((e) => log(`could not drop ${d.name}: ${(e as Error).message}`));
      log(`dropped ${db.name}`);
    }
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
