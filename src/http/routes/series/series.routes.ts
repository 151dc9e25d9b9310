import { createRoute, z } from '@hono/zod-openapi';
import { jsonBody, jsonContent, problems, Timestamp, Uuid } from '../../openapi.ts';
import { ProblemSchema } from '../../problem.ts';
import { staffOnly } from '../../staff.ts';
import { AnswersInput } from '../catalog/questions.routes.ts';

const UUID_A = '5f0c3a9e-2b71-4c8e-9a6d-1e2f3a4b5c6d';
const UUID_B = '7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const LOCATION = '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
const PROVIDER = '2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a';
const SERVICE = '3e4f5a6b-7c8d-4e9f-8a1b-2c3d4e5f6a7b';
const TOKEN = 'Zq3x9Vb2Lr7Tn5Kd1Hs8Wm4Yp6Cf0Ga2Jk9Ue3Ri7Oz';

const TenantSlug = z.string().min(1).max(63).openapi({ param: { name: 'tenant', in: 'path' }, example: 'sunrise-clinic' });
const SeriesCode = z
  .string()
  .regex(/^[A-Za-z]{2}-[0-9A-Za-z]{6,8}$/)
  .openapi({ param: { name: 'code', in: 'path' }, example: 'SR-7F3K9QM' });
const IdParam = z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) });
export const SeriesTokenQuery = z.object({
  token: z.string().min(1).max(200).optional().openapi({ param: { name: 'token', in: 'query' }, description: 'The series manage token (or send it as X-Manage-Token)', example: TOKEN }),
});

const Rrule = z
  .string()
  .trim()
  .min(1)
  .max(500)
  .openapi({
    description:
      'RFC 5545 RRULE subset: `FREQ=WEEKLY` (`INTERVAL` 1 or 2, optional `BYDAY=MO,TH`) or `FREQ=MONTHLY` (`INTERVAL` 1–12, optional `BYMONTHDAY`), ' +
      'with exactly one of `COUNT` or `UNTIL` (`YYYYMMDD` or `YYYYMMDDTHHMMSSZ`); at most 52 occurrences. `starts_at` is the first occurrence and must match the rule.',
    example: 'FREQ=WEEKLY;BYDAY=TU;COUNT=10',
  });
const Mode = z.enum(['all_or_nothing', 'partial']).default('all_or_nothing').openapi({
  description: '`all_or_nothing`: any date that cannot be booked fails the request (409 `series_conflict` listing them) and nothing is booked. `partial`: books the free dates and lists the others in `conflicts`.',
  example: 'partial',
});
const Contact = z.strictObject({
  name: z.string().trim().min(1).max(200).openapi({ example: 'Ada Lovelace' }),
  email: z.email().max(254).optional().openapi({ example: 'ada@example.com' }),
  phone: z.string().regex(/^\+?[0-9 ()./-]{3,32}$/).optional().openapi({ example: '+49 30 1234567' }),
});

const requestFields = {
  service_id: Uuid,
  starts_at: Timestamp.openapi({ description: 'The first occurrence; its local wall-clock time (in the location\'s zone) is kept for every date, across DST' }),
  rrule: Rrule,
  mode: Mode,
  provider_id: Uuid.optional().openapi({ description: 'Omit for "any provider" (chosen per date)' }),
  location_id: Uuid.optional().openapi({ description: 'Where every date takes place; needed when the providers work at several locations then' }),
  party_size: z.number().int().min(1).max(1000).default(1),
  notes: z.string().max(5000).optional(),
  answers: AnswersInput.optional().openapi({
    description: 'Answers to the service\'s questions by question id, given once for every date; a missing required answer (bookers) or an invalid one fails the whole request with 422 `invalid_answer` naming `answers.<question id>`, in both modes',
  }),
};
const exampleRequest = { service_id: SERVICE, starts_at: '2027-03-02T08:00:00Z', rrule: 'FREQ=WEEKLY;BYDAY=TU;COUNT=10', mode: 'partial' as const, provider_id: PROVIDER, contact: { name: 'Ada Lovelace', email: 'ada@example.com' } };

export const PublicSeriesRequest = z
  .strictObject({ ...requestFields, contact: Contact.optional().openapi({ description: 'Required, unless you are signed in: then your profile is used' }) })
  .openapi('PublicBookingSeriesRequest', { example: exampleRequest });
