import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR } from '#src/db/migrate.ts';
import { emptyDatabase, type EmptyDatabase } from '../support/empty-database.ts';

/** Runs `slotbase migrate` as a real process; resolves with its exit code and output. */
function runMigrateProcess(databaseUrl: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/slotbase.js', 'migrate'], {
      env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('migration runner under concurrency', () => {
  let db: EmptyDatabase;
  beforeAll(async () => {
    db = await emptyDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('four processes migrating one empty database at once end with exactly one applied set', async () => {
    const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql'));
    const runs = await Promise.all([1, 2, 3, 4].map(() => runMigrateProcess(db.url)));
    for (const run of runs) expect(run.code, run.out).toBe(0);
    // Exactly one process applied the files; the others waited on the advisory lock and found nothing to do.
    const applied = runs.map((r) => Number(/"applied":(\d+)/.exec(r.out)?.[1]));
    expect(applied.sort()).toEqual([0, 0, 0, files.length]);
    const recorded = await db.query<{ name: string; n: number }>(
      'select name, count(*)::int as n from slotbase_meta.migrations group by name order by name',
    );
    expect(recorded).toEqual(files.sort().map((name) => ({ name, n: 1 })));
    const [worker] = await db.query<{ n: number }>('select count(*)::int as n from graphile_worker.migrations');
    expect(worker!.n).toBeGreaterThan(0);
  });
});
