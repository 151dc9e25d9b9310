import type postgres from 'postgres';
import type { z } from '@hono/zod-openapi';
import { withSession } from '#src/db/session.ts';
import { requireMember } from '../../auth.ts';
import { createRouter } from '../../create-router.ts';
import { notFound, present } from '../../crud.ts';
import { ProblemError } from '../../problem.ts';
import { createQuestion, deleteQuestion, listQuestions, updateQuestion, type Question } from './questions.routes.ts';

/**
 * Booking questions of a service (slotbase.service_questions, under RLS: members read, tenant-wide
 * owners and admins write). The definition is checked by the table's constraints and its prepare
 * trigger; answers are checked when a booking is inserted (20261124120000_booking_questions.sql).
 */

type QuestionRow = z.infer<typeof Question>;

const COLUMNS = 'id, service_id, position, kind, label, help_text, is_required, max_length, options, created_at, updated_at';

/** 404 unless the caller sees a live service with this id. */
async function mustSeeService(tx: postgres.TransactionSql, id: string): Promise<void> {
  const [row] = await tx`select 1 from slotbase.services where id = ${id} and deleted_at is null`;
  if (!row) throw notFound('Service');
}

/** A write touched nothing: 403 when the caller sees the question, 404 when not. */
async function refuse(tx: postgres.TransactionSql, serviceId: string, id: string): Promise<never> {
  await mustSeeService(tx, serviceId);
  const [visible] = await tx`select 1 from slotbase.service_questions where service_id = ${serviceId} and id = ${id}`;
  if (visible) throw new ProblemError(403, 'forbidden', 'Not allowed');
  throw notFound('Question');
}

export const questionsRouter = createRouter()
  .openapi(listQuestions, async (c) => {
    const { id } = c.req.valid('param');
    const rows = await withSession(c.var.deps.sql, c.var.caller, async (tx) => {
      await mustSeeService(tx, id);
      return tx<QuestionRow[]>`
        select ${tx.unsafe(COLUMNS)} from slotbase.service_questions where service_id = ${id} order by position, created_at, id`;
    });
    return c.json({ data: rows.map((r) => present<QuestionRow>(r)) }, 200);
  })
  .openapi(createQuestion, async (c) => {
    const { tenantId } = requireMember(c);
    const { id } = c.req.valid('param');
    const b = c.req.valid('json');
    const row = await withSession(c.var.deps.sql, c.var.caller, async (tx) => {
      await mustSeeService(tx, id);
      const [inserted] = await tx<QuestionRow[]>`
        insert into slotbase.service_questions (tenant_id, service_id, position, kind, label, help_text, is_required, max_length, options)
        values (
          ${tenantId}, ${id},
          coalesce(${b.position ?? null}::integer,
                   (select coalesce(max(q.position) + 1, 0) from slotbase.service_questions as q where q.service_id = ${id})),
          ${b.kind}, ${b.label}, ${b.help_text ?? null}, ${b.is_required},
          ${b.max_length ?? (b.kind === 'text' ? 500 : null)}, ${b.options ?? null}::text[])
        returning ${tx.unsafe(COLUMNS)}`;
      return inserted!;
    });
    return c.json(present<QuestionRow>(row), 201);
  })
  .openapi(updateQuestion, async (c) => {
    const { id, question_id } = c.req.valid('param');
    const b = c.req.valid('json');
    const row = await withSession(c.var.deps.sql, c.var.caller, async (tx) => {
      const set = Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined));
      const [updated] = await tx<QuestionRow[]>`
        update slotbase.service_questions set ${tx(set)}
        where service_id = ${id} and id = ${question_id}
        returning ${tx.unsafe(COLUMNS)}`;
      return updated ?? refuse(tx, id, question_id);
    });
    return c.json(present<QuestionRow>(row), 200);
  })
  .openapi(deleteQuestion, async (c) => {
    const { id, question_id } = c.req.valid('param');
    await withSession(c.var.deps.sql, c.var.caller, async (tx) => {
      const [gone] = await tx`delete from slotbase.service_questions where service_id = ${id} and id = ${question_id} returning 1`;
      if (!gone) await refuse(tx, id, question_id);
    });
    return c.body(null, 204);
  });
