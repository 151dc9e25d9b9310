import { describe, expect, it } from 'vitest';
import { insertBooking } from '../support/booking-rows.ts';
import { createLocation, createProvider, createService, createTenant, createUser, uniq } from '../support/factories.ts';
import { useApi, type TestApi } from '../support/http.ts';
import { createStaffWorld, utc, type StaffWorld } from '../support/staff-world.ts';

interface Session {
  kind: string;
  access_token: string;
  refresh_token: string;
  user: { id: string; email: string };
  tenant: unknown;
  tenants: unknown[];
}
interface Page<T> {
  data: T[];
  next_cursor: string | null;
}
interface MyBooking {
  id: string;
  tenant_id: string;
  code: string;
  starts_at: string;
  contact_name: string;
  contact_email: string | null;
  contact_phone: string | null;
}
interface Customer {
  key: string;
  name: string;
  email: string | null;
  phone: string | null;
  customer_user_id: string | null;
  bookings_count: number;
  last_booking_at: string | null;
  next_booking_at: string | null;
}

const PASSWORD = 'correct horse battery staple';

async function slugOf(api: TestApi, tenantId: string): Promise<string> {
  const [row] = await api.db.query<{ slug: string }>('select slug from slotbase.tenants where id = $1', [tenantId]);
  return row!.slug;
}

async function signUpCustomer(api: TestApi, slug: string, over: Record<string, unknown> = {}) {
  const body = { email: `${uniq('cust-')}@example.test`, password: PASSWORD, name: 'Ada Lovelace', phone: '+49 30 1234567', ...over };
  const res = await api.json<Session>('POST', `/v1/public/${slug}/customers/signup`, { body });
  expect(res.status).toBe(201);
  return { ...res.body, email: body.email };
}

/** A world and its public slug. */
async function world(api: TestApi): Promise<StaffWorld & { slug: string }> {
  const w = await createStaffWorld(api);
  return { ...w, slug: await slugOf(api, w.tenantId) };
}

