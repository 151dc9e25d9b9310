import { beforeAll, describe, expect, it } from 'vitest';
import { addMember, createLocation, createUser, uniq, type Role } from '../support/factories.ts';
import { useApi } from '../support/http.ts';

interface Problem {
  code: string;
  errors?: { field: string }[];
}
interface Member {
  id: string;
  user_id: string;
  email: string | null;
  role: string;
  location_id: string | null;
  deleted_at: string | null;
}
interface Page {
  data: Member[];
  next_cursor: string | null;
}
interface Owner {
  token: string;
  tenantId: string;
  userId: string;
}

const UNKNOWN = '00000000-0000-4000-8000-000000000000';

describe('members API', () => {
  const api = useApi();
  let a: Owner;
  let b: Owner;

  async function signup(): Promise<Owner> {
    const res = await api().json<{ access_token: string; tenant: { id: string }; user: { id: string } }>('POST', '/v1/signup', {
      body: {
        email: `${uniq('owner-')}@example.test`,
        password: 'correct horse battery staple',
        tenant: { slug: uniq('clinic-'), name: 'Clinic', time_zone: 'Europe/Berlin' },
      },
    });
    expect(res.status).toBe(201);
    return { token: res.body.access_token, tenantId: res.body.tenant.id, userId: res.body.user.id };
  }

  /** A member arranged directly, with their access token. */
  async function member(tenantId: string, role: Role, locationId?: string) {
    const m = await addMember(api().db, tenantId, role, locationId ? { locationId } : {});
    return { ...m, token: (await api().tokens.signAccess({ sub: m.userId, tenant_id: tenantId })).token };
  }

  const call = <T = Member>(method: string, path: string, token: string | undefined, body?: unknown) =>
    api().json<T>(method, path, { ...(token ? { token } : {}), ...(body !== undefined ? { body } : {}) });

  const listIds = async (token: string, query = '') =>
    (await call<Page>('GET', `/v1/members?limit=200${query}`, token)).body.data.map((m) => m.id);

  beforeAll(async () => {
    [a, b] = await Promise.all([signup(), signup()]);
  });

  it('an owner adds a person with an account by email: they are a member at once and listed', async () => {
    const { email } = await createUser(api().db);
    const added = await call('POST', '/v1/members', a.token, { email, role: 'receptionist' });
    expect(added).toMatchObject({ status: 201, body: { email, role: 'receptionist', location_id: null, deleted_at: null } });
    expect(await listIds(a.token)).toContain(added.body.id);
    expect((await call('GET', `/v1/members/${added.body.id}`, a.token)).body).toEqual(added.body);
  });

  it('an email without an account is invited (202), creates no account, and is not listed as a member', async () => {
    const email = `${uniq('new-')}@example.test`;
    const invited = await call<{ id: string; email: string; status: string }>('POST', '/v1/members', a.token, { email, role: 'receptionist' });
    expect(invited).toMatchObject({ status: 202, body: { email, status: 'pending' } });
    expect(await listIds(a.token)).not.toContain(invited.body.id);
    expect((await call<Problem>('POST', '/v1/auth/login', undefined, { email, password: 'anything at all' })).body.code).toBe('invalid_credentials');
  });

  it('adding an existing user by email, in any case, reuses their account', async () => {
    const user = await createUser(api().db);
    const added = await call('POST', '/v1/members', a.token, { email: user.email.toUpperCase(), role: 'viewer' });
    expect(added).toMatchObject({ status: 201, body: { user_id: user.id, email: user.email } });
  });

  it('adding someone who already is a member is 409 already_exists', async () => {
    const { email } = await createUser(api().db);
    expect((await call('POST', '/v1/members', a.token, { email, role: 'viewer' })).status).toBe(201);
    expect((await call<Problem>('POST', '/v1/members', a.token, { email, role: 'admin' })).body.code).toBe('already_exists');
  });

  it('only owners add owners; an admin adding an owner and a viewer adding anyone are 403', async () => {
    const admin = await member(a.tenantId, 'admin');
    const viewer = await member(a.tenantId, 'viewer');
    const email = `${uniq('boss-')}@example.test`;
    expect((await call<Problem>('POST', '/v1/members', admin.token, { email, role: 'owner' })).body.code).toBe('forbidden');
    expect((await call<Problem>('POST', '/v1/members', viewer.token, { email, role: 'viewer' })).status).toBe(403);
    expect((await call('POST', '/v1/members', admin.token, { email, role: 'receptionist' })).status).toBe(202);
    expect((await call('POST', '/v1/members', a.token, { email: (await createUser(api().db)).email, role: 'owner' })).status).toBe(201);
  });

  it('a location-scoped admin adds members only into their own location', async () => {
    const db = api().db;
    const [north, south] = [await createLocation(db, a.tenantId), await createLocation(db, a.tenantId)];
    const admin = await member(a.tenantId, 'admin', north.id);
    const add = (location_id: string | null) =>
      call<Problem>('POST', '/v1/members', admin.token, { email: `${uniq('r-')}@example.test`, role: 'receptionist', location_id });
    expect((await add(north.id)).status).toBe(202);
    expect((await add(south.id)).status).toBe(403);
    expect((await add(null)).status).toBe(403);
  });

  it('bad input is 422: an invalid email, an unknown role, unknown fields, an owner scoped to a location, an unknown location', async () => {
    const location = await createLocation(api().db, a.tenantId);
    const post = (body: unknown) => call<Problem>('POST', '/v1/members', a.token, body);
    expect((await post({ email: 'nope', role: 'viewer' })).status).toBe(422);
    expect((await post({ email: `${uniq('x-')}@example.test`, role: 'janitor' })).status).toBe(422);
    expect((await post({ email: `${uniq('x-')}@example.test`, role: 'viewer', user_id: UNKNOWN })).status).toBe(422);
    expect((await post({ email: `${uniq('x-')}@example.test`, role: 'owner', location_id: location.id })).body.code).toBe('validation_failed');
    expect((await post({ email: `${uniq('x-')}@example.test`, role: 'viewer', location_id: UNKNOWN })).body.code).toBe('invalid_reference');
  });

  it('without a token members routes are 401 unauthenticated', async () => {
    for (const [method, path, body] of [
      ['GET', '/v1/members'],
      ['POST', '/v1/members', { email: 'x@example.test', role: 'viewer' }],
      ['PATCH', `/v1/members/${UNKNOWN}`, { role: 'viewer' }],
      ['DELETE', `/v1/members/${UNKNOWN}`],
    ] as const) {
      expect((await call<Problem>(method, path, undefined, body)).body.code, `${method} ${path}`).toBe('unauthenticated');
    }
  });

  it('another tenant\'s members and unknown ids are 404', async () => {
    const theirs = await member(b.tenantId, 'viewer');
    for (const [method, path, body] of [
      ['GET', `/v1/members/${theirs.membershipId}`],
      ['PATCH', `/v1/members/${theirs.membershipId}`, { role: 'admin' }],
      ['DELETE', `/v1/members/${theirs.membershipId}`],
      ['GET', `/v1/members/${UNKNOWN}`],
    ] as const) {
      expect(await call<Problem>(method, path, a.token, body), `${method} ${path}`).toMatchObject({ status: 404, body: { code: 'not_found' } });
    }
    expect((await call('GET', `/v1/members/${theirs.membershipId}`, b.token)).body).toMatchObject({ role: 'viewer', deleted_at: null });
  });

  it('an owner changes a member\'s role and location; an admin cannot touch an owner (403)', async () => {
    const location = await createLocation(api().db, a.tenantId);
    const colleague = await member(a.tenantId, 'viewer');
    const changed = await call('PATCH', `/v1/members/${colleague.membershipId}`, a.token, { role: 'receptionist', location_id: location.id });
    expect(changed).toMatchObject({ status: 200, body: { role: 'receptionist', location_id: location.id } });
    const admin = await member(a.tenantId, 'admin');
    expect((await call<Problem>('PATCH', `/v1/members/${await ownerMembership(a)}`, admin.token, { role: 'viewer' })).status).toBe(403);
    expect((await call<Problem>('PATCH', `/v1/members/${colleague.membershipId}`, admin.token, { role: 'owner' })).status).toBe(403);
    expect((await call<Problem>('PATCH', `/v1/members/${colleague.membershipId}`, a.token, { role: 'superuser' })).status).toBe(422);
    expect((await call<Problem>('PATCH', `/v1/members/${colleague.membershipId}`, a.token, {})).status).toBe(422);
  });

  /** The owner's own membership id, as the owner sees it. */
  async function ownerMembership(owner: Owner): Promise<string> {
    const page = await call<Page>('GET', '/v1/members?limit=200', owner.token);
    return page.body.data.find((m) => m.user_id === owner.userId)!.id;
  }

  it('the last owner can be neither demoted nor removed (409 last_owner); with a second owner both work', async () => {
    const owner = await signup();
    const mine = await ownerMembership(owner);
    expect((await call<Problem>('PATCH', `/v1/members/${mine}`, owner.token, { role: 'admin' })).body.code).toBe('last_owner');
    expect((await call<Problem>('DELETE', `/v1/members/${mine}`, owner.token)).body).toMatchObject({ code: 'last_owner' });
    const second = await call('POST', '/v1/members', owner.token, { email: (await createUser(api().db)).email, role: 'owner' });
    expect((await api().request('DELETE', `/v1/members/${second.body.id}`, { token: owner.token })).status).toBe(204);
    expect((await call<Problem>('DELETE', `/v1/members/${second.body.id}`, owner.token)).status).toBe(404);
    expect(await listIds(owner.token)).toEqual([mine]);
    expect(await listIds(owner.token, '&include_deleted=true')).toEqual([mine, second.body.id]);
    // Removed, the same person can be added again.
    expect((await call('POST', '/v1/members', owner.token, { email: second.body.email, role: 'viewer' })).status).toBe(201);
  });

  it('a receptionist sees tenant-wide colleagues and those of their location, not other branches\'', async () => {
    const owner = await signup();
    const db = api().db;
    const [north, south] = [await createLocation(db, owner.tenantId), await createLocation(db, owner.tenantId)];
    const me = await member(owner.tenantId, 'receptionist', north.id);
    const northColleague = await member(owner.tenantId, 'provider', north.id);
    const southColleague = await member(owner.tenantId, 'provider', south.id);
    const wide = await member(owner.tenantId, 'viewer');
    const seen = await listIds(me.token);
    expect(seen.sort()).toEqual([await ownerMembership(owner), me.membershipId, northColleague.membershipId, wide.membershipId].sort());
    expect(seen).not.toContain(southColleague.membershipId);
    expect((await call<Problem>('GET', `/v1/members/${southColleague.membershipId}`, me.token)).status).toBe(404);
    expect((await call<Problem>('PATCH', `/v1/members/${northColleague.membershipId}`, me.token, { role: 'viewer' })).status).toBe(403);
  });

  it('pagination walks every member exactly once', async () => {
    const owner = await signup();
    for (let i = 0; i < 4; i++) await call('POST', '/v1/members', owner.token, { email: (await createUser(api().db)).email, role: 'viewer' });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: Page } = await call<Page>('GET', `/v1/members?limit=2${cursor ? `&cursor=${cursor}` : ''}`, owner.token);
      seen.push(...res.body.data.map((m) => m.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
    expect(seen).toEqual(await listIds(owner.token));
  });
});
