import type { z } from '@hono/zod-openapi';
import { withSession } from '#src/db/session.ts';
import { requireMember } from '../../auth.ts';
import { createRouter } from '../../create-router.ts';
import { deleteRow, getRow, insertRow, listRows, present, updateRow, type TableSpec } from '../../crud.ts';
import { page } from '../../pagination.ts';
import { type Ban, type BanHit, createBan, deleteBan, getBan, listBanHits, listBans, updateBan } from './bans.routes.ts';

type BanRow = z.infer<typeof Ban>;
type BanHitRow = z.infer<typeof BanHit>;

export const BANS: TableSpec = {
  table: 'slotbase.bans',
  columns: 'id, kind, value, reason, expires_at, created_by, created_at, updated_at, deleted_at',
  softDelete: true,
};

export const bansRouter = createRouter()
  .openapi(listBans, async (c) => {
    const q = c.req.valid('query');
    const result = await withSession(c.var.deps.sql, c.var.caller, (tx) =>
      listRows<BanRow>(tx, BANS, { ...q, include_deleted: q.include_deleted === 'true' }),
    );
    return c.json(result, 200);
  })
  // Before /v1/bans/{id}, so "hits" is not taken for an id.
  .openapi(listBanHits, async (c) => {
    const caller = requireMember(c);
    const q = c.req.valid('query');
    const rows = await withSession(c.var.deps.sql, caller, (tx) => tx<(Record<string, unknown> & { id: string; cursor_at: string })[]>`
      select id, ban_id, at, service_id, starts_at, contact_email, contact_phone, device_hash, to_json(at) #>> '{}' as cursor_at
      from slotbase.ban_hits
      where tenant_id = ${caller.tenantId}
        ${q.ban ? tx`and ban_id = ${q.ban}` : tx``}
        ${q.cursor ? tx`and (at, id) < (${q.cursor.at}::text::timestamptz, ${q.cursor.id}::uuid)` : tx``}
      order by at desc, id desc
      limit ${q.limit + 1}`);
    const { rows: kept, next_cursor } = page(rows, q.limit);
    return c.json({ data: kept.map((r) => present<BanHitRow>(r)), next_cursor }, 200);
  })
  .openapi(getBan, async (c) => {
    const { id } = c.req.valid('param');
    return c.json(await withSession(c.var.deps.sql, c.var.caller, (tx) => getRow<BanRow>(tx, BANS, id, 'Ban')), 200);
  })
  .openapi(createBan, async (c) => {
    const { tenantId } = requireMember(c);
    const body = c.req.valid('json');
    return c.json(await withSession(c.var.deps.sql, c.var.caller, (tx) => insertRow<BanRow>(tx, BANS, { tenant_id: tenantId, ...body })), 201);
  })
  .openapi(updateBan, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    return c.json(await withSession(c.var.deps.sql, c.var.caller, (tx) => updateRow<BanRow>(tx, BANS, id, body, 'Ban')), 200);
  })
  .openapi(deleteBan, async (c) => {
    const { id } = c.req.valid('param');
    await withSession(c.var.deps.sql, c.var.caller, (tx) => deleteRow(tx, BANS, id, 'Ban'));
    return c.body(null, 204);
  });
