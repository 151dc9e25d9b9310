import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { ANON } from '#src/db/session.ts';
import type { AppEnv } from '#src/http/env.ts';
import { problemResponse, toProblem } from '#src/http/problem.ts';
import { memoryRateLimitStore, rateLimit, strictClassOf, type RateLimitOptions, type RateLimitStore } from '#src/http/rate-limit.ts';
import { uniq } from '../support/factories.ts';
import { useApi } from '../support/http.ts';

/** The test's clock: moved by hand, never by sleeping. */
let now = Date.parse('2027-01-01T00:00:00Z');
const advance = (seconds: number) => {
  now += seconds * 1000;
};

/**
 * 3 requests a minute per address (one every 20 s), 5 a minute per user or key (one every 12 s);
 * the stricter classes: 2 bookings, 4 credential calls (sign-ups and logins), 1 device token a minute.
 */
const LIMITS: RateLimitOptions = {
  public: { limit: 3, windowSeconds: 60 },
  authenticated: { limit: 5, windowSeconds: 60 },
  booking: { limit: 2, windowSeconds: 60 },
  auth: { limit: 4, windowSeconds: 60 },
  deviceToken: { limit: 1, windowSeconds: 60 },
  now: () => now,
  trustProxy: true,
};

interface Problem {
  code: string;
}

/** A fresh client address per test, so no bucket is shared between tests. */
const newIp = () => `198.51.100.${Math.floor(Math.random() * 250) + 1}-${uniq()}`;

/** The same rules with the buckets in PostgreSQL (the default: createApp's pool) and in memory. */
const STORES: [string, () => RateLimitStore | undefined][] = [
  ['PostgreSQL store (the default)', () => undefined],
  ['memory store', () => memoryRateLimitStore()],
];

