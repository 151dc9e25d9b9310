/**
 * The same public booking transaction driven by pgbench (C, libpq) and by postgres.js (the
 * driver the API uses), at 1, 8 and 32 connections, in the same run: how much of the booking
 * throughput is the client library's and how much is PostgreSQL's. Skipped when pgbench is not
 * installed.
 *
 * The transaction, on both sides: begin; set_config(role anon, claims); create_booking (a distinct
 * slot: provider n mod 64, 15-minute step n div 64); commit. pgbench sends it as four statements
 * (four round trips); postgres.js pipelines the four into one round trip, as the API does.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchContext } from './booking-engine.ts';
import { createWorld } from './fixtures.ts';
import { connect, pipelinedTx } from './lib/pg.ts';
import { msSince, now, round } from './lib/stats.ts';

export interface PgbenchRow {
  connections: number;
  /** Committed bookings per second (pgbench's tps without connection time). */
  pgbench: number;
  postgresjs: number;
  /** postgres.js ÷ pgbench. */
  ratio: number;
  pgbenchFailed: number;
  postgresjsErrors: number;
}

export interface PgbenchResult {
  available: boolean;
  version?: string;
  reason?: string;
  seconds: number;
  rows: PgbenchRow[];
}

const PROVIDERS = 64;
const STEP_MINUTES = 15;

export async function benchPgbench(ctx: BenchContext): Promise<PgbenchResult> {
  const probe = spawnSync('pgbench', ['--version'], { encoding: 'utf8' });
  const seconds = ctx.quick ? 3 : 8;
  if (probe.status !== 0) return { available: false, reason: 'pgbench is not installed', seconds, rows: [] };
  const version = probe.stdout.trim();

  const admin = connect(ctx.url, 1);
  const dir = await mkdtemp(join(tmpdir(), 'slotbase-pgbench-'));
  try {
    const world = await createWorld(admin, {
      slug: 'bench-pgbench', providers: PROVIDERS, timeZone: 'UTC', opens: '00:00', closes: '24:00', maxAdvanceDays: 730, durationMinutes: STEP_MINUTES,
    });
    const [first] = await admin<{ t: Date }[]>`select date_trunc('day', now()) + interval '1 day' as t`;
    const firstSlot = first!.t;
    const providers = `{${world.providerIds.join(',')}}`;
    const script = join(dir, 'book.sql');
    await writeFile(script, [
      '\\set k :k + 1',
      '\\set n :base + :k * :clients + :client_id',
      'begin;',
      `select set_config('role', 'anon', true), set_config('request.jwt.claims', '{"role":"anon"}', true);`,
      `select 1 from slotbase.create_booking(p_tenant_id => ':tenant'::uuid, p_service_id => ':service'::uuid, p_starts_at => ':first'::timestamptz + (:n / ${PROVIDERS}) * interval '${STEP_MINUTES} minutes', p_provider_id => (':providers'::uuid[])[1 + :n % ${PROVIDERS}], p_contact_name => 'Bench Booker', p_contact_email => 'booker@bench.example');`,
      'commit;',
      '',
    ].join('\n'));

    // Each side of each run books its own block of slots.
    let block = 0;
    const nextBase = () => (block++) * 200_000;

    const runPgbench = (clients: number): Promise<{ tps: number; failed: number }> =>
      new Promise((resolve, reject) => {
        const args = [
          '-n', '-f', script, '-c', String(clients), '-j', String(Math.min(clients, 2)), '-T', String(seconds),
          '-D', 'k=0', '-D', `base=${nextBase()}`, '-D', `clients=${clients}`, '-D', `tenant=${world.tenantId}`, '-D', `service=${world.serviceId}`,
          '-D', `first=${firstSlot.toISOString()}`, '-D', `providers=${providers}`, ctx.url,
        ];
        const child = spawn('pgbench', args, { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        child.on('error', reject);
        child.on('exit', (code) => {
          const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(out);
          const failed = /number of failed transactions: (\d+)/.exec(out);
          if (code !== 0 || !tps) return reject(new Error(`pgbench exited with ${code}: ${out.slice(-500)}`));
          resolve({ tps: Number(tps[1]), failed: failed ? Number(failed[1]) : 0 });
        });
      });

    const runPostgresJs = async (clients: number): Promise<{ perSecond: number; errors: number }> => {
      const pool = connect(ctx.url, clients, { connection: { application_name: 'slotbase-bench-pgbench-js' } });
      try {
        const conns = await Promise.all(Array.from({ length: clients }, () => pool.reserve()));
        const base = nextBase();
        let done = 0;
        let errors = 0;
        const started = now();
        const deadline = Date.now() + seconds * 1000;
        await Promise.all(conns.map(async (conn, c) => {
          for (let k = 1; Date.now() < deadline; k++) {
            const n = base + k * clients + c;
            const startsAt = new Date(firstSlot.getTime() + Math.floor(n / PROVIDERS) * STEP_MINUTES * 60_000);
            try {
              await pipelinedTx(conn, { role: 'anon', claims: { role: 'anon' } }, (sql) =>
                sql`select 1 from slotbase.create_booking(p_tenant_id => ${world.tenantId}, p_service_id => ${world.serviceId}, p_starts_at => ${startsAt},
                      p_provider_id => ${world.providerIds[n % PROVIDERS]!}, p_contact_name => 'Bench Booker', p_contact_email => 'booker@bench.example')`);
              done += 1;
            } catch {
              errors += 1;
            }
          }
        }));
        const elapsed = msSince(started) / 1000;
        for (const conn of conns) conn.release();
        return { perSecond: done / elapsed, errors };
      } finally {
        await pool.end({ timeout: 5 });
      }
    };

    const rows: PgbenchRow[] = [];
    for (const clients of [1, 8, 32]) {
      ctx.log(`pgbench: ${clients} connection(s), ${seconds} s per side`);
      const pg = await runPgbench(clients);
      const js = await runPostgresJs(clients);
      rows.push({
        connections: clients,
        pgbench: round(pg.tps, 0),
        postgresjs: round(js.perSecond, 0),
        ratio: round(js.perSecond / pg.tps, 2),
        pgbenchFailed: pg.failed,
        postgresjsErrors: js.errors,
      });
      ctx.log(`pgbench: ${round(pg.tps, 0)}/s, postgres.js ${round(js.perSecond, 0)}/s`);
    }
    return { available: true, version, seconds, rows };
  } finally {
    await rm(dir, { recursive: true, force: true });
    await admin.end({ timeout: 5 });
  }
}
