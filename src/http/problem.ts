import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from '@hono/zod-openapi';
import { isDatabaseUnavailable, problemFromDatabaseError } from '#src/db/errors.ts';
import { problemExample } from './examples.ts';

/** RFC 9457 problem details with Slotbase's stable `code` and optional field errors. */
export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: 'https://slotbase.dev/problems/slot_taken' }),
    title: z.string().openapi({ example: 'That time is no longer available' }),
    status: z.number().int().openapi({ example: 409 }),
    code: z.string().openapi({ example: 'slot_taken' }),
    detail: z.string().optional(),
    request_id: z.string().optional(),
    errors: z
      .array(z.object({ field: z.string(), message: z.string(), code: z.string().optional() }))
      .optional()
      .openapi({ description: 'Field errors, when the problem is about specific inputs.' }),
  })
  .openapi('Problem', { example: problemExample });

export type Problem = z.infer<typeof ProblemSchema>;

/** A problem a handler throws on purpose; onError renders it. */
export class ProblemError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: Problem['errors'],
  ) {
    super(title);
  }
}

export function problemResponse(c: Context, p: Omit<Problem, 'type' | 'request_id'>): Response {
  const body: Problem = {
    type: `https://slotbase.dev/problems/${p.code}`,
    ...p,
    request_id: c.get('requestId' as never) as string | undefined,
  };
  return c.body(JSON.stringify(body), p.status as ContentfulStatusCode, { 'content-type': 'application/problem+json' });
}

const HTTP_EXCEPTION_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthenticated',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

/** The only place errors become responses: problems, HTTP exceptions, database errors, the rest (500). */
export function toProblem(error: unknown): Omit<Problem, 'type' | 'request_id'> & { unexpected?: boolean } {
  if (error instanceof ProblemError) {
    return { status: error.status, code: error.code, title: error.title, detail: error.detail, errors: error.errors };
  }
  if (error instanceof HTTPException) {
    const status = error.status;
    const code = HTTP_EXCEPTION_CODES[status] ?? 'http_error';
    return { status, code, title: error.message || 'Request failed' };
  }
  const db = problemFromDatabaseError(error);
  if (db) {
    const detail = (error as { message?: string }).message;
    return {
      status: db.status,
      code: db.code,
      title: db.title,
      // Messages of our own SQLSTATEs are written for users; standard ones may name internals.
      detail: db.sqlstate.startsWith('SB') ? detail : undefined,
      errors: db.field ? [{ field: db.field, message: (db.sqlstate.startsWith('SB') && detail) || db.title, code: db.code }] : undefined,
    };
  }
  if (isDatabaseUnavailable(error)) {
    return { status: 503, code: 'database_unavailable', title: 'The database is unavailable; try again shortly' };
  }
  return { status: 500, code: 'internal_error', title: 'Something went wrong on our side', unexpected: true };
}
