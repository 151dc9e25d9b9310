import { parseCrontab } from 'graphile-worker';
import { describe, expect, it } from 'vitest';
import { CRONTAB } from '#src/jobs/crontab.ts';
import { createJobDeps, loadTaskList } from '#src/jobs/worker.ts';
import { createLogger } from '#src/lib/logger.ts';
import { anon, useTestDb, type Queryable } from '../support/db.ts';
import { addDailyRules, createLocation, createProvider, createService, createTenant, linkProvider, type Member } from '../support/factories.ts';
import { drainJobs, jobsOf, workerTestConfig } from '../support/worker.ts';

const db = useTestDb();

interface Clinic {
  tenantId: string;
  owner: Member;
  serviceId: string;
}

/** A clinic open around the clock (only the rules under test apply). */
async function createClinic(q: Queryable, settings: Record<string, unknown> = {}): Promise<Clinic> {
  const tenant = await createTenant(q);
  await q.query(`update slotbase.tenants set settings = settings || $2::jsonb where id = $1`, [tenant.id, settings]);
  const location = await createLocation(q, tenant.id);
  const service = await createService(q, tenant.id, { holdMinutes: 10 });
  const provider = await createProvider(q, tenant.id, { locationId: location.id });
  await linkProvider(q, tenant.id, service.id, provider.id);
  await addDailyRules(q, tenant.id, { providerId: provider.id }, location.id, '00:00', '24:00');
  return { tenantId: tenant.id, owner: tenant.owner, serviceId: service.id };
}

/** A whole hour `hours` from now (on the 30-minute grid). */
async function hoursFromNow(hours: number): Promise<Date> {
  const [row] = await db().query<{ t: Date }>(`select date_trunc('hour', now()) + make_interval(hours => $1) as t`, [hours]);
  return row!.t;
}

/** Books as an anonymous visitor, the way the public booking page does. */
async function book(c: Clinic, startsAt: Date, hold = false): Promise<{ id: string; status: string; manage_token: string }> {
  const [row] = await db().queryAs<{ id: string; status: string; manage_token: string }>(
    anon,
    `select id, status, manage_token from slotbase.create_booking(p_tenant_id => $1, p_service_id => $2, p_starts_at => $3,
       p_contact_name => 'Ada Guest', p_contact_email => 'ada@example.test', p_hold => $4)`,
    [c.tenantId, c.serviceId, startsAt, hold],
  );
  return row!;
}

async function statusOf(c: Clinic, bookingId: string): Promise<string | undefined> {
  const [row] = await db().queryAs<{ status: string }>(c.owner, 'select status from slotbase.bookings where id = $1', [bookingId]);
  return row?.status;
}

async function offered(c: Clinic, startsAt: Date): Promise<boolean> {
  const rows = await db().queryAs<{ starts_at: Date }>(
    anon,
    `select starts_at from slotbase.available_slots($1, $2, $3::timestamptz - interval '1 hour', $3::timestamptz + interval '1 hour')`,
    [c.tenantId, c.serviceId, startsAt],
  );
  return rows.some((r) => r.starts_at.getTime() === startsAt.getTime());
}

/** Test setup: the booking took place `endedMinutesAgo` minutes ago (its 30 minutes end then). */
async function moveIntoPast(bookingId: string, endedMinutesAgo: number): Promise<void> {
  await db().query(
    `update slotbase.bookings set during = tstzrange(now() - make_interval(mins => $2 + 30), now() - make_interval(mins => $2)) where id = $1`,
    [bookingId, endedMinutesAgo],
  );
}

