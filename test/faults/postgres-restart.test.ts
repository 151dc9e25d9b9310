import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedServer } from '#src/db/embedded.ts';
import { migrate } from '#src/db/migrate.ts';
import { addDailyRules, createLocation, createProvider, createService, createTenant, linkProvider } from '../support/factories.ts';
import { invariantViolations } from '../support/invariants.ts';
import { asApiRole, freePort, queryable, queryAs, useProcesses } from '../support/processes.ts';
import { until } from '../support/worker.ts';

const processes = useProcesses();
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => {});
});

/** Runs `fn` on a short-lived superuser connection (closed before the server is stopped). */
async function asAdmin<T>(databaseUrl: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** What one request got: its status and problem code, or the error that stood for an answer (a timeout, a dropped socket). */
interface Outcome {
  what: string;
  status?: number;
  contentType?: string | null;
  code?: string;
  id?: string;
  error?: string;
  /** How long it took to be answered. */
  ms?: number;
}

/** A request that must be answered within `ms`; a hang is an outcome (error) the test fails on, not a stuck test. */
async function call(what: string, url: string, init: RequestInit = {}, ms = 5_000): Promise<Outcome> {
  const started = performance.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(ms) });
    const text = await res.text();
    const body = (text.startsWith('{') ? JSON.parse(text) : {}) as { code?: string; id?: string };
    return { what, status: res.status, contentType: res.headers.get('content-type'), code: body.code, id: body.id, ms: Math.round(performance.now() - started) };
  } catch (error) {
    return { what, error: String((error as Error).cause ?? error) };
  }
}

const unavailable = { status: 503, contentType: 'application/problem+json', code: 'database_unavailable' };

