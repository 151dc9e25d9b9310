import { cp, mkdtemp, readdir, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, MigrationError, MIGRATIONS_DIR } from '#src/db/migrate.ts';
import { emptyDatabase } from '../support/empty-database.ts';

// The migration runner, against an empty database of the running engine.
describe('migration runner', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  async function fixture() {
    const db = await emptyDatabase();
    const dir = await mkdtemp(join(tmpdir(), 'slotbase-migrations-'));
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    cleanups.push(db.drop, () => rm(dir, { recursive: true, force: true }));
    return { ...db, dir };
  }

  it('applies every migration once, records name and checksum, and a re-run is a no-op', async () => {
    const { url, query, dir } = await fixture();
    const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
    const first = await migrate({ databaseUrl: url, dir });
    expect(first.applied).toEqual(files);
    const recorded = await query<{ name: string; checksum: string }>('select name, checksum from slotbase_meta.migrations order by name');
    expect(recorded.map((r) => r.name)).toEqual(files);
    expect(recorded.every((r) => /^[0-9a-f]{64}$/.test(r.checksum))).toBe(true);
    const second = await migrate({ databaseUrl: url, dir });
    expect(second).toEqual({ applied: [], alreadyApplied: files.length });
  });

  it('installs graphile-worker first, so triggers can enqueue jobs on this engine', async () => {
    const { url, query, dir } = await fixture();
    await migrate({ databaseUrl: url, dir });
    await query(`select graphile_worker.add_job('probe', '{}'::json, job_key => 'probe:1')`);
    const jobs = await query<{ task: string }>(`select task_identifier as task from graphile_worker.jobs where key = 'probe:1'`);
    expect(jobs).toEqual([{ task: 'probe' }]);
  });

  it('refuses to run when an applied file was edited, and applies nothing new', async () => {
    const { url, query, dir } = await fixture();
    await migrate({ databaseUrl: url, dir });
    const [firstFile] = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
    await appendFile(join(dir, firstFile!), '\n-- an innocent-looking edit\n');
    await writeFile(join(dir, '29991231235959_new_table.sql'), 'create table slotbase.should_not_exist (id int);');
    const error = await migrate({ databaseUrl: url, dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).reason).toBe('edited');
    expect((error as MigrationError).files).toEqual([firstFile]);
    expect(await query(`select 1 from pg_tables where tablename = 'should_not_exist'`)).toEqual([]);
  });

  it('rolls back a failing migration completely and reports it', async () => {
    const { url, query, dir } = await fixture();
    await writeFile(
      join(dir, '29991231235959_half_done.sql'),
      'create table slotbase.half_done (id int);\nselect 1/0;\n',
    );
    const error = await migrate({ databaseUrl: url, dir }).catch((e: unknown) => e);
    expect((error as MigrationError).reason).toBe('failed');
    expect(await query(`select 1 from pg_tables where tablename = 'half_done'`)).toEqual([]);
    expect(await query(`select 1 from slotbase_meta.migrations where name = '29991231235959_half_done.sql'`)).toEqual([]);
  });

  it('refuses a new file that sorts before an applied one, and a badly named file', async () => {
    const { url, dir } = await fixture();
    await migrate({ databaseUrl: url, dir });
    await writeFile(join(dir, '20000101000000_too_old.sql'), 'select 1;');
    expect(((await migrate({ databaseUrl: url, dir }).catch((e: unknown) => e)) as MigrationError).reason).toBe('out_of_order');
    await rm(join(dir, '20000101000000_too_old.sql'));
    await writeFile(join(dir, 'add stuff.sql'), 'select 1;');
    expect(((await migrate({ databaseUrl: url, dir }).catch((e: unknown) => e)) as MigrationError).reason).toBe('bad_name');
  });
});
