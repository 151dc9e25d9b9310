import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { useTestDb } from '../support/db.ts';
import { asApiRole, freePort, useProcesses } from '../support/processes.ts';
import { until } from '../support/worker.ts';

// A full booking flow through a real `slotbase start` (API + in-process worker, no SMTP: mails go
// to the outbox), logging at debug level; then everything it logged is searched for personal
// data and secrets.
const processes = useProcesses();
const getDb = useTestDb();
let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'slotbase-ops-logs-'));
  await chmod(dataDir, 0o755);
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('logs', () => {
  it('of a full booking flow are JSON lines with request id, route, status and duration, and hold no email address, phone number, password or token', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const app = processes.slotbase(['start'], {
      DATABASE_URL: getDb().url!,
      // Given, so `start` does not set the shared slotbase_api role's password.
      API_DATABASE_URL: asApiRole(getDb().url!, inject('apiPassword')),
      SLOTBASE_DATA_DIR: dataDir,
      SLOTBASE_DEMO: 'false',
      PORT: String(port),
      LOG_LEVEL: 'debug',
      WORKER_POLL_INTERVAL_MS: '100',
      RATE_LIMIT_PUBLIC_PER_MINUTE: '100000',
      RATE_LIMIT_AUTHENTICATED_PER_MINUTE: '100000',
    });
    // All of it (the helper's output() keeps only the last 20 kB).
    let output = '';
    app.process.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    app.process.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    await until(() => {
      if (!app.alive()) throw new Error(`slotbase start exited:\n${app.output()}`);
      return app.output().includes('Slotbase is running.');
    }, 90_000, 'slotbase start to print its URLs');

    const secrets: string[] = [];
    const call = async <T = Record<string, unknown>>(method: string, path: string, options: { body?: unknown; token?: string; headers?: Record<string, string> } = {}) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { ...(options.body ? { 'content-type': 'application/json' } : {}), ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...options.headers },
        body: options.body ? JSON.stringify(options.body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, body: (text.startsWith('{') ? JSON.parse(text) : {}) as T, requestId: res.headers.get('x-request-id') };
    };
    const ownerEmail = 'olga.owner@leak-check.example';
    const password = 'Correct-Horse-Battery-9137';
    const wrongPassword = 'Wrong-Password-Attempt-4411';
    const customerEmail = 'ada.lovelace@leak-check.example';
    const phone = '+49 30 9876543';
    const slug = `leaks-${Date.now().toString(36)}`;

    const signup = await call<{ access_token: string; refresh_token: string }>('POST', '/v1/signup', {
      body: { email: ownerEmail, password, name: 'Olga Owner', tenant: { slug, name: 'Leak Check Clinic', time_zone: 'Europe/Berlin' } },
    });
    expect(signup.status).toBe(201);
    expect((await call('POST', '/v1/auth/login', { body: { email: ownerEmail, password: wrongPassword } })).status).toBe(401);
    const login = await call<{ access_token: string; refresh_token: string }>('POST', '/v1/auth/login', { body: { email: ownerEmail, password } });
    expect(login.status).toBe(200);
    const refreshed = await call<{ access_token: string; refresh_token: string }>('POST', '/v1/auth/refresh', { body: { refresh_token: login.body.refresh_token } });
    expect(refreshed.status).toBe(200);
    const token = refreshed.body.access_token;
    secrets.push(signup.body.access_token, signup.body.refresh_token, login.body.access_token, login.body.refresh_token, token, refreshed.body.refresh_token);

    const location = await call<{ id: string }>('POST', '/v1/locations', { token, body: { name: 'Mitte', time_zone: 'Europe/Berlin' } });
    const provider = await call<{ id: string }>('POST', '/v1/providers', { token, body: { name: 'Dr. Weiss', location_id: location.body.id } });
    for (const weekday of [1, 2, 3, 4, 5, 6, 7]) {
      expect((await call('POST', `/v1/providers/${provider.body.id}/availability-rules`, { token, body: { location_id: location.body.id, weekday, start_time: '08:00', end_time: '20:00' } })).status).toBe(201);
    }
    const service = await call<{ id: string }>('POST', '/v1/services', { token, body: { slug: 'checkup', name: 'Check-up', duration_minutes: 30 } });
    expect(service.status).toBe(201);
    expect((await call('POST', `/v1/services/${service.body.id}/providers/${provider.body.id}`, { token })).status).toBeLessThan(300);
    const key = await call<{ key: string }>('POST', '/v1/api-keys', { token, body: { name: 'Leak check', scopes: ['bookings:read'] } });
    expect(key.status).toBe(201);
    secrets.push(key.body.key);
    expect((await call('GET', '/v1/bookings', { headers: { 'x-api-key': key.body.key } })).status).toBe(200);

    const from = new Date(Date.now() + 86_400_000).toISOString();
    const to = new Date(Date.now() + 8 * 86_400_000).toISOString();
    const slots = await call<{ data: { starts_at: string }[] }>('GET', `/v1/public/${slug}/services/checkup/slots?from=${from}&to=${to}`);
    const booking = await call<{ code: string; manage_token: string }>('POST', `/v1/public/${slug}/bookings`, {
      headers: { 'idempotency-key': 'leak-check-1' },
      body: { service_id: service.body.id, starts_at: slots.body.data[0]!.starts_at, contact: { name: 'Ada Lovelace', email: customerEmail, phone } },
    });
    expect(booking.status).toBe(201);
    secrets.push(booking.body.manage_token);
    const manage = `/v1/public/bookings/${booking.body.code}?token=${encodeURIComponent(booking.body.manage_token)}`;
    expect((await call('GET', manage)).status).toBe(200);
    expect((await call('GET', `/v1/public/bookings/${booking.body.code}?token=not-the-token-0123456789`)).status).toBe(404);
    // The worker sends the confirmation, then (after the cancellation) the notice: to the outbox, no SMTP.
    const mailCount = async () => (await readdir(join(dataDir, 'outbox')).catch(() => [])).length;
    await until(async () => (await mailCount()) >= 1, 60_000, 'the confirmation in the outbox').catch((error: unknown) => {
      throw new Error(`${String(error)}\n${app.output().slice(-4000)}`);
    });
    expect((await call('DELETE', manage)).status).toBe(200);
    await until(async () => (await mailCount()) >= 2, 60_000, 'the cancellation notice in the outbox');
    app.process.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 0, signal: null });

    const lines = output.split('\n').filter((l) => l.startsWith('{'));
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    // Every request was logged with its id, route pattern, status and duration (and tenant where known).
    const requests = records.filter((r) => r.msg === 'request');
    const bookingLine = requests.find((r) => r.route === '/v1/public/:tenant/bookings' && r.method === 'POST');
    expect(bookingLine).toMatchObject({ req_id: booking.requestId, status: 201, tenant: slug });
    expect(typeof bookingLine!.duration_ms).toBe('number');
    expect(requests.find((r) => r.route === '/v1/auth/login' && r.status === 401)).toBeDefined();
    expect(requests.find((r) => r.route === '/v1/services' && r.method === 'POST')).toMatchObject({ status: 201, tenant_id: expect.any(String) });
    expect(records.filter((r) => String(r.msg).startsWith('mail not sent')).length).toBeGreaterThanOrEqual(2);

    // Nothing personal or secret anywhere in what was logged (stdout and stderr, the banner included).
    const everything = output.split('\n');
    const logged = output;
    for (const needle of [ownerEmail, customerEmail, password, wrongPassword, phone, phone.replace(/\s/g, ''), '9876543', 'Ada Lovelace', 'not-the-token-0123456789', ...secrets]) {
      expect(everything.filter((l) => l.includes(needle)).map((l) => l.replaceAll(needle, '<HERE>').slice(0, 600)), `the log contains ${needle.slice(0, 12)}…`).toEqual([]);
    }
    expect(logged).not.toMatch(/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/); // no email address at all
    expect(logged).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./); // no JWT
    expect(logged).not.toMatch(/sb_live_[A-Za-z0-9]{8,}/);
    // The mails themselves are in the outbox, for the operator who needs them.
    const mails = await Promise.all((await readdir(join(dataDir, 'outbox'))).map((f) => readFile(join(dataDir, 'outbox', f), 'utf8')));
    expect(mails.some((m) => m.includes(customerEmail))).toBe(true);
  }, 240_000);
});
