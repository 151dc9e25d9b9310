import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { uniq } from '../support/factories.ts';
import { TEST_SUPABASE_JWT_SECRET, useApi } from '../support/http.ts';

interface Session {
  access_token: string;
  refresh_token: string;
  user: { id: string; email: string };
  tenant: { id: string; slug: string; role: string } | null;
  tenants: { slug: string }[];
}

const signupBody = (over: Record<string, unknown> = {}) => ({
  email: `${uniq('owner-')}@example.test`,
  password: 'correct horse battery staple',
  name: 'Olivia Owner',
  tenant: { slug: uniq('clinic-'), name: 'Sunrise Clinic', time_zone: 'Europe/Berlin' },
  ...over,
});

describe('auth', () => {
  const api = useApi();

  it('sign-up creates the tenant and its owner and returns a working session', async () => {
    const body = signupBody();
    const res = await api().json<Session>('POST', '/v1/signup', { body });
    expect(res.status).toBe(201);
    expect(res.body.tenant).toMatchObject({ slug: body.tenant.slug, role: 'owner' });
    const claims = await api().tokens.verifyAccess(res.body.access_token);
    expect(claims).toMatchObject({ sub: res.body.user.id, tenant_id: res.body.tenant!.id });
    // The token acts as the owner under RLS: the tenant row is visible to them.
    const seen = await api().db.queryAs({ role: 'authenticated', userId: claims.sub, tenantId: claims.tenant_id }, 'select slug from slotbase.tenants');
    expect(seen).toEqual([{ slug: body.tenant.slug }]);
  });

  it('sign-up refuses a taken email (any case) or slug with 409, and a bad zone with 422; nothing is left behind', async () => {
    const first = signupBody();
    expect((await api().json('POST', '/v1/signup', { body: first })).status).toBe(201);
    const sameEmail = await api().json<{ code: string }>('POST', '/v1/signup', { body: signupBody({ email: first.email.toUpperCase() }) });
    expect(sameEmail).toMatchObject({ status: 409, body: { code: 'already_exists' } });
    const sameSlug = signupBody({ tenant: { ...first.tenant, name: 'Copy' } });
    const slugTaken = await api().json<{ code: string; errors: { field: string }[] }>('POST', '/v1/signup', { body: sameSlug });
    expect(slugTaken.status).toBe(409);
    expect(slugTaken.body.errors[0]!.field).toBe('slug');
    const badZone = signupBody({ tenant: { slug: uniq('z-'), name: 'Z', time_zone: 'Mars/Base' } });
    expect((await api().json('POST', '/v1/signup', { body: badZone })).status).toBe(422);
    // The failed sign-ups created no user: the same emails can still sign up.
    expect((await api().json('POST', '/v1/signup', { body: signupBody({ email: sameSlug.email }) })).status).toBe(201);
    expect((await api().json('POST', '/v1/signup', { body: signupBody({ email: badZone.email }) })).status).toBe(201);
  });

  it('login checks the password and picks the tenant', async () => {
    const body = signupBody();
    await api().json('POST', '/v1/signup', { body });
    const ok = await api().json<Session>('POST', '/v1/auth/login', { body: { email: body.email, password: body.password } });
    expect(ok.status).toBe(200);
    expect(ok.body.tenant!.slug).toBe(body.tenant.slug);
    const wrong = await api().json<{ code: string }>('POST', '/v1/auth/login', { body: { email: body.email, password: 'wrong password!' } });
    expect(wrong).toMatchObject({ status: 401, body: { code: 'invalid_credentials' } });
    const nobody = await api().json<{ code: string }>('POST', '/v1/auth/login', { body: { email: 'nobody@example.test', password: 'whatever123' } });
    expect(nobody).toMatchObject({ status: 401, body: { code: 'invalid_credentials' } });
  });

  it('refresh rotates the token; reusing a rotated token ends the whole login', async () => {
    const signup = await api().json<Session>('POST', '/v1/signup', { body: signupBody() });
    const first = signup.body.refresh_token;
    const second = await api().json<Session>('POST', '/v1/auth/refresh', { body: { refresh_token: first } });
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(first);
    expect(second.body.tenant!.id).toBe(signup.body.tenant!.id);
    const reuse = await api().json<{ code: string }>('POST', '/v1/auth/refresh', { body: { refresh_token: first } });
    expect(reuse).toMatchObject({ status: 401, body: { code: 'refresh_token_reused' } });
    // The thief's reuse revoked the family: the legitimate newer token is dead too.
    const after = await api().json<{ code: string }>('POST', '/v1/auth/refresh', { body: { refresh_token: second.body.refresh_token } });
    expect(after.status).toBe(401);
  });

  it('logout revokes the refresh token', async () => {
    const signup = await api().json<Session>('POST', '/v1/signup', { body: signupBody() });
    expect((await api().request('POST', '/v1/auth/logout', { body: { refresh_token: signup.body.refresh_token } })).status).toBe(204);
    expect((await api().json('POST', '/v1/auth/refresh', { body: { refresh_token: signup.body.refresh_token } })).status).toBe(401);
  });

  it('a Supabase Auth access token is accepted when configured, one signed with another key is not', async () => {
    const signup = await api().json<Session>('POST', '/v1/signup', { body: signupBody() });
    const supabaseShaped = (secret: string) =>
      new SignJWT({ role: 'authenticated', aal: 'aal1', email: signup.body.user.email })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(signup.body.user.id)
        .setAudience('authenticated')
        .setIssuer('https://project.supabase.co/auth/v1')
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(secret));
    const claims = await api().tokens.verifyAccess(await supabaseShaped(TEST_SUPABASE_JWT_SECRET));
    expect(claims.sub).toBe(signup.body.user.id);
    const forged = await api().json('GET', '/v1/public/x/services', { token: await supabaseShaped('some-other-secret-some-other-secret!') });
    expect(forged.status).toBe(401);
  });
});
