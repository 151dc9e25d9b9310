import type { z } from '@hono/zod-openapi';
import { withSession } from '#src/db/session.ts';
import { requireMember } from '../../auth.ts';
import { createRouter } from '../../create-router.ts';
import { deleteRow, getRow, insertRow, listRows, updateRow, type TableSpec } from '../../crud.ts';
import { createProvider, deleteProvider, getProvider, listProviders, updateProvider, type Provider } from './providers.routes.ts';

type ProviderRow = z.infer<typeof Provider>;

export const PROVIDERS: TableSpec = {
  table: 'slotbase.providers',
  columns: 'id, name, email, phone, user_id, location_id, max_bookings_per_day, max_bookings_per_week, created_at, updated_at, deleted_at',
  softDelete: true,
};

export const providersRouter = createRouter()
  .openapi(listProviders, async (c) => {
    const q = c.req.valid('query');
    const page = await withSession(c.var.deps.sql, c.var.caller, (tx) =>
      listRows<ProviderRow>(tx, PROVIDERS, { ...q, include_deleted: q.include_deleted === 'true' }),
    );
    return c.json(page, 200);
  })
  .openapi(getProvider, async (c) => {
    const { id } = c.req.valid('param');
    return c.json(await withSession(c.var.deps.sql, c.var.caller, (tx) => getRow<ProviderRow>(tx, PROVIDERS, id, 'Provider')), 200);
  })
  .openapi(createProvider, async (c) => {
    const { tenantId } = requireMember(c);
    const body = c.req.valid('json');
    return c.json(await withSession(c.var.deps.sql, c.var.caller, (tx) => insertRow<ProviderRow>(tx, PROVIDERS, { tenant_id: tenantId, ...body })), 201);
  })
  .openapi(updateProvider, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    return c.json(await withSession(c.var.deps.sql, c.var.caller, (tx) => updateRow<ProviderRow>(tx, PROVIDERS, id, body, 'Provider')), 200);
  })
  .openapi(deleteProvider, async (c) => {
    const { id } = c.req.valid('param');
    await withSession(c.var.deps.sql, c.var.caller, (tx) => deleteRow(tx, PROVIDERS, id, 'Provider'));
    return c.body(null, 204);
  });
