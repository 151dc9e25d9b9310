import { z } from '@hono/zod-openapi';
import { problemExamples } from './examples.ts';
import { ProblemSchema } from './problem.ts';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed request (for example invalid JSON)',
  401: 'Missing or invalid credentials',
  403: 'Not allowed for this caller',
  404: 'Not found (also for other tenants\' ids)',
  409: 'Conflict with the current state',
  410: 'Gone: the link no longer works',
  413: 'Request body too large',
  415: 'Content-Type must be application/json',
  422: 'Validation failed',
  429: 'Too many requests',
  500: 'Unexpected error',
  503: 'Temporarily unavailable',
};

type ProblemExamples = (typeof problemExamples)[number];

/**
 * The problem+json responses an operation documents, by status (429 and 500 always: every route is
 * rate-limited), each with representative problems of that status as named examples.
 */
export function problems(...statuses: number[]) {
  return Object.fromEntries(
    [...new Set([...statuses, 429, 500])].map((status) => [
      status,
      {
        description: DESCRIPTIONS[status] ?? 'Error',
        content: { 'application/problem+json': { schema: ProblemSchema, ...(problemExamples[status] ? { examples: problemExamples[status] } : {}) } },
      },
    ]),
  ) as Record<number, { description: string; content: { 'application/problem+json': { schema: typeof ProblemSchema; examples?: ProblemExamples } } }>;
}

/** The responses of an operation the rate limiter exempts (liveness and readiness probes): no 429. */
export function withoutRateLimit<T extends Record<number, unknown>>(responses: T): Omit<T, 429> {
  const { 429: _limited, ...rest } = responses;
  return rest;
}

/**
 * A JSON response. Its example is the schema's own (`.openapi({ example })`, written once on the
 * component); pass `example` only where this operation answers differently (e.g. a customer session).
 */
export const jsonContent = <T extends z.ZodType>(schema: T, description: string, example?: z.input<T>) => ({
  description,
  content: { 'application/json': example === undefined ? { schema } : { schema, example } },
});

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

export const Uuid = z.uuid().openapi({ example: '0b5a3c8e-4b7f-4f6e-9d36-0c5f8f2b9a11' });
export const Timestamp = z.iso.datetime({ offset: true }).openapi({ example: '2027-03-01T09:00:00Z' });

/** Tags of operations any signed-in user may call, a customer session included (requireUser). */
const ANY_USER_TAGS = new Set(['Me']);

type Operation = { tags?: string[]; security?: Record<string, string[]>[]; responses?: Record<string, unknown> };
type ProblemResponse = { content?: { 'application/problem+json'?: { schema: unknown } } };

/**
 * Every staff operation (one that needs a token, outside the `Me` tag) answers a customer
 * session's token 403 `forbidden` (requireMember) before anything else, whatever else its route
 * documents. Added to the generated document here, once for all of them, where an operation
 * documents no 403 of its own: a new staff route is covered the day it lands
 * (test/http/customer-sessions.test.ts calls every one with a customer's token).
 */
export function documentStaffForbidden<T extends { paths?: object }>(doc: T): T {
  const paths = Object.fromEntries(
    Object.entries((doc.paths ?? {}) as Record<string, Record<string, unknown> | undefined>).map(([path, item]) => [
      path,
      item &&
        Object.fromEntries(
          Object.entries(item).map(([method, value]) => {
            const op = value as Operation;
            if (!op?.responses || op.responses['403'] || !op.security?.length || op.tags?.some((t) => ANY_USER_TAGS.has(t))) return [method, value];
            const schema = Object.entries(op.responses)
              .filter(([status]) => status.startsWith('4'))
              .map(([, r]) => (r as ProblemResponse).content?.['application/problem+json']?.schema)
              .find((s) => s !== undefined);
            if (!schema) return [method, value];
            const forbidden = { description: DESCRIPTIONS[403], content: { 'application/problem+json': { schema, examples: problemExamples[403] } } };
            return [method, { ...op, responses: { ...op.responses, 403: forbidden } }];
          }),
        ),
    ]),
  );
  return { ...doc, paths };
}
