import { createHash, randomBytes } from 'node:crypto';
import type postgres from 'postgres';
import { createRouter } from '../../create-router.ts';
import type { AppDeps } from '../../env.ts';
import { ProblemError } from '../../problem.ts';
import { login, logout, refresh, signup } from './auth.routes.ts';

interface Membership {
  tenant_id: string;
  slug: string;
  name: string;
  role: string;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest();
const invalidCredentials = () => new ProblemError(401, 'invalid_credentials', 'Email or password is wrong');

/** Issues an access token for (user, tenant) and a refresh token in the same login family. */
async function issueSession(
  deps: AppDeps,
  q: postgres.Sql | postgres.TransactionSql,
  user: { id: string; email: string },
  tenant: Membership | null,
  memberships: Membership[],
  familyId: string | null = null,
) {
  const refreshToken = randomBytes(32).toString('base64url');
  const ttl = deps.refreshTtlSeconds ?? 30 * 86_400;
  await q`select slotbase_private.issue_refresh_token(${user.id}, ${tenant?.tenant_id ?? null}, ${hashToken(refreshToken)},
          now() + make_interval(secs => ${ttl}), ${familyId})`;
  const access = await deps.tokens.signAccess({ sub: user.id, ...(tenant ? { tenant_id: tenant.tenant_id } : {}) });
  const summary = (m: Membership) => ({ id: m.tenant_id, slug: m.slug, name: m.name, role: m.role });
  return {
    token_type: 'Bearer' as const,
    access_token: access.token,
    expires_in: access.expiresIn,
    refresh_token: refreshToken,
    user,
    tenant: tenant ? summary(tenant) : null,
    tenants: memberships.map(summary),
  };
}

async function membershipsOf(q: postgres.Sql | postgres.TransactionSql, userId: string): Promise<Membership[]> {
  return [...(await q<Membership[]>`select tenant_id, slug, name, role from slotbase_private.user_memberships(${userId})`)];
}

export const authRouter = createRouter()
  .openapi(signup, async (c) => {
    const body = c.req.valid('json');
    const { deps } = c.var;
    const passwordHash = await deps.passwords.hash(body.password);
    const session = await deps.sql.begin(async (tx) => {
      const [user] = await tx<{ id: string }[]>`select slotbase_private.register_user(${body.email}, ${passwordHash}, ${body.name ?? null}) as id`;
      const userId = user!.id;
      // The tenant is created as the new user, through the same function a signed-in user calls.
      await tx`select set_config('role', 'authenticated', true),
                      set_config('request.jwt.claims', ${JSON.stringify({ role: 'authenticated', sub: userId })}, true)`;
      const [tenant] = await tx<{ id: string; slug: string; name: string }[]>`
        select id, slug, name from slotbase.create_tenant(${body.tenant.slug}, ${body.tenant.name}, ${body.tenant.time_zone})`;
      await tx`reset role`;
      const membership: Membership = { tenant_id: tenant!.id, slug: tenant!.slug, name: tenant!.name, role: 'owner' };
      return issueSession(deps, tx, { id: userId, email: body.email }, membership, [membership]);
    });
    return c.json(session, 201);
  })
  .openapi(login, async (c) => {
    const body = c.req.valid('json');
    const { deps } = c.var;
    const [credentials] = await deps.sql<{ user_id: string; password_hash: string }[]>`
      select user_id, password_hash from slotbase_private.user_credentials_by_email(${body.email})`;
    // Verify against a dummy hash when the email is unknown, so timing does not tell which emails exist.
    const ok = await deps.passwords.verify(body.password, credentials?.password_hash ?? DUMMY_HASH);
    if (!credentials || !ok) throw invalidCredentials();
    const memberships = await membershipsOf(deps.sql, credentials.user_id);
    const tenant = body.tenant ? memberships.find((m) => m.slug === body.tenant) : memberships[0];
    if (body.tenant && !tenant) throw invalidCredentials();
    const session = await issueSession(deps, deps.sql, { id: credentials.user_id, email: body.email }, tenant ?? null, memberships);
    return c.json(session, 200);
  })
  .openapi(refresh, async (c) => {
    const body = c.req.valid('json');
    const { deps } = c.var;
    const [rotated] = await deps.sql<{ user_id: string; email: string; tenant_id: string | null; family_id: string; reused: boolean }[]>`
      select user_id, email, tenant_id, family_id, reused from slotbase_private.rotate_refresh_token(${hashToken(body.refresh_token)})`;
    if (!rotated) throw new ProblemError(401, 'invalid_refresh_token', 'The refresh token is unknown or expired');
    if (rotated.reused) {
      throw new ProblemError(401, 'refresh_token_reused', 'This refresh token was already used; every session of this login was ended');
    }
    const memberships = await membershipsOf(deps.sql, rotated.user_id);
    const tenant = memberships.find((m) => m.tenant_id === rotated.tenant_id) ?? null;
    const session = await issueSession(deps, deps.sql, { id: rotated.user_id, email: rotated.email }, tenant, memberships, rotated.family_id);
    return c.json(session, 200);
  })
  .openapi(logout, async (c) => {
    const body = c.req.valid('json');
    await c.var.deps.sql`select slotbase_private.revoke_refresh_family(${hashToken(body.refresh_token)})`;
    return c.body(null, 204);
  });

/** scrypt hash of a random password: verifying against it costs what a real verification costs. */
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
