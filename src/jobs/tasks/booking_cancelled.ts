import { defineTask } from '#src/jobs/deps.ts';
import { customerEmail, deliverAll, loadBookingContext, loadBookingRefund } from '#src/jobs/notify.ts';
import { BookingPayload } from '#src/jobs/payloads.ts';

/**
 * A booking was cancelled (job_key cancelled:<booking>): email with METHOD:CANCEL for the same
 * UID, so calendars drop the event. A hold that was never requested or confirmed tells no one.
 */
export default defineTask((deps) => async (payload, helpers) => {
  const { tenant_id, booking_id } = BookingPayload.parse(payload);
  const ctx = await loadBookingContext(deps.sql, tenant_id, booking_id);
  if (!ctx || ctx.status !== 'cancelled' || !ctx.was_requested) {
    helpers.logger.info(`cancellation notice for ${booking_id} skipped: the booking is ${ctx?.status ?? 'gone'}${ctx && !ctx.was_requested ? ' (never more than a hold)' : ''}`);
    return;
  }
  const refund = await loadBookingRefund(deps.sql, tenant_id, booking_id);
  await deliverAll([
    customerEmail(deps, ctx, 'cancelled', {
      ...(refund ? { refund } : {}),
      ics: 'CANCEL',
      reason: ctx.status_reason,
      withManageLink: false,
      dedupeKey: (to) => `cancelled:${booking_id}:email:${to}`,
    }),
  ]);
});
