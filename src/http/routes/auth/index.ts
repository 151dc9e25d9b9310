import { begin } from '#src/db/session.ts';
import { createRouter } from '../../create-router.ts';
import { loginGuardOf } from '../../login-protection.ts';
import { login, logout, refresh, signup } from './auth.routes.ts';
import { invalidCredentials, issueSession, membershipsOf, refreshSession, revokeSession, verifyCredentials, type Membership } from './sessions.ts';

export const authRouter = createRouter()
  .openapi(signup, async (c) => {
    const body = c.req.valid('json');
    const { deps } = c.var;
    const passwordHash = await deps.passwords.hash(body.password);
    const session = await begin(deps.sql, async (tx) => {
      const [user] = await tx<{ id: string }[]>`select slotbase_private.register_user(${body.email}, ${passwordHash}, ${body.name ?? null}) as id`;
      const userId = user!.id;
      // The tenant is created as the new user, through the same function a signed-in user calls.
      await tx`select set_config('role', 'authenticated', true),
                      set_config('request.jwt.claims', ${JSON.stringify({ role: 'authenticated', sub: userId })}, true)`;
      const [tenant] = await tx<{ id: string; slug: string; name: string }[]>`
        select id, slug, name from slotbase.create_tenant(${body.tenant.slug}, ${body.tenant.name}, ${body.tenant.time_zone})`;
      await tx`reset role`;
      const membership: Membership = { tenant_id: tenant!.id, slug: tenant!.slug, name: tenant!.name, role: 'owner' };
      return issueSession(deps, tx, 'staff', { id: userId, email: body.email }, membership, [membership]);
    });
    return c.json(session, 201);
  })
  .openapi(login, async (c) => {
    const body = c.req.valid('json');
    const { deps } = c.var;
    const user = await verifyCredentials(deps, body.email, body.password, loginGuardOf(c));
    const memberships = await membershipsOf(deps.sql, user.id);
    const tenant = body.tenant ? memberships.find((m) => m.slug === body.tenant) : memberships[0];
    if (body.tenant && !tenant) throw invalidCredentials();
    const session = await issueSession(deps, deps.sql, 'staff', user, tenant ?? null, memberships);
    return c.json(session, 200);
  })
  .openapi(refresh, async (c) => {
    const body = c.req.valid('json');
    return c.json(await refreshSession(c.var.deps, body.refresh_token), 200);
  })
  .openapi(logout, async (c) => {
    const body = c.req.valid('json');
    await revokeSession(c.var.deps, body.refresh_token);
    return c.body(null, 204);
  });
