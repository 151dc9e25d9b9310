import { beforeAll, describe, expect, it } from 'vitest';
import { addMember, addRule, createLocation, createProvider, createResource, uniq, type Role } from '../support/factories.ts';
import { useApi } from '../support/http.ts';

interface Problem {
  code: string;
  errors?: { field: string }[];
}
interface Row {
  id: string;
  [key: string]: unknown;
}
interface Page {
  data: Row[];
  next_cursor: string | null;
}
interface Owner {
  token: string;
  tenantId: string;
}

const UNKNOWN = '00000000-0000-4000-8000-000000000000';

describe('staff catalog API', () => {
  const api = useApi();
  let a: Owner;
  let b: Owner;

  /** A new business via POST /v1/signup: its owner's token. */
  async function signup(): Promise<Owner> {
    const res = await api().json<{ access_token: string; tenant: { id: string } }>('POST', '/v1/signup', {
      body: {
        email: `${uniq('owner-')}@example.test`,
        password: 'correct horse battery staple',
        tenant: { slug: uniq('clinic-'), name: 'Clinic', time_zone: 'Europe/Berlin' },
      },
    });
    expect(res.status).toBe(201);
    return { token: res.body.access_token, tenantId: res.body.tenant.id };
  }

  /** A member of the tenant with this role (arranged directly), and their access token. */
  async function tokenFor(tenantId: string, role: Role, locationId?: string): Promise<string> {
    const m = await addMember(api().db, tenantId, role, locationId ? { locationId } : {});
    return (await api().tokens.signAccess({ sub: m.userId, tenant_id: tenantId })).token;
  }

  const call = <T = Row>(method: string, path: string, token: string | undefined, body?: unknown) =>
    api().json<T>(method, path, { ...(token ? { token } : {}), ...(body !== undefined ? { body } : {}) });

  const newLocation = async (owner: Owner, over: Record<string, unknown> = {}) => {
    const res = await call('POST', '/v1/locations', owner.token, { name: uniq('Branch '), time_zone: 'Europe/Berlin', ...over });
    expect(res.status).toBe(201);
    return res.body;
  };
  const newProvider = async (owner: Owner, over: Record<string, unknown> = {}) => {
    const res = await call('POST', '/v1/providers', owner.token, { name: uniq('Dr. '), ...over });
    expect(res.status).toBe(201);
    return res.body;
  };
  const newService = async (owner: Owner, over: Record<string, unknown> = {}) => {
    const res = await call('POST', '/v1/services', owner.token, { slug: uniq('svc-'), name: 'Check-up', duration_minutes: 30, ...over });
    expect(res.status).toBe(201);
    return res.body;
  };

  beforeAll(async () => {
    [a, b] = await Promise.all([signup(), signup()]);
  });

  describe('locations', () => {
    it('an owner creates, reads, changes and soft-deletes a location; lists hide it unless include_deleted=true', async () => {
      const created = await call('POST', '/v1/locations', a.token, { name: 'Downtown', time_zone: 'America/New_York', phone: '+1 212 555 0100' });
      expect(created).toMatchObject({ status: 201, body: { name: 'Downtown', time_zone: 'America/New_York', address: null, deleted_at: null } });
      expect(created.body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const id = created.body.id;
      expect((await call('GET', `/v1/locations/${id}`, a.token)).body).toEqual(created.body);
      const patched = await call('PATCH', `/v1/locations/${id}`, a.token, { address: '1 Main St' });
      expect(patched).toMatchObject({ status: 200, body: { id, name: 'Downtown', address: '1 Main St' } });
      expect((await api().request('DELETE', `/v1/locations/${id}`, { token: a.token })).status).toBe(204);
      expect((await call<Page>('GET', '/v1/locations?limit=200', a.token)).body.data.map((l) => l.id)).not.toContain(id);
      const all = await call<Page>('GET', '/v1/locations?limit=200&include_deleted=true', a.token);
      expect(all.body.data.find((l) => l.id === id)?.deleted_at).toEqual(expect.any(String));
      expect((await call('GET', `/v1/locations/${id}`, a.token)).body.deleted_at).toEqual(expect.any(String));
    });

    it('a deleted location cannot be changed or deleted again (404)', async () => {
      const { id } = await newLocation(a);
      await call('DELETE', `/v1/locations/${id}`, a.token);
      expect((await call<Problem>('PATCH', `/v1/locations/${id}`, a.token, { name: 'Again' })).body.code).toBe('not_found');
      expect((await call<Problem>('DELETE', `/v1/locations/${id}`, a.token)).status).toBe(404);
    });

    it('rejects an invalid time zone, unknown fields, an empty patch and a malformed id with 422', async () => {
      const badZone = await call<Problem>('POST', '/v1/locations', a.token, { name: 'X', time_zone: 'Mars/Olympus_Mons' });
      expect(badZone).toMatchObject({ status: 422, body: { code: 'validation_failed', errors: [{ field: 'time_zone' }] } });
      const unknownField = await call<Problem>('POST', '/v1/locations', a.token, { name: 'X', time_zone: 'UTC', tenant_id: b.tenantId });
      expect(unknownField).toMatchObject({ status: 422, body: { code: 'validation_failed' } });
      const { id } = await newLocation(a);
      expect((await call<Problem>('PATCH', `/v1/locations/${id}`, a.token, {})).status).toBe(422);
      expect((await call<Problem>('PATCH', `/v1/locations/${id}`, a.token, { time_zone: 'Nowhere/Land' })).body.code).toBe('validation_failed');
      expect((await call<Problem>('GET', '/v1/locations/not-a-uuid', a.token)).status).toBe(422);
    });
  });

  it('every staff route answers 401 unauthenticated without a token, even for an invalid body', async () => {
    for (const [method, path, body] of [
      ['GET', '/v1/tenant'],
      ['GET', '/v1/locations'],
      ['POST', '/v1/locations', { nonsense: true }],
      ['GET', `/v1/providers/${UNKNOWN}`],
      ['PATCH', `/v1/resources/${UNKNOWN}`, {}],
      ['DELETE', `/v1/services/${UNKNOWN}`],
      ['POST', `/v1/services/${UNKNOWN}/providers/${UNKNOWN}`],
      ['GET', `/v1/providers/${UNKNOWN}/availability-rules`],
      ['GET', '/v1/date-overrides'],
      ['POST', '/v1/time-off', {}],
    ] as const) {
      const res = await call<Problem>(method, path, undefined, body);
      expect(res, `${method} ${path}`).toMatchObject({ status: 401, body: { code: 'unauthenticated' } });
    }
  });

  it('a token without a tenant is 401 unauthenticated', async () => {
    const { token } = await api().tokens.signAccess({ sub: UNKNOWN });
    expect((await call<Problem>('GET', '/v1/locations', token)).body.code).toBe('unauthenticated');
  });

  it('a viewer reads the catalog, but every write is 403 forbidden and changes nothing', async () => {
    const viewer = await tokenFor(a.tenantId, 'viewer');
    const location = await newLocation(a);
    const provider = await newProvider(a);
    const service = await newService(a);
    expect((await call('GET', `/v1/locations/${location.id}`, viewer)).status).toBe(200);
    expect((await call<Problem>('POST', '/v1/locations', viewer, { name: 'Mine', time_zone: 'UTC' })).body.code).toBe('forbidden');
    expect((await call<Problem>('PATCH', `/v1/locations/${location.id}`, viewer, { name: 'Renamed' })).status).toBe(403);
    expect((await call<Problem>('DELETE', `/v1/providers/${provider.id}`, viewer)).status).toBe(403);
    expect((await call<Problem>('POST', '/v1/services', viewer, { slug: uniq('s-'), name: 'S', duration_minutes: 10 })).status).toBe(403);
    expect((await call<Problem>('POST', `/v1/services/${service.id}/providers/${provider.id}`, viewer)).status).toBe(403);
    expect((await call<Problem>('POST', `/v1/providers/${provider.id}/availability-rules`, viewer, {
      location_id: location.id, weekday: 1, start_time: '09:00', end_time: '12:00',
    })).status).toBe(403);
    expect((await call('GET', `/v1/locations/${location.id}`, a.token)).body).toMatchObject({ name: location.name, deleted_at: null });
    expect((await call('GET', `/v1/providers/${provider.id}`, a.token)).body.deleted_at).toBeNull();
  });

  it('another tenant\'s ids and unknown ids are 404 not_found, for reads and writes', async () => {
    const theirs = {
      location: await newLocation(b),
      provider: await newProvider(b),
      service: await newService(b),
    };
    for (const [method, path, body] of [
      ['GET', `/v1/locations/${theirs.location.id}`],
      ['PATCH', `/v1/locations/${theirs.location.id}`, { name: 'Hijacked' }],
      ['DELETE', `/v1/locations/${theirs.location.id}`],
      ['GET', `/v1/providers/${theirs.provider.id}`],
      ['PATCH', `/v1/providers/${theirs.provider.id}`, { name: 'Hijacked' }],
      ['GET', `/v1/providers/${theirs.provider.id}/availability-rules`],
      ['GET', `/v1/services/${theirs.service.id}`],
      ['DELETE', `/v1/services/${theirs.service.id}`],
      ['GET', `/v1/locations/${UNKNOWN}`],
      ['GET', `/v1/resources/${UNKNOWN}`],
      ['PATCH', `/v1/services/${UNKNOWN}`, { name: 'Nope' }],
      ['DELETE', `/v1/availability-rules/${UNKNOWN}`],
      ['DELETE', `/v1/date-overrides/${UNKNOWN}`],
      ['DELETE', `/v1/time-off/${UNKNOWN}`],
    ] as const) {
      const res = await call<Problem>(method, path, a.token, body);
      expect(res, `${method} ${path}`).toMatchObject({ status: 404, body: { code: 'not_found' } });
    }
    // Nothing of B's changed.
    expect((await call('GET', `/v1/locations/${theirs.location.id}`, b.token)).body).toMatchObject({ name: theirs.location.name, deleted_at: null });
    expect((await call('GET', `/v1/services/${theirs.service.id}`, b.token)).body.deleted_at).toBeNull();
  });

  it('pagination walks every page exactly once, oldest first, and refuses a forged cursor', async () => {
    const owner = await signup();
    const created: string[] = [];
    for (let i = 0; i < 7; i++) created.push((await newLocation(owner)).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: Page } = await call<Page>('GET', `/v1/locations?limit=3${cursor ? `&cursor=${cursor}` : ''}`, owner.token);
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(3);
      seen.push(...res.body.data.map((l) => l.id));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(created);
    expect((await call<Problem>('GET', '/v1/locations?cursor=bm90LWFuLWlk', owner.token)).status).toBe(422);
    expect((await call<Problem>('GET', `/v1/locations?cursor=${Buffer.from(UNKNOWN).toString('base64url')}`, owner.token)).status).toBe(422);
    expect((await call<Problem>('GET', '/v1/locations?limit=0', owner.token)).status).toBe(422);
    expect((await call<Problem>('GET', '/v1/locations?limit=201', owner.token)).status).toBe(422);
  });

  describe('providers and resources', () => {
    it('an owner manages a provider; a bad email is 422', async () => {
      const location = await newLocation(a);
      const provider = await newProvider(a, { email: 'dr.ada@clinic.example', location_id: location.id });
      expect(provider).toMatchObject({ email: 'dr.ada@clinic.example', location_id: location.id, user_id: null, phone: null });
      const moved = await call('PATCH', `/v1/providers/${provider.id}`, a.token, { location_id: null, phone: '+49 30 1234' });
      expect(moved).toMatchObject({ status: 200, body: { location_id: null, phone: '+49 30 1234' } });
      expect((await call<Problem>('POST', '/v1/providers', a.token, { name: 'X', email: 'not-an-email' })).status).toBe(422);
      expect((await api().request('DELETE', `/v1/providers/${provider.id}`, { token: a.token })).status).toBe(204);
      expect((await call<Page>('GET', '/v1/providers?limit=200', a.token)).body.data.map((p) => p.id)).not.toContain(provider.id);
    });

    it('a provider pointing at another tenant\'s location is 422 invalid_reference', async () => {
      const theirs = await newLocation(b);
      const res = await call<Problem>('POST', '/v1/providers', a.token, { name: 'X', location_id: theirs.id });
      expect(res).toMatchObject({ status: 422, body: { code: 'invalid_reference' } });
    });

    it('an owner manages a resource; an unknown kind is 422', async () => {
      const location = await newLocation(a);
      const room = await call('POST', '/v1/resources', a.token, { location_id: location.id, name: 'Room 1' });
      expect(room).toMatchObject({ status: 201, body: { kind: 'room', location_id: location.id } });
      expect((await call('PATCH', `/v1/resources/${room.body.id}`, a.token, { kind: 'equipment' })).body.kind).toBe('equipment');
      expect((await call<Problem>('POST', '/v1/resources', a.token, { location_id: location.id, name: 'X', kind: 'spaceship' })).status).toBe(422);
      expect((await api().request('DELETE', `/v1/resources/${room.body.id}`, { token: a.token })).status).toBe(204);
      expect((await call<Problem>('DELETE', `/v1/resources/${room.body.id}`, a.token)).status).toBe(404);
    });
  });

  describe('services', () => {
    it('an owner creates a service with SQL defaults, changes it and soft-deletes it', async () => {
      const service = await newService(a, { description: 'Yearly', price_cents: 5000, currency: 'EUR' });
      expect(service).toMatchObject({
        kind: 'appointment',
        duration_minutes: 30,
        buffer_before_minutes: 0,
        slot_interval_minutes: null,
        max_advance_days: 90,
        is_public: true,
        price_cents: 5000,
        currency: 'EUR',
        provider_ids: [],
        resource_ids: [],
      });
      const hidden = await call('PATCH', `/v1/services/${service.id}`, a.token, { is_public: false, buffer_after_minutes: 10 });
      expect(hidden).toMatchObject({ status: 200, body: { is_public: false, buffer_after_minutes: 10, price_cents: 5000 } });
      expect((await api().request('DELETE', `/v1/services/${service.id}`, { token: a.token })).status).toBe(204);
    });

    it('a slug taken by a live service is 409 already_exists; deleting the service frees it', async () => {
      const first = await newService(a);
      const again = await call<Problem>('POST', '/v1/services', a.token, { slug: first.slug, name: 'Copy', duration_minutes: 15 });
      expect(again).toMatchObject({ status: 409, body: { code: 'already_exists', errors: [{ field: 'slug' }] } });
      const other = await newService(a);
      expect((await call<Problem>('PATCH', `/v1/services/${other.id}`, a.token, { slug: first.slug })).status).toBe(409);
      await call('DELETE', `/v1/services/${first.id}`, a.token);
      expect((await call('POST', '/v1/services', a.token, { slug: first.slug, name: 'Reborn', duration_minutes: 15 })).status).toBe(201);
      // Slugs are per tenant.
      expect((await call('POST', '/v1/services', b.token, { slug: first.slug, name: 'Theirs', duration_minutes: 15 })).status).toBe(201);
    });

    it('breaking a service rule is 422: zero duration, a price without currency, a bad slug', async () => {
      expect((await call<Problem>('POST', '/v1/services', a.token, { slug: uniq('s-'), name: 'S', duration_minutes: 0 })).body)
        .toMatchObject({ code: 'validation_failed', errors: [{ field: 'duration_minutes' }] });
      expect((await call<Problem>('POST', '/v1/services', a.token, { slug: uniq('s-'), name: 'S', duration_minutes: 10, price_cents: 100 })).status).toBe(422);
      expect((await call<Problem>('POST', '/v1/services', a.token, { slug: 'Not A Slug', name: 'S', duration_minutes: 10 })).status).toBe(422);
      expect((await call<Problem>('POST', '/v1/services', a.token, { slug: uniq('s-'), name: 'S' })).status).toBe(422);
    });

    it('links and unlinks providers and resources; linking twice is harmless; unknown or foreign ids are 404', async () => {
      const service = await newService(a);
      const provider = await newProvider(a);
      const location = await newLocation(a);
      const room = (await call('POST', '/v1/resources', a.token, { location_id: location.id, name: 'Room' })).body;
      const link = (kind: string, id: string, method = 'POST') => api().request(method, `/v1/services/${service.id}/${kind}/${id}`, { token: a.token });
      expect((await link('providers', provider.id)).status).toBe(204);
      expect((await link('providers', provider.id)).status).toBe(204);
      expect((await link('resources', room.id)).status).toBe(204);
      expect((await call('GET', `/v1/services/${service.id}`, a.token)).body).toMatchObject({ provider_ids: [provider.id], resource_ids: [room.id] });
      expect((await link('providers', provider.id, 'DELETE')).status).toBe(204);
      expect((await link('providers', provider.id, 'DELETE')).status).toBe(404);
      expect((await link('resources', room.id, 'DELETE')).status).toBe(204);
      expect((await call('GET', `/v1/services/${service.id}`, a.token)).body).toMatchObject({ provider_ids: [], resource_ids: [] });
      const theirProvider = await newProvider(b);
      expect((await link('providers', theirProvider.id)).status).toBe(404);
      expect((await link('resources', UNKNOWN)).status).toBe(404);
      const theirService = await newService(b);
      const res = await call<Problem>('POST', `/v1/services/${theirService.id}/providers/${provider.id}`, a.token);
      expect(res).toMatchObject({ status: 404, body: { code: 'not_found' } });
    });
  });

  describe('hours, overrides and time off', () => {
    it('weekly rules: create, list per provider, change and delete; times are HH:MM and 24:00 ends a day', async () => {
      const location = await newLocation(a);
      const provider = await newProvider(a);
      const rules = `/v1/providers/${provider.id}/availability-rules`;
      const monday = await call('POST', rules, a.token, { location_id: location.id, weekday: 1, start_time: '09:00', end_time: '17:30' });
      expect(monday).toMatchObject({ status: 201, body: { provider_id: provider.id, weekday: 1, start_time: '09:00', end_time: '17:30', valid_from: null } });
      const lateShift = await call('POST', rules, a.token, {
        location_id: location.id, weekday: 5, start_time: '18:00', end_time: '24:00', valid_from: '2027-01-01', valid_until: '2027-06-30',
      });
      expect(lateShift.body).toMatchObject({ end_time: '24:00', valid_from: '2027-01-01', valid_until: '2027-06-30' });
      expect((await call<Page>('GET', rules, a.token)).body.data.map((r) => r.id)).toEqual([monday.body.id, lateShift.body.id]);
      const changed = await call('PATCH', `/v1/availability-rules/${monday.body.id}`, a.token, { start_time: '08:00' });
      expect(changed).toMatchObject({ status: 200, body: { start_time: '08:00', end_time: '17:30' } });
      expect((await api().request('DELETE', `/v1/availability-rules/${monday.body.id}`, { token: a.token })).status).toBe(204);
      expect((await call<Problem>('DELETE', `/v1/availability-rules/${monday.body.id}`, a.token)).status).toBe(404);
      expect((await call<Page>('GET', rules, a.token)).body.data.map((r) => r.id)).toEqual([lateShift.body.id]);
    });

    it('weekly rules that end before they start, or have a bad weekday or time, are 422', async () => {
      const location = await newLocation(a);
      const provider = await newProvider(a);
      const rules = `/v1/providers/${provider.id}/availability-rules`;
      const base = { location_id: location.id, weekday: 2, start_time: '12:00', end_time: '10:00' };
      expect((await call<Problem>('POST', rules, a.token, base)).body).toMatchObject({ code: 'validation_failed', errors: [{ field: 'time_range' }] });
      expect((await call<Problem>('POST', rules, a.token, { ...base, end_time: '13:00', weekday: 8 })).status).toBe(422);
      expect((await call<Problem>('POST', rules, a.token, { ...base, end_time: '25:00' })).status).toBe(422);
      expect((await call<Problem>('POST', rules, a.token, { ...base, end_time: '13:00', valid_from: '2027-02-01', valid_until: '2027-01-01' })).status).toBe(422);
      const ok = await call('POST', rules, a.token, { ...base, end_time: '13:00' });
      expect((await call<Problem>('PATCH', `/v1/availability-rules/${ok.body.id}`, a.token, { end_time: '11:00' })).status).toBe(422);
      expect((await call<Problem>('POST', `/v1/providers/${UNKNOWN}/availability-rules`, a.token, { ...base, end_time: '13:00' })).status).toBe(404);
    });

    it('date overrides: a closed day and special hours, filtered by provider; both subjects at once is 422', async () => {
      const location = await newLocation(a);
      const provider = await newProvider(a);
      const other = await newProvider(a);
      const closed = await call('POST', '/v1/date-overrides', a.token, { provider_id: provider.id, location_id: location.id, date: '2027-12-24' });
      expect(closed).toMatchObject({ status: 201, body: { date: '2027-12-24', start_time: null, end_time: null, resource_id: null } });
      const short = await call('POST', '/v1/date-overrides', a.token, {
        provider_id: provider.id, location_id: location.id, date: '2027-12-31', start_time: '10:00', end_time: '14:00',
      });
      expect(short.body).toMatchObject({ start_time: '10:00', end_time: '14:00' });
      await call('POST', '/v1/date-overrides', a.token, { provider_id: other.id, location_id: location.id, date: '2027-12-24' });
      const mine = await call<Page>('GET', `/v1/date-overrides?provider=${provider.id}`, a.token);
      expect(mine.body.data.map((o) => o.id)).toEqual([closed.body.id, short.body.id]);
      const newYear = await call<Page>('GET', `/v1/date-overrides?provider=${provider.id}&from=2027-12-25&to=2027-12-31`, a.token);
      expect(newYear.body.data.map((o) => o.id)).toEqual([short.body.id]);
      const room = await createResource(api().db, a.tenantId, location.id);
      const both = await call<Problem>('POST', '/v1/date-overrides', a.token, { provider_id: provider.id, resource_id: room.id, location_id: location.id, date: '2027-12-24' });
      expect(both).toMatchObject({ status: 422, body: { code: 'validation_failed' } });
      const halfOpen = await call<Problem>('POST', '/v1/date-overrides', a.token, { provider_id: provider.id, location_id: location.id, date: '2027-12-24', start_time: '10:00' });
      expect(halfOpen.status).toBe(422);
      expect((await api().request('DELETE', `/v1/date-overrides/${closed.body.id}`, { token: a.token })).status).toBe(204);
      expect((await call<Page>('GET', `/v1/date-overrides?provider=${provider.id}`, a.token)).body.data.map((o) => o.id)).toEqual([short.body.id]);
    });

    it('time off: create, list overlapping a window per provider, delete; ending before it starts is 422', async () => {
      const provider = await newProvider(a);
      const summer = await call('POST', '/v1/time-off', a.token, {
        provider_id: provider.id, starts_at: '2027-07-01T00:00:00+02:00', ends_at: '2027-07-15T00:00:00+02:00', reason: 'Holiday',
      });
      expect(summer).toMatchObject({ status: 201, body: { starts_at: '2027-06-30T22:00:00.000Z', ends_at: '2027-07-14T22:00:00.000Z', reason: 'Holiday' } });
      const winter = await call('POST', '/v1/time-off', a.token, { provider_id: provider.id, starts_at: '2027-12-20T00:00:00Z', ends_at: '2027-12-27T00:00:00Z' });
      const july = await call<Page>('GET', `/v1/time-off?provider=${provider.id}&from=2027-07-10T00:00:00Z&to=2027-08-01T00:00:00Z`, a.token);
      expect(july.body.data.map((t) => t.id)).toEqual([summer.body.id]);
      expect((await call<Page>('GET', `/v1/time-off?provider=${provider.id}`, a.token)).body.data).toHaveLength(2);
      const backwards = await call<Problem>('POST', '/v1/time-off', a.token, { provider_id: provider.id, starts_at: '2027-07-02T00:00:00Z', ends_at: '2027-07-01T00:00:00Z' });
      expect(backwards).toMatchObject({ status: 422, body: { code: 'validation_failed', errors: [{ field: 'time_range' }] } });
      expect((await api().request('DELETE', `/v1/time-off/${winter.body.id}`, { token: a.token })).status).toBe(204);
      expect((await call<Page>('GET', `/v1/time-off?provider=${provider.id}`, a.token)).body.data.map((t) => t.id)).toEqual([summer.body.id]);
    });

    it('a provider manages their own hours and time off, but not a colleague\'s', async () => {
      const location = await createLocation(api().db, a.tenantId);
      const me = await addMember(api().db, a.tenantId, 'provider');
      const token = (await api().tokens.signAccess({ sub: me.userId, tenant_id: a.tenantId })).token;
      const mine = await createProvider(api().db, a.tenantId, { userId: me.userId, locationId: location.id });
      const colleague = await createProvider(api().db, a.tenantId, { locationId: location.id });
      const hours = { location_id: location.id, weekday: 3, start_time: '08:00', end_time: '12:00' };
      expect((await call('POST', `/v1/providers/${mine.id}/availability-rules`, token, hours)).status).toBe(201);
      expect((await call<Problem>('POST', `/v1/providers/${colleague.id}/availability-rules`, token, hours)).status).toBe(403);
      const away = { starts_at: '2027-03-01T00:00:00Z', ends_at: '2027-03-02T00:00:00Z' };
      expect((await call('POST', '/v1/time-off', token, { ...away, provider_id: mine.id })).status).toBe(201);
      expect((await call<Problem>('POST', '/v1/time-off', token, { ...away, provider_id: colleague.id })).status).toBe(403);
    });
  });

  it('a receptionist scoped to a location sees only that location\'s rows and changes none', async () => {
    const db = api().db;
    const [north, south] = [await createLocation(db, a.tenantId), await createLocation(db, a.tenantId)];
    const [northRoom, southRoom] = [await createResource(db, a.tenantId, north.id), await createResource(db, a.tenantId, south.id)];
    const northDoc = await createProvider(db, a.tenantId, { locationId: north.id });
    const southDoc = await createProvider(db, a.tenantId, { locationId: south.id });
    const northRule = await addRule(db, a.tenantId, { providerId: northDoc.id }, north.id, 1, '09:00', '12:00');
    await addRule(db, a.tenantId, { providerId: southDoc.id }, south.id, 1, '09:00', '12:00');
    const receptionist = await tokenFor(a.tenantId, 'receptionist', north.id);

    const ids = async (path: string) => (await call<Page>('GET', path, receptionist)).body.data.map((r) => r.id);
    expect(await ids('/v1/locations?limit=200')).toEqual([north.id]);
    expect(await ids('/v1/resources?limit=200')).toEqual([northRoom.id]);
    expect(await ids('/v1/providers?limit=200')).toEqual([northDoc.id]);
    expect(await ids(`/v1/providers/${northDoc.id}/availability-rules`)).toEqual([northRule.id]);
    expect((await call<Problem>('GET', `/v1/locations/${south.id}`, receptionist)).status).toBe(404);
    expect((await call<Problem>('GET', `/v1/resources/${southRoom.id}`, receptionist)).status).toBe(404);
    expect((await call<Problem>('GET', `/v1/providers/${southDoc.id}/availability-rules`, receptionist)).status).toBe(404);
    // Receptionists do not edit the catalog, not even at their own location.
    expect((await call<Problem>('PATCH', `/v1/locations/${north.id}`, receptionist, { name: 'Mine now' })).body.code).toBe('forbidden');
    expect((await call<Problem>('PATCH', `/v1/resources/${southRoom.id}`, receptionist, { name: 'Mine now' })).body.code).toBe('not_found');
  });

  it('an admin scoped to a location manages resources there, but cannot open locations or touch other branches', async () => {
    const db = api().db;
    const [north, south] = [await createLocation(db, a.tenantId), await createLocation(db, a.tenantId)];
    const admin = await tokenFor(a.tenantId, 'admin', north.id);
    expect((await call('POST', '/v1/resources', admin, { location_id: north.id, name: 'North room' })).status).toBe(201);
    expect((await call<Problem>('POST', '/v1/resources', admin, { location_id: south.id, name: 'South room' })).status).toBe(403);
    expect((await call<Problem>('POST', '/v1/locations', admin, { name: 'East', time_zone: 'UTC' })).status).toBe(403);
    expect((await call('PATCH', `/v1/locations/${north.id}`, admin, { phone: '+49 40 123456' })).status).toBe(200);
    expect((await call<Problem>('PATCH', `/v1/locations/${south.id}`, admin, { phone: '+49 40 123456' })).status).toBe(404);
  });

  describe('tenant', () => {
    it('a member reads the tenant the token acts in', async () => {
      const res = await call('GET', '/v1/tenant', a.token);
      expect(res).toMatchObject({ status: 200, body: { id: a.tenantId, time_zone: 'Europe/Berlin', plan: 'free', status: 'active', settings: {} } });
      const viewer = await tokenFor(a.tenantId, 'viewer');
      expect((await call('GET', '/v1/tenant', viewer)).body.id).toBe(a.tenantId);
    });

    it('an owner changes name, time zone, locale and settings; plan and status are not writable (422)', async () => {
      const owner = await signup();
      const res = await call('PATCH', '/v1/tenant', owner.token, {
        name: 'Sunrise Clinic', time_zone: 'America/Chicago', locale: 'de-DE', settings: { reminder_offsets_minutes: [60] },
      });
      expect(res).toMatchObject({ status: 200, body: { name: 'Sunrise Clinic', time_zone: 'America/Chicago', locale: 'de-DE', settings: { reminder_offsets_minutes: [60] } } });
      expect((await call<Problem>('PATCH', '/v1/tenant', owner.token, { plan: 'enterprise' })).status).toBe(422);
      expect((await call<Problem>('PATCH', '/v1/tenant', owner.token, { status: 'active' })).status).toBe(422);
    });

    it('a bad time zone or locale is 422, and changes nothing', async () => {
      const zone = await call<Problem>('PATCH', '/v1/tenant', a.token, { time_zone: 'Atlantis/Capital' });
      expect(zone).toMatchObject({ status: 422, body: { code: 'validation_failed', errors: [{ field: 'time_zone' }] } });
      expect((await call<Problem>('PATCH', '/v1/tenant', a.token, { locale: 'english' })).status).toBe(422);
      expect((await call('GET', '/v1/tenant', a.token)).body.time_zone).toBe('Europe/Berlin');
    });

    it('viewers and receptionists cannot change the tenant (403)', async () => {
      for (const role of ['viewer', 'receptionist'] as const) {
        const token = await tokenFor(a.tenantId, role);
        expect((await call<Problem>('PATCH', '/v1/tenant', token, { name: 'Taken over' })).body.code, role).toBe('forbidden');
      }
    });

    it('a token for a tenant the user does not belong to sees no tenant (404)', async () => {
      const outsider = await addMember(api().db, b.tenantId, 'owner');
      const token = (await api().tokens.signAccess({ sub: outsider.userId, tenant_id: a.tenantId })).token;
      expect((await call<Problem>('GET', '/v1/tenant', token)).status).toBe(404);
      expect((await call<Problem>('PATCH', '/v1/tenant', token, { name: 'Mine' })).status).toBe(404);
      expect((await call<Page>('GET', '/v1/locations', token)).body.data).toEqual([]);
    });
  });
});
