import type { z } from '@hono/zod-openapi';
import type postgres from 'postgres';
import { withSession } from '#src/db/session.ts';
import { requireMember } from '../../auth.ts';
import { createRouter } from '../../create-router.ts';
import { getRow, updateRow, type TableSpec } from '../../crud.ts';
import { getTenant, updateTenant, type Tenant } from './tenant.routes.ts';

type TenantRow = z.infer<typeof Tenant>;

const TENANTS: TableSpec = {
  table: 'slotbase.tenants',
  columns: 'id, slug, name, time_zone, locale, plan, status, settings, created_at, updated_at',
  softDelete: true,
};

export const tenantRouter = createRouter()
  .openapi(getTenant, async (c) => {
    const { tenantId } = requireMember(c);
    return c.json(await withSession(c.var.deps.sql, c.var.caller, (tx) => getRow<TenantRow>(tx, TENANTS, tenantId, 'Tenant')), 200);
  })
  .openapi(updateTenant, async (c) => {
    const { tenantId } = requireMember(c);
    const { settings, ...body } = c.req.valid('json');
    const tenant = await withSession(c.var.deps.sql, c.var.caller, (tx) =>
      updateRow<TenantRow>(tx, TENANTS, tenantId, { ...body, settings: settings === undefined ? undefined : tx.json(settings as postgres.JSONValue) }, 'Tenant'),
    );
    return c.json(tenant, 200);
  });
