import { createHash, randomBytes } from 'node:crypto';
import type postgres from 'postgres';
import type { AppDeps } from '../../env.ts';
import type { LoginGuard } from '../../login-protection.ts';
import { ProblemError } from '../../problem.ts';

/**
 * What staff and customer sessions share: password checks, refresh-token families (stored
 * hashed, rotated, reuse revokes the family) and the session body. A customer session's access
 * token carries `kind: 'customer'` and never a tenant_id, so it has no member rights; its
 * refresh family is of kind customer, so refreshing it never yields a staff session.
 */

type Q = postgres.Sql | postgres.TransactionSql;

export type SessionKind = 'staff' | 'customer';

export interface Membership {
  tenant_id: string;
  slug: string;
  name: string;
  role: string;
}

export const hashToken = (token: string) => createHash('sha256').update(token).digest();
export const invalidCredentials = () => new ProblemError(401, 'invalid_credentials', 'Email or password is wrong');

/** scrypt hash of a random password: verifying against it costs what a real verification costs. */
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/**
 * The user with this email and password, or 401 invalid_credentials (same timing for unknown
 * emails). With a guard (src/http/login-protection.ts), an attempt over its failed-login budgets
 * is 429 `too_many_login_attempts` before the password is even checked, and the outcome is counted.
 */
export async function verifyCredentials(deps: AppDeps, email: string, password: string, guard: LoginGuard = {}): Promise<{ id: string; email: string }> {
  const attempt = { email, address: guard.address };
  await guard.protection?.check(attempt, guard.setHeader);
  const [credentials] = await deps.sql<{ user_id: string; password_hash: string }[]>`
    select user_id, password_hash from slotbase_private.user_credentials_by_email(${email})`;
  // Verify against a dummy hash when the email is unknown, so timing does not tell which emails exist.
  const ok = await deps.passwords.verify(password, credentials?.password_hash ?? DUMMY_HASH);
  if (!credentials || !ok) {
    await guard.protection?.failed(attempt);
    throw invalidCredentials();
  }
  await guard.protection?.succeeded(attempt);
  return { id: credentials.user_id, email };
}

export async function membershipsOf(q: Q, userId: string): Promise<Membership[]> {
  return [...(await q<Membership[]>`select tenant_id, slug, name, role from slotbase_private.user_memberships(${userId})`)];
}

/**
 * Issues an access token and a refresh token in the same login family (a new family when
 * `familyId` is null). Staff sessions act in `tenant` (or none); customer sessions never do.
 */
export async function issueSession(
  deps: AppDeps,
  q: Q,
  kind: SessionKind,
  user: { id: string; email: string },
  tenant: Membership | null,
  memberships: Membership[],
  familyId: string | null = null,
) {
  const refreshToken = randomBytes(32).toString('base64url');
  const ttl = deps.refreshTtlSeconds ?? 30 * 86_400;
  if (kind === 'customer') {
    await q`select slotbase_private.issue_customer_refresh_token(${user.id}, ${hashToken(refreshToken)},
            now() + make_interval(secs => ${ttl}), ${familyId})`;
  } else {
    await q`select slotbase_private.issue_refresh_token(${user.id}, ${tenant?.tenant_id ?? null}, ${hashToken(refreshToken)},
            now() + make_interval(secs => ${ttl}), ${familyId})`;
  }
  const access =
    kind === 'customer'
      ? await deps.tokens.signAccess({ sub: user.id, kind: 'customer' })
      : await deps.tokens.signAccess({ sub: user.id, ...(tenant ? { tenant_id: tenant.tenant_id } : {}) });
  const summary = (m: Membership) => ({ id: m.tenant_id, slug: m.slug, name: m.name, role: m.role });
  return {
    token_type: 'Bearer' as const,
    kind,
    access_token: access.token,
    expires_in: access.expiresIn,
    refresh_token: refreshToken,
    user,
    tenant: kind === 'staff' && tenant ? summary(tenant) : null,
    tenants: kind === 'staff' ? memberships.map(summary) : [],
  };
}

/** Exchanges a refresh token for a new session of the same kind, or 401. */
export async function refreshSession(deps: AppDeps, refreshToken: string) {
  const [rotated] = await deps.sql<{ user_id: string; email: string; tenant_id: string | null; family_id: string; reused: boolean }[]>`
    select user_id, email, tenant_id, family_id, reused from slotbase_private.rotate_refresh_token(${hashToken(refreshToken)})`;
  if (!rotated) throw new ProblemError(401, 'invalid_refresh_token', 'The refresh token is unknown or expired');
  if (rotated.reused) {
    throw new ProblemError(401, 'refresh_token_reused', 'This refresh token was already used; every session of this login was ended');
  }
  const [family] = await deps.sql<{ kind: SessionKind }[]>`select slotbase_private.refresh_family_kind(${rotated.family_id}) as kind`;
  const user = { id: rotated.user_id, email: rotated.email };
  if (family?.kind === 'customer') return issueSession(deps, deps.sql, 'customer', user, null, [], rotated.family_id);
  const memberships = await membershipsOf(deps.sql, rotated.user_id);
  const tenant = memberships.find((m) => m.tenant_id === rotated.tenant_id) ?? null;
  return issueSession(deps, deps.sql, 'staff', user, tenant, memberships, rotated.family_id);
}

/** Revokes the refresh token's whole family (staff or customer). */
export async function revokeSession(deps: AppDeps, refreshToken: string): Promise<void> {
  await deps.sql`select slotbase_private.revoke_refresh_family(${hashToken(refreshToken)})`;
}
