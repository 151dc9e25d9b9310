import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { useTestDb } from '../support/db.ts';
import { uniq } from '../support/factories.ts';
import { asApiRole, freePort } from '../support/processes.ts';
import { until } from '../support/worker.ts';

const db = useTestDb();
const BIN = fileURLToPath(new URL('../../bin/slotbase.js', import.meta.url));

interface Server {
  base: string;
  child: ChildProcess;
}

/**
 * Two real `slotbase serve` processes on the same database, each with its own pool, started once
 * for the file (one after the other: starting takes a while on a busy machine): the budgets live in
 * PostgreSQL, so what one process admitted the other counts. Both trust X-Forwarded-For, as behind
 * a load balancer, so each test picks its own client address. Budgets: 5 public requests a minute
 * per address; 3 failed logins per account and address; credential calls not limited.
 */
const servers: Server[] = [];
beforeAll(async () => {
  const jwtSecret = randomBytes(32).toString('base64url');
  for (let i = 0; i < 2; i++) {
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, 'serve'], {
      env: {
        PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp',
        API_DATABASE_URL: asApiRole(db().url!, inject('apiPassword')), DATABASE_URL: db().url!,
        SLOTBASE_JWT_SECRET: jwtSecret, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'silent', TRUST_PROXY: 'true',
        RATE_LIMIT_PUBLIC_PER_MINUTE: '5', RATE_LIMIT_AUTH_PER_MINUTE: '1000000', LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: '3',
      },
      stdio: 'ignore',
    });
    const server = { base: `http://127.0.0.1:${port}`, child };
    servers.push(server);
    await until(async () => {
      if (child.exitCode !== null) throw new Error(`slotbase serve exited with ${child.exitCode}`);
      try {
        return (await fetch(`${server.base}/health`, { signal: AbortSignal.timeout(2_000) })).ok;
      } catch {
        return false;
      }
    }, 90_000, `slotbase serve on ${server.base}`);
  }
}, 200_000);
afterAll(async () => {
  await Promise.all(servers.map(({ child }) => child.exitCode !== null ? undefined : new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGKILL');
  })));
});

const ip = () => `198.51.100.${Math.floor(Math.random() * 250) + 1}`;

interface Problem {
  code?: string;
}

describe('rate limits shared across processes', () => {
  it('two API processes spend one budget: 5 requests a minute per address in all, the 6th is 429 with RateLimit headers and Retry-After', async () => {
    const [a, b] = servers as [Server, Server];
    const client = `${ip()}-${uniq()}`;
    const seen: { via: string; status: number; remaining: string | null }[] = [];
    for (let i = 0; i < 6; i++) {
      const server = i % 2 === 0 ? a : b;
      const res = await fetch(`${server.base}/v1/public/no-such-business/services`, { headers: { 'x-forwarded-for': client } });
      const body = (await res.json()) as Problem;
      seen.push({ via: server === a ? 'a' : 'b', status: res.status, remaining: res.headers.get('ratelimit-remaining') });
      if (i === 5) {
        expect(body.code).toBe('rate_limited');
        expect(res.headers.get('content-type')).toBe('application/problem+json');
        expect(res.headers.get('ratelimit-limit')).toBe('5');
        // Full again within the minute; the next request in at most one interval (60 s / 5).
        expect(Number(res.headers.get('ratelimit-reset'))).toBeGreaterThan(48);
        expect(Number(res.headers.get('ratelimit-reset'))).toBeLessThanOrEqual(60);
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(12);
      }
    }
    expect(seen).toEqual([
      { via: 'a', status: 404, remaining: '4' },
      { via: 'b', status: 404, remaining: '3' },
      { via: 'a', status: 404, remaining: '2' },
      { via: 'b', status: 404, remaining: '1' },
      { via: 'a', status: 404, remaining: '0' },
      { via: 'b', status: 429, remaining: '0' },
    ]);
    // Another address has its own budget, on either process.
    expect((await fetch(`${a.base}/v1/public/no-such-business/services`, { headers: { 'x-forwarded-for': `${ip()}-${uniq()}` } })).status).toBe(404);
  });

  it('a burst of 16 at once, split over both processes, is admitted exactly up to the budget of 5', async () => {
    const [a, b] = servers as [Server, Server];
    const client = `${ip()}-${uniq()}`;
    const statuses = await Promise.all(
      Array.from({ length: 16 }, async (_, i) => {
        const res = await fetch(`${(i % 2 ? a : b).base}/v1/public/no-such-business/services`, { headers: { 'x-forwarded-for': client } });
        await res.arrayBuffer();
        return res.status;
      }),
    );
    expect(statuses.filter((s) => s === 404)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(11);
  });

  it('failed logins lock the account for that address on both processes; the owner still signs in from elsewhere', async () => {
    const [a, b] = servers as [Server, Server];
    const email = `${uniq('owner-')}@example.test`;
    const password = 'correct horse battery staple';
    const signup = await fetch(`${a.base}/v1/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': `${ip()}-${uniq()}` },
      body: JSON.stringify({ email, password, tenant: { slug: uniq('clinic-'), name: 'Clinic', time_zone: 'Europe/Berlin' } }),
    });
    expect(signup.status).toBe(201);
    const attacker = `${ip()}-${uniq()}`;
    const login = async (server: Server, from: string, pw: string) => {
      const res = await fetch(`${server.base}/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
        body: JSON.stringify({ email, password: pw }),
      });
      return { status: res.status, code: ((await res.json()) as Problem).code, retryAfter: res.headers.get('retry-after') };
    };
    // Three failures, spread over the two processes.
    expect((await login(a, attacker, 'guess one')).code).toBe('invalid_credentials');
    expect((await login(b, attacker, 'guess two')).code).toBe('invalid_credentials');
    expect((await login(a, attacker, 'guess three')).code).toBe('invalid_credentials');
    // Locked for that address on both processes, even with the right password.
    for (const server of [a, b]) {
      const locked = await login(server, attacker, password);
      expect(locked).toMatchObject({ status: 429, code: 'too_many_login_attempts' });
      expect(Number(locked.retryAfter)).toBeGreaterThan(0);
    }
    expect((await login(b, `${ip()}-${uniq()}`, password)).status).toBe(200);
  });
});
