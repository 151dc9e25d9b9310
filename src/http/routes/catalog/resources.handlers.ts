import type { z } from '@hono/zod-openapi';
import { withSession } from '#src/db/session.ts';
import { requireMember } from '../../auth.ts';
import { createRouter } from '../../create-router.ts';
import { deleteRow, getRow, insertRow, listRows, updateRow, type TableSpec } from '../../crud.ts';
import { createResource, deleteResource, getResource, listResources, updateResource, type Resource } from './resources.routes.ts';

type ResourceRow = z.infer<typeof Resource>;

export const RESOURCES: TableSpec = {
  table: 'slotbase.resources',
  columns: 'id, location_id, name, kind, created_at, updated_at, deleted_at',
  softDelete: true,
};

export const resourcesRouter = createRouter()
  .openapi(listResources, async (c) => {
    const q = c.req.valid('query');
    const page = await withSession(c.var.deps.sql, c.var.caller, (tx) =>
      listRows<ResourceRow>(tx, RESOURCES, { ...q, include_deleted: q.include_deleted === 'true' }),
    );
    return c.json(page, 200);
  })
  .openapi(getResource, async (c) => {
    const { id } = c.req.valid('param');
    return c.json(await withSession(c.var.deps.sql, c.var.caller, (tx) => getRow<ResourceRow>(tx, RESOURCES, id, 'Resource')), 200);
  })
  .openapi(createResource, async (c) => {
    const { tenantId } = requireMember(c);
    const body = c.req.valid('json');
    return c.json(await withSession(c.var.deps.sql, c.var.caller, (tx) => insertRow<ResourceRow>(tx, RESOURCES, { tenant_id: tenantId, ...body })), 201);
  })
  .openapi(updateResource, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    return c.json(await withSession(c.var.deps.sql, c.var.caller, (tx) => updateRow<ResourceRow>(tx, RESOURCES, id, body, 'Resource')), 200);
  })
  .openapi(deleteResource, async (c) => {
    const { id } = c.req.valid('param');
    await withSession(c.var.deps.sql, c.var.caller, (tx) => deleteRow(tx, RESOURCES, id, 'Resource'));
    return c.body(null, 204);
  });
