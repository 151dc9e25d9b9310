import { EventEmitter } from 'node:events';
import type { WorkerEvents } from 'graphile-worker';
import postgres from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { startLiveness, type Liveness } from '#src/jobs/liveness.ts';
import { createLogger } from '#src/lib/logger.ts';
import { useTestDb } from '../support/db.ts';
import { drainJobs, jobsOf, startTestWorker, until } from '../support/worker.ts';

const db = useTestDb();
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => {});
  await db().query('delete from slotbase_private.worker_processes');
  await db().query('delete from graphile_worker._private_jobs');
});

/** A separate superuser session (held locks live exactly as long as it does). */
async function session() {
  const sql = postgres(db().url!, { max: 1, onnotice: () => {} });
  const conn = await sql.reserve();
  cleanups.push(async () => {
    conn.release();
    await sql.end({ timeout: 1 });
  });
  return conn;
}

async function reaper(graceMs = 0): Promise<Liveness> {
  const liveness = await startLiveness({ databaseUrl: db().url!, logger: createLogger('silent'), events: new EventEmitter() as WorkerEvents, graceMs, everyMs: 3_600_000 });
  cleanups.push(() => liveness.stop());
  return liveness;
}

async function processes() {
  return db().query<{ id: string; lock_key: string; worker_ids: string[]; pid: number }>(
    `select id, lock_key::text, worker_ids, pid from slotbase_private.worker_processes order by started_at`,
  );
}

/** A job for a task that exists, locked as if a worker pool `poolId` were running it. */
async function lockedJob(poolId: string): Promise<string> {
  const [job] = await db().query<{ id: string }>(`select (graphile_worker.add_job('expire_holds', '{}'::json)).id::text as id`);
  await db().query(`update graphile_worker._private_jobs set locked_by = $2, locked_at = now(), attempts = 1 where id = $1`, [job!.id, poolId]);
  return job!.id;
}

/** Blocks every statement on slotbase.bookings (so a task touching it stays in flight) until released. */
async function lockBookings() {
  const conn = await session();
  await conn`begin`;
  await conn`lock table slotbase.bookings in exclusive mode`;
  return { release: () => conn`commit` };
}

/** Waits until a statement of the worker's tasks is blocked on a lock. */
async function taskIsWaiting() {
  await until(async () => {
    const rows = await db().query(
      `select 1 from pg_stat_activity where datname = current_database() and application_name = 'slotbase-worker-tasks' and wait_event_type = 'Lock'`,
    );
    return rows.length > 0;
  });
}

