import { Buffer } from 'node:buffer';
import type postgres from 'postgres';
import { z } from '@hono/zod-openapi';
import { ANON, begin, withSession } from '#src/db/session.ts';
import { requireMember } from '../../auth.ts';
import { createRouter } from '../../create-router.ts';
import { loginGuardOf } from '../../login-protection.ts';
import { page } from '../../pagination.ts';
import { ProblemError } from '../../problem.ts';
import { isoRow } from '../../rows.ts';
import { issueSession, verifyCredentials } from '../auth/sessions.ts';
import { BOOKING_COLUMNS, type BookingRow } from '../bookings/index.ts';
import { customerLogin, customerSignup, listCustomerBookings, listCustomers } from './customers.routes.ts';

const notFound = (what: string) => new ProblemError(404, 'not_found', `${what} not found`);

/** 404 unless a business has this public slug (as anon: exactly what its booking page shows). */
async function requireBusiness(sql: postgres.Sql, slug: string): Promise<void> {
  const [tenant] = await withSession(sql, ANON, (tx) => tx`select id from slotbase.public_tenant(${slug})`);
  if (!tenant) throw notFound('Business');
}

/** The customers cursor: base64url of the last row's sort key, [lower(name), key]. */
const CustomerCursor = z.tuple([z.string(), z.string()]);
const encodeCursor = (sortName: string, key: string) => Buffer.from(JSON.stringify([sortName, key])).toString('base64url');
function decodeCursor(cursor: string): [string, string] {
  try {
    const parsed = CustomerCursor.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (parsed.success) return parsed.data;
  } catch {
    // falls through to the 422 below
  }
  throw new ProblemError(422, 'validation_failed', 'The cursor is not valid', undefined, [
    { field: 'cursor', message: 'Use next_cursor of the previous page', code: 'invalid_cursor' },
  ]);
}

interface CustomerRow {
  key: string;
  sort_name: string;
  name: string;
  email: string | null;
  phone: string | null;
  customer_user_id: string | null;
  bookings_count: number;
  last_booking_at: Date | null;
  next_booking_at: Date | null;
}

export const customersRouter = createRouter()
  .openapi(customerSignup, async (c) => {
    const { tenant } = c.req.valid('param');
    const body = c.req.valid('json');
    const { deps } = c.var;
    await requireBusiness(deps.sql, tenant);
    const passwordHash = await deps.passwords.hash(body.password);
    const session = await begin(deps.sql, async (tx) => {
      const [user] = await tx<{ id: string }[]>`select slotbase_private.register_user(${body.email}, ${passwordHash}, ${body.name}) as id`;
      const userId = user!.id;
      if (body.phone !== undefined) {
        // The phone is written as the new user, through the same grant and policy as PATCH /v1/me.
        await tx`select set_config('role', 'authenticated', true),
                        set_config('request.jwt.claims', ${JSON.stringify({ role: 'authenticated', sub: userId, kind: 'customer' })}, true)`;
        await tx`update slotbase.users set phone = ${body.phone} where id = ${userId}`;
        await tx`reset role`;
      }
      return issueSession(deps, tx, 'customer', { id: userId, email: body.email }, null, []);
    });
    return c.json(session, 201);
  })
  .openapi(customerLogin, async (c) => {
    const { tenant } = c.req.valid('param');
    const body = c.req.valid('json');
    const { deps } = c.var;
    await requireBusiness(deps.sql, tenant);
    const user = await verifyCredentials(deps, body.email, body.password, loginGuardOf(c));
    return c.json(await issueSession(deps, deps.sql, 'customer', user, null, []), 200);
  })
  .openapi(listCustomers, async (c) => {
    const caller = requireMember(c);
    const q = c.req.valid('query');
    const after = q.cursor ? decodeCursor(q.cursor) : undefined;
    const rows = await withSession(c.var.deps.sql, caller, (tx) => tx<CustomerRow[]>`
      select customer_key as key, lower(name) as sort_name, name, email, phone, customer_user_id,
             bookings_count::int as bookings_count, last_booking_at, next_booking_at
      from slotbase.customer_summaries
      where tenant_id = ${caller.tenantId}
        ${q.q ? tx`and (starts_with(lower(name), lower(${q.q})) or starts_with(lower(email), lower(${q.q})))` : tx``}
        ${after ? tx`and (lower(name), customer_key) > (${after[0]}::text, ${after[1]}::text)` : tx``}
      order by lower(name), customer_key
      limit ${q.limit + 1}`);
    const kept = rows.slice(0, q.limit);
    const last = kept.at(-1);
    return c.json(
      {
        data: kept.map(({ sort_name: _sortName, ...row }) => isoRow(row)),
        next_cursor: rows.length > q.limit && last ? encodeCursor(last.sort_name, last.key) : null,
      },
      200,
    );
  })
  .openapi(listCustomerBookings, async (c) => {
    const caller = requireMember(c);
    const { user_id: userId } = c.req.valid('param');
    const q = c.req.valid('query');
    const rows = await withSession(c.var.deps.sql, caller, async (tx) => {
      const [seen] = await tx`
        select 1 from slotbase.bookings
        where tenant_id = ${caller.tenantId} and customer_user_id = ${userId} and deleted_at is null limit 1`;
      if (!seen) throw notFound('Customer');
      return tx<(BookingRow & { cursor_at: string })[]>`
        select ${tx(BOOKING_COLUMNS)}, to_json(starts_at) #>> '{}' as cursor_at
        from slotbase.bookings
        where tenant_id = ${caller.tenantId} and customer_user_id = ${userId} and deleted_at is null
          ${q.cursor ? tx`and (starts_at, id) < (${q.cursor.at}::text::timestamptz, ${q.cursor.id}::uuid)` : tx``}
        order by starts_at desc, id desc
        limit ${q.limit + 1}`;
    });
    const { rows: data, next_cursor } = page(rows, q.limit);
    return c.json({ data: data.map(isoRow), next_cursor }, 200);
  });
