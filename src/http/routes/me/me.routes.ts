import { createRoute, z } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import { requireUser } from '../../auth.ts';
import type { AppEnv } from '../../env.ts';
import { jsonBody, jsonContent, problems, Timestamp, Uuid } from '../../openapi.ts';
import { PageQuery } from '../../pagination.ts';
import { bookingExamples, otherExamples } from '../../examples.ts';
import { nonEmpty } from '../../staff.ts';
import { BookingStatus } from '../bookings/bookings.routes.ts';
import { DisplayName, Phone } from '../customers/customers.routes.ts';

const tags = ['Me'];
/** Any signed-in user, checked before the validators (an anonymous caller gets 401, not 422). */
const userOnly = createMiddleware<AppEnv>(async (c, next) => {
  requireUser(c);
  await next();
});
const signedIn = { middleware: [userOnly], security: [{ bearerAuth: [] }] };

export const Profile = z
  .object({
    id: Uuid,
    email: z.string().openapi({ example: 'ada@example.com' }),
    display_name: z.string().nullable(),
    phone: z.string().nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('Profile', { example: otherExamples.profile });

export const ProfilePatch = z
  .strictObject({ display_name: DisplayName.nullable().optional(), phone: Phone.nullable().optional() })
  .refine(nonEmpty, { message: 'Send at least one field' })
  .openapi('ProfilePatch', { example: otherExamples.profilePatch });

export const MyBooking = z
  .object({
    id: Uuid,
    tenant_id: Uuid.openapi({ description: 'The business booked with' }),
    code: z.string().openapi({ example: 'BK-7F3K9QM' }),
    status: BookingStatus,
    service_id: Uuid,
    provider_id: Uuid,
    location_id: Uuid,
    session_id: Uuid.nullable(),
    contact_name: z.string(),
    contact_email: z.string().nullable(),
    contact_phone: z.string().nullable(),
    party_size: z.number().int(),
    starts_at: Timestamp,
    ends_at: Timestamp,
    notes: z.string().nullable(),
    hold_expires_at: Timestamp.nullable(),
    status_reason: z.string().nullable(),
    created_at: Timestamp,
  })
  .openapi('MyBooking', { example: bookingExamples.myBooking });

export const MyBookingList = z
  .object({ data: z.array(MyBooking), next_cursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last page' }) })
  .openapi('MyBookingList', { example: bookingExamples.myBookingList });

export const MyBookingQuery = z.object({
  upcoming: z
    .enum(['true', 'false'])
    .optional()
    .openapi({ param: { name: 'upcoming', in: 'query' }, example: 'true', description: '`true`: bookings starting from now on; `false`: those that started before now; omitted: all' }),
  ...PageQuery,
});

export const getMe = createRoute({
  method: 'get',
  path: '/v1/me',
  operationId: 'getMe',
  tags,
  ...signedIn,
  summary: 'Your profile (customers and staff)',
  responses: { 200: jsonContent(Profile, 'Your profile'), ...problems(401) },
});

export const updateMe = createRoute({
  method: 'patch',
  path: '/v1/me',
  operationId: 'updateMe',
  tags,
  ...signedIn,
  summary: 'Change your name or phone (a signed-in customer\'s bookings use them as contact details)',
  request: { body: jsonBody(ProfilePatch) },
  responses: { 200: jsonContent(Profile, 'Your updated profile'), ...problems(400, 401, 415, 422) },
});

export const listMyBookings = createRoute({
  method: 'get',
  path: '/v1/me/bookings',
  operationId: 'listMyBookings',
  tags,
  ...signedIn,
  summary: 'Your bookings as a customer, at every business, newest first (cursor-paginated)',
  description: 'Bookings you made signed in to a customer account (or as staff through a public booking page of another business).',
  request: { query: MyBookingQuery },
  responses: { 200: jsonContent(MyBookingList, 'A page of your bookings'), ...problems(401, 422) },
});
