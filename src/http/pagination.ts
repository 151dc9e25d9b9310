import { z } from '@hono/zod-openapi';
import { base64UrlToText, textToBase64Url } from '#src/lib/base64url.ts';
import { cursors } from './examples.ts';

/**
 * Keyset pagination on (starts_at, id). The cursor is opaque to clients: base64url of the last
 * row's key, its instant kept to the microsecond as PostgreSQL printed it (a JS Date would
 * drop the microseconds and repeat a row on the next page).
 */
export interface Cursor {
  at: string;
  id: string;
}

const CursorKey = z.tuple([z.iso.datetime({ offset: true }), z.uuid()]);

export function encodeCursor(key: Cursor): string {
  return textToBase64Url(JSON.stringify([key.at, key.id]));
}

export function decodeCursor(cursor: string): Cursor | undefined {
  try {
    const parsed = CursorKey.safeParse(JSON.parse(base64UrlToText(cursor) ?? ''));
    return parsed.success ? { at: parsed.data[0], id: parsed.data[1] } : undefined;
  } catch {
    return undefined;
  }
}

/** `limit` and `cursor` query parameters shared by every list. */
export const PageQuery = {
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(200)
    .default(50)
    .openapi({ param: { name: 'limit', in: 'query' }, description: 'Page size (1–200)', example: 50 }),
  cursor: z
    .string()
    .max(200)
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      const key = decodeCursor(value);
      if (!key) ctx.addIssue({ code: 'custom', message: 'Not a cursor this API returned' });
      return key;
    })
    .openapi({ param: { name: 'cursor', in: 'query' }, description: 'The `next_cursor` of the previous page', type: 'string', example: cursors.bookings }),
};

/** Cuts the `limit + 1` rows a page query fetched into the page and the cursor of the next one. */
export function page<T extends { id: string; cursor_at: string }>(rows: readonly T[], limit: number): { rows: Omit<T, 'cursor_at'>[]; next_cursor: string | null } {
  const more = rows.length > limit;
  const kept = rows.slice(0, limit);
  const last = kept.at(-1);
  return {
    rows: kept.map(({ cursor_at: _cursorAt, ...row }) => row),
    next_cursor: more && last ? encodeCursor({ at: last.cursor_at, id: last.id }) : null,
  };
}
