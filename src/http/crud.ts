import type postgres from 'postgres';
import { z } from '@hono/zod-openapi';
import { base64UrlToText, textToBase64Url } from '#src/lib/base64url.ts';
import { ProblemError } from './problem.ts';

/**
 * Plain CRUD on one slotbase table as the caller. Nothing here authorizes: RLS decides what a
 * statement sees and may change; these helpers only turn "nothing came back" into 404 (hidden or
 * unknown) or 403 (visible, but the policy refused the write).
 */
export interface TableSpec {
  /** Schema-qualified table name (a constant in code, never input). */
  table: string;
  /** Select list as the API shows a row: snake_case, `time` as 'HH:MM', `date` as text. */
  columns: string;
  /** Soft-deleted rows keep `deleted_at`; lists hide them unless asked, writes treat them as gone. */
  softDelete: boolean;
}

type Tx = postgres.TransactionSql;
type Fragment = postgres.Fragment;

export interface PageParams {
  limit: number;
  cursor?: string | undefined;
  include_deleted?: boolean | undefined;
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export const notFound = (what: string) => new ProblemError(404, 'not_found', `${what} not found`);

/** Timestamps as ISO strings; everything else exactly as SQL returned it. */
export function present<T>(row: Record<string, unknown>): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) out[key] = value instanceof Date ? value.toISOString() : value;
  return out as T;
}

/** The opaque page cursor: base64url of the last row's id. */
export const encodeCursor = (id: string) => textToBase64Url(id);

function decodeCursor(cursor: string): string {
  const id = base64UrlToText(cursor);
  if (id === undefined || !z.uuid().safeParse(id).success) throw invalidCursor();
  return id;
}

const invalidCursor = () =>
  new ProblemError(422, 'validation_failed', 'The cursor is not valid', undefined, [
    { field: 'cursor', message: 'Use next_cursor of the previous page', code: 'invalid_cursor' },
  ]);

/** `a and b and …` of conditions (none: true). */
function conditions(tx: Tx, parts: Fragment[]): Fragment {
  return parts.reduce((acc, part) => tx`${acc} and ${part}`, tx`true`);
}

/** One page in (created_at, id) order, after the cursor row, with the filters given. */
export async function listRows<T>(tx: Tx, spec: TableSpec, page: PageParams, filters: Fragment[] = []): Promise<Page<T>> {
  const where = [...filters];
  if (spec.softDelete && !page.include_deleted) where.push(tx`deleted_at is null`);
  if (page.cursor) {
    const id = decodeCursor(page.cursor);
    // A cursor row that is gone (hard-deleted, or never visible) cannot say where the page starts.
    const [seen] = await tx`select 1 from ${tx.unsafe(spec.table)} where id = ${id}`;
    if (!seen) throw invalidCursor();
    // Compared in SQL: created_at has microseconds, a JS Date only milliseconds.
    where.push(tx`(created_at, id) > (select c.created_at, c.id from ${tx.unsafe(spec.table)} as c where c.id = ${id})`);
  }
  const rows = await tx<Record<string, unknown>[]>`
    select ${tx.unsafe(spec.columns)} from ${tx.unsafe(spec.table)}
    where ${conditions(tx, where)}
    order by created_at, id
    limit ${page.limit + 1}`;
  const data = rows.slice(0, page.limit).map((r) => present<T>(r));
  const last = rows.length > page.limit ? (rows[page.limit - 1]!.id as string) : null;
  return { data, next_cursor: last ? encodeCursor(last) : null };
}

/** The row with this id (soft-deleted ones too: they show `deleted_at`), or 404. */
export async function getRow<T>(tx: Tx, spec: TableSpec, id: string, what: string): Promise<T> {
  const [row] = await tx<Record<string, unknown>[]>`select ${tx.unsafe(spec.columns)} from ${tx.unsafe(spec.table)} where id = ${id}`;
  if (!row) throw notFound(what);
  return present<T>(row);
}

/** Inserts one row; a policy refusal surfaces as 42501 (403). */
export async function insertRow<T>(tx: Tx, spec: TableSpec, values: Record<string, unknown>): Promise<T> {
  const row = defined(values);
  const [inserted] = await tx<Record<string, unknown>[]>`
    insert into ${tx.unsafe(spec.table)} ${tx(row, Object.keys(row))} returning ${tx.unsafe(spec.columns)}`;
  return present<T>(inserted!);
}

/** Updates the given columns of a live row; 404 when the caller cannot see it, 403 when they may not change it. */
export async function updateRow<T>(tx: Tx, spec: TableSpec, id: string, patch: Record<string, unknown>, what: string): Promise<T> {
  const set = defined(patch);
  const live = spec.softDelete ? tx`and deleted_at is null` : tx``;
  const [updated] = await tx<Record<string, unknown>[]>`
    update ${tx.unsafe(spec.table)} set ${tx(set, Object.keys(set))} where id = ${id} ${live} returning ${tx.unsafe(spec.columns)}`;
  if (!updated) return refuse(tx, spec, id, what);
  return present<T>(updated);
}

/** Soft-deletes (sets deleted_at) or deletes the row; 404 when hidden or already deleted, 403 when not allowed. */
export async function deleteRow(tx: Tx, spec: TableSpec, id: string, what: string): Promise<void> {
  const [deleted] = spec.softDelete
    ? await tx`update ${tx.unsafe(spec.table)} set deleted_at = now() where id = ${id} and deleted_at is null returning id`
    : await tx`delete from ${tx.unsafe(spec.table)} where id = ${id} returning id`;
  if (!deleted) await refuse(tx, spec, id, what);
}

/**
 * A write touched nothing: RLS either hides the row (404, the same as an unknown or another
 * tenant's id) or lets the caller see it but not change it (403).
 */
async function refuse(tx: Tx, spec: Pick<TableSpec, 'table' | 'softDelete'>, id: string, what: string): Promise<never> {
  const live = spec.softDelete ? tx`and deleted_at is null` : tx``;
  const [visible] = await tx`select 1 from ${tx.unsafe(spec.table)} where id = ${id} ${live}`;
  if (visible) throw new ProblemError(403, 'forbidden', 'Not allowed');
  throw notFound(what);
}

/** Drops keys whose value is undefined (absent from the request), so SQL defaults apply. */
function defined(values: Record<string, unknown>): Record<string, postgres.ParameterOrJSON<never>> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Record<string, postgres.ParameterOrJSON<never>>;
}
