import { describe, expect, it } from 'vitest';
import { createMailer } from '#src/lib/mailer.ts';
import { createLogger } from '#src/lib/logger.ts';
import { uniq } from '../support/factories.ts';
import { useApi } from '../support/http.ts';
import { createStaffWorld, utc, type StaffWorld } from '../support/staff-world.ts';
import { drainJobs, jobsOf } from '../support/worker.ts';
import { startSilentServer, startSmtp } from './notifications-support.ts';

interface LogRow {
  status: string;
  reason: string | null;
  attempts: number;
  last_error: string | null;
  sent_at: Date | null;
  recipient: string;
}

describe('notifications when the mail server fails', () => {
  const api = useApi();
  const db = () => api().db;

  async function booked(w: StaffWorld, email: string, startsAt = utc(3, '09:00')): Promise<{ id: string }> {
    const res = await api().json<{ id: string }>('POST', '/v1/bookings', {
      token: w.tokens.owner,
      body: { service_id: w.serviceId, starts_at: startsAt, provider_id: w.providerA, contact: { name: 'Ada Guest', email } },
    });
    expect(res.status).toBe(201);
    return res.body;
  }

  async function logOf(w: StaffWorld, bookingId: string): Promise<LogRow[]> {
    const [owner] = await db().query<{ user_id: string }>(`select user_id from slotbase.memberships where tenant_id = $1 and role = 'owner'`, [w.tenantId]);
    return db().queryAs<LogRow & Record<string, unknown>>(
      { role: 'authenticated', userId: owner!.user_id, tenantId: w.tenantId },
      `select status, reason, attempts, last_error, sent_at, recipient from slotbase.notifications where booking_id = $1`,
      [bookingId],
    );
  }

  const confirmationJob = async (bookingId: string) => (await jobsOf(db(), 'booking_confirmation')).find((j) => j.payload.booking_id === bookingId);
  /** Makes a retried job due now (the test's stand-in for its backoff passing). */
  const makeDue = (id: string) => db().query(`update graphile_worker._private_jobs set run_at = now() where id = $1`, [id]);

  it('a server that refuses the recipient (550): notification failed with last_error, the job retried later, other jobs still processed', async () => {
    const refusing = await startSmtp({ refuse: { at: 'rcpt', code: 550, message: 'No such user here' } });
    const w = await createStaffWorld(api());
    try {
      const refused = await booked(w, `${uniq('refused-')}@example.test`);
      // Another job in the same run: the worker keeps going after the failure.
      await db().query(`select graphile_worker.add_job('expire_holds', '{}'::json)`);
      const before = Date.now();
      const mailer = refusing.mailer();
      await drainJobs(db(), { overrides: { mailer } });
      mailer.close();

      const [row] = await logOf(w, refused.id);
      expect(row).toMatchObject({ status: 'failed', reason: 'smtp_error', attempts: 1, sent_at: null });
      expect(row!.last_error).toMatch(/550/);
      const job = await confirmationJob(refused.id);
      expect(job).toMatchObject({ attempts: 1 });
      expect(job!.last_error).toMatch(/550/);
      expect(job!.run_at.getTime()).toBeGreaterThan(before);
      expect(await jobsOf(db(), 'expire_holds')).toEqual([]);
      expect(refusing.received).toEqual([]);

      // The retry, once the server accepts again: the same row becomes sent.
      const working = await startSmtp();
      try {
        await makeDue(job!.id);
        const m = working.mailer();
        await drainJobs(db(), { overrides: { mailer: m } });
        m.close();
        expect(working.received).toHaveLength(1);
        const [after] = await logOf(w, refused.id);
        expect(after).toMatchObject({ status: 'sent', attempts: 2, reason: null });
        expect(after!.sent_at).toBeInstanceOf(Date);
        expect(await confirmationJob(refused.id)).toBeUndefined();
      } finally {
        await working.close();
      }
    } finally {
      await refusing.close();
    }
  });

  it('a server that fails the message temporarily (451 at DATA): failed and retried, nothing recorded as sent', async () => {
    const smtp = await startSmtp({ refuse: { at: 'data', code: 451, message: 'Try again later' } });
    const w = await createStaffWorld(api());
    try {
      const b = await booked(w, `${uniq('later-')}@example.test`, utc(3, '10:00'));
      const mailer = smtp.mailer();
      await drainJobs(db(), { overrides: { mailer } });
      mailer.close();
      const [row] = await logOf(w, b.id);
      expect(row).toMatchObject({ status: 'failed', attempts: 1 });
      expect(row!.last_error).toMatch(/451/);
      expect(await confirmationJob(b.id)).toMatchObject({ attempts: 1 });
    } finally {
      await smtp.close();
      // This file's later tests drain too: this job must not be retried into them.
      await db().query(`delete from graphile_worker._private_jobs where payload->>'booking_id' in (select id::text from slotbase.bookings where tenant_id = $1)`, [w.tenantId]);
    }
  });

  it('a server that never answers times out: failed and retried, the worker does not crash', async () => {
    const silent = await startSilentServer();
    const w = await createStaffWorld(api());
    try {
      const b = await booked(w, `${uniq('hung-')}@example.test`, utc(3, '11:00'));
      const mailer = createMailer({
        smtpUrl: `smtp://127.0.0.1:${silent.port}`,
        from: 'Slotbase <no-reply@slotbase.test>',
        logger: createLogger('silent'),
        timeouts: { connection: 300, greeting: 300, socket: 300 },
      });
      await drainJobs(db(), { overrides: { mailer } });
      mailer.close();
      expect(silent.connections()).toBeGreaterThan(0);
      const [row] = await logOf(w, b.id);
      expect(row).toMatchObject({ status: 'failed', attempts: 1 });
      expect(row!.last_error).toMatch(/timeout|timed out|greeting/i);
      expect(await confirmationJob(b.id)).toMatchObject({ attempts: 1 });
    } finally {
      await silent.close();
      await db().query(`delete from graphile_worker._private_jobs where payload->>'booking_id' in (select id::text from slotbase.bookings where tenant_id = $1)`, [w.tenantId]);
    }
  });
});
