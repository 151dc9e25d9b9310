import type postgres from 'postgres';

/** Who a request acts as; becomes `set local role` + `request.jwt.claims` (DESIGN §3). */
export type Caller =
  | { role: 'anon' }
  | { role: 'authenticated'; userId: string; tenantId?: string | undefined; claims?: Record<string, unknown> };

export const ANON: Caller = { role: 'anon' };

export function claimsOf(caller: Caller): Record<string, unknown> {
  if (caller.role === 'anon') return { role: 'anon' };
  return { ...caller.claims, role: 'authenticated', sub: caller.userId, tenant_id: caller.tenantId };
}

/**
 * Runs `fn` in one transaction as the caller. The role switch and the claims travel in the same
 * round trip as BEGIN; postgres.js pipelines whatever `fn` sends before the COMMIT.
 */
export async function withSession<T>(sql: postgres.Sql, caller: Caller, fn: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> {
  return begin(sql, async (tx) => {
    // postgres.js queries are lazy: execute() sends the role switch now, ahead of anything fn sends.
    const become = tx`select set_config('role', ${caller.role}, true), set_config('request.jwt.claims', ${JSON.stringify(claimsOf(caller))}, true)`.execute();
    const [, result] = await Promise.all([become, fn(tx)]);
    return result;
  });
}

/**
 * `sql.begin` that survives the database going away mid-transaction. When the connection is gone,
 * postgres.js (3.4.9) would write its ROLLBACK to the closed socket and crash the process from a
 * setImmediate (porsager/postgres#1208). So on such an error nothing is settled here: sql.begin
 * rejects by itself when the pool sees the close. Only if it has not within 5 s (the connection
 * lives after all) is the error let through. Every request transaction of the API goes through it.
 */
export async function begin<T>(sql: postgres.Sql, fn: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> {
  let settled = false;
  try {
    return (await sql.begin(async (tx) => {
      try {
        return await fn(tx);
      } catch (error) {
        if (!connectionLost(error)) throw error;
        return await new Promise<never>((_, reject) => {
          const timer = setTimeout(() => settled || reject(error), 5_000);
          (timer as { unref?: () => void }).unref?.();
        });
      }
    })) as T;
  } finally {
    settled = true;
  }
}

/** A failure after which PostgreSQL or the socket closes the connection (FATAL errors, a lost socket). */
function connectionLost(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  return severity === 'FATAL' || severity === 'PANIC' || code === 'CONNECTION_CLOSED' || code === 'CONNECTION_DESTROYED' || code === 'ECONNRESET' || code === 'EPIPE';
}