export const StaffSeriesRequest = z
  .strictObject({ ...requestFields, contact: Contact.openapi({ description: 'The customer; staff may book without email or phone' }) })
  .openapi('StaffBookingSeriesRequest', { example: exampleRequest });

export const SeriesOccurrence = z
  .object({
    booking_id: Uuid,
    code: z.string().openapi({ example: 'BK-7F3K9QM' }),
    manage_token: z.string().nullable().openapi({ description: 'The occurrence\'s own manage token (for the holder of the series token); null for staff' }),
    status: z.enum(['held', 'pending', 'confirmed', 'completed', 'no_show', 'cancelled', 'rejected', 'expired']),
    starts_at: Timestamp,
    ends_at: Timestamp,
    local_starts_at: z.string().openapi({ example: '2027-03-02T09:00:00', description: 'Wall-clock start in the series\' zone' }),
    provider_id: Uuid,
    location_id: Uuid,
  })
  .openapi('BookingSeriesOccurrence');

export const SeriesConflict = z
  .object({
    occurrence: z.number().int().optional().openapi({ description: 'Which date of the rule (1 = the first); when creating' }),
    booking_id: Uuid.optional().openapi({ description: 'The occurrence that could not move; when rescheduling' }),
    starts_at: Timestamp,
    local_starts_at: z.string().openapi({ example: '2027-03-16T09:00:00' }),
    code: z.string().openapi({ example: 'slot_taken', description: 'Why, as the problem `code` booking that date alone would answer (`slot_taken`, `outside_availability`, `too_early`, …)' }),
    sqlstate: z.string().openapi({ example: 'SBTAK' }),
    message: z.string().openapi({ example: 'this time was just taken' }),
  })
  .openapi('BookingSeriesConflict');

const occurrenceExample = (n: number, status = 'confirmed') => ({
  booking_id: n === 0 ? UUID_B : '8b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e',
  code: n === 0 ? 'BK-7F3K9QM' : 'BK-3QW8ZPX',
  manage_token: TOKEN,
  status: status as 'confirmed',
  starts_at: n === 0 ? '2027-03-02T08:00:00Z' : '2027-03-30T07:00:00Z',
  ends_at: n === 0 ? '2027-03-02T08:30:00Z' : '2027-03-30T07:30:00Z',
  local_starts_at: n === 0 ? '2027-03-02T09:00:00' : '2027-03-30T09:00:00',
  provider_id: PROVIDER,
  location_id: LOCATION,
});
const conflictExample = { occurrence: 3, starts_at: '2027-03-16T08:00:00Z', local_starts_at: '2027-03-16T09:00:00', code: 'slot_taken', sqlstate: 'SBTAK', message: 'this time was just taken' };

export const BookingSeries = z
  .object({
    id: Uuid,
    code: z.string().openapi({ example: 'SR-7F3K9QM' }),
    manage_token: z.string().nullable().openapi({ description: 'With the code it lets the booker view, cancel or move the series; shown to the booker, null for staff reads' }),
    manage_url: z.string().nullable().openapi({ example: '/v1/public/booking-series/SR-7F3K9QM?token=…' }),
    service_id: Uuid,
    provider_id: Uuid.nullable(),
    location_id: Uuid,
    rrule: z.string(),
    mode: z.enum(['all_or_nothing', 'partial']),
    time_zone: z.string().openapi({ example: 'Europe/Berlin' }),
    contact_name: z.string(),
    party_size: z.number().int(),
    source: z.enum(['public', 'staff']),
    created_at: Timestamp,
    occurrences: z.array(SeriesOccurrence).openapi({ description: 'Every booking of the series, earliest first (cancelled ones included)' }),
    conflicts: z.array(SeriesConflict).openapi({ description: 'Dates the rule yields that could not be booked when the series was created (partial mode)' }),
  })
  .openapi('BookingSeries', {
    example: {
      id: UUID_A, code: 'SR-7F3K9QM', manage_token: TOKEN, manage_url: `/v1/public/booking-series/SR-7F3K9QM?token=${TOKEN}`,
      service_id: SERVICE, provider_id: PROVIDER, location_id: LOCATION, rrule: 'FREQ=WEEKLY;BYDAY=TU;COUNT=5', mode: 'partial',
      time_zone: 'Europe/Berlin', contact_name: 'Ada Lovelace', party_size: 1, source: 'public', created_at: '2027-02-20T10:00:00Z',
      occurrences: [occurrenceExample(0), occurrenceExample(4)], conflicts: [conflictExample],
    },
  });

