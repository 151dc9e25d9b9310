import { defineTask } from '#src/jobs/deps.ts';
import { customerEmail, customerSms, deliverAll, loadBookingContext } from '#src/jobs/notify.ts';
import { ReminderPayload } from '#src/jobs/payloads.ts';

/**
 * A reminder `offset_minutes` before a confirmed booking (job_key reminder:<booking>:<offset>,
 * due at starts_at - offset). A reschedule re-adds the keyed job at the new time; a reminder job
 * that was already running then loses its key (graphile-worker creates a new job instead), so a
 * job that no longer holds its key is about an old time and does nothing. Nothing either when the
 * booking is no longer confirmed or has already started. Keyed by the start it reminds of, so the
 * reminder for a new time is not mistaken for the one already sent for the old time.
 */
export default defineTask((deps) => async (payload, helpers) => {
  const { tenant_id, booking_id, offset_minutes } = ReminderPayload.parse(payload);
  const key = `reminder:${booking_id}:${offset_minutes}`;
  const [current] = await deps.sql<{ key: string | null }[]>`select key from graphile_worker.jobs where id = ${helpers.job.id}`;
  if (current?.key !== key) {
    helpers.logger.info(`reminder ${key} skipped: superseded by a newer reminder job (the booking moved)`);
    return;
  }
  const ctx = await loadBookingContext(deps.sql, tenant_id, booking_id);
  if (!ctx || ctx.status !== 'confirmed' || ctx.starts_at.getTime() <= Date.now()) {
    helpers.logger.info(`reminder ${key} skipped: the booking is ${ctx?.status ?? 'gone'}${ctx && ctx.starts_at.getTime() <= Date.now() ? ' and has started' : ''}`);
    return;
  }
  const epoch = Math.floor(ctx.starts_at.getTime() / 1000);
  await deliverAll([
    customerEmail(deps, ctx, 'reminder', { dedupeKey: (to) => `reminder:${booking_id}:${offset_minutes}:${epoch}:email:${to}` }),
    customerSms(deps, ctx, 'reminder', (phone) => `reminder:${booking_id}:${offset_minutes}:${epoch}:sms:${phone}`),
  ]);
});
