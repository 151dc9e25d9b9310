import type postgres from 'postgres';
import type { z } from '@hono/zod-openapi';
import { withSession } from '#src/db/session.ts';
import { requireMember } from '../../auth.ts';
import { createRouter } from '../../create-router.ts';
import { deleteRow, getRow, insertRow, listRows, notFound, updateRow, type TableSpec } from '../../crud.ts';
import { ProblemError } from '../../problem.ts';
import { SERVICE_SCHEDULING_COLUMNS } from './scheduling.fields.ts';
import {
  createService,
  deleteService,
  getService,
  linkServiceProvider,
  linkServiceResource,
  listServices,
  unlinkServiceProvider,
  unlinkServiceResource,
  updateService,
  type Service,
} from './services.routes.ts';

type ServiceRow = z.infer<typeof Service>;

export const SERVICES: TableSpec = {
  table: 'slotbase.services',
  columns: `id, slug, name, description, kind, duration_minutes, buffer_before_minutes, buffer_after_minutes,
    slot_interval_minutes, min_notice_minutes, max_advance_days, max_party_size, default_capacity, hold_minutes,
    requires_approval, price_cents, currency, cancellation_notice_minutes, late_cancellation_refund_percent, deposit_percent, is_public,
    array(select sp.provider_id from slotbase.service_providers as sp
          where sp.tenant_id = services.tenant_id and sp.service_id = services.id order by sp.provider_id) as provider_ids,
    array(select sr.resource_id from slotbase.service_resources as sr
          where sr.tenant_id = services.tenant_id and sr.service_id = services.id order by sr.resource_id) as resource_ids,
    ${SERVICE_SCHEDULING_COLUMNS},
    created_at, updated_at, deleted_at`,
  softDelete: true,
};

/** 404 unless the caller sees a live row with this id in `table`. */
async function mustSee(tx: postgres.TransactionSql, table: string, id: string, what: string): Promise<void> {
  const [row] = await tx`select 1 from ${tx.unsafe(table)} where id = ${id} and deleted_at is null`;
  if (!row) throw notFound(what);
}

export const servicesRouter = createRouter()
  .openapi(listServices, async (c) => {
    const q = c.req.valid('query');
    const page = await withSession(c.var.deps.sql, c.var.caller, (tx) =>
      listRows<ServiceRow>(tx, SERVICES, { ...q, include_deleted: q.include_deleted === 'true' }),
    );
    return c.json(page, 200);
  })
  .openapi(getService, async (c) => {
    const { id } = c.req.valid('param');
    return c.json(await withSession(c.var.deps.sql, c.var.caller, (tx) => getRow<ServiceRow>(tx, SERVICES, id, 'Service')), 200);
  })
  .openapi(createService, async (c) => {
    const { tenantId } = requireMember(c);
    const body = c.req.valid('json');
    return c.json(await withSession(c.var.deps.sql, c.var.caller, (tx) => insertRow<ServiceRow>(tx, SERVICES, { tenant_id: tenantId, ...body })), 201);
  })
  .openapi(updateService, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    return c.json(await withSession(c.var.deps.sql, c.var.caller, (tx) => updateRow<ServiceRow>(tx, SERVICES, id, body, 'Service')), 200);
  })
  .openapi(deleteService, async (c) => {
    const { id } = c.req.valid('param');
    await withSession(c.var.deps.sql, c.var.caller, (tx) => deleteRow(tx, SERVICES, id, 'Service'));
    return c.body(null, 204);
  })
  .openapi(linkServiceProvider, async (c) => {
    const { tenantId } = requireMember(c);
    const { id, provider_id } = c.req.valid('param');
    await withSession(c.var.deps.sql, c.var.caller, async (tx) => {
      await mustSee(tx, 'slotbase.services', id, 'Service');
      await mustSee(tx, 'slotbase.providers', provider_id, 'Provider');
      await tx`insert into slotbase.service_providers (tenant_id, service_id, provider_id)
               values (${tenantId}, ${id}, ${provider_id}) on conflict do nothing`;
    });
    return c.body(null, 204);
  })
  .openapi(unlinkServiceProvider, async (c) => {
    const { id, provider_id } = c.req.valid('param');
    await withSession(c.var.deps.sql, c.var.caller, async (tx) => {
      const [gone] = await tx`delete from slotbase.service_providers where service_id = ${id} and provider_id = ${provider_id} returning 1`;
      if (!gone) await refuseLink(tx, id, 'provider_id', provider_id, 'service_providers');
    });
    return c.body(null, 204);
  })
  .openapi(linkServiceResource, async (c) => {
    const { tenantId } = requireMember(c);
    const { id, resource_id } = c.req.valid('param');
    await withSession(c.var.deps.sql, c.var.caller, async (tx) => {
      await mustSee(tx, 'slotbase.services', id, 'Service');
      await mustSee(tx, 'slotbase.resources', resource_id, 'Resource');
      await tx`insert into slotbase.service_resources (tenant_id, service_id, resource_id)
               values (${tenantId}, ${id}, ${resource_id}) on conflict do nothing`;
    });
    return c.body(null, 204);
  })
  .openapi(unlinkServiceResource, async (c) => {
    const { id, resource_id } = c.req.valid('param');
    await withSession(c.var.deps.sql, c.var.caller, async (tx) => {
      const [gone] = await tx`delete from slotbase.service_resources where service_id = ${id} and resource_id = ${resource_id} returning 1`;
      if (!gone) await refuseLink(tx, id, 'resource_id', resource_id, 'service_resources');
    });
    return c.body(null, 204);
  });

/** An unlink deleted nothing: 403 when the caller sees the link but may not remove it, else 404. */
async function refuseLink(
  tx: postgres.TransactionSql,
  serviceId: string,
  column: 'provider_id' | 'resource_id',
  otherId: string,
  table: 'service_providers' | 'service_resources',
): Promise<never> {
  const [visible] = await tx`select 1 from ${tx.unsafe(`slotbase.${table}`)} where service_id = ${serviceId} and ${tx.unsafe(column)} = ${otherId}`;
  if (visible) throw new ProblemError(403, 'forbidden', 'Not allowed');
  throw notFound('Link');
}