describe.each(STORES)('rate limits, %s', (_name, storeOf) => {
  const store = storeOf();
  const api = useApi({ rateLimit: store ? { ...LIMITS, store } : LIMITS });

  const anon = (ip: string, path = '/v1/public/no-such-tenant/services') =>
    api().json<Problem>('GET', path, { headers: { 'x-forwarded-for': `${ip}, 10.0.0.1` } });

  /** An owner (signed up from their own address) and their access token. */
  async function owner() {
    const res = await api().json<{ access_token: string }>('POST', '/v1/signup', {
      headers: { 'x-forwarded-for': newIp() },
      body: {
        email: `${uniq('owner-')}@example.test`,
        password: 'correct horse battery staple',
        tenant: { slug: uniq('clinic-'), name: 'Clinic', time_zone: 'Europe/Berlin' },
      },
    });
    expect(res.status).toBe(201);
    return res.body.access_token;
  }

  it('an address gets its public budget, then 429 rate_limited with Retry-After; every response says where it stands', async () => {
    const ip = newIp();
    const seen = [];
    for (let i = 0; i < 3; i++) {
      const res = await anon(ip);
      expect(res.status).toBe(404);
      seen.push([res.headers.get('ratelimit-limit'), res.headers.get('ratelimit-remaining')]);
    }
    expect(seen).toEqual([['3', '2'], ['3', '1'], ['3', '0']]);
    const limited = await anon(ip);
    expect(limited).toMatchObject({ status: 429, body: { code: 'rate_limited' } });
    expect(limited.headers.get('content-type')).toBe('application/problem+json');
    expect(limited.headers.get('retry-after')).toBe('20');
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    expect(limited.headers.get('ratelimit-reset')).toBe('60');
  });

  it('the budget refills as the clock moves: one request per 20 s, all of it after a minute', async () => {
    const ip = newIp();
    for (let i = 0; i < 3; i++) await anon(ip);
    expect((await anon(ip)).status).toBe(429);
    advance(19);
    expect((await anon(ip)).status).toBe(429);
    advance(1);
    expect((await anon(ip)).status).toBe(404);
    expect((await anon(ip)).status).toBe(429);
    advance(60);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await anon(ip)).status);
    expect(statuses).toEqual([404, 404, 404, 429]);
  });

  it('each address has its own bucket', async () => {
    const [first, second] = [newIp(), newIp()];
    for (let i = 0; i < 3; i++) await anon(first);
    expect((await anon(first)).status).toBe(429);
    expect((await anon(second)).status).toBe(404);
  });

  it('a signed-in member spends their own, larger budget, not their address\'s', async () => {
    const token = await owner();
    const ip = newIp();
    const get = () => api().json('GET', '/v1/tenant', { token, headers: { 'x-forwarded-for': ip } });
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await get()).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect((await get()).headers.get('ratelimit-limit')).toBe('5');
    // The address itself is untouched.
    expect((await anon(ip)).headers.get('ratelimit-remaining')).toBe('2');
  });

  it('each API key has its own bucket, apart from the person who made it and from other keys', async () => {
    const token = await owner();
    const issue = async () =>
      (await api().json<{ key: string }>('POST', '/v1/api-keys', { token, body: { name: 'k', scopes: ['*'] } })).body.key;
    const [k1, k2] = [await issue(), await issue()];
    const use = (key: string) => api().json('GET', '/v1/tenant', { headers: { 'x-api-key': key } });
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await use(k1)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect((await use(k2)).status).toBe(200);
    // The owner spent two requests issuing the keys: three left.
    expect((await api().json('GET', '/v1/tenant', { token })).headers.get('ratelimit-remaining')).toBe('2');
  });

  it('failed sign-ins count against the address: a bad token is 401 until the budget is gone, then 429', async () => {
    const ip = newIp();
    const bad = () => api().json<Problem>('GET', '/v1/tenant', { token: 'not-a-token', headers: { 'x-forwarded-for': ip } });
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await bad()).body.code);
    expect(codes).toEqual(['invalid_token', 'invalid_token', 'invalid_token', 'rate_limited']);
  });

  it('calendar feed polls spend their own, ten times larger budget per address, apart from its other public calls', async () => {
    const ip = newIp();
    const feed = (n: number) => anon(ip, `/v1/feeds/sbcal_${String(n).padStart(43, 'x')}.ics`);
    // 30 feed polls from one address (10 × its public budget of 3), all answered (404: unknown tokens); the 31st is 429.
    for (let n = 0; n < 30; n++) expect((await feed(n)).status).toBe(404);
    expect((await feed(30)).status).toBe(429);
    // The address's own public budget was not spent by them.
    expect((await anon(ip)).status).toBe(404);
  });

  it('creating a public booking spends the stricter booking budget of the address, apart from its public budget', async () => {
    const ip = newIp();
    const book = () =>
      api().json<Problem>('POST', '/v1/public/no-such-tenant/bookings', {
        headers: { 'x-forwarded-for': ip },
        body: { service_id: '00000000-0000-4000-8000-000000000000', starts_at: '2027-01-02T10:00:00Z', contact: { name: 'Ada', email: 'ada@example.test' } },
      });
    const first = await book();
    expect(first.status).toBe(404);
    expect(first.headers.get('ratelimit-policy')).toBe('2;w=60');
    expect((await book()).status).toBe(404);
    const limited = await book();
    expect(limited).toMatchObject({ status: 429, body: { code: 'rate_limited' } });
    expect(limited.headers.get('retry-after')).toBe('30');
    expect(limited.headers.get('ratelimit-limit')).toBe('2');
    // Reading the catalog from the same address is still within its public budget.
    expect((await anon(ip)).headers.get('ratelimit-remaining')).toBe('2');
  });

  it('sign-ups and logins spend the stricter credential budget of the address', async () => {
    const ip = newIp();
    const login = () =>
      api().json<Problem>('POST', '/v1/auth/login', { headers: { 'x-forwarded-for': ip }, body: { email: `${uniq('nobody-')}@example.test`, password: 'wrong password' } });
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await login()).body.code);
    expect(codes).toEqual(['invalid_credentials', 'invalid_credentials', 'invalid_credentials', 'invalid_credentials', 'rate_limited']);
    // Sign-up shares that budget: the address is out of it.
    const signup = await api().json<Problem>('POST', '/v1/signup', {
      headers: { 'x-forwarded-for': ip },
      body: { email: `${uniq('o-')}@example.test`, password: 'correct horse battery staple', tenant: { slug: uniq('c-'), name: 'C', time_zone: 'Europe/Berlin' } },
    });
    expect(signup).toMatchObject({ status: 429, body: { code: 'rate_limited' } });
    expect((await anon(ip)).status).toBe(404);
  });

  it('device-token issuance spends its own budget of one a minute per address', async () => {
    const ip = newIp();
    const issue = () => api().json<Problem>('POST', '/v1/public/no-such-tenant/device-tokens', { headers: { 'x-forwarded-for': ip }, body: {} });
    expect((await issue()).status).not.toBe(429);
    const limited = await issue();
    expect(limited).toMatchObject({ status: 429, body: { code: 'rate_limited' } });
    expect(limited.headers.get('retry-after')).toBe('60');
  });

  it('a signed-in user creating public bookings spends a booking budget of their own, apart from their user budget', async () => {
    const token = await owner();
    const book = () =>
      api().json<Problem>('POST', '/v1/public/no-such-tenant/bookings', {
        token,
        headers: { 'x-forwarded-for': newIp() },
        body: { service_id: '00000000-0000-4000-8000-000000000000', starts_at: '2027-01-02T10:00:00Z', contact: { name: 'Ada', email: 'ada@example.test' } },
      });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await book()).status);
    expect(statuses.slice(2)).toEqual([429]);
    expect(statuses.slice(0, 2)).not.toContain(429);
    // Their general budget (5) is untouched by the booking attempts.
    const me = await api().json('GET', '/v1/tenant', { token });
    expect([me.headers.get('ratelimit-limit'), me.headers.get('ratelimit-remaining')]).toEqual(['5', '4']);
  });

  it('liveness and readiness probes are never limited', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await api().request('GET', '/health');
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-limit')).toBeNull();
    }
  });
});

