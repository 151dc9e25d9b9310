import { createRoute, z } from '@hono/zod-openapi';
import { ids } from '../../examples.ts';
import { jsonBody, jsonContent, problems, Timestamp, Uuid } from '../../openapi.ts';
import { PageQuery as CursorPageQuery } from '../../pagination.ts';
import { IdParam, nonEmpty, pageOf, PageQuery, peopleOnly } from '../../staff.ts';

/** The event catalogue (webhook_endpoints_event_types_check); `webhook.test` pings go to one endpoint regardless. */
export const WEBHOOK_EVENT_TYPES = [
  'booking.created',
  'booking.confirmed',
  'booking.rescheduled',
  'booking.cancelled',
  'booking.rejected',
  'booking.completed',
  'booking.no_show',
  'booking.expired',
] as const;

const endpointId = 'a7b8c9d0-e1f2-4a3b-8c4d-5e6f7a8b9c0d';
const deliveryId = 'b8c9d0e1-f2a3-4b4c-9d5e-6f7a8b9c0d1e';
const attemptIds = ['c9d0e1f2-a3b4-4c5d-8e6f-7a8b9c0d1e2f', 'd0e1f2a3-b4c5-4d6e-9f7a-8b9c0d1e2f3a'];
const messageId = 'msg_4f8e2a9c1b7d4e3fa6c0b5d8e9f1a2b3';
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw6z4KH1bTn5M=';

const endpointExample = {
  id: endpointId,
  url: 'https://hooks.clinic.example/slotbase',
  description: 'Front-desk CRM sync',
  event_types: ['booking.cancelled', 'booking.created'] as ('booking.cancelled' | 'booking.created')[],
  is_enabled: true,
  disabled_reason: null,
  consecutive_failures: 0,
  created_by: ids.owner,
  created_at: '2027-02-01T08:15:00.000Z',
  updated_at: '2027-02-01T08:15:00.000Z',
};

const bookingData = {
  id: ids.booking,
  code: 'BK-7F3K9QM',
  status: 'confirmed',
  source: 'public',
  service_id: ids.service,
  provider_id: ids.provider,
  location_id: ids.location,
  session_id: null,
  starts_at: '2027-03-01T09:00:00.000Z',
  ends_at: '2027-03-01T09:30:00.000Z',
  party_size: 1,
  contact: { name: 'Ada Lovelace', email: 'ada@example.com', phone: '+49 30 1234567' },
  notes: null,
  hold_expires_at: null,
  status_reason: null,
  created_at: '2027-02-20T14:12:05.123Z',
  updated_at: '2027-02-20T14:12:05.123Z',
};

const deliveryExample = {
  id: deliveryId,
  endpoint_id: endpointId,
  message_id: messageId,
  event_type: 'booking.created',
  payload: { type: 'booking.created', timestamp: '2027-02-20T14:12:05.123Z', data: bookingData },
  status: 'succeeded' as const,
  attempts: 2,
  next_attempt_at: null,
  last_status_code: 204,
  last_duration_ms: 87,
  last_response_excerpt: null,
  last_error: null,
  created_at: '2027-02-20T14:12:05.123Z',
  updated_at: '2027-02-20T14:12:40.310Z',
  delivered_at: '2027-02-20T14:12:40.310Z',
};

const attemptLogExample = [
  {
    id: attemptIds[0]!,
    attempted_at: '2027-02-20T14:12:05.402Z',
    status_code: 503,
    duration_ms: 112,
    response_excerpt: 'upstream unavailable',
    error: 'HTTP 503',
    is_success: false,
  },
  {
    id: attemptIds[1]!,
    attempted_at: '2027-02-20T14:12:40.223Z',
    status_code: 204,
    duration_ms: 87,
    response_excerpt: null,
    error: null,
    is_success: true,
  },
];

export const WebhookEventType = z.enum(WEBHOOK_EVENT_TYPES).openapi('WebhookEventType', {
  description: 'A booking event: see the event catalogue in the README.',
  example: 'booking.created',
});

/** http(s) only; the database checks the same (webhook_endpoints_url_check). */
const Url = z
  .string()
  .trim()
  .min(1)
  .max(2000)
  .refine((value) => {
    if (!URL.canParse(value)) return false;
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '';
  }, 'An http:// or https:// URL without credentials')
  .openapi({ example: 'https://hooks.clinic.example/slotbase', description: 'Where events are POSTed (http or https; redirects are not followed)' });

const Description = z.string().trim().max(500).openapi({ example: 'Front-desk CRM sync' });
const EventTypes = z.array(WebhookEventType).max(WEBHOOK_EVENT_TYPES.length).openapi({
  description: 'The events to send; empty = every event',
  example: ['booking.created', 'booking.cancelled'],
});

