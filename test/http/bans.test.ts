import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { uniq } from '../support/factories.ts';
import { useApi } from '../support/http.ts';
import { createStaffWorld, utc, type StaffWorld } from '../support/staff-world.ts';

interface Row {
  id: string;
  [key: string]: unknown;
}
interface Page {
  data: Row[];
  next_cursor: string | null;
}

const UNKNOWN = '00000000-0000-4000-8000-000000000000';

describe('ban lists over HTTP', () => {
  const api = useApi();

  const call = <T = Row>(method: string, path: string, token?: string, body?: unknown, headers?: Record<string, string>) =>
    api().json<T>(method, path, { ...(token ? { token } : {}), ...(body !== undefined ? { body } : {}), ...(headers ? { headers } : {}) });

  async function slugOf(w: StaffWorld): Promise<string> {
    const [t] = await api().db.query<{ slug: string }>('select slug from slotbase.tenants where id = $1', [w.tenantId]);
    return t!.slug;
  }

  /** A guest booking at branch A of the world's service. */
  function guestBooks(slug: string, w: StaffWorld, startsAt: string, contact: Record<string, string>, headers?: Record<string, string>) {
    return call('POST', `/v1/public/${slug}/bookings`, undefined, { service_id: w.serviceId, location_id: w.locationA, starts_at: startsAt, contact: { name: 'Guest', ...contact } }, headers);
  }

  const withoutRequestId = (body: Record<string, unknown>) => {
    const { request_id: _requestId, ...rest } = body;
    return rest;
  };

  it('an owner bans, reads, lists, changes and lifts a ban; lists hide lifted bans unless include_deleted=true', async () => {
    const w = await createStaffWorld(api());
    const created = await call('POST', '/v1/bans', w.tokens.owner, { kind: 'email', value: ' Mallory@Example.TEST', reason: 'Three no-shows' });
    expect(created).toMatchObject({ status: 201, body: { kind: 'email', value: 'mallory@example.test', reason: 'Three no-shows', expires_at: null, deleted_at: null } });
    const id = created.body.id;
    expect((await call('GET', `/v1/bans/${id}`, w.tokens.receptionistA)).body).toEqual(created.body);
    const until = utc(30, '00:00');
    const patched = await call('PATCH', `/v1/bans/${id}`, w.tokens.admin, { reason: 'Abusive calls', expires_at: until });
    expect(patched).toMatchObject({ status: 200, body: { id, reason: 'Abusive calls', expires_at: until } });
    expect((await call<Page>('GET', '/v1/bans', w.tokens.owner)).body.data.map((b) => b.id)).toEqual([id]);
    expect((await api().request('DELETE', `/v1/bans/${id}`, { token: w.tokens.owner })).status).toBe(204);
    expect((await call('GET', `/v1/bans/${id}`, w.tokens.owner)).body.deleted_at).toEqual(expect.any(String));
    expect((await call<Page>('GET', '/v1/bans', w.tokens.owner)).body.data).toEqual([]);
    expect((await call<Page>('GET', '/v1/bans?include_deleted=true', w.tokens.owner)).body.data.map((b) => b.id)).toEqual([id]);
    expect((await call('DELETE', `/v1/bans/${id}`, w.tokens.owner)).status).toBe(404);
    expect((await call('PATCH', `/v1/bans/${id}`, w.tokens.owner, { reason: 'again' })).status).toBe(404);
  });

  it('answers 401, 403, 404, 409 and 422 where they apply', async () => {
    const w = await createStaffWorld(api());
    expect((await call('GET', '/v1/bans')).body).toMatchObject({ status: 401, code: 'unauthenticated' });
    expect((await call('POST', '/v1/bans', undefined, { kind: 'email', value: 'x@example.test', reason: 'x' })).status).toBe(401);
    for (const token of [w.tokens.viewer, w.tokens.receptionistA, w.tokens.provider]) {
      expect((await call('POST', '/v1/bans', token, { kind: 'email', value: 'x@example.test', reason: 'x' })).body).toMatchObject({ status: 403, code: 'forbidden' });
    }
    const ban = await call('POST', '/v1/bans', w.tokens.admin, { kind: 'phone', value: '+49 30 555 0100', reason: 'Prank bookings' });
    expect(ban.body.value).toBe('+49305550100');
    // A receptionist sees the ban but may not change or lift it; a viewer does not see it at all.
    expect((await call('PATCH', `/v1/bans/${ban.body.id}`, w.tokens.receptionistA, { reason: 'x' })).status).toBe(403);
    expect((await call('DELETE', `/v1/bans/${ban.body.id}`, w.tokens.receptionistA)).status).toBe(403);
    expect((await call('GET', `/v1/bans/${ban.body.id}`, w.tokens.viewer)).status).toBe(404);
    expect((await call<Page>('GET', '/v1/bans', w.tokens.viewer)).body.data).toEqual([]);
    expect((await call('GET', `/v1/bans/${UNKNOWN}`, w.tokens.owner)).status).toBe(404);
    expect((await call('POST', '/v1/bans', w.tokens.owner, { kind: 'phone', value: '+49 (30) 5550100', reason: 'again' })).body).toMatchObject({
      status: 409,
      code: 'already_exists',
    });
    expect((await call('POST', '/v1/bans', w.tokens.owner, { kind: 'domain', value: 'localhost', reason: 'x' })).body).toMatchObject({
      status: 422,
      errors: [{ field: 'value' }],
    });
    expect((await call('POST', '/v1/bans', w.tokens.owner, { kind: 'ip', value: '10.0.0.1', reason: 'x' })).status).toBe(422);
    expect((await call('POST', '/v1/bans', w.tokens.owner, { kind: 'email', value: 'a@example.test', reason: '' })).status).toBe(422);
    expect((await call('PATCH', `/v1/bans/${ban.body.id}`, w.tokens.owner, {})).status).toBe(422);
    expect((await call('PATCH', `/v1/bans/${ban.body.id}`, w.tokens.owner, { value: 'changed' })).status).toBe(422);
    expect((await call('GET', '/v1/bans/hits?cursor=nonsense', w.tokens.owner)).status).toBe(422);
  });

  it('a banned guest gets the very 409 a taken slot gives, and the attempt is listed for staff', async () => {
    const w = await createStaffWorld(api());
    const slug = await slugOf(w);
    const taken = utc(3, '10:00');
    expect((await guestBooks(slug, w, taken, { email: 'first@example.test' })).status).toBe(201);
    const real = await guestBooks(slug, w, taken, { email: 'second@example.test' });
    expect(real.status).toBe(409);

    const ban = await call('POST', '/v1/bans', w.tokens.owner, { kind: 'domain', value: 'spam.example', reason: 'Bots' });
    const free = utc(3, '12:00');
    const refused = await guestBooks(slug, w, free, { email: 'Bot@Mail.Spam.example', phone: '+49 30 1234' });
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toBe(real.headers.get('content-type'));
    expect(withoutRequestId(refused.body)).toEqual(withoutRequestId(real.body));
    expect(refused.body).toMatchObject({ code: 'slot_taken', title: 'That time is no longer available', status: 409 });
    // The time was free: anyone else gets it.
    expect((await guestBooks(slug, w, free, { email: 'fine@example.test' })).status).toBe(201);

    const hits = await call<Page>('GET', '/v1/bans/hits', w.tokens.receptionistA);
    expect(hits.status).toBe(200);
    expect(hits.body.data).toEqual([
      {
        id: expect.any(String),
        ban_id: ban.body.id,
        at: expect.any(String),
        service_id: w.serviceId,
        starts_at: free,
        contact_email: 'Bot@Mail.Spam.example',
        contact_phone: '+49 30 1234',
        device_hash: null,
      },
    ]);
    // A genuinely taken time of a booker who is not banned logs nothing.
    expect((await call<Page>('GET', `/v1/bans/hits?ban=${ban.body.id}`, w.tokens.owner)).body.data).toHaveLength(1);
    expect((await call<Page>('GET', '/v1/bans/hits', w.tokens.viewer)).body.data).toEqual([]);
  });

  it('a device ban matches the sha256 of X-Device-Token, whatever contact is given; hits page newest first', async () => {
    const w = await createStaffWorld(api());
    const slug = await slugOf(w);
    const token = `dvc_${uniq()}${uniq()}`;
    const hash = createHash('sha256').update(token).digest('hex');
    await call('POST', '/v1/bans', w.tokens.owner, { kind: 'device', value: hash, reason: 'Many fake bookings' });
    for (const [i, email] of ['a@example.test', 'b@example.test', 'c@example.test'].entries()) {
      const res = await guestBooks(slug, w, utc(4, `1${i}:00`), { email }, { 'x-device-token': token });
      expect(res.body).toMatchObject({ status: 409, code: 'slot_taken' });
    }
    expect((await guestBooks(slug, w, utc(4, '15:00'), { email: 'a@example.test' }, { 'x-device-token': `dvc_${uniq()}${uniq()}` })).status).toBe(201);
    const first = await call<Page>('GET', '/v1/bans/hits?limit=2', w.tokens.owner);
    expect(first.body.data.map((h) => h.contact_email)).toEqual(['c@example.test', 'b@example.test']);
    expect(first.body.data[0]!.device_hash).toBe(hash);
    const second = await call<Page>('GET', `/v1/bans/hits?limit=2&cursor=${first.body.next_cursor}`, w.tokens.owner);
    expect(second.body).toEqual({ data: [expect.objectContaining({ contact_email: 'a@example.test' })], next_cursor: null });
  });

  it('an expired or lifted ban no longer applies', async () => {
    const w = await createStaffWorld(api());
    const slug = await slugOf(w);
    const ban = await call('POST', '/v1/bans', w.tokens.owner, { kind: 'email', value: 'late@example.test', reason: 'x' });
    expect((await guestBooks(slug, w, utc(5, '09:00'), { email: 'late@example.test' })).status).toBe(409);
    expect((await api().request('DELETE', `/v1/bans/${ban.body.id}`, { token: w.tokens.owner })).status).toBe(204);
    expect((await guestBooks(slug, w, utc(5, '09:00'), { email: 'late@example.test' })).status).toBe(201);
  });

  it('staff book for a banned customer; nothing is refused or logged', async () => {
    const w = await createStaffWorld(api());
    await call('POST', '/v1/bans', w.tokens.owner, { kind: 'email', value: 'walkin@example.test', reason: 'x' });
    const res = await call('POST', '/v1/bookings', w.tokens.receptionistA, {
      service_id: w.serviceId, provider_id: w.providerA, starts_at: utc(3, '09:00'), contact: { name: 'Walk-in', email: 'walkin@example.test' },
    });
    expect(res.status).toBe(201);
    expect((await call<Page>('GET', '/v1/bans/hits', w.tokens.owner)).body.data).toEqual([]);
  });

  it('another tenant\'s bans and hits are invisible (404 by id, absent from lists)', async () => {
    const a = await createStaffWorld(api());
    const b = await createStaffWorld(api());
    const ban = await call('POST', '/v1/bans', a.tokens.owner, { kind: 'email', value: 'x@example.test', reason: 'x' });
    await guestBooks(await slugOf(a), a, utc(3, '11:00'), { email: 'x@example.test' });
    expect((await call<Page>('GET', '/v1/bans/hits', a.tokens.owner)).body.data).toHaveLength(1);
    expect((await call('GET', `/v1/bans/${ban.body.id}`, b.tokens.owner)).status).toBe(404);
    expect((await call('PATCH', `/v1/bans/${ban.body.id}`, b.tokens.owner, { reason: 'mine' })).status).toBe(404);
    expect((await call('DELETE', `/v1/bans/${ban.body.id}`, b.tokens.owner)).status).toBe(404);
    expect((await call<Page>('GET', '/v1/bans?include_deleted=true', b.tokens.owner)).body.data).toEqual([]);
    expect((await call<Page>('GET', `/v1/bans/hits?ban=${ban.body.id}`, b.tokens.owner)).body.data).toEqual([]);
    // A's ban does not apply to B's booking page.
    expect((await guestBooks(await slugOf(b), b, utc(3, '11:00'), { email: 'x@example.test' })).status).toBe(201);
    expect((await call('GET', '/v1/bans', b.tokens.noTenant)).status).toBe(401);
  });

  it('API keys need the catalog scope', async () => {
    const w = await createStaffWorld(api());
    const read = await call<{ key: string }>('POST', '/v1/api-keys', w.tokens.owner, { name: 'r', scopes: ['catalog:read'] });
    const other = await call<{ key: string }>('POST', '/v1/api-keys', w.tokens.owner, { name: 'o', scopes: ['bookings:write'] });
    expect((await call('GET', '/v1/bans', undefined, undefined, { 'x-api-key': read.body.key })).status).toBe(200);
    expect((await call('POST', '/v1/bans', undefined, { kind: 'email', value: 'k@example.test', reason: 'x' }, { 'x-api-key': read.body.key })).body).toMatchObject({
      status: 403,
      code: 'insufficient_scope',
    });
    expect((await call('GET', '/v1/bans/hits', undefined, undefined, { 'x-api-key': other.body.key })).status).toBe(403);
  });
});