/** 409 of a series that cannot be booked or moved as asked: the problem, with every conflicting date. */
export const SeriesConflictProblem = ProblemSchema.extend({
  conflicts: z.array(SeriesConflict).optional().openapi({ description: 'With `series_conflict`: every date that could not be booked or moved, and why' }),
}).openapi('BookingSeriesConflictProblem');

const conflictResponse = {
  description: 'Conflict: `series_conflict` (with `conflicts`), `idempotency_conflict`, `invalid_transition`',
  content: {
    'application/problem+json': {
      schema: SeriesConflictProblem,
      examples: {
        series_conflict: {
          summary: 'One date is taken (all or nothing)',
          value: {
            type: 'https://slotbase.dev/problems/series_conflict', title: 'Some dates of the series cannot be booked; nothing was changed', status: 409,
            code: 'series_conflict', detail: '1 of the series\' dates cannot be booked; nothing was booked', conflicts: [conflictExample],
          },
        },
      },
    },
  },
};

const rruleProblems = (...statuses: number[]) => {
  const base = problems(...statuses) as Record<number, { description: string; content: { 'application/problem+json': { schema: unknown; examples?: Record<string, unknown> } } }>;
  if (base[422]) {
    base[422] = {
      description: 'Validation failed (`validation_failed`, `invalid_recurrence`, `too_many_occurrences`, …)',
      content: {
        'application/problem+json': {
          schema: ProblemSchema,
          examples: {
            invalid_recurrence: {
              summary: 'COUNT and UNTIL together',
              value: { type: 'https://slotbase.dev/problems/invalid_recurrence', title: 'The recurrence rule is not valid or not supported', status: 422, code: 'invalid_recurrence', detail: 'COUNT and UNTIL cannot both be given', errors: [{ field: 'rrule', message: 'The recurrence rule is not valid or not supported', code: 'invalid_recurrence' }] },
            },
            too_many_occurrences: {
              summary: 'More than 52 dates',
              value: { type: 'https://slotbase.dev/problems/too_many_occurrences', title: 'The series has more occurrences than allowed', status: 422, code: 'too_many_occurrences', detail: 'a series has at most 52 occurrences', errors: [{ field: 'rrule', message: 'The series has more occurrences than allowed', code: 'too_many_occurrences' }] },
            },
          },
        },
      },
    };
  }
  return { ...base, 409: conflictResponse };
};

export const CancelSeriesRequest = z
  .strictObject({
    from_booking_id: Uuid.optional().openapi({ description: 'Cancel this occurrence and the following ones; omit to cancel every future one (the rest of the series)' }),
    reason: z.string().trim().min(1).max(1000).optional(),
  })
  .openapi('CancelBookingSeriesRequest', { example: { from_booking_id: UUID_B, reason: 'Treatment finished early' } });

export const RescheduleSeriesRequest = z
  .strictObject({
    from_booking_id: Uuid.openapi({ description: 'The first occurrence to move; it and every later active one move' }),
    starts_at: Timestamp.openapi({ description: 'Its new start: every later occurrence moves by the same local wall-clock difference' }),
  })
  .openapi('RescheduleBookingSeriesRequest', { example: { from_booking_id: UUID_B, starts_at: '2027-03-03T09:00:00Z' } });

const idempotencyHeaders = z.object({
  'idempotency-key': z.string().min(1).max(255).optional().openapi({ description: 'Makes retries safe: the same key and body return the original series', example: 'b7f3c1d2-9e8a-4f6b-a5c4-d3e2f1a0b9c8' }),
});

// Staff ---------------------------------------------------------------------------------------

const staffTags = ['Bookings'];

export const createSeries = createRoute({
  method: 'post',
  path: '/v1/booking-series',
  operationId: 'createBookingSeries',
  tags: staffTags,
  ...staffOnly,
  summary: 'Book a recurring series on behalf of a customer (weekly, biweekly, monthly)',
  description: 'Each date is booked by the same rules as a single booking (limits included). Send an `Idempotency-Key` to make retries safe.',
  request: { headers: idempotencyHeaders, body: jsonBody(StaffSeriesRequest) },
  responses: { 201: jsonContent(BookingSeries, 'Booked (in partial mode: the free dates, with the others in `conflicts`)'), ...rruleProblems(400, 401, 402, 403, 404, 413, 415, 422) },
});

