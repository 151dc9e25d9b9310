import { createHash, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createUser, uniq } from '../support/factories.ts';
import { useApi } from '../support/http.ts';
import { loadSpec, matchOperation, operationsOf, responseValidator } from '../support/openapi-spec.ts';
import { utc } from '../support/staff-world.ts';
import { drainJobs } from '../support/worker.ts';
import { signStripe, stripeEvent, stripeIds, TEST_STRIPE_ENV, useStripeStandIn } from '../support/stripe-stand-in.ts';
import type { AvailabilityHub } from '#src/web/live-availability.ts';

/**
 * The API keeps the promises of the COMMITTED openapi/openapi.json: a realistic run through every
 * operation, where each response's status must be documented for its operation and its body must
 * validate against the schema documented for that (operation, status, content type). The last
 * test fails when some operation of the spec was never exercised with a success status.
 */

const spec = loadSpec();
const validatorFor = responseValidator(spec);

interface Seen {
  statuses: Set<number>;
}
const coverage = new Map<string, Seen>(operationsOf(spec).map((o) => [o.label, { statuses: new Set<number>() }]));

type Body = Record<string, unknown> & { id: string; code: string; data: (Record<string, unknown> & { id: string })[] };

/** A live-availability hub that ends every stream right after `ready`, so the contract run can read it whole. */
const endingHub: AvailabilityHub = {
  subscribe(_tenantId, listener) {
    queueMicrotask(() => listener({ id: 'contract-1', type: 'closing', data: null }));
    return () => {};
  },
  since: () => [],
  listeners: 0,
  close: async () => {},
};

