import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { WorkerEvents } from 'graphile-worker';
import pg from 'pg';
import type { Logger } from '#src/lib/logger.ts';

export interface Liveness {
  /** This process's row in slotbase_private.worker_processes. */
  readonly id: string;
  /**
   * graphile-worker's `forbiddenFlags` hook, asked before every job fetch: answers at once while
   * this process is registered on a live session, and holds the fetch while it is not (session
   * lost, or a worker pool id not yet written), so no job is ever locked by an unregistered pool.
   */
  gate(): null | Promise<null>;
  /** Looks for dead worker processes and releases their jobs; returns how many it reaped. */
  reap(): Promise<number>;
  /** Resolves once every worker pool seen so far is registered. */
  settled(): Promise<void>;
  /** True while the liveness session (and so the lock) is up. */
  isLive(): boolean;
  /** Stop holding job fetches back (shutdown has begun: the pool must be able to drain). */
  release(): void;
  /** Unregisters this process (call after the worker pool has finished its jobs) and closes the session. */
  stop(): Promise<void>;
}

export interface LivenessOptions {
  databaseUrl: string;
  logger: Logger;
  events: WorkerEvents;
  /** How often to look for dead processes. Default 30 s. */
  everyMs?: number;
  /**
   * When the database server restarts, every worker loses its lock at once, and each must get the
   * chance to take a new one before anyone treats it as dead: processes registered before the
   * server started are not reaped until it has been up this long, and a reaper whose own session
   * came back (a restart or failover it lived through) holds off this long. Default 30 s.
   */
  graceMs?: number;
}

/**
 * Worker liveness without timeouts. This process takes a session advisory lock on one dedicated
 * connection and registers the ids of its graphile-worker pools (what `locked_by` holds on the jobs
 * they run) in slotbase_private.worker_processes. When a process dies (even SIGKILL), PostgreSQL
 * closes its session and the lock is free: another process that can take it knows the owner is
 * gone and calls graphile_worker.force_unlock_workers for its pool ids, so the jobs it had locked
 * run again now rather than after graphile-worker's 4-hour lock timeout.
 *
 * Losing the session while alive (database restart, failover, an administrator's
 * pg_terminate_backend) also frees the lock, so a live process could be mistaken for a dead one and
 * its jobs in flight run a second time elsewhere. To keep that window small: job fetching pauses
 * while the session is down (gate), the session reconnects at once and re-registers under a fresh
 * lock key, and reapers give such processes `graceMs` to come back (see LivenessOptions.graceMs). If a reaper was faster anyway, this process notices that its row is gone, says so
 * in the log, and registers again: its jobs then in flight are the ones that may run twice.
 * The session lock needs a real session: point DATABASE_URL at PostgreSQL directly or at a
 * session-mode pooler, never at a transaction-mode pooler.
 */
