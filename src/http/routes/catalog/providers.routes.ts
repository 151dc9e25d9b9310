import { createRoute, z } from '@hono/zod-openapi';
import { jsonBody, jsonContent, problems, Timestamp, Uuid } from '../../openapi.ts';
import { catalogExamples as ex } from '../../examples.ts';
import { IdParam, IncludeDeletedQuery, nonEmpty, pageOf, PageQuery, staffOnly } from '../../staff.ts';
import { Email, Name, Phone } from './fields.ts';
import { ProviderSchedulingFields } from './scheduling.fields.ts';

export const Provider = z
  .object({
    id: Uuid,
    name: z.string(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    user_id: Uuid.nullable().openapi({ description: 'Staff account that may manage this provider\'s own hours' }),
    location_id: Uuid.nullable().openapi({ description: 'Home location' }),
    ...ProviderSchedulingFields,
    created_at: Timestamp,
    updated_at: Timestamp,
    deleted_at: Timestamp.nullable(),
  })
  .openapi('Provider', { example: ex.provider });

const fields = {
  email: Email.nullable().optional(),
  phone: Phone.nullable().optional(),
  user_id: Uuid.nullable().optional(),
  location_id: Uuid.nullable().optional(),
  max_bookings_per_day: ProviderSchedulingFields.max_bookings_per_day.optional(),
  max_bookings_per_week: ProviderSchedulingFields.max_bookings_per_week.optional(),
};

export const ProviderCreate = z.strictObject({ name: Name, ...fields }).openapi('ProviderCreate', { example: ex.providerCreate });
export const ProviderPatch = z
  .strictObject({ name: Name.optional(), ...fields })
  .refine(nonEmpty, 'Change at least one field')
  .openapi('ProviderPatch', { example: ex.providerPatch });

const tags = ['Catalog'];

export const listProviders = createRoute({
  method: 'get',
  path: '/v1/providers',
  operationId: 'listProviders',
  tags,
  summary: 'Providers based at, or working at, a location in the caller\'s scope',
  ...staffOnly,
  request: { query: PageQuery.extend(IncludeDeletedQuery.shape) },
  responses: { 200: jsonContent(pageOf(Provider, 'Provider', ex.providerPage), 'Providers, oldest first'), ...problems(401, 422) },
});

export const getProvider = createRoute({
  method: 'get',
  path: '/v1/providers/{id}',
  operationId: 'getProvider',
  tags,
  summary: 'A provider (soft-deleted ones show deleted_at)',
  ...staffOnly,
  request: { params: IdParam },
  responses: { 200: jsonContent(Provider, 'The provider'), ...problems(401, 404, 422) },
});

export const createProvider = createRoute({
  method: 'post',
  path: '/v1/providers',
  operationId: 'createProvider',
  tags,
  summary: 'Add a provider (owners and admins, in their scope)',
  ...staffOnly,
  request: { body: jsonBody(ProviderCreate) },
  responses: { 201: jsonContent(Provider, 'Created'), ...problems(400, 401, 402, 403, 409, 413, 415, 422) },
});

export const updateProvider = createRoute({
  method: 'patch',
  path: '/v1/providers/{id}',
  operationId: 'updateProvider',
  tags,
  summary: 'Change a provider',
  ...staffOnly,
  request: { params: IdParam, body: jsonBody(ProviderPatch) },
  responses: { 200: jsonContent(Provider, 'Updated'), ...problems(400, 401, 402, 403, 404, 409, 413, 415, 422) },
});

export const deleteProvider = createRoute({
  method: 'delete',
  path: '/v1/providers/{id}',
  operationId: 'deleteProvider',
  tags,
  summary: 'Soft-delete a provider',
  ...staffOnly,
  request: { params: IdParam },
  responses: { 204: { description: 'Deleted' }, ...problems(401, 403, 404, 422) },
});
