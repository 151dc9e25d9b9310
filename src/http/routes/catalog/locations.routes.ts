import { createRoute, z } from '@hono/zod-openapi';
import { jsonBody, jsonContent, problems, Timestamp, Uuid } from '../../openapi.ts';
import { catalogExamples as ex } from '../../examples.ts';
import { IdParam, IncludeDeletedQuery, nonEmpty, pageOf, PageQuery, staffOnly } from '../../staff.ts';
import { Name, Phone, TimeZone } from './fields.ts';

export const Location = z
  .object({
    id: Uuid,
    name: z.string(),
    time_zone: z.string(),
    address: z.string().nullable(),
    phone: z.string().nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
    deleted_at: Timestamp.nullable(),
  })
  .openapi('Location', { example: ex.location });

export const LocationCreate = z
  .strictObject({
    name: Name,
    time_zone: TimeZone,
    address: z.string().max(1000).nullable().optional(),
    phone: Phone.nullable().optional(),
  })
  .openapi('LocationCreate', { example: ex.locationCreate });

export const LocationPatch = z
  .strictObject({
    name: Name.optional(),
    time_zone: TimeZone.optional(),
    address: z.string().max(1000).nullable().optional(),
    phone: Phone.nullable().optional(),
  })
  .refine(nonEmpty, 'Change at least one field')
  .openapi('LocationPatch', { example: ex.locationPatch });

const tags = ['Catalog'];

export const listLocations = createRoute({
  method: 'get',
  path: '/v1/locations',
  operationId: 'listLocations',
  tags,
  summary: 'Locations in the caller\'s scope',
  ...staffOnly,
  request: { query: PageQuery.extend(IncludeDeletedQuery.shape) },
  responses: { 200: jsonContent(pageOf(Location, 'Location', ex.locationPage), 'Locations, oldest first'), ...problems(401, 422) },
});

export const getLocation = createRoute({
  method: 'get',
  path: '/v1/locations/{id}',
  operationId: 'getLocation',
  tags,
  summary: 'A location (soft-deleted ones show deleted_at)',
  ...staffOnly,
  request: { params: IdParam },
  responses: { 200: jsonContent(Location, 'The location'), ...problems(401, 404, 422) },
});

export const createLocation = createRoute({
  method: 'post',
  path: '/v1/locations',
  operationId: 'createLocation',
  tags,
  summary: 'Open a location (tenant-wide owners and admins)',
  ...staffOnly,
  request: { body: jsonBody(LocationCreate) },
  responses: { 201: jsonContent(Location, 'Created'), ...problems(400, 401, 402, 403, 413, 415, 422) },
});

export const updateLocation = createRoute({
  method: 'patch',
  path: '/v1/locations/{id}',
  operationId: 'updateLocation',
  tags,
  summary: 'Change a location',
  ...staffOnly,
  request: { params: IdParam, body: jsonBody(LocationPatch) },
  responses: { 200: jsonContent(Location, 'Updated'), ...problems(400, 401, 402, 403, 404, 413, 415, 422) },
});

export const deleteLocation = createRoute({
  method: 'delete',
  path: '/v1/locations/{id}',
  operationId: 'deleteLocation',
  tags,
  summary: 'Soft-delete a location',
  ...staffOnly,
  request: { params: IdParam },
  responses: { 204: { description: 'Deleted' }, ...problems(401, 403, 404, 422) },
});
