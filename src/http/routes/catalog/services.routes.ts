import { createRoute, z } from '@hono/zod-openapi';
import { jsonBody, jsonContent, problems, Timestamp, Uuid } from '../../openapi.ts';
import { catalogExamples as ex } from '../../examples.ts';
import { IdParam, IncludeDeletedQuery, nonEmpty, pageOf, PageQuery, staffOnly } from '../../staff.ts';
import { Minutes, Name, Slug } from './fields.ts';
import { ServiceSchedulingFields, ServiceSchedulingInput } from './scheduling.fields.ts';

const Kind = z.enum(['appointment', 'group']);

export const Service = z
  .object({
    id: Uuid,
    slug: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    kind: Kind,
    duration_minutes: z.number().int(),
    buffer_before_minutes: z.number().int(),
    buffer_after_minutes: z.number().int(),
    slot_interval_minutes: z.number().int().nullable().openapi({ description: 'null = the duration' }),
    min_notice_minutes: z.number().int(),
    max_advance_days: z.number().int(),
    max_party_size: z.number().int(),
    default_capacity: z.number().int().nullable(),
    hold_minutes: z.number().int(),
    requires_approval: z.boolean(),
    price_cents: z.number().int().nullable(),
    currency: z.string().nullable(),
    cancellation_notice_minutes: z.number().int().openapi({ description: 'Paid bookings cancelled by the booker at least this long before the start are refunded in full' }),
    late_cancellation_refund_percent: z.number().int().openapi({ description: 'Share (0–100) of the amount paid refunded for a later cancellation by the booker' }),
    deposit_percent: z.number().int().nullable().openapi({ description: 'Share (1–100) of the price paid at booking; the rest is due at the appointment. null: the full price' }),
    is_public: z.boolean(),
    provider_ids: z.array(Uuid).openapi({ description: 'Providers who offer it' }),
    resource_ids: z.array(Uuid).openapi({ description: 'Resources it needs' }),
    ...ServiceSchedulingFields,
    created_at: Timestamp,
    updated_at: Timestamp,
    deleted_at: Timestamp.nullable(),
  })
  .openapi('Service', { example: ex.service });

const fields = {
  name: Name.openapi({ example: 'Check-up' }),
  description: z.string().max(5000).nullable(),
  kind: Kind,
  duration_minutes: Minutes.openapi({ example: 30 }),
  buffer_before_minutes: Minutes,
  buffer_after_minutes: Minutes,
  slot_interval_minutes: Minutes.nullable(),
  min_notice_minutes: Minutes,
  max_advance_days: z.number().int(),
  max_party_size: z.number().int(),
  default_capacity: z.number().int().nullable(),
  hold_minutes: Minutes,
  requires_approval: z.boolean(),
  price_cents: z.number().int().nullable(),
  currency: z.string().length(3).nullable().openapi({ example: 'EUR' }),
  cancellation_notice_minutes: z.number().int().min(0).max(525600).openapi({ example: 1440, description: 'Full refund when the booker cancels at least this long before the start (0: up to the start)' }),
  late_cancellation_refund_percent: z.number().int().min(0).max(100).openapi({ example: 50, description: 'Share of the amount paid refunded for a later cancellation (0: none)' }),
  deposit_percent: z.number().int().min(1).max(100).nullable().openapi({ example: 30, description: 'Charge this share of the price at booking (needs a price); null: the full price' }),
  is_public: z.boolean(),
  ...ServiceSchedulingInput,
};

export const ServiceCreate = z
  .strictObject({
    ...z.object(fields).partial().shape,
    slug: Slug,
    name: fields.name,
    duration_minutes: fields.duration_minutes,
  })
  .openapi('ServiceCreate', { example: ex.serviceCreate });
export const ServicePatch = z
  .strictObject({ slug: Slug.optional(), ...z.object(fields).partial().shape })
  .refine(nonEmpty, 'Change at least one field')
  .openapi('ServicePatch', { example: ex.servicePatch });

