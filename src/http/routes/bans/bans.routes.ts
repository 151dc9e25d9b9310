import { createRoute, z } from '@hono/zod-openapi';
import { PageQuery as CursorPageQuery } from '../../pagination.ts';
import { jsonBody, jsonContent, problems, Timestamp, Uuid } from '../../openapi.ts';
import { IdParam, IncludeDeletedQuery, nonEmpty, pageOf, PageQuery, staffOnly } from '../../staff.ts';
import { ids } from '../../examples.ts';

const banExample = {
  id: 'bd1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a',
  kind: 'email' as const,
  value: 'mallory@example.test',
  reason: 'Three no-shows in a row',
  expires_at: null,
  created_by: ids.owner,
  created_at: '2027-02-01T08:15:00.000Z',
  updated_at: '2027-02-01T08:15:00.000Z',
  deleted_at: null,
};
const banHitExample = {
  id: 'ce2f3a4b-5c6d-4e7f-9a8b-0c1d2e3f4a5b',
  ban_id: banExample.id,
  at: '2027-02-20T14:12:05.123Z',
  service_id: ids.service,
  starts_at: '2027-03-01T09:00:00.000Z',
  contact_email: 'Mallory@example.test',
  contact_phone: null,
  device_hash: null,
};

const Kind = z.enum(['email', 'phone', 'domain', 'device']).openapi('BanKind', {
  description: '`email` (exact), `phone`, `domain` (an email domain and its subdomains) or `device` (sha256 of a booking page\'s `X-Device-Token`)',
});
const Reason = z.string().trim().min(1).max(1000).openapi({ example: 'Three no-shows in a row' });

export const Ban = z
  .object({
    id: Uuid,
    kind: Kind,
    value: z.string().openapi({
      example: 'mallory@example.test',
      description: 'Normalized: lower-case email or domain, phone as + and digits, device as lower-case sha256 hex',
    }),
    reason: z.string(),
    expires_at: Timestamp.nullable().openapi({ description: 'The ban stops applying at this instant (null: until deleted)' }),
    created_by: Uuid.nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
    deleted_at: Timestamp.nullable(),
  })
  .openapi('Ban', { example: banExample });

export const BanCreate = z
  .strictObject({
    kind: Kind,
    value: z.string().trim().min(1).max(254).openapi({ example: 'Mallory@Example.test', description: 'As people type it; stored normalized' }),
    reason: Reason,
    expires_at: Timestamp.nullable().optional().openapi({ example: '2027-06-01T00:00:00Z', description: 'In the future; null or absent: until deleted' }),
  })
  .openapi('BanCreate', { example: { kind: 'email', value: 'mallory@example.test', reason: 'Three no-shows in a row', expires_at: null } });

export const BanPatch = z
  .strictObject({ reason: Reason.optional(), expires_at: Timestamp.nullable().optional() })
  .refine(nonEmpty, 'Change at least one field')
  .openapi('BanPatch', { example: { expires_at: '2027-06-01T00:00:00Z' } });

export const BanHit = z
  .object({
    id: Uuid,
    ban_id: Uuid,
    at: Timestamp.openapi({ description: 'When the banned booker tried' }),
    service_id: Uuid,
    starts_at: Timestamp.nullable().openapi({ description: 'The start they asked for (a session\'s start for group services)' }),
    contact_email: z.string().nullable().openapi({ example: 'Mallory@example.test', description: 'As the booker gave it' }),
    contact_phone: z.string().nullable().openapi({ example: '+49 30 1234567' }),
    device_hash: z.string().nullable().openapi({ description: 'sha256 of their X-Device-Token, if sent: ban it to stop new addresses from that device' }),
  })
  .openapi('BanHit', { example: banHitExample });

const HitsQuery = z.object({
  ...CursorPageQuery,
  ban: Uuid.optional().openapi({ param: { name: 'ban', in: 'query' }, description: 'Only the hits of this ban' }),
});

const tags = ['Bans'];
const description =
  'A banned booker of the public booking flow is answered exactly like an unavailable time (409 `slot_taken`, or `session_full` for a ' +
  'session), so they never learn of the ban; each such attempt is listed at GET /v1/bans/hits. Bookings staff make are not checked. ' +
  'Owners, admins and receptionists read; tenant-wide owners and admins write.';

export const listBans = createRoute({
  method: 'get',
  path: '/v1/bans',
  operationId: 'listBans',
  tags,
  summary: 'The tenant\'s ban list',
  description,
  ...staffOnly,
  request: { query: PageQuery.extend(IncludeDeletedQuery.shape) },
  responses: { 200: jsonContent(pageOf(Ban, 'Ban', { data: [banExample], next_cursor: null }), 'Bans, oldest first (providers and viewers see an empty list)'), ...problems(401, 403, 422) },
});

export const listBanHits = createRoute({
  method: 'get',
  path: '/v1/bans/hits',
  operationId: 'listBanHits',
  tags,
  summary: 'Attempts by banned bookers, newest first',
  description,
  ...staffOnly,
  request: { query: HitsQuery },
  responses: { 200: jsonContent(pageOf(BanHit, 'BanHit', { data: [banHitExample], next_cursor: null }), 'Attempts, newest first'), ...problems(401, 403, 422) },
});

export const getBan = createRoute({
  method: 'get',
  path: '/v1/bans/{id}',
  operationId: 'getBan',
  tags,
  summary: 'A ban (lifted ones show deleted_at)',
  description,
  ...staffOnly,
  request: { params: IdParam },
  responses: { 200: jsonContent(Ban, 'The ban'), ...problems(401, 403, 404, 422) },
});

export const createBan = createRoute({
  method: 'post',
  path: '/v1/bans',
  operationId: 'createBan',
  tags,
  summary: 'Ban an email, phone, email domain or device (tenant-wide owners and admins)',
  description: `${description} One live ban per kind and value (409 \`already_exists\`).`,
  ...staffOnly,
  request: { body: jsonBody(BanCreate) },
  responses: { 201: jsonContent(Ban, 'Banned'), ...problems(400, 401, 403, 409, 413, 415, 422) },
});

export const updateBan = createRoute({
  method: 'patch',
  path: '/v1/bans/{id}',
  operationId: 'updateBan',
  tags,
  summary: 'Change a ban\'s reason or expiry',
  description,
  ...staffOnly,
  request: { params: IdParam, body: jsonBody(BanPatch) },
  responses: { 200: jsonContent(Ban, 'Updated'), ...problems(400, 401, 403, 404, 413, 415, 422) },
});

export const deleteBan = createRoute({
  method: 'delete',
  path: '/v1/bans/{id}',
  operationId: 'deleteBan',
  tags,
  summary: 'Lift a ban (soft delete: its hits stay listed)',
  description,
  ...staffOnly,
  request: { params: IdParam },
  responses: { 204: { description: 'Lifted' }, ...problems(401, 403, 404, 422) },
});
