import { loadConfig, type Config } from '#src/config.ts';
import type { JobDeps } from '#src/jobs/deps.ts';
import { runDueJobs, startWorker, type RunningWorker, type StartWorkerOptions } from '#src/jobs/worker.ts';
import { createLogger } from '#src/lib/logger.ts';
import type { TestDb } from './db.ts';

/** A worker configuration for tests: fast polling, no SMTP unless given, links to a fixed host. */
export function workerTestConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ PUBLIC_URL: 'http://slotbase.test', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WORKER_POLL_INTERVAL_MS: '100', WORKER_CONCURRENCY: '4', LOG_LEVEL: 'silent', ...env }, '/nonexistent');
}

function databaseUrlOf(db: TestDb): string {
  if (!db.url) throw new Error('the worker runs on real PostgreSQL only (name the test file *.pg.test.ts or put it under test/jobs)');
  return db.url;
}

/** Runs every job that is due now in this file's database, then returns. */
export async function drainJobs(db: TestDb, options: { env?: Record<string, string>; overrides?: Partial<JobDeps> } = {}): Promise<void> {
  await runDueJobs({
    databaseUrl: databaseUrlOf(db),
    config: workerTestConfig(options.env),
    logger: createLogger('silent'),
    overrides: options.overrides,
  });
}

/** A long-running worker in this process (crons off unless asked); stop it in afterAll/finally. */
export async function startTestWorker(
  db: TestDb,
  options: { env?: Record<string, string>; overrides?: Partial<JobDeps>; crontab?: boolean; liveness?: StartWorkerOptions['liveness'] } = {},
): Promise<RunningWorker> {
  return startWorker({
    databaseUrl: databaseUrlOf(db),
    config: workerTestConfig(options.env),
    logger: createLogger('silent'),
    overrides: options.overrides,
    crontab: options.crontab ?? false,
    liveness: options.liveness,
  });
}

/** The jobs table as the test sees it (graphile_worker is not a tenant schema; reading it is setup, not an assertion about RLS). */
export async function jobsOf(db: TestDb, taskIdentifier?: string): Promise<{ id: string; task_identifier: string; key: string | null; run_at: Date; attempts: number; last_error: string | null; payload: Record<string, unknown>; locked_by: string | null }[]> {
  return (await db.query(
    `select j.id::text, t.identifier as task_identifier, j.key, j.run_at, j.attempts, j.last_error, j.payload, j.locked_by
     from graphile_worker._private_jobs as j join graphile_worker._private_tasks as t on t.id = j.task_id
     where $1::text is null or t.identifier = $1 order by j.id`,
    [taskIdentifier ?? null],
  )) as never;
}

/** Polls `condition` (every 20 ms) until it holds; fails after `timeoutMs`. For waiting on another process, not for time to pass. */
export async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
