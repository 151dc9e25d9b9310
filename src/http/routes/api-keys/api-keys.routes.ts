import { createRoute, z } from '@hono/zod-openapi';
import { jsonBody, jsonContent, problems, Timestamp, Uuid } from '../../openapi.ts';
import { memberExamples as ex } from '../../examples.ts';
import { IdParam, pageOf, PageQuery, peopleOnly } from '../../staff.ts';

export const Scope = z
  .enum(['*', 'bookings:read', 'bookings:write', 'catalog:read', 'catalog:write', 'members:read', 'members:write'])
  .openapi('ApiKeyScope', { description: '`<area>:read` allows GET, `<area>:write` the other methods; `*` everything a key may call' });

export const ApiKey = z
  .object({
    id: Uuid,
    name: z.string(),
    key_prefix: z.string().openapi({ example: 'sb_live_AbC1', description: 'The first 12 characters of the key' }),
    scopes: z.array(Scope),
    role: z.enum(['admin', 'receptionist', 'viewer']).openapi({ description: 'The highest membership role the key acts with under RLS' }),
    effective_role: z.enum(['admin', 'receptionist', 'viewer']).nullable().openapi({
      description: 'The role it acts with now: `role`, lowered to its creator\'s current role; null once revoked (also when its creator left the tenant)',
    }),
    service_user_id: Uuid.openapi({ description: 'The key\'s own member (the `sub` its requests act as)' }),
    created_by: Uuid.nullable(),
    created_at: Timestamp,
    last_used_at: Timestamp.nullable().openapi({ description: 'Last use, updated at most once a minute' }),
    expires_at: Timestamp.nullable(),
    revoked_at: Timestamp.nullable(),
  })
  .openapi('ApiKey', { example: ex.apiKey });

export const ApiKeyCreated = ApiKey.extend({
  key: z.string().openapi({ example: 'sb_live_AbC1…', description: 'The key itself: shown this once, stored only as a hash' }),
}).openapi('ApiKeyCreated', { example: ex.apiKeyCreated });

export const ApiKeyCreate = z
  .strictObject({
    name: z.string().trim().min(1).max(200).openapi({ example: 'Website integration' }),
    scopes: z.array(Scope).min(1).max(7),
    role: z.enum(['admin', 'receptionist', 'viewer']).default('admin').openapi({ description: 'Never owner; default admin' }),
    expires_at: Timestamp.nullable().optional().openapi({ description: 'After this instant the key stops working (null: never)' }),
  })
  .openapi('ApiKeyCreate', { example: ex.apiKeyCreate });

const IncludeRevokedQuery = z.object({
  include_revoked: z
    .enum(['true', 'false'])
    .optional()
    .openapi({ param: { name: 'include_revoked', in: 'query' }, description: 'Also list revoked keys', example: 'true' }),
});

const tags = ['API keys'];
const description = 'Tenant-wide owners and admins only, signed in as a person: an API key never manages keys (403 `insufficient_scope`).';

export const createApiKey = createRoute({
  method: 'post',
  path: '/v1/api-keys',
  operationId: 'createApiKey',
  tags,
  summary: 'Issue an API key (the key is in this response only)',
  description,
  ...peopleOnly,
  request: { body: jsonBody(ApiKeyCreate) },
  responses: { 201: jsonContent(ApiKeyCreated, 'Issued'), ...problems(400, 401, 403, 413, 415, 422) },
});

export const listApiKeys = createRoute({
  method: 'get',
  path: '/v1/api-keys',
  operationId: 'listApiKeys',
  tags,
  summary: 'The tenant\'s API keys (prefixes only, never the keys)',
  description: `${description} Other members see an empty list.`,
  ...peopleOnly,
  request: { query: PageQuery.extend(IncludeRevokedQuery.shape) },
  responses: { 200: jsonContent(pageOf(ApiKey, 'ApiKey', ex.apiKeyPage), 'API keys, oldest first'), ...problems(401, 403, 422) },
});

export const getApiKey = createRoute({
  method: 'get',
  path: '/v1/api-keys/{id}',
  operationId: 'getApiKey',
  tags,
  summary: 'An API key (revoked ones show revoked_at)',
  description,
  ...peopleOnly,
  request: { params: IdParam },
  responses: { 200: jsonContent(ApiKey, 'The key'), ...problems(401, 403, 404, 422) },
});

export const revokeApiKey = createRoute({
  method: 'delete',
  path: '/v1/api-keys/{id}',
  operationId: 'revokeApiKey',
  tags,
  summary: 'Revoke an API key: it stops working at once',
  description,
  ...peopleOnly,
  request: { params: IdParam },
  responses: { 204: { description: 'Revoked' }, ...problems(401, 403, 404, 422) },
});
