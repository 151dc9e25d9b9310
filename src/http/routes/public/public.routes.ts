import { createRoute, z } from '@hono/zod-openapi';
import { ids, manageToken, publicExamples as ex } from '../../examples.ts';
import { jsonBody, jsonContent, problems, Timestamp, Uuid } from '../../openapi.ts';
import { AnswersInput, PublicQuestion } from '../catalog/questions.routes.ts';

const TenantSlug = z.string().min(1).max(63).openapi({ param: { name: 'tenant', in: 'path' }, example: 'sunrise-clinic' });
const Code = z
  .string()
  .regex(/^[Bb][Kk]-[0-9A-Za-z]{6,8}$/)
  .openapi({ param: { name: 'code', in: 'path' }, example: 'BK-7F3K9QM' });

export const PublicService = z
  .object({
    id: Uuid,
    slug: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    kind: z.enum(['appointment', 'group']),
    duration_minutes: z.number().int(),
    max_party_size: z.number().int(),
    requires_approval: z.boolean(),
    price_cents: z.number().int().nullable(),
    currency: z.string().nullable(),
    questions: z.array(PublicQuestion).openapi({ description: 'What the booker is asked (send the answers as `answers` when booking), in order' }),
  })
  .openapi('PublicService', { example: ex.service });

export const PublicLocation = z
  .object({ id: Uuid, name: z.string(), time_zone: z.string(), address: z.string().nullable() })
  .openapi('PublicLocation', { example: ex.location });

export const PublicProvider = z
  .object({ id: Uuid, name: z.string(), location_id: Uuid, service_ids: z.array(Uuid).openapi({ description: 'Public services this provider offers' }) })
  .openapi('PublicProvider', { example: ex.provider });

export const Slot = z
  .object({
    starts_at: Timestamp,
    ends_at: Timestamp,
    provider_id: Uuid,
    location_id: Uuid,
    session_id: Uuid.nullable(),
    seats_left: z.number().int().nullable(),
    local_starts_at: z.string().openapi({ example: '2027-03-01T10:00:00', description: 'Wall-clock start in the requested (or the location\'s) time zone' }),
  })
  .openapi('Slot', { example: ex.slot });

export const SlotList = z.object({ time_zone: z.string().nullable(), data: z.array(Slot) }).openapi('SlotList', { example: ex.slots });

export const SlotQuery = z.object({
  from: Timestamp.openapi({ param: { name: 'from', in: 'query' } }),
  to: Timestamp.openapi({ param: { name: 'to', in: 'query' } }),
  timezone: z.string().max(64).optional().openapi({ param: { name: 'timezone', in: 'query' }, example: 'America/New_York' }),
  provider: Uuid.optional().openapi({ param: { name: 'provider', in: 'query' } }),
  location: Uuid.optional().openapi({ param: { name: 'location', in: 'query' } }),
  party_size: z.coerce.number().int().min(1).max(1000).optional().openapi({ param: { name: 'party_size', in: 'query' }, example: 2 }),
});

export const DeviceProofHeader = z.string().min(20).max(4096).optional().openapi({
  description:
    'With an issued device token: a compact JWS (header `typ: dpop+jwt`, `alg: ES256`, the public `jwk`) signed by the key the token is bound to, over `htm` (method), `htu` (path), `iat`, a one-time `jti`, `ath` (base64url sha256 of the token) and `idk` (the Idempotency-Key, when sent). Good once, for 2 minutes.',
  example: 'eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIn19.eyJodG0iOiJQT1NUIn0.c2lnbmF0dXJl',
});

export const PublicBookingRequest = z
  .strictObject({
    service_id: Uuid,
    starts_at: Timestamp.optional().openapi({ description: 'Required for appointment services' }),
    provider_id: Uuid.optional().openapi({ description: 'Omit for "any provider"' }),
    location_id: Uuid.optional(),
    session_id: Uuid.optional().openapi({ description: 'Required for group services' }),
    party_size: z.number().int().min(1).max(1000).default(1),
    contact: z
      .strictObject({
        name: z.string().trim().min(1).max(200).openapi({ example: 'Ada Lovelace' }),
        email: z.email().max(254).optional().openapi({ example: 'ada@example.com' }),
        phone: z.string().regex(/^\+?[0-9 ()./-]{3,32}$/).optional().openapi({ example: '+49 30 1234567' }),
      })
      .optional()
      .openapi({ description: 'Required, unless you are signed in: then your profile (name, email, phone) is used' }),
    notes: z.string().max(5000).optional(),
    hold: z.boolean().default(false).openapi({ description: 'Create a held booking (pay-then-confirm); it expires unless confirmed' }),
    answers: AnswersInput.optional().openapi({ description: 'Answers to the service\'s questions by question id; required questions must be answered (422 `invalid_answer` naming `answers.<question id>`)' }),
  })
  .openapi('PublicBookingRequest', { example: ex.bookingRequest });

