/**
 * Worker drain rate: how many jobs per second one worker process finishes, to a local HTTP sink
 * (webhook_delivery) and a local SMTP sink (booking_confirmation), against a no-op task in the
 * same run as the baseline (graphile-worker's own cost of taking and completing a job).
 *
 * The jobs are the real ones: bookings made with create_booking enqueue their confirmation and,
 * with a webhook endpoint subscribed, their webhook deliveries — in the booking's transaction. Each
 * side drains only its own task (the others are parked in the far future), with the worker's real
 * task code, the real signing, nodemailer over SMTP and fetch over HTTP. The sinks (bench/sinks.ts)
 * run in a child process.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Logger, run, type WorkerEvents } from 'graphile-worker';
import { loadConfig } from '#src/config.ts';
import { createJobDeps, loadTaskList, workerPreset } from '#src/jobs/worker.ts';
import { createLogger } from '#src/lib/logger.ts';
import { createMailer } from '#src/lib/mailer.ts';
import type { BenchContext } from './booking-engine.ts';
import { createWorld } from './fixtures.ts';
import { connect } from './lib/pg.ts';
import { msSince, now, round } from './lib/stats.ts';

export interface DrainSide {
  name: string;
  task: string;
  jobs: number;
  seconds: number;
  perSecond: number;
  /** perSecond ÷ the no-op baseline's, same run. */
  vsNoop: number;
  /** What the sink saw (requests or mails); equals jobs when nothing was lost or sent twice. */
  delivered: number;
}

export interface WorkerResult {
  concurrency: number;
  /** WORKER_LOCAL_QUEUE_SIZE (0: one fetch per job). Absent in older results. */
  localQueue?: number;
  sides: DrainSide[];
}

const FAR_FUTURE = "now() + interval '100 years'";

/** Worker settings compared in one run: the default, then more concurrency, then a local queue. */
const VARIANTS = [
  { concurrency: 5, localQueue: 0 },
  { concurrency: 20, localQueue: 0 },
  { concurrency: 20, localQueue: 40 },
];

