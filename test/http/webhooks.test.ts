import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { addMember } from '../support/factories.ts';
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
interface Problem {
  status: number;
  code: string;
  errors?: { field: string }[];
}

const UNKNOWN = '00000000-0000-4000-8000-000000000000';

describe('webhook endpoints over HTTP', () => {
  const api = useApi();

  const call = <T = Row & Problem>(method: string, path: string, token?: string, body?: unknown, headers?: Record<string, string>) =>
    api().json<T>(method, path, { ...(token ? { token } : {}), ...(body !== undefined ? { body } : {}), ...(headers ? { headers } : {}) });

  async function created(w: StaffWorld, body: Record<string, unknown> = {}): Promise<Row & { secret: string }> {
    const res = await call<Row & { secret: string }>('POST', '/v1/webhook-endpoints', w.tokens.owner, { url: 'https://hooks.example.test/in', ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }

  it('an owner registers an endpoint and sees its whsec_ secret once; reads, lists and changes never show it again', async () => {
    const w = await createStaffWorld(api());
    const ep = await created(w, { description: 'CRM', event_types: ['booking.created', 'booking.cancelled', 'booking.created'] });
    expect(ep).toMatchObject({
      url: 'https://hooks.example.test/in', description: 'CRM', event_types: ['booking.cancelled', 'booking.created'],
      is_enabled: true, disabled_reason: null, consecutive_failures: 0,
    });
    expect(ep.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(ep.secret.slice(6), 'base64')).toHaveLength(32);
    const { secret: _secret, ...shown } = ep;
    expect((await call('GET', `/v1/webhook-endpoints/${ep.id}`, w.tokens.admin)).body).toEqual(shown);
    expect((await call<Page>('GET', '/v1/webhook-endpoints', w.tokens.owner)).body.data).toEqual([shown]);
    const patched = await call('PATCH', `/v1/webhook-endpoints/${ep.id}`, w.tokens.admin, { url: 'http://hooks.example.test/v2', description: null, event_types: [] });
    expect(patched).toMatchObject({ status: 200, body: { url: 'http://hooks.example.test/v2', description: null, event_types: [] } });
    expect(patched.body).not.toHaveProperty('secret');
    // The secret is not readable by callers even with SQL.
    const [owner] = await api().db.query<{ user_id: string }>(`select user_id from slotbase.memberships where tenant_id = $1 and role = 'owner'`, [w.tenantId]);
    await expect(
      api().db.queryAs({ role: 'authenticated', userId: owner!.user_id, tenantId: w.tenantId }, 'select secret from slotbase_private.webhook_endpoint_secrets'),
    ).rejects.toMatchObject({ code: '42501' });
  });

  it('rotating the secret returns a new one, once', async () => {
    const w = await createStaffWorld(api());
    const ep = await created(w);
    const rotated = await call<Row & { secret: string }>('POST', `/v1/webhook-endpoints/${ep.id}/rotate-secret`, w.tokens.owner);
    expect(rotated.status).toBe(200);
    expect(rotated.body.id).toBe(ep.id);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(ep.secret);
    expect((await call('GET', `/v1/webhook-endpoints/${ep.id}`, w.tokens.owner)).body).not.toHaveProperty('secret');
  });

  it('a URL that is not http(s), or an unknown event type, is 422 validation_failed naming the field', async () => {
    const w = await createStaffWorld(api());
    for (const url of ['ftp://files.example.test/in', 'javascript:alert(1)', 'not a url', 'https://user:pass@hooks.example.test/', '']) {
      const res = await call('POST', '/v1/webhook-endpoints', w.tokens.owner, { url });
      expect(res.body, url).toMatchObject({ status: 422, code: 'validation_failed' });
      expect(res.body.errors?.map((e) => e.field), url).toContain('url');
    }
    const unknown = await call('POST', '/v1/webhook-endpoints', w.tokens.owner, { url: 'https://hooks.example.test/', event_types: ['booking.deleted'] });
    expect(unknown.body).toMatchObject({ status: 422, code: 'validation_failed' });
    expect(unknown.body.errors?.[0]?.field).toMatch(/^event_types/);
    const ep = await created(w);
    expect((await call('PATCH', `/v1/webhook-endpoints/${ep.id}`, w.tokens.owner, { event_types: ['payment.received'] })).body).toMatchObject({ status: 422, code: 'validation_failed' });
    expect((await call('PATCH', `/v1/webhook-endpoints/${ep.id}`, w.tokens.owner, {})).body).toMatchObject({ status: 422, code: 'validation_failed' });
    expect((await call('POST', '/v1/webhook-endpoints', w.tokens.owner, { url: 'https://hooks.example.test/', secret: 'whsec_mine' })).status).toBe(422);
  });

  it('the database refuses what the API refuses: a direct SQL call with a bad URL or event type fails with 23514', async () => {
    const w = await createStaffWorld(api());
    const [owner] = await api().db.query<{ user_id: string }>(`select user_id from slotbase.memberships where tenant_id = $1 and role = 'owner'`, [w.tenantId]);
    const as = { role: 'authenticated' as const, userId: owner!.user_id, tenantId: w.tenantId };
    await expect(api().db.queryAs(as, `select slotbase.create_webhook_endpoint('file:///etc/passwd')`)).rejects.toMatchObject({ code: '23514' });
    await expect(api().db.queryAs(as, `select slotbase.create_webhook_endpoint('https://x.example.test/', null, '{booking.deleted}')`)).rejects.toMatchObject({ code: '23514' });
  });

  it('receptionists, viewers, providers and branch-scoped admins cannot manage or read webhooks (403); API keys cannot call them', async () => {
    const w = await createStaffWorld(api());
    const ep = await created(w);
    const branchAdmin = await addMember(api().db, w.tenantId, 'admin', { locationId: w.locationA });
    const branchAdminToken = (await api().tokens.signAccess({ sub: branchAdmin.userId, tenant_id: w.tenantId })).token;
    for (const [who, token] of [['receptionist', w.tokens.receptionistA], ['viewer', w.tokens.viewer], ['provider', w.tokens.provider], ['branch admin', branchAdminToken]] as const) {
      const attempts: [string, string, unknown?][] = [
        ['GET', '/v1/webhook-endpoints'],
        ['POST', '/v1/webhook-endpoints', { url: 'https://evil.example.test/' }],
        ['GET', `/v1/webhook-endpoints/${ep.id}`],
        ['PATCH', `/v1/webhook-endpoints/${ep.id}`, { url: 'https://evil.example.test/' }],
        ['DELETE', `/v1/webhook-endpoints/${ep.id}`],
        ['POST', `/v1/webhook-endpoints/${ep.id}/rotate-secret`],
        ['POST', `/v1/webhook-endpoints/${ep.id}/test`],
        ['GET', `/v1/webhook-endpoints/${ep.id}/deliveries`],
      ];
      for (const [method, path, body] of attempts) {
        expect((await call(method, path, token, body)).body, `${who} ${method} ${path}`).toMatchObject({ status: 403, code: 'forbidden' });
      }
    }
    expect((await call('GET', '/v1/webhook-endpoints')).body).toMatchObject({ status: 401, code: 'unauthenticated' });
    const key = await call<{ key: string }>('POST', '/v1/api-keys', w.tokens.owner, { name: 'integration', scopes: ['*'] });
    expect(key.status).toBe(201);
    expect((await call('GET', '/v1/webhook-endpoints', key.body.key)).body).toMatchObject({ status: 403, code: 'insufficient_scope' });
    // Nothing changed.
    expect((await call('GET', `/v1/webhook-endpoints/${ep.id}`, w.tokens.owner)).body).toMatchObject({ url: 'https://hooks.example.test/in' });
  });

  it('another tenant\'s endpoints and deliveries are 404 for every operation, and never listed', async () => {
    const a = await createStaffWorld(api());
    const b = await createStaffWorld(api());
    const ep = await created(a);
    const ping = await call('POST', `/v1/webhook-endpoints/${ep.id}/test`, a.tokens.owner);
    expect(ping.status).toBe(202);
    const foreign: [string, string, unknown?][] = [
      ['GET', `/v1/webhook-endpoints/${ep.id}`],
      ['PATCH', `/v1/webhook-endpoints/${ep.id}`, { description: 'mine now' }],
      ['DELETE', `/v1/webhook-endpoints/${ep.id}`],
      ['POST', `/v1/webhook-endpoints/${ep.id}/rotate-secret`],
      ['POST', `/v1/webhook-endpoints/${ep.id}/test`],
      ['GET', `/v1/webhook-endpoints/${ep.id}/deliveries`],
      ['GET', `/v1/webhook-deliveries/${ping.body.id}`],
      ['POST', `/v1/webhook-deliveries/${ping.body.id}/redeliver`],
      ['GET', `/v1/webhook-endpoints/${UNKNOWN}`],
      ['GET', `/v1/webhook-deliveries/${UNKNOWN}`],
      ['POST', `/v1/webhook-deliveries/${UNKNOWN}/redeliver`],
    ];
    for (const [method, path, body] of foreign) {
      expect((await call(method, path, b.tokens.owner, body)).body, `${method} ${path}`).toMatchObject({ status: 404, code: 'not_found' });
    }
    expect((await call<Page>('GET', '/v1/webhook-endpoints', b.tokens.owner)).body.data).toEqual([]);
    expect((await call('GET', `/v1/webhook-endpoints/${ep.id}`, a.tokens.owner)).body).toMatchObject({ description: null });
  });

  it('a test ping is queued as a pending webhook.test delivery; deliveries are listed newest first, by cursor, filtered by status', async () => {
    const w = await createStaffWorld(api());
    const ep = await created(w);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await call<Row & { payload: Record<string, unknown> }>('POST', `/v1/webhook-endpoints/${ep.id}/test`, w.tokens.owner);
      expect(res.body).toMatchObject({ status: 'pending', event_type: 'webhook.test', attempts: 0, endpoint_id: ep.id, payload: { type: 'webhook.test', data: { endpoint_id: ep.id } } });
      expect(res.body.message_id).toMatch(/^msg_[A-Za-z0-9]+$/);
      ids.push(res.body.id);
    }
    const first = await call<Page>('GET', `/v1/webhook-endpoints/${ep.id}/deliveries?limit=2`, w.tokens.owner);
    expect(first.body.data.map((d) => d.id)).toEqual([ids[2], ids[1]]);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await call<Page>('GET', `/v1/webhook-endpoints/${ep.id}/deliveries?limit=2&cursor=${first.body.next_cursor}`, w.tokens.owner);
    expect(second.body).toEqual({ data: [expect.objectContaining({ id: ids[0] })], next_cursor: null });
    expect((await call<Page>('GET', `/v1/webhook-endpoints/${ep.id}/deliveries?status=pending`, w.tokens.owner)).body.data).toHaveLength(3);
    expect((await call<Page>('GET', `/v1/webhook-endpoints/${ep.id}/deliveries?status=succeeded`, w.tokens.owner)).body.data).toEqual([]);
    expect((await call('GET', `/v1/webhook-endpoints/${ep.id}/deliveries?status=lost`, w.tokens.owner)).body).toMatchObject({ status: 422, code: 'validation_failed' });
    expect((await call('GET', `/v1/webhook-endpoints/${ep.id}/deliveries?cursor=nonsense`, w.tokens.owner)).body).toMatchObject({ status: 422, code: 'validation_failed' });
    expect((await call('GET', `/v1/webhook-deliveries/${ids[0]}`, w.tokens.admin)).body).toMatchObject({ id: ids[0], attempt_log: [] });
  });

  it('a booking event is queued for an enabled endpoint with the booking snapshot; deleting the endpoint removes it with its deliveries', async () => {
    const w = await createStaffWorld(api());
    const ep = await created(w, { event_types: ['booking.created'] });
    const off = await created(w, { is_enabled: false });
    expect(off).toMatchObject({ is_enabled: false, disabled_reason: null });
    const booking = await call('POST', '/v1/bookings', w.tokens.owner, {
      service_id: w.serviceId, starts_at: utc(3, '10:00'), provider_id: w.providerA, contact: { name: 'Ada Guest', email: 'ada@example.test' },
    });
    expect(booking.status).toBe(201);
    const listed = (await call<{ data: (Row & { payload: { type: string; data: Record<string, unknown> } })[] }>('GET', `/v1/webhook-endpoints/${ep.id}/deliveries`, w.tokens.owner)).body.data;
    expect(listed.map((d) => d.payload.type)).toEqual(['booking.created']);
    expect(listed[0]!.payload.data).toMatchObject({ id: booking.body.id, code: booking.body.code, contact: { name: 'Ada Guest', email: 'ada@example.test', phone: null } });
    expect((await call<Page>('GET', `/v1/webhook-endpoints/${off.id}/deliveries`, w.tokens.owner)).body.data).toEqual([]);

    expect((await api().request('DELETE', `/v1/webhook-endpoints/${ep.id}`, { token: w.tokens.owner })).status).toBe(204);
    expect((await call('GET', `/v1/webhook-endpoints/${ep.id}`, w.tokens.owner)).status).toBe(404);
    expect((await call('GET', `/v1/webhook-deliveries/${listed[0]!.id}`, w.tokens.owner)).status).toBe(404);
    expect((await call('DELETE', `/v1/webhook-endpoints/${ep.id}`, w.tokens.owner)).status).toBe(404);
  });

  it('turning an endpoint off by hand records why; turning it back on clears it', async () => {
    const w = await createStaffWorld(api());
    const ep = await created(w);
    expect((await call('PATCH', `/v1/webhook-endpoints/${ep.id}`, w.tokens.owner, { is_enabled: false })).body).toMatchObject({ is_enabled: false, disabled_reason: 'disabled by a member' });
    expect((await call('PATCH', `/v1/webhook-endpoints/${ep.id}`, w.tokens.owner, { is_enabled: true })).body).toMatchObject({ is_enabled: true, disabled_reason: null, consecutive_failures: 0 });
  });

  it('signing secrets are distinct per endpoint', async () => {
    const w = await createStaffWorld(api());
    const secrets = new Set<string>();
    for (let i = 0; i < 5; i++) secrets.add((await created(w, { url: `https://hooks.example.test/${randomBytes(4).toString('hex')}` })).secret);
    expect(secrets.size).toBe(5);
  });
});
