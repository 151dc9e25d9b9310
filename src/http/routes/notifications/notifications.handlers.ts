import type { z } from '@hono/zod-openapi';
import { withSession } from '#src/db/session.ts';
import { requireMember } from '../../auth.ts';
import { createRouter } from '../../create-router.ts';
import { deleteRow, insertRow, listRows, present, type TableSpec } from '../../crud.ts';
import { page } from '../../pagination.ts';
import {
  createNotificationOptOut,
  deleteNotificationOptOut,
  listNotificationOptOuts,
  listNotifications,
  type Notification,
  type NotificationOptOut,
} from './notifications.routes.ts';

type NotificationRow = z.infer<typeof Notification>;
type OptOutRow = z.infer<typeof NotificationOptOut>;

export const OPT_OUTS: TableSpec = {
  table: 'slotbase.notification_opt_outs',
  columns: 'id, channel, address, reason, created_by, created_at',
  softDelete: false,
};

export const notificationsRouter = createRouter()
  .openapi(listNotifications, async (c) => {
    const caller = requireMember(c);
    const q = c.req.valid('query');
    const rows = await withSession(c.var.deps.sql, caller, (tx) => tx<(Record<string, unknown> & { id: string; cursor_at: string })[]>`
      select id, booking_id, channel, template, recipient, dedupe_key, status, reason, attempts, provider_message_id, last_error,
             created_at, updated_at, sent_at, to_json(created_at) #>> '{}' as cursor_at
      from slotbase.notifications
      where tenant_id = ${caller.tenantId}
        ${q.booking_id ? tx`and booking_id = ${q.booking_id}` : tx``}
        ${q.status ? tx`and status = ${q.status}` : tx``}
        ${q.channel ? tx`and channel = ${q.channel}` : tx``}
        ${q.cursor ? tx`and (created_at, id) < (${q.cursor.at}::text::timestamptz, ${q.cursor.id}::uuid)` : tx``}
      order by created_at desc, id desc
      limit ${q.limit + 1}`);
    const { rows: kept, next_cursor } = page(rows, q.limit);
    return c.json({ data: kept.map((r) => present<NotificationRow>(r)), next_cursor }, 200);
  })
  .openapi(listNotificationOptOuts, async (c) => {
    requireMember(c);
    const q = c.req.valid('query');
    return c.json(await withSession(c.var.deps.sql, c.var.caller, (tx) => listRows<OptOutRow>(tx, OPT_OUTS, q)), 200);
  })
  .openapi(createNotificationOptOut, async (c) => {
    const { tenantId } = requireMember(c);
    const body = c.req.valid('json');
    return c.json(await withSession(c.var.deps.sql, c.var.caller, (tx) => insertRow<OptOutRow>(tx, OPT_OUTS, { tenant_id: tenantId, ...body })), 201);
  })
  .openapi(deleteNotificationOptOut, async (c) => {
    const { id } = c.req.valid('param');
    await withSession(c.var.deps.sql, c.var.caller, (tx) => deleteRow(tx, OPT_OUTS, id, 'Opt-out'));
    return c.body(null, 204);
  });