describe('customer accounts', () => {
  const api = useApi();

  it('a customer signs up and logs in on a business page; the session never acts in a tenant', async () => {
    const w = await world(api());
    const session = await signUpCustomer(api(), w.slug);
    expect(session).toMatchObject({ kind: 'customer', tenant: null, tenants: [] });
    const claims = await api().tokens.verifyAccess(session.access_token);
    expect(claims).toMatchObject({ sub: session.user.id, kind: 'customer' });
    expect(claims.tenant_id).toBeUndefined();

    const login = await api().json<Session>('POST', `/v1/public/${w.slug}/customers/login`, { body: { email: session.email, password: PASSWORD } });
    expect(login).toMatchObject({ status: 200, body: { kind: 'customer', user: { id: session.user.id } } });
    const wrong = await api().json('POST', `/v1/public/${w.slug}/customers/login`, { body: { email: session.email, password: 'not the password' } });
    expect(wrong).toMatchObject({ status: 401, body: { code: 'invalid_credentials' } });
    const nowhere = await api().json('POST', '/v1/public/no-such-business/customers/login', { body: { email: session.email, password: PASSWORD } });
    expect(nowhere).toMatchObject({ status: 404, body: { code: 'not_found' } });
    const nowhereSignup = await api().json('POST', '/v1/public/no-such-business/customers/signup', {
      body: { email: `${uniq('c-')}@example.test`, password: PASSWORD, name: 'X' },
    });
    expect(nowhereSignup.status).toBe(404);
  });

  it('one email is one account: signing up again at another business is 409, logging in there works', async () => {
    const a = await world(api());
    const b = await world(api());
    const session = await signUpCustomer(api(), a.slug);
    const again = await api().json<{ code: string; errors: { field: string }[] }>('POST', `/v1/public/${b.slug}/customers/signup`, {
      body: { email: session.email.toUpperCase(), password: PASSWORD, name: 'Ada again' },
    });
    expect(again).toMatchObject({ status: 409, body: { code: 'already_exists', errors: [{ field: 'email' }] } });
    const login = await api().json<Session>('POST', `/v1/public/${b.slug}/customers/login`, { body: { email: session.email, password: PASSWORD } });
    expect(login).toMatchObject({ status: 200, body: { kind: 'customer', user: { id: session.user.id } } });
  });

  it('sign-up validates its body strictly and a bad phone creates no account', async () => {
    const w = await world(api());
    const email = `${uniq('c-')}@example.test`;
    const post = (body: unknown) => api().json<{ code: string }>('POST', `/v1/public/${w.slug}/customers/signup`, { body });
    expect((await post({ email, password: PASSWORD })).status).toBe(422); // name is required
    expect((await post({ email, password: PASSWORD, name: 'A', extra: 1 })).status).toBe(422);
    expect((await post({ email, password: PASSWORD, name: 'A', phone: 'call me' })).status).toBe(422);
    expect((await post({ email, password: PASSWORD, name: 'A' })).status).toBe(201);
  });

  it('refreshing a customer session gives a customer session again', async () => {
    const w = await world(api());
    const session = await signUpCustomer(api(), w.slug);
    const refreshed = await api().json<Session>('POST', '/v1/auth/refresh', { body: { refresh_token: session.refresh_token } });
    expect(refreshed).toMatchObject({ status: 200, body: { kind: 'customer', tenant: null, tenants: [] } });
    expect(await api().tokens.verifyAccess(refreshed.body.access_token)).toMatchObject({ kind: 'customer' });
    // The staff login of the same person stays a staff session.
    const staff = await api().json<Session>('POST', '/v1/auth/login', { body: { email: session.email, password: PASSWORD } });
    expect(staff.body.kind).toBe('staff');
  });

  it('GET and PATCH /v1/me read and change the caller\'s own profile', async () => {
    const w = await world(api());
    const session = await signUpCustomer(api(), w.slug, { name: 'Ada Lovelace', phone: '+49 30 1234567' });
    const token = session.access_token;
    const me = await api().json('GET', '/v1/me', { token });
    expect(me).toMatchObject({ status: 200, body: { id: session.user.id, email: session.email, display_name: 'Ada Lovelace', phone: '+49 30 1234567' } });
    const patched = await api().json('PATCH', '/v1/me', { token, body: { display_name: 'Ada King', phone: null } });
    expect(patched).toMatchObject({ status: 200, body: { display_name: 'Ada King', phone: null } });
    expect((await api().json('PATCH', '/v1/me', { token, body: {} })).status).toBe(422);
    expect((await api().json('PATCH', '/v1/me', { token, body: { phone: 'nope' } })).status).toBe(422);
    expect((await api().json('PATCH', '/v1/me', { token, body: { email: 'x@example.test' } })).status).toBe(422);
    expect((await api().json('GET', '/v1/me')).status).toBe(401);
    expect((await api().json('PATCH', '/v1/me', { body: { phone: 'nope' } })).status).toBe(401); // 401 before 422
    // Staff have a profile too.
    expect((await api().json('GET', '/v1/me', { token: w.tokens.owner })).status).toBe(200);
  });

  it('a signed-in customer books without retyping their details; a guest without contact gets 422', async () => {
    const w = await world(api());
    const session = await signUpCustomer(api(), w.slug, { name: 'Ada Lovelace', phone: '+49 30 1234567' });
    const startsAt = utc(3, '10:00');
    const booked = await api().json<{ id: string; code: string }>('POST', `/v1/public/${w.slug}/bookings`, {
      token: session.access_token,
      body: { service_id: w.serviceId, starts_at: startsAt, provider_id: w.providerA },
    });
    expect(booked.status).toBe(201);
    const staffView = await api().json('GET', `/v1/bookings/${booked.body.id}`, { token: w.tokens.owner });
    expect(staffView.body).toMatchObject({
      contact_name: 'Ada Lovelace', contact_email: session.email, contact_phone: '+49 30 1234567', customer_user_id: session.user.id, source: 'public',
    });
    const guest = await api().json<{ code: string; errors: { field: string }[] }>('POST', `/v1/public/${w.slug}/bookings`, {
      body: { service_id: w.serviceId, starts_at: utc(3, '11:00'), provider_id: w.providerA },
    });
    expect(guest).toMatchObject({ status: 422, body: { code: 'validation_failed', errors: [{ field: 'contact' }] } });
    // Given contact details still win over the profile.
    const explicit = await api().json<{ id: string }>('POST', `/v1/public/${w.slug}/bookings`, {
      token: session.access_token,
      body: { service_id: w.serviceId, starts_at: utc(3, '12:00'), provider_id: w.providerA, contact: { name: 'For my son', email: 'son@example.test' } },
    });
    expect((await api().json('GET', `/v1/bookings/${explicit.body.id}`, { token: w.tokens.owner })).body).toMatchObject({
      contact_name: 'For my son', customer_user_id: session.user.id,
    });
  });

  it('/v1/me/bookings lists the customer\'s bookings at every business, upcoming or past, newest first, page by page', async () => {
    const a = await world(api());
    const b = await world(api());
    const session = await signUpCustomer(api(), a.slug);
    const mine = (w: StaffWorld, startsAt: string) =>
      insertBooking(api().db, { tenantId: w.tenantId, serviceId: w.serviceId, providerId: w.providerA, locationId: w.locationA, startsAt, customerUserId: session.user.id, status: 'completed' });
    const pastA = await mine(a, utc(-10, '09:00'));
    const pastB = await mine(b, utc(-2, '09:00'));
    const book = async (w: StaffWorld & { slug: string }, startsAt: string) =>
      (await api().json<{ id: string }>('POST', `/v1/public/${w.slug}/bookings`, {
        token: session.access_token, body: { service_id: w.serviceId, starts_at: startsAt, provider_id: w.providerA },
      })).body.id;
    const soonA = await book(a, utc(2, '09:00'));
    const laterB = await book(b, utc(5, '09:00'));
    // Someone else's booking at the same business never shows.
    await insertBooking(api().db, { tenantId: a.tenantId, serviceId: a.serviceId, providerId: a.providerA, locationId: a.locationA, startsAt: utc(4, '09:00') });

    const list = (query: string) => api().json<Page<MyBooking>>('GET', `/v1/me/bookings${query}`, { token: session.access_token });
    expect((await list('')).body.data.map((r) => r.id)).toEqual([laterB, soonA, pastB.id, pastA.id]);
    expect((await list('?upcoming=true')).body.data.map((r) => r.id)).toEqual([laterB, soonA]);
    expect((await list('?upcoming=false')).body.data.map((r) => r.id)).toEqual([pastB.id, pastA.id]);
    const first = await list('?limit=3');
    expect(first.body.data).toHaveLength(3);
    const second = await list(`?limit=3&cursor=${first.body.next_cursor}`);
    expect(second.body).toEqual({ data: [expect.objectContaining({ id: pastA.id, tenant_id: a.tenantId })], next_cursor: null });
    expect((await list('?upcoming=maybe')).status).toBe(422);
  });

  it('a customer sees no other customer\'s bookings and no staff endpoint', async () => {
    const w = await world(api());
    const ada = await signUpCustomer(api(), w.slug);
    const bob = await signUpCustomer(api(), w.slug, { name: 'Bob' });
    const adas = await api().json<{ id: string; code: string }>('POST', `/v1/public/${w.slug}/bookings`, {
      token: ada.access_token, body: { service_id: w.serviceId, starts_at: utc(3, '10:00'), provider_id: w.providerA },
    });
    expect(adas.status).toBe(201);
    expect((await api().json<Page<MyBooking>>('GET', '/v1/me/bookings', { token: bob.access_token })).body.data).toEqual([]);
    const token = bob.access_token;
    for (const path of ['/v1/bookings', `/v1/bookings/${adas.body.id}`, '/v1/customers', '/v1/analytics/summary?from=2027-01-01&to=2027-02-01', '/v1/tenant', '/v1/locations', '/v1/members']) {
      expect((await api().json('GET', path, { token })).status, path).toBe(403);
    }
    expect((await api().json('POST', `/v1/bookings/${adas.body.id}/cancel`, { token })).status).toBe(403);
    // Ada's own token cannot reach the staff view of her booking either; the manage URL needs its token.
    expect((await api().json('GET', `/v1/bookings/${adas.body.id}`, { token: ada.access_token })).status).toBe(403);
    expect((await api().json('DELETE', `/v1/public/bookings/${adas.body.code}`, { token })).status).toBe(404);
  });
});