describe('hold expiry', () => {
  it("a hold's own job expires it once due, and its slot is offered again", async () => {
    const c = await createClinic(db());
    const start = await hoursFromNow(26);
    const hold = await book(c, start, true);
    expect(hold.status).toBe('held');
    expect(await offered(c, start)).toBe(false);
    const [job] = await jobsOf(db(), 'hold_expiry');
    expect(job?.key).toBe(`hold:${hold.id}`);

    // Setup: the hold's ten minutes are over and its job is due.
    await db().query(`update slotbase.bookings set hold_expires_at = now() - interval '1 second' where id = $1`, [hold.id]);
    await db().query(`update graphile_worker._private_jobs set run_at = now() - interval '1 second' where key = $1`, [`hold:${hold.id}`]);
    await drainJobs(db());

    expect(await jobsOf(db(), 'hold_expiry')).toEqual([]);
    expect(await statusOf(c, hold.id)).toBe('expired');
    expect(await offered(c, start)).toBe(true);
  });

  it('a hold_expiry job that runs before the hold is past its time leaves the hold alone', async () => {
    const c = await createClinic(db());
    const hold = await book(c, await hoursFromNow(27), true);
    await db().query(`update graphile_worker._private_jobs set run_at = now() - interval '1 second' where key = $1`, [`hold:${hold.id}`]);
    await drainJobs(db());
    expect(await jobsOf(db(), 'hold_expiry')).toEqual([]);
    expect(await statusOf(c, hold.id)).toBe('held');
  });

  it('a hold confirmed before its expiry stays confirmed', async () => {
    const c = await createClinic(db());
    const hold = await book(c, await hoursFromNow(28), true);
    await db().queryAs(c.owner, 'select slotbase.confirm_booking($1)', [hold.id]);
    await db().query(`update slotbase.bookings set hold_expires_at = now() - interval '1 second' where id = $1`, [hold.id]);
    await db().query(`select graphile_worker.add_job('hold_expiry', json_build_object('tenant_id', $1::uuid, 'booking_id', $2::uuid))`, [c.tenantId, hold.id]);
    await drainJobs(db());
    expect(await statusOf(c, hold.id)).toBe('confirmed');
  });

  it('the expire_holds cron expires holds whose own job was lost, in every tenant', async () => {
    const a = await createClinic(db());
    const b = await createClinic(db());
    const holdA = await book(a, await hoursFromNow(30), true);
    const holdB = await book(b, await hoursFromNow(30), true);
    const current = await book(b, await hoursFromNow(31), true);
    // Setup: both jobs are gone (a crashed database restore, a manual delete) and the holds are past their time.
    await db().query(`select graphile_worker.remove_job(k) from unnest($1::text[]) as k`, [[`hold:${holdA.id}`, `hold:${holdB.id}`]]);
    await db().query(`update slotbase.bookings set hold_expires_at = now() - interval '1 second' where id = any($1::uuid[])`, [[holdA.id, holdB.id]]);
    expect((await jobsOf(db(), 'hold_expiry')).map((j) => j.key)).toEqual([`hold:${current.id}`]);

    await db().query(`select graphile_worker.add_job('expire_holds', '{}'::json)`);
    await drainJobs(db());

    expect(await statusOf(a, holdA.id)).toBe('expired');
    expect(await statusOf(b, holdB.id)).toBe('expired');
    expect(await statusOf(b, current.id)).toBe('held');
  });
});

describe('complete_past_bookings', () => {
  async function runCron() {
    await db().query(`select graphile_worker.add_job('complete_past_bookings', '{}'::json)`);
    await drainJobs(db());
    expect(await jobsOf(db(), 'complete_past_bookings')).toEqual([]);
  }

  it("completes confirmed bookings that ended more than the tenant's grace period (default 60 minutes) ago, and nothing else", async () => {
    const c = await createClinic(db());
    const longAgo = await book(c, await hoursFromNow(30));
    const justEnded = await book(c, await hoursFromNow(31));
    const cancelled = await book(c, await hoursFromNow(32));
    const future = await book(c, await hoursFromNow(33));
    const held = await book(c, await hoursFromNow(34), true);
    await db().queryAs(anon, 'select slotbase.cancel_booking($1, p_manage_token => $2)', [cancelled.id, cancelled.manage_token]);
    await moveIntoPast(longAgo.id, 61);
    await moveIntoPast(justEnded.id, 45);
    await moveIntoPast(cancelled.id, 300);
    await moveIntoPast(held.id, 200);

    await runCron();

    expect(await statusOf(c, longAgo.id)).toBe('completed');
    expect(await statusOf(c, justEnded.id)).toBe('confirmed');
    expect(await statusOf(c, cancelled.id)).toBe('cancelled');
    expect(await statusOf(c, future.id)).toBe('confirmed');
    expect(await statusOf(c, held.id)).toBe('held');
  });

  it('respects settings.auto_complete_after_minutes: a shorter grace completes sooner, 0 turns auto-completion off', async () => {
    const quick = await createClinic(db(), { auto_complete_after_minutes: 10 });
    const off = await createClinic(db(), { auto_complete_after_minutes: 0 });
    const quickOne = await book(quick, await hoursFromNow(30));
    const offOne = await book(off, await hoursFromNow(30));
    await moveIntoPast(quickOne.id, 15);
    await moveIntoPast(offOne.id, 60 * 24 * 3);

    await runCron();

    expect(await statusOf(quick, quickOne.id)).toBe('completed');
    expect(await statusOf(off, offOne.id)).toBe('confirmed');
  });
});

