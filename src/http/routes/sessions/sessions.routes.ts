import { createRoute, z } from '@hono/zod-openapi';
import { jsonBody, jsonContent, problems, Timestamp, Uuid } from '../../openapi.ts';
import { PageQuery } from '../../pagination.ts';
import { bookingExamples as ex } from '../../examples.ts';

const security = [{ bearerAuth: [] }];
const tags = ['Sessions'];

export const Session = z
  .object({
    id: Uuid,
    service_id: Uuid,
    provider_id: Uuid,
    location_id: Uuid,
    starts_at: Timestamp,
    ends_at: Timestamp,
    capacity: z.number().int(),
    seats_taken: z.number().int(),
    status: z.enum(['scheduled', 'cancelled']),
    is_forced: z.boolean().openapi({ description: 'Scheduled outside the provider\'s working time on purpose (`force: true`)' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('GroupSession', { example: ex.session });

export const SessionList = z
  .object({ data: z.array(Session), next_cursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last page' }) })
  .openapi('SessionList', { example: ex.sessionList });

export const SessionQuery = z.object({
  service: Uuid.optional().openapi({ param: { name: 'service', in: 'query' } }),
  from: Timestamp.optional().openapi({ param: { name: 'from', in: 'query' }, description: 'Sessions starting at or after this instant' }),
  to: Timestamp.optional().openapi({ param: { name: 'to', in: 'query' }, description: 'Sessions starting before this instant' }),
  ...PageQuery,
});

const Capacity = z.number().int().min(1).max(10_000).openapi({ example: 12 });

export const SessionRequest = z
  .strictObject({
    service_id: Uuid.openapi({ description: 'A group service' }),
    provider_id: Uuid,
    location_id: Uuid,
    starts_at: Timestamp,
    ends_at: Timestamp.optional().openapi({ description: 'Default: the start plus the service\'s duration' }),
    capacity: Capacity,
    force: z.boolean().optional().openapi({
      description: 'Schedule it even outside the provider\'s working time at the location (weekly hours, date overrides, time off); '
        + 'without it such a session is 422 `outside_availability`. A busy provider stays a 409.',
      example: false,
    }),
  })
  .openapi('SessionRequest', { example: ex.sessionRequest });

export const GenerateSessionsRequest = z
  .strictObject({
    service_id: Uuid.openapi({ description: 'A group service' }),
    from: Timestamp,
    to: Timestamp.openapi({ description: 'At most 100 days after `from`' }),
  })
  .openapi('GenerateSessionsRequest', { example: ex.generateRequest });

export const SessionPatch = z.strictObject({ capacity: Capacity }).openapi('SessionPatch', { example: ex.sessionPatch });

const IdParam = z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) });

export const listSessions = createRoute({
  method: 'get',
  path: '/v1/sessions',
  operationId: 'listSessions',
  tags,
  security,
  summary: 'Group sessions in your scope, earliest first (cursor-paginated)',
  request: { query: SessionQuery },
  responses: { 200: jsonContent(SessionList, 'A page of sessions'), ...problems(401, 422) },
});

export const createSession = createRoute({
  method: 'post',
  path: '/v1/sessions',
  operationId: 'createSession',
  tags,
  security,
  summary: 'Schedule a session of a group service (owners, admins)',
  description:
    'The session takes its provider\'s time like a booking: 409 `slot_taken` when the provider is busy then. It must lie inside the provider\'s '
    + 'working time at the location (weekly hours, date overrides, minus time off): 422 `outside_availability` otherwise, unless `force: true`.',
  request: { body: jsonBody(SessionRequest) },
  responses: { 201: jsonContent(Session, 'Scheduled'), ...problems(400, 401, 403, 409, 413, 415, 422) },
});

export const generateSessions = createRoute({
  method: 'post',
  path: '/v1/sessions/generate',
  operationId: 'generateSessions',
  tags,
  security,
  summary: 'Create sessions of a group service on its providers\' free slots (owners, admins)',
  request: { body: jsonBody(GenerateSessionsRequest) },
  responses: { 201: jsonContent(z.object({ data: z.array(Session) }).openapi({ example: ex.generated }), 'The sessions created'), ...problems(400, 401, 404, 415, 422) },
});

export const updateSession = createRoute({
  method: 'patch',
  path: '/v1/sessions/{id}',
  operationId: 'updateSession',
  tags,
  security,
  summary: 'Change a session\'s capacity (owners, admins; never below the seats taken)',
  request: { params: IdParam, body: jsonBody(SessionPatch) },
  responses: { 200: jsonContent(Session, 'The updated session'), ...problems(400, 401, 403, 404, 415, 422) },
});

export const cancelSession = createRoute({
  method: 'post',
  path: '/v1/sessions/{id}/cancel',
  operationId: 'cancelSession',
  tags,
  security,
  summary: 'Cancel a session and every active booking in it (owners, admins)',
  request: { params: IdParam },
  responses: { 200: jsonContent(Session, 'The cancelled session'), ...problems(401, 404, 422) },
});
