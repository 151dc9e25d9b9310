import type postgres from 'postgres';
import { withSession } from '#src/db/session.ts';
import { requireMember } from '../../auth.ts';
import { createRouter } from '../../create-router.ts';
import { ProblemError } from '../../problem.ts';
import {
  acceptWaitlistOffer,
  addToWaitlist,
  declineWaitlistOffer,
  getPublicWaitlistEntry,
  getWaitlistEntry,
  getWaitlistOffer,
  joinWaitlist,
  leavePublicWaitlist,
  listWaitlist,
  moveWaitlistEntry,
  removeWaitlistEntry,
} from './waitlist.routes.ts';

type Json = Record<string, unknown>;

const notFound = (what: string) => new ProblemError(404, 'not_found', `${what} not found`);

function tokenOf(query: { token?: string | undefined }, header: string | undefined, what: string): string {
  const token = query.token ?? header;
  if (!token) throw notFound(what);
  return token;
}

/** An entry of the caller's tenant that RLS lets them see, or 404 (the staff API never reaches other tenants' entries). */
async function visibleEntry(tx: postgres.TransactionSql, tenantId: string, id: string): Promise<void> {
  const [row] = await tx`select 1 from slotbase.waitlist_entries where tenant_id = ${tenantId} and id = ${id}`;
  if (!row) throw notFound('Waitlist entry');
}

const joined = (e: Json) => ({
  ...e,
  manage_url: typeof e.manage_token === 'string' ? `/v1/public/waitlist/${String(e.id)}?token=${encodeURIComponent(e.manage_token)}` : null,
});

const router = createRouter();
for (const path of ['/v1/waitlist', '/v1/waitlist/*']) {
  router.use(path, async (c, next) => {
    requireMember(c);
    await next();
  });
}

