import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtp, type TestSmtp } from '../jobs/notifications-support.ts';
import { addMember, createLocation, createUser, uniq } from '../support/factories.ts';
import { useApi } from '../support/http.ts';
import { drainJobs } from '../support/worker.ts';

interface Problem {
  code: string;
  status: number;
}
interface Invitation {
  id: string;
  email: string;
  role: string;
  location_id: string | null;
  status: string;
  expires_at: string;
}
interface Session {
  kind: string;
  access_token: string;
  user: { id: string; email: string };
  tenant: { id: string; role: string } | null;
}

/**
 * Inviting a colleague who has no account, end to end: POST /v1/members answers 202 with the
 * invitation, the worker emails the link through a real SMTP server, the invitee reads it, sets a
 * password at POST /v1/auth/accept-invite and is signed in as a member; the link then stops working.
 */
describe('staff invitations', () => {
  const api = useApi();
  let smtp: TestSmtp;
  let owner: { token: string; tenantId: string; slug: string };

  beforeAll(async () => {
    smtp = await startSmtp();
    const res = await api().json<{ access_token: string; tenant: { id: string; slug: string } }>('POST', '/v1/signup', {
      body: { email: `${uniq('owner-')}@example.test`, password: 'correct horse battery staple', name: 'Olga Owner', tenant: { slug: uniq('clinic-'), name: 'Praxis Sonne', time_zone: 'Europe/Berlin' } },
    });
    expect(res.status).toBe(201);
    owner = { token: res.body.access_token, tenantId: res.body.tenant.id, slug: res.body.tenant.slug };
  });
  afterAll(async () => {
    await smtp?.close();
  });

  const call = <T = Record<string, unknown>>(method: string, path: string, options: { token?: string; body?: unknown } = {}) => api().json<T>(method, path, options);
  const invite = (email: string, role = 'receptionist', location_id?: string, token = owner.token) =>
    call<Invitation & Problem>('POST', '/v1/members', { token, body: { email, role, ...(location_id ? { location_id } : {}) } });

  /** Runs the worker's due jobs, and returns the link token of the last invitation mailed to `email`. */
  async function mailedToken(email: string): Promise<{ token: string; subject: string; text: string }> {
    const mailer = smtp.mailer();
    try {
      await drainJobs(api().db, { overrides: { mailer } });
    } finally {
      mailer.close();
    }
    const mail = smtp.to(email.toLowerCase()).at(-1);
    expect(mail, `no invitation mail to ${email}`).toBeDefined();
    const text = mail!.parsed.text ?? '';
    const link = /http:\/\/slotbase\.test\/invite\?token=(\S+)/.exec(text);
    expect(link, text).not.toBeNull();
    // The HTML part carries the same link.
    expect(String(mail!.parsed.html)).toContain(`/invite?token=${link![1]}`);
    return { token: decodeURIComponent(link![1]!), subject: mail!.parsed.subject ?? '', text };
  }

  it('an email without an account: 202 invitation, mailed with a link; accepting sets the password, makes the member and signs in; the link then is 410', async () => {
    const db = api().db;
    const branch = (await createLocation(db, owner.tenantId, { name: 'Mitte' })).id;
    const email = `${uniq('rita-')}@example.test`;
    const invited = await invite(email, 'receptionist', branch);
    expect(invited.status).toBe(202);
    expect(invited.body).toMatchObject({ email, role: 'receptionist', location_id: branch, status: 'pending' });

    const { token, subject, text } = await mailedToken(email);
    expect(subject).toContain('Praxis Sonne');
    expect(text).toContain('Olga Owner');
    expect(text).toContain('Mitte');

    const preview = await call('GET', `/v1/auth/accept-invite?token=${encodeURIComponent(token)}`);
    expect(preview).toMatchObject({
      status: 200,
      body: { email, role: 'receptionist', tenant: { id: owner.tenantId, slug: owner.slug, name: 'Praxis Sonne' }, location: { id: branch, name: 'Mitte' }, has_account: false },
    });

    const password = 'a fine long password';
    const accepted = await call<Session>('POST', '/v1/auth/accept-invite', { body: { token, password, display_name: 'Rita Reception' } });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ kind: 'staff', user: { email }, tenant: { id: owner.tenantId, role: 'receptionist' } });
    // The session works, scoped to the branch.
    const locations = await call<{ data: { id: string }[] }>('GET', '/v1/locations', { token: accepted.body.access_token });
    expect(locations.body.data.map((l) => l.id)).toEqual([branch]);
    // The password works for logging in.
    expect((await call('POST', '/v1/auth/login', { body: { email, password } })).status).toBe(200);

    expect((await call<Problem>('POST', '/v1/auth/accept-invite', { body: { token, password } })).body).toMatchObject({ status: 410, code: 'invitation_accepted' });
    expect((await call<Problem>('GET', `/v1/auth/accept-invite?token=${encodeURIComponent(token)}`)).body.code).toBe('invitation_accepted');
    const members = await call<{ data: { email: string; display_name: string; role: string }[] }>('GET', '/v1/members?limit=200', { token: owner.token });
    expect(members.body.data).toContainEqual(expect.objectContaining({ email, display_name: 'Rita Reception', role: 'receptionist' }));
    const list = await call<{ data: Invitation[] }>('GET', '/v1/invitations?status=accepted', { token: owner.token });
    expect(list.body.data.map((i) => i.id)).toContain(invited.body.id);
  });

  it('an email with an account becomes a member at once (201), and no mail is sent', async () => {
    const user = await createUser(api().db);
    const before = smtp.to(user.email).length;
    const added = await invite(user.email, 'viewer');
    expect(added).toMatchObject({ status: 201, body: { user_id: user.id, role: 'viewer' } });
    const mailer = smtp.mailer();
    await drainJobs(api().db, { overrides: { mailer } }).finally(() => mailer.close());
    expect(smtp.to(user.email)).toHaveLength(before);
  });

  it('staff list pending invitations and revoke one: its link is then 410 invitation_revoked, and a revoked one is not mailed', async () => {
    const email = `${uniq('rev-')}@example.test`;
    const invited = await invite(email, 'viewer');
    const pending = await call<{ data: Invitation[] }>('GET', '/v1/invitations', { token: owner.token });
    expect(pending.body.data.map((i) => i.id)).toContain(invited.body.id);
    expect((await call('GET', `/v1/invitations/${invited.body.id}`, { token: owner.token })).body).toMatchObject({ id: invited.body.id, status: 'pending' });
    // Mailed first (the job runs), then revoked: the link in the mail stops working.
    const { token } = await mailedToken(email);
    expect((await call('DELETE', `/v1/invitations/${invited.body.id}`, { token: owner.token })).status).toBe(204);
    expect((await call<Problem>('DELETE', `/v1/invitations/${invited.body.id}`, { token: owner.token })).body.code).toBe('not_found');
    expect((await call<Problem>('POST', '/v1/auth/accept-invite', { body: { token, password: 'a fine long password' } })).body).toMatchObject({ status: 410, code: 'invitation_revoked' });
    expect((await call<{ data: Invitation[] }>('GET', '/v1/invitations?status=revoked', { token: owner.token })).body.data.map((i) => i.id)).toContain(invited.body.id);

    const unsent = `${uniq('never-')}@example.test`;
    const second = await invite(unsent, 'viewer');
    await call('DELETE', `/v1/invitations/${second.body.id}`, { token: owner.token });
    const mailer = smtp.mailer();
    await drainJobs(api().db, { overrides: { mailer } }).finally(() => mailer.close());
    expect(smtp.to(unsent)).toEqual([]);
  });

  it('an expired link is 410 invitation_expired; an unknown token 404 invitation_not_found; a malformed one 422', async () => {
    const email = `${uniq('late-')}@example.test`;
    const invited = await invite(email, 'viewer');
    const { token } = await mailedToken(email);
    // Arrange: the invitation's week has passed.
    await api().db.query(`update slotbase.invitations set created_at = now() - interval '8 days', expires_at = now() - interval '1 day' where id = $1`, [invited.body.id]);
    expect((await call<Problem>('POST', '/v1/auth/accept-invite', { body: { token, password: 'a fine long password' } })).body).toMatchObject({ status: 410, code: 'invitation_expired' });
    expect((await call<{ data: Invitation[] }>('GET', '/v1/invitations?status=expired', { token: owner.token })).body.data.map((i) => i.id)).toContain(invited.body.id);
    const unknown = `sbinv_${'A'.repeat(43)}`;
    expect((await call<Problem>('POST', '/v1/auth/accept-invite', { body: { token: unknown, password: 'a fine long password' } })).body).toMatchObject({ status: 404, code: 'invitation_not_found' });
    expect((await call<Problem>('GET', '/v1/auth/accept-invite?token=nope')).status).toBe(422);
    expect((await call<Problem>('POST', '/v1/auth/accept-invite', { body: { token: unknown, password: 'short' } })).status).toBe(422);
  });

  it('an account created after the invitation keeps its password: accepting needs that password (401 otherwise), then adds the membership', async () => {
    const email = `${uniq('later-')}@example.test`;
    await invite(email, 'viewer');
    const { token } = await mailedToken(email);
    // They sign up a business of their own before accepting.
    const own = 'their own long password';
    expect((await call('POST', '/v1/signup', { body: { email, password: own, tenant: { slug: uniq('own-'), name: 'Own', time_zone: 'Europe/Berlin' } } })).status).toBe(201);
    expect((await call('GET', `/v1/auth/accept-invite?token=${encodeURIComponent(token)}`)).body).toMatchObject({ has_account: true });
    expect((await call<Problem>('POST', '/v1/auth/accept-invite', { body: { token, password: 'a different password' } })).body).toMatchObject({ status: 401, code: 'invalid_credentials' });
    const accepted = await call<Session>('POST', '/v1/auth/accept-invite', { body: { token, password: own } });
    expect(accepted.body).toMatchObject({ kind: 'staff', tenant: { id: owner.tenantId, role: 'viewer' } });
  });

  it('only owners and admins list or revoke invitations: a receptionist gets 403; another tenant\'s invitation is 404', async () => {
    const receptionist = await addMember(api().db, owner.tenantId, 'receptionist');
    const token = (await api().tokens.signAccess({ sub: receptionist.userId, tenant_id: owner.tenantId })).token;
    expect((await call<Problem>('GET', '/v1/invitations', { token })).body).toMatchObject({ status: 403, code: 'forbidden' });
    const invited = await invite(`${uniq('x-')}@example.test`, 'viewer');
    expect((await call<Problem>('DELETE', `/v1/invitations/${invited.body.id}`, { token })).status).toBe(403);
    const other = await call<{ access_token: string }>('POST', '/v1/signup', {
      body: { email: `${uniq('other-')}@example.test`, password: 'correct horse battery staple', tenant: { slug: uniq('other-'), name: 'Other', time_zone: 'Europe/Berlin' } },
    });
    expect((await call<Problem>('GET', `/v1/invitations/${invited.body.id}`, { token: other.body.access_token })).status).toBe(404);
    expect((await call<Problem>('DELETE', `/v1/invitations/${invited.body.id}`, { token: other.body.access_token })).status).toBe(404);
  });

  it('the invitation page is served without framing, caching or referrer, with its script', async () => {
    const page = await api().request('GET', '/invite?token=x');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(await page.text()).toContain('/invite/invite.js');
    const script = await api().request('GET', '/invite/invite.js');
    expect(script.status).toBe(200);
    expect(await script.text()).toContain('/v1/auth/accept-invite');
  });
});
