import { defineTask } from '#src/jobs/deps.ts';

/** Cron: confirmed bookings that ended more than the tenant's grace period ago become completed. */
export default defineTask(({ sql, logger }) => async () => {
  for (;;) {
    const [row] = await sql<{ completed: number }[]>`select slotbase_private.complete_past_bookings(1000) as completed`;
    if (!row || row.completed === 0) return;
    logger.info({ completed: row.completed }, 'past bookings completed');
    if (row.completed < 1000) return;
  }
});
