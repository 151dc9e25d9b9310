import { defineTask } from '#src/jobs/deps.ts';
import { renderEmail } from '#src/jobs/messages/index.ts';
import { deliverAll, deliverEmail, loadBookingContext, messageFieldsOf } from '#src/jobs/notify.ts';
import { BookingPayload } from '#src/jobs/payloads.ts';

/**
 * A booking awaits approval (job_key approval:<booking>): one email to each owner, and to each
 * admin and receptionist who is tenant-wide or at the booking's location. Nothing when the
 * booking was confirmed, rejected or cancelled meanwhile.
 */
export default defineTask((deps) => async (payload, helpers) => {
  const { tenant_id, booking_id } = BookingPayload.parse(payload);
  const ctx = await loadBookingContext(deps.sql, tenant_id, booking_id);
  if (!ctx || ctx.status !== 'pending') {
    helpers.logger.info(`approval request for ${booking_id} skipped: the booking is ${ctx?.status ?? 'gone'}`);
    return;
  }
  const recipients = await deps.sql<{ email: string }[]>`select email from slotbase_private.approval_recipients(${tenant_id}::uuid, ${booking_id}::uuid)`;
  const { catalog, fields } = messageFieldsOf(deps, ctx, { withManageLink: false });
  const message = renderEmail(catalog, 'approval_request', fields);
  await deliverAll(
    recipients.map(({ email }) => () => {
      const to = email.trim().toLowerCase();
      return deliverEmail(deps, {
        tenantId: tenant_id,
        bookingId: booking_id,
        template: 'approval_request',
        to,
        dedupeKey: `approval:${booking_id}:email:${to}`,
        build: () => message,
      });
    }),
  );
});
