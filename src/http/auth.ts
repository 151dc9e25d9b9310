import type { Caller } from '#src/db/session.ts';
import { ProblemError } from './problem.ts';

/** The signed-in member acting in a tenant, or 401 unauthenticated. RLS decides the rest. */
export function requireMember(c: { var: { caller: Caller } }): Extract<Caller, { role: 'authenticated' }> & { tenantId: string } {
  const caller = c.var.caller;
  if (caller.role !== 'authenticated' || !caller.tenantId) throw new ProblemError(401, 'unauthenticated', 'Sign in first');
  return { ...caller, tenantId: caller.tenantId };
}
