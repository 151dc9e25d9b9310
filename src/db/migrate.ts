import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Logger as WorkerLogger, runMigrations as runWorkerMigrations } from 'graphile-worker';
import postgres from 'postgres';
import type { Logger } from '#src/lib/logger.ts';

/** `supabase/migrations` of this checkout. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../supabase/migrations/', import.meta.url));

/** Every runner takes this session-level advisory lock first, so two processes never migrate at once. */
export const MIGRATION_LOCK_KEY = 7_512_004_331n;

const FILE_NAME = /^(\d{14})_[a-z0-9_]+\.sql$/;

export interface MigrationFile {
  name: string;
  checksum: string;
  sql: string;
}

export interface MigrateResult {
  /** Files applied by this run, in order. */
  applied: string[];
  /** Files that were already applied before this run. */
  alreadyApplied: number;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
  constructor(
    message: string,
    /** Stable reason, for callers and tests: `edited`, `out_of_order`, `bad_name`, `failed`. */
    readonly reason: 'edited' | 'out_of_order' | 'bad_name' | 'failed',
    readonly files: string[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export function checksum(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

/** Reads `YYYYMMDDHHmmss_what.sql` files in name order; any other `.sql` name is an error. */
export async function readMigrations(dir: string = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.sql')).sort();
  const bad = names.filter((n) => !FILE_NAME.test(n));
  if (bad.length > 0) {
    throw new MigrationError(
      `migration file names must look like YYYYMMDDHHmmss_snake_case.sql: ${bad.join(', ')}`,
      'bad_name',
      bad,
    );
  }
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(dir, name), 'utf8');
      return { name, checksum: checksum(sql), sql };
    }),
  );
}

/**
 * Brings a database up to date:
 * 1. takes a session advisory lock (a second runner waits, then finds nothing to do);
 * 2. installs graphile-worker's schema first, so migrations' triggers can call
 *    `graphile_worker.add_job` on every engine (PGlite included);
 * 3. refuses to run if an applied file was edited or a new file sorts before an applied one;
 * 4. applies each pending file in its own transaction and records name + checksum.
 */
export async function migrate(options: {
  databaseUrl: string;
  dir?: string;
  logger?: Logger;
}): Promise<MigrateResult> {
  const { databaseUrl, dir = MIGRATIONS_DIR, logger } = options;
  const files = await readMigrations(dir);
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {}, connection: { application_name: 'slotbase-migrate' } });
  try {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY.toString()}::bigint)`;
    await runWorkerMigrations({ connectionString: databaseUrl, logger: quietWorkerLogger });
    await sql.unsafe(`
      create schema if not exists slotbase_meta;
      revoke all on schema slotbase_meta from public;
      create table if not exists slotbase_meta.migrations (
        name text primary key,
        checksum text not null,
        applied_at timestamptz not null default now()
      );
      revoke all on slotbase_meta.migrations from public;
    `);
    const applied = new Map(
      (await sql<{ name: string; checksum: string }[]>`select name, checksum from slotbase_meta.migrations`).map(
        (r) => [r.name, r.checksum],
      ),
    );
    const edited = files.filter((f) => applied.has(f.name) && applied.get(f.name) !== f.checksum).map((f) => f.name);
    if (edited.length > 0) {
      throw new MigrationError(
        `refusing to migrate: applied migration files were edited (migrations are forward-only; add a new file instead): ${edited.join(', ')}`,
        'edited',
        edited,
      );
    }
    const pending = files.filter((f) => !applied.has(f.name));
    const lastApplied = [...applied.keys()].sort().at(-1);
    const early = lastApplied ? pending.filter((f) => f.name < lastApplied).map((f) => f.name) : [];
    if (early.length > 0) {
      throw new MigrationError(
        `refusing to migrate: ${early.join(', ')} sort before the last applied migration ${lastApplied}; rename them with a newer timestamp`,
        'out_of_order',
        early,
      );
    }
    const missing = [...applied.keys()].filter((n) => !files.some((f) => f.name === n));
    if (missing.length > 0) {
      logger?.warn({ missing }, 'database has migrations this checkout does not know (is this code older than the database?)');
    }
    for (const file of pending) {
      try {
        await sql.begin(async (tx) => {
          await tx.unsafe(file.sql);
          await tx`insert into slotbase_meta.migrations (name, checksum) values (${file.name}, ${file.checksum})`;
        });
      } catch (error) {
        throw new MigrationError(`migration ${file.name} failed: ${(error as Error).message}`, 'failed', [file.name], {
          cause: error,
        });
      }
      logger?.info({ migration: file.name }, 'applied migration');
    }
    return { applied: pending.map((f) => f.name), alreadyApplied: applied.size };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

// graphile-worker logs its own migrations at info; we report ours instead.
const quietWorkerLogger = new WorkerLogger(() => () => {});
