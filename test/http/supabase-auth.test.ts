import { describe, expect, it } from 'vitest';
import { createTokenService } from '#src/lib/tokens.ts';
import { uniq } from '../support/factories.ts';
import { TEST_JWT_SECRET, useApi } from '../support/http.ts';
import { useSupabaseAuthStandIn, type AuthUser } from '../support/supabase-auth-stand-in.ts';

interface Session {
  access_token: string;
  user: { id: string; email: string };
  tenant: { id: string; slug: string };
}

/**
 * Supabase Auth users as Slotbase staff: a Supabase access token's `sub` (an auth.users id) is
 * linked on first use to the Slotbase user with the same email — only when the project's Auth
 * server (a local stand-in of its HTTP API) vouches that the address is confirmed by mail.
 */
describe('Supabase Auth users as Slotbase staff', () => {
  const auth = useSupabaseAuthStandIn();
  const api = useApi(() => ({
    supabase: auth().project(),
    tokens: createTokenService({ secret: TEST_JWT_SECRET, ...auth().tokenOptions() }),
  }));

  /** A business with an owner (password sign-up) who adds `email` as a receptionist, as owners do. */
  async function businessWithStaff(email: string, role = 'receptionist') {
    const owner = await api().json<Session>('POST', '/v1/signup', {
      body: {
        email: `${uniq('owner-')}@example.test`,
        password: 'correct horse battery staple',
        name: 'Olivia Owner',
        tenant: { slug: uniq('clinic-'), name: 'Sunrise Clinic', time_zone: 'Europe/Berlin' },
      },
    });
    expect(owner.status).toBe(201);
    // A member at once when the email has a Slotbase account (201), otherwise an invitation (202).
    const added = await api().json('POST', '/v1/members', { token: owner.body.access_token, body: { email, role } });
    expect([201, 202]).toContain(added.status);
    return { owner: owner.body };
  }

  const staffEmail = () => `${uniq('staff-')}@example.test`;
  const get = async (path: string, token: string, headers: Record<string, string> = {}) => api().json<Record<string, unknown>>('GET', path, { token, headers });

  it('the Supabase user with the confirmed email an owner added becomes that member on first request, and stays linked by its id', async () => {
    const email = staffEmail();
    const { owner } = await businessWithStaff(email);
    const user = auth().addUser({ email });
    const token = await auth().accessToken(user);

    const bookings = await get('/v1/bookings', token);
    expect(bookings.status).toBe(200);
    const me = await get('/v1/me', token);
    expect(me.body).toMatchObject({ email });
    const members = await get('/v1/members', token);
    expect(members.body.data).toContainEqual(expect.objectContaining({ user_id: me.body.id, role: 'receptionist' }));
    const tenant = await get('/v1/tenant', token);
    expect(tenant.body).toMatchObject({ id: owner.tenant.id });
    // The API asked the project's Auth server, with its anon key and the user's token.
    expect(auth().requests.filter((r) => r.path === '/auth/v1/user').at(-1)).toMatchObject({ authorization: `Bearer ${token}` });

    // Linked by sub: a later change of the Supabase address does not matter any more.
    user.email = `${uniq('renamed-')}@example.test`;
    expect((await get('/v1/tenant', await auth().accessToken(user))).body).toMatchObject({ id: owner.tenant.id });
  });

  it('an unconfirmed address links nobody: 403 email_not_verified, and the real owner of the address still gets in', async () => {
    const email = staffEmail();
    const { owner } = await businessWithStaff(email);
    const squatter = auth().addUser({ email, confirmed: false });
    const refused = await get('/v1/bookings', await auth().accessToken(squatter));
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('email_not_verified');
    // Links are one to one: had the squatter been linked, this second account would be refused.
    const real = auth().addUser({ email });
    expect((await get('/v1/tenant', await auth().accessToken(real))).body).toMatchObject({ id: owner.tenant.id });
  });

  it('an owner with a Slotbase password account is the same person when their confirmed email signs in with Supabase', async () => {
    const { owner } = await businessWithStaff(staffEmail());
    const user = auth().addUser({ email: owner.user.email.toUpperCase() });
    const token = await auth().accessToken(user);
    expect((await get('/v1/me', token)).body).toMatchObject({ id: owner.user.id });
    expect((await get('/v1/api-keys', token)).status).toBe(200); // owners only
  });

  it('with "Confirm email" off in the project, a confirmed address proves nothing — except an accepted invitation', async () => {
    auth().settings.mailer_autoconfirm = true;
    try {
      const email = staffEmail();
      await businessWithStaff(email);
      const autoconfirmed = auth().addUser({ email });
      const refused = await get('/v1/bookings', await auth().accessToken(autoconfirmed));
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('email_not_verified');

      const invitedEmail = staffEmail();
      const invited = await businessWithStaff(invitedEmail);
      const user = auth().addUser({ email: invitedEmail, invited: true });
      expect((await get('/v1/tenant', await auth().accessToken(user))).body).toMatchObject({ id: invited.owner.tenant.id });
    } finally {
      auth().settings.mailer_autoconfirm = false;
    }
  });

  it('a second Supabase account with the same confirmed address does not take over a linked member', async () => {
    const email = staffEmail();
    await businessWithStaff(email);
    const first = auth().addUser({ email });
    expect((await get('/v1/bookings', await auth().accessToken(first))).status).toBe(200);
    const second = auth().addUser({ email });
    const refused = await get('/v1/bookings', await auth().accessToken(second));
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('not_a_member');
  });

  it('a confirmed address nobody added is 403 not_a_member', async () => {
    const stranger = auth().addUser({ email: staffEmail() });
    const refused = await get('/v1/bookings', await auth().accessToken(stranger));
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('not_a_member');
  });

  it('a token signed for another project, or issued by another Auth server, is 401 invalid_token', async () => {
    const email = staffEmail();
    await businessWithStaff(email);
    const user = auth().addUser({ email });
    const otherProject = await auth().accessToken(user, { secret: 'another-supabase-projects-jwt-secret-0123456789' });
    const otherIssuer = await auth().accessToken(user, { issuer: 'https://another-project.supabase.co/auth/v1' });
    for (const token of [otherProject, otherIssuer]) {
      const res = await get('/v1/bookings', token);
      expect(res.status, JSON.stringify(res.body)).toBe(401);
      expect(res.body.code).toBe('invalid_token');
    }
    // Nothing was linked by them: the same user's genuine token is the first to link.
    const linkCallsBefore = auth().requests.filter((r) => r.path === '/auth/v1/user').length;
    expect((await get('/v1/bookings', await auth().accessToken(user))).status).toBe(200);
    expect(auth().requests.filter((r) => r.path === '/auth/v1/user').length).toBe(linkCallsBefore + 1);
  });

  it('asymmetric (ES256) tokens are verified against the project\'s JWKS', async () => {
    const email = staffEmail();
    await businessWithStaff(email);
    const user = auth().addUser({ email });
    expect((await get('/v1/bookings', await auth().accessToken(user, { alg: 'ES256' }))).status).toBe(200);
  });

  it('X-Slotbase-Tenant picks the business among the member\'s; one they do not belong to is 403; token claims pick nothing', async () => {
    const email = staffEmail();
    const a = await businessWithStaff(email);
    const b = await businessWithStaff(email, 'viewer');
    const user: AuthUser = auth().addUser({ email });
    const token = await auth().accessToken(user);
    // Without the header: the first membership (both came from invitations accepted together here).
    expect([a.owner.tenant.id, b.owner.tenant.id]).toContain((await get('/v1/tenant', token)).body.id);
    expect((await get('/v1/tenant', token, { 'x-slotbase-tenant': a.owner.tenant.slug })).body).toMatchObject({ id: a.owner.tenant.id });
    expect((await get('/v1/tenant', token, { 'x-slotbase-tenant': b.owner.tenant.slug })).body).toMatchObject({ id: b.owner.tenant.id });
    const foreign = await businessWithStaff(staffEmail());
    const refused = await get('/v1/tenant', token, { 'x-slotbase-tenant': foreign.owner.tenant.slug });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('not_a_member');
    // A tenant_id claim (a custom access token hook could add one) is ignored.
    const claimed = await auth().accessToken(user, { claims: { tenant_id: foreign.owner.tenant.id } });
    expect([a.owner.tenant.id, b.owner.tenant.id]).toContain((await get('/v1/tenant', claimed)).body.id);
  });
});
