import { defineLocale } from '../types.ts';

export default defineLocale({
  intl: 'en',
  labels: {
    when: 'When',
    previousWhen: 'Previously',
    service: 'Service',
    provider: 'With',
    where: 'Where',
    code: 'Booking code',
    booker: 'Booked by',
    reason: 'Reason',
    yes: 'Yes',
    no: 'No',
    refund: 'Refund',
    refundText: (amount, paid, kind) =>
      kind === 'none'
        ? `none: under the cancellation policy the ${paid} paid is not refunded`
        : kind === 'full'
          ? `${amount}, back to the card you paid with (it may take a few days to appear)`
          : `${amount} of the ${paid} paid, under the cancellation policy, back to the card you paid with`,
    manage: 'View, reschedule or cancel your booking',
    acceptOffer: 'Accept or decline this time',
    offerExpires: 'Held for you until',
    footer: (tenant) => `Sent by ${tenant} via Slotbase.`,
  },
  email: {
    confirmation: (m) => ({
      subject: `Confirmed: ${m.serviceName} on ${m.whenShort}`,
      greeting: `Hello ${m.contactName},`,
      lead: [`your booking with ${m.tenantName} is confirmed. The calendar invitation is attached.`],
    }),
    reminder: (m) => ({
      subject: `Reminder: ${m.serviceName} on ${m.whenShort}`,
      greeting: `Hello ${m.contactName},`,
      lead: [`this is a reminder of your upcoming booking with ${m.tenantName}.`],
    }),
    rescheduled: (m) => ({
      subject: `Rescheduled: ${m.serviceName} now on ${m.whenShort}`,
      greeting: `Hello ${m.contactName},`,
      lead: [`your booking with ${m.tenantName} has moved to a new time. The updated calendar invitation is attached.`],
    }),
    cancelled: (m) => ({
      subject: `Cancelled: ${m.serviceName} on ${m.whenShort}`,
      greeting: `Hello ${m.contactName},`,
      lead: [`your booking with ${m.tenantName} has been cancelled.`],
      after: [`You are welcome to book another time.`],
    }),
    rejected: (m) => ({
      subject: `Not accepted: ${m.serviceName} on ${m.whenShort}`,
      greeting: `Hello ${m.contactName},`,
      lead: [`unfortunately ${m.tenantName} could not accept your booking request.`],
      after: [`You are welcome to request another time.`],
    }),
    approval_request: (m) => ({
      subject: `Approval needed: ${m.serviceName} for ${m.contactName} on ${m.whenShort}`,
      greeting: `Hello,`,
      lead: [`${m.contactName} has requested a booking that needs your approval.`],
      after: [`Confirm or reject it in Slotbase (booking ${m.bookingId}: POST /v1/bookings/${m.bookingId}/confirm or /reject).`],
    }),
    waitlist_offer: (m) => ({
      subject: `A time is free: ${m.serviceName} on ${m.whenShort}`,
      greeting: `Hello ${m.contactName},`,
      lead: [`a time you were waiting for at ${m.tenantName} has become free, and we are holding it for you.`],
      after: [`Accept it before the hold ends, or it goes to the next person on the waitlist. If it does not suit you, decline it and you keep your place for other times.`],
    }),
  },
  sms: {
    confirmation: (m) => `${m.tenantName}: your ${m.serviceName} on ${m.whenShort} is confirmed (${m.code}).${m.manageUrl ? ` Manage: ${m.manageUrl}` : ''}`,
    reminder: (m) => `${m.tenantName}: reminder of your ${m.serviceName} on ${m.whenShort} (${m.code}).${m.manageUrl ? ` Manage: ${m.manageUrl}` : ''}`,
  },
});
