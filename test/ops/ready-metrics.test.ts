import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedServer } from '#src/db/embedded.ts';
import { migrate } from '#src/db/migrate.ts';
import { addDailyRules, createLocation, createProvider, createService, createTenant, linkProvider } from '../support/factories.ts';
import { freePort, queryable, useProcesses } from '../support/processes.ts';
import { until } from '../support/worker.ts';

// `slotbase start` (API + in-process worker) against a throwaway PostgreSQL this test stops and
// starts again, as test/faults/postgres-restart.test.ts does for `serve`.
const processes = useProcesses();
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => {});
});

async function asAdmin<T>(databaseUrl: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function get(url: string): Promise<{ status: number; text: string; json: { code?: string; errors?: { field: string; message: string; code?: string }[] } }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  return { status: res.status, text, json: text.startsWith('{') ? JSON.parse(text) : {} };
}

/** The value of one sample line (`name{labels} value`) of a Prometheus text page, or undefined. */
function sample(page: string, nameAndLabels: string): number | undefined {
  const line = page.split('\n').find((l) => l.startsWith(`${nameAndLabels} `));
  return line === undefined ? undefined : Number(line.slice(nameAndLabels.length + 1));
}

describe('/ready and /metrics of `slotbase start`', () => {
  it('/metrics exposes latency by route and status, pool, job queue, job runs and booking counters; /ready is 503 while the database is stopped or a migration is missing, 200 again after', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slotbase-ops-ready-'));
    await chmod(dir, 0o755); // as root, the embedded server runs as the postgres OS user, which must reach its data dir
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const pgPort = await freePort();
    let pg: EmbeddedServer = await startEmbeddedPostgres({ dataDir: join(dir, 'db'), port: pgPort });
    cleanups.push(() => pg.stop());
    await migrate({ databaseUrl: pg.databaseUrl });
    const c = await asAdmin(pg.databaseUrl, async (sql) => {
      const q = queryable(sql);
      const tenant = await createTenant(q);
      const location = await createLocation(q, tenant.id);
      const service = await createService(q, tenant.id, { durationMinutes: 30, maxAdvanceDays: 365 });
      const provider = await createProvider(q, tenant.id, { locationId: location.id });
      await linkProvider(q, tenant.id, service.id, provider.id);
      await addDailyRules(q, tenant.id, { providerId: provider.id }, location.id, '00:00', '24:00');
      return { slug: tenant.slug, serviceId: service.id };
    });

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const app = processes.slotbase(['start'], {
      DATABASE_URL: pg.databaseUrl,
      SLOTBASE_DATA_DIR: join(dir, 'data'),
      PORT: String(port),
      LOG_LEVEL: 'warn',
      SLOTBASE_DEMO: 'false',
      WORKER_POLL_INTERVAL_MS: '200',
      RATE_LIMIT_PUBLIC_PER_MINUTE: '100000',
    });
    await until(() => {
      if (!app.alive()) throw new Error(`slotbase start exited:\n${app.output()}`);
      return app.output().includes('Slotbase is running.');
    }, 90_000, 'slotbase start to print its URLs');
    expect((await get(`${base}/ready`)).status).toBe(200);

    // A public booking, its confirmation job run by the in-process worker, then a cancellation.
    const startsAt = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 2 * 86_400_000).toISOString();
    const booked = await fetch(`${base}/v1/public/${c.slug}/bookings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ service_id: c.serviceId, starts_at: startsAt, contact: { name: 'Metrics', email: 'metrics@example.test' } }),
    });
    expect(booked.status).toBe(201);
    const receipt = (await booked.json()) as { code: string; manage_token: string };
    const metrics = async () => (await get(`${base}/metrics`)).text;
    await until(async () => (sample(await metrics(), 'slotbase_job_runs_total{task="booking_confirmation",outcome="success"}') ?? 0) >= 1, 30_000, 'the confirmation job to run');
    expect((await fetch(`${base}/v1/public/bookings/${receipt.code}?token=${receipt.manage_token}`, { method: 'DELETE' })).status).toBe(200);

    const page = await metrics();
    expect(sample(page, 'slotbase_bookings_created_total{source="public"}')).toBe(1);
    expect(sample(page, 'slotbase_bookings_cancelled_total{source="public"}')).toBe(1);
    expect(sample(page, 'slotbase_bookings_created_total{source="staff"}')).toBe(0);
    expect(sample(page, 'slotbase_http_requests_total{method="POST",route="/v1/public/:tenant/bookings",status="201"}')).toBe(1);
    expect(sample(page, 'slotbase_http_request_duration_seconds_count{method="POST",route="/v1/public/:tenant/bookings",status="201"}')).toBe(1);
    expect(page).toMatch(/^slotbase_http_request_duration_seconds_bucket\{le="0\.1",method="DELETE",route="\/v1\/public\/bookings\/:code",status="200"\} [01]$/m);
    expect(page).not.toContain(receipt.code);
    expect(page).not.toContain(receipt.manage_token);
    expect(sample(page, 'slotbase_db_pool_max')).toBe(20);
    expect(sample(page, 'slotbase_db_pool_in_use')).toBeGreaterThanOrEqual(0);
    expect(sample(page, 'slotbase_http_requests_in_flight')).toBe(1); // the scrape itself
    // The cancellation enqueued a notice; reminders of the cancelled booking are gone. Unfinished jobs by task and state:
    expect(page).toMatch(/^slotbase_jobs\{task="[a-z_]+",state="(ready|scheduled|retrying|running|failed)"\} \d+$/m);
    expect(sample(page, 'slotbase_jobs_up')).toBe(1);
    expect(page).toMatch(/^slotbase_process_cpu_seconds_total /m);

    // A migration missing from the database (as after deploying new code without `slotbase migrate`).
    const [last] = await asAdmin(pg.databaseUrl, (sql) => sql<{ name: string; checksum: string }[]>`select name, checksum from slotbase_meta.migrations order by name desc limit 1`);
    await asAdmin(pg.databaseUrl, (sql) => sql`delete from slotbase_meta.migrations where name = ${last!.name}`);
    const pending = await get(`${base}/ready`);
    expect(pending.status).toBe(503);
    expect(pending.json.code).toBe('migrations_pending');
    expect(pending.json.errors).toEqual([{ field: 'migrations', message: `pending: ${last!.name}`, code: 'migrations_pending' }]);
    await asAdmin(pg.databaseUrl, (sql) => sql`insert into slotbase_meta.migrations (name, checksum) values (${last!.name}, ${last!.checksum})`);
    expect((await get(`${base}/ready`)).status).toBe(200);

    // The database stops: /ready names it (and the worker, once its liveness session is gone); /metrics still answers.
    await pg.stop();
    await until(async () => (await get(`${base}/ready`)).status === 503, 20_000, '/ready to answer 503');
    const down = await get(`${base}/ready`);
    expect(down.json.errors?.map((e) => e.field)).toContain('database');
    expect(['database_unavailable', 'not_ready']).toContain(down.json.code);
    // A scrape within a second of the previous one reuses its job query (src/http/metrics.ts), so
    // the first scrape after the stop may still show the queue as read: scrape until it is not.
    let downPage = await get(`${base}/metrics`);
    await until(async () => sample((downPage = await get(`${base}/metrics`)).text, 'slotbase_jobs_up') === 0, 10_000, 'slotbase_jobs_up 0');
    expect(downPage.status).toBe(200);
    expect(sample(downPage.text, 'slotbase_jobs_up')).toBe(0);
    expect(downPage.text).not.toMatch(/^slotbase_jobs\{/m);
    expect(app.alive()).toBe(true);

    pg = await startEmbeddedPostgres({ dataDir: join(dir, 'db'), port: pgPort });
    await until(async () => (await get(`${base}/ready`)).status === 200, 60_000, '/ready to answer 200 again');
    expect(app.alive()).toBe(true);

    app.process.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 0, signal: null });
  }, 240_000);
});
