import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Logger as WorkerLogger, parseCrontab, run, runOnce, type Runner, type TaskList, type WorkerEvents } from 'graphile-worker';
import postgres from 'postgres';
import type { Config } from '#src/config.ts';
import { createMailer } from '#src/lib/mailer.ts';
import { guardedFetch } from '#src/lib/guarded-fetch.ts';
import { createSmsSender } from '#src/lib/sms.ts';
import type { Logger } from '#src/lib/logger.ts';
import { CRONTAB } from '#src/jobs/crontab.ts';
import type { JobDeps, TaskFactory } from '#src/jobs/deps.ts';
import { startLiveness, type Liveness, type LivenessOptions } from '#src/jobs/liveness.ts';

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
  /** Without SMTP_URL: where mails are written as .eml files (the CLI: SLOTBASE_DATA_DIR/outbox). Unset: only the log line. */
  outboxDir?: string;
}

/** The shared dependencies tasks receive; `close()` releases the pool and the mail transport. */
export function createJobDeps(options: JobDepsOptions): JobDeps & { close(): Promise<void> } {
  const { config, logger } = options;
  const sql = options.overrides?.sql ?? postgres(options.databaseUrl, {
    max: config.WORKER_CONCURRENCY + 2,
    onnotice: () => {},
    connection: { application_name: 'slotbase-worker-tasks' },
  });
  const mailer = options.overrides?.mailer ?? createMailer({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM, logger, outboxDir: options.outboxDir });
  const deps: JobDeps = {
    sql,
    logger,
    config,
    publicUrl: (config.PUBLIC_URL ?? `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${config.PORT}`).replace(/\/$/, ''),
    mailer,
    fetch: options.overrides?.fetch ?? globalThis.fetch,
    webhookFetch: options.overrides?.webhookFetch ?? (config.WEBHOOK_ALLOW_PRIVATE_TARGETS ? globalThis.fetch : guardedFetch),
    sms: options.overrides?.sms ?? createSmsSender({
      apiUrl: config.SMS_API_URL, accountSid: config.SMS_ACCOUNT_SID, authToken: config.SMS_AUTH_TOKEN, from: config.SMS_FROM,
      fetch: options.overrides?.fetch ?? globalThis.fetch,
    }),
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

/**
 * graphile-worker 0.17 does not await a job's completion before a stopping pool lets go of its
 * connections: a job that finished during shutdown could stay locked (and, with its process
 * unregistered, never be released). Batching completions, even with no delay, makes shutdown wait
 * for them.
 */
const FLUSH_ON_SHUTDOWN = { completeJobBatchDelay: 0, failJobBatchDelay: 0 } as const;

/**
 * graphile-worker's worker preset: completions flushed as above, and with WORKER_LOCAL_QUEUE_SIZE
 * a local queue (jobs fetched and locked in batches by the pool — `locked_by` is the pool's id,
 * which liveness registers, so a killed process's queued jobs are released like running ones).
 */
export function workerPreset(config: Pick<Config, 'WORKER_LOCAL_QUEUE_SIZE'>) {
  return {
    worker: {
      ...FLUSH_ON_SHUTDOWN,
      ...(config.WORKER_LOCAL_QUEUE_SIZE > 1 ? { localQueue: { size: config.WORKER_LOCAL_QUEUE_SIZE } } : {}),
    },
  };
}

export interface RunningWorker {
  runner: Runner;
  events: WorkerEvents;
  /** Settles when the worker has stopped: after stop(), or on its own after a fatal error (rejects then). */
  done: Promise<void>;
  /** Takes no new jobs, waits for the jobs in hand to finish, then unregisters this process. Idempotent. */
  stop(): Promise<void>;
  /** Like stop(), but fails the jobs in hand (they are retried later) instead of waiting more than ~0.5 s for them. */
  kill(): Promise<void>;
  /** For /ready under `slotbase start`: running, not stopping, and holding its liveness session (so it may take jobs). */
  health(): { ok: boolean; reason?: string };
}

export interface StartWorkerOptions extends JobDepsOptions {
  /** Recurring jobs (off in tests that drive time themselves). Default true. */
  crontab?: boolean;
  /** Liveness checks (see liveness.ts); `false` only to prove what they are for. */
  liveness?: false | Pick<LivenessOptions, 'everyMs' | 'graceMs'>;
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
    if (options.liveness !== false) liveness = await startLiveness({ databaseUrl: options.databaseUrl, logger, events, ...options.liveness });
    const taskList = await loadTaskList(deps);
    const gate = liveness?.gate;
    const runner = await run({
      connectionString: options.databaseUrl,
      concurrency: config.WORKER_CONCURRENCY,
      // One connection per concurrent job fetch/completion plus LISTEN (graphile-worker's default is 10).
      maxPoolSize: Math.max(10, config.WORKER_CONCURRENCY + 2),
      pollInterval: config.WORKER_POLL_INTERVAL_MS,
      noHandleSignals: true,
      logger: workerLogger(logger.child({ component: 'worker' })),
      taskList,
      preset: workerPreset(config),
      // An empty crontab must be parsed items, not '': graphile-worker would read ./crontab instead.
      parsedCronItems: parseCrontab(options.crontab === false ? '' : CRONTAB),
      // Not a flag filter: holds job fetching while this process is not registered as alive.
      forbiddenFlags: gate ? () => gate() : null,
      events,
    });
    await liveness?.settled();
    logger.info({ concurrency: config.WORKER_CONCURRENCY, tasks: Object.keys(taskList), mail: deps.mailer.printsToLog ? 'outbox' : 'smtp' }, 'worker started');
    if (deps.mailer.printsToLog) logger.warn({ outbox: options.outboxDir }, 'SMTP_URL is not set: mails are not sent (written to the outbox directory, if any)');
    const live = liveness;
    let finishing: Promise<void> | undefined;
    // Unregister only once the pool has finished (or failed) every job it had locked.
    const finish = () =>
      (finishing ??= (async () => {
        try {
          await runner.promise.catch(() => {});
        } finally {
          await live?.stop().catch((error: unknown) => logger.error({ err: error }, 'could not unregister the worker process'));
          await deps.close();
          logger.info('worker stopped');
        }
      })());
    let ended = false;
    const done = runner.promise.finally(() => {
      ended = true;
      return finish();
    });
    done.catch((error: unknown) => logger.error({ err: error }, 'the worker stopped on an error'));
    let stopping: Promise<void> | undefined;
    return {
      runner,
      events,
      done,
      health() {
        if (ended) return { ok: false, reason: 'stopped' };
        if (stopping) return { ok: false, reason: 'stopping' };
        if (live && !live.isLive()) return { ok: false, reason: 'liveness session lost (database unreachable?); taking no jobs' };
        return { ok: true };
      },
      stop() {
        live?.release();
        stopping ??= runner.stop().catch(() => {}); // already stopped on its own: fine, finish below
        return stopping.then(finish);
      },
      async kill() {
        live?.release();
        await runner.kill();
        await finish();
      },
    };
  } catch (error) {
    await liveness?.stop();
    await deps.close();
    throw error;
  }
}

/**
 * Runs every job that is due now, then returns (tests, `slotbase worker --once`). It registers
 * and reaps like a long-running worker, so a `--once` run that is killed does not strand its jobs.
 */
export async function runDueJobs(options: JobDepsOptions & { concurrency?: number }): Promise<void> {
  const deps = createJobDeps(options);
  const events: WorkerEvents = new EventEmitter() as WorkerEvents;
  let liveness: Liveness | undefined;
  try {
    liveness = await startLiveness({ databaseUrl: options.databaseUrl, logger: options.logger, events });
    const gate = liveness.gate;
    await runOnce({
      connectionString: options.databaseUrl,
      concurrency: options.concurrency ?? 1,
      noHandleSignals: true,
      logger: workerLogger(options.logger.child({ component: 'worker' })),
      taskList: await loadTaskList(deps),
      preset: { worker: FLUSH_ON_SHUTDOWN },
      forbiddenFlags: () => gate(),
      events,
    });
  } finally {
    await liveness?.stop();
    await deps.close();
  }
}

export const WORKER_HOST = hostname();