export const BookingReceipt = z
  .object({
    id: Uuid,
    code: z.string().openapi({ example: 'BK-7F3K9QM' }),
    manage_token: z.string().openapi({ description: 'Shown once: with the code it lets the booker view, reschedule or cancel' }),
    status: z.enum(['held', 'pending', 'confirmed']),
    starts_at: Timestamp,
    ends_at: Timestamp,
    provider_id: Uuid,
    location_id: Uuid,
    session_id: Uuid.nullable(),
    party_size: z.number().int(),
    hold_expires_at: Timestamp.nullable(),
    manage_url: z.string().openapi({ example: '/v1/public/bookings/BK-7F3K9QM?token=…' }),
  })
  .openapi('BookingReceipt', { example: ex.receipt });

export const PublicBooking = z
  .object({
    code: z.string(),
    status: z.enum(['held', 'pending', 'confirmed', 'completed', 'no_show', 'cancelled', 'rejected', 'expired']),
    service_id: Uuid,
    provider_id: Uuid,
    location_id: Uuid,
    session_id: Uuid.nullable(),
    starts_at: Timestamp,
    ends_at: Timestamp,
    party_size: z.number().int(),
    contact_name: z.string(),
    hold_expires_at: Timestamp.nullable(),
  })
  .openapi('PublicBooking', { example: ex.booking });

const ManageToken = z.object({
  token: z.string().min(1).max(200).optional().openapi({ param: { name: 'token', in: 'query' }, description: 'The manage token (or send it as X-Manage-Token)', example: manageToken }),
});

export const RescheduleRequest = z
  .strictObject({ starts_at: Timestamp.optional(), provider_id: Uuid.optional(), session_id: Uuid.optional() })
  .openapi('PublicRescheduleRequest', { example: ex.rescheduleRequest });
export const CancelRequest = z.strictObject({ reason: z.string().max(1000).optional() }).openapi('PublicCancelRequest', { example: ex.cancelRequest });

export const listServices = createRoute({
  method: 'get',
  path: '/v1/public/{tenant}/services',
  operationId: 'listPublicServices',
  tags: ['Public booking'],
  summary: 'Public services of a business',
  request: { params: z.object({ tenant: TenantSlug }) },
  responses: { 200: jsonContent(z.object({ data: z.array(PublicService) }).openapi({ example: ex.services }), 'Services'), ...problems(401, 404) },
});

export const listLocations = createRoute({
  method: 'get',
  path: '/v1/public/{tenant}/locations',
  operationId: 'listPublicLocations',
  tags: ['Public booking'],
  summary: 'Locations of a business',
  request: { params: z.object({ tenant: TenantSlug }) },
  responses: { 200: jsonContent(z.object({ data: z.array(PublicLocation) }).openapi({ example: ex.locations }), 'Locations'), ...problems(401, 404) },
});

export const listProviders = createRoute({
  method: 'get',
  path: '/v1/public/{tenant}/providers',
  operationId: 'listPublicProviders',
  tags: ['Public booking'],
  summary: 'Providers a booker can pick (those offering a public service)',
  request: { params: z.object({ tenant: TenantSlug }) },
  responses: { 200: jsonContent(z.object({ data: z.array(PublicProvider) }).openapi({ example: ex.providers }), 'Providers'), ...problems(401, 404) },
});

export const listSlots = createRoute({
  method: 'get',
  path: '/v1/public/{tenant}/services/{service}/slots',
  operationId: 'listPublicSlots',
  tags: ['Public booking'],
  summary: 'Free slots of a service in a time range (at most 100 days)',
  request: {
    params: z.object({ tenant: TenantSlug, service: z.string().min(1).max(63).openapi({ param: { name: 'service', in: 'path' }, description: 'Service id or slug', example: 'checkup' }) }),
    query: SlotQuery,
  },
  responses: { 200: jsonContent(SlotList, 'Slots, earliest first'), ...problems(401, 404, 422) },
});

