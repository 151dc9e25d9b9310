import { withSession } from '#src/db/session.ts';
import { requireMember } from '../../auth.ts';
import { createRouter } from '../../create-router.ts';
import { page } from '../../pagination.ts';
import { ProblemError } from '../../problem.ts';
import { isoRow } from '../../rows.ts';
import { cancelSession, createSession, generateSessions, listSessions, updateSession } from './sessions.routes.ts';

const SESSION_COLUMNS = [
  'id', 'service_id', 'provider_id', 'location_id', 'starts_at', 'ends_at', 'capacity', 'seats_taken', 'status', 'is_forced', 'created_at', 'updated_at',
];

interface SessionRow {
  id: string;
  service_id: string;
  provider_id: string;
  location_id: string;
  starts_at: Date;
  ends_at: Date;
  capacity: number;
  seats_taken: number;
  status: 'scheduled' | 'cancelled';
  is_forced: boolean;
  created_at: Date;
  updated_at: Date;
}

const sessionNotFound = () => new ProblemError(404, 'not_found', 'Session not found');

const router = createRouter();
// 401 before anything else, bad input included.
router.use('/v1/sessions/*', async (c, next) => {
  requireMember(c);
  await next();
});

export const sessionsRouter = router
  .openapi(listSessions, async (c) => {
    const caller = requireMember(c);
    const q = c.req.valid('query');
    // The cursor's instant goes in as text: postgres.js would pass a timestamptz parameter through a JS Date (milliseconds).
    const rows = await withSession(c.var.deps.sql, caller, (tx) => tx<(SessionRow & { cursor_at: string })[]>`
      select ${tx(SESSION_COLUMNS)}, to_json(starts_at) #>> '{}' as cursor_at
      from slotbase.sessions
      where tenant_id = ${caller.tenantId}
        ${q.service ? tx`and service_id = ${q.service}` : tx``}
        ${q.from ? tx`and starts_at >= ${q.from}` : tx``}
        ${q.to ? tx`and starts_at < ${q.to}` : tx``}
        ${q.cursor ? tx`and (starts_at, id) > (${q.cursor.at}::text::timestamptz, ${q.cursor.id}::uuid)` : tx``}
      order by starts_at, id
      limit ${q.limit + 1}`);
    const { rows: data, next_cursor } = page(rows, q.limit);
    return c.json({ data: data.map(isoRow), next_cursor }, 200);
  })
  .openapi(createSession, async (c) => {
    const caller = requireMember(c);
    const b = c.req.valid('json');
    // RLS (insert_admin) refuses other roles with 42501 → 403; a busy provider is 23P01 → 409; outside the
    // provider's working time SBOUT → 422 unless forced.
    const [row] = await withSession(c.var.deps.sql, caller, (tx) => tx<SessionRow[]>`
      insert into slotbase.sessions (tenant_id, service_id, provider_id, location_id, starts_at, ends_at, capacity, is_forced)
      values (${caller.tenantId}, ${b.service_id}, ${b.provider_id}, ${b.location_id}, ${b.starts_at}, ${b.ends_at ?? null}, ${b.capacity}, ${b.force ?? false})
      returning ${tx(SESSION_COLUMNS)}`);
    return c.json(isoRow(row!), 201);
  })
  .openapi(generateSessions, async (c) => {
    const caller = requireMember(c);
    const b = c.req.valid('json');
    const rows = await withSession(c.var.deps.sql, caller, (tx) => tx<SessionRow[]>`
      select ${tx(SESSION_COLUMNS)} from slotbase.generate_sessions(${caller.tenantId}, ${b.service_id}, ${b.from}, ${b.to})
      order by starts_at, id`);
    return c.json({ data: rows.map(isoRow) }, 201);
  })
  .openapi(updateSession, async (c) => {
    const caller = requireMember(c);
    const { id } = c.req.valid('param');
    const { capacity } = c.req.valid('json');
    const row = await withSession(c.var.deps.sql, caller, async (tx) => {
      const [updated] = await tx<SessionRow[]>`
        update slotbase.sessions set capacity = ${capacity}
        where tenant_id = ${caller.tenantId} and id = ${id}
        returning ${tx(SESSION_COLUMNS)}`;
      if (updated) return updated;
      // The update policy skips rows silently: visible but untouched means the caller may not change it.
      const [visible] = await tx`select 1 from slotbase.sessions where tenant_id = ${caller.tenantId} and id = ${id}`;
      throw visible ? new ProblemError(403, 'forbidden', 'Only owners and admins change sessions') : sessionNotFound();
    });
    return c.json(isoRow(row), 200);
  })
  .openapi(cancelSession, async (c) => {
    const caller = requireMember(c);
    const { id } = c.req.valid('param');
    const [row] = await withSession(c.var.deps.sql, caller, (tx) => tx<SessionRow[]>`
      select ${tx(SESSION_COLUMNS)} from slotbase.cancel_session(${id})`);
    return c.json(isoRow(row!), 200);
  });
