/**
 * `npm run torture [-- --connections 50 --operations 5000 --tenants 3 --seconds N --seed S]`
 *
 * Creates a throwaway `slotbase_bench_<random>` database on DATABASE_URL's server (default
 * postgres://postgres@127.0.0.1:5432/postgres, a superuser), migrates it, arranges several tenants
 * (providers, rooms, appointment and group services with sessions), then N real connections issue
 * random operations AS USERS through the SQL functions the API calls (test/support/torture.ts):
 * book (public and staff), hold, join a session with a party, cancel and reschedule (manage token
 * and staff), confirm, reject, expire holds (the worker), and cross-tenant attempts. Afterwards it
 * checks the whole database with SQL: no overlapping active claims per subject; seats_taken = the
 * sum of active party sizes; every active booking has exactly its claims; held/pending/confirmed
 * bookings have their hold/approval/reminder jobs and ended ones none; nothing references another
 * tenant's rows; the audit trail is a complete chain ending at each booking's status; and no caller
 * ever saw a 40P01 deadlock or any SQLSTATE outside the documented domain errors, and every
 * cross-tenant attempt failed with SBNF1.
 *
 * Prints outcome counts by operation and SQLSTATE and the invariant table; exits 1 when anything
 * failed. SLOTBASE_BENCH_MIGRATIONS_DIR=<dir> runs against another migrations folder (e.g. one
 * with a guarantee removed, to see the run fail). --keep leaves the database for inspection.
 */
import { migrate } from '#src/db/migrate.ts';
import { connect, createBenchDatabase, DEFAULT_DATABASE_URL } from './lib/pg.ts';
import {
  createTortureWorld,
  outcomeTable,
  queryable,
  runTorture,
  tortureViolations,
  unexpectedOutcomes,
  type TortureOptions,
} from '../test/support/torture.ts';

interface Args extends TortureOptions {
  tenants: number;
  keep: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { connections: 50, operations: 5000, tenants: 3, seed: Date.now() % 1_000_000, keep: false };
  let operationsGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const number = (min: number) => {
      const v = Number((inline ?? argv[++i] ?? '').replace(/_/g, ''));
      if (!Number.isInteger(v) || v < min) throw new Error(`${flag} needs an integer ≥ ${min}`);
      return v;
    };
    if (flag === '--connections') args.connections = number(1);
    else if (flag === '--operations') {
      args.operations = number(1);
      operationsGiven = true;
    } else if (flag === '--tenants') args.tenants = number(2);
    else if (flag === '--seconds') args.seconds = number(1);
    else if (flag === '--seed') args.seed = number(0);
    else if (flag === '--keep') args.keep = true;
    else if (flag === '--help' || flag === '-h') {
      console.log('usage: npm run torture [-- --connections 50 --operations 5000 --tenants 3 --seconds N --seed S --keep]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  // --seconds alone runs for that long; with --operations too, whichever comes first.
  if (args.seconds && !operationsGiven) args.operations = Number.MAX_SAFE_INTEGER;
  return args;
}

function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join(' | ')} |`;
  return [line(header), `|${widths.map((w, c) => (c === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const serverUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const dir = process.env.SLOTBASE_BENCH_MIGRATIONS_DIR;
  const log = (m: string) => console.log(`[torture] ${m}`);
  const db = await createBenchDatabase(serverUrl, log);
  log(`database ${db.name}; seed ${args.seed}; ${args.connections} connections, ${args.tenants} tenants, ` +
    `${args.operations === Number.MAX_SAFE_INTEGER ? 'no operation limit' : `${args.operations} operations`}${args.seconds ? `, at most ${args.seconds} s` : ''}`);
  const sql = connect(db.url, args.connections + 2, { connection: { application_name: 'slotbase-torture' } });
  try {
    await migrate({ databaseUrl: db.url, ...(dir ? { dir } : {}) });
    const world = await createTortureWorld(sql, args.tenants);
    const started = performance.now();
    const ops = await runTorture(sql, world, args);
    const seconds = (performance.now() - started) / 1000;
    log(`${ops.length} operations in ${seconds.toFixed(1)} s (${(ops.length / seconds).toFixed(0)}/s)`);

    const outcomes = outcomeTable(ops);
    const codes = [...new Set([...outcomes.values()].flatMap((m) => [...m.keys()]))].sort((a, b) => (a === 'ok' ? -1 : b === 'ok' ? 1 : a.localeCompare(b)));
    console.log('\nOutcomes by operation (ok or SQLSTATE):\n');
    console.log(table(['operation', ...codes, 'total'], [...outcomes.entries()].sort().map(([op, m]) => [op, ...codes.map((c) => m.get(c) ?? 0), [...m.values()].reduce((a, b) => a + b, 0)])));

    const unexpected = unexpectedOutcomes(ops);
    const violations = await tortureViolations(queryable(sql));
    const checks: [string, number][] = [
      ['overlappingActiveClaims', 0], ['sessionSeatMismatches', 0], ['bookingClaimMismatches', 0], ['claimWindowMismatches', 0],
      ['sessionClaimMismatches', 0], ['bookingsWithoutEvents', 0], ['bookingsWithoutEventForStatus', 0], ['jobMismatches', 0],
      ['crossTenantReferences', 0], ['auditTrailGaps', 0],
    ].map(([name]) => [name as string, violations[name as string]?.length ?? 0]);
    checks.push(['deadlocks (40P01) seen by callers', ops.filter((o) => o.code === '40P01').length]);
    checks.push(['unexpected outcomes (other codes, cross-tenant not SBNF1)', unexpected.length]);
    const [counts] = await sql<{ bookings: number; active: number; events: number; jobs: number }[]>`
      select (select count(*) from slotbase.bookings)::int as bookings,
             (select count(*) from slotbase.bookings where status in ('held', 'pending', 'confirmed'))::int as active,
             (select count(*) from slotbase.booking_events)::int as events,
             (select count(*) from graphile_worker.jobs)::int as jobs`;
    console.log(`\nInvariants (violations; ${counts!.bookings} bookings, ${counts!.active} active, ${counts!.events} events, ${counts!.jobs} jobs):\n`);
    console.log(table(['invariant', 'violations', 'result'], checks.map(([n, v]) => [n, v, v === 0 ? 'ok' : 'FAIL'])));
    const failed = checks.filter(([, v]) => v > 0);
    for (const [name, rows] of Object.entries(violations)) console.log(`\n${name}, first rows:\n${JSON.stringify(rows.slice(0, 5), null, 1)}`);
    if (unexpected.length) console.log(`\nunexpected outcomes, first ones:\n${JSON.stringify(unexpected.slice(0, 10), null, 1)}`);
    const kinds = new Set(ops.filter((o) => o.ok).map((o) => o.op));
    log(`operations that succeeded at least once: ${[...kinds].sort().join(', ')}`);
    log(failed.length ? `FAILED: ${failed.map(([n]) => n).join('; ')} (seed ${args.seed})` : 'all invariants hold');
    return failed.length ? 1 : 0;
  } finally {
    await sql.end({ timeout: 5 });
    if (args.keep) log(`kept ${db.url}`);
    else await db.drop();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(2);
  },
);