export const waitlistRouter = router
  .openapi(listWaitlist, async (c) => {
    const caller = requireMember(c);
    const q = c.req.valid('query');
    const rows = await withSession(c.var.deps.sql, caller, (tx) => tx<{ r: Json }[]>`
      select slotbase.find_waitlist_entry(e.id, null) as r
      from slotbase.waitlist_entries as e
      where e.tenant_id = ${caller.tenantId}
        ${q.service ? tx`and e.service_id = ${q.service}` : tx``}
        ${q.status ? tx`and e.status = ${q.status}` : tx``}
      order by e.service_id, (e.status in ('waiting', 'offered')) desc, e.sort_key, e.id
      limit ${q.limit}`);
    return c.json({ data: rows.map((r) => r.r) } as never, 200);
  })
  .openapi(addToWaitlist, async (c) => {
    const caller = requireMember(c);
    const body = c.req.valid('json');
    const [row] = await withSession(c.var.deps.sql, caller, (tx) => tx<{ r: Json }[]>`
      select slotbase.join_waitlist(
        p_tenant_id => ${caller.tenantId}, p_service_id => ${body.service_id}, p_window_from => ${body.window_from},
        p_window_to => ${body.window_to}, p_provider_id => ${body.provider_id ?? null}, p_location_id => ${body.location_id ?? null},
        p_party_size => ${body.party_size}, p_contact_name => ${body.contact.name}, p_contact_email => ${body.contact.email ?? null},
        p_contact_phone => ${body.contact.phone ?? null}, p_notes => ${body.notes ?? null}, p_on_behalf => true,
        p_answers => ${body.answers ? JSON.stringify(body.answers) : null}::text::jsonb) as r`);
    return c.json({ ...row!.r, manage_token: null } as never, 201);
  })
  .openapi(getWaitlistEntry, async (c) => {
    const caller = requireMember(c);
    const { id } = c.req.valid('param');
    const [row] = await withSession(c.var.deps.sql, caller, async (tx) => {
      await visibleEntry(tx, caller.tenantId, id);
      return tx<{ r: Json }[]>`select slotbase.find_waitlist_entry(${id}, null) as r`;
    });
    return c.json(row!.r as never, 200);
  })
  .openapi(removeWaitlistEntry, async (c) => {
    const caller = requireMember(c);
    const { id } = c.req.valid('param');
    const [row] = await withSession(c.var.deps.sql, caller, async (tx) => {
      await visibleEntry(tx, caller.tenantId, id);
      return tx<{ r: Json }[]>`select slotbase.leave_waitlist(${id}) as r`;
    });
    return c.json(row!.r as never, 200);
  })
  .openapi(moveWaitlistEntry, async (c) => {
    const caller = requireMember(c);
    const { id } = c.req.valid('param');
    const { position } = c.req.valid('json');
    const [row] = await withSession(c.var.deps.sql, caller, async (tx) => {
      await visibleEntry(tx, caller.tenantId, id);
      return tx<{ r: Json }[]>`select slotbase.move_waitlist_entry(${id}, ${position}) as r`;
    });
    return c.json(row!.r as never, 200);
  })
  .openapi(joinWaitlist, async (c) => {
    const { tenant } = c.req.valid('param');
    const body = c.req.valid('json');
    const key = c.req.valid('header')['idempotency-key'] ?? null;
    if (!body.contact && c.var.caller.role !== 'authenticated') {
      throw new ProblemError(422, 'validation_failed', 'The request is not valid', undefined, [
        { field: 'contact', message: 'Required unless you are signed in', code: 'invalid_type' },
      ]);
    }
    const [row] = await withSession(c.var.deps.sql, c.var.caller, async (tx) => {
      const [t] = await tx<{ id: string }[]>`select id from slotbase.public_tenant(${tenant})`;
      if (!t) throw notFound('Business');
      let contact = body.contact;
      if (!contact) {
        const [me] = await tx<{ display_name: string | null; email: string; phone: string | null }[]>`
          select display_name, email, phone from slotbase.users where id = slotbase.current_user_id()`;
        if (!me?.display_name) {
          throw new ProblemError(422, 'validation_failed', 'The request is not valid', undefined, [
            { field: 'contact.name', message: 'Your profile has no name: send contact, or set display_name at PATCH /v1/me', code: 'invalid_type' },
          ]);
        }
        contact = { name: me.display_name, email: me.email, ...(me.phone ? { phone: me.phone } : {}) };
      }
      return tx<{ r: Json }[]>`
        select slotbase.join_waitlist(
          p_tenant_id => ${t.id}, p_service_id => ${body.service_id}, p_window_from => ${body.window_from},
          p_window_to => ${body.window_to}, p_provider_id => ${body.provider_id ?? null}, p_location_id => ${body.location_id ?? null},
          p_party_size => ${body.party_size}, p_contact_name => ${contact.name}, p_contact_email => ${contact.email ?? null},
          p_contact_phone => ${contact.phone ?? null}, p_notes => ${body.notes ?? null}, p_idempotency_key => ${key},
          p_answers => ${body.answers ? JSON.stringify(body.answers) : null}::text::jsonb) as r`;
    });
    return c.json(joined(row!.r) as never, 201);
  })
  .openapi(getPublicWaitlistEntry, async (c) => {
    const { id } = c.req.valid('param');
    const token = tokenOf(c.req.valid('query'), c.req.header('x-manage-token'), 'Waitlist entry');
    const [row] = await withSession(c.var.deps.sql, c.var.caller, (tx) => tx<{ r: Json }[]>`select slotbase.find_waitlist_entry(${id}, ${token}) as r`);
    return c.json(row!.r as never, 200);
  })
  .openapi(leavePublicWaitlist, async (c) => {
    const { id } = c.req.valid('param');
    const token = tokenOf(c.req.valid('query'), c.req.header('x-manage-token'), 'Waitlist entry');
    const [row] = await withSession(c.var.deps.sql, c.var.caller, (tx) => tx<{ r: Json }[]>`select slotbase.leave_waitlist(${id}, ${token}) as r`);
    return c.json(row!.r as never, 200);
  })
  .openapi(getWaitlistOffer, async (c) => {
    const { id } = c.req.valid('param');
    const token = tokenOf(c.req.valid('query'), c.req.header('x-manage-token'), 'Offer');
    const [row] = await withSession(c.var.deps.sql, c.var.caller, (tx) => tx<{ r: Json }[]>`select slotbase.find_waitlist_offer(${id}, ${token}) as r`);
    return c.json(row!.r as never, 200);
  })
  .openapi(acceptWaitlistOffer, async (c) => {
    const { id } = c.req.valid('param');
    const token = tokenOf(c.req.valid('query'), c.req.header('x-manage-token'), 'Offer');
    const [row] = await withSession(c.var.deps.sql, c.var.caller, (tx) => tx<{ r: Json }[]>`select slotbase.accept_waitlist_offer(${id}, ${token}) as r`);
    return c.json(row!.r as never, 200);
  })
  .openapi(declineWaitlistOffer, async (c) => {
    const { id } = c.req.valid('param');
    const token = tokenOf(c.req.valid('query'), c.req.header('x-manage-token'), 'Offer');
    const [row] = await withSession(c.var.deps.sql, c.var.caller, (tx) => tx<{ r: Json }[]>`select slotbase.decline_waitlist_offer(${id}, ${token}) as r`);
    return c.json(row!.r as never, 200);
  });
