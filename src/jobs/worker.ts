import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Logger as WorkerLogger, run, runOnce, type Runner, type TaskList, type WorkerEvents } from 'graphile-worker';
import postgres from 'postgres';
import type { Config } from '#src/config.ts';
import { createMailer } from '#src/lib/mailer.ts';
import type { Logger } from '#src/lib/logger.ts';
import { CRONTAB } from '#src/jobs/crontab.ts';
import type { JobDeps, TaskFactory } from '#src/jobs/deps.ts';
import { startLiveness, type Liveness } from '#src/jobs/liveness.ts';

const TASKS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'tasks');

/** Every `src/jobs/tasks/<identifier>.ts`, keyed by file name: the file name is the task identifier. */
export async function loadTaskList(deps: JobDeps): Promise<TaskList> {
  const files = (await readdir(TASKS_DIR)).filter((f) => /^[a-z][a-z0-9_]*\.ts$/.test(f)).sort();
  const tasks: TaskList = {};
  for (const file of files) {
    const module = (await import(pathToFileURL(join(TASKS_DIR, file)).href)) as { default?: TaskFactory };
    if (typeof module.default !== 'function') throw new Error(`src/jobs/tasks/${file} must default-export defineTask(...)`);
    tasks[basename(file, '.ts')] = module.default(deps);
  }
  return tasks;
}

/** graphile-worker's log lines go to pino with their scope (worker, task, job) as fields. */
function workerLogger(logger: Logger): WorkerLogger {
  return new WorkerLogger((scope) => (level, message, meta) => {
    const fields = { ...scope, ...(meta as object | undefined) };
    const method = level === 'error' ? 'error' : level === 'warning' ? 'warn' : level === 'info' ? 'info' : 'debug';
    logger[method](fields, message);
  });
}

export interface JobDepsOptions {
  databaseUrl: string;
  config: Config;
  logger: Logger;
  /** Replace parts (tests: a mailer pointed at a local SMTP server, a fetch with a short timeout). */
  overrides?: Partial<JobDeps>;
}

/** The shared dependencies tasks receive; `close()` releases the pool and the mail transport. */
export function createJobDeps(options: JobDepsOptions): JobDeps & { close(): Promise<void> } {
  const { config, logger } = options;
  const sql = options.overrides?.sql ?? postgres(options.databaseUrl, {
    max: config.WORKER_CONCURRENCY + 2,
    onnotice: () => {},
    connection: { application_name: 'slotbase-worker-tasks' },
  });
  const mailer = options.overrides?.mailer ?? createMailer({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM, logger });
  const deps: JobDeps = {
    sql,
    logger,
    config,
    publicUrl: (config.PUBLIC_URL ?? `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${config.PORT}`).replace(/\/$/, ''),
    mailer,
    fetch: globalThis.fetch,
    ...options.overrides,
  };
  return {
    ...deps,
    async close() {
      if (!options.overrides?.mailer) mailer.close();
      if (!options.overrides?.sql) await sql.end({ timeout: 5 });
    },
  };
}

export interface RunningWorker {
  runner: Runner;
  events: WorkerEvents;
  /** Finishes the jobs in hand (graceful), releases this process's liveness lock. */
  stop(): Promise<void>;
}

export interface StartWorkerOptions extends JobDepsOptions {
  /** Recurring jobs (off in tests that drive time themselves). Default true. */
  crontab?: boolean;
}

/**
 * The long-running worker (`slotbase worker`, and in-process under `slotbase start`).
 * Jobs a killed process had locked are released as soon as another worker process sees that its
 * liveness lock is gone (see liveness.ts), instead of graphile-worker's 4-hour timeout.
 */
export async function startWorker(options: StartWorkerOptions): Promise<RunningWorker> {
  const { config, logger } = options;
  const deps = createJobDeps(options);
  const events: WorkerEvents = new EventEmitter() as WorkerEvents;
  let liveness: Liveness | undefined;
  try {
    liveness = await startLiveness({ databaseUrl: options.databaseUrl, logger, events });
    const taskList = await loadTaskList(deps);
    const runner = await run({
      connectionString: options.databaseUrl,
      concurrency: config.WORKER_CONCURRENCY,
      pollInterval: config.WORKER_POLL_INTERVAL_MS,
      noHandleSignals: true,
      logger: workerLogger(logger.child({ component: 'worker' })),
      taskList,
      crontab: options.crontab === false ? '' : CRONTAB,
      events,
    });
    await liveness.settled();
    logger.info({ concurrency: config.WORKER_CONCURRENCY, tasks: Object.keys(taskList), mail: deps.mailer.printsToLog ? 'log' : 'smtp' }, 'worker started');
    if (deps.mailer.printsToLog) logger.warn('SMTP_URL is not set: mails are printed to the log, not sent');
    const live = liveness;
    return {
      runner,
      events,
      async stop() {
        await runner.stop();
        await live.stop();
        await deps.close();
      },
    };
  } catch (error) {
    await liveness?.stop();
    await deps.close();
    throw error;
  }
}

/** Runs every job that is due now, then returns (tests, `slotbase worker --once`). */
export async function runDueJobs(options: JobDepsOptions): Promise<void> {
  const deps = createJobDeps(options);
  try {
    await runOnce({
      connectionString: options.databaseUrl,
      noHandleSignals: true,
      logger: workerLogger(options.logger.child({ component: 'worker' })),
      taskList: await loadTaskList(deps),
    });
  } finally {
    await deps.close();
  }
}

export const WORKER_HOST = hostname();
