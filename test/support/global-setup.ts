import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '#src/db/embedded.ts';
import { migrate } from '#src/db/migrate.ts';
import { createPGlite, servePGlite, withDatabase, type Engine } from './engines.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    engine: Engine;
    /** pglite: path of the migrated data dir dump each test file loads. */
    pgliteDump: string;
    /** postgres: superuser URL of the server, the migrated template, and this run's db prefix. */
    postgresUrl: string;
    /** postgres: password of the API's login role (slotbase_api) for this run. */
    apiPassword: string;
    templateDatabase: string;
    databasePrefix: string;
  }
}

/**
 * Migrates once per run into a template (PGlite: a data-dir dump; Postgres: a template
 * database); each test file then gets its own copy (see test/support/db.ts).
 * Postgres is DATABASE_URL when set, otherwise a throwaway embedded server for this run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const engine = project.config.env?.SLOTBASE_TEST_ENGINE as Engine | undefined;
  if (engine !== 'pglite' && engine !== 'postgres') throw new Error(`unknown SLOTBASE_TEST_ENGINE: ${engine}`);
  project.provide('engine', engine);
  return engine === 'pglite' ? setupPGlite(project) : setupPostgres(project);
}

async function setupPGlite(project: TestProject): Promise<() => Promise<void>> {
  const db = await createPGlite();
  const server = await servePGlite(db);
  try {
    await migrate({ databaseUrl: server.url });
  } finally {
    await server.stop();
  }
  const dir = await mkdtemp(join(tmpdir(), 'slotbase-pglite-'));
  const file = join(dir, 'migrated.tar.gz');
  await writeFile(file, Buffer.from(await (await db.dumpDataDir('gzip')).arrayBuffer()));
  await db.close();
  project.provide('pgliteDump', file);
  return () => rm(dir, { recursive: true, force: true });
}

/**
 * The browser tests drive Debian's Chromium. `npm test` on a fresh machine must not need a manual
 * step, so when it is missing and this process may install packages (root with apt-get, as on the
 * machines this project runs on), it is installed here once; otherwise the browser tests fail with
 * the command to run.
 */
function ensureChromium(): void {
  const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (existsSync(path) || process.env.CHROMIUM_PATH) return;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) return;
  console.info('Chromium is missing for the browser tests: apt-get install -y chromium (once) …');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const install = update.status === 0 ? spawnSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env }) : update;
  if (install.status !== 0) console.warn('could not install chromium; the browser tests will fail (apt-get install -y chromium)');
}

async function setupPostgres(project: TestProject): Promise<() => Promise<void>> {
  ensureChromium();
  let serverUrl = process.env.DATABASE_URL;
  let stopEmbedded: (() => Promise<void>) | undefined;
  let embeddedDir: string | undefined;
  if (!serverUrl) {
    embeddedDir = await mkdtemp(join(tmpdir(), 'slotbase-test-pg-'));
    const embedded = await startEmbeddedPostgres({ dataDir: embeddedDir, port: 54500, database: 'postgres' });
    serverUrl = embedded.databaseUrl;
    stopEmbedded = () => embedded.stop();
  }
  // Names carry the start time so a later run can drop what a crashed run left behind.
  const runId = `${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}_${randomBytes(3).toString('hex')}`;
  const prefix = `slotbase_t_${runId}_`;
  const template = `slotbase_tpl_${runId}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await dropStaleDatabases(admin);
  await admin.unsafe(`create database ${template}`);
  await migrate({ databaseUrl: withDatabase(serverUrl, template) });
  // The API under test logs in as slotbase_api, like production; a password makes that work on
  // servers that require one (the embedded server does; trust-auth servers ignore it).
  const apiPassword = randomBytes(12).toString('hex');
  await admin.unsafe(`alter role slotbase_api password '${apiPassword}'`);
  project.provide('apiPassword', apiPassword);
  project.provide('postgresUrl', serverUrl);
  project.provide('templateDatabase', template);
  project.provide('databasePrefix', prefix);
  return async () => {
    const leftovers = await admin<{ datname: string }[]>`
      select datname from pg_database where datname like ${prefix + '%'} or datname = ${template}`;
    for (const { datname } of leftovers) await admin.unsafe(`drop database if exists ${datname} with (force)`);
    await admin.end();
    await stopEmbedded?.();
    if (embeddedDir) await rm(embeddedDir, { recursive: true, force: true });
  };
}

/** Drops test databases of runs that started more than six hours ago (crashed runs). */
async function dropStaleDatabases(admin: postgres.Sql): Promise<void> {
  const cutoff = new Date(Date.now() - 6 * 3600_000).toISOString().replace(/\D/g, '').slice(0, 14);
  const stale = await admin<{ datname: string }[]>`
    select datname from pg_database
    where (datname ~ '^slotbase_t_[0-9]{14}_' or datname ~ '^slotbase_tpl_[0-9]{14}_')
      and substring(datname from '([0-9]{14})') < ${cutoff}`;
  for (const { datname } of stale) await admin.unsafe(`drop database if exists ${datname} with (force)`);
}
