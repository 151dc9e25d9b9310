import type postgres from 'postgres';
import type { z } from '@hono/zod-openapi';
import { withSession } from '#src/db/session.ts';
import { requireMember } from '../../auth.ts';
import { createRouter } from '../../create-router.ts';
import { deleteRow, getRow, listRows, notFound, present, updateRow, type TableSpec } from '../../crud.ts';
import { page } from '../../pagination.ts';
import { ProblemError } from '../../problem.ts';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getWebhookDelivery,
  getWebhookEndpoint,
  listWebhookDeliveries,
  listWebhookEndpoints,
  redeliverWebhook,
  rotateWebhookEndpointSecret,
  testWebhookEndpoint,
  updateWebhookEndpoint,
  type WebhookAttempt,
  type WebhookDelivery,
  type WebhookEndpoint,
} from './webhooks.routes.ts';

type EndpointRow = z.infer<typeof WebhookEndpoint>;
type DeliveryRow = z.infer<typeof WebhookDelivery>;
type AttemptRow = z.infer<typeof WebhookAttempt>;
type Tx = postgres.TransactionSql;

export const WEBHOOK_ENDPOINTS: TableSpec = {
  table: 'slotbase.webhook_endpoints',
  columns: 'id, url, description, event_types, is_enabled, disabled_reason, consecutive_failures, created_by, created_at, updated_at',
  softDelete: false,
};

const DELIVERY_COLUMNS = [
  'id', 'endpoint_id', 'message_id', 'event_type', 'payload', 'status', 'attempts', 'next_attempt_at', 'last_status_code',
  'last_duration_ms', 'last_response_excerpt', 'last_error', 'created_at', 'updated_at', 'delivered_at',
];

/**
 * RLS already hides every webhook row from other members (lists come back empty, ids 404); this
 * says so plainly: 403 for members who are not tenant-wide owners or admins.
 */
async function assertManager(tx: Tx): Promise<void> {
  const [row] = await tx<{ ok: boolean }[]>`select slotbase.can_manage_webhooks() as ok`;
  if (!row?.ok) throw new ProblemError(403, 'forbidden', 'Only tenant-wide owners and admins manage webhooks');
}

/** One transaction as the caller, after the manager check. */
function asManager<T>(c: Parameters<typeof requireMember>[0] & { var: { deps: { sql: postgres.Sql } } }, fn: (tx: Tx, tenantId: string) => Promise<T>): Promise<T> {
  const caller = requireMember(c);
  return withSession(c.var.deps.sql, caller, async (tx) => {
    await assertManager(tx);
    return fn(tx, caller.tenantId);
  });
}

