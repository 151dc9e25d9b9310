import { createRoute, z } from '@hono/zod-openapi';
import { jsonBody, jsonContent, problems, Timestamp, Uuid } from '../../openapi.ts';
import { PageQuery } from '../../pagination.ts';
import { bookingExamples as ex, ids } from '../../examples.ts';
import { Answer, AnswersInput } from '../catalog/questions.routes.ts';

const security = [{ bearerAuth: [] }];
const tags = ['Bookings'];

export const BOOKING_STATUSES = ['held', 'pending', 'confirmed', 'completed', 'no_show', 'cancelled', 'rejected', 'expired'] as const;
export const BookingStatus = z.enum(BOOKING_STATUSES).openapi('BookingStatus');

export const Booking = z
  .object({
    id: Uuid,
    code: z.string().openapi({ example: 'BK-7F3K9QM' }),
    status: BookingStatus,
    source: z.enum(['public', 'staff']).openapi({ description: 'Booked by the customer (public) or by staff on their behalf' }),
    service_id: Uuid,
    provider_id: Uuid,
    location_id: Uuid,
    session_id: Uuid.nullable(),
    customer_user_id: Uuid.nullable(),
    contact_name: z.string(),
    contact_email: z.string().nullable(),
    contact_phone: z.string().nullable(),
    party_size: z.number().int(),
    starts_at: Timestamp,
    ends_at: Timestamp,
    notes: z.string().nullable(),
    answers: z.array(Answer).openapi({ description: 'Answers to the service\'s booking questions, as asked when the booking was made' }),
    hold_expires_at: Timestamp.nullable(),
    status_reason: z.string().nullable(),
    created_by: Uuid.nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('Booking', { example: ex.booking });

export const BookingList = z
  .object({ data: z.array(Booking), next_cursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last page' }) })
  .openapi('BookingList', { example: ex.bookingList });

export const BookingEvent = z
  .object({
    id: Uuid,
    booking_id: Uuid,
    at: Timestamp,
    actor_user_id: Uuid.nullable(),
    actor_role: z.string().nullable().openapi({ example: 'receptionist', description: 'Member role, `anon`/`authenticated` for bookers, `system` for the worker' }),
    from_status: z.union([BookingStatus, z.null()]).openapi({ description: 'null for the event that created the booking' }),
    to_status: BookingStatus,
    changes: z.record(z.string(), z.unknown()).openapi({ example: { reason: 'doctor ill' } }),
  })
  .openapi('BookingEvent', { example: ex.events.data[1] });

const StatusList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean))
  .pipe(z.array(BookingStatus).min(1));

export const BookingQuery = z.object({
  from: Timestamp.optional().openapi({ param: { name: 'from', in: 'query' }, description: 'Bookings starting at or after this instant' }),
  to: Timestamp.optional().openapi({ param: { name: 'to', in: 'query' }, description: 'Bookings starting before this instant' }),
  provider: Uuid.optional().openapi({ param: { name: 'provider', in: 'query' } }),
  location: Uuid.optional().openapi({ param: { name: 'location', in: 'query' } }),
  service: Uuid.optional().openapi({ param: { name: 'service', in: 'query' } }),
  status: StatusList.optional().openapi({
    param: { name: 'status', in: 'query', style: 'form', explode: true },
    description: 'Repeat the parameter or send a comma-separated list: `status=pending&status=confirmed` or `status=pending,confirmed`',
    type: 'array',
    items: { type: 'string', enum: [...BOOKING_STATUSES] },
    example: ['pending', 'confirmed'],
  }),
  customer: z.email().max(254).optional().openapi({ param: { name: 'customer', in: 'query' }, description: 'Contact email (case-insensitive)', example: 'ada@example.com' }),
  q: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9-]{1,12}$/)
    .optional()
    .openapi({ param: { name: 'q', in: 'query' }, description: 'Booking code or its beginning (case-insensitive)', example: 'BK-7F3' }),
  ...PageQuery,
});

const Contact = z.strictObject({
  name: z.string().trim().min(1).max(200).openapi({ example: 'Ada Lovelace' }),
  email: z.email().max(254).optional().openapi({ example: 'ada@example.com' }),
  phone: z.string().regex(/^\+?[0-9 ()./-]{3,32}$/).optional().openapi({ example: '+49 30 1234567' }),
});

export const StaffBookingRequest = z
  .strictObject({
    service_id: Uuid,
    starts_at: Timestamp.optional().openapi({ description: 'Required for appointment services' }),
    provider_id: Uuid.optional().openapi({ description: 'Omit for "any provider"' }),
    location_id: Uuid.optional(),
    session_id: Uuid.optional().openapi({ description: 'Required for group services' }),
    party_size: z.number().int().min(1).max(1000).default(1),
    contact: Contact.openapi({ description: 'The customer; staff may book a walk-in without email or phone' }),
    notes: z.string().max(5000).optional(),
    hold: z.boolean().default(false).openapi({ description: 'Create a held booking that expires unless confirmed' }),
    answers: AnswersInput.optional().openapi({ description: 'Answers to the service\'s questions by question id; checked like a booker\'s, but staff may leave required ones out' }),
  })
  .openapi('StaffBookingRequest', { example: ex.staffRequest });

