import type postgres from 'postgres';
import { withSession } from '#src/db/session.ts';
import { requireMember } from '../../auth.ts';
import { createRouter } from '../../create-router.ts';
import { page } from '../../pagination.ts';
import { ProblemError } from '../../problem.ts';
import { isoRow } from '../../rows.ts';
import {
  BOOKING_STATUSES,
  cancelBooking,
  completeBooking,
  confirmBooking,
  createBooking,
  getBooking,
  listBookingEvents,
  listBookings,
  markNoShow,
  rejectBooking,
  rescheduleBooking,
} from './bookings.routes.ts';

/** What staff read of a booking: explicit columns, never manage_token_hash or request_hash. */
export const BOOKING_COLUMNS = [
  'id', 'code', 'status', 'source', 'service_id', 'provider_id', 'location_id', 'session_id', 'customer_user_id',
  'contact_name', 'contact_email', 'contact_phone', 'party_size', 'starts_at', 'ends_at', 'notes', 'answers', 'hold_expires_at',
  'status_reason', 'created_by', 'created_at', 'updated_at',
];

export interface BookingRow {
  id: string;
  code: string;
  status: (typeof BOOKING_STATUSES)[number];
  source: 'public' | 'staff';
  service_id: string;
  provider_id: string;
  location_id: string;
  session_id: string | null;
  customer_user_id: string | null;
  contact_name: string;
  contact_email: string | null;
  contact_phone: string | null;
  party_size: number;
  starts_at: Date;
  ends_at: Date;
  notes: string | null;
  /** Answers to the service's questions as stored by the _070_answers trigger. */
  answers: { question_id: string; label: string; kind: 'text' | 'single_choice' | 'multiple_choice' | 'checkbox'; value: string | string[] | boolean }[];
  hold_expires_at: Date | null;
  status_reason: string | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

interface BookingEventRow {
  id: string;
  booking_id: string;
  at: Date;
  actor_user_id: string | null;
  actor_role: string | null;
  from_status: BookingRow['status'] | null;
  to_status: BookingRow['status'];
  changes: Record<string, unknown>;
}

const bookingNotFound = () => new ProblemError(404, 'not_found', 'Booking not found');

/** A booking of the caller's tenant that RLS lets them see, or 404. */
async function visibleBooking(tx: postgres.TransactionSql, tenantId: string, id: string): Promise<BookingRow> {
  const [row] = await tx<BookingRow[]>`
    select ${tx(BOOKING_COLUMNS)} from slotbase.bookings where tenant_id = ${tenantId} and id = ${id} and deleted_at is null`;
  if (!row) throw bookingNotFound();
  return row;
}

/**
 * Runs a booking function (`call`, on `t.target_id`) on a booking of the caller's tenant, in one
 * statement. The function authorizes; the tenant guard keeps what else it would allow (the
 * caller's own bookings as a customer of another business) out of this tenant's API, as GET
 * does. The function's composite carries the hashes, so columns are picked.
 */
async function act(tx: postgres.TransactionSql, tenantId: string, id: string, call: postgres.PendingQuery<postgres.Row[]>) {
  const [row] = await tx<BookingRow[]>`
    with t as (select id as target_id from slotbase.bookings where tenant_id = ${tenantId} and id = ${id} and deleted_at is null)
    select ${tx(BOOKING_COLUMNS)} from t cross join lateral ${call} as b`;
  if (!row) throw bookingNotFound();
  return isoRow(row);
}

const router = createRouter();
// 401 before anything else, bad input included.
router.use('/v1/bookings/*', async (c, next) => {
  requireMember(c);
  await next();
});

export const bookingsRouter = router
  .openapi(listBookings, async (c) => {
    const caller = requireMember(c);
    const q = c.req.valid('query');
    // The cursor's instant goes in as text: postgres.js would pass a timestamptz parameter through a JS Date (milliseconds).
    const rows = await withSession(c.var.deps.sql, caller, (tx) => tx<(BookingRow & { cursor_at: string })[]>`
      select ${tx(BOOKING_COLUMNS)}, to_json(starts_at) #>> '{}' as cursor_at
      from slotbase.bookings
      where tenant_id = ${caller.tenantId} and deleted_at is null
        ${q.from ? tx`and starts_at >= ${q.from}` : tx``}
        ${q.to ? tx`and starts_at < ${q.to}` : tx``}
        ${q.provider ? tx`and provider_id = ${q.provider}` : tx``}
        ${q.location ? tx`and location_id = ${q.location}` : tx``}
        ${q.service ? tx`and service_id = ${q.service}` : tx``}
        ${q.status ? tx`and status in ${tx(q.status)}` : tx``}
        ${q.customer ? tx`and lower(contact_email) = lower(${q.customer})` : tx``}
        ${q.q ? tx`and starts_with(code, upper(${q.q}))` : tx``}
        ${q.cursor ? tx`and (starts_at, id) > (${q.cursor.at}::text::timestamptz, ${q.cursor.id}::uuid)` : tx``}
      order by starts_at, id
      limit ${q.limit + 1}`);
    const { rows: data, next_cursor } = page(rows, q.limit);
    return c.json({ data: data.map(isoRow), next_cursor }, 200);
  })
  .openapi(getBooking, async (c) => {
    const caller = requireMember(c);
    const { id } = c.req.valid('param');
    const row = await withSession(c.var.deps.sql, caller, (tx) => visibleBooking(tx, caller.tenantId, id));
    return c.json(isoRow(row), 200);
  })
  .openapi(listBookingEvents, async (c) => {
    const caller = requireMember(c);
    const { id } = c.req.valid('param');
    const rows = await withSession(c.var.deps.sql, caller, async (tx) => {
      await visibleBooking(tx, caller.tenantId, id);
      return tx<BookingEventRow[]>`
        select id, booking_id, at, actor_user_id, actor_role, from_status, to_status, changes
        from slotbase.booking_events
        where tenant_id = ${caller.tenantId} and booking_id = ${id}
        order by at, id`;
    });
    return c.json({ data: rows.map(isoRow) }, 200);
  })
  .openapi(createBooking, async (c) => {
    const caller = requireMember(c);
    const body = c.req.valid('json');
    const key = c.req.valid('header')['idempotency-key'] ?? null;
    const { booking, manageToken } = await withSession(c.var.deps.sql, caller, async (tx) => {
      const [receipt] = await tx<{ id: string; manage_token: string }[]>`
        select id, manage_token from slotbase.create_booking(
          p_tenant_id => ${caller.tenantId}, p_service_id => ${body.service_id}, p_starts_at => ${body.starts_at ?? null},
          p_provider_id => ${body.provider_id ?? null}, p_location_id => ${body.location_id ?? null},
          p_session_id => ${body.session_id ?? null}, p_party_size => ${body.party_size},
          p_contact_name => ${body.contact.name}, p_contact_email => ${body.contact.email ?? null},
          p_contact_phone => ${body.contact.phone ?? null}, p_notes => ${body.notes ?? null},
          p_hold => ${body.hold}, p_idempotency_key => ${key}, p_on_behalf => true,
          p_answers => ${body.answers ? JSON.stringify(body.answers) : null}::text::jsonb)`;
      // p_answers: checked when the booking is inserted (SBANS → 422 invalid_answer); staff may leave required ones out.
      // p_on_behalf: create_booking itself refuses (42501 → 403) a caller who is not staff there.
      const [row] = await tx<BookingRow[]>`
        select ${tx(BOOKING_COLUMNS)} from slotbase.bookings where tenant_id = ${caller.tenantId} and id = ${receipt!.id}`;
      return { booking: row!, manageToken: receipt!.manage_token };
    });
    return c.json(
      {
        ...isoRow(booking),
        manage_token: manageToken,
        manage_url: `/v1/public/bookings/${booking.code}?token=${encodeURIComponent(manageToken)}`,
      },
      201,
    );
  })
  .openapi(confirmBooking, async (c) => {
    const caller = requireMember(c);
    const { id } = c.req.valid('param');
    const row = await withSession(c.var.deps.sql, caller, (tx) => act(tx, caller.tenantId, id, tx`slotbase.confirm_booking(t.target_id)`));
    return c.json(row, 200);
  })
  .openapi(rejectBooking, async (c) => {
    const caller = requireMember(c);
    const { id } = c.req.valid('param');
    const { reason } = c.req.valid('json');
    const row = await withSession(c.var.deps.sql, caller, (tx) => act(tx, caller.tenantId, id, tx`slotbase.reject_booking(t.target_id, ${reason ?? null})`));
    return c.json(row, 200);
  })
  .openapi(cancelBooking, async (c) => {
    const caller = requireMember(c);
    const { id } = c.req.valid('param');
    const { reason } = c.req.valid('json');
    const row = await withSession(c.var.deps.sql, caller, (tx) => act(tx, caller.tenantId, id, tx`slotbase.cancel_booking(t.target_id, ${reason ?? null})`));
    return c.json(row, 200);
  })
  .openapi(completeBooking, async (c) => {
    const caller = requireMember(c);
    const { id } = c.req.valid('param');
    const row = await withSession(c.var.deps.sql, caller, (tx) => act(tx, caller.tenantId, id, tx`slotbase.complete_booking(t.target_id)`));
    return c.json(row, 200);
  })
  .openapi(markNoShow, async (c) => {
    const caller = requireMember(c);
    const { id } = c.req.valid('param');
    const row = await withSession(c.var.deps.sql, caller, (tx) => act(tx, caller.tenantId, id, tx`slotbase.mark_no_show(t.target_id)`));
    return c.json(row, 200);
  })
  .openapi(rescheduleBooking, async (c) => {
    const caller = requireMember(c);
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const row = await withSession(c.var.deps.sql, caller, (tx) =>
      act(tx, caller.tenantId, id, tx`slotbase.reschedule_booking(
        p_booking_id => t.target_id, p_starts_at => ${body.starts_at ?? null}, p_provider_id => ${body.provider_id ?? null},
        p_location_id => ${body.location_id ?? null}, p_session_id => ${body.session_id ?? null})`),
    );
    return c.json(row, 200);
  });
