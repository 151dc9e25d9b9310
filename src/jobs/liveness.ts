import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { WorkerEvents } from 'graphile-worker';
import postgres from 'postgres';
import type { Logger } from '#src/lib/logger.ts';

export interface Liveness {
  /** Looks for dead worker processes and releases their jobs; returns how many it reaped. */
  reap(): Promise<number>;
  /** Resolves once every worker id seen so far is registered. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Worker liveness without timeouts. This process takes a session advisory lock on one dedicated
 * connection and registers its graphile-worker ids in slotbase_private.worker_processes. When a
 * process dies (even SIGKILL), PostgreSQL closes its session and the lock is free: any other
 * process that can take it knows the owner is gone and calls graphile_worker.force_unlock_workers
 * for its ids, so the jobs it had locked run again now rather than after the 4-hour lock timeout.
 * Runs at start and every `everyMs`.
 */
export async function startLiveness(options: {
  databaseUrl: string;
  logger: Logger;
  events: WorkerEvents;
  everyMs?: number;
}): Promise<Liveness> {
  const { logger } = options;
  // One connection for the life of the process: the lock lives exactly as long as it does.
  const sql = postgres(options.databaseUrl, {
    max: 1,
    idle_timeout: 0,
    max_lifetime: null,
    onnotice: () => {},
    connection: { application_name: 'slotbase-worker-liveness' },
  });
  const id = randomUUID();
  const lockKey = randomBytes(8).readBigInt64BE();
  let pending = Promise.resolve();
  try {
    await sql`select pg_advisory_lock(${lockKey.toString()}::bigint)`;
    await sql`
      insert into slotbase_private.worker_processes (id, lock_key, hostname, pid)
      values (${id}, ${lockKey.toString()}, ${hostname()}, ${process.pid})`;
  } catch (error) {
    await sql.end({ timeout: 1 });
    throw error;
  }
  const onWorker = ({ worker }: { worker: { workerId: string } }) => {
    pending = pending
      .then(async () => {
        await sql`update slotbase_private.worker_processes set worker_ids = array_append(worker_ids, ${worker.workerId}) where id = ${id}`;
      })
      .catch((error: unknown) => logger.error({ err: error }, 'could not register a worker id'));
  };
  options.events.on('worker:create', onWorker);

  const reap = async (): Promise<number> => {
    const others = await sql<{ id: string; lock_key: string; worker_ids: string[] }[]>`
      select id, lock_key::text, worker_ids from slotbase_private.worker_processes where id <> ${id}`;
    let reaped = 0;
    for (const other of others) {
      const [got] = await sql<{ locked: boolean }[]>`select pg_try_advisory_lock(${other.lock_key}::bigint) as locked`;
      if (!got?.locked) continue;
      try {
        if (other.worker_ids.length > 0) await sql`select graphile_worker.force_unlock_workers(${other.worker_ids}::text[])`;
        await sql`delete from slotbase_private.worker_processes where id = ${other.id}`;
        reaped += 1;
        logger.warn({ process: other.id, workers: other.worker_ids }, 'released the jobs of a worker process that is gone');
      } finally {
        await sql`select pg_advisory_unlock(${other.lock_key}::bigint)`;
      }
    }
    return reaped;
  };
  await reap();
  const timer = setInterval(() => {
    reap().catch((error: unknown) => logger.error({ err: error }, 'worker liveness check failed'));
  }, options.everyMs ?? 30_000);
  timer.unref();

  return {
    reap,
    settled: () => pending,
    async stop() {
      clearInterval(timer);
      options.events.off('worker:create', onWorker);
      await pending;
      try {
        await sql`delete from slotbase_private.worker_processes where id = ${id}`;
      } finally {
        await sql.end({ timeout: 5 });
      }
    },
  };
}