describe('crontab', () => {
  it('parses, and names only tasks that exist in src/jobs/tasks', async () => {
    const items = parseCrontab(CRONTAB);
    const deps = createJobDeps({ databaseUrl: db().url!, config: workerTestConfig(), logger: createLogger('silent') });
    const tasks = await loadTaskList(deps).finally(() => deps.close());
    expect(items.map((i) => i.task)).toEqual(expect.arrayContaining(['expire_holds', 'complete_past_bookings', 'prune_logs']));
    for (const item of items) expect(Object.keys(tasks), `crontab names ${item.task}`).toContain(item.task);
  });
});

describe('log retention (prune_logs)', () => {
  /** Setup as the table owner: a notification and webhook deliveries (with one attempt each), `daysOld` days old. */
  async function logs(c: Clinic, bookingId: string, daysOld: number, deliveryStatus: 'succeeded' | 'failed' | 'pending' = 'succeeded') {
    const [n] = await db().query<{ id: string }>(
      `insert into slotbase.notifications (tenant_id, booking_id, channel, template, recipient, dedupe_key, status, sent_at, created_at)
       values ($1, $2, 'email', 'confirmation', 'ada@example.test', gen_random_uuid()::text, 'sent', now(), now() - make_interval(days => $3)) returning id`,
      [c.tenantId, bookingId, daysOld],
    );
    const [endpoint] = await db().query<{ id: string }>(`insert into slotbase.webhook_endpoints (tenant_id, url) values ($1, 'https://hooks.example/x') returning id`, [c.tenantId]);
    const [d] = await db().query<{ id: string }>(
      `insert into slotbase.webhook_deliveries (tenant_id, endpoint_id, event_type, payload, status, created_at)
       values ($1, $2, 'booking.created', '{}', $3, now() - make_interval(days => $4)) returning id`,
      [c.tenantId, endpoint!.id, deliveryStatus, daysOld],
    );
    await db().query(`insert into slotbase.webhook_attempts (tenant_id, delivery_id, duration_ms, is_success, attempted_at) values ($1, $2, 12, true, now() - make_interval(days => $3))`, [
      c.tenantId,
      d!.id,
      daysOld,
    ]);
    return { notificationId: n!.id, deliveryId: d!.id };
  }

  async function seen(c: Clinic) {
    return db().as(c.owner, async (q) => ({
      notifications: (await q.query<{ id: string }>('select id from slotbase.notifications order by id')).map((r) => r.id),
      deliveries: (await q.query<{ id: string }>('select id from slotbase.webhook_deliveries order by id')).map((r) => r.id),
      attemptsOf: (await q.query<{ delivery_id: string }>('select delivery_id from slotbase.webhook_attempts order by delivery_id')).map((r) => r.delivery_id),
    }));
  }

  it('the daily job deletes notifications and finished webhook deliveries (with their attempts) older than LOG_RETENTION_DAYS, keeping newer ones and pending deliveries', async () => {
    const c = await createClinic(db());
    const booking = await book(c, await hoursFromNow(40));
    const old = await logs(c, booking.id, 31);
    const oldFailed = await logs(c, booking.id, 45, 'failed');
    const oldPending = await logs(c, booking.id, 60, 'pending');
    const recent = await logs(c, booking.id, 29);

    await db().query(`select graphile_worker.add_job('prune_logs', '{}'::json)`);
    await drainJobs(db(), { env: { LOG_RETENTION_DAYS: '30' } });
    expect(await jobsOf(db(), 'prune_logs')).toEqual([]);

    const after = await seen(c);
    // (The booking's own confirmation, sent by this drain, is today's and stays.)
    expect(after.notifications).toContain(recent.notificationId);
    for (const gone of [old, oldFailed, oldPending]) expect(after.notifications).not.toContain(gone.notificationId);
    expect(after.deliveries).toEqual([recent.deliveryId, oldPending.deliveryId].sort());
    expect(after.attemptsOf).toEqual([recent.deliveryId, oldPending.deliveryId].sort());
    expect(after.deliveries).not.toContain(oldFailed.deliveryId);
  });

  it('prune_logs deletes at most p_limit rows of each log per call, and keeps at least a day', async () => {
    const c = await createClinic(db());
    const booking = await book(c, await hoursFromNow(41));
    for (let i = 0; i < 3; i++) await logs(c, booking.id, 400);
    const call = (limit: number) =>
      db().query<{ notifications_deleted: number; webhook_deliveries_deleted: number }>(`select * from slotbase_private.prune_logs(interval '365 days', $1)`, [limit]);
    expect(await call(2)).toEqual([{ notifications_deleted: 2, webhook_deliveries_deleted: 2 }]);
    expect(await call(2)).toEqual([{ notifications_deleted: 1, webhook_deliveries_deleted: 1 }]);
    expect(await call(2)).toEqual([{ notifications_deleted: 0, webhook_deliveries_deleted: 0 }]);
    await expect(db().query(`select * from slotbase_private.prune_logs(interval '1 hour')`)).rejects.toMatchObject({ code: 'SBVAL' });
  });

  it('the daily job also deletes expired device-token proofs and expired device tokens, at most p_limit of each per call', async () => {
    const c = await createClinic(db());
    const key = (n: number) => `k${String(n).padStart(42, '0')}`;
    const hash = (n: number) => String(n).padStart(64, '0');
    // Setup as the table owner (these tables are private: no caller role can read or write them).
    const token = (n: number, expiresIn: string) =>
      db().query(
        `insert into slotbase_private.device_tokens (tenant_id, token_hash, key_thumbprint, public_key, issued_at, expires_at)
         values ($1, $2, $3, '{"kty":"EC"}', now() - interval '400 days', now() + $4::interval)`,
        [c.tenantId, hash(n), key(n), expiresIn],
      );
    const proof = (n: number, expiresIn: string) =>
      db().query(`insert into slotbase_private.device_proofs (tenant_id, key_thumbprint, jti, expires_at) values ($1, $2, $3, now() + $4::interval)`, [
        c.tenantId, key(1), `jti-${String(n).padStart(16, '0')}`, expiresIn,
      ]);
    await token(1, '-1 second');
    await token(2, '-30 days');
    await token(3, '1 day');
    await proof(1, '-1 minute');
    await proof(2, '-1 day');
    await proof(3, '5 minutes');
    const left = async () => ({
      tokens: (await db().query<{ h: string }>('select token_hash as h from slotbase_private.device_tokens where tenant_id = $1 order by 1', [c.tenantId])).map((r) => r.h),
      proofs: (await db().query<{ j: string }>('select jti as j from slotbase_private.device_proofs where tenant_id = $1 order by 1', [c.tenantId])).map((r) => r.j),
    });

    // One call with p_limit 1 deletes one expired row of each (the oldest); the logs' counts are unchanged in shape.
    await db().query(`select * from slotbase_private.prune_logs(interval '3650 days', 1)`);
    expect(await left()).toEqual({ tokens: [hash(1), hash(3)], proofs: [`jti-${String(1).padStart(16, '0')}`, `jti-${String(3).padStart(16, '0')}`] });

    await db().query(`select graphile_worker.add_job('prune_logs', '{}'::json)`);
    await drainJobs(db(), { env: { LOG_RETENTION_DAYS: '30' } });
    expect(await jobsOf(db(), 'prune_logs')).toEqual([]);
    expect(await left()).toEqual({ tokens: [hash(3)], proofs: [`jti-${String(3).padStart(16, '0')}`] });
  });

  it('callers cannot run prune_logs', async () => {
    const c = await createClinic(db());
    await expect(db().queryAs(c.owner, `select * from slotbase_private.prune_logs(interval '30 days')`)).rejects.toMatchObject({ code: '42501' });
  });
});
