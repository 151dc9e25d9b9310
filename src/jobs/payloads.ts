import { z } from 'zod';

/** What the booking triggers enqueue (tg_bookings__enqueue_jobs): a job names its tenant and booking. */
export const BookingPayload = z.object({
  tenant_id: z.uuid(),
  booking_id: z.uuid(),
});
export type BookingPayload = z.infer<typeof BookingPayload>;

export const ReminderPayload = BookingPayload.extend({ offset_minutes: z.number().int() });
export const RescheduledPayload = BookingPayload.extend({ previous_starts_at: z.string() });

/** A staff invitation to email (add_member, job_key invitation:<id>). */
export const InvitationPayload = z.object({
  tenant_id: z.uuid(),
  invitation_id: z.uuid(),
});
