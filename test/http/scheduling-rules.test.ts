import { describe, expect, it } from 'vitest';
import { useApi } from '../support/http.ts';
import { loadSpec, matchOperation, responseValidator } from '../support/openapi-spec.ts';
import { createStaffWorld, utc } from '../support/staff-world.ts';

/**
 * Scheduling-rule settings through the staff API (services, providers, a service's provider
 * pool, travel times): shown on the resources, validated with a 4xx problem naming the field
 * and leaving nothing written; a limit reached is a 409 `booking_limit_reached` naming the limit.
 */
describe('scheduling rules over HTTP', () => {
  const api = useApi();
  type Json = Record<string, unknown> & { code?: string; errors?: { field: string; code?: string }[] };
  const spec = loadSpec();
  const validatorFor = responseValidator(spec);

  /** api().json, plus: the response's status and body are the ones the committed OpenAPI document promises. */
  async function json<T = Json>(method: string, path: string, options: { body?: unknown; token?: string } = {}) {
    const res = await api().json<T>(method, path, options);
    const op = matchOperation(spec, method, path);
    expect(op, `${method} ${path} is in the spec`).toBeDefined();
    const validate = validatorFor(op!, res.status, (res.headers.get('content-type') ?? '').split(';')[0]!);
    expect(typeof validate, `${method} ${path} → ${res.status} is documented`).toBe('function');
    if (typeof validate === 'function') expect(validate(res.body), `${method} ${path} → ${res.status}: ${JSON.stringify(validate.errors)}`).toBe(true);
    return res;
  }

  it('service settings are shown and changed; bad values are 422 naming the field, and change nothing', async () => {
    const w = await createStaffWorld(api());
    const owner = w.tokens.owner;
    const before = await json<Json>('GET', `/v1/services/${w.serviceId}`, { token: owner });
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({
      assignment_strategy: 'least_booked', assignment_period: 'day', max_bookings_per_day: null, max_bookings_per_customer: null,
      customer_limit_period: 'month', customer_min_gap_minutes: null, anti_scalping: 'none', anti_scalping_max_per_contact: 1, anti_scalping_max_per_device: 1,
    });
    expect((before.body.provider_pool as unknown[]).length).toBe(2);

    for (const [body, field] of [
      [{ assignment_strategy: 'random' }, 'assignment_strategy'],
      [{ anti_scalping: 'paranoid' }, 'anti_scalping'],
      [{ max_bookings_per_day: 0 }, 'max_bookings_per_day'],
      [{ max_bookings_per_customer: 5000 }, 'max_bookings_per_customer'],
      [{ customer_min_gap_minutes: -5 }, 'customer_min_gap_minutes'],
      [{ anti_scalping_max_per_device: 0, assignment_strategy: 'weighted' }, 'anti_scalping_max_per_device'],
    ] as const) {
      const res = await json<Json>('PATCH', `/v1/services/${w.serviceId}`, { token: owner, body });
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.code).toBe('validation_failed');
      expect(res.body.errors?.map((e) => e.field)).toContain(field);
    }
    const unchanged = await json<Json>('GET', `/v1/services/${w.serviceId}`, { token: owner });
    expect(unchanged.body).toEqual(before.body);

    const ok = await json<Json>('PATCH', `/v1/services/${w.serviceId}`, {
      token: owner, body: { assignment_strategy: 'priority', max_bookings_per_customer: 2, customer_limit_period: 'week', anti_scalping: 'standard', anti_scalping_max_per_contact: 3 },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ assignment_strategy: 'priority', max_bookings_per_customer: 2, customer_limit_period: 'week', anti_scalping: 'standard', anti_scalping_max_per_contact: 3 });
    // A receptionist may not change them.
    const denied = await json<Json>('PATCH', `/v1/services/${w.serviceId}`, { token: w.tokens.receptionistA, body: { anti_scalping: 'none' } });
    expect(denied.status).toBe(403);
  });

  it('provider limits and pool weights/priorities: shown, validated, and set', async () => {
    const w = await createStaffWorld(api());
    const owner = w.tokens.owner;
    const bad = await json<Json>('PATCH', `/v1/providers/${w.providerA}`, { token: owner, body: { max_bookings_per_day: 0 } });
    expect(bad.status).toBe(422);
    expect(bad.body.errors?.map((e) => e.field)).toContain('max_bookings_per_day');
    const set = await json<Json>('PATCH', `/v1/providers/${w.providerA}`, { token: owner, body: { max_bookings_per_day: 8, max_bookings_per_week: 30 } });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ max_bookings_per_day: 8, max_bookings_per_week: 30 });

    const pool = `/v1/services/${w.serviceId}/providers/${w.providerA}`;
    for (const [body, field] of [[{ weight: 0 }, 'weight'], [{ priority: 1001 }, 'priority']] as const) {
      const res = await json<Json>('PATCH', pool, { token: owner, body });
      expect(res.status).toBe(422);
      expect(res.body.errors?.map((e) => e.field)).toContain(field);
    }
    expect((await json<Json>('PATCH', pool, { token: owner, body: {} })).status).toBe(422);
    const updated = await json<Json>('PATCH', pool, { token: owner, body: { weight: 3, priority: 2 } });
    expect(updated.status).toBe(200);
    expect(updated.body).toEqual({ provider_id: w.providerA, weight: 3, priority: 2 });
    const svc = await json<Json>('GET', `/v1/services/${w.serviceId}`, { token: owner });
    expect(svc.body.provider_pool).toContainEqual({ provider_id: w.providerA, weight: 3, priority: 2 });
    expect(svc.body.provider_pool).toContainEqual({ provider_id: w.providerB, weight: 1, priority: 0 });
    expect((await json<Json>('PATCH', pool, { token: w.tokens.receptionistA, body: { weight: 1 } })).status).toBe(403);
    expect((await json<Json>('PATCH', `/v1/services/${w.serviceId}/providers/00000000-0000-4000-8000-000000000000`, { token: owner, body: { weight: 1 } })).status).toBe(404);
  });

  it('travel times: set once per pair in either order, validated, listed, changed, removed', async () => {
    const w = await createStaffWorld(api());
    const owner = w.tokens.owner;
    for (const [body, status, field] of [
      [{ location_a_id: w.locationA, location_b_id: w.locationA, minutes: 30 }, 422, 'location_b_id'],
      [{ location_a_id: w.locationA, location_b_id: w.locationB, minutes: 0 }, 422, 'minutes'],
      [{ location_a_id: w.locationA, location_b_id: w.locationB, minutes: 2000 }, 422, 'minutes'],
      [{ location_a_id: w.locationA, location_b_id: '00000000-0000-4000-8000-000000000000', minutes: 30 }, 422, undefined],
    ] as const) {
      const res = await json<Json>('POST', '/v1/travel-times', { token: owner, body });
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      if (field) expect(res.body.errors?.map((e) => e.field)).toContain(field);
    }
    expect((await json<{ data: unknown[] }>('GET', '/v1/travel-times', { token: owner })).body.data).toEqual([]);
    const created = await json<Json>('POST', '/v1/travel-times', { token: owner, body: { location_a_id: w.locationB, location_b_id: w.locationA, minutes: 40 } });
    expect(created.status).toBe(201);
    expect([created.body.location_a_id, created.body.location_b_id]).toEqual([w.locationA, w.locationB].sort());
    const again = await json<Json>('POST', '/v1/travel-times', { token: owner, body: { location_a_id: w.locationA, location_b_id: w.locationB, minutes: 10 } });
    expect(again.status).toBe(409);
    expect((await json<Json>('POST', '/v1/travel-times', { token: w.tokens.receptionistA, body: { location_a_id: w.locationA, location_b_id: w.locationB, minutes: 10 } })).status).toBe(403);
    const changed = await json<Json>('PATCH', `/v1/travel-times/${created.body.id as string}`, { token: owner, body: { minutes: 25 } });
    expect(changed.body.minutes).toBe(25);
    expect((await json<Json>('PATCH', `/v1/travel-times/${created.body.id as string}`, { token: owner, body: { minutes: -1 } })).status).toBe(422);
    expect((await api().request('DELETE', `/v1/travel-times/${created.body.id as string}`, { token: owner })).status).toBe(204);
    expect((await api().request('DELETE', `/v1/travel-times/${created.body.id as string}`, { token: owner })).status).toBe(404);
  });

  it('a public booker over a customer limit gets 409 booking_limit_reached naming the limit, and nothing is booked', async () => {
    const w = await createStaffWorld(api());
    await json('PATCH', `/v1/services/${w.serviceId}`, { token: w.tokens.owner, body: { max_bookings_per_customer: 1, customer_limit_period: 'year' } });
    const [{ slug }] = await api().db.query<{ slug: string }>('select slug from slotbase.tenants where id = $1', [w.tenantId]) as [{ slug: string }];
    const bookAt = (startsAt: string) => json<Json>('POST', `/v1/public/${slug}/bookings`, {
      body: { service_id: w.serviceId, starts_at: startsAt, provider_id: w.providerA, contact: { name: 'Ada', email: 'ada@example.test' } },
    });
    expect((await bookAt(utc(3, '10:00'))).status).toBe(201);
    const second = await bookAt(utc(4, '10:00'));
    expect(second.status).toBe(409);
    expect(second.headers.get('content-type')).toContain('application/problem+json');
    expect(second.body.code).toBe('booking_limit_reached');
    expect(second.body.errors?.[0]?.field).toBe('max_bookings_per_customer');
    const list = await json<{ data: unknown[] }>('GET', '/v1/bookings', { token: w.tokens.owner });
    expect(list.body.data).toHaveLength(1);
  });
});
