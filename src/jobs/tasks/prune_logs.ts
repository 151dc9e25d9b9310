import { defineTask } from '#src/jobs/deps.ts';

const BATCH = 5000;

/**
 * Cron (daily): deletes notification and webhook delivery logs older than LOG_RETENTION_DAYS, one
 * bounded batch per statement so no transaction runs long, until a batch comes back short.
 */
export default defineTask(({ sql, logger, config }) => async () => {
  let notifications = 0;
  let deliveries = 0;
  for (;;) {
    const [row] = await sql<{ notifications_deleted: number; webhook_deliveries_deleted: number }[]>`
      select * from slotbase_private.prune_logs(make_interval(days => ${config.LOG_RETENTION_DAYS}), ${BATCH})`;
    notifications += row?.notifications_deleted ?? 0;
    deliveries += row?.webhook_deliveries_deleted ?? 0;
    if (!row || (row.notifications_deleted < BATCH && row.webhook_deliveries_deleted < BATCH)) break;
  }
  if (notifications + deliveries > 0) {
    logger.info({ notifications, webhook_deliveries: deliveries, retention_days: config.LOG_RETENTION_DAYS }, 'old delivery logs pruned');
  }
});
