import { createRoute, z } from '@hono/zod-openapi';
import { jsonBody, jsonContent, problems, Timestamp, Uuid } from '../../openapi.ts';
import { staffOnly } from '../../staff.ts';
import { Answer, AnswersInput } from '../catalog/questions.routes.ts';

const ENTRY = '4f5a6b7c-8d9e-4f0a-9b1c-2d3e4f5a6b7c';
const OFFER = '6b7c8d9e-0f1a-4b2c-8d3e-4f5a6b7c8d9e';
const BOOKING = '7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const SERVICE = '3e4f5a6b-7c8d-4e9f-8a1b-2c3d4e5f6a7b';
const PROVIDER = '2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a';
const LOCATION = '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
const TOKEN = 'Wm4Yp6Cf0Ga2Jk9Ue3Ri7OzZq3x9Vb2Lr7Tn5Kd1Hs8';

const TenantSlug = z.string().min(1).max(63).openapi({ param: { name: 'tenant', in: 'path' }, example: 'sunrise-clinic' });
const IdParam = z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) });
export const TokenQuery = z.object({
  token: z.string().min(1).max(200).optional().openapi({ param: { name: 'token', in: 'query' }, description: 'The entry\'s manage token or the offer\'s token (or send it as X-Manage-Token)', example: TOKEN }),
});
const Contact = z.strictObject({
  name: z.string().trim().min(1).max(200).openapi({ example: 'Ada Lovelace' }),
  email: z.email().max(254).optional().openapi({ example: 'ada@example.com' }),
  phone: z.string().regex(/^\+?[0-9 ()./-]{3,32}$/).optional().openapi({ example: '+49 30 1234567' }),
});
const fields = {
  service_id: Uuid,
  provider_id: Uuid.optional().openapi({ description: 'Only this provider; omit for any' }),
  location_id: Uuid.optional().openapi({ description: 'Only this location; omit for any' }),
  window_from: Timestamp.openapi({ description: 'Earliest start wanted', example: '2027-03-01T07:00:00Z' }),
  window_to: Timestamp.openapi({ description: 'Latest end wanted (at most 100 days after window_from)', example: '2027-03-05T17:00:00Z' }),
  party_size: z.number().int().min(1).max(1000).default(1),
  notes: z.string().max(5000).optional(),
  answers: AnswersInput.optional().openapi({
    description: 'Answers to the service\'s questions by question id, checked now (required ones too, also for staff: the offer books with them as the customer); 422 `invalid_answer` naming `answers.<question id>`',
  }),
};
const requestExample = { service_id: SERVICE, provider_id: PROVIDER, window_from: '2027-03-01T07:00:00Z', window_to: '2027-03-05T17:00:00Z', contact: { name: 'Ada Lovelace', email: 'ada@example.com' } };

export const PublicWaitlistRequest = z
  .strictObject({ ...fields, contact: Contact.optional().openapi({ description: 'Required, unless you are signed in' }) })
  .openapi('PublicWaitlistRequest', { example: requestExample });
export const StaffWaitlistRequest = z
  .strictObject({ ...fields, contact: Contact })
  .openapi('StaffWaitlistRequest', { example: requestExample });

const OfferStatus = z.enum(['open', 'accepted', 'declined', 'expired', 'withdrawn']);
export const WaitlistEntryOffer = z
  .object({ id: Uuid, booking_id: Uuid, starts_at: Timestamp, expires_at: Timestamp, status: OfferStatus, responded_at: Timestamp.nullable() })
  .openapi('WaitlistEntryOffer');