export async function benchWorker(ctx: BenchContext, variants = VARIANTS): Promise<WorkerResult[]> {
  const jobs = ctx.quick ? 400 : 2000;
  const sql = connect(ctx.url, 4);
  const logger = createLogger('silent');

  // The sinks run in a child process: their CPU must not be taken from the worker measured here.
  const sinks = spawn(process.execPath, [fileURLToPath(new URL('../bin/run-ts.js', import.meta.url)), fileURLToPath(new URL('./sinks.ts', import.meta.url))], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ports = await new Promise<{ http: number; smtp: number }>((resolve, reject) => {
    let out = '';
    sinks.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!) as { http: number; smtp: number });
    });
    sinks.once('exit', (code) => reject(new Error(`the sinks exited with ${code}`)));
  });
  const counts = async () => (await (await fetch(`http://127.0.0.1:${ports.http}/count`)).json()) as { requests: number; mails: number };
  const smtpPort = ports.smtp;

  try {
    const world = await createWorld(sql, { slug: `worker-${randomBytes(3).toString('hex')}`, providers: 20, timeZone: 'UTC', opens: '00:00', closes: '24:00', maxAdvanceDays: 400 });
    await sql`
      with endpoint as (
        insert into slotbase.webhook_endpoints (tenant_id, url, event_types)
        values (${world.tenantId}, ${`http://127.0.0.1:${ports.http}/hooks`}, '{booking.created}')
        returning tenant_id, id)
      insert into slotbase_private.webhook_endpoint_secrets (tenant_id, endpoint_id, secret)
      select tenant_id, id, ${`whsec_${randomBytes(32).toString('base64')}`} from endpoint`;

    const results: WorkerResult[] = [];
    for (const { concurrency, localQueue } of variants) {
      const config = loadConfig({ SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, WORKER_CONCURRENCY: String(concurrency), WORKER_LOCAL_QUEUE_SIZE: String(localQueue), WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WORKER_POLL_INTERVAL_MS: '200', LOG_LEVEL: 'silent', PUBLIC_URL: 'http://slotbase.bench' }, '/nonexistent');
      // A mail transport sized like the worker's concurrency (pooled SMTP connections).
      const deps = createJobDeps({
        databaseUrl: ctx.url,
        config,
        logger,
        overrides: { mailer: createMailer({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM, logger }) },
      });
      const taskList = { ...(await loadTaskList(deps)), bench_noop: async () => {} };

      // Bookings → confirmation + webhook jobs (reminders are parked with the rest).
      ctx.log(`worker: ${jobs} bookings → confirmation and webhook jobs (concurrency ${concurrency}, local queue ${localQueue})`);
      const tomorrow = new Date();
      tomorrow.setUTCHours(24, 0, 0, 0);
      const base = tomorrow.getTime() + results.length * 30 * 86_400_000;
      for (let i = 0; i < jobs; i++) {
        const provider = world.providerIds[i % world.providerIds.length]!;
        const startsAt = new Date(base + Math.floor(i / world.providerIds.length) * 30 * 60_000);
        await sql`select 1 from slotbase.create_booking(p_tenant_id => ${world.tenantId}, p_service_id => ${world.serviceId},
          p_starts_at => ${startsAt}, p_provider_id => ${provider}, p_contact_name => 'Bench Booker', p_contact_email => 'booker@bench.example')`;
      }
      await sql.unsafe(`update graphile_worker._private_jobs set run_at = ${FAR_FUTURE}`);
      await sql`select graphile_worker.add_jobs(array(select row('bench_noop', '{}'::json, null, null, null, null, null, null)::graphile_worker.job_spec from generate_series(1, ${jobs})))`;
      await sql.unsafe(`update graphile_worker._private_jobs set run_at = ${FAR_FUTURE}`);

      const drain = async (task: string, sink: () => Promise<number>): Promise<Omit<DrainSide, 'vsNoop'>> => {
        const [count] = await sql<{ n: number }[]>`
          update graphile_worker._private_jobs as j set run_at = now()
          from graphile_worker._private_tasks as t
          where t.id = j.task_id and t.identifier = ${task}
          returning 1`.then((r) => [{ n: r.length }]);
        const n = count!.n;
        const events: WorkerEvents = new EventEmitter() as WorkerEvents;
        let done = 0;
        let failed = 0;
        const before = await sink();
        const finished = new Promise<void>((resolve) => {
          events.on('job:complete', ({ job, error }) => {
            if (job.task_identifier !== task) return;
            if (error) failed += 1;
            else done += 1;
            if (done >= n) resolve();
          });
        });
        const t = now();
        // The production worker's settings (src/jobs/worker.ts), minus liveness and crons.
        const runner = await run({
          connectionString: ctx.url,
          concurrency,
          maxPoolSize: Math.max(10, concurrency + 2),
          pollInterval: 200,
          noHandleSignals: true,
          taskList,
          parsedCronItems: [],
          preset: workerPreset(config),
          events,
          logger: new Logger(() => () => {}),
        });
        await finished;
        const seconds = msSince(t) / 1000;
        await runner.stop();
        if (failed > 0) ctx.log(`worker: ${task}: ${failed} attempts failed and were retried`);
        return { name: task, task, jobs: n, seconds: round(seconds, 2), perSecond: round(n / seconds, 0), delivered: (await sink()) - before };
      };

      const noop = await drain('bench_noop', async () => 0);
      const webhooks = await drain('webhook_delivery', async () => (await counts()).requests);
      const mail = await drain('booking_confirmation', async () => (await counts()).mails);
      await deps.close();
      await sql.unsafe(`delete from graphile_worker._private_jobs`);
      const sides = [noop, webhooks, mail].map((s) => ({ ...s, delivered: s.task === 'bench_noop' ? s.jobs : s.delivered, vsNoop: round(s.perSecond / noop.perSecond, 2) }));
      for (const s of sides) ctx.log(`worker: ${s.task} ${s.perSecond}/s (${s.jobs} jobs in ${s.seconds}s; sink saw ${s.delivered})`);
      results.push({ concurrency, localQueue, sides });
    }
    return results;
  } finally {
    sinks.kill('SIGTERM');
    await sql.end({ timeout: 5 });
  }
}