describe('staff view of customers', () => {
  const api = useApi();

  /** Ada (email, twice, in either case), Bob (phone only, at B), a walk-in without contact, Cleo (registered). */
  async function customersWorld() {
    const w = await world(api());
    const at = (w2: StaffWorld, where: 'A' | 'B') => ({
      tenantId: w2.tenantId, serviceId: w2.serviceId,
      providerId: where === 'A' ? w2.providerA : w2.providerB, locationId: where === 'A' ? w2.locationA : w2.locationB,
    });
    await insertBooking(api().db, { ...at(w, 'A'), startsAt: utc(-7, '09:00'), status: 'completed', name: 'Ada L.', email: 'Ada@Example.test', createdAt: utc(-9, '00:00') });
    await insertBooking(api().db, { ...at(w, 'A'), startsAt: utc(-3, '09:00'), status: 'cancelled', name: 'Ada L.', email: 'ada@example.test', createdAt: utc(-8, '00:00') });
    await insertBooking(api().db, { ...at(w, 'A'), startsAt: utc(6, '09:00'), status: 'confirmed', name: 'Ada Lovelace', email: 'ada@example.test', phone: '+44 20 7946 0000', createdAt: utc(-1, '00:00') });
    await insertBooking(api().db, { ...at(w, 'B'), startsAt: utc(-1, '09:00'), status: 'no_show', name: 'Bob', email: null, phone: '+49 (30) 555-01' });
    await insertBooking(api().db, { ...at(w, 'B'), startsAt: utc(1, '09:00'), status: 'cancelled', name: 'Bob B.', email: null, phone: '+4930 55501' });
    await insertBooking(api().db, { ...at(w, 'B'), startsAt: utc(1, '10:00'), name: 'Walk-in', email: null, phone: null });
    const cleo = await createUser(api().db, `${uniq('cleo-')}@example.test`);
    await insertBooking(api().db, { ...at(w, 'B'), startsAt: utc(2, '09:00'), name: 'Cleo', email: cleo.email, customerUserId: cleo.id });
    await insertBooking(api().db, { ...at(w, 'B'), startsAt: utc(-20, '09:00'), status: 'completed', name: 'Cleo', email: cleo.email, customerUserId: cleo.id });
    // Another tenant's booking by the same Ada never counts here.
    const other = await world(api());
    await insertBooking(api().db, { ...at(other, 'A'), startsAt: utc(4, '09:00'), name: 'Ada', email: 'ada@example.test' });
    return { w, other, cleo };
  }

  it('aggregates contacts by email (any case) or phone (digits), with counts, last and next booking and account', async () => {
    const { w, cleo } = await customersWorld();
    const res = await api().json<Page<Customer>>('GET', '/v1/customers', { token: w.tokens.owner });
    expect(res.status).toBe(200);
    expect(res.body.next_cursor).toBeNull();
    expect(res.body.data).toEqual([
      {
        key: 'ada@example.test', name: 'Ada Lovelace', email: 'ada@example.test', phone: '+44 20 7946 0000', customer_user_id: null,
        bookings_count: 3, last_booking_at: utc(-7, '09:00'), next_booking_at: utc(6, '09:00'),
      },
      // Both bookings' phones normalise to +493055501; the latest name and phone win.
      {
        key: '+493055501', name: 'Bob B.', email: null, phone: '+4930 55501', customer_user_id: null,
        bookings_count: 2, last_booking_at: utc(-1, '09:00'), next_booking_at: null,
      },
      {
        key: cleo.email.toLowerCase(), name: 'Cleo', email: cleo.email, phone: null, customer_user_id: cleo.id,
        bookings_count: 2, last_booking_at: utc(-20, '09:00'), next_booking_at: utc(2, '09:00'),
      },
    ]);
  });

  it('filters by name or email prefix and pages by name', async () => {
    const { w } = await customersWorld();
    const list = (query: string) => api().json<Page<Customer>>('GET', `/v1/customers${query}`, { token: w.tokens.owner });
    expect((await list('?q=bo')).body.data.map((c) => c.name)).toEqual(['Bob B.']);
    expect((await list('?q=ADA@')).body.data.map((c) => c.name)).toEqual(['Ada Lovelace']);
    const first = await list('?limit=2');
    expect(first.body.data.map((c) => c.name)).toEqual(['Ada Lovelace', 'Bob B.']);
    const second = await list(`?limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body).toMatchObject({ data: [{ name: 'Cleo' }], next_cursor: null });
    expect((await list('?cursor=garbage')).status).toBe(422);
  });

  it('a receptionist of branch A sees only the customers and counts of branch A', async () => {
    const { w } = await customersWorld();
    const res = await api().json<Page<Customer>>('GET', '/v1/customers', { token: w.tokens.receptionistA });
    expect(res.body.data.map((c) => [c.name, c.bookings_count])).toEqual([['Ada Lovelace', 3]]);
  });

  it('lists a registered customer\'s bookings in this tenant, newest first; another tenant\'s staff get 404', async () => {
    const { w, other, cleo } = await customersWorld();
    const res = await api().json<Page<{ starts_at: string; customer_user_id: string }>>('GET', `/v1/customers/${cleo.id}/bookings`, { token: w.tokens.owner });
    expect(res.status).toBe(200);
    expect(res.body.data.map((b) => b.starts_at)).toEqual([utc(2, '09:00'), utc(-20, '09:00')]);
    const paged = await api().json<Page<{ starts_at: string }>>('GET', `/v1/customers/${cleo.id}/bookings?limit=1`, { token: w.tokens.owner });
    const next = await api().json<Page<{ starts_at: string }>>('GET', `/v1/customers/${cleo.id}/bookings?limit=1&cursor=${paged.body.next_cursor}`, { token: w.tokens.owner });
    expect(next.body).toEqual({ data: [expect.objectContaining({ starts_at: utc(-20, '09:00') })], next_cursor: null });
    expect((await api().json('GET', `/v1/customers/${cleo.id}/bookings`, { token: other.tokens.owner })).status).toBe(404);
    // Cleo booked only at branch B: a receptionist of A does not see her.
    expect((await api().json('GET', `/v1/customers/${cleo.id}/bookings`, { token: w.tokens.receptionistA })).status).toBe(404);
    expect((await api().json('GET', '/v1/customers')).status).toBe(401);
  });

  it('a tenant with no bookings has no customers', async () => {
    const tenant = await createTenant(api().db);
    const location = await createLocation(api().db, tenant.id);
    await createProvider(api().db, tenant.id, { locationId: location.id });
    await createService(api().db, tenant.id);
    const token = (await api().tokens.signAccess({ sub: tenant.owner.userId, tenant_id: tenant.id })).token;
    expect((await api().json('GET', '/v1/customers', { token })).body).toEqual({ data: [], next_cursor: null });
  });
});
