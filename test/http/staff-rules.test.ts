import { describe, expect, it } from 'vitest';
import { addDailyRules, addMember, createProvider, createService, linkProvider } from '../support/factories.ts';
import { useApi } from '../support/http.ts';
import { createStaffWorld, utc } from '../support/staff-world.ts';

interface Problem {
  status: number;
  code: string;
}

describe('staff rules through the API', () => {
  const api = useApi();
  const call = <T = Record<string, unknown>>(method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
    api().json<T & Problem>(method, path, options);

  it('an API key follows its creator: demoted, it loses admin rights (403) but still reads; removed, it is 401 invalid_api_key', async () => {
    const w = await createStaffWorld(api());
    const db = api().db;
    const creator = await addMember(db, w.tenantId, 'admin');
    const creatorToken = (await api().tokens.signAccess({ sub: creator.userId, tenant_id: w.tenantId })).token;
    const created = await call<{ id: string; key: string; effective_role: string }>('POST', '/v1/api-keys', { token: creatorToken, body: { name: 'Sync', scopes: ['*'] } });
    expect(created.body.effective_role).toBe('admin');
    const key = { 'x-api-key': created.body.key };
    const newLocation = () => call('POST', '/v1/locations', { headers: key, body: { name: 'Key branch', time_zone: 'Europe/Berlin' } });
    expect((await newLocation()).status).toBe(201);

    expect((await call('PATCH', `/v1/members/${creator.membershipId}`, { token: w.tokens.owner, body: { role: 'receptionist' } })).status).toBe(200);
    expect((await newLocation()).body).toMatchObject({ status: 403, code: 'forbidden' });
    expect((await call('GET', '/v1/bookings', { headers: key })).status).toBe(200);
    expect((await call<{ role: string; effective_role: string }>('GET', `/v1/api-keys/${created.body.id}`, { token: w.tokens.owner })).body)
      .toMatchObject({ role: 'admin', effective_role: 'receptionist' });

    expect((await call('DELETE', `/v1/members/${creator.membershipId}`, { token: w.tokens.owner })).status).toBe(204);
    expect((await call('GET', '/v1/bookings', { headers: key })).body).toMatchObject({ status: 401, code: 'invalid_api_key' });
    expect((await call<{ revoked_at: string | null; effective_role: string | null }>('GET', `/v1/api-keys/${created.body.id}`, { token: w.tokens.owner })).body)
      .toMatchObject({ effective_role: null, revoked_at: expect.any(String) });
  });

  it('completing or marking a no-show before the start is 409 booking_not_started; staff may still cancel; after the start both work', async () => {
    const w = await createStaffWorld(api());
    const book = async (startsAt: string) =>
      (await call<{ id: string }>('POST', '/v1/bookings', { token: w.tokens.owner, body: { service_id: w.serviceId, provider_id: w.providerA, starts_at: startsAt, contact: { name: 'Walk-in' } } })).body.id;
    const future = await book(utc(3, '10:00'));
    expect((await call('POST', `/v1/bookings/${future}/complete`, { token: w.tokens.owner })).body).toMatchObject({ status: 409, code: 'booking_not_started' });
    expect((await call('POST', `/v1/bookings/${future}/no-show`, { token: w.tokens.provider })).body).toMatchObject({ status: 409, code: 'booking_not_started' });
    expect((await call<{ status: string }>('GET', `/v1/bookings/${future}`, { token: w.tokens.owner })).body.status).toBe('confirmed');
    expect((await call<{ status: string }>('POST', `/v1/bookings/${future}/cancel`, { token: w.tokens.owner })).body.status).toBe('cancelled');

    const started = await book(utc(-1, '10:00'));
    const missed = await book(utc(-1, '11:00'));
    expect((await call<{ status: string }>('POST', `/v1/bookings/${started}/complete`, { token: w.tokens.owner })).body.status).toBe('completed');
    expect((await call<{ status: string }>('POST', `/v1/bookings/${missed}/no-show`, { token: w.tokens.provider })).body.status).toBe('no_show');
  });

  it('a session outside the provider\'s hours is 422 outside_availability; with force: true an admin schedules it (is_forced)', async () => {
    const w = await createStaffWorld(api());
    const db = api().db;
    // A provider who works 09:00–17:00 Berlin time at branch A, offering a group class.
    const provider = (await createProvider(db, w.tenantId, { locationId: w.locationA })).id;
    await addDailyRules(db, w.tenantId, { providerId: provider }, w.locationA, '09:00', '17:00');
    const group = (await createService(db, w.tenantId, { kind: 'group', durationMinutes: 60, defaultCapacity: 8, maxAdvanceDays: 365 })).id;
    await linkProvider(db, w.tenantId, group, provider);
    const admin = await addMember(db, w.tenantId, 'admin');
    const token = (await api().tokens.signAccess({ sub: admin.userId, tenant_id: w.tenantId })).token;
    const session = (starts_at: string, force?: boolean) =>
      call<{ is_forced: boolean }>('POST', '/v1/sessions', { token, body: { service_id: group, provider_id: provider, location_id: w.locationA, starts_at, capacity: 8, ...(force === undefined ? {} : { force }) } });
    // 20:00 UTC is 21:00 or 22:00 in Berlin: after hours all year.
    const late = await session(utc(5, '20:00'));
    expect(late.body).toMatchObject({ status: 422, code: 'outside_availability' });
    expect((await call<{ data: unknown[] }>('GET', `/v1/sessions?service=${group}`, { token })).body.data).toEqual([]);
    const forced = await session(utc(5, '20:00'), true);
    expect(forced.status).toBe(201);
    expect(forced.body.is_forced).toBe(true);
    // 11:00 UTC is 12:00 or 13:00 in Berlin: inside the hours, no force needed.
    expect((await session(utc(6, '11:00'))).body).toMatchObject({ is_forced: false });
  });
});
