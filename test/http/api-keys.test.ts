import { describe, expect, it } from 'vitest';
import { addMember } from '../support/factories.ts';
import { useApi } from '../support/http.ts';
import { createStaffWorld, utc, type StaffWorld } from '../support/staff-world.ts';

interface ApiKey {
  id: string;
  name: string;
  key_prefix: string;
  scopes: string[];
  role: string;
  service_user_id: string;
  last_used_at: string | null;
  expires_at: string | null;
  revoked_at: string | null;
  key?: string;
}
interface Problem {
  code: string;
  errors?: { field: string }[];
}
interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

const KEY = /^sb_live_[A-Za-z0-9_-]{43}$/;

describe('API keys', () => {
  const api = useApi();
  const world = () => createStaffWorld(api());

  /** Issues a key as `token` (default: every scope, admin). */
  async function issue(token: string, body: Record<string, unknown> = {}) {
    const res = await api().json<ApiKey & Problem>('POST', '/v1/api-keys', { token, body: { name: 'Integration', scopes: ['*'], ...body } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as ApiKey & { key: string };
  }

  /** A request made with an API key, as `Authorization: Bearer` (default) or `X-API-Key`. */
  const withKey = <T = Record<string, unknown> & Problem>(key: string, method: string, path: string, body?: unknown, header: 'bearer' | 'x-api-key' = 'bearer') =>
    api().json<T>(method, path, header === 'bearer' ? { token: key, body } : { headers: { 'x-api-key': key }, body });

  /** A confirmed booking of world `w`, made by its owner. */
  async function booking(w: StaffWorld, days = 3): Promise<string> {
    const res = await api().json<{ id: string }>('POST', '/v1/bookings', {
      token: w.tokens.owner,
      body: { service_id: w.serviceId, starts_at: utc(days, '10:00'), provider_id: w.providerA, contact: { name: 'Ada', email: 'ada@example.test' } },
    });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  it('the key is shown once at creation; lists and reads show only its prefix', async () => {
    const w = await world();
    const created = await issue(w.tokens.owner, { name: 'Website', scopes: ['bookings:read', 'catalog:read'] });
    expect(created.key).toMatch(KEY);
    expect(created).toMatchObject({ name: 'Website', key_prefix: created.key.slice(0, 12), scopes: ['bookings:read', 'catalog:read'], role: 'admin', revoked_at: null });
    const list = await api().json<Page<ApiKey>>('GET', '/v1/api-keys', { token: w.tokens.owner });
    expect(list.status).toBe(200);
    expect(list.body.data.map((k) => k.id)).toEqual([created.id]);
    expect(list.body.data[0]).not.toHaveProperty('key');
    const one = await api().json<ApiKey>('GET', `/v1/api-keys/${created.id}`, { token: w.tokens.owner });
    expect(one.body).not.toHaveProperty('key');
    expect(JSON.stringify([list.body, one.body])).not.toContain(created.key.slice(12));
  });

  it('a key with bookings:read reads bookings but writing them is 403 insufficient_scope', async () => {
    const w = await world();
    const id = await booking(w);
    const { key } = await issue(w.tokens.owner, { scopes: ['bookings:read'] });
    const list = await withKey<Page<{ id: string }>>(key, 'GET', '/v1/bookings');
    expect(list.status).toBe(200);
    expect(list.body.data.map((b) => b.id)).toEqual([id]);
    expect((await withKey(key, 'GET', `/v1/bookings/${id}`, undefined, 'x-api-key')).status).toBe(200);
    const write = await withKey(key, 'POST', `/v1/bookings/${id}/cancel`, {});
    expect(write).toMatchObject({ status: 403, body: { code: 'insufficient_scope' } });
    expect((await withKey(key, 'GET', '/v1/services')).body.code).toBe('insufficient_scope');
    expect((await withKey(key, 'GET', '/v1/members')).body.code).toBe('insufficient_scope');
  });

  it('a key with bookings:write books, and its writes are its own member\'s (a viewer key is refused by RLS)', async () => {
    const w = await world();
    const { key, service_user_id } = await issue(w.tokens.owner, { scopes: ['bookings:write', 'bookings:read'] });
    const booked = await withKey<{ id: string; status: string }>(key, 'POST', '/v1/bookings', {
      service_id: w.serviceId,
      starts_at: utc(4, '11:00'),
      provider_id: w.providerA,
      contact: { name: 'Ada', email: 'ada@example.test' },
    });
    expect(booked.status).toBe(201);
    const events = await withKey<Page<{ actor_id?: string | null }> | { actor_id?: string | null }[]>(key, 'GET', `/v1/bookings/${booked.body.id}/events`);
    expect(events.status).toBe(200);
    expect(JSON.stringify(events.body)).toContain(service_user_id);
    const viewerKey = await issue(w.tokens.owner, { scopes: ['catalog:write'], role: 'viewer' });
    const refused = await withKey(viewerKey.key, 'POST', '/v1/locations', { name: 'Annex', time_zone: 'Europe/Berlin' });
    expect(refused).toMatchObject({ status: 403, body: { code: 'forbidden' } });
  });

  it('a key acts through RLS: another tenant\'s booking is 404, its own tenant\'s is visible', async () => {
    const [a, b] = await Promise.all([world(), world()]);
    const [mine, theirs] = [await booking(a), await booking(b)];
    const { key } = await issue(a.tokens.owner, { scopes: ['*'] });
    expect((await withKey(key, 'GET', `/v1/bookings/${mine}`)).status).toBe(200);
    expect(await withKey(key, 'GET', `/v1/bookings/${theirs}`)).toMatchObject({ status: 404, body: { code: 'not_found' } });
    expect(await withKey(key, 'POST', `/v1/bookings/${theirs}/cancel`, {})).toMatchObject({ status: 404 });
    expect((await withKey<Page<{ id: string }>>(key, 'GET', '/v1/bookings')).body.data.map((x) => x.id)).toEqual([mine]);
  });

  it('a revoked key is 401 at once; revoking again is 404', async () => {
    const w = await world();
    const created = await issue(w.tokens.owner);
    expect((await withKey(created.key, 'GET', '/v1/bookings')).status).toBe(200);
    expect((await api().request('DELETE', `/v1/api-keys/${created.id}`, { token: w.tokens.owner })).status).toBe(204);
    expect(await withKey(created.key, 'GET', '/v1/bookings')).toMatchObject({ status: 401, body: { code: 'invalid_api_key' } });
    expect(await withKey(created.key, 'GET', '/v1/bookings', undefined, 'x-api-key')).toMatchObject({ status: 401 });
    expect((await api().json('DELETE', `/v1/api-keys/${created.id}`, { token: w.tokens.owner })).status).toBe(404);
    const shown = await api().json<ApiKey>('GET', `/v1/api-keys/${created.id}`, { token: w.tokens.owner });
    expect(shown.body.revoked_at).not.toBeNull();
    // Revoked keys leave the list unless asked for.
    expect((await api().json<Page<ApiKey>>('GET', '/v1/api-keys', { token: w.tokens.owner })).body.data).toEqual([]);
    expect((await api().json<Page<ApiKey>>('GET', '/v1/api-keys?include_revoked=true', { token: w.tokens.owner })).body.data).toHaveLength(1);
  });

  it('an expired key is 401; an expiry in the past is refused at creation (422)', async () => {
    const w = await world();
    const created = await issue(w.tokens.owner, { expires_at: new Date(Date.now() + 3_600_000).toISOString() });
    expect((await withKey(created.key, 'GET', '/v1/bookings')).status).toBe(200);
    // Arranged as the table owner: the key was issued two hours ago and expired an hour ago.
    await api().db.query(`update slotbase.api_keys set created_at = now() - interval '2 hours', expires_at = now() - interval '1 hour' where id = $1`, [created.id]);
    expect(await withKey(created.key, 'GET', '/v1/bookings')).toMatchObject({ status: 401, body: { code: 'invalid_api_key' } });
    const past = await api().json<Problem>('POST', '/v1/api-keys', {
      token: w.tokens.owner,
      body: { name: 'Old', scopes: ['*'], expires_at: '2020-01-01T00:00:00Z' },
    });
    expect(past.status).toBe(422);
    expect(past.body.errors?.[0]?.field).toBe('expires_at');
  });

  it('an unknown or malformed key is 401 invalid_api_key', async () => {
    expect(await withKey(`sb_live_${'A'.repeat(43)}`, 'GET', '/v1/bookings')).toMatchObject({ status: 401, body: { code: 'invalid_api_key' } });
    expect(await withKey('sb_live_short', 'GET', '/v1/bookings', undefined, 'x-api-key')).toMatchObject({ status: 401, body: { code: 'invalid_api_key' } });
  });

  it('using a key sets last_used_at, moved at most once a minute', async () => {
    const w = await world();
    const created = await issue(w.tokens.owner);
    expect(created.last_used_at).toBeNull();
    await withKey(created.key, 'GET', '/v1/bookings');
    const first = (await api().json<ApiKey>('GET', `/v1/api-keys/${created.id}`, { token: w.tokens.owner })).body.last_used_at;
    expect(first).not.toBeNull();
    await withKey(created.key, 'GET', '/v1/bookings');
    expect((await api().json<ApiKey>('GET', `/v1/api-keys/${created.id}`, { token: w.tokens.owner })).body.last_used_at).toBe(first);
    // A minute later (arranged as the table owner), the next use moves it.
    await api().db.query(`update slotbase.api_keys set last_used_at = last_used_at - interval '61 seconds' where id = $1`, [created.id]);
    await withKey(created.key, 'GET', '/v1/bookings');
    const later = (await api().json<ApiKey>('GET', `/v1/api-keys/${created.id}`, { token: w.tokens.owner })).body.last_used_at;
    expect(new Date(later!).getTime()).toBeGreaterThanOrEqual(new Date(first!).getTime());
  });

  it('viewers, receptionists and branch admins cannot issue keys (403) nor see any; admins can', async () => {
    const w = await world();
    const branchAdmin = await addMember(api().db, w.tenantId, 'admin', { locationId: w.locationA });
    const branchToken = (await api().tokens.signAccess({ sub: branchAdmin.userId, tenant_id: w.tenantId })).token;
    const existing = await issue(w.tokens.owner);
    for (const token of [w.tokens.viewer, w.tokens.receptionistA, branchToken]) {
      const res = await api().json<Problem>('POST', '/v1/api-keys', { token, body: { name: 'Mine', scopes: ['*'] } });
      expect(res).toMatchObject({ status: 403, body: { code: 'forbidden' } });
      expect((await api().json<Page<ApiKey>>('GET', '/v1/api-keys', { token })).body.data).toEqual([]);
      expect((await api().json('DELETE', `/v1/api-keys/${existing.id}`, { token })).status).toBe(403);
    }
    expect((await issue(w.tokens.admin, { role: 'receptionist' })).role).toBe('receptionist');
  });

  it('a key can never manage keys, nor act as an owner', async () => {
    const w = await world();
    const { key, service_user_id } = await issue(w.tokens.owner, { scopes: ['*'] });
    expect(await withKey(key, 'GET', '/v1/api-keys')).toMatchObject({ status: 403, body: { code: 'insufficient_scope' } });
    expect(await withKey(key, 'POST', '/v1/api-keys', { name: 'Child', scopes: ['*'] })).toMatchObject({ status: 403, body: { code: 'insufficient_scope' } });
    expect((await api().json('POST', '/v1/api-keys', { token: w.tokens.owner, body: { name: 'Boss', scopes: ['*'], role: 'owner' } })).status).toBe(422);
    // Not even an owner can promote a key's membership to owner.
    const members = await api().json<Page<{ id: string; user_id: string }>>('GET', '/v1/members?limit=200', { token: w.tokens.owner });
    const membership = members.body.data.find((m) => m.user_id === service_user_id)!;
    expect((await api().json('PATCH', `/v1/members/${membership.id}`, { token: w.tokens.owner, body: { role: 'owner' } })).status).toBe(403);
  });

  it('bad input is 422: no scopes, an unknown scope, an unknown field', async () => {
    const w = await world();
    for (const body of [{ name: 'x', scopes: [] }, { name: 'x', scopes: ['bookings:delete'] }, { name: 'x', scopes: ['*'], tenant_id: w.tenantId }, { scopes: ['*'] }]) {
      expect((await api().json<Problem>('POST', '/v1/api-keys', { token: w.tokens.owner, body })).status, JSON.stringify(body)).toBe(422);
    }
  });

  it('the keys of tenant A are invisible to tenant B (404) and cannot be revoked by it', async () => {
    const [a, b] = await Promise.all([world(), world()]);
    const mine = await issue(a.tokens.owner);
    expect((await api().json<Problem>('GET', `/v1/api-keys/${mine.id}`, { token: b.tokens.owner })).body.code).toBe('not_found');
    expect((await api().json('DELETE', `/v1/api-keys/${mine.id}`, { token: b.tokens.owner })).status).toBe(404);
    expect((await api().json<Page<ApiKey>>('GET', '/v1/api-keys', { token: b.tokens.owner })).body.data).toEqual([]);
    expect((await withKey(mine.key, 'GET', '/v1/bookings')).status).toBe(200);
  });

  it('without a token the key routes are 401', async () => {
    expect((await api().json<Problem>('GET', '/v1/api-keys')).body.code).toBe('unauthenticated');
    expect((await api().json<Problem>('POST', '/v1/api-keys', { body: { name: 'x', scopes: ['*'] } })).body.code).toBe('unauthenticated');
  });
});
