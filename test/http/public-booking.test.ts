import { beforeAll, describe, expect, it } from 'vitest';
import { addDailyRules, createLocation, createProvider, createService, createTenant, linkProvider } from '../support/factories.ts';
import { useApi } from '../support/http.ts';

interface Receipt {
  id: string;
  code: string;
  manage_token: string;
  status: string;
  starts_at: string;
  manage_url: string;
}

describe('public booking flow over HTTP', () => {
  const api = useApi();
  let slug: string;
  let serviceId: string;
  let serviceSlug: string;

  beforeAll(async () => {
    const db = api().db;
    const tenant = await createTenant(db, { timeZone: 'Europe/Berlin' });
    slug = tenant.slug;
    const location = await createLocation(db, tenant.id, { timeZone: 'Europe/Berlin' });
    const service = await createService(db, tenant.id, { durationMinutes: 30, maxAdvanceDays: 365 });
    serviceId = service.id;
    serviceSlug = service.slug;
    const provider = await createProvider(db, tenant.id, { locationId: location.id });
    await linkProvider(db, tenant.id, service.id, provider.id);
    await addDailyRules(db, tenant.id, { providerId: provider.id }, location.id, '09:00', '12:00');
  });

  /** Tomorrow+N in UTC, as a [from, to) covering one whole day. */
  const day = (n: number) => {
    const from = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + n));
    return { from: from.toISOString(), to: new Date(from.getTime() + 86_400_000).toISOString() };
  };

  async function firstSlot(n: number): Promise<string> {
    const { from, to } = day(n);
    const res = await api().json<{ data: { starts_at: string }[] }>('GET', `/v1/public/${slug}/services/${serviceSlug}/slots?from=${from}&to=${to}`);
    expect(res.status).toBe(200);
    return res.body.data[0]!.starts_at;
  }

  it('lists public services and locations of a business, and 404s for an unknown one', async () => {
    const services = await api().json<{ data: { id: string }[] }>('GET', `/v1/public/${slug}/services`, { headers: { origin: 'https://any-site.example' } });
    expect(services.body.data.map((s) => s.id)).toEqual([serviceId]);
    expect((await api().json<{ data: unknown[] }>('GET', `/v1/public/${slug}/locations`)).body.data).toHaveLength(1);
    expect((await api().json('GET', '/v1/public/no-such-business/services')).status).toBe(404);
    // No embed_origins set: booking pages may live on any site (test/http/cors.test.ts has the rest).
    expect(services.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('shows slots in the booker\'s time zone: local times change, instants do not', async () => {
    const { from, to } = day(3);
    const berlin = await api().json<{ data: { starts_at: string; local_starts_at: string }[] }>(
      'GET', `/v1/public/${slug}/services/${serviceId}/slots?from=${from}&to=${to}`);
    const ny = await api().json<{ data: { starts_at: string; local_starts_at: string }[] }>(
      'GET', `/v1/public/${slug}/services/${serviceId}/slots?from=${from}&to=${to}&timezone=America/New_York`);
    expect(berlin.body.data).toHaveLength(6);
    expect(ny.body.data.map((s) => s.starts_at)).toEqual(berlin.body.data.map((s) => s.starts_at));
    expect(berlin.body.data[0]!.local_starts_at).toMatch(/T09:00:00$/);
    expect(ny.body.data[0]!.local_starts_at).toMatch(/T0[23]:00:00$/);
  });

  it('books, replays with the same Idempotency-Key, refuses the taken slot with 409 slot_taken', async () => {
    const startsAt = await firstSlot(4);
    const body = { service_id: serviceId, starts_at: startsAt, contact: { name: 'Ada Guest', email: 'ada@example.test' } };
    const first = await api().json<Receipt>('POST', `/v1/public/${slug}/bookings`, { body, headers: { 'idempotency-key': 'abc-123' } });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ status: 'confirmed', starts_at: startsAt });
    expect(first.body.code).toMatch(/^BK-/);
    const replay = await api().json<Receipt>('POST', `/v1/public/${slug}/bookings`, { body, headers: { 'idempotency-key': 'abc-123' } });
    expect(replay.body).toEqual(first.body);
    const taken = await api().json<{ code: string }>('POST', `/v1/public/${slug}/bookings`, { body: { ...body, contact: { name: 'Bob', email: 'bob@example.test' } } });
    expect(taken).toMatchObject({ status: 409, body: { code: 'slot_taken' } });
    const slots = await api().json<{ data: { starts_at: string }[] }>('GET', `/v1/public/${slug}/services/${serviceId}/slots?from=${day(4).from}&to=${day(4).to}`);
    expect(slots.body.data.map((s) => s.starts_at)).not.toContain(startsAt);
  });

  it('manages a booking by code + token: view, reschedule, cancel; a wrong token is a 404', async () => {
    const startsAt = await firstSlot(5);
    const { body: receipt } = await api().json<Receipt>('POST', `/v1/public/${slug}/bookings`, {
      body: { service_id: serviceId, starts_at: startsAt, contact: { name: 'Cleo', phone: '+49 30 1234567' } },
    });
    const view = await api().json<{ code: string; status: string }>('GET', receipt.manage_url);
    expect(view.body).toMatchObject({ code: receipt.code, status: 'confirmed' });
    const viaHeader = await api().json('GET', `/v1/public/bookings/${receipt.code}`, { headers: { 'x-manage-token': receipt.manage_token } });
    expect(viaHeader.status).toBe(200);
    expect((await api().json<{ code: string }>('GET', `/v1/public/bookings/${receipt.code}?token=wrong`)).body.code).toBe('not_found');
    expect((await api().json('GET', `/v1/public/bookings/${receipt.code}`)).status).toBe(404);
    const later = new Date(new Date(startsAt).getTime() + 60 * 60_000).toISOString();
    const moved = await api().json<{ starts_at: string }>('PATCH', `/v1/public/bookings/${receipt.code}?token=${receipt.manage_token}`, { body: { starts_at: later } });
    expect(moved).toMatchObject({ status: 200, body: { starts_at: later } });
    const offGrid = await api().json<{ code: string }>('PATCH', `/v1/public/bookings/${receipt.code}?token=${receipt.manage_token}`, {
      body: { starts_at: new Date(new Date(startsAt).getTime() + 7 * 60_000).toISOString() },
    });
    expect(offGrid).toMatchObject({ status: 422, body: { code: 'outside_availability' } });
    const cancelled = await api().json<{ status: string }>('DELETE', `/v1/public/bookings/${receipt.code}?token=${receipt.manage_token}`);
    expect(cancelled.body.status).toBe('cancelled');
    const again = await api().json<{ code: string }>('DELETE', `/v1/public/bookings/${receipt.code}?token=${receipt.manage_token}`);
    expect(again).toMatchObject({ status: 409, body: { code: 'invalid_transition' } });
  });

  it('bad input gets a precise 4xx problem and books nothing', async () => {
    const startsAt = await firstSlot(6);
    const post = (body: unknown) => api().json<{ code: string; errors?: { field: string }[] }>('POST', `/v1/public/${slug}/bookings`, { body });
    const base = { service_id: serviceId, starts_at: startsAt, contact: { name: 'Dee', email: 'dee@example.test' } };
    expect((await post({ ...base, starts_at: 'tomorrow at nine' })).status).toBe(422);
    expect((await post({ ...base, contact: { name: 'Dee' } })).body).toMatchObject({ code: 'validation_failed', errors: [{ field: 'contact_email' }] });
    expect((await post({ ...base, party_size: 5 })).body.code).toBe('party_too_large');
    expect((await post({ ...base, service_id: '00000000-0000-4000-8000-000000000000' })).status).toBe(404);
    expect((await post({ ...base, extra: 1 })).status).toBe(422);
    const slots = await api().json('GET', `/v1/public/${slug}/services/${serviceId}/slots?from=${day(6).from}&to=${day(6).to}&timezone=Not/AZone`);
    expect(slots).toMatchObject({ status: 422, body: { code: 'validation_failed' } });
    const tooLong = await api().json('GET', `/v1/public/${slug}/services/${serviceId}/slots?from=${day(1).from}&to=${day(200).to}`);
    expect(tooLong).toMatchObject({ status: 422, body: { code: 'invalid_range' } });
    // The slot is still free: nothing above wrote a booking.
    expect(await firstSlot(6)).toBe(startsAt);
  });
});