export const WebhookEndpoint = z
  .object({
    id: Uuid,
    url: z.string(),
    description: z.string().nullable(),
    event_types: z.array(WebhookEventType).openapi({ description: 'Subscribed events, sorted; empty = every event' }),
    is_enabled: z.boolean(),
    disabled_reason: z.string().nullable().openapi({ description: 'Why the endpoint is off (automatically after consecutive failed attempts, or by a member)' }),
    consecutive_failures: z.number().int().openapi({ description: 'Failed attempts since the last success' }),
    created_by: Uuid.nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('WebhookEndpoint', { example: endpointExample });

export const WebhookEndpointWithSecret = WebhookEndpoint.extend({
  secret: z.string().openapi({ description: 'The signing secret (`whsec_` + base64 of 32 bytes). Shown only in this response: store it now.' }),
}).openapi('WebhookEndpointWithSecret', { example: { ...endpointExample, secret } });

export const WebhookEndpointCreate = z
  .strictObject({
    url: Url,
    description: Description.nullable().optional(),
    event_types: EventTypes.optional(),
    is_enabled: z.boolean().optional().openapi({ description: 'Default true' }),
  })
  .openapi('WebhookEndpointCreate', {
    example: { url: 'https://hooks.clinic.example/slotbase', description: 'Front-desk CRM sync', event_types: ['booking.created', 'booking.cancelled'] },
  });

export const WebhookEndpointPatch = z
  .strictObject({
    url: Url.optional(),
    description: Description.nullable().optional(),
    event_types: EventTypes.optional(),
    is_enabled: z.boolean().optional().openapi({ description: 'Re-enabling resets consecutive_failures and disabled_reason' }),
  })
  .refine(nonEmpty, 'Change at least one field')
  .openapi('WebhookEndpointPatch', { example: { is_enabled: true } });

export const WebhookDelivery = z
  .object({
    id: Uuid,
    endpoint_id: Uuid,
    message_id: z.string().openapi({ description: 'The `webhook-id` header: the same on every attempt and redelivery', example: messageId }),
    event_type: z.string().openapi({ example: 'booking.created', description: 'A WebhookEventType, or webhook.test for a test ping' }),
    payload: z.record(z.string(), z.unknown()).openapi({ description: 'The exact JSON body posted: { type, timestamp, data }' }),
    status: z.enum(['pending', 'succeeded', 'failed']),
    attempts: z.number().int().openapi({ description: 'Attempts made so far, redeliveries included' }),
    next_attempt_at: Timestamp.nullable().openapi({ description: 'When the next attempt is due (pending only)' }),
    last_status_code: z.number().int().nullable(),
    last_duration_ms: z.number().int().nullable(),
    last_response_excerpt: z.string().nullable().openapi({ description: 'The first KiB (at most) of the last response body' }),
    last_error: z.string().nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
    delivered_at: Timestamp.nullable(),
  })
  .openapi('WebhookDelivery', { example: deliveryExample });

export const WebhookAttempt = z
  .object({
    id: Uuid,
    attempted_at: Timestamp,
    status_code: z.number().int().nullable().openapi({ description: 'null when there was no answer (timeout, connection refused)' }),
    duration_ms: z.number().int(),
    response_excerpt: z.string().nullable(),
    error: z.string().nullable().openapi({ example: 'timeout after 10000 ms' }),
    is_success: z.boolean(),
  })
  .openapi('WebhookAttempt', { example: attemptLogExample[0] });

export const WebhookDeliveryDetail = WebhookDelivery.extend({
  attempt_log: z.array(WebhookAttempt).openapi({ description: 'Every attempt, oldest first' }),
}).openapi('WebhookDeliveryDetail', { example: { ...deliveryExample, attempt_log: attemptLogExample } });

const DeliveriesQuery = z.object({
  ...CursorPageQuery,
  status: z.enum(['pending', 'succeeded', 'failed']).optional().openapi({ param: { name: 'status', in: 'query' }, example: 'failed' }),
});

const tags = ['Webhooks'];
const description =
  'Outbound webhooks signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`). ' +
  'Tenant-wide owners and admins only (others: 403); API keys cannot call these endpoints.';

export const listWebhookEndpoints = createRoute({
  method: 'get',
  path: '/v1/webhook-endpoints',
  operationId: 'listWebhookEndpoints',
  tags,
  summary: 'The tenant\'s webhook endpoints, oldest first',
  description,
  ...peopleOnly,
  request: { query: PageQuery },
  responses: { 200: jsonContent(pageOf(WebhookEndpoint, 'WebhookEndpoint', { data: [endpointExample], next_cursor: null }), 'Endpoints'), ...problems(401, 403, 422) },
});

export const createWebhookEndpoint = createRoute({
  method: 'post',
  path: '/v1/webhook-endpoints',
  operationId: 'createWebhookEndpoint',
  tags,
  summary: 'Register a webhook endpoint (the signing secret is in this response only)',
  description,
  ...peopleOnly,
  request: { body: jsonBody(WebhookEndpointCreate) },
  responses: { 201: jsonContent(WebhookEndpointWithSecret, 'Registered; store the secret now'), ...problems(400, 401, 402, 403, 413, 415, 422) },
});

export const getWebhookEndpoint = createRoute({
  method: 'get',
  path: '/v1/webhook-endpoints/{id}',
  operationId: 'getWebhookEndpoint',
  tags,
  summary: 'A webhook endpoint (never its secret)',
  description,
  ...peopleOnly,
  request: { params: IdParam },
  responses: { 200: jsonContent(WebhookEndpoint, 'The endpoint'), ...problems(401, 403, 404, 422) },
});

export const updateWebhookEndpoint = createRoute({
  method: 'patch',
  path: '/v1/webhook-endpoints/{id}',
  operationId: 'updateWebhookEndpoint',
  tags,
  summary: 'Change the URL, description, subscriptions, or turn an endpoint on or off',
  description,
  ...peopleOnly,
  request: { params: IdParam, body: jsonBody(WebhookEndpointPatch) },
  responses: { 200: jsonContent(WebhookEndpoint, 'Updated'), ...problems(400, 401, 403, 404, 413, 415, 422) },
});

export const deleteWebhookEndpoint = createRoute({
  method: 'delete',
  path: '/v1/webhook-endpoints/{id}',
  operationId: 'deleteWebhookEndpoint',
  tags,
  summary: 'Delete an endpoint with its delivery log (pending deliveries are dropped)',
  description,
  ...peopleOnly,
  request: { params: IdParam },
  responses: { 204: { description: 'Deleted' }, ...problems(401, 403, 404, 422) },
});

export const rotateWebhookEndpointSecret = createRoute({
  method: 'post',
  path: '/v1/webhook-endpoints/{id}/rotate-secret',
  operationId: 'rotateWebhookEndpointSecret',
  tags,
  summary: 'Replace the signing secret (the new one is in this response only)',
  description: `${description} Every attempt from now on, retries of older messages included, is signed with the new secret.`,
  ...peopleOnly,
  request: { params: IdParam },
  responses: { 200: jsonContent(WebhookEndpointWithSecret, 'Rotated; store the secret now'), ...problems(401, 403, 404, 422) },
});

export const testWebhookEndpoint = createRoute({
  method: 'post',
  path: '/v1/webhook-endpoints/{id}/test',
  operationId: 'testWebhookEndpoint',
  tags,
  summary: 'Send a webhook.test event to this endpoint',
  description: `${description} 409 \`webhook_endpoint_disabled\` for a disabled endpoint.`,
  ...peopleOnly,
  request: { params: IdParam },
  responses: {
    202: jsonContent(WebhookDelivery, 'Queued', {
      ...deliveryExample,
      event_type: 'webhook.test',
      payload: { type: 'webhook.test', timestamp: '2027-02-20T14:12:05.123Z', data: { endpoint_id: endpointId, message: 'This is a test event from Slotbase.' } },
      status: 'pending',
      attempts: 0,
      next_attempt_at: '2027-02-20T14:12:05.123Z',
      last_status_code: null,
      last_duration_ms: null,
      updated_at: '2027-02-20T14:12:05.123Z',
      delivered_at: null,
    }),
    ...problems(401, 403, 404, 409, 422),
  },
});

export const listWebhookDeliveries = createRoute({
  method: 'get',
  path: '/v1/webhook-endpoints/{id}/deliveries',
  operationId: 'listWebhookDeliveries',
  tags,
  summary: 'An endpoint\'s deliveries, newest first',
  description,
  ...peopleOnly,
  request: { params: IdParam, query: DeliveriesQuery },
  responses: {
    200: jsonContent(pageOf(WebhookDelivery, 'WebhookDelivery', { data: [deliveryExample], next_cursor: null }), 'Deliveries'),
    ...problems(401, 403, 404, 422),
  },
});

export const getWebhookDelivery = createRoute({
  method: 'get',
  path: '/v1/webhook-deliveries/{id}',
  operationId: 'getWebhookDelivery',
  tags,
  summary: 'A delivery with every attempt',
  description,
  ...peopleOnly,
  request: { params: IdParam },
  responses: { 200: jsonContent(WebhookDeliveryDetail, 'The delivery and its attempts'), ...problems(401, 403, 404, 422) },
});

export const redeliverWebhook = createRoute({
  method: 'post',
  path: '/v1/webhook-deliveries/{id}/redeliver',
  operationId: 'redeliverWebhook',
  tags,
  summary: 'Send a delivery again: same webhook-id, new timestamp and signature',
  description: `${description} Starts a new round of attempts (with retries). 409 \`webhook_endpoint_disabled\` when its endpoint is disabled.`,
  ...peopleOnly,
  request: { params: IdParam },
  responses: {
    202: jsonContent(WebhookDelivery, 'Queued', { ...deliveryExample, status: 'pending', next_attempt_at: '2027-02-21T09:00:00.000Z', updated_at: '2027-02-21T09:00:00.000Z' }),
    ...problems(401, 403, 404, 409, 422),
  },
});
