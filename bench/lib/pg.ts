import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

/** Rows as postgres.js returns them. */
export type Row = Record<string, unknown>;

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** `postgres://…/other` from `postgres://…/db?x` — the same server, another database. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export function connect(url: string, max: number, options: postgres.Options<{}> = {}): postgres.Sql {
  return postgres(url, {
    max,
    onnotice: () => {},
    idle_timeout: 0,
    connect_timeout: 30,
    connection: { application_name: 'slotbase-bench' },
    ...options,
  });
}

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

const STARTED_COMMENT = 'slotbase bench, started ';

/**
 * Creates `slotbase_bench_<random>` on the server; drop() removes it (forcing out stragglers).
 * Its comment records when it was made, so a later run drops what a killed run left behind
 * (only databases of this naming scheme older than two hours).
 */
export async function createBenchDatabase(serverUrl: string, log: (m: string) => void = () => {}): Promise<BenchDatabase> {
  const name = `slotbase_bench_${randomBytes(4).toString('hex')}`;
  const admin = connect(serverUrl, 1);
  try {
    const stale = await admin<{ datname: string }[]>`
      select d.datname from pg_database as d
      where d.datname ~ '^slotbase_bench_[0-9a-f]{8}$'
        and shobj_description(d.oid, 'pg_database') like ${STARTED_COMMENT + '%'}
        and substr(shobj_description(d.oid, 'pg_database'), ${STARTED_COMMENT.length + 1})::timestamptz < now() - interval '2 hours'`;
    for (const { datname } of stale) {
      log(`dropping ${datname}, left behind by an earlier run`);
      await admin.unsafe(`drop database if exists ${datname} with (force)`);
    }
    await admin.unsafe(`create database ${name}`);
    await admin.unsafe(`comment on database ${name} is '${STARTED_COMMENT}${new Date().toISOString()}'`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  let dropped = false;
  return {
    name,
    url: withDatabase(serverUrl, name),
    async drop() {
      if (dropped) return;
      dropped = true;
      const a = connect(serverUrl, 1);
      try {
        await a.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await a.end({ timeout: 5 });
      }
    },
  };
}

/** SQLSTATE of a failed statement ('?' when it is not a server error). */
export function sqlState(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' ? code : '?';
}

export interface ErrorInfo {
  code: string;
  message: string;
  detail?: string;
  hint?: string;
  where?: string;
  constraint?: string;
}

export function errorInfo(error: unknown): ErrorInfo {
  const e = error as { message?: string; detail?: string; hint?: string; where?: string; constraint_name?: string };
  const info: ErrorInfo = { code: sqlState(error), message: e?.message ?? String(error) };
  if (e?.detail) info.detail = e.detail;
  if (e?.hint) info.hint = e.hint;
  if (e?.where) info.where = e.where;
  if (e?.constraint_name) info.constraint = e.constraint_name;
  return info;
}

/** Who a transaction runs as: null = the connection's own role (the superuser / table owner). */
export interface Caller {
  role: 'anon' | 'authenticated';
  claims: Record<string, unknown>;
}

/**
 * One transaction in ONE network round trip: `begin`, `set_config(role, claims)`, the call and
 * `commit` are written back to back on a reserved connection (postgres.js pipelines them; each
 * carries its own Sync, so when the call fails the `commit` answers ROLLBACK and the connection
 * stays usable). This is the cheapest way the API can become the caller under RLS.
 */
export async function pipelinedTx<T extends readonly Row[]>(
  conn: postgres.ReservedSql,
  caller: Caller | null,
  call: (sql: postgres.ReservedSql) => postgres.PendingQuery<T>,
): Promise<T> {
  const queries: Promise<unknown>[] = [conn`begin`];
  if (caller) {
    queries.push(
      conn`select set_config('role', ${caller.role}, true), set_config('request.jwt.claims', ${JSON.stringify(caller.claims)}, true)`,
    );
  }
  const main = call(conn);
  queries.push(main, conn`commit`);
  const settled = await Promise.allSettled(queries);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return (settled[settled.length - 2] as PromiseFulfilledResult<T>).value;
}

/**
 * Runs `fn` in a transaction as `caller` on a fresh connection and rolls it back, after the
 * superuser-only `setup` statements (e.g. auto_explain settings) ran at session level.
 */
async function inRolledBackTx<T>(
  url: string,
  caller: Caller | null,
  setup: string[],
  fn: (sql: postgres.ReservedSql) => Promise<T>,
  onnotice?: (n: postgres.Notice) => void,
  warmups = 0,
): Promise<T> {
  const sql = connect(url, 1, onnotice ? { onnotice } : {});
  try {
    const reserved = await sql.reserve();
    const once = async () => {
      await reserved.unsafe('begin');
      try {
        if (caller) {
          await reserved`select set_config('role', ${caller.role}, true), set_config('request.jwt.claims', ${JSON.stringify(caller.claims)}, true)`;
        }
        return await fn(reserved);
      } finally {
        await reserved.unsafe('rollback');
      }
    };
    try {
      // Warm the session's plan caches first (plpgsql caches plans per session), rolled back too.
      for (let i = 0; i < warmups; i++) await once();
      for (const statement of setup) await reserved.unsafe(statement);
      return await once();
    } finally {
      reserved.release();
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * The plans of every statement a call runs, nested ones included (plpgsql/sql function bodies),
 * with actual times and buffers: auto_explain, logged to this client (client_min_messages = log).
 * The auto_explain settings are superuser-only, so they are set before becoming the caller.
 * The call runs three times first (rolled back) so the capture shows a warm session.
 */
export async function explainNested(
  url: string,
  caller: Caller | null,
  statement: string,
  params: unknown[] = [],
): Promise<string[]> {
  const plans: string[] = [];
  try {
    await inRolledBackTx(
      url,
      caller,
      [
        `load 'auto_explain'`,
        'set auto_explain.log_min_duration = 0',
        'set auto_explain.log_analyze = on',
        'set auto_explain.log_buffers = on',
        'set auto_explain.log_timing = on',
        'set auto_explain.log_nested_statements = on',
        'set auto_explain.log_format = text',
        'set client_min_messages = log',
      ],
      (sql) => sql.unsafe(statement, params as postgres.ParameterOrJSON<never>[]),
      (n) => {
        const message = String(n.message ?? '');
        if (message.includes('plan:')) plans.push(message);
      },
      3,
    );
  } catch (error) {
    plans.push(`auto_explain capture failed: ${(error as Error).message}`);
  }
  return plans;
}

/** EXPLAIN (ANALYZE, BUFFERS) text of one statement, run as `caller`, rolled back. */
export async function explainAnalyze(
  url: string,
  caller: Caller | null,
  statement: string,
  params: unknown[] = [],
): Promise<string> {
  try {
    return await inRolledBackTx(url, caller, [], async (sql) => {
      const rows = await sql.unsafe(`explain (analyze, buffers) ${statement}`, params as postgres.ParameterOrJSON<never>[]);
      return rows.map((r) => String(Object.values(r)[0])).join('\n');
    });
  } catch (error) {
    return `EXPLAIN failed: ${(error as Error).message}`;
  }
}
