import { createRoute, z } from '@hono/zod-openapi';
import { jsonBody, jsonContent, problems, Timestamp, Uuid } from '../../openapi.ts';
import { PageQuery } from '../../pagination.ts';
import { cursors, examples, otherExamples } from '../../examples.ts';
import { peopleOnly } from '../../staff.ts';
import { Email, Password, Session } from '../auth/auth.routes.ts';
import { BookingList } from '../bookings/bookings.routes.ts';

const tags = ['Customers'];

const TenantSlug = z.string().min(1).max(63).openapi({ param: { name: 'tenant', in: 'path' }, example: 'sunrise-clinic' });
export const Phone = z.string().regex(/^\+?[0-9 ()./-]{3,32}$/, 'digits, spaces and ()./- with an optional leading +').openapi({ example: '+49 30 1234567' });
export const DisplayName = z.string().trim().min(1).max(200).openapi({ example: 'Ada Lovelace' });

export const CustomerSignupRequest = z
  .strictObject({ email: Email, password: Password, name: DisplayName, phone: Phone.optional() })
  .openapi('CustomerSignupRequest', { example: examples.customerSignupRequest });

export const CustomerLoginRequest = z.strictObject({ email: Email, password: z.string().min(1).max(200) }).openapi('CustomerLoginRequest', { example: examples.customerLoginRequest });

export const CustomerSummary = z
  .object({
    key: z.string().openapi({ description: 'The contact\'s identity: its email in lower case, or (without an email) its phone as digits', example: 'ada@example.com' }),
    name: z.string().openapi({ description: 'The name of their latest booking' }),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    customer_user_id: Uuid.nullable().openapi({ description: 'Their customer account, when they booked signed in' }),
    bookings_count: z.number().int(),
    last_booking_at: Timestamp.nullable().openapi({ description: 'Start of their latest past booking that was not cancelled, rejected or expired' }),
    next_booking_at: Timestamp.nullable().openapi({ description: 'Start of their next active booking' }),
  })
  .openapi('CustomerSummary', { example: otherExamples.customerSummary });

export const CustomerList = z
  .object({ data: z.array(CustomerSummary), next_cursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last page' }) })
  .openapi('CustomerList', { example: otherExamples.customerList });

export const CustomerQuery = z.object({
  q: z.string().trim().min(1).max(200).optional().openapi({ param: { name: 'q', in: 'query' }, description: 'Beginning of the name or email (case-insensitive)', example: 'ada' }),
  limit: PageQuery.limit,
  cursor: z.string().min(1).max(1000).optional().openapi({ param: { name: 'cursor', in: 'query' }, description: 'The `next_cursor` of the previous page', example: cursors.customers }),
});

export const customerSignup = createRoute({
  method: 'post',
  path: '/v1/public/{tenant}/customers/signup',
  operationId: 'customerSignup',
  tags,
  summary: 'Create a customer account on a business\'s booking page; returns a customer session',
  description:
    'A customer account is one identity (email) across every business on Slotbase: an email that already has an account gets 409; log in instead. ' +
    'Its session never acts in a tenant: it sees the customer\'s own bookings and profile only.',
  request: { params: z.object({ tenant: TenantSlug }), body: jsonBody(CustomerSignupRequest) },
  responses: { 201: jsonContent(Session, 'Account created; a customer session', examples.customerSession), ...problems(400, 404, 409, 413, 415, 422) },
});

export const customerLogin = createRoute({
  method: 'post',
  path: '/v1/public/{tenant}/customers/login',
  operationId: 'customerLogin',
  tags,
  summary: 'Log in as a customer on a business\'s booking page',
  description: 'Refresh and log out at `/v1/auth/refresh` and `/v1/auth/logout`; a refreshed customer session stays a customer session.',
  request: { params: z.object({ tenant: TenantSlug }), body: jsonBody(CustomerLoginRequest) },
  responses: { 200: jsonContent(Session, 'A customer session', examples.customerSession), ...problems(400, 401, 404, 415, 422) },
});

export const listCustomers = createRoute({
  method: 'get',
  path: '/v1/customers',
  operationId: 'listCustomers',
  tags,
  ...peopleOnly,
  summary: 'The people who booked with you, aggregated from the bookings you can see (by name, cursor-paginated)',
  description:
    'A customer is identified by the email of their bookings (case-insensitive) or, without one, their phone; bookings with neither are not listed. ' +
    'Counts cover only bookings in your scope: a branch receptionist sees their branch\'s customers and bookings.',
  request: { query: CustomerQuery },
  responses: { 200: jsonContent(CustomerList, 'A page of customers'), ...problems(401, 403, 422) },
});

export const listCustomerBookings = createRoute({
  method: 'get',
  path: '/v1/customers/{user_id}/bookings',
  operationId: 'listCustomerBookings',
  tags,
  ...peopleOnly,
  summary: 'A registered customer\'s bookings with you, newest first (cursor-paginated)',
  request: {
    params: z.object({ user_id: Uuid.openapi({ param: { name: 'user_id', in: 'path' } }) }),
    query: z.object({ ...PageQuery }),
  },
  responses: { 200: jsonContent(BookingList, 'A page of bookings'), ...problems(401, 403, 404, 422) },
});