export const createBooking = createRoute({
  method: 'post',
  path: '/v1/public/{tenant}/bookings',
  operationId: 'createPublicBooking',
  tags: ['Public booking'],
  summary: 'Book a slot as a guest (or signed-in customer)',
  description: 'Send an `Idempotency-Key` header to make retries safe: the same key and body return the original booking.',
  request: {
    params: z.object({ tenant: TenantSlug }),
    headers: z.object({
      'idempotency-key': z.string().min(1).max(255).optional().openapi({ description: 'Makes retries safe: the same key and body return the original booking', example: ids.requestId }),
      'x-device-token': z.string().min(16).max(255).optional().openapi({
        description:
          'A device token: one issued by `POST /v1/public/{tenant}/device-tokens` (`sbdt_…`, needs `X-Device-Proof`; the only kind a `strict` anti-scalping service accepts), or an older opaque per-browser token. Only its sha256 is stored and compared (device bans, per-device caps).',
        example: 'sbdt_Vb7kQ2xN9pL4mR8tW1yZ6cF3hJ5sD0gA2eU7iO4nK9q',
      }),
      'x-device-proof': DeviceProofHeader,
    }),
    body: jsonBody(PublicBookingRequest),
  },
  responses: { 201: jsonContent(BookingReceipt, 'Booked'), ...problems(400, 401, 402, 404, 409, 413, 415, 422) },
});

export const PublicKeyJwk = z
  .strictObject({ kty: z.literal('EC'), crv: z.literal('P-256'), x: z.string().min(40).max(50), y: z.string().min(40).max(50) })
  .openapi('DevicePublicKey', {
    description: 'The public half of a P-256 key the client generated (JWK, RFC 7517; exactly kty, crv, x, y: never the private `d`)',
    example: ex.deviceKey,
  });

export const DeviceTokenRequest = z.strictObject({ public_key: PublicKeyJwk }).openapi('DeviceTokenRequest', { example: { public_key: ex.deviceKey } });

export const DeviceToken = z
  .object({
    device_token: z.string().openapi({ description: 'Shown once. Send as X-Device-Token, with a fresh X-Device-Proof signed by the same key on each booking', example: ex.deviceToken.device_token }),
    key_thumbprint: z.string().openapi({ description: 'RFC 7638 SHA-256 thumbprint of the bound key', example: ex.deviceToken.key_thumbprint }),
    expires_at: Timestamp,
  })
  .openapi('DeviceToken', { example: ex.deviceToken });

export const issueDeviceToken = createRoute({
  method: 'post',
  path: '/v1/public/{tenant}/device-tokens',
  operationId: 'issueDeviceToken',
  tags: ['Public booking'],
  summary: 'Get a device token bound to a key the client generated (anti-scalping)',
  description:
    'Send the public JWK of a P-256 key pair the client generated and keeps (e.g. WebCrypto, non-extractable private key), with `X-Device-Proof` signed by it (`htm` POST, `htu` this path). The token is bound to that key: every booking that uses it must carry a fresh proof by the same key. Services in `strict` anti-scalping mode accept only such tokens.',
  request: {
    params: z.object({ tenant: TenantSlug }),
    headers: z.object({ 'x-device-proof': DeviceProofHeader }),
    body: jsonBody(DeviceTokenRequest),
  },
  responses: { 201: jsonContent(DeviceToken, 'Issued'), ...problems(400, 401, 404, 413, 415, 422) },
});

export const getBooking = createRoute({
  method: 'get',
  path: '/v1/public/bookings/{code}',
  operationId: 'getPublicBooking',
  tags: ['Public booking'],
  summary: 'View a booking with its code and manage token',
  request: { params: z.object({ code: Code }), query: ManageToken },
  responses: { 200: jsonContent(PublicBooking, 'The booking'), ...problems(401, 404, 422) },
});

export const rescheduleBooking = createRoute({
  method: 'patch',
  path: '/v1/public/bookings/{code}',
  operationId: 'reschedulePublicBooking',
  tags: ['Public booking'],
  summary: 'Move a booking to another time (atomic: the old time is kept if the new one is taken)',
  request: { params: z.object({ code: Code }), query: ManageToken, body: jsonBody(RescheduleRequest) },
  responses: { 200: jsonContent(PublicBooking, 'Rescheduled'), ...problems(400, 401, 404, 409, 415, 422) },
});

export const cancelBooking = createRoute({
  method: 'delete',
  path: '/v1/public/bookings/{code}',
  operationId: 'cancelPublicBooking',
  tags: ['Public booking'],
  summary: 'Cancel a booking',
  request: { params: z.object({ code: Code }), query: ManageToken },
  responses: { 200: jsonContent(PublicBooking, 'Cancelled'), ...problems(401, 404, 409, 422) },
});
