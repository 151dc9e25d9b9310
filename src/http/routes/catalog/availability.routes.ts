import { createRoute, z } from '@hono/zod-openapi';
import { jsonBody, jsonContent, problems, Timestamp, Uuid } from '../../openapi.ts';
import { catalogExamples as ex } from '../../examples.ts';
import { IdParam, nonEmpty, pageOf, PageQuery, staffOnly } from '../../staff.ts';
import { LocalDate, LocalTime } from './fields.ts';

/** Weekly hours, date overrides and time off: when providers and resources work. */

const Weekday = z.number().int().min(1).max(7).openapi({ description: 'ISO weekday: 1 = Monday … 7 = Sunday', example: 1 });

export const AvailabilityRule = z
  .object({
    id: Uuid,
    provider_id: Uuid.nullable(),
    resource_id: Uuid.nullable(),
    location_id: Uuid,
    weekday: z.number().int(),
    start_time: z.string().openapi({ example: '09:00' }),
    end_time: z.string().openapi({ example: '17:00' }),
    valid_from: LocalDate.nullable(),
    valid_until: LocalDate.nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('AvailabilityRule', { example: ex.rule });

export const AvailabilityRuleCreate = z
  .strictObject({
    location_id: Uuid,
    weekday: Weekday,
    start_time: LocalTime,
    end_time: LocalTime.openapi({ example: '17:00' }),
    valid_from: LocalDate.nullable().optional(),
    valid_until: LocalDate.nullable().optional(),
  })
  .openapi('AvailabilityRuleCreate', { example: ex.ruleCreate });
export const AvailabilityRulePatch = z
  .strictObject({
    location_id: Uuid.optional(),
    weekday: Weekday.optional(),
    start_time: LocalTime.optional(),
    end_time: LocalTime.optional(),
    valid_from: LocalDate.nullable().optional(),
    valid_until: LocalDate.nullable().optional(),
  })
  .refine(nonEmpty, 'Change at least one field')
  .openapi('AvailabilityRulePatch', { example: ex.rulePatch });

export const DateOverride = z
  .object({
    id: Uuid,
    provider_id: Uuid.nullable(),
    resource_id: Uuid.nullable(),
    location_id: Uuid,
    date: LocalDate,
    start_time: z.string().nullable().openapi({ example: '10:00', description: 'null = closed all day' }),
    end_time: z.string().nullable().openapi({ example: '14:00' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('DateOverride', { example: ex.override });

export const DateOverrideCreate = z
  .strictObject({
    provider_id: Uuid.optional().openapi({ description: 'Exactly one of provider_id and resource_id' }),
    resource_id: Uuid.optional(),
    location_id: Uuid,
    date: LocalDate,
    start_time: LocalTime.nullable().optional().openapi({ description: 'Omit both times to close the day' }),
    end_time: LocalTime.nullable().optional(),
  })
  .openapi('DateOverrideCreate', { example: ex.overrideCreate });

export const TimeOff = z
  .object({
    id: Uuid,
    provider_id: Uuid.nullable(),
    resource_id: Uuid.nullable(),
    starts_at: Timestamp,
    ends_at: Timestamp,
    reason: z.string().nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('TimeOff', { example: ex.timeOff });

export const TimeOffCreate = z
  .strictObject({
    provider_id: Uuid.optional().openapi({ description: 'Exactly one of provider_id and resource_id' }),
    resource_id: Uuid.optional(),
    starts_at: Timestamp,
    ends_at: Timestamp.openapi({ example: '2027-03-08T00:00:00Z' }),
    reason: z.string().max(1000).nullable().optional(),
  })
  .openapi('TimeOffCreate', { example: ex.timeOffCreate });

const SubjectQuery = z.object({
  provider: Uuid.optional().openapi({ param: { name: 'provider', in: 'query' } }),
  resource: Uuid.optional().openapi({ param: { name: 'resource', in: 'query' } }),
});

const tags = ['Catalog'];

export const listAvailabilityRules = createRoute({
  method: 'get',
  path: '/v1/providers/{id}/availability-rules',
  operationId: 'listAvailabilityRules',
  tags,
  summary: 'Weekly hours of a provider at locations in the caller\'s scope',
  ...staffOnly,
  request: { params: IdParam, query: PageQuery },
  responses: { 200: jsonContent(pageOf(AvailabilityRule, 'AvailabilityRule', ex.rulePage), 'Rules, oldest first'), ...problems(401, 404, 422) },
});

export const createAvailabilityRule = createRoute({
  method: 'post',
  path: '/v1/providers/{id}/availability-rules',
  operationId: 'createAvailabilityRule',
  tags,
  summary: 'Add weekly hours (owners and admins in scope, or the provider themselves)',
  ...staffOnly,
  request: { params: IdParam, body: jsonBody(AvailabilityRuleCreate) },
  responses: { 201: jsonContent(AvailabilityRule, 'Created'), ...problems(400, 401, 403, 404, 413, 415, 422) },
});

export const updateAvailabilityRule = createRoute({
  method: 'patch',
  path: '/v1/availability-rules/{id}',
  operationId: 'updateAvailabilityRule',
  tags,
  summary: 'Change weekly hours',
  ...staffOnly,
  request: { params: IdParam, body: jsonBody(AvailabilityRulePatch) },
  responses: { 200: jsonContent(AvailabilityRule, 'Updated'), ...problems(400, 401, 403, 404, 413, 415, 422) },
});

export const deleteAvailabilityRule = createRoute({
  method: 'delete',
  path: '/v1/availability-rules/{id}',
  operationId: 'deleteAvailabilityRule',
  tags,
  summary: 'Remove weekly hours',
  ...staffOnly,
  request: { params: IdParam },
  responses: { 204: { description: 'Deleted' }, ...problems(401, 403, 404, 422) },
});

export const listDateOverrides = createRoute({
  method: 'get',
  path: '/v1/date-overrides',
  operationId: 'listDateOverrides',
  tags,
  summary: 'Days that differ from the weekly hours, at locations in the caller\'s scope',
  ...staffOnly,
  request: {
    query: PageQuery.extend(SubjectQuery.shape).extend({
      from: LocalDate.optional().openapi({ param: { name: 'from', in: 'query' }, description: 'First date (inclusive)' }),
      to: LocalDate.optional().openapi({ param: { name: 'to', in: 'query' }, description: 'Last date (inclusive)' }),
    }),
  },
  responses: { 200: jsonContent(pageOf(DateOverride, 'DateOverride', ex.overridePage), 'Overrides, oldest first'), ...problems(401, 422) },
});

export const createDateOverride = createRoute({
  method: 'post',
  path: '/v1/date-overrides',
  operationId: 'createDateOverride',
  tags,
  summary: 'Replace the weekly hours on one date (no times: closed)',
  ...staffOnly,
  request: { body: jsonBody(DateOverrideCreate) },
  responses: { 201: jsonContent(DateOverride, 'Created'), ...problems(400, 401, 403, 413, 415, 422) },
});

export const deleteDateOverride = createRoute({
  method: 'delete',
  path: '/v1/date-overrides/{id}',
  operationId: 'deleteDateOverride',
  tags,
  summary: 'Remove a date override',
  ...staffOnly,
  request: { params: IdParam },
  responses: { 204: { description: 'Deleted' }, ...problems(401, 403, 404, 422) },
});

export const listTimeOff = createRoute({
  method: 'get',
  path: '/v1/time-off',
  operationId: 'listTimeOff',
  tags,
  summary: 'Absences of providers and resources the caller can see',
  ...staffOnly,
  request: {
    query: PageQuery.extend(SubjectQuery.shape).extend({
      from: Timestamp.optional().openapi({ param: { name: 'from', in: 'query' }, description: 'Only absences ending after this instant' }),
      to: Timestamp.optional().openapi({ param: { name: 'to', in: 'query' }, description: 'Only absences starting before this instant' }),
    }),
  },
  responses: { 200: jsonContent(pageOf(TimeOff, 'TimeOff', ex.timeOffPage), 'Time off, oldest first'), ...problems(401, 422) },
});

export const createTimeOff = createRoute({
  method: 'post',
  path: '/v1/time-off',
  operationId: 'createTimeOff',
  tags,
  summary: 'Record an absence (owners and admins, or the provider themselves)',
  ...staffOnly,
  request: { body: jsonBody(TimeOffCreate) },
  responses: { 201: jsonContent(TimeOff, 'Created'), ...problems(400, 401, 403, 413, 415, 422) },
});

export const deleteTimeOff = createRoute({
  method: 'delete',
  path: '/v1/time-off/{id}',
  operationId: 'deleteTimeOff',
  tags,
  summary: 'Remove an absence',
  ...staffOnly,
  request: { params: IdParam },
  responses: { 204: { description: 'Deleted' }, ...problems(401, 403, 404, 422) },
});
