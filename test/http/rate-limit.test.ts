import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { ANON } from '#src/db/session.ts';
import type { AppEnv } from '#src/http/env.ts';
import { problemResponse, toProblem } from '#src/http/problem.ts';
import { rateLimit, type RateLimitOptions } from '#src/http/rate-limit.ts';
import { uniq } from '../support/factories.ts';
import { useApi } from '../support/http.ts';

/** The test's clock: moved by hand, never by sleeping. */
let now = Date.parse('2027-01-01T00:00:00Z');
const advance = (seconds: number) => {
  now += seconds * 1000;
};

/** 3 requests a minute per address (one every 20 s), 5 a minute per user or key (one every 12 s). */
const LIMITS: RateLimitOptions = {
  public: { limit: 3, windowSeconds: 60 },
  authenticated: { limit: 5, windowSeconds: 60 },
  now: () => now,
  trustProxy: true,
};

interface Problem {
  code: string;
}

/** A fresh client address per test, so no bucket is shared between tests. */
const newIp = () => `198.51.100.${Math.floor(Math.random() * 250) + 1}-${uniq()}`;

describe('rate limits', () => {
  const api = useApi({ rateLimit: LIMITS });

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

  it('liveness and readiness probes are never limited', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await api().request('GET', '/health');
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-limit')).toBeNull();
    }
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