describe('PostgreSQL restarted under load', () => {
  it('while the database is down every request is answered 503 database_unavailable at once; once it is back the same API process books again and nothing acknowledged is lost', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slotbase-fault-pg-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const port = await freePort();
    let pg: EmbeddedServer = await startEmbeddedPostgres({ dataDir: dir, port });
    cleanups.push(() => pg.stop());
    expect(pg.port).toBe(port);
    await migrate({ databaseUrl: pg.databaseUrl });

    const apiPassword = randomBytes(12).toString('hex');
    const c = await asAdmin(pg.databaseUrl, async (sql) => {
      const q = queryable(sql);
      const tenant = await createTenant(q);
      const location = await createLocation(q, tenant.id);
      const service = await createService(q, tenant.id, { durationMinutes: 30, maxAdvanceDays: 365 });
      const provider = await createProvider(q, tenant.id, { locationId: location.id });
      await linkProvider(q, tenant.id, service.id, provider.id);
      await addDailyRules(q, tenant.id, { providerId: provider.id }, location.id, '00:00', '24:00');
      await sql.unsafe(`alter role slotbase_api with login password '${apiPassword}'`);
      return { tenantId: tenant.id, slug: tenant.slug, owner: tenant.owner, serviceId: service.id };
    });
    const api = await processes.api({ apiDatabaseUrl: asApiRole(pg.databaseUrl, apiPassword), databaseUrl: pg.databaseUrl });

    // The load: WORKERS loops of GET slots + POST a booking of the next free half hour (each with
    // its own Idempotency-Key), until stopped; bounded in count.
    const WORKERS = 4;
    const MAX_BOOKINGS = 3_000;
    const first = new Date();
    first.setUTCHours(first.getUTCHours() + 48, 0, 0, 0);
    const day = `from=${first.toISOString()}&to=${new Date(first.getTime() + 86_400_000).toISOString()}`;
    const outcomes: Outcome[] = [];
    const acknowledged: { i: number; id: string }[] = [];
    let next = 0;
    let stopped = false;
    const bookingRequest = (i: number): RequestInit => ({
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `load-${i}` },
      body: JSON.stringify({
        service_id: c.serviceId,
        starts_at: new Date(first.getTime() + i * 30 * 60_000).toISOString(),
        contact: { name: `Guest ${i}`, email: `guest-${i}@example.test` },
      }),
    });
    const load = Promise.all(
      Array.from({ length: WORKERS }, async () => {
        while (!stopped && next < MAX_BOOKINGS) {
          outcomes.push(await call('slots', `${api.base}/v1/public/${c.slug}/services/${c.serviceId}/slots?${day}`));
          const i = next++;
          const booked = await call(`booking ${i}`, `${api.base}/v1/public/${c.slug}/bookings`, bookingRequest(i));
          outcomes.push(booked);
          if (booked.status === 201) acknowledged.push({ i, id: booked.id! });
        }
      }),
    );
    cleanups.push(async () => {
      stopped = true;
      await load;
    });

    await until(() => acknowledged.length >= 20, 30_000, 'bookings to succeed before the outage');
    expect(await call('ready', `${api.base}/ready`)).toMatchObject({ status: 200 });

    // Outage: PostgreSQL stops (fast shutdown: open transactions are terminated).
    await pg.stop();
    const downFrom = outcomes.length;
    // (Stops early at the first request that got no answer, so the check below names it.)
    await until(() => outcomes.length >= downFrom + 40 || outcomes.slice(downFrom).some((o) => o.error), 20_000, 'requests to be answered while the database is down');
    expect(api.alive(), `the API process died with the database:\n${api.output()}`).toBe(true);
    const answeredDown = outcomes.slice(downFrom);
    for (const o of answeredDown) expect(o, JSON.stringify(o)).toMatchObject(unavailable);
    expect(await call('ready (down)', `${api.base}/ready`)).toMatchObject(unavailable);
    expect(await call('slots (down)', `${api.base}/v1/public/${c.slug}/services/${c.serviceId}/slots?${day}`)).toMatchObject(unavailable);
    expect(await call('booking (down)', `${api.base}/v1/public/${c.slug}/bookings`, bookingRequest(MAX_BOOKINGS))).toMatchObject(unavailable);
    const ackedBeforeRestart = acknowledged.length;

    // Back: the same data dir and port; the API process was never restarted.
    pg = await startEmbeddedPostgres({ dataDir: dir, port });
    expect(pg.port).toBe(port);
    await until(() => acknowledged.length >= ackedBeforeRestart + 20, 20_000, 'bookings to succeed again after the restart');
    stopped = true;
    await load;
    expect(api.alive()).toBe(true);
    // Fully recovered, not just partly. postgres.js (3.4.9) keeps the error a connection got while
    // the server was shutting down (57P03) and hands it to that connection's first query after
    // the restart: at most one 503 per pooled connection (the API's pool has 20). Waves of 40
    // concurrent requests (twice the pool) reach every connection until one wave is all 200.
    const POOL_MAX = 20;
    const wave = (n: number) =>
      Promise.all(Array.from({ length: 40 }, (_, k) => call(`slots (back, wave ${n}, ${k})`, `${api.base}/v1/public/${c.slug}/services/${c.serviceId}/slots?${day}`)));
    const afterRestart: Outcome[] = [];
    for (let n = 0; n < 5; n++) {
      const answers = await wave(n);
      afterRestart.push(...answers);
      if (answers.every((o) => o.status === 200)) break;
    }
    outcomes.push(...afterRestart);
    expect(afterRestart.slice(-40).filter((o) => o.status !== 200), 'a whole wave answered 200').toEqual([]);
    expect(afterRestart.filter((o) => o.status !== 200).length).toBeLessThanOrEqual(POOL_MAX);
    await until(async () => (await call('ready (back)', `${api.base}/ready`)).status === 200, 10_000, '/ready to answer 200 again');

    // Every request of the whole run was answered in time: 200/201 or the 503 problem, never a
    // 500, a dropped connection or a timeout.
    for (const o of outcomes) {
      if (o.status === 200 || o.status === 201) continue;
      expect(o, JSON.stringify(o)).toMatchObject(unavailable);
    }
    expect(answeredDown.length).toBeGreaterThanOrEqual(40);

    // Nothing acknowledged is lost (read as the tenant's owner under RLS), and nothing is half-written.
    const bookings = await asAdmin(pg.databaseUrl, (sql) =>
      queryAs<{ id: string; idempotency_key: string }>(sql, c.owner, 'select id, idempotency_key from slotbase.bookings'),
    );
    const byId = new Map(bookings.map((b) => [b.id, b.idempotency_key]));
    for (const a of acknowledged) expect(byId.get(a.id), `acknowledged booking ${a.i}`).toBe(`load-${a.i}`);
    expect(new Set(bookings.map((b) => b.idempotency_key)).size).toBe(bookings.length);
    expect(await asAdmin(pg.databaseUrl, (sql) => invariantViolations(queryable(sql), c.tenantId))).toEqual({});
  }, 60_000);
});
