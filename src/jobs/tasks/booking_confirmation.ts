import { defineTask } from '#src/jobs/deps.ts';
import { customerEmail, customerSms, deliverAll, loadBookingContext } from '#src/jobs/notify.ts';
import { BookingPayload } from '#src/jobs/payloads.ts';

/**
 * A booking became confirmed (job_key confirmation:<booking>): email with the calendar invitation
 * (METHOD:REQUEST) and, where the tenant enabled SMS, a short text. Nothing when the booking is no
 * longer confirmed by the time the job runs.
 */
export default defineTask((deps) => async (payload, helpers) => {
  const { tenant_id, booking_id } = BookingPayload.parse(payload);
  const ctx = await loadBookingContext(deps.sql, tenant_id, booking_id);
  if (!ctx || ctx.status !== 'confirmed') {
    helpers.logger.info(`confirmation of ${booking_id} skipped: the booking is ${ctx?.status ?? 'gone'}`);
    return;
  }
  await deliverAll([
    customerEmail(deps, ctx, 'confirmation', { ics: 'REQUEST', dedupeKey: (to) => `confirmation:${booking_id}:email:${to}` }),
    customerSms(deps, ctx, 'confirmation', (phone) => `confirmation:${booking_id}:sms:${phone}`),
  ]);
});
