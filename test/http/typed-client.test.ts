import createClient from 'openapi-fetch';
import { describe, expect, it } from 'vitest';
import type { components, paths } from '../support/api-types.d.ts';
import { uniq } from '../support/factories.ts';
import { useApi } from '../support/http.ts';
import { utc } from '../support/staff-world.ts';

/**
 * The whole journey of a business and its customer through a client generated from the
 * committed spec (openapi-typescript types + openapi-fetch): if the spec and the API disagree on
 * a path, a parameter or a body shape, this stops compiling or fails.
 */

type Problem = components['schemas']['Problem'];

/** What openapi-fetch returns, reduced to what the helpers below need. */
interface Outcome<T> {
  data?: T;
  error?: Problem | unknown;
  response: Response;
}

/** The body of a success with exactly this status (openapi-fetch only tells success from error: the status narrows the rest). */
function expectData<T>(outcome: Outcome<T>, status: number): T {
  expect(outcome.response.status, JSON.stringify(outcome.error)).toBe(status);
  if (outcome.data === undefined) throw new Error(`${outcome.response.url}: ${status} without a body`);
  return outcome.data;
}

/** The problem of a failure with exactly this status. */
function expectProblem(outcome: { error?: Problem; response: Response }, status: number): Problem {
  expect(outcome.response.status).toBe(status);
  if (outcome.error === undefined) throw new Error(`${outcome.response.url}: expected a problem`);
  return outcome.error;
}

describe('typed client generated from openapi/openapi.json', () => {
  const api = useApi();

  /** openapi-fetch over app.request: no server, no network. */
  const client = () =>
    createClient<paths>({
      baseUrl: 'http://slotbase.test',
      fetch: async (request: Request) => {
        const url = new URL(request.url);
        const body = request.body ? await request.text() : undefined;
        return api().request(request.method, `${url.pathname}${url.search}`, { body, headers: Object.fromEntries(request.headers) });
      },
    });

  it('sign up → location → provider → weekly hours → service → link → public slots → guest booking → reschedule and cancel by code', async () => {
    const anonymous = client();
    const slug = uniq('sunrise-');

    const session = expectData(
      await anonymous.POST('/v1/signup', {
        body: {
          email: `${uniq('owner-')}@sunrise.example`,
          password: 'correct horse battery staple',
          tenant: { slug, name: 'Sunrise Clinic', time_zone: 'Europe/Berlin' },
        },
      }),
      201,
    );
    expect(session.token_type).toBe('Bearer');
    if (!session.tenant) throw new Error('signup returns the new tenant');
    expect(session.tenant.slug).toBe(slug);

    const staff = client();
    staff.use({ onRequest: ({ request }) => (request.headers.set('authorization', `Bearer ${session.access_token}`), request) });

    const location = expectData(await staff.POST('/v1/locations', { body: { name: 'Mitte', time_zone: 'Europe/Berlin' } }), 201);
    const provider = expectData(await staff.POST('/v1/providers', { body: { name: 'Dr. Weiss', location_id: location.id } }), 201);
    expect(provider.location_id).toBe(location.id);
    for (let weekday = 1; weekday <= 7; weekday++) {
      const rule = expectData(
        await staff.POST('/v1/providers/{id}/availability-rules', {
          params: { path: { id: provider.id } },
          body: { location_id: location.id, weekday, start_time: '09:00', end_time: '17:00' },
        }),
        201,
      );
      expect(rule).toMatchObject({ weekday, start_time: '09:00', end_time: '17:00' });
    }
    const service = expectData(
      await staff.POST('/v1/services', { body: { slug: 'checkup', name: 'Check-up', duration_minutes: 30, max_advance_days: 365 } }),
      201,
    );
    const link = await staff.POST('/v1/services/{id}/providers/{provider_id}', { params: { path: { id: service.id, provider_id: provider.id } } });
    expect(link.response.status).toBe(204);

    const slots = expectData(
      await anonymous.GET('/v1/public/{tenant}/services/{service}/slots', {
        params: { path: { tenant: slug, service: 'checkup' }, query: { from: utc(3, '00:00'), to: utc(4, '00:00'), timezone: 'America/New_York' } },
      }),
      200,
    );
    const [first, second] = slots.data;
    if (!first || !second) throw new Error('the clinic should have free slots on day 3');
    expect(first.provider_id).toBe(provider.id);

    const booking = {
      service_id: service.id,
      starts_at: first.starts_at,
      contact: { name: 'Ada Lovelace', email: 'ada@example.com' },
    } satisfies components['schemas']['PublicBookingRequest'];
    const receipt = expectData(
      await anonymous.POST('/v1/public/{tenant}/bookings', { params: { path: { tenant: slug }, header: { 'idempotency-key': uniq('key-') } }, body: booking }),
      201,
    );
    expect(receipt).toMatchObject({ status: 'confirmed', starts_at: first.starts_at, provider_id: provider.id });
    const taken = expectProblem(
      await anonymous.POST('/v1/public/{tenant}/bookings', { params: { path: { tenant: slug } }, body: { ...booking, contact: { name: 'Bob', email: 'bob@example.com' } } }),
      409,
    );
    expect(taken.code).toBe('slot_taken');

    const manage = { path: { code: receipt.code }, query: { token: receipt.manage_token } };
    const seen = expectData(await anonymous.GET('/v1/public/bookings/{code}', { params: manage }), 200);
    expect(seen).toMatchObject({ code: receipt.code, contact_name: 'Ada Lovelace', status: 'confirmed' });

    const moved = expectData(await anonymous.PATCH('/v1/public/bookings/{code}', { params: manage, body: { starts_at: second.starts_at } }), 200);
    expect(moved).toMatchObject({ code: receipt.code, starts_at: second.starts_at, status: 'confirmed' });

    const cancelled = expectData(await anonymous.DELETE('/v1/public/bookings/{code}', { params: manage }), 200);
    expect(cancelled.status).toBe('cancelled');
    const again = expectProblem(await anonymous.DELETE('/v1/public/bookings/{code}', { params: manage }), 409);
    expect(again.code).toBe('invalid_transition');

    const wrongToken = expectProblem(
      await anonymous.GET('/v1/public/bookings/{code}', { params: { path: { code: receipt.code }, query: { token: 'x'.repeat(43) } } }),
      404,
    );
    expect(wrongToken.code).toBe('not_found');
  });
});
