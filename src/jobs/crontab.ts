/**
 * Recurring jobs (graphile-worker crontab syntax: minute hour day month weekday task ?options).
 * `fill` backfills a missed run after downtime, once; `max` bounds retries of a failing run.
 */
export const CRONTAB = [
  // Safety net under the per-hold jobs: create_booking also sweeps overlapping expired holds.
  '* * * * * expire_holds ?max=3',
  // Confirmed bookings that ended more than the tenant's grace period ago become completed.
  '*/5 * * * * complete_past_bookings ?fill=1h&max=3',
  // Notification and webhook delivery logs older than LOG_RETENTION_DAYS are deleted (03:17 UTC).
  '17 3 * * * prune_logs ?fill=1d&max=3',
  // Rate-limit buckets that are full again (slotbase_private.rate_limits) are deleted.
  '*/10 * * * * prune_rate_limits ?max=1',
].join('\n');