describe('classes', () => {
  it('booking creation, series and waitlist joins on /v1/public are the booking class; reads are not', () => {
    expect(strictClassOf('POST', '/v1/public/acme/bookings')).toBe('booking');
    expect(strictClassOf('POST', '/v1/public/acme/series')).toBe('booking');
    expect(strictClassOf('POST', '/v1/public/acme/booking-series')).toBe('booking');
    expect(strictClassOf('POST', '/v1/public/acme/waitlist')).toBe('booking');
    expect(strictClassOf('POST', '/v1/public/acme/waitlist-entries')).toBe('booking');
    expect(strictClassOf('POST', '/v1/public/waitlist-offers/0b7c4a52-2f0e-4c55-9d7e-3f1f3f6f2b10/accept')).toBe('booking');
    expect(strictClassOf('POST', '/v1/public/waitlist-offers/0b7c4a52-2f0e-4c55-9d7e-3f1f3f6f2b10/decline')).toBeUndefined();
    expect(strictClassOf('GET', '/v1/public/acme/services')).toBeUndefined();
    expect(strictClassOf('PATCH', '/v1/public/bookings/BK-7F3K9Q')).toBeUndefined();
    expect(strictClassOf('POST', '/v1/bookings')).toBeUndefined();
  });

  it('sign-up, logins, refresh, password and invitation endpoints are the credential class', () => {
    for (const path of ['/v1/signup', '/v1/auth/login', '/v1/auth/refresh', '/v1/public/acme/customers/login', '/v1/public/acme/customers/signup', '/v1/me/password', '/v1/auth/password-reset', '/v1/auth/accept-invite']) {
      expect(strictClassOf('POST', path), path).toBe('auth');
    }
    expect(strictClassOf('GET', '/v1/auth/login')).toBeUndefined();
    // Staff managing invitations is not a credential call.
    expect(strictClassOf('POST', '/v1/invitations')).toBeUndefined();
  });

  it('device-token issuance is its own class', () => {
    expect(strictClassOf('POST', '/v1/public/acme/device-tokens')).toBe('device_token');
  });
});

describe('when the store fails', () => {
  it('requests go through without rate-limit headers (fails open) and the failure is not an error', async () => {
    const app = new Hono<AppEnv>();
    app.use(async (c, next) => {
      c.set('caller', ANON);
      await next();
    });
    const broken: RateLimitStore = { take: () => Promise.reject(Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' })) };
    const warnings: unknown[] = [];
    const logger = { warn: (o: unknown) => warnings.push(o) } as never;
    app.use(rateLimit({ public: { limit: 1, windowSeconds: 60 }, store: broken, logger, clientAddress: () => '192.0.2.1' }));
    app.get('/', (c) => c.text('ok'));
    app.onError((error, c) => problemResponse(c, toProblem(error)));
    for (let i = 0; i < 3; i++) {
      const res = await app.request('/');
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-limit')).toBeNull();
    }
    // Logged once, not per request.
    expect(warnings).toHaveLength(1);
  });
});

describe('client address', () => {
  /** The limiter alone, in front of a handler, on a connection from 192.0.2.1 (or one the runtime cannot name). */
  function limited(trustProxy: boolean, clientAddress: () => string | undefined = () => '192.0.2.1') {
    const app = new Hono<AppEnv>();
    app.use(async (c, next) => {
      c.set('caller', ANON);
      await next();
    });
    app.use(rateLimit({ public: { limit: 1, windowSeconds: 60 }, now: () => 0, trustProxy, clientAddress }));
    app.get('/', (c) => c.text('ok'));
    app.onError((error, c) => problemResponse(c, toProblem(error)));
    return (forwardedFor?: string) => app.request('/', { headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} });
  }

  it('without TRUST_PROXY, X-Forwarded-For is ignored: a client cannot pick a fresh bucket', async () => {
    const get = limited(false);
    expect((await get('203.0.113.1')).status).toBe(200);
    expect((await get('203.0.113.2')).status).toBe(429);
  });

  it('with TRUST_PROXY, the first X-Forwarded-For hop is the client', async () => {
    const get = limited(true);
    expect((await get('203.0.113.1, 192.0.2.1')).status).toBe(200);
    expect((await get('203.0.113.2, 192.0.2.1')).status).toBe(200);
    expect((await get('203.0.113.1, 192.0.2.99')).status).toBe(429);
  });

  it('an anonymous caller whose address the runtime cannot name is not limited (rather than all sharing one bucket)', async () => {
    const get = limited(true, () => undefined);
    for (let i = 0; i < 3; i++) {
      const res = await get();
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-limit')).toBeNull();
    }
  });
});
