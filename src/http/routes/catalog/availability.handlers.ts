import type { z } from '@hono/zod-openapi';
import type postgres from 'postgres';
import { withSession } from '#src/db/session.ts';
import { requireMember } from '../../auth.ts';
import { createRouter } from '../../create-router.ts';
import { deleteRow, getRow, insertRow, listRows, updateRow, type TableSpec } from '../../crud.ts';
import {
  createAvailabilityRule,
  createDateOverride,
  createTimeOff,
  deleteAvailabilityRule,
  deleteDateOverride,
  deleteTimeOff,
  listAvailabilityRules,
  listDateOverrides,
  listTimeOff,
  updateAvailabilityRule,
  type AvailabilityRule,
  type DateOverride,
  type TimeOff,
} from './availability.routes.ts';
import { PROVIDERS } from './providers.handlers.ts';

type RuleRow = z.infer<typeof AvailabilityRule>;
type OverrideRow = z.infer<typeof DateOverride>;
type TimeOffRow = z.infer<typeof TimeOff>;

export const RULES: TableSpec = {
  table: 'slotbase.availability_rules',
  columns: `id, provider_id, resource_id, location_id, weekday,
    to_char(start_time, 'HH24:MI') as start_time, to_char(end_time, 'HH24:MI') as end_time,
    valid_from::text as valid_from, valid_until::text as valid_until, created_at, updated_at`,
  softDelete: false,
};

export const DATE_OVERRIDES: TableSpec = {
  table: 'slotbase.date_overrides',
  columns: `id, provider_id, resource_id, location_id, "date"::text as date,
    to_char(start_time, 'HH24:MI') as start_time, to_char(end_time, 'HH24:MI') as end_time, created_at, updated_at`,
  softDelete: false,
};

export const TIME_OFF: TableSpec = {
  table: 'slotbase.time_off',
  columns: 'id, provider_id, resource_id, starts_at, ends_at, reason, created_at, updated_at',
  softDelete: false,
};

/** Filters on the subject (provider or resource) of hours and absences. */
function subjectFilters(tx: postgres.TransactionSql, q: { provider?: string | undefined; resource?: string | undefined }) {
  return [...(q.provider ? [tx`provider_id = ${q.provider}`] : []), ...(q.resource ? [tx`resource_id = ${q.resource}`] : [])];
}

export const availabilityRouter = createRouter()
  .openapi(listAvailabilityRules, async (c) => {
    const { id } = c.req.valid('param');
    const q = c.req.valid('query');
    const page = await withSession(c.var.deps.sql, c.var.caller, async (tx) => {
      await getRow(tx, PROVIDERS, id, 'Provider');
      return listRows<RuleRow>(tx, RULES, q, [tx`provider_id = ${id}`]);
    });
    return c.json(page, 200);
  })
  .openapi(createAvailabilityRule, async (c) => {
    const { tenantId } = requireMember(c);
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const rule = await withSession(c.var.deps.sql, c.var.caller, async (tx) => {
      await getRow(tx, PROVIDERS, id, 'Provider');
      return insertRow<RuleRow>(tx, RULES, { tenant_id: tenantId, provider_id: id, ...body });
    });
    return c.json(rule, 201);
  })
  .openapi(updateAvailabilityRule, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    return c.json(await withSession(c.var.deps.sql, c.var.caller, (tx) => updateRow<RuleRow>(tx, RULES, id, body, 'Availability rule')), 200);
  })
  .openapi(deleteAvailabilityRule, async (c) => {
    const { id } = c.req.valid('param');
    await withSession(c.var.deps.sql, c.var.caller, (tx) => deleteRow(tx, RULES, id, 'Availability rule'));
    return c.body(null, 204);
  })
  .openapi(listDateOverrides, async (c) => {
    const q = c.req.valid('query');
    const page = await withSession(c.var.deps.sql, c.var.caller, (tx) =>
      listRows<OverrideRow>(tx, DATE_OVERRIDES, q, [
        ...subjectFilters(tx, q),
        ...(q.from ? [tx`"date" >= ${q.from}::date`] : []),
        ...(q.to ? [tx`"date" <= ${q.to}::date`] : []),
      ]),
    );
    return c.json(page, 200);
  })
  .openapi(createDateOverride, async (c) => {
    const { tenantId } = requireMember(c);
    const body = c.req.valid('json');
    return c.json(await withSession(c.var.deps.sql, c.var.caller, (tx) => insertRow<OverrideRow>(tx, DATE_OVERRIDES, { tenant_id: tenantId, ...body })), 201);
  })
  .openapi(deleteDateOverride, async (c) => {
    const { id } = c.req.valid('param');
    await withSession(c.var.deps.sql, c.var.caller, (tx) => deleteRow(tx, DATE_OVERRIDES, id, 'Date override'));
    return c.body(null, 204);
  })
  .openapi(listTimeOff, async (c) => {
    const q = c.req.valid('query');
    const page = await withSession(c.var.deps.sql, c.var.caller, (tx) =>
      listRows<TimeOffRow>(tx, TIME_OFF, q, [
        ...subjectFilters(tx, q),
        ...(q.from ? [tx`ends_at > ${q.from}::timestamptz`] : []),
        ...(q.to ? [tx`starts_at < ${q.to}::timestamptz`] : []),
      ]),
    );
    return c.json(page, 200);
  })
  .openapi(createTimeOff, async (c) => {
    const { tenantId } = requireMember(c);
    const body = c.req.valid('json');
    return c.json(await withSession(c.var.deps.sql, c.var.caller, (tx) => insertRow<TimeOffRow>(tx, TIME_OFF, { tenant_id: tenantId, ...body })), 201);
  })
  .openapi(deleteTimeOff, async (c) => {
    const { id } = c.req.valid('param');
    await withSession(c.var.deps.sql, c.var.caller, (tx) => deleteRow(tx, TIME_OFF, id, 'Time off'));
    return c.body(null, 204);
  });