export const getSeries = createRoute({
  method: 'get',
  path: '/v1/booking-series/{id}',
  operationId: 'getBookingSeries',
  tags: staffTags,
  ...staffOnly,
  summary: 'A series with its occurrences',
  request: { params: IdParam },
  responses: { 200: jsonContent(BookingSeries, 'The series'), ...problems(401, 403, 404, 422) },
});

export const cancelSeries = createRoute({
  method: 'post',
  path: '/v1/booking-series/{id}/cancel',
  operationId: 'cancelBookingSeries',
  tags: staffTags,
  ...staffOnly,
  summary: 'Cancel this and the following occurrences, or the rest of the series',
  request: { params: IdParam, body: { required: false, content: { 'application/json': { schema: CancelSeriesRequest } } } },
  responses: { 200: jsonContent(BookingSeries, 'The series after cancelling'), ...problems(400, 401, 403, 404, 415, 422) },
});

export const rescheduleSeries = createRoute({
  method: 'post',
  path: '/v1/booking-series/{id}/reschedule',
  operationId: 'rescheduleBookingSeries',
  tags: staffTags,
  ...staffOnly,
  summary: 'Move an occurrence and every later one by the same local-time difference (all or nothing)',
  request: { params: IdParam, body: jsonBody(RescheduleSeriesRequest) },
  responses: { 200: jsonContent(BookingSeries, 'The series after moving'), ...rruleProblems(400, 401, 403, 404, 415, 422) },
});

// Public ----------------------------------------------------------------------------------------

const publicTags = ['Public booking'];

export const createPublicSeries = createRoute({
  method: 'post',
  path: '/v1/public/{tenant}/booking-series',
  operationId: 'createPublicBookingSeries',
  tags: publicTags,
  summary: 'Book a recurring series as a guest (or signed-in customer), e.g. weekly physiotherapy',
  description:
    'Every date is booked by the same rules as `POST /v1/public/{tenant}/bookings` (availability, notice, limits, bans). ' +
    'The answer has the series code and manage token, and each date\'s own code and manage token. Send an `Idempotency-Key` to make retries safe.',
  request: {
    params: z.object({ tenant: TenantSlug }),
    headers: idempotencyHeaders.extend({
      'x-device-token': z.string().min(16).max(255).optional().openapi({ description: 'The booking page\'s device token, as for single bookings', example: 'dvc_4f9c1e0a7b2d4c6e8f10a2b3c4d5e6f7' }),
    }),
    body: jsonBody(PublicSeriesRequest),
  },
  responses: { 201: jsonContent(BookingSeries, 'Booked'), ...rruleProblems(400, 401, 402, 404, 413, 415, 422) },
});

export const getPublicSeries = createRoute({
  method: 'get',
  path: '/v1/public/booking-series/{code}',
  operationId: 'getPublicBookingSeries',
  tags: publicTags,
  summary: 'View a series with its code and manage token',
  request: { params: z.object({ code: SeriesCode }), query: SeriesTokenQuery },
  responses: { 200: jsonContent(BookingSeries, 'The series'), ...problems(401, 404, 422) },
});

export const cancelPublicSeries = createRoute({
  method: 'post',
  path: '/v1/public/booking-series/{code}/cancel',
  operationId: 'cancelPublicBookingSeries',
  tags: publicTags,
  summary: 'Cancel this and the following dates, or the rest of the series (series manage token)',
  request: { params: z.object({ code: SeriesCode }), query: SeriesTokenQuery, body: { required: false, content: { 'application/json': { schema: CancelSeriesRequest } } } },
  responses: { 200: jsonContent(BookingSeries, 'The series after cancelling'), ...problems(400, 401, 404, 415, 422) },
});

export const reschedulePublicSeries = createRoute({
  method: 'post',
  path: '/v1/public/booking-series/{code}/reschedule',
  operationId: 'reschedulePublicBookingSeries',
  tags: publicTags,
  summary: 'Move a date and every later one by the same local-time difference (all or nothing; series manage token)',
  request: { params: z.object({ code: SeriesCode }), query: SeriesTokenQuery, body: jsonBody(RescheduleSeriesRequest) },
  responses: { 200: jsonContent(BookingSeries, 'The series after moving'), ...rruleProblems(400, 401, 404, 415, 422) },
});
