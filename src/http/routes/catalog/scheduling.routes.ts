import { createRoute, z } from '@hono/zod-openapi';
import { jsonBody, jsonContent, problems, Timestamp, Uuid } from '../../openapi.ts';
import { IdParam, nonEmpty, pageOf, PageQuery, staffOnly } from '../../staff.ts';

const created = '2027-02-01T08:00:00Z';
const example = {
  poolEntry: { provider_id: 'c7d1e2f3-8a9b-4c0d-a1e2-f3a4b5c6d7e8', weight: 3, priority: 0 },
  poolPatch: { weight: 3 },
  travelTime: {
    id: 'e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b',
    location_a_id: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
    location_b_id: '2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e',
    minutes: 45,
    created_at: created,
    updated_at: created,
  },
};

export const ServiceProviderSettings = z
  .object({
    provider_id: Uuid,
    weight: z.number().int().openapi({ description: 'Share under the weighted strategy (1–1000)' }),
    priority: z.number().int().openapi({ description: 'Order under the priority strategy, lowest first (0–1000)' }),
  })
  .openapi('ServiceProviderSettings', { example: example.poolEntry });

export const ServiceProviderPatch = z
  .strictObject({ weight: z.number().int().min(1).max(1000).optional(), priority: z.number().int().min(0).max(1000).optional() })
  .refine(nonEmpty, 'Change at least one field')
  .openapi('ServiceProviderPatch', { example: example.poolPatch });

export const TravelTime = z
  .object({
    id: Uuid,
    location_a_id: Uuid,
    location_b_id: Uuid.openapi({ description: 'The pair is stored once, in either direction (the smaller id is location_a_id)' }),
    minutes: z.number().int(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('TravelTime', { example: example.travelTime });

export const TravelTimeCreate = z
  .strictObject({ location_a_id: Uuid, location_b_id: Uuid, minutes: z.number().int().openapi({ description: '1–1440' }) })
  .openapi('TravelTimeCreate', { example: { location_a_id: example.travelTime.location_a_id, location_b_id: example.travelTime.location_b_id, minutes: 45 } });

export const TravelTimePatch = z.strictObject({ minutes: z.number().int() }).openapi('TravelTimePatch', { example: { minutes: 30 } });

const tags = ['Catalog'];
const PoolParams = IdParam.extend({ provider_id: Uuid.openapi({ param: { name: 'provider_id', in: 'path' } }) });

export const updateServiceProvider = createRoute({
  method: 'patch',
  path: '/v1/services/{id}/providers/{provider_id}',
  operationId: 'updateServiceProvider',
  tags,
  summary: 'Set a provider\'s round-robin weight or priority for a service',
  ...staffOnly,
  request: { params: PoolParams, body: jsonBody(ServiceProviderPatch) },
  responses: { 200: jsonContent(ServiceProviderSettings, 'Updated'), ...problems(400, 401, 403, 404, 413, 415, 422) },
});

export const listTravelTimes = createRoute({
  method: 'get',
  path: '/v1/travel-times',
  operationId: 'listTravelTimes',
  tags,
  summary: 'Travel times between the tenant\'s locations',
  ...staffOnly,
  request: { query: PageQuery },
  responses: { 200: jsonContent(pageOf(TravelTime, 'TravelTime', { data: [example.travelTime], next_cursor: null }), 'Travel times, oldest first'), ...problems(401, 422) },
});

export const createTravelTime = createRoute({
  method: 'post',
  path: '/v1/travel-times',
  operationId: 'createTravelTime',
  tags,
  summary: 'Set the minutes a provider needs between bookings at two locations (tenant-wide owners and admins)',
  ...staffOnly,
  request: { body: jsonBody(TravelTimeCreate) },
  responses: { 201: jsonContent(TravelTime, 'Created'), ...problems(400, 401, 403, 409, 413, 415, 422) },
});

export const updateTravelTime = createRoute({
  method: 'patch',
  path: '/v1/travel-times/{id}',
  operationId: 'updateTravelTime',
  tags,
  summary: 'Change a travel time',
  ...staffOnly,
  request: { params: IdParam, body: jsonBody(TravelTimePatch) },
  responses: { 200: jsonContent(TravelTime, 'Updated'), ...problems(400, 401, 403, 404, 413, 415, 422) },
});

export const deleteTravelTime = createRoute({
  method: 'delete',
  path: '/v1/travel-times/{id}',
  operationId: 'deleteTravelTime',
  tags,
  summary: 'Remove a travel time (bookings at the two locations then need no gap)',
  ...staffOnly,
  request: { params: IdParam },
  responses: { 204: { description: 'Deleted' }, ...problems(401, 403, 404, 422) },
});
