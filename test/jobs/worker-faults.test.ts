import { spawn, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { anon, useTestDb, type Queryable } from '../support/db.ts';
import { addDailyRules, createLocation, createProvider, createService, createTenant, linkProvider, type Member } from '../support/factories.ts';
import { jobsOf, until } from '../support/worker.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/slotbase.js', import.meta.url));

const db = useTestDb();
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => {});
});

interface Child {
  process: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `node bin/slotbase.js worker …` with only the environment given (no DATABASE_URL unless passed). */
function slotbase(args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'info', WORKER_POLL_INTERVAL_MS: '100', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  return { process: child, output: () => output, exited };
}

async function processRows(pid?: number) {
  return db().query<{ id: string; lock_key: string; worker_ids: string[]; pid: number }>(
    `select id, lock_key::text, worker_ids, pid from slotbase_private.worker_processes where $1::int is null or pid = $1 order by started_at`,
    [pid ?? null],
  );
}

/** Blocks every statement on slotbase.bookings until released (keeps a task in flight). */
async function lockBookings() {
  const sql = postgres(db().url!, { max: 1, onnotice: () => {} });
  const conn = await sql.reserve();
  await conn`begin`;
  await conn`lock table slotbase.bookings in exclusive mode`;
  const release = async () => {
    await conn`commit`.catch(() => {});
    conn.release();
    await sql.end({ timeout: 1 });
  };
  cleanups.push(release);
  return { release };
}

interface Clinic {
  tenantId: string;
  owner: Member;
  serviceId: string;
}

async function createClinic(q: Queryable): Promise<Clinic> {
  const tenant = await createTenant(q);
  const location = await createLocation(q, tenant.id);
  const service = await createService(q, tenant.id, { maxAdvanceDays: 365 });
  const provider = await createProvider(q, tenant.id, { locationId: location.id });
  await linkProvider(q, tenant.id, service.id, provider.id);
  await addDailyRules(q, tenant.id, { providerId: provider.id }, location.id, '00:00', '24:00');
  return { tenantId: tenant.id, owner: tenant.owner, serviceId: service.id };
}

/** Books as an anonymous visitor: `slot` half-hours after a whole hour two days from now. */
async function book(c: Clinic, slot: number, email: string, hold = false): Promise<{ id: string; status: string }> {
  const [row] = await db().queryAs<{ id: string; status: string }>(
    anon,
    `select id, status from slotbase.create_booking(p_tenant_id => $1, p_service_id => $2,
       p_starts_at => date_trunc('hour', now()) + interval '2 days' + make_interval(mins => 30 * $3),
       p_contact_name => 'Guest', p_contact_email => $4, p_hold => $5)`,
    [c.tenantId, c.serviceId, slot, email, hold],
  );
  return row!;
}

/**
 * A real SMTP server that accepts the first `acceptFirst` messages, then takes each further
 * message's DATA and never answers it (the sender waits, its job in flight), until `answer()`.
 */
async function startStallingSmtp(acceptFirst: number) {
  const accepted: string[] = []; // recipient of every message answered 250
  const stalled: string[] = []; // recipient of every message whose DATA was never answered
  let stalling = true;
  const server = new SMTPServer({
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const to = session.envelope.rcptTo.map((r) => r.address).join(',');
      stream.resume();
      stream.on('end', () => {
        if (stalling && accepted.length >= acceptFirst) {
          stalled.push(to);
          return; // no reply, ever
        }
        accepted.push(to);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return {
    url: `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`,
    accepted,
    stalled,
    answer() {
      stalling = false;
    },
  };
}

describe('a killed worker process', () => {
  it("SIGKILL with confirmation mails in flight: the next worker process releases the dead one's jobs at once, and every booking gets exactly one mail", async () => {
    const BOOKINGS = 30;
    const ACCEPT_FIRST = 8;
    const CONCURRENCY = 4;
    const c = await createClinic(db());
    const emails = Array.from({ length: BOOKINGS }, (_, i) => `guest-${i}@example.test`);
    const bookings: { id: string; email: string }[] = [];
    for (const [i, email] of emails.entries()) {
      const b = await book(c, i, email);
      expect(b.status).toBe('confirmed');
      bookings.push({ id: b.id, email });
    }
    expect(await jobsOf(db(), 'booking_confirmation')).toHaveLength(BOOKINGS);
    const smtp = await startStallingSmtp(ACCEPT_FIRST);
    const env = { DATABASE_URL: db().url!, SMTP_URL: smtp.url, WORKER_CONCURRENCY: String(CONCURRENCY), PUBLIC_URL: 'http://slotbase.test' };
    const sentEmails = async () =>
      (
        await db().queryAs<{ recipient: string }>(
          c.owner,
          `select recipient from slotbase.notifications where template = 'confirmation' and channel = 'email' and status = 'sent'`,
        )
      ).map((r) => r.recipient);

    // First worker: sends ACCEPT_FIRST mails, then every one of its workers waits on a stalled DATA.
    const first = slotbase(['worker'], env);
    await until(async () => smtp.stalled.length === CONCURRENCY && (await sentEmails()).length === ACCEPT_FIRST, 30_000, 'the first worker to stall');
    const sentBeforeKill = await sentEmails();
    const [dead] = await processRows(first.process.pid);
    expect(dead?.worker_ids.length).toBeGreaterThan(0);

    first.process.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');

    // The dead process's jobs are still locked by it, and graphile-worker alone would leave them for 4 hours.
    const locked = await db().query<{ locked_by: string; is_available: boolean; fresh: boolean }>(
      `select locked_by, is_available, locked_at > now() - interval '4 hours' as fresh from graphile_worker._private_jobs where locked_by is not null`,
    );
    expect(locked).toHaveLength(CONCURRENCY);
    for (const job of locked) {
      expect(dead!.worker_ids).toContain(job.locked_by);
      expect(job.is_available).toBe(false);
      expect(job.fresh).toBe(true);
    }

    // Second worker: the mail server answers again.
    smtp.answer();
    const second = slotbase(['worker'], env);
    await until(async () => (await jobsOf(db(), 'booking_confirmation')).length === 0, 30_000, 'every confirmation job to complete');
    expect((await processRows()).map((p) => p.pid)).toEqual([second.process.pid]); // the dead process was reaped
    second.process.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
    expect(await processRows()).toEqual([]);
    expect(await db().query(`select id from graphile_worker._private_jobs where locked_by is not null or last_error is not null`)).toEqual([]);

    // Every booking: exactly one confirmation recorded sent (read as the tenant's owner), and exactly one mail accepted.
    const log = await db().queryAs<{ booking_id: string; recipient: string; status: string }>(
      c.owner,
      `select booking_id, recipient, status from slotbase.notifications where template = 'confirmation' and channel = 'email' order by recipient`,
    );
    expect(log.map((n) => [n.booking_id, n.status]).sort()).toEqual(bookings.map((b) => [b.id, 'sent']).sort());
    const acceptedPer = (to: string) => smtp.accepted.filter((a) => a === to).length;
    for (const email of emails) expect(acceptedPer(email), email).toBe(1);
    // In particular no second mail for what was recorded sent before the kill; the stalled ones (never answered) were sent again.
    expect(sentBeforeKill).toHaveLength(ACCEPT_FIRST);
    for (const email of sentBeforeKill) expect(smtp.stalled).not.toContain(email);
    for (const email of smtp.stalled) expect(acceptedPer(email), email).toBe(1);
  }, 120_000);
});

describe('slotbase worker (CLI)', () => {
  it('--once runs the jobs that are due and exits 0, leaving no process registered', async () => {
    const c = await createClinic(db());
    const hold = await book(c, 0, 'holder@example.test', true);
    expect(hold.status).toBe('held');
    await db().query(`update slotbase.bookings set hold_expires_at = now() - interval '1 second' where id = $1`, [hold.id]);
    await db().query(`update graphile_worker._private_jobs set run_at = now() - interval '1 second' where key = $1`, [`hold:${hold.id}`]);

    const run = slotbase(['worker', '--once'], { DATABASE_URL: db().url! });
    expect(await run.exited, run.output()).toEqual({ code: 0, signal: null });

    expect(await jobsOf(db(), 'hold_expiry')).toEqual([]);
    const [row] = await db().queryAs<{ status: string }>(c.owner, 'select status from slotbase.bookings where id = $1', [hold.id]);
    expect(row?.status).toBe('expired');
    expect(await processRows()).toEqual([]);
  });

  it('exits 0 on SIGTERM only after the job in hand has finished', async () => {
    const bookings = await lockBookings();
    await db().query(`select graphile_worker.add_job('expire_holds', '{}'::json)`);
    const worker = slotbase(['worker'], { DATABASE_URL: db().url! });
    await until(
      async () =>
        (
          await db().query(
            `select 1 from pg_stat_activity where datname = current_database() and application_name = 'slotbase-worker-tasks' and wait_event_type = 'Lock'`,
          )
        ).length > 0,
      30_000,
      'the job to be in flight',
    );
    worker.process.kill('SIGTERM');
    await until(() => worker.output().includes('signal received'), 10_000, 'the worker to see the signal');
    // Shutting down, not gone: still registered, the job still in hand.
    expect(worker.process.exitCode).toBeNull();
    expect(await processRows(worker.process.pid)).toHaveLength(1);
    expect((await jobsOf(db(), 'expire_holds'))[0]?.locked_by).not.toBeNull();

    await bookings.release();
    expect(await worker.exited, worker.output()).toEqual({ code: 0, signal: null });
    expect(await jobsOf(db(), 'expire_holds')).toEqual([]);
    expect(await processRows()).toEqual([]);
  });

  it('without DATABASE_URL exits 2 and says what is missing', async () => {
    const worker = slotbase(['worker'], {});
    expect(await worker.exited).toEqual({ code: 2, signal: null });
    expect(worker.output()).toContain('DATABASE_URL');
  });
});