describe('worker runtime', () => {
  it('a running worker registers the id its jobs are locked by, and unregisters on stop', async () => {
    const bookings = await lockBookings();
    const worker = await startTestWorker(db());
    cleanups.push(() => worker.stop());
    await db().query(`select graphile_worker.add_job('expire_holds', '{}'::json)`);
    await taskIsWaiting();
    const [row] = await processes();
    expect(row?.pid).toBe(process.pid);
    const [job] = await jobsOf(db(), 'expire_holds');
    expect(job?.locked_by).not.toBeNull();
    expect(row?.worker_ids).toContain(job?.locked_by);
    await bookings.release();
    await worker.stop();
    expect(await processes()).toEqual([]);
  });

  it('with a local queue, jobs waiting in the queue are locked by the registered pool too, and a graceful stop returns them', async () => {
    const bookings = await lockBookings();
    const worker = await startTestWorker(db(), { env: { WORKER_CONCURRENCY: '1', WORKER_LOCAL_QUEUE_SIZE: '5' } });
    cleanups.push(() => worker.stop());
    await db().query(`select graphile_worker.add_jobs(array(select row('expire_holds', '{}'::json, null, null, null, null, null, null)::graphile_worker.job_spec from generate_series(1, 4)))`);
    await taskIsWaiting();
    // One job runs (blocked), the other three wait in this process's memory, locked in the database.
    const [row] = await processes();
    const locked = (await jobsOf(db(), 'expire_holds')).map((j) => j.locked_by);
    expect(locked).toHaveLength(4);
    for (const by of locked) expect(row?.worker_ids).toContain(by);
    const stopping = worker.stop();
    await bookings.release();
    await stopping;
    // Whatever was not run was handed back (unlocked), not stranded for 4 hours.
    for (const job of await jobsOf(db(), 'expire_holds')) expect(job.locked_by).toBeNull();
  });

  it('stop() waits for the job in flight to finish, and only then removes the process row', async () => {
    const bookings = await lockBookings();
    const worker = await startTestWorker(db());
    cleanups.push(() => worker.stop());
    const order: string[] = [];
    worker.events.on('job:success', ({ job }) => order.push(`job ${job.task_identifier} done`));
    const shuttingDown = new Promise((resolve) => worker.events.once('pool:gracefulShutdown', resolve));
    await db().query(`select graphile_worker.add_job('expire_holds', '{}'::json)`);
    await taskIsWaiting();

    const stopped = worker.stop().then(() => order.push('stopped'));
    await shuttingDown;
    // Shutting down with a job in hand: still registered (a crash now must still be recoverable), job still locked.
    expect(await processes()).toHaveLength(1);
    expect((await jobsOf(db(), 'expire_holds'))[0]?.locked_by).not.toBeNull();
    expect(order).toEqual([]);

    await bookings.release();
    await stopped;
    expect(order).toEqual(['job expire_holds done', 'stopped']);
    expect(await jobsOf(db(), 'expire_holds')).toEqual([]);
    expect(await processes()).toEqual([]);
  });

  it('runDueJobs runs every due job and leaves none behind', async () => {
    await db().query(`select graphile_worker.add_job('expire_holds', '{}'::json)`);
    await drainJobs(db());
    expect(await jobsOf(db(), 'expire_holds')).toEqual([]);
    expect(await processes()).toEqual([]);
  });

  it('the jobs of a process whose liveness lock is free are released and run at once; a live process keeps its jobs', async () => {
    const alive = await session();
    await alive`select pg_advisory_lock(4242)`;
    await db().query(`insert into slotbase_private.worker_processes (lock_key, worker_ids, hostname, pid) values (4242, '{pool-alive}', 'here', 1), (4343, '{pool-dead}', 'gone', 2)`);
    const aliveJob = await lockedJob('pool-alive');
    await lockedJob('pool-dead');

    await drainJobs(db());

    const left = await jobsOf(db(), 'expire_holds');
    expect(left.map((j) => [j.id, j.locked_by])).toEqual([[aliveJob, 'pool-alive']]);
    expect((await processes()).map((p) => p.worker_ids)).toEqual([['pool-alive']]);
  });

  it('a process registered before the database server started gets a grace period to take its lock again', async () => {
    await db().query(
      `insert into slotbase_private.worker_processes (lock_key, worker_ids, hostname, pid, started_at) values (4444, '{pool-before-restart}', 'there', 3, pg_postmaster_start_time() - interval '1 minute')`,
    );
    await lockedJob('pool-before-restart');
    // The server has been up for less than the grace: not reaped.
    expect(await (await reaper(3_600_000 * 24 * 365)).reap()).toBe(0);
    expect((await jobsOf(db(), 'expire_holds'))[0]?.locked_by).toBe('pool-before-restart');
    // Up for longer than the grace: reaped (a liveness session reaps as it starts).
    await reaper(0);
    expect(await processes()).toHaveLength(2); // the two reapers themselves
    expect((await jobsOf(db(), 'expire_holds'))[0]?.locked_by).toBeNull();
  });

  it('a worker whose liveness session drops takes a new lock and is not taken for dead', async () => {
    const bookings = await lockBookings();
    cleanups.push(() => bookings.release());
    const worker = await startTestWorker(db());
    cleanups.push(() => worker.stop());
    await db().query(`select graphile_worker.add_job('expire_holds', '{}'::json)`);
    await taskIsWaiting();
    const [before] = await processes();

    const [{ terminated } = { terminated: false }] = await db().query<{ terminated: boolean }>(
      `select pg_terminate_backend(pid) as terminated from pg_stat_activity where datname = current_database() and application_name = 'slotbase-worker-liveness'`,
    );
    expect(terminated).toBe(true);
    await until(async () => (await processes())[0]?.lock_key !== before!.lock_key);

    // Another process looking for dead workers (no grace) finds none: the new lock is held.
    expect(await (await reaper(0)).reap()).toBe(0);
    const [after] = await processes();
    expect(after?.id).toBe(before!.id);
    expect(after?.worker_ids).toEqual(before!.worker_ids);
    expect((await jobsOf(db(), 'expire_holds'))[0]?.locked_by).toBe(before!.worker_ids[0]);

    await bookings.release();
    await until(async () => (await jobsOf(db(), 'expire_holds')).length === 0);
  });

  it('a worker takes no new job while its liveness session is down, and resumes once it is registered again', async () => {
    const worker = await startTestWorker(db());
    cleanups.push(() => worker.stop());
    const [before] = await processes();
    const fetches: number[] = [];
    worker.events.on('worker:getJob:start', () => fetches.push(Date.now()));

    // Hold the worker's row, so its re-registration waits, then cut its session.
    const holder = await session();
    await holder`begin`;
    await holder`select 1 from slotbase_private.worker_processes where id = ${before!.id} for update`;
    await db().query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name = 'slotbase-worker-liveness'`);
    await until(async () => {
      const rows = await db().query(`select 1 from pg_stat_activity where datname = current_database() and application_name = 'slotbase-worker-liveness' and wait_event_type = 'Lock'`);
      return rows.length > 0;
    });
    const cut = Date.now();
    await db().query(`select graphile_worker.add_job('expire_holds', '{}'::json)`);
    // Five poll intervals (and the job's NOTIFY) pass without a single fetch.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(fetches.filter((t) => t > cut)).toEqual([]);
    expect((await jobsOf(db(), 'expire_holds'))[0]).toMatchObject({ attempts: 0, locked_by: null });

    await holder`commit`;
    await until(async () => (await jobsOf(db(), 'expire_holds')).length === 0);
    expect((await processes())[0]?.lock_key).not.toBe(before!.lock_key);
  });

  it('a worker that was reaped while its liveness session was down registers again and keeps working', async () => {
    const worker = await startTestWorker(db());
    cleanups.push(() => worker.stop());
    const [before] = await processes();

    // A reaper takes the row first, so the worker's re-registration waits for it.
    const reaperSession = await session();
    await reaperSession`begin`;
    await reaperSession`select 1 from slotbase_private.worker_processes where id = ${before!.id} for update`;
    await db().query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name = 'slotbase-worker-liveness'`);
    await until(async () => (await reaperSession`select pg_try_advisory_xact_lock(${before!.lock_key}::bigint) as got`)[0]?.got === true);
    await reaperSession`select graphile_worker.force_unlock_workers(${before!.worker_ids}::text[])`;
    await reaperSession`delete from slotbase_private.worker_processes where id = ${before!.id}`;
    await reaperSession`commit`;

    await until(async () => (await processes()).length === 1);
    const [after] = await processes();
    expect(after?.id).toBe(before!.id);
    expect(after?.lock_key).not.toBe(before!.lock_key);
    expect(after?.worker_ids).toEqual(before!.worker_ids);
    expect(await (await reaper(0)).reap()).toBe(0);

    await db().query(`select graphile_worker.add_job('expire_holds', '{}'::json)`);
    await until(async () => (await jobsOf(db(), 'expire_holds')).length === 0);
  });
});
