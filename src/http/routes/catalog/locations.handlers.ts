import type { z } from '@hono/zod-openapi';
import { withSession } from '#src/db/session.ts';
import { requireMember } from '../../auth.ts';
import { createRouter } from '../../create-router.ts';
import { deleteRow, getRow, insertRow, listRows, updateRow, type TableSpec } from '../../crud.ts';
import { createLocation, deleteLocation, getLocation, listLocations, updateLocation, type Location } from './locations.routes.ts';

type LocationRow = z.infer<typeof Location>;

export const LOCATIONS: TableSpec = {
  table: 'slotbase.locations',
  columns: 'id, name, time_zone, address, phone, created_at, updated_at, deleted_at',
  softDelete: true,
};

export const locationsRouter = createRouter()
  .openapi(listLocations, async (c) => {
    const q = c.req.valid('query');
    const page = await withSession(c.var.deps.sql, c.var.caller, (tx) =>
      listRows<LocationRow>(tx, LOCATIONS, { ...q, include_deleted: q.include_deleted === 'true' }),
    );
    return c.json(page, 200);
  })
  .openapi(getLocation, async (c) => {
    const { id } = c.req.valid('param');
    return c.json(await withSession(c.var.deps.sql, c.var.caller, (tx) => getRow<LocationRow>(tx, LOCATIONS, id, 'Location')), 200);
  })
  .openapi(createLocation, async (c) => {
    const { tenantId } = requireMember(c);
    const body = c.req.valid('json');
    return c.json(await withSession(c.var.deps.sql, c.var.caller, (tx) => insertRow<LocationRow>(tx, LOCATIONS, { tenant_id: tenantId, ...body })), 201);
  })
  .openapi(updateLocation, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    return c.json(await withSession(c.var.deps.sql, c.var.caller, (tx) => updateRow<LocationRow>(tx, LOCATIONS, id, body, 'Location')), 200);
  })
  .openapi(deleteLocation, async (c) => {
    const { id } = c.req.valid('param');
    await withSession(c.var.deps.sql, c.var.caller, (tx) => deleteRow(tx, LOCATIONS, id, 'Location'));
    return c.body(null, 204);
  });
