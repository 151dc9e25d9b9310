import { withSession, type Caller } from '#src/db/session.ts';
import { requireUser } from '../../auth.ts';
import { createRouter } from '../../create-router.ts';
import { page } from '../../pagination.ts';
import { ProblemError } from '../../problem.ts';
import { isoRow } from '../../rows.ts';
import type { BookingRow } from '../bookings/index.ts';
import { getMe, listMyBookings, updateMe } from './me.routes.ts';

interface ProfileRow {
  id: string;
  email: string;
  display_name: string | null;
  phone: string | null;
  created_at: Date;
  updated_at: Date;
}

type MyBookingRow = Omit<BookingRow, 'source' | 'customer_user_id' | 'created_by' | 'updated_at'> & { tenant_id: string };

const MY_BOOKING_COLUMNS = [
  'id', 'tenant_id', 'code', 'status', 'service_id', 'provider_id', 'location_id', 'session_id', 'contact_name', 'contact_email',
  'contact_phone', 'party_size', 'starts_at', 'ends_at', 'notes', 'hold_expires_at', 'status_reason', 'created_at',
];

/**
 * The caller as themselves only: without the tenant their token may act in, RLS grants no member
 * rights, so what is read here is the caller's own row and their own bookings as a customer.
 */
function asSelf(c: { var: { caller: Caller } }): Caller {
  const caller = requireUser(c);
  return { role: 'authenticated', userId: caller.userId, claims: caller.claims };
}

const profileNotFound = () => new ProblemError(401, 'unauthenticated', 'This account no longer exists');

export const meRouter = createRouter()
  .openapi(getMe, async (c) => {
    const self = asSelf(c);
    const [row] = await withSession(c.var.deps.sql, self, (tx) => tx<ProfileRow[]>`
      select id, email, display_name, phone, created_at, updated_at from slotbase.users where id = slotbase.current_user_id()`);
    if (!row) throw profileNotFound();
    return c.json(isoRow(row), 200);
  })
  .openapi(updateMe, async (c) => {
    const self = asSelf(c);
    const body = c.req.valid('json');
    const patch = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)) as Record<string, string | null>;
    const [row] = await withSession(c.var.deps.sql, self, (tx) => tx<ProfileRow[]>`
      update slotbase.users set ${tx(patch, Object.keys(patch))} where id = slotbase.current_user_id()
      returning id, email, display_name, phone, created_at, updated_at`);
    if (!row) throw profileNotFound();
    return c.json(isoRow(row), 200);
  })
  .openapi(listMyBookings, async (c) => {
    const self = asSelf(c);
    const q = c.req.valid('query');
    // Newest first; the cursor's instant goes in as text (a JS Date would drop the microseconds).
    const rows = await withSession(c.var.deps.sql, self, (tx) => tx<(MyBookingRow & { cursor_at: string })[]>`
      select ${tx(MY_BOOKING_COLUMNS)}, to_json(starts_at) #>> '{}' as cursor_at
      from slotbase.bookings
      where customer_user_id = slotbase.current_user_id() and deleted_at is null
        ${q.upcoming === 'true' ? tx`and starts_at >= now()` : q.upcoming === 'false' ? tx`and starts_at < now()` : tx``}
        ${q.cursor ? tx`and (starts_at, id) < (${q.cursor.at}::text::timestamptz, ${q.cursor.id}::uuid)` : tx``}
      order by starts_at desc, id desc
      limit ${q.limit + 1}`);
    const { rows: data, next_cursor } = page(rows, q.limit);
    return c.json({ data: data.map(isoRow), next_cursor }, 200);
  });
