export type Jsonified<T> = { [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K] };

/** A row as JSON: every timestamp (postgres.js gives Date) as an ISO string. */
export function isoRow<T extends object>(row: T): Jsonified<T> {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v])) as Jsonified<T>;
}