const entryExample = {
  id: ENTRY, service_id: SERVICE, provider_id: PROVIDER, location_id: null, window_from: '2027-03-01T07:00:00Z', window_to: '2027-03-05T17:00:00Z',
  contact_name: 'Ada Lovelace', contact_email: 'ada@example.com', contact_phone: null, party_size: 1, notes: null, answers: [], status: 'waiting' as const,
  position: 2, booking_id: null, source: 'public' as const, manage_token: null, created_at: '2027-02-20T10:00:00Z', offers: [],
};
export const WaitlistEntry = z
  .object({
    id: Uuid,
    service_id: Uuid,
    provider_id: Uuid.nullable(),
    location_id: Uuid.nullable(),
    window_from: Timestamp,
    window_to: Timestamp,
    contact_name: z.string(),
    contact_email: z.string().nullable(),
    contact_phone: z.string().nullable(),
    party_size: z.number().int(),
    notes: z.string().nullable(),
    answers: z.array(Answer).openapi({ description: 'Answers to the service\'s questions given when joining, as asked then; the offer books with them' }),
    status: z.enum(['waiting', 'offered', 'booked', 'removed']).openapi({ description: '`offered`: a time is held for them now' }),
    position: z.number().int().nullable().openapi({ description: 'Place in the service\'s line (1 = offered next); null once booked or removed' }),
    booking_id: Uuid.nullable().openapi({ description: 'The booking they got by accepting an offer' }),
    source: z.enum(['public', 'staff']),
    manage_token: z.string().nullable().openapi({ description: 'Shown once, when joining: lets the guest see their place and leave' }),
    created_at: Timestamp,
    offers: z.array(WaitlistEntryOffer).openapi({ description: 'Times offered to this entry, newest first' }),
  })
  .openapi('WaitlistEntry', { example: entryExample });
export const JoinedWaitlistEntry = WaitlistEntry.extend({
  manage_url: z.string().nullable().openapi({ example: `/v1/public/waitlist/${ENTRY}?token=…` }),
}).openapi('JoinedWaitlistEntry', { example: { ...entryExample, manage_token: TOKEN, manage_url: `/v1/public/waitlist/${ENTRY}?token=${TOKEN}` } });

export const WaitlistOffer = z
  .object({
    id: Uuid,
    entry_id: Uuid,
    status: OfferStatus,
    service_id: Uuid,
    provider_id: Uuid,
    location_id: Uuid,
    starts_at: Timestamp,
    ends_at: Timestamp,
    expires_at: Timestamp.openapi({ description: 'The time is held until then; afterwards it goes to the next entry' }),
    booking: z
      .object({ id: Uuid, code: z.string(), status: z.string(), manage_token: z.string() })
      .nullable()
      .openapi({ description: 'Once accepted: the booking, with its code and manage token' }),
  })
  .openapi('WaitlistOffer', {
    example: {
      id: OFFER, entry_id: ENTRY, status: 'accepted', service_id: SERVICE, provider_id: PROVIDER, location_id: LOCATION,
      starts_at: '2027-03-02T09:00:00Z', ends_at: '2027-03-02T09:30:00Z', expires_at: '2027-02-28T11:00:00Z',
      booking: { id: BOOKING, code: 'BK-7F3K9QM', status: 'confirmed', manage_token: TOKEN },
    },
  });

export const WaitlistQuery = z.object({
  service: Uuid.optional().openapi({ param: { name: 'service', in: 'query' } }),
  status: z.enum(['waiting', 'offered', 'booked', 'removed']).optional().openapi({ param: { name: 'status', in: 'query' }, example: 'waiting' }),
  limit: z.coerce.number().int().min(1).max(500).default(100).openapi({ param: { name: 'limit', in: 'query' }, example: 100 }),
});
export const MoveRequest = z
  .strictObject({ position: z.number().int().min(1).max(100000).openapi({ description: '1 = offered next', example: 1 }) })
  .openapi('MoveWaitlistEntryRequest', { example: { position: 1 } });

const tags = ['Waitlist'];

export const listWaitlist = createRoute({
  method: 'get',
  path: '/v1/waitlist',
  operationId: 'listWaitlist',
  tags,
  ...staffOnly,
  summary: 'The waitlist in your scope, in line order per service',
  request: { query: WaitlistQuery },
  responses: { 200: jsonContent(z.object({ data: z.array(WaitlistEntry) }).openapi({ example: { data: [entryExample] } }), 'Entries by service, then place in line'), ...problems(401, 403, 422) },
});
export const addToWaitlist = createRoute({
  method: 'post',
  path: '/v1/waitlist',
  operationId: 'addToWaitlist',
  tags,
  ...staffOnly,
  summary: 'Put a customer on the waitlist (front desk, phone)',
  request: { body: jsonBody(StaffWaitlistRequest) },
  responses: { 201: jsonContent(WaitlistEntry, 'On the waitlist'), ...problems(400, 401, 403, 404, 409, 413, 415, 422) },
});
export const getWaitlistEntry = createRoute({
  method: 'get',
  path: '/v1/waitlist/{id}',
  operationId: 'getWaitlistEntry',
  tags,
  ...staffOnly,
  summary: 'One entry, with its place in line and its offers',
  request: { params: IdParam },
  responses: { 200: jsonContent(WaitlistEntry, 'The entry'), ...problems(401, 403, 404, 422) },
});
export const removeWaitlistEntry = createRoute({
  method: 'delete',
  path: '/v1/waitlist/{id}',
  operationId: 'removeWaitlistEntry',
  tags,
  ...staffOnly,
  summary: 'Take an entry off the waitlist (an open offer is withdrawn and its time offered on)',
  request: { params: IdParam },
  responses: { 200: jsonContent(WaitlistEntry, 'The removed entry'), ...problems(401, 403, 404, 422) },
});
export const moveWaitlistEntry = createRoute({
  method: 'post',
  path: '/v1/waitlist/{id}/move',
  operationId: 'moveWaitlistEntry',
  tags,
  ...staffOnly,
  summary: 'Move an entry to a place in its service\'s line',
  request: { params: IdParam, body: jsonBody(MoveRequest) },
  responses: { 200: jsonContent(WaitlistEntry, 'The moved entry'), ...problems(400, 401, 403, 404, 409, 415, 422) },
});

