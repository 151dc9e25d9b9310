import { defineTask } from '#src/jobs/deps.ts';

const BATCH = 10_000;

/**
 * Cron (every ten minutes): deletes rate-limit buckets and failed-login counters that are full again
 * (their time has passed: they carry no information), in bounded batches until one comes back short.
 */
export default defineTask(({ sql, logger }) => async () => {
  let deleted = 0;
  for (;;) {
    const [row] = await sql<{ deleted: number }[]>`select slotbase_private.prune_rate_limits(${BATCH}) as deleted`;
    deleted += row?.deleted ?? 0;
    if (!row || row.deleted < BATCH) break;
  }
  if (deleted > 0) logger.debug({ deleted }, 'full rate-limit buckets pruned');
});
