import { z } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import { requireMember } from './auth.ts';
import type { AppEnv } from './env.ts';
import { cursors } from './examples.ts';
import { Uuid } from './openapi.ts';

/**
 * What every staff (token-holding member) route shares: 401 before anything else, the bearer
 * security requirement, id params and cursor pages.
 */

/** Route middleware: runs before the validators, so an anonymous caller gets 401, not 422. */
export const memberOnly = createMiddleware<AppEnv>(async (c, next) => {
  requireMember(c);
  await next();
});

/** Spread into createRoute: the member check and the documented requirement (a token, or an API key with the scope). */
export const staffOnly = { middleware: [memberOnly], security: [{ bearerAuth: [] }, { apiKey: [] }] as Record<string, string[]>[] };

/** Like staffOnly, for routes API keys may never call (key management itself). */
export const peopleOnly = { middleware: [memberOnly], security: [{ bearerAuth: [] }] };

export const IdParam = z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) });

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50).openapi({ param: { name: 'limit', in: 'query' }, example: 50 }),
  cursor: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({ param: { name: 'cursor', in: 'query' }, description: '`next_cursor` of the previous page', example: cursors.crud }),
});

export const IncludeDeletedQuery = z.object({
  include_deleted: z
    .enum(['true', 'false'])
    .optional()
    .openapi({ param: { name: 'include_deleted', in: 'query' }, description: 'Also list soft-deleted rows', example: 'true' }),
});

/** `{ data, next_cursor }`, registered as `<Name>Page`, with an example page (every operation shows one: openapi-examples.test.ts). */
export const pageOf = <T extends z.ZodType>(item: T, name: string, example?: { data: z.input<T>[]; next_cursor: string | null }) =>
  z
    .object({
      data: z.array(item),
      next_cursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last page' }),
    })
    .openapi(`${name}Page`, example ? { example } : {});

/** A PATCH body must change something. */
export const nonEmpty = (body: object) => Object.keys(body).length > 0;