const ProviderLinkParams = IdParam.extend({ provider_id: Uuid.openapi({ param: { name: 'provider_id', in: 'path' } }) });
const ResourceLinkParams = IdParam.extend({ resource_id: Uuid.openapi({ param: { name: 'resource_id', in: 'path' } }) });

const tags = ['Catalog'];

export const listServices = createRoute({
  method: 'get',
  path: '/v1/services',
  operationId: 'listServices',
  tags,
  summary: 'Services of the tenant, public and hidden',
  ...staffOnly,
  request: { query: PageQuery.extend(IncludeDeletedQuery.shape) },
  responses: { 200: jsonContent(pageOf(Service, 'Service', ex.servicePage), 'Services, oldest first'), ...problems(401, 422) },
});

export const getService = createRoute({
  method: 'get',
  path: '/v1/services/{id}',
  operationId: 'getService',
  tags,
  summary: 'A service with its providers and resources (soft-deleted ones show deleted_at)',
  ...staffOnly,
  request: { params: IdParam },
  responses: { 200: jsonContent(Service, 'The service'), ...problems(401, 404, 422) },
});

export const createService = createRoute({
  method: 'post',
  path: '/v1/services',
  operationId: 'createService',
  tags,
  summary: 'Create a service (tenant-wide owners and admins)',
  ...staffOnly,
  request: { body: jsonBody(ServiceCreate) },
  responses: { 201: jsonContent(Service, 'Created'), ...problems(400, 401, 403, 409, 413, 415, 422) },
});

export const updateService = createRoute({
  method: 'patch',
  path: '/v1/services/{id}',
  operationId: 'updateService',
  tags,
  summary: 'Change a service',
  ...staffOnly,
  request: { params: IdParam, body: jsonBody(ServicePatch) },
  responses: { 200: jsonContent(Service, 'Updated'), ...problems(400, 401, 403, 404, 409, 413, 415, 422) },
});

export const deleteService = createRoute({
  method: 'delete',
  path: '/v1/services/{id}',
  operationId: 'deleteService',
  tags,
  summary: 'Soft-delete a service (its slug becomes free again)',
  ...staffOnly,
  request: { params: IdParam },
  responses: { 204: { description: 'Deleted' }, ...problems(401, 403, 404, 422) },
});

export const linkServiceProvider = createRoute({
  method: 'post',
  path: '/v1/services/{id}/providers/{provider_id}',
  operationId: 'linkServiceProvider',
  tags,
  summary: 'Let a provider offer a service (idempotent)',
  ...staffOnly,
  request: { params: ProviderLinkParams },
  responses: { 204: { description: 'Linked' }, ...problems(401, 403, 404, 422) },
});

export const unlinkServiceProvider = createRoute({
  method: 'delete',
  path: '/v1/services/{id}/providers/{provider_id}',
  operationId: 'unlinkServiceProvider',
  tags,
  summary: 'Stop a provider offering a service',
  ...staffOnly,
  request: { params: ProviderLinkParams },
  responses: { 204: { description: 'Unlinked' }, ...problems(401, 403, 404, 422) },
});

export const linkServiceResource = createRoute({
  method: 'post',
  path: '/v1/services/{id}/resources/{resource_id}',
  operationId: 'linkServiceResource',
  tags,
  summary: 'Make a service need a resource (idempotent)',
  ...staffOnly,
  request: { params: ResourceLinkParams },
  responses: { 204: { description: 'Linked' }, ...problems(401, 403, 404, 422) },
});

export const unlinkServiceResource = createRoute({
  method: 'delete',
  path: '/v1/services/{id}/resources/{resource_id}',
  operationId: 'unlinkServiceResource',
  tags,
  summary: 'Stop a service needing a resource',
  ...staffOnly,
  request: { params: ResourceLinkParams },
  responses: { 204: { description: 'Unlinked' }, ...problems(401, 403, 404, 422) },
});
