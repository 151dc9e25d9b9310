import { defineTask } from '#src/jobs/deps.ts';
import { customerEmail, deliverAll, loadBookingContext } from '#src/jobs/notify.ts';
import { RescheduledPayload } from '#src/jobs/payloads.ts';

/**
 * A confirmed booking moved: email with the old and the new time and the updated invitation
 * (same UID, higher SEQUENCE). Keyed by the booking's SEQUENCE and new start, so two moves that are
 * processed after the second one send one message about where the booking is now.
 */
export default defineTask((deps) => async (payload, helpers) => {
  const { tenant_id, booking_id, previous_starts_at } = RescheduledPayload.parse(payload);
  const ctx = await loadBookingContext(deps.sql, tenant_id, booking_id);
  const previous = new Date(previous_starts_at);
  if (!ctx || ctx.status !== 'confirmed') {
    helpers.logger.info(`reschedule notice for ${booking_id} skipped: the booking is ${ctx?.status ?? 'gone'}`);
    return;
  }
  if (ctx.starts_at.getTime() === previous.getTime()) {
    helpers.logger.info(`reschedule notice for ${booking_id} skipped: it is back at its previous time`);
    return;
  }
  const epoch = Math.floor(ctx.starts_at.getTime() / 1000);
  await deliverAll([
    customerEmail(deps, ctx, 'rescheduled', {
      ics: 'REQUEST',
      previousStartsAt: previous,
      dedupeKey: (to) => `rescheduled:${booking_id}:${ctx.sequence}:${epoch}:email:${to}`,
    }),
  ]);
});
