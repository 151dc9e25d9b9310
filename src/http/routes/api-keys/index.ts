import type { z } from '@hono/zod-openapi';
import { withSession } from '#src/db/session.ts';
import { generateApiKey } from '#src/lib/api-keys.ts';
import { createRouter } from '../../create-router.ts';
import { getRow, listRows, type TableSpec } from '../../crud.ts';
import { createApiKey, getApiKey, listApiKeys, revokeApiKey, type ApiKey } from './api-keys.routes.ts';

type ApiKeyRow = z.infer<typeof ApiKey>;

/** Keys as owners and admins see them under RLS; the hash lives elsewhere and is never selectable. */
const API_KEYS: TableSpec = {
  table: 'slotbase.api_keys',
  columns: `id, name, key_prefix, scopes, role,
    (select m.role from slotbase.memberships as m
     where m.tenant_id = api_keys.tenant_id and m.user_id = api_keys.service_user_id and m.deleted_at is null) as effective_role,
    service_user_id, created_by, created_at, last_used_at, expires_at, revoked_at`,
  softDelete: false,
};

export const apiKeysRouter = createRouter()
  .openapi(createApiKey, async (c) => {
    const body = c.req.valid('json');
    const { key, prefix, hash } = generateApiKey();
    const row = await withSession(c.var.deps.sql, c.var.caller, async (tx) => {
      // create_api_key checks the caller's rights itself (42501 → 403); the row is then read as the caller.
      const [created] = await tx<{ id: string }[]>`
        select id from slotbase.create_api_key(${body.name}, ${tx.array(body.scopes)}::text[], ${body.role},
          ${body.expires_at ?? null}, ${hash}, ${prefix})`;
      return getRow<ApiKeyRow>(tx, API_KEYS, created!.id, 'API key');
    });
    return c.json({ ...row, key }, 201);
  })
  .openapi(listApiKeys, async (c) => {
    const q = c.req.valid('query');
    const page = await withSession(c.var.deps.sql, c.var.caller, (tx) =>
      listRows<ApiKeyRow>(tx, API_KEYS, q, q.include_revoked === 'true' ? [] : [tx`revoked_at is null`]),
    );
    return c.json(page, 200);
  })
  .openapi(getApiKey, async (c) => {
    const { id } = c.req.valid('param');
    return c.json(await withSession(c.var.deps.sql, c.var.caller, (tx) => getRow<ApiKeyRow>(tx, API_KEYS, id, 'API key')), 200);
  })
  .openapi(revokeApiKey, async (c) => {
    const { id } = c.req.valid('param');
    await withSession(c.var.deps.sql, c.var.caller, (tx) => tx`select 1 from slotbase.revoke_api_key(${id})`);
    return c.body(null, 204);
  });
