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
  return (await sql.begin(async (tx) => {
    // postgres.js queries are lazy: execute() sends the role switch now, ahead of anything fn sends.
    const become = tx`select set_config('role', ${caller.role}, true), set_config('request.jwt.claims', ${JSON.stringify(claimsOf(caller))}, true)`.execute();
    const [, result] = await Promise.all([become, fn(tx)]);
    return result;
  })) as T;
}
