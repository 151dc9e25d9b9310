import type { z } from '@hono/zod-openapi';
import { withSession } from '#src/db/session.ts';
import { requireMember } from '../../auth.ts';
import { createRouter } from '../../create-router.ts';
import { deleteRow, insertRow, listRows, notFound, updateRow, type TableSpec } from '../../crud.ts';
import { ProblemError } from '../../problem.ts';
import {
  createTravelTime,
  deleteTravelTime,
  listTravelTimes,
  updateServiceProvider,
  updateTravelTime,
  type ServiceProviderSettings,
  type TravelTime,
} from './scheduling.routes.ts';

const TRAVEL_TIMES: TableSpec = {
  table: 'slotbase.location_travel_times',
  columns: 'id, location_a_id, location_b_id, minutes, created_at, updated_at',
  softDelete: false,
};

/** Scheduling rules of the catalog: round-robin settings per service provider, travel times between locations. */
export const schedulingRouter = createRouter()
  .openapi(updateServiceProvider, async (c) => {
    const { id, provider_id } = c.req.valid('param');
    const body = c.req.valid('json');
    const row = await withSession(c.var.deps.sql, c.var.caller, async (tx) => {
      const [updated] = await tx<z.infer<typeof ServiceProviderSettings>[]>`
        update slotbase.service_providers
        set weight = coalesce(${body.weight ?? null}::integer, weight), priority = coalesce(${body.priority ?? null}::integer, priority)
        where service_id = ${id} and provider_id = ${provider_id}
        returning provider_id, weight, priority`;
      if (updated) return updated;
      const [visible] = await tx`select 1 from slotbase.service_providers where service_id = ${id} and provider_id = ${provider_id}`;
      if (visible) throw new ProblemError(403, 'forbidden', 'Not allowed');
      throw notFound('Link');
    });
    return c.json(row, 200);
  })
  .openapi(listTravelTimes, async (c) => {
    const q = c.req.valid('query');
    return c.json(await withSession(c.var.deps.sql, c.var.caller, (tx) => listRows<z.infer<typeof TravelTime>>(tx, TRAVEL_TIMES, q)), 200);
  })
  .openapi(createTravelTime, async (c) => {
    const { tenantId } = requireMember(c);
    const body = c.req.valid('json');
    return c.json(await withSession(c.var.deps.sql, c.var.caller, (tx) => insertRow<z.infer<typeof TravelTime>>(tx, TRAVEL_TIMES, { tenant_id: tenantId, ...body })), 201);
  })
  .openapi(updateTravelTime, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    return c.json(await withSession(c.var.deps.sql, c.var.caller, (tx) => updateRow<z.infer<typeof TravelTime>>(tx, TRAVEL_TIMES, id, body, 'Travel time')), 200);
  })
  .openapi(deleteTravelTime, async (c) => {
    const { id } = c.req.valid('param');
    await withSession(c.var.deps.sql, c.var.caller, (tx) => deleteRow(tx, TRAVEL_TIMES, id, 'Travel time'));
    return c.body(null, 204);
  });
