import { defineTask } from '#src/jobs/deps.ts';
import { customerEmail, deliverAll, loadBookingContext, loadBookingRefund } from '#src/jobs/notify.ts';
import { BookingPayload } from '#src/jobs/payloads.ts';

/** Staff rejected a booking request (job_key rejected:<booking>): email with the reason and METHOD:CANCEL. */
export default defineTask((deps) => async (payload, helpers) => {
  const { tenant_id, booking_id } = BookingPayload.parse(payload);
  const ctx = await loadBookingContext(deps.sql, tenant_id, booking_id);
  if (!ctx || ctx.status !== 'rejected') {
    helpers.logger.info(`rejection notice for ${booking_id} skipped: the booking is ${ctx?.status ?? 'gone'}`);
    return;
  }
  const refund = await loadBookingRefund(deps.sql, tenant_id, booking_id);
  await deliverAll([
    customerEmail(deps, ctx, 'rejected', {
      ...(refund ? { refund } : {}),
      ics: 'CANCEL',
      reason: ctx.status_reason,
      withManageLink: false,
      dedupeKey: (to) => `rejected:${booking_id}:email:${to}`,
    }),
  ]);
});
