import { createRoute, z } from '@hono/zod-openapi';
import { jsonBody, jsonContent, problems, Timestamp, Uuid } from '../../openapi.ts';
import { catalogExamples as ex } from '../../examples.ts';
import { IdParam, IncludeDeletedQuery, nonEmpty, pageOf, PageQuery, staffOnly } from '../../staff.ts';
import { Name } from './fields.ts';

const Kind = z.enum(['room', 'equipment', 'other']);

export const Resource = z
  .object({
    id: Uuid,
    location_id: Uuid,
    name: z.string(),
    kind: Kind,
    created_at: Timestamp,
    updated_at: Timestamp,
    deleted_at: Timestamp.nullable(),
  })
  .openapi('Resource', { example: ex.resource });

export const ResourceCreate = z
  .strictObject({ location_id: Uuid, name: Name.openapi({ example: 'Room 1' }), kind: Kind.optional() })
  .openapi('ResourceCreate', { example: ex.resourceCreate });
export const ResourcePatch = z
  .strictObject({ location_id: Uuid.optional(), name: Name.optional(), kind: Kind.optional() })
  .refine(nonEmpty, 'Change at least one field')
  .openapi('ResourcePatch', { example: ex.resourcePatch });

const tags = ['Catalog'];

export const listResources = createRoute({
  method: 'get',
  path: '/v1/resources',
  operationId: 'listResources',
  tags,
  summary: 'Rooms and equipment at locations in the caller\'s scope',
  ...staffOnly,
  request: { query: PageQuery.extend(IncludeDeletedQuery.shape) },
  responses: { 200: jsonContent(pageOf(Resource, 'Resource', ex.resourcePage), 'Resources, oldest first'), ...problems(401, 422) },
});

export const getResource = createRoute({
  method: 'get',
  path: '/v1/resources/{id}',
  operationId: 'getResource',
  tags,
  summary: 'A resource (soft-deleted ones show deleted_at)',
  ...staffOnly,
  request: { params: IdParam },
  responses: { 200: jsonContent(Resource, 'The resource'), ...problems(401, 404, 422) },
});

export const createResource = createRoute({
  method: 'post',
  path: '/v1/resources',
  operationId: 'createResource',
  tags,
  summary: 'Add a room or piece of equipment (owners and admins, in their scope)',
  ...staffOnly,
  request: { body: jsonBody(ResourceCreate) },
  responses: { 201: jsonContent(Resource, 'Created'), ...problems(400, 401, 403, 413, 415, 422) },
});

export const updateResource = createRoute({
  method: 'patch',
  path: '/v1/resources/{id}',
  operationId: 'updateResource',
  tags,
  summary: 'Change a resource',
  ...staffOnly,
  request: { params: IdParam, body: jsonBody(ResourcePatch) },
  responses: { 200: jsonContent(Resource, 'Updated'), ...problems(400, 401, 403, 404, 413, 415, 422) },
});

export const deleteResource = createRoute({
  method: 'delete',
  path: '/v1/resources/{id}',
  operationId: 'deleteResource',
  tags,
  summary: 'Soft-delete a resource',
  ...staffOnly,
  request: { params: IdParam },
  responses: { 204: { description: 'Deleted' }, ...problems(401, 403, 404, 422) },
});