export async function startLiveness(options: LivenessOptions): Promise<Liveness> {
  const { logger } = options;
  const everyMs = options.everyMs ?? 30_000;
  const graceMs = options.graceMs ?? 30_000;
  const id = randomUUID();
  const poolIds: string[] = [];

  let client: pg.Client | undefined;
  let lockKey = '';
  let live = false;
  let released = false;
  let stopped = false;
  let holdOffUntil = 0;
  let reconnecting: Promise<void> | undefined;
  let waiters: (() => void)[] = [];
  // One connection, so one statement (or transaction) at a time.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const next = chain.then(() => {
      if (!client || !live) throw new Error('the worker liveness session is down');
      return fn(client);
    });
    chain = next.catch(() => {});
    return next;
  };
  let pending: Promise<void> = Promise.resolve();
  let unsettled = 0;

  const wake = () => {
    const ready = waiters;
    waiters = [];
    for (const resolve of ready) resolve();
  };

  /** Opens a session, takes a fresh lock and writes this process's row (creating it if it is gone). */
  const register = async (first: boolean): Promise<void> => {
    const c = new pg.Client({ connectionString: options.databaseUrl, application_name: 'slotbase-worker-liveness', keepAlive: true });
    c.on('error', () => {}); // reported through 'end'
    let ended = false;
    c.once('end', () => {
      ended = true;
      onLost(c);
    });
    await c.connect();
    let key = '';
    try {
      for (;;) {
        key = randomBytes(8).readBigInt64BE().toString();
        const { rows } = await c.query<{ locked: boolean }>('select pg_try_advisory_lock($1::bigint) as locked', [key]);
        if (rows[0]?.locked) break;
      }
      await c.query('begin');
      // Waits for a reaper that holds the row; once it has committed, the row is gone.
      const { rowCount } = await c.query('update slotbase_private.worker_processes set lock_key = $2, worker_ids = $3 where id = $1', [id, key, poolIds]);
      if (rowCount === 0) {
        await c.query(
          'insert into slotbase_private.worker_processes (id, lock_key, worker_ids, hostname, pid) values ($1, $2, $3, $4, $5)',
          [id, key, poolIds, hostname(), process.pid],
        );
        if (!first) {
          logger.error({ process: id, workers: poolIds }, 'this worker process was taken for dead while its liveness session was down and its jobs were released: jobs it had in flight may run twice');
        }
      }
      await c.query('commit');
      if (!first) holdOffUntil = Date.now() + graceMs;
    } catch (error) {
      await c.end().catch(() => {});
      throw error;
    }
    if (stopped) {
      await c.query('delete from slotbase_private.worker_processes where id = $1', [id]).catch(() => {});
      await c.end().catch(() => {});
      return;
    }
    client = c;
    lockKey = key;
    live = true;
    wake();
    if (ended) onLost(c); // lost again before it was even in use
  };

  const onLost = (c: pg.Client) => {
    if (stopped || c !== client) return;
    live = false;
    client = undefined;
    logger.error({ process: id, lockKey }, 'worker liveness session lost: not taking new jobs until it is back');
    reconnecting ??= (async () => {
      for (let delay = 100; !stopped; delay = Math.min(delay * 2, 5_000)) {
        try {
          await register(false);
          logger.warn({ process: id, lockKey }, 'worker liveness session is back');
          return;
        } catch (error) {
          logger.warn({ err: error, retryInMs: delay }, 'worker liveness session: reconnect failed');
          await new Promise((resolve) => setTimeout(resolve, delay).unref());
        }
      }
    })().finally(() => {
      reconnecting = undefined;
    });
  };

  await register(true);

  const onPool = ({ workerPool }: { workerPool: { id: string } }) => {
    poolIds.push(workerPool.id);
    const ids = [...poolIds];
    unsettled += 1;
    pending = pending
      .then(() => serial((c) => c.query('update slotbase_private.worker_processes set worker_ids = $2 where id = $1', [id, ids])))
      // Down: register() writes every pool id when the session is back.
      .then(() => {}, (error: unknown) => logger.warn({ err: error }, 'could not register a worker pool yet'))
      .finally(() => {
        unsettled -= 1;
      });
  };
  options.events.on('pool:create', onPool);

  const reap = async (): Promise<number> => {
    if (!live || Date.now() < holdOffUntil) return 0;
    // A process registered before the server (re)started lost its lock to the restart, not
    // necessarily to dying: it gets graceMs of server uptime to take a new one.
    const others = await serial(
      async (c) =>
        (
          await c.query<{ id: string }>(
            `select id from slotbase_private.worker_processes
             where id <> $1
               and not (started_at < pg_catalog.pg_postmaster_start_time()
                        and pg_catalog.now() - pg_catalog.pg_postmaster_start_time() < pg_catalog.make_interval(secs => $2))`,
            [id, graceMs / 1000],
          )
        ).rows,
    );
    let reaped = 0;
    for (const other of others) {
      // Row lock first, then the owner's lock, in one transaction: an owner re-registering waits
      // for this to commit (and then finds its row gone), and a failure here changes nothing.
      const done = await serial(async (c) => {
        await c.query('begin');
        try {
          const { rows } = await c.query<{ lock_key: string; worker_ids: string[] }>(
            'select lock_key::text, worker_ids from slotbase_private.worker_processes where id = $1 for update skip locked',
            [other.id],
          );
          const row = rows[0];
          const got = row && (await c.query<{ locked: boolean }>('select pg_try_advisory_xact_lock($1::bigint) as locked', [row.lock_key])).rows[0]?.locked;
          if (!row || !got) {
            await c.query('rollback');
            return false;
          }
          if (row.worker_ids.length > 0) await c.query('select graphile_worker.force_unlock_workers($1::text[])', [row.worker_ids]);
          await c.query('delete from slotbase_private.worker_processes where id = $1', [other.id]);
          await c.query('commit');
          logger.warn({ process: other.id, workers: row.worker_ids }, 'released the jobs of a worker process that is gone');
          return true;
        } catch (error) {
          await c.query('rollback').catch(() => {});
          throw error;
        }
      });
      if (done) reaped += 1;
    }
    return reaped;
  };
  await reap();
  const timer = setInterval(() => {
    if (!live) return;
    reap().catch((error: unknown) => logger.error({ err: error }, 'worker liveness check failed'));
  }, everyMs);
  timer.unref();

  return {
    id,
    gate() {
      if (released || (live && unsettled === 0)) return null;
      return pending.then(
        () =>
          new Promise<null>((resolve) => {
            if (released || live) resolve(null);
            else waiters.push(() => resolve(null));
          }),
      );
    },
    reap,
    settled: () => pending,
    isLive: () => live,
    release() {
      released = true;
      wake();
    },
    async stop() {
      if (stopped) return;
      released = true;
      wake();
      clearInterval(timer);
      options.events.off('pool:create', onPool);
      await pending;
      stopped = true;
      const c = client;
      client = undefined;
      live = false;
      if (!c) return; // the row stays; its lock is free, and the next reaper removes it (no jobs are locked by it any more)
      try {
        await chain;
        // Called once the pool has stopped: nothing of ours should be locked any more. If a job's
        // completion was lost anyway, release it now rather than strand it behind a row that is gone.
        await c.query('begin');
        const { rows } = await c.query<{ stranded: number }>('select count(*)::integer as stranded from graphile_worker._private_jobs where locked_by = any($1::text[])', [poolIds]);
        if (rows[0]?.stranded) {
          await c.query('select graphile_worker.force_unlock_workers($1::text[])', [poolIds]);
          logger.warn({ jobs: rows[0].stranded, workers: poolIds }, 'released jobs this worker still had locked when it stopped; they will run again');
        }
        await c.query('delete from slotbase_private.worker_processes where id = $1', [id]);
        await c.query('commit');
      } finally {
        await c.end().catch(() => {});
      }
    },
  };
}
