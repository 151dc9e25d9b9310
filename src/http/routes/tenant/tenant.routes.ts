import { createRoute, z } from '@hono/zod-openapi';
import { jsonBody, jsonContent, problems, Timestamp, Uuid } from '../../openapi.ts';
import { nonEmpty, staffOnly } from '../../staff.ts';
import { tenantExamples } from '../../examples.ts';

export const Tenant = z
  .object({
    id: Uuid,
    slug: z.string().openapi({ example: 'sunrise-clinic' }),
    name: z.string(),
    time_zone: z.string(),
    locale: z.string().openapi({ example: 'en' }),
    plan: z.string().openapi({ description: 'Set by billing' }),
    status: z.enum(['active', 'past_due', 'paused', 'suspended']),
    settings: z.record(z.string(), z.unknown()),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('Tenant', { example: tenantExamples.tenant });

export const TenantPatch = z
  .strictObject({
    name: z.string().min(1).max(200).optional(),
    time_zone: z.string().min(1).max(64).optional().openapi({ example: 'Europe/Berlin' }),
    locale: z.string().min(2).max(5).optional().openapi({ example: 'de-DE' }),
    settings: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: 'Replaces the settings object (e.g. `reminder_offsets_minutes`)' }),
  })
  .refine(nonEmpty, 'Change at least one field')
  .openapi('TenantPatch', { example: tenantExamples.tenantPatch });

const tags = ['Tenant'];

export const getTenant = createRoute({
  method: 'get',
  path: '/v1/tenant',
  operationId: 'getTenant',
  tags,
  summary: 'The tenant the access token acts in',
  ...staffOnly,
  responses: { 200: jsonContent(Tenant, 'The tenant'), ...problems(401, 404) },
});

export const updateTenant = createRoute({
  method: 'patch',
  path: '/v1/tenant',
  operationId: 'updateTenant',
  tags,
  summary: 'Change the tenant\'s name, time zone, locale or settings (owners and admins)',
  ...staffOnly,
  request: { body: jsonBody(TenantPatch) },
  responses: { 200: jsonContent(Tenant, 'Updated'), ...problems(400, 401, 403, 404, 413, 415, 422) },
});
