import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { useTestDb } from '../support/db.ts';
import { addDailyRules, createLocation, createProvider, createService, createTenant, linkProvider } from '../support/factories.ts';
import { asApiRole, useProcesses } from '../support/processes.ts';
import { until } from '../support/worker.ts';

// Graceful shutdown of a real `slotbase serve` process with a request in flight. "Slow" is made
// real by holding a table lock the request needs.
const processes = useProcesses();
const getDb = useTestDb();
let admin: postgres.Sql;
let world: { slug: string; serviceId: string; from: string; to: string };

beforeAll(async () => {
  const db = getDb();
  admin = postgres(db.url!, { max: 4, onnotice: () => {} });
  const tenant = await createTenant(db);
  const location = await createLocation(db, tenant.id);
  const provider = await createProvider(db, tenant.id, { locationId: location.id });
  const service = await createService(db, tenant.id, { durationMinutes: 30, maxAdvanceDays: 365 });
  await linkProvider(db, tenant.id, service.id, provider.id);
  await addDailyRules(db, tenant.id, { providerId: provider.id }, location.id, '00:00', '24:00');
  const from = new Date(Date.now() + 2 * 86_400_000);
  from.setUTCHours(0, 0, 0, 0);
  world = { slug: tenant.slug, serviceId: service.id, from: from.toISOString(), to: new Date(from.getTime() + 86_400_000).toISOString() };
});
afterAll(async () => {
  await admin?.end({ timeout: 5 });
});

/** Holds an ACCESS EXCLUSIVE lock on `table` in an open transaction until `release()`. */
async function holdLock(table: string) {
  const conn = await admin.reserve();
  await conn`begin`;
  await conn.unsafe(`lock table ${table} in access exclusive mode`);
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await conn`commit`;
      conn.release();
    },
  };
}

/** Waits until a backend of `application` is blocked on a lock (the request or job is in flight). */
async function blockedBackend(application: string) {
  await until(
    async () => (await admin`select 1 from pg_stat_activity where datname = current_database() and application_name = ${application} and wait_event_type = 'Lock'`).length > 0,
    20_000,
    `a ${application} backend waiting on the lock`,
  );
}

const refused = async (url: string) => {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2_000) }).then((r) => r.arrayBuffer());
    return false;
  } catch (error) {
    return /ECONNREFUSED/.test(String((error as Error).cause ?? error));
  }
};

describe('slotbase serve on SIGTERM', () => {
  it('stops accepting connections, finishes the request in flight, closes the pool and exits 0', async () => {
    const api = await processes.api({ apiDatabaseUrl: asApiRole(getDb().url!, inject('apiPassword')), env: { SHUTDOWN_TIMEOUT_MS: '120000', LOG_LEVEL: 'info' } });
    const lock = await holdLock('slotbase.booking_claims');
    try {
      const inFlight = fetch(`${api.base}/v1/public/${world.slug}/services/${world.serviceId}/slots?from=${world.from}&to=${world.to}`).then(async (r) => ({ status: r.status, body: (await r.json()) as { data: unknown[] } }));
      await blockedBackend('slotbase-api');
      api.process.kill('SIGTERM');
      await until(() => refused(`${api.base}/health`), 20_000, 'the API to stop accepting connections');
      expect(api.alive(), 'the process waits for its request in flight').toBe(true);
      await lock.release();
      const answer = await inFlight;
      expect(answer.status).toBe(200);
      expect(answer.body.data.length).toBeGreaterThan(0);
      expect(await api.exited).toEqual({ code: 0, signal: null });
      expect(api.output()).toMatch(/"msg":"finishing the requests in flight"/);
      expect(api.output()).toMatch(/"cutOff":0,"msg":"API stopped"/);
      // The pool is closed: no connection of the API is left on the server.
      const left = await admin`select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = 'slotbase-api'`;
      expect(left[0]!.n).toBe(0);
    } finally {
      await lock.release();
    }
  });

  it('cuts off what is still running after SHUTDOWN_TIMEOUT_MS and exits 0', async () => {
    const api = await processes.api({ apiDatabaseUrl: asApiRole(getDb().url!, inject('apiPassword')), env: { SHUTDOWN_TIMEOUT_MS: '300', LOG_LEVEL: 'info' } });
    const lock = await holdLock('slotbase.booking_claims');
    try {
      const inFlight = fetch(`${api.base}/v1/public/${world.slug}/services/${world.serviceId}/slots?from=${world.from}&to=${world.to}`).then(
        (r) => r.status,
        (error: unknown) => String((error as Error).cause ?? error),
      );
      await blockedBackend('slotbase-api');
      api.process.kill('SIGTERM');
      expect(await api.exited).toEqual({ code: 0, signal: null });
      expect(await inFlight).toMatch(/socket|closed|terminated|ECONNRESET/i);
      expect(api.output()).toMatch(/"requests":1,"timeoutMs":300,"msg":"shutdown timeout: cutting off the requests still in flight"/);
    } finally {
      await lock.release();
    }
  });
});