export const StaffBookingReceipt = Booking.extend({
  manage_token: z.string().openapi({ description: 'Shown once: staff may pass it on so the customer can view, reschedule or cancel' }),
  manage_url: z.string().openapi({ example: '/v1/public/bookings/BK-7F3K9QM?token=…' }),
}).openapi('StaffBookingReceipt', { example: ex.staffReceipt });

export const ReasonRequest = z.strictObject({ reason: z.string().trim().min(1).max(1000).optional() }).openapi('BookingReasonRequest', { example: ex.reasonRequest });

export const StaffRescheduleRequest = z
  .strictObject({
    starts_at: Timestamp.optional().openapi({ description: 'Required for appointment services' }),
    provider_id: Uuid.optional().openapi({ description: 'Default: the current provider' }),
    location_id: Uuid.optional(),
    session_id: Uuid.optional().openapi({ description: 'Required for group services' }),
  })
  .openapi('StaffRescheduleRequest', { example: ex.rescheduleRequest });

const IdParam = z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) });
const optionalBody = <T extends z.ZodType>(schema: T) => ({ required: false, content: { 'application/json': { schema } } });

export const listBookings = createRoute({
  method: 'get',
  path: '/v1/bookings',
  operationId: 'listBookings',
  tags,
  security,
  summary: 'Bookings in your scope, earliest first (cursor-paginated)',
  request: { query: BookingQuery },
  responses: { 200: jsonContent(BookingList, 'A page of bookings'), ...problems(401, 422) },
});

export const getBooking = createRoute({
  method: 'get',
  path: '/v1/bookings/{id}',
  operationId: 'getBooking',
  tags,
  security,
  summary: 'One booking',
  request: { params: IdParam },
  responses: { 200: jsonContent(Booking, 'The booking'), ...problems(401, 404, 422) },
});

export const listBookingEvents = createRoute({
  method: 'get',
  path: '/v1/bookings/{id}/events',
  operationId: 'listBookingEvents',
  tags,
  security,
  summary: 'The audit trail of a booking, oldest first',
  request: { params: IdParam },
  responses: { 200: jsonContent(z.object({ data: z.array(BookingEvent) }).openapi({ example: ex.events }), 'Events'), ...problems(401, 404, 422) },
});

export const createBooking = createRoute({
  method: 'post',
  path: '/v1/bookings',
  operationId: 'createBooking',
  tags,
  security,
  summary: 'Book on behalf of a customer (front desk, phone, walk-in)',
  description:
    'Owners, admins and receptionists (at their location) may book hidden services and inside the notice period. ' +
    'Send an `Idempotency-Key` header to make retries safe: the same key and body return the original booking.',
  request: {
    headers: z.object({
      'idempotency-key': z.string().min(1).max(255).optional().openapi({ description: 'Makes retries safe: the same key and body return the original booking', example: ids.requestId }),
    }),
    body: jsonBody(StaffBookingRequest),
  },
  responses: { 201: jsonContent(StaffBookingReceipt, 'Booked'), ...problems(400, 401, 402, 403, 404, 409, 413, 415, 422) },
});

/** A bodiless status change. */
const action = (path: string, operationId: string, summary: string) =>
  createRoute({
    method: 'post',
    path: `/v1/bookings/{id}/${path}`,
    operationId,
    tags,
    security,
    summary,
    request: { params: IdParam },
    responses: { 200: jsonContent(Booking, 'The updated booking'), ...problems(401, 404, 409, 422) },
  });

export const confirmBooking = action('confirm', 'confirmBooking', 'Confirm a held or pending booking');
export const rejectBooking = createRoute({
  method: 'post',
  path: '/v1/bookings/{id}/reject',
  operationId: 'rejectBooking',
  tags,
  security,
  summary: 'Reject a held or pending booking (frees its time)',
  request: { params: IdParam, body: optionalBody(ReasonRequest) },
  responses: { 200: jsonContent(Booking, 'The rejected booking'), ...problems(400, 401, 404, 409, 415, 422) },
});
export const cancelBooking = createRoute({
  method: 'post',
  path: '/v1/bookings/{id}/cancel',
  operationId: 'cancelBooking',
  tags,
  security,
  summary: 'Cancel an active booking (frees its time or seats)',
  request: { params: IdParam, body: optionalBody(ReasonRequest) },
  responses: { 200: jsonContent(Booking, 'The cancelled booking'), ...problems(400, 401, 404, 409, 415, 422) },
});
export const completeBooking = action('complete', 'completeBooking', 'Mark a confirmed booking completed (staff or its provider)');
export const markNoShow = action('no-show', 'markBookingNoShow', 'Mark a confirmed booking as a no-show (staff or its provider)');
export const rescheduleBooking = createRoute({
  method: 'post',
  path: '/v1/bookings/{id}/reschedule',
  operationId: 'rescheduleBooking',
  tags,
  security,
  summary: 'Move a booking (atomic: the old time is kept if the new one is taken)',
  request: { params: IdParam, body: jsonBody(StaffRescheduleRequest) },
  responses: { 200: jsonContent(Booking, 'The rescheduled booking'), ...problems(400, 401, 404, 409, 415, 422) },
});