describe('responses match the committed OpenAPI document', () => {
  const stripe = useStripeStandIn();
  const api = useApi({ live: endingHub, stripe: stripe.billing });
  /** What the current test saw that the spec does not allow; asserted empty at the end of each test. */
  let violations: string[] = [];

  /**
   * One request through app.request: records the operation and status, validates the response
   * against the spec, and checks the status is the one the scenario expects.
   */
  async function call(
    expected: number,
    method: string,
    path: string,
    options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Body> {
    const res = await api().request(method, path, options);
    const text = await res.text();
    const where = `${method} ${path} → ${res.status}`;
    expect(res.status, `${where}: ${text}`).toBe(expected);
    const op = matchOperation(spec, method, path);
    if (!op) {
      violations.push(`${where}: no operation in the spec`);
      return {} as Body;
    }
    coverage.get(op.label)!.statuses.add(res.status);
    const contentType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    const validate = validatorFor(op, res.status, contentType);
    if (validate === 'undocumented-status') violations.push(`${where}: status ${res.status} is not documented for ${op.op.operationId}`);
    else if (validate === 'undocumented-content-type') violations.push(`${where}: content type "${contentType}" is not documented for ${op.op.operationId} ${res.status}`);
    else if (validate === 'no-content') {
      if (text !== '') violations.push(`${where}: documented without content, but the body is ${text}`);
    } else if (!/[/+]json$/.test(contentType)) {
      // Text documents (an event stream, a calendar) are validated as the string they are.
      if (!validate(text)) violations.push(`${where}: body does not match ${op.op.operationId} ${res.status} ${contentType}: ${JSON.stringify(validate.errors)}`);
    } else {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        violations.push(`${where}: body is not JSON: ${text.slice(0, 200)}`);
      }
      if (body !== undefined && !validate(body)) {
        violations.push(`${where}: body does not match ${op.op.operationId} ${res.status} ${contentType}: ${JSON.stringify(validate.errors)}`);
      }
      return body as Body;
    }
    return {} as Body;
  }

  const withContract = (name: string, fn: () => Promise<void>) =>
    it(name, async () => {
      violations = [];
      await fn();
      expect(violations).toEqual([]);
    });

  /** A new business: its owner's session. */
  async function signup() {
    const slug = uniq('clinic-');
    const email = `${uniq('owner-')}@example.test`;
    const password = 'correct horse battery staple';
    const session = await call(201, 'POST', '/v1/signup', {
      body: { email, password, name: 'Olga Owner', tenant: { slug, name: 'Sunrise Clinic', time_zone: 'Europe/Berlin' } },
    });
    return { slug, email, password, token: session.access_token as string, refresh: session.refresh_token as string, tenantId: (session.tenant as { id: string }).id };
  }

  /** A clinic open around the clock: a location, a provider with hours every day, an appointment service and a group service. */
  async function clinic() {
    const owner = await signup();
    const t = owner.token;
    const location = await call(201, 'POST', '/v1/locations', { token: t, body: { name: 'Mitte', time_zone: 'Europe/Berlin', address: 'Hauptstr. 1', phone: '+49 30 1234567' } });
    const provider = await call(201, 'POST', '/v1/providers', { token: t, body: { name: 'Dr. Weiss', location_id: location.id, email: 'weiss@clinic.example' } });
    for (let weekday = 1; weekday <= 7; weekday++) {
      await call(201, 'POST', `/v1/providers/${provider.id}/availability-rules`, {
        token: t, body: { location_id: location.id, weekday, start_time: '00:00', end_time: '24:00' },
      });
    }
    const service = await call(201, 'POST', '/v1/services', { token: t, body: { slug: 'checkup', name: 'Check-up', duration_minutes: 30, max_advance_days: 365 } });
    await call(204, 'POST', `/v1/services/${service.id}/providers/${provider.id}`, { token: t });
    const group = await call(201, 'POST', '/v1/services', {
      token: t, body: { slug: 'yoga', name: 'Yoga', kind: 'group', duration_minutes: 60, max_party_size: 4, default_capacity: 6, max_advance_days: 365 },
    });
    await call(204, 'POST', `/v1/services/${group.id}/providers/${provider.id}`, { token: t });
    return { owner, t, location, provider, service, group };
  }

  withContract('system: health and readiness', async () => {
    await call(200, 'GET', '/health');
    await call(200, 'GET', '/ready');
  });

  withContract('auth: sign up, log in, refresh, log out, and their errors', async () => {
    const owner = await signup();
    await call(409, 'POST', '/v1/signup', {
      body: { email: `${uniq('other-')}@example.test`, password: owner.password, tenant: { slug: owner.slug, name: 'Copy', time_zone: 'Europe/Berlin' } },
    });
    await call(422, 'POST', '/v1/signup', { body: { email: 'not-an-email', password: 'short', tenant: { slug: 'Bad Slug', name: '', time_zone: 'Europe/Berlin' } } });
    await call(400, 'POST', '/v1/signup', { body: '{"email": ', headers: { 'content-type': 'application/json' } });
    await call(415, 'POST', '/v1/signup', { body: 'email=a', headers: { 'content-type': 'text/plain' } });
    await call(413, 'POST', '/v1/signup', { body: { email: 'a@example.test', password: 'x'.repeat(70_000), tenant: {} } });
    const login = await call(200, 'POST', '/v1/auth/login', { body: { email: owner.email, password: owner.password, tenant: owner.slug } });
    await call(401, 'POST', '/v1/auth/login', { body: { email: owner.email, password: 'wrong password!' } });
    await call(422, 'POST', '/v1/auth/login', { body: { email: owner.email } });
    const refreshed = await call(200, 'POST', '/v1/auth/refresh', { body: { refresh_token: login.refresh_token } });
    await call(401, 'POST', '/v1/auth/refresh', { body: { refresh_token: login.refresh_token } }); // reused: ends every session
    await call(422, 'POST', '/v1/auth/refresh', { body: {} });
    await call(204, 'POST', '/v1/auth/logout', { body: { refresh_token: refreshed.refresh_token } });
    await call(204, 'POST', '/v1/auth/logout', { body: { refresh_token: owner.refresh } });
  });

  withContract('tenant and catalog: read, create, change, delete, link; 401, 403, 404, 409, 422', async () => {
    const { owner, t, location, provider, service } = await clinic();
    await call(200, 'GET', '/v1/tenant', { token: t });
    await call(401, 'GET', '/v1/tenant');
    await call(401, 'GET', '/v1/locations', { token: 'not-a-jwt' });
    await call(200, 'PATCH', '/v1/tenant', { token: t, body: { name: 'Sunrise Clinic Berlin', locale: 'de-DE', settings: { reminder_offsets_minutes: [60] } } });
    await call(422, 'PATCH', '/v1/tenant', { token: t, body: { time_zone: 'Mars/Olympus' } });

    const viewer = await call(201, 'POST', '/v1/members', { token: t, body: { email: (await createUser(api().db)).email, role: 'viewer' } });
    const viewerToken = (await api().tokens.signAccess({ sub: viewer.user_id as string, tenant_id: owner.tenantId })).token;

    await call(200, 'GET', '/v1/locations?limit=1', { token: t });
    await call(200, 'GET', `/v1/locations/${location.id}`, { token: t });
    await call(200, 'PATCH', `/v1/locations/${location.id}`, { token: t, body: { address: null } });
    await call(403, 'PATCH', `/v1/locations/${location.id}`, { token: viewerToken, body: { name: 'Mine now' } });
    await call(403, 'POST', '/v1/locations', { token: viewerToken, body: { name: 'Nope', time_zone: 'Europe/Berlin' } });
    await call(422, 'POST', '/v1/locations', { token: t, body: { name: 'Nowhere', time_zone: 'Not/AZone' } });
    await call(404, 'GET', '/v1/locations/00000000-0000-4000-8000-000000000000', { token: t });
    await call(422, 'GET', '/v1/locations/not-a-uuid', { token: t });
    const spare = await call(201, 'POST', '/v1/locations', { token: t, body: { name: 'Spare', time_zone: 'Europe/Berlin' } });
    await call(403, 'DELETE', `/v1/locations/${spare.id}`, { token: viewerToken });
    await call(204, 'DELETE', `/v1/locations/${spare.id}`, { token: t });
    await call(404, 'DELETE', `/v1/locations/${spare.id}`, { token: t });
    await call(200, 'GET', '/v1/locations?include_deleted=true', { token: t });

    await call(200, 'GET', '/v1/providers', { token: t });
    await call(200, 'GET', `/v1/providers/${provider.id}`, { token: t });
    await call(200, 'PATCH', `/v1/providers/${provider.id}`, { token: t, body: { phone: '+49 30 7654321' } });
    const locum = await call(201, 'POST', '/v1/providers', { token: t, body: { name: 'Dr. Locum' } });
    await call(204, 'DELETE', `/v1/providers/${locum.id}`, { token: t });

    const room = await call(201, 'POST', '/v1/resources', { token: t, body: { location_id: location.id, name: 'Room 1', kind: 'room' } });
    await call(200, 'GET', '/v1/resources', { token: t });
    await call(200, 'GET', `/v1/resources/${room.id}`, { token: t });
    await call(200, 'PATCH', `/v1/resources/${room.id}`, { token: t, body: { name: 'Room 1a' } });
    await call(422, 'POST', '/v1/resources', { token: t, body: { location_id: location.id, name: 'Ghost room', kind: 'spaceship' } });

    await call(200, 'GET', '/v1/services', { token: t });
    await call(200, 'GET', `/v1/services/${service.id}`, { token: t });
    await call(200, 'PATCH', `/v1/services/${service.id}`, { token: t, body: { price_cents: 4500, currency: 'EUR' } });
    await call(409, 'POST', '/v1/services', { token: t, body: { slug: 'checkup', name: 'Again', duration_minutes: 30 } });
    await call(204, 'POST', `/v1/services/${service.id}/resources/${room.id}`, { token: t });
    await call(204, 'DELETE', `/v1/services/${service.id}/resources/${room.id}`, { token: t });
    await call(404, 'DELETE', `/v1/services/${service.id}/resources/${room.id}`, { token: t });
    await call(204, 'DELETE', `/v1/services/${service.id}/providers/${provider.id}`, { token: t });
    await call(204, 'POST', `/v1/services/${service.id}/providers/${provider.id}`, { token: t });
    // Scheduling rules: round-robin settings of a pool member, travel times between locations.
    await call(200, 'PATCH', `/v1/services/${service.id}/providers/${provider.id}`, { token: t, body: { weight: 2, priority: 1 } });
    await call(422, 'PATCH', `/v1/services/${service.id}/providers/${provider.id}`, { token: t, body: { weight: 0 } });
    const branch = await call(201, 'POST', '/v1/locations', { token: t, body: { name: 'Branch', time_zone: 'Europe/Berlin' } });
    const travel = await call(201, 'POST', '/v1/travel-times', { token: t, body: { location_a_id: location.id, location_b_id: branch.id, minutes: 45 } });
    await call(200, 'GET', '/v1/travel-times', { token: t });
    await call(200, 'PATCH', `/v1/travel-times/${travel.id}`, { token: t, body: { minutes: 30 } });
    await call(204, 'DELETE', `/v1/travel-times/${travel.id}`, { token: t });
    const old = await call(201, 'POST', '/v1/services', { token: t, body: { slug: 'old', name: 'Old', duration_minutes: 15 } });
    await call(204, 'DELETE', `/v1/services/${old.id}`, { token: t });
    await call(204, 'DELETE', `/v1/resources/${room.id}`, { token: t });

    const rules = await call(200, 'GET', `/v1/providers/${provider.id}/availability-rules?limit=2`, { token: t });
    const rule = await call(201, 'POST', `/v1/providers/${provider.id}/availability-rules`, {
      token: t, body: { location_id: location.id, weekday: 1, start_time: '09:00', end_time: '12:00', valid_from: utc(1, '00:00').slice(0, 10), valid_until: null },
    });
    await call(422, 'POST', `/v1/providers/${provider.id}/availability-rules`, { token: t, body: { location_id: location.id, weekday: 1, start_time: '12:00', end_time: '09:00' } });
    await call(200, 'PATCH', `/v1/availability-rules/${rule.id}`, { token: t, body: { end_time: '13:00' } });
    await call(204, 'DELETE', `/v1/availability-rules/${rule.id}`, { token: t });
    expect(rules.data.length).toBe(2);

    const day = utc(20, '00:00').slice(0, 10);
    const override = await call(201, 'POST', '/v1/date-overrides', { token: t, body: { provider_id: provider.id, location_id: location.id, date: day, start_time: '10:00', end_time: '14:00' } });
    await call(201, 'POST', '/v1/date-overrides', { token: t, body: { provider_id: provider.id, location_id: location.id, date: utc(21, '00:00').slice(0, 10) } });
    await call(200, 'GET', `/v1/date-overrides?provider=${provider.id}&from=${day}`, { token: t });
    await call(204, 'DELETE', `/v1/date-overrides/${override.id}`, { token: t });

    const away = await call(201, 'POST', '/v1/time-off', { token: t, body: { provider_id: provider.id, starts_at: utc(30, '00:00'), ends_at: utc(31, '00:00'), reason: 'conference' } });
    await call(422, 'POST', '/v1/time-off', { token: t, body: { provider_id: provider.id, starts_at: utc(31, '00:00'), ends_at: utc(30, '00:00') } });
    await call(200, 'GET', `/v1/time-off?provider=${provider.id}`, { token: t });
    await call(204, 'DELETE', `/v1/time-off/${away.id}`, { token: t });
  });

  withContract('members: add, list, get, change, remove; the last owner cannot leave', async () => {
    const { owner, t, location } = await clinic();
    const front = await call(201, 'POST', '/v1/members', { token: t, body: { email: (await createUser(api().db)).email, role: 'receptionist', location_id: location.id } });
    await call(409, 'POST', '/v1/members', { token: t, body: { email: front.email, role: 'viewer' } });
    await call(422, 'POST', '/v1/members', { token: t, body: { email: 'x@example.test', role: 'boss' } });
    const members = await call(200, 'GET', '/v1/members', { token: t });
    await call(200, 'GET', `/v1/members/${front.id}`, { token: t });
    await call(200, 'PATCH', `/v1/members/${front.id}`, { token: t, body: { role: 'admin', location_id: null } });
    const me = members.data.find((m) => m.role === 'owner')!;
    await call(409, 'DELETE', `/v1/members/${me.id}`, { token: t });
    await call(409, 'PATCH', `/v1/members/${me.id}`, { token: t, body: { role: 'viewer' } });
    const frontToken = (await api().tokens.signAccess({ sub: front.user_id as string, tenant_id: owner.tenantId })).token;
    await call(403, 'PATCH', `/v1/members/${me.id}`, { token: frontToken, body: { role: 'viewer' } });
    await call(403, 'DELETE', `/v1/members/${me.id}`, { token: frontToken });
    await call(204, 'DELETE', `/v1/members/${front.id}`, { token: t });
    await call(200, 'GET', '/v1/members?include_deleted=true', { token: t });

    // Someone without an account is invited (202); the link's token comes from the email in real life.
    const invited = await call(202, 'POST', '/v1/members', { token: t, body: { email: `${uniq('new-')}@example.test`, role: 'viewer' } });
    await call(200, 'GET', '/v1/invitations?limit=10', { token: t });
    await call(200, 'GET', `/v1/invitations/${invited.id}`, { token: t });
    await call(403, 'GET', '/v1/invitations', { token: frontToken });
    const [link] = await api().db.query<{ token: string }>('select slotbase_private.invitation_token($1) as token', [invited.id]);
    await call(200, 'GET', `/v1/auth/accept-invite?token=${link!.token}`);
    await call(422, 'GET', '/v1/auth/accept-invite?token=nope');
    await call(404, 'GET', `/v1/auth/accept-invite?token=sbinv_${'A'.repeat(43)}`);
    await call(200, 'POST', '/v1/auth/accept-invite', { body: { token: link!.token, password: 'a fine long password', display_name: 'Vera Viewer' } });
    await call(410, 'POST', '/v1/auth/accept-invite', { body: { token: link!.token, password: 'a fine long password' } });
    await call(410, 'GET', `/v1/auth/accept-invite?token=${link!.token}`);
    await call(404, 'POST', '/v1/auth/accept-invite', { body: { token: `sbinv_${'A'.repeat(43)}`, password: 'a fine long password' } });
    await call(422, 'POST', '/v1/auth/accept-invite', { body: { token: link!.token } });
    const revoked = await call(202, 'POST', '/v1/members', { token: t, body: { email: `${uniq('gone-')}@example.test`, role: 'viewer' } });
    await call(204, 'DELETE', `/v1/invitations/${revoked.id}`, { token: t });
    await call(404, 'DELETE', `/v1/invitations/${revoked.id}`, { token: t });
    await call(404, 'GET', '/v1/invitations/00000000-0000-4000-8000-000000000000', { token: t });
  });

  withContract('public booking: services, locations, slots, book, view, reschedule, cancel by code', async () => {
    const { owner, service } = await clinic();
    const base = `/v1/public/${owner.slug}`;
    await call(200, 'GET', `${base}/services`);
    await call(200, 'GET', `${base}/locations`);
    await call(404, 'GET', '/v1/public/no-such-clinic/services');
    await call(404, 'GET', '/v1/public/no-such-clinic/locations');
    const from = utc(3, '00:00');
    const to = utc(4, '00:00');
    const slots = await call(200, 'GET', `${base}/services/checkup/slots?from=${from}&to=${to}&timezone=America/New_York`);
    await call(422, 'GET', `${base}/services/checkup/slots?from=${to}&to=${utc(300, '00:00')}`);
    await call(404, 'GET', `${base}/services/nothing/slots?from=${from}&to=${to}`);
    const [first, second] = slots.data as unknown as { starts_at: string }[];
    const booking = { service_id: service.id, starts_at: first!.starts_at, contact: { name: 'Ada Guest', email: 'ada@example.test', phone: '+49 30 555' }, notes: 'first visit' };
    const receipt = await call(201, 'POST', `${base}/bookings`, { body: booking, headers: { 'idempotency-key': uniq('key-') } });
    await call(409, 'POST', `${base}/bookings`, { body: { ...booking, contact: { name: 'Bob', email: 'bob@example.test' } } });
    await call(422, 'POST', `${base}/bookings`, { body: { service_id: service.id, contact: { name: 'No time' } } });
    await call(404, 'POST', '/v1/public/no-such-clinic/bookings', { body: booking });
    const manage = `/v1/public/bookings/${receipt.code}`;
    const token = receipt.manage_token as string;
    await call(200, 'GET', `${manage}?token=${token}`);
    await call(200, 'GET', manage, { headers: { 'x-manage-token': token } });
    await call(404, 'GET', `${manage}?token=wrong-token-wrong-token-wrong-token-wrong-tok`);
    await call(404, 'GET', manage); // no token: indistinguishable from a wrong one
    await call(422, 'GET', '/v1/public/bookings/not-a-code?token=x');
    await call(200, 'PATCH', `${manage}?token=${token}`, { body: { starts_at: second!.starts_at } });
    await call(422, 'PATCH', `${manage}?token=${token}`, { body: { starts_at: utc(3, '10:07') } });
    await call(200, 'DELETE', `${manage}?token=${token}`);
    await call(409, 'DELETE', `${manage}?token=${token}`);
    await call(409, 'PATCH', `${manage}?token=${token}`, { body: { starts_at: first!.starts_at } });
  });

  withContract('booking questions and device tokens: staff define questions, a guest answers them with a bound device token', async () => {
    const { owner, t, service } = await clinic();
    const questions = `/v1/services/${service.id}/questions`;
    const reason = await call(201, 'POST', questions, { token: t, body: { kind: 'text', label: 'Reason for the visit', is_required: true, max_length: 200 } });
    await call(201, 'POST', questions, { token: t, body: { kind: 'single_choice', label: 'Insurance', options: ['Public', 'Private'] } });
    await call(422, 'POST', questions, { token: t, body: { kind: 'single_choice', label: 'No choices' } });
    await call(404, 'POST', `/v1/services/${randomUUID()}/questions`, { token: t, body: { kind: 'checkbox', label: 'x' } });
    await call(200, 'GET', questions, { token: t });
    await call(200, 'PATCH', `${questions}/${reason.id}`, { token: t, body: { help_text: 'A few words' } });
    await call(404, 'PATCH', `${questions}/${randomUUID()}`, { token: t, body: { help_text: 'x' } });
    const base = `/v1/public/${owner.slug}`;
    await call(200, 'GET', `${base}/services`);

    // A device key as the booking page makes it, and a token bound to it.
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const { kty, crv, x, y } = await exportJWK(publicKey);
    const jwk = { kty, crv, x, y };
    const proof = (path: string, claims: Record<string, unknown> = {}) =>
      new SignJWT({ htm: 'POST', htu: path, jti: randomUUID(), ...claims }).setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk }).setIssuedAt().sign(privateKey);
    const issuePath = `${base}/device-tokens`;
    await call(401, 'POST', issuePath, { body: { public_key: jwk } });
    await call(422, 'POST', issuePath, { body: { public_key: { kty: 'RSA' } } });
    const issued = await call(201, 'POST', issuePath, { body: { public_key: jwk }, headers: { 'x-device-proof': await proof(issuePath) } });
    const deviceToken = issued.device_token as unknown as string;

    const slots = await call(200, 'GET', `${base}/services/checkup/slots?from=${utc(5, '00:00')}&to=${utc(6, '00:00')}`);
    const [slot] = slots.data as unknown as { starts_at: string }[];
    const booking = { service_id: service.id, starts_at: slot!.starts_at, contact: { name: 'Ada Guest', email: 'ada@example.test' } };
    await call(422, 'POST', `${base}/bookings`, { body: booking }); // the required answer is missing
    const key = uniq('key-');
    const bookingProof = await proof(`${base}/bookings`, { ath: createHash('sha256').update(deviceToken).digest('base64url'), idk: key });
    const headers = { 'idempotency-key': key, 'x-device-token': deviceToken, 'x-device-proof': bookingProof };
    const booked = await call(201, 'POST', `${base}/bookings`, { body: { ...booking, answers: { [reason.id]: 'Toothache' } }, headers });
    await call(401, 'POST', `${base}/bookings`, { body: { ...booking, answers: { [reason.id]: 'Toothache' } }, headers }); // the proof was used
    await call(200, 'GET', `/v1/bookings/${booked.id}`, { token: t });
    await call(204, 'DELETE', `${questions}/${reason.id}`, { token: t });
    await call(404, 'DELETE', `${questions}/${reason.id}`, { token: t });
  });

  withContract('staff bookings: create, list, read, audit trail, every action', async () => {
    const { owner, t, provider, service } = await clinic();
    const book = (expected: number, startsAt: string, extra: Record<string, unknown> = {}) =>
      call(expected, 'POST', '/v1/bookings', {
        token: t, body: { service_id: service.id, provider_id: provider.id, starts_at: startsAt, contact: { name: 'Walk-in Wanda' }, ...extra },
      });
    const b1 = await book(201, utc(3, '10:00'));
    await book(409, utc(3, '10:00'));
    await book(422, utc(3, '10:07'));
    await call(404, 'POST', '/v1/bookings', { token: t, body: { service_id: '00000000-0000-4000-8000-000000000000', starts_at: utc(3, '10:00'), contact: { name: 'X' } } });
    await call(401, 'POST', '/v1/bookings', { body: { service_id: service.id, starts_at: utc(3, '10:00'), contact: { name: 'X' } } });
    const viewer = await call(201, 'POST', '/v1/members', { token: t, body: { email: (await createUser(api().db)).email, role: 'viewer' } });
    const viewerToken = (await api().tokens.signAccess({ sub: viewer.user_id as string, tenant_id: owner.tenantId })).token;
    await call(403, 'POST', '/v1/bookings', {
      token: viewerToken, body: { service_id: service.id, starts_at: utc(3, '12:00'), contact: { name: 'X', email: 'x@example.test' } },
    });

    await call(200, 'GET', `/v1/bookings?from=${utc(1, '00:00')}&to=${utc(10, '00:00')}&status=confirmed&provider=${provider.id}&q=wanda&limit=5`, { token: t });
    await call(401, 'GET', '/v1/bookings');
    await call(422, 'GET', '/v1/bookings?status=lost', { token: t });
    await call(200, 'GET', `/v1/bookings/${b1.id}`, { token: t });
    await call(404, 'GET', '/v1/bookings/00000000-0000-4000-8000-000000000000', { token: t });
    await call(200, 'POST', `/v1/bookings/${b1.id}/reschedule`, { token: t, body: { starts_at: utc(3, '11:00') } });
    const b2 = await book(201, utc(3, '10:00'));
    await call(409, 'POST', `/v1/bookings/${b2.id}/reschedule`, { token: t, body: { starts_at: utc(3, '11:00') } });
    await call(200, 'POST', `/v1/bookings/${b1.id}/cancel`, { token: t, body: { reason: 'customer called' } });
    await call(409, 'POST', `/v1/bookings/${b1.id}/cancel`, { token: t });
    await call(200, 'GET', `/v1/bookings/${b1.id}/events`, { token: t });
    await call(404, 'GET', '/v1/bookings/00000000-0000-4000-8000-000000000000/events', { token: t });

    const held = await book(201, utc(4, '09:00'), { hold: true });
    await call(200, 'POST', `/v1/bookings/${held.id}/confirm`, { token: t });
    await call(409, 'POST', `/v1/bookings/${held.id}/confirm`, { token: t });
    const rejected = await book(201, utc(4, '10:00'), { hold: true });
    await call(200, 'POST', `/v1/bookings/${rejected.id}/reject`, { token: t, body: { reason: 'double-booked room' } });
    await call(409, 'POST', `/v1/bookings/${rejected.id}/reject`, { token: t, body: {} });
    await call(409, 'POST', `/v1/bookings/${b2.id}/complete`, { token: t }); // booking_not_started
    await call(409, 'POST', `/v1/bookings/${b2.id}/no-show`, { token: t });
    const done = await book(201, utc(-1, '10:00'));
    await call(200, 'POST', `/v1/bookings/${done.id}/complete`, { token: t });
    await call(409, 'POST', `/v1/bookings/${done.id}/complete`, { token: t });
    const missed = await book(201, utc(-1, '11:00'));
    await call(200, 'POST', `/v1/bookings/${missed.id}/no-show`, { token: t });
    await call(409, 'POST', `/v1/bookings/${missed.id}/no-show`, { token: t });
  });

  withContract('sessions: schedule, generate, list, change capacity, cancel', async () => {
    const { t, provider, location, group, service } = await clinic();
    const session = await call(201, 'POST', '/v1/sessions', {
      token: t, body: { service_id: group.id, provider_id: provider.id, location_id: location.id, starts_at: utc(5, '18:00'), capacity: 8 },
    });
    await call(409, 'POST', '/v1/sessions', {
      token: t, body: { service_id: group.id, provider_id: provider.id, location_id: location.id, starts_at: utc(5, '18:30'), capacity: 8 },
    });
    await call(422, 'POST', '/v1/sessions', { token: t, body: { service_id: group.id } });
    await call(201, 'POST', '/v1/sessions', {
      token: t, body: { service_id: group.id, provider_id: provider.id, location_id: location.id, starts_at: utc(7, '18:00'), capacity: 8, force: true },
    });
    await call(201, 'POST', '/v1/sessions/generate', { token: t, body: { service_id: group.id, from: utc(6, '08:00'), to: utc(6, '12:00') } });
    await call(404, 'POST', '/v1/sessions/generate', { token: t, body: { service_id: service.id, from: utc(6, '08:00'), to: utc(6, '12:00') } });
    await call(422, 'POST', '/v1/sessions/generate', { token: t, body: { service_id: group.id, from: utc(6, '00:00'), to: utc(200, '00:00') } });
    await call(200, 'GET', `/v1/sessions?service=${group.id}&from=${utc(1, '00:00')}&limit=3`, { token: t });
    await call(200, 'PATCH', `/v1/sessions/${session.id}`, { token: t, body: { capacity: 10 } });
    await call(201, 'POST', '/v1/bookings', { token: t, body: { service_id: group.id, session_id: session.id, party_size: 3, contact: { name: 'Group' } } });
    await call(422, 'PATCH', `/v1/sessions/${session.id}`, { token: t, body: { capacity: 2 } });
    await call(200, 'POST', `/v1/sessions/${session.id}/cancel`, { token: t });
    await call(404, 'POST', '/v1/sessions/00000000-0000-4000-8000-000000000000/cancel', { token: t });
  });

  withContract('API keys, customer accounts, the customers view and analytics', async () => {
    const { owner, t, service } = await clinic();
    const key = await call(201, 'POST', '/v1/api-keys', { token: t, body: { name: 'Calendar sync', scopes: ['bookings:read'] } });
    await call(422, 'POST', '/v1/api-keys', { token: t, body: { name: 'x', scopes: ['everything:forever'] } });
    await call(200, 'GET', '/v1/api-keys?include_revoked=true&limit=5', { token: t });
    await call(200, 'GET', `/v1/api-keys/${key.id}`, { token: t });
    await call(200, 'GET', '/v1/bookings', { headers: { 'x-api-key': key.key as string } });
    await call(403, 'POST', '/v1/locations', { headers: { 'x-api-key': key.key as string }, body: { name: 'Nope', time_zone: 'UTC' } });
    await call(204, 'DELETE', `/v1/api-keys/${key.id}`, { token: t });
    await call(404, 'DELETE', '/v1/api-keys/00000000-0000-4000-8000-000000000000', { token: t });

    const email = `${uniq('carla-')}@example.test`;
    const password = 'a long customer password';
    const signedUp = await call(201, 'POST', `/v1/public/${owner.slug}/customers/signup`, {
      body: { email, password, name: 'Carla Customer', phone: '+49 30 7654321' },
    });
    await call(409, 'POST', `/v1/public/${owner.slug}/customers/signup`, { body: { email, password, name: 'Carla Again' } });
    await call(404, 'POST', '/v1/public/no-such-business/customers/signup', { body: { email: `${uniq('x-')}@example.test`, password, name: 'X' } });
    await call(401, 'POST', `/v1/public/${owner.slug}/customers/login`, { body: { email, password: 'not the password' } });
    const login = await call(200, 'POST', `/v1/public/${owner.slug}/customers/login`, { body: { email, password } });
    const customer = login.access_token as string;
    await call(200, 'GET', '/v1/me', { token: customer });
    await call(401, 'GET', '/v1/me');
    await call(200, 'PATCH', '/v1/me', { token: customer, body: { phone: '+49 30 1111111' } });
    await call(201, 'POST', `/v1/public/${owner.slug}/bookings`, { token: customer, body: { service_id: service.id, starts_at: utc(6, '10:00') } });
    await call(200, 'GET', '/v1/me/bookings?upcoming=true', { token: customer });
    await call(403, 'GET', '/v1/customers', { token: customer });

    await call(200, 'GET', '/v1/customers?limit=10', { token: t });
    await call(200, 'GET', `/v1/customers/${(signedUp.user as { id: string }).id}/bookings`, { token: t });
    const today = new Date().toISOString().slice(0, 10);
    const nextMonth = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    await call(200, 'GET', `/v1/analytics/summary?from=${today}&to=${nextMonth}`, { token: t });
    await call(422, 'GET', `/v1/analytics/summary?from=${nextMonth}&to=${today}`, { token: t });
  });

  withContract('booking page data: the live event stream and the providers a booker can pick; 404 for an unknown business', async () => {
    const { owner } = await clinic();
    await call(200, 'GET', `/v1/public/${owner.slug}/events`);
    await call(200, 'GET', `/v1/public/${owner.slug}/providers`);
    await call(404, 'GET', '/v1/public/no-such-business/providers');
    await call(200, 'GET', `/v1/public/${owner.slug}/events`, { headers: { 'last-event-id': 'otherprocess-3' } });
    await call(404, 'GET', '/v1/public/no-such-business/events');
  });

  withContract('bans: ban, list, read, change, lift; a banned guest is told slot_taken and the attempt is listed', async () => {
    const { owner, t, service } = await clinic();
    const ban = await call(201, 'POST', '/v1/bans', { token: t, body: { kind: 'email', value: 'Mallory@Example.test', reason: 'Three no-shows in a row' } });
    await call(409, 'POST', '/v1/bans', { token: t, body: { kind: 'email', value: 'mallory@example.test', reason: 'Again' } });
    await call(422, 'POST', '/v1/bans', { token: t, body: { kind: 'domain', value: 'localhost', reason: 'x' } });
    await call(401, 'GET', '/v1/bans');
    await call(200, 'GET', '/v1/bans?limit=10', { token: t });
    await call(200, 'GET', `/v1/bans/${ban.id}`, { token: t });
    await call(404, 'GET', '/v1/bans/00000000-0000-4000-8000-000000000000', { token: t });
    await call(200, 'PATCH', `/v1/bans/${ban.id}`, { token: t, body: { reason: 'Abusive calls', expires_at: utc(60, '00:00') } });
    await call(409, 'POST', `/v1/public/${owner.slug}/bookings`, {
      body: { service_id: service.id, starts_at: utc(3, '10:00'), contact: { name: 'Mallory', email: 'mallory@example.test' } },
      headers: { 'x-device-token': `dvc_${uniq()}${uniq()}` },
    });
    await call(200, 'GET', `/v1/bans/hits?ban=${ban.id}&limit=5`, { token: t });
    await call(422, 'GET', '/v1/bans/hits?cursor=nonsense', { token: t });
    await call(204, 'DELETE', `/v1/bans/${ban.id}`, { token: t });
    await call(404, 'DELETE', `/v1/bans/${ban.id}`, { token: t });
  });

  withContract('calendars: a booking as .ics; provider feeds: create, list, subscribe, revoke', async () => {
    const { owner, t, provider, service } = await clinic();
    const slots = await call(200, 'GET', `/v1/public/${owner.slug}/services/checkup/slots?from=${utc(3, '00:00')}&to=${utc(4, '00:00')}`);
    const [first] = slots.data as unknown as { starts_at: string }[];
    const receipt = await call(201, 'POST', `/v1/public/${owner.slug}/bookings`, {
      body: { service_id: service.id, starts_at: first!.starts_at, contact: { name: 'Ada Guest', email: 'ada@example.test' } },
    });
    const manageToken = encodeURIComponent(receipt.manage_token as string);
    await call(200, 'GET', `/v1/public/bookings/${receipt.code}.ics?token=${manageToken}`);
    await call(404, 'GET', `/v1/public/bookings/${receipt.code}.ics?token=wrong-token`);
    await call(422, 'GET', '/v1/public/bookings/not-a-code.ics?token=x');
    await call(401, 'POST', `/v1/providers/${provider.id}/calendar-feeds`);
    const feed = await call(201, 'POST', `/v1/providers/${provider.id}/calendar-feeds`, { token: t, body: { name: 'Phone' } });
    await call(201, 'POST', `/v1/providers/${provider.id}/calendar-feeds`, { token: t });
    await call(422, 'POST', `/v1/providers/${provider.id}/calendar-feeds`, { token: t, body: { name: '' } });
    await call(404, 'POST', '/v1/providers/00000000-0000-4000-8000-000000000000/calendar-feeds', { token: t });
    await call(200, 'GET', `/v1/providers/${provider.id}/calendar-feeds?limit=10`, { token: t });
    const feedPath = new URL(feed.url as string).pathname;
    await call(200, 'GET', feedPath);
    await call(404, 'GET', `/v1/feeds/sbcal_${'A'.repeat(43)}.ics`);
    await call(422, 'GET', '/v1/feeds/nope.ics');
    await call(204, 'DELETE', `/v1/calendar-feeds/${feed.id}`, { token: t });
    await call(404, 'DELETE', `/v1/calendar-feeds/${feed.id}`, { token: t });
    await call(404, 'GET', feedPath);
  });

  withContract('webhooks: register, list, read, change, rotate, test ping, deliveries, redeliver, delete', async () => {
    const { t, service, provider } = await clinic();
    await call(401, 'GET', '/v1/webhook-endpoints');
    const ep = await call(201, 'POST', '/v1/webhook-endpoints', { token: t, body: { url: 'https://hooks.clinic.example/in', description: 'CRM', event_types: ['booking.created'] } });
    await call(422, 'POST', '/v1/webhook-endpoints', { token: t, body: { url: 'ftp://hooks.clinic.example/in' } });
    await call(422, 'POST', '/v1/webhook-endpoints', { token: t, body: { url: 'https://hooks.clinic.example/in', event_types: ['booking.deleted'] } });
    await call(200, 'GET', '/v1/webhook-endpoints?limit=10', { token: t });
    await call(200, 'GET', `/v1/webhook-endpoints/${ep.id}`, { token: t });
    await call(404, 'GET', '/v1/webhook-endpoints/00000000-0000-4000-8000-000000000000', { token: t });
    await call(200, 'PATCH', `/v1/webhook-endpoints/${ep.id}`, { token: t, body: { description: 'CRM sync', event_types: [] } });
    await call(200, 'POST', `/v1/webhook-endpoints/${ep.id}/rotate-secret`, { token: t });
    const ping = await call(202, 'POST', `/v1/webhook-endpoints/${ep.id}/test`, { token: t });
    await call(201, 'POST', '/v1/bookings', { token: t, body: { service_id: service.id, provider_id: provider.id, starts_at: utc(3, '10:00'), contact: { name: 'Ada Guest' } } });
    await call(200, 'GET', `/v1/webhook-endpoints/${ep.id}/deliveries?limit=2&status=pending`, { token: t });
    await call(422, 'GET', `/v1/webhook-endpoints/${ep.id}/deliveries?cursor=nonsense`, { token: t });
    await call(200, 'GET', `/v1/webhook-deliveries/${ping.id}`, { token: t });
    await call(202, 'POST', `/v1/webhook-deliveries/${ping.id}/redeliver`, { token: t });
    await call(404, 'POST', '/v1/webhook-deliveries/00000000-0000-4000-8000-000000000000/redeliver', { token: t });
    await call(200, 'PATCH', `/v1/webhook-endpoints/${ep.id}`, { token: t, body: { is_enabled: false } });
    await call(409, 'POST', `/v1/webhook-endpoints/${ep.id}/test`, { token: t });
    await call(204, 'DELETE', `/v1/webhook-endpoints/${ep.id}`, { token: t });
    await call(404, 'DELETE', `/v1/webhook-endpoints/${ep.id}`, { token: t });
  });

  withContract('notifications: the delivery log after a booking\'s confirmation, filters and pages; opt-outs recorded, listed, lifted', async () => {
    const { owner, t, service } = await clinic();
    const booked = await call(201, 'POST', `/v1/public/${owner.slug}/bookings`, {
      body: { service_id: service.id, starts_at: utc(4, '10:00'), contact: { name: 'Ada Guest', email: `${uniq('ada-')}@example.test`, phone: '+49 30 1234567' } },
    });
    await drainJobs(api().db);
    const log = await call(200, 'GET', `/v1/notifications?booking_id=${booked.id}&channel=email&status=sent&limit=1`, { token: t });
    expect(log.data).toHaveLength(1);
    await call(200, 'GET', '/v1/notifications', { token: t });
    await call(401, 'GET', '/v1/notifications');
    await call(422, 'GET', '/v1/notifications?status=lost', { token: t });
    const optOut = await call(201, 'POST', '/v1/notification-opt-outs', { token: t, body: { channel: 'sms', address: '+49 30 123-4567', reason: 'No texts please' } });
    await call(409, 'POST', '/v1/notification-opt-outs', { token: t, body: { channel: 'sms', address: '0049301234567' } });
    await call(422, 'POST', '/v1/notification-opt-outs', { token: t, body: { channel: 'sms', address: '030 1234567' } });
    await call(200, 'GET', '/v1/notification-opt-outs?limit=10', { token: t });
    await call(204, 'DELETE', `/v1/notification-opt-outs/${optOut.id}`, { token: t });
    await call(404, 'DELETE', `/v1/notification-opt-outs/${optOut.id}`, { token: t });
  });

  withContract('billing: plans, the tenant\'s billing, Checkout, signed Stripe webhooks, the portal, paying a held booking; 400 on a bad signature', async () => {
    const owner = await signup();
    const t = owner.token;
    await call(200, 'GET', '/v1/plans');
    await call(200, 'GET', '/v1/billing', { token: t });
    await call(401, 'GET', '/v1/billing');
    await call(200, 'POST', '/v1/billing/checkout', { token: t, body: { plan: 'pro' }, headers: { 'idempotency-key': 'contract-1' } });
    await call(422, 'POST', '/v1/billing/checkout', { token: t, body: { plan: 'free' } });
    await call(409, 'POST', '/v1/billing/portal', { token: t });
    const ids = stripeIds();
    for (const type of ['checkout.session.completed', 'customer.subscription.updated']) {
      const e = stripeEvent(type, { tenantId: owner.tenantId, ...ids, status: 'active' });
      await call(200, 'POST', '/v1/billing/stripe/webhook', { body: e.payload, headers: { 'content-type': 'application/json', 'stripe-signature': signStripe(e.payload) } });
    }
    const bad = stripeEvent('invoice.paid', { tenantId: owner.tenantId, ...ids });
    await call(400, 'POST', '/v1/billing/stripe/webhook', { body: bad.payload, headers: { 'content-type': 'application/json', 'stripe-signature': signStripe(bad.payload, 'whsec_wrongSecret0123') } });
    await drainJobs(api().db, { env: TEST_STRIPE_ENV });
    await call(200, 'POST', '/v1/billing/portal', { token: t });
    await call(409, 'POST', '/v1/billing/checkout', { token: t, body: { plan: 'business' } });
    // Stripe Connect: booking payments on the tenant's own account.
    stripe.standIn().connectAccount('acct_1ContractClinic');
    await call(200, 'PUT', '/v1/billing/stripe-account', { token: t, body: { stripe_account: 'acct_1ContractClinic' } });
    await call(422, 'PUT', '/v1/billing/stripe-account', { token: t, body: { stripe_account: 'acct-malformed' } });
    // A paid service: the public booking is held and paid through Checkout.
    const { owner: paidOwner, service } = await clinic();
    await api().db.query(`update slotbase.services set price_cents = 4000, currency = 'EUR' where id = $1`, [service.id]);
    await api().db.query('update slotbase_private.billing_settings set collect_booking_payments = true');
    try {
      const held = await call(201, 'POST', `/v1/public/${paidOwner.slug}/bookings`, { body: { service_id: service.id, starts_at: utc(5, '10:00'), contact: { name: 'Ada Guest', email: 'ada@example.test' } } });
      expect(held.status).toBe('held');
      await call(200, 'POST', `/v1/public/bookings/${held.code}/checkout`, { headers: { 'x-manage-token': held.manage_token as string } });
      await call(404, 'POST', `/v1/public/bookings/${held.code}/checkout?token=wrong`);
      await call(200, 'GET', `/v1/public/bookings/${held.code}/payment`, { headers: { 'x-manage-token': held.manage_token as string } });
      await call(404, 'GET', `/v1/public/bookings/${held.code}/payment?token=wrong`);
      await call(200, 'GET', `/v1/bookings/${held.id}/payment`, { token: paidOwner.token });
    } finally {
      await api().db.query('update slotbase_private.billing_settings set collect_booking_payments = false');
    }
  });

  withContract('recurring series: staff and public create (all or nothing, partial), read, cancel and move the rest; 409 series_conflict, 422 invalid_recurrence', async () => {
    const { owner, t, service, provider, location } = await clinic();
    const base = `/v1/public/${owner.slug}`;
    const first = utc(3, '08:00');
    const body = { service_id: service.id, starts_at: first, rrule: 'FREQ=WEEKLY;COUNT=4', provider_id: provider.id, contact: { name: 'Ada Guest', email: 'ada@example.test' } };
    await call(201, 'POST', '/v1/bookings', { token: t, body: { service_id: service.id, starts_at: utc(17, '08:00'), provider_id: provider.id, contact: { name: 'Blocker' } } });
    const refused = await call(409, 'POST', `${base}/booking-series`, { body });
    expect((refused.conflicts as unknown as { code: string }[]).map((x) => x.code)).toEqual(['slot_taken']);
    const series = await call(201, 'POST', `${base}/booking-series`, { body: { ...body, mode: 'partial' }, headers: { 'idempotency-key': uniq('series-') } });
    expect((series.occurrences as unknown[]).length).toBe(3);
    await call(422, 'POST', `${base}/booking-series`, { body: { ...body, rrule: 'FREQ=WEEKLY;COUNT=3;UNTIL=20991231' } });
    await call(404, 'POST', '/v1/public/no-such-clinic/booking-series', { body });
    const manage = `/v1/public/booking-series/${series.code}`;
    const token = series.manage_token as string;
    const occurrences = series.occurrences as unknown as { booking_id: string; starts_at: string }[];
    await call(200, 'GET', `${manage}?token=${token}`);
    await call(404, 'GET', `${manage}?token=wrong-token`);
    await call(200, 'POST', `${manage}/reschedule?token=${token}`, { body: { from_booking_id: occurrences[1]!.booking_id, starts_at: new Date(Date.parse(occurrences[1]!.starts_at) + 3_600_000).toISOString() } });
    await call(200, 'POST', `${manage}/cancel?token=${token}`, { body: { from_booking_id: occurrences[2]!.booking_id } });
    const staff = await call(201, 'POST', '/v1/booking-series', { token: t, body: { ...body, starts_at: utc(4, '09:00'), location_id: location.id, rrule: 'FREQ=MONTHLY;COUNT=2' } });
    await call(422, 'POST', '/v1/booking-series', { token: t, body: { ...body, rrule: 'FREQ=WEEKLY;COUNT=60' } });
    await call(401, 'POST', '/v1/booking-series', { body });
    await call(200, 'GET', `/v1/booking-series/${staff.id}`, { token: t });
    await call(404, 'GET', `/v1/booking-series/00000000-0000-4000-8000-000000000000`, { token: t });
    const staffOccurrences = staff.occurrences as unknown as { booking_id: string; starts_at: string }[];
    await call(200, 'POST', `/v1/booking-series/${staff.id}/reschedule`, { token: t, body: { from_booking_id: staffOccurrences[0]!.booking_id, starts_at: new Date(Date.parse(staffOccurrences[0]!.starts_at) + 1_800_000).toISOString() } });
    await call(200, 'POST', `/v1/booking-series/${staff.id}/cancel`, { token: t, body: {} });
  });

  withContract('waitlist: join, view, leave; staff list, add, read, move, remove; an offer is read, accepted or declined', async () => {
    const { owner, t, service, provider } = await clinic();
    const base = `/v1/public/${owner.slug}`;
    const window = { window_from: utc(2, '00:00'), window_to: utc(5, '00:00') };
    const joined = await call(201, 'POST', `${base}/waitlist`, { body: { service_id: service.id, provider_id: provider.id, ...window, contact: { name: 'Wanda Wait', email: 'wanda@example.test' } }, headers: { 'idempotency-key': uniq('wl-') } });
    await call(422, 'POST', `${base}/waitlist`, { body: { service_id: service.id, window_from: window.window_to, window_to: window.window_from, contact: { name: 'X', email: 'x@example.test' } } });
    const entryToken = joined.manage_token as string;
    await call(200, 'GET', `/v1/public/waitlist/${joined.id}?token=${entryToken}`);
    await call(404, 'GET', `/v1/public/waitlist/${joined.id}?token=wrong`);
    const staffEntry = await call(201, 'POST', '/v1/waitlist', { token: t, body: { service_id: service.id, ...window, contact: { name: 'Walter Wait', email: 'walter@example.test' } } });
    await call(200, 'GET', '/v1/waitlist', { token: t });
    await call(401, 'GET', '/v1/waitlist');
    await call(200, 'GET', `/v1/waitlist/${staffEntry.id}`, { token: t });
    await call(200, 'POST', `/v1/waitlist/${staffEntry.id}/move`, { token: t, body: { position: 1 } });
    await call(422, 'POST', `/v1/waitlist/${staffEntry.id}/move`, { token: t, body: { position: 0 } });
    // A freed time is offered to the front entry (Walter, moved there), who declines; then Wanda accepts it.
    const booked = await call(201, 'POST', '/v1/bookings', { token: t, body: { service_id: service.id, starts_at: utc(3, '10:00'), provider_id: provider.id, contact: { name: 'Cancel Me' } } });
    await call(200, 'POST', `/v1/bookings/${booked.id}/cancel`, { token: t, body: {} });
    await drainJobs(api().db);
    const offerToken = async (entryId: string) => {
      const [row] = await api().db.query<{ id: string; token: string }>(
        `select o.id, c.token from slotbase.waitlist_offers as o, slotbase_private.waitlist_offer_context(o.tenant_id, o.id) as c where o.entry_id = $1 and o.status = 'open'`, [entryId]);
      return row!;
    };
    const walter = await offerToken(staffEntry.id);
    await call(200, 'GET', `/v1/public/waitlist-offers/${walter.id}?token=${walter.token}`);
    await call(200, 'POST', `/v1/public/waitlist-offers/${walter.id}/decline?token=${walter.token}`);
    await call(409, 'POST', `/v1/public/waitlist-offers/${walter.id}/accept?token=${walter.token}`);
    await drainJobs(api().db);
    const wanda = await offerToken(joined.id);
    await call(404, 'POST', `/v1/public/waitlist-offers/${wanda.id}/accept?token=wrong`);
    await call(200, 'POST', `/v1/public/waitlist-offers/${wanda.id}/accept?token=${wanda.token}`);
    await call(200, 'DELETE', `/v1/waitlist/${staffEntry.id}`, { token: t });
    const other = await call(201, 'POST', `${base}/waitlist`, { body: { service_id: service.id, ...window, contact: { name: 'Leaving', phone: '+49 30 1234567' } } });
    await call(200, 'DELETE', `/v1/public/waitlist/${other.id}?token=${other.manage_token as string}`);
  });

  it('every operation of the spec was exercised with a success status (coverage report)', () => {
    const report = [...coverage].map(([label, seen]) => `${label.padEnd(60)} ${[...seen.statuses].sort().join(', ') || '—'}`);
    console.info(`OpenAPI coverage (operation → statuses seen):\n${report.join('\n')}`);
    const untested = [...coverage].filter(([, seen]) => ![...seen.statuses].some((s) => s >= 200 && s < 300)).map(([label]) => label);
    expect(untested, 'operations never answered with a 2xx').toEqual([]);
  });
});