export const webhooksRouter = createRouter()
  .openapi(listWebhookEndpoints, async (c) => {
    const q = c.req.valid('query');
    return c.json(await asManager(c, (tx) => listRows<EndpointRow>(tx, WEBHOOK_ENDPOINTS, q)), 200);
  })
  .openapi(createWebhookEndpoint, async (c) => {
    const body = c.req.valid('json');
    const created = await asManager(c, async (tx) => {
      const [made] = await tx<{ webhook_endpoint_id: string; webhook_secret: string }[]>`
        select webhook_endpoint_id, webhook_secret from slotbase.create_webhook_endpoint(
          p_url => ${body.url}, p_description => ${body.description ?? null},
          p_event_types => ${body.event_types ?? []}::text[], p_is_enabled => ${body.is_enabled ?? true})`;
      const endpoint = await getRow<EndpointRow>(tx, WEBHOOK_ENDPOINTS, made!.webhook_endpoint_id, 'Webhook endpoint');
      return { ...endpoint, secret: made!.webhook_secret };
    });
    return c.json(created, 201);
  })
  .openapi(getWebhookEndpoint, async (c) => {
    const { id } = c.req.valid('param');
    return c.json(await asManager(c, (tx) => getRow<EndpointRow>(tx, WEBHOOK_ENDPOINTS, id, 'Webhook endpoint')), 200);
  })
  .openapi(updateWebhookEndpoint, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    return c.json(await asManager(c, (tx) => updateRow<EndpointRow>(tx, WEBHOOK_ENDPOINTS, id, body, 'Webhook endpoint')), 200);
  })
  .openapi(deleteWebhookEndpoint, async (c) => {
    const { id } = c.req.valid('param');
    await asManager(c, (tx) => deleteRow(tx, WEBHOOK_ENDPOINTS, id, 'Webhook endpoint'));
    return c.body(null, 204);
  })
  .openapi(rotateWebhookEndpointSecret, async (c) => {
    const { id } = c.req.valid('param');
    const rotated = await asManager(c, async (tx) => {
      const [row] = await tx<{ secret: string }[]>`select slotbase.rotate_webhook_endpoint_secret(${id}) as secret`;
      const endpoint = await getRow<EndpointRow>(tx, WEBHOOK_ENDPOINTS, id, 'Webhook endpoint');
      return { ...endpoint, secret: row!.secret };
    });
    return c.json(rotated, 200);
  })
  .openapi(testWebhookEndpoint, async (c) => {
    const { id } = c.req.valid('param');
    const delivery = await asManager(c, async (tx) => {
      const [row] = await tx<Record<string, unknown>[]>`select ${tx(DELIVERY_COLUMNS)} from slotbase.send_test_webhook(${id})`;
      return present<DeliveryRow>(row!);
    });
    return c.json(delivery, 202);
  })
  .openapi(listWebhookDeliveries, async (c) => {
    const { id } = c.req.valid('param');
    const q = c.req.valid('query');
    const result = await asManager(c, async (tx, tenantId) => {
      await getRow(tx, WEBHOOK_ENDPOINTS, id, 'Webhook endpoint');
      // The cursor's instant goes in as text (microseconds kept; a JS Date has milliseconds).
      const rows = await tx<(Record<string, unknown> & { id: string; cursor_at: string })[]>`
        select ${tx(DELIVERY_COLUMNS)}, to_json(created_at) #>> '{}' as cursor_at
        from slotbase.webhook_deliveries
        where tenant_id = ${tenantId} and endpoint_id = ${id}
          ${q.status ? tx`and status = ${q.status}` : tx``}
          ${q.cursor ? tx`and (created_at, id) < (${q.cursor.at}::text::timestamptz, ${q.cursor.id}::uuid)` : tx``}
        order by created_at desc, id desc
        limit ${q.limit + 1}`;
      const { rows: kept, next_cursor } = page(rows, q.limit);
      return { data: kept.map((r) => present<DeliveryRow>(r)), next_cursor };
    });
    return c.json(result, 200);
  })
  .openapi(getWebhookDelivery, async (c) => {
    const { id } = c.req.valid('param');
    const detail = await asManager(c, async (tx, tenantId) => {
      const [row] = await tx<Record<string, unknown>[]>`
        select ${tx(DELIVERY_COLUMNS)} from slotbase.webhook_deliveries where tenant_id = ${tenantId} and id = ${id}`;
      if (!row) throw notFound('Webhook delivery');
      const attempts = await tx<Record<string, unknown>[]>`
        select id, attempted_at, status_code, duration_ms, response_excerpt, error, is_success
        from slotbase.webhook_attempts where tenant_id = ${tenantId} and delivery_id = ${id}
        order by attempted_at, id`;
      return { ...present<DeliveryRow>(row), attempt_log: attempts.map((a) => present<AttemptRow>(a)) };
    });
    return c.json(detail, 200);
  })
  .openapi(redeliverWebhook, async (c) => {
    const { id } = c.req.valid('param');
    const delivery = await asManager(c, async (tx) => {
      const [row] = await tx<Record<string, unknown>[]>`select ${tx(DELIVERY_COLUMNS)} from slotbase.redeliver_webhook(${id})`;
      return present<DeliveryRow>(row!);
    });
    return c.json(delivery, 202);
  });