const publicTags = ['Public booking'];

export const joinWaitlist = createRoute({
  method: 'post',
  path: '/v1/public/{tenant}/waitlist',
  operationId: 'joinPublicWaitlist',
  tags: publicTags,
  summary: 'Join the waitlist of a service for a time window',
  description: 'When a matching time frees up it is held for you in line order, and you get an email with a link to accept it. Send an `Idempotency-Key` to make retries safe.',
  request: {
    params: z.object({ tenant: TenantSlug }),
    headers: z.object({
      'idempotency-key': z.string().min(1).max(255).optional().openapi({ description: 'Makes retries safe', example: 'b7f3c1d2-9e8a-4f6b-a5c4-d3e2f1a0b9c8' }),
    }),
    body: jsonBody(PublicWaitlistRequest),
  },
  responses: { 201: jsonContent(JoinedWaitlistEntry, 'On the waitlist'), ...problems(400, 401, 404, 409, 413, 415, 422) },
});
export const getPublicWaitlistEntry = createRoute({
  method: 'get',
  path: '/v1/public/waitlist/{id}',
  operationId: 'getPublicWaitlistEntry',
  tags: publicTags,
  summary: 'Your place on the waitlist (entry manage token)',
  request: { params: IdParam, query: TokenQuery },
  responses: { 200: jsonContent(WaitlistEntry, 'The entry'), ...problems(401, 404, 422) },
});
export const leavePublicWaitlist = createRoute({
  method: 'delete',
  path: '/v1/public/waitlist/{id}',
  operationId: 'leavePublicWaitlist',
  tags: publicTags,
  summary: 'Leave the waitlist (entry manage token)',
  request: { params: IdParam, query: TokenQuery },
  responses: { 200: jsonContent(WaitlistEntry, 'The entry, removed'), ...problems(401, 404, 422) },
});
export const getWaitlistOffer = createRoute({
  method: 'get',
  path: '/v1/public/waitlist-offers/{id}',
  operationId: 'getWaitlistOffer',
  tags: publicTags,
  summary: 'A time offered to you from the waitlist (offer token from the email)',
  request: { params: IdParam, query: TokenQuery },
  responses: { 200: jsonContent(WaitlistOffer, 'The offer'), ...problems(401, 404, 422) },
});
export const acceptWaitlistOffer = createRoute({
  method: 'post',
  path: '/v1/public/waitlist-offers/{id}/accept',
  operationId: 'acceptWaitlistOffer',
  tags: publicTags,
  summary: 'Accept an offered time: the held booking is confirmed (409 offer_expired when too late)',
  request: { params: IdParam, query: TokenQuery },
  responses: { 200: jsonContent(WaitlistOffer, 'Accepted: the booking is yours'), ...problems(401, 404, 409, 422) },
});
export const declineWaitlistOffer = createRoute({
  method: 'post',
  path: '/v1/public/waitlist-offers/{id}/decline',
  operationId: 'declineWaitlistOffer',
  tags: publicTags,
  summary: 'Decline an offered time: it goes to the next entry, you keep your place',
  request: { params: IdParam, query: TokenQuery },
  responses: { 200: jsonContent(WaitlistOffer, 'Declined'), ...problems(401, 404, 409, 422) },
});
