import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { createJobDeps, loadTaskList } from '#src/jobs/worker.ts';
import { createLogger } from '#src/lib/logger.ts';
import { addMember, uniq } from '../support/factories.ts';
import { useApi } from '../support/http.ts';
import { createStaffWorld, utc, type StaffWorld } from '../support/staff-world.ts';
import { drainJobs, jobsOf, startTestWorker, workerTestConfig } from '../support/worker.ts';
import { inviteOf, startSmtp, type TestSmtp } from './notifications-support.ts';

interface Receipt {
  id: string;
  code: string;
  status: string;
  starts_at: string;
  manage_token: string;
}

interface NotificationRow {
  id: string;
  status: string;
  template: string;
  channel: string;
  recipient: string;
  dedupe_key: string;
  attempts: number;
  provider_message_id: string | null;
  sent_at: Date | null;
}

describe('booking notifications by email', () => {
  const api = useApi();
  const db = () => api().db;

  /** A clinic whose branch A is in Tokyo (UTC+9, no DST): 09:00Z is 18:00 local. */
  async function clinic(options: Parameters<typeof createStaffWorld>[1] = {}): Promise<StaffWorld & { ownerId: string }> {
    const w = await createStaffWorld(api(), options);
    await db().query(`update slotbase.tenants set name = 'Sunrise Clinic' where id = $1`, [w.tenantId]);
    await db().query(`update slotbase.locations set time_zone = 'Asia/Tokyo', name = 'Shibuya', address = '1-2-3 Jinnan, Tokyo' where id = $1`, [w.locationA]);
    await db().query(`update slotbase.services set name = 'Check-up' where tenant_id = $1`, [w.tenantId]);
    const [owner] = await db().query<{ user_id: string }>(`select user_id from slotbase.memberships where tenant_id = $1 and role = 'owner'`, [w.tenantId]);
    return { ...w, ownerId: owner!.user_id };
  }

  async function book(w: StaffWorld, startsAt: string, email: string, extra: Record<string, unknown> = {}): Promise<Receipt> {
    const res = await api().json<Receipt>('POST', '/v1/bookings', {
      token: w.tokens.owner,
      body: { service_id: w.serviceId, starts_at: startsAt, provider_id: w.providerA, contact: { name: 'Ada Guest', email }, ...extra },
    });
    expect(res.status).toBe(201);
    return res.body;
  }

  /** Runs every due job with mails going to `smtp`. */
  async function drain(smtp: TestSmtp): Promise<void> {
    const mailer = smtp.mailer();
    try {
      await drainJobs(db(), { overrides: { mailer } });
    } finally {
      mailer.close();
    }
  }

  /** The notification log of a booking, read as the tenant's owner (under RLS). */
  async function logOf(w: StaffWorld & { ownerId: string }, bookingId: string): Promise<NotificationRow[]> {
    return db().queryAs<NotificationRow & Record<string, unknown>>(
      { role: 'authenticated', userId: w.ownerId, tenantId: w.tenantId },
      `select id, status, template, channel, recipient, dedupe_key, attempts, provider_message_id, sent_at
       from slotbase.notifications where booking_id = $1 order by created_at, id`,
      [bookingId],
    );
  }

  async function withSmtp(fn: (smtp: TestSmtp) => Promise<void>): Promise<void> {
    const smtp = await startSmtp();
    try {
      await fn(smtp);
    } finally {
      await smtp.close();
    }
  }

  it('a booking made through the API is confirmed by email: subject, local time in the location zone, manage link, and an invitation at the booked instant', async () => {
    await withSmtp(async (smtp) => {
      const w = await clinic();
      const email = `${uniq('ada-')}@example.test`;
      const startsAt = utc(3, '09:00');
      const booking = await book(w, startsAt, email);
      expect(smtp.to(email)).toEqual([]);

      await drain(smtp);

      const mails = smtp.to(email);
      expect(mails).toHaveLength(1);
      const mail = mails[0]!;
      expect(mail.parsed.subject).toMatch(/^Confirmed: Check-up on /);
      expect(mail.parsed.subject).toContain('(Asia/Tokyo)');
      const text = mail.parsed.text ?? '';
      const localDate = new Intl.DateTimeFormat('en', { dateStyle: 'full', timeZone: 'Asia/Tokyo' }).format(new Date(startsAt));
      expect(text).toContain(localDate);
      expect(text).toMatch(/6:00\s?–\s?6:30\sPM \(Asia\/Tokyo\)/);
      expect(text).toContain('Shibuya, 1-2-3 Jinnan, Tokyo');
      expect(text).toContain(booking.code);
      expect(text).toContain(`http://slotbase.test/b/manage/${booking.code}?token=${booking.manage_token}`);
      expect(mail.parsed.html || '').toContain(`http://slotbase.test/b/manage/${booking.code}?token=${booking.manage_token}`);

      const invite = inviteOf(mail);
      expect(invite.method).toBe('REQUEST');
      expect(invite.uid).toBe(`booking-${booking.id}@slotbase`);
      expect(invite.start.getTime()).toBe(new Date(startsAt).getTime());
      expect(invite.startTzid).toBe('Asia/Tokyo');

      const [row] = await logOf(w, booking.id);
      expect(row).toMatchObject({ status: 'sent', template: 'confirmation', channel: 'email', recipient: email, attempts: 1 });
      expect(row!.sent_at).toBeInstanceOf(Date);
      expect(mail.parsed.messageId).toBe(`<notification.${row!.id}@slotbase.test>`);
      expect(row!.provider_message_id).toBe(mail.parsed.messageId);
    });
  });

  it('a tenant whose locale is de gets German mails; an unknown locale falls back to English', async () => {
    await withSmtp(async (smtp) => {
      const w = await clinic();
      await db().query(`update slotbase.tenants set locale = 'de' where id = $1`, [w.tenantId]);
      const german = `${uniq('de-')}@example.test`;
      await book(w, utc(3, '09:00'), german);
      await drain(smtp);
      const [mail] = smtp.to(german);
      expect(mail!.parsed.subject).toMatch(/^Bestätigt: Check-up am /);
      expect(mail!.parsed.text).toMatch(/18:00\s?–\s?18:30 Uhr \(Asia\/Tokyo\)|18:00–18:30 \(Asia\/Tokyo\)/);

      await db().query(`update slotbase.tenants set locale = 'fr' where id = $1`, [w.tenantId]);
      const french = `${uniq('fr-')}@example.test`;
      await book(w, utc(3, '11:00'), french);
      await drain(smtp);
      expect(smtp.to(french)[0]!.parsed.subject).toMatch(/^Confirmed: /);
    });
  });

  it('a reschedule sends the old and new time with the same UID and a higher SEQUENCE; a cancel sends METHOD:CANCEL', async () => {
    await withSmtp(async (smtp) => {
      const w = await clinic();
      const email = `${uniq('move-')}@example.test`;
      const first = utc(4, '09:00');
      const booking = await book(w, first, email);
      await drain(smtp);
      const confirmation = inviteOf(smtp.to(email)[0]!);

      const moved = utc(5, '10:00');
      const res = await api().json('POST', `/v1/bookings/${booking.id}/reschedule`, { token: w.tokens.owner, body: { starts_at: moved } });
      expect(res.status).toBe(200);
      await drain(smtp);
      const mails = smtp.to(email);
      expect(mails).toHaveLength(2);
      const rescheduled = mails[1]!;
      expect(rescheduled.parsed.subject).toMatch(/^Rescheduled: Check-up now on /);
      expect(rescheduled.parsed.text).toMatch(/7:00\s?–\s?7:30\sPM \(Asia\/Tokyo\)/);
      expect(rescheduled.parsed.text).toMatch(/Previously: .*6:00\sPM \(Asia\/Tokyo\)/);
      const update = inviteOf(rescheduled);
      expect(update.method).toBe('REQUEST');
      expect(update.uid).toBe(confirmation.uid);
      expect(update.sequence).toBeGreaterThan(confirmation.sequence);
      expect(update.start.getTime()).toBe(new Date(moved).getTime());

      const cancel = await api().json('POST', `/v1/bookings/${booking.id}/cancel`, { token: w.tokens.owner, body: { reason: 'Customer called' } });
      expect(cancel.status).toBe(200);
      await drain(smtp);
      const all = smtp.to(email);
      expect(all).toHaveLength(3);
      expect(all[2]!.parsed.subject).toMatch(/^Cancelled: /);
      const cancelled = inviteOf(all[2]!);
      expect(cancelled.method).toBe('CANCEL');
      expect(cancelled.status).toBe('CANCELLED');
      expect(cancelled.uid).toBe(confirmation.uid);
      expect(cancelled.sequence).toBeGreaterThan(update.sequence);
      expect((await logOf(w, booking.id)).map((r) => [r.template, r.status])).toEqual([
        ['confirmation', 'sent'],
        ['rescheduled', 'sent'],
        ['cancelled', 'sent'],
      ]);
    });
  });

  it('an opted-out email address gets no mail: the message is logged as skipped (opted_out)', async () => {
    await withSmtp(async (smtp) => {
      const w = await clinic();
      const email = `${uniq('quiet-')}@example.test`;
      await db().queryAs({ role: 'authenticated', userId: w.ownerId, tenantId: w.tenantId },
        `insert into slotbase.notification_opt_outs (tenant_id, channel, address) values ($1, 'email', upper($2))`, [w.tenantId, email]);
      const booking = await book(w, utc(3, '14:00'), email);
      await drain(smtp);
      expect(smtp.to(email)).toEqual([]);
      expect(await logOf(w, booking.id)).toEqual([expect.objectContaining({ template: 'confirmation', status: 'skipped', attempts: 0, provider_message_id: null })]);
    });
  });

  it('a job retried after a recorded success sends nothing again', async () => {
    await withSmtp(async (smtp) => {
      const w = await clinic();
      const email = `${uniq('once-')}@example.test`;
      const booking = await book(w, utc(3, '13:00'), email);
      await drain(smtp);
      expect(smtp.to(email)).toHaveLength(1);

      // The same job again (as after a crash between the send and the job's completion), twice.
      await db().query(`select graphile_worker.add_job('booking_confirmation', $1::text::json, job_key => 'confirmation:' || $2)`, [
        JSON.stringify({ tenant_id: w.tenantId, booking_id: booking.id }),
        booking.id,
      ]);
      await db().query(`select graphile_worker.add_job('booking_confirmation', $1::text::json)`, [JSON.stringify({ tenant_id: w.tenantId, booking_id: booking.id })]);
      await drain(smtp);

      expect(smtp.to(email)).toHaveLength(1);
      const log = await logOf(w, booking.id);
      expect(log).toHaveLength(1);
      expect(log[0]).toMatchObject({ status: 'sent', attempts: 1 });
      expect(await jobsOf(db(), 'booking_confirmation')).toEqual([]);
    });
  });

  it('duplicate jobs retrying at the same time send one mail: the log row stays locked while the server answers', async () => {
    const refusing = await startSmtp({ refuse: { at: 'data', code: 451, message: 'Try again later' } });
    const smtp = await startSmtp({ acceptAfterMs: 200 });
    const mailer = smtp.mailer();
    try {
      const w = await clinic();
      const email = `${uniq('race-')}@example.test`;
      const booking = await book(w, utc(3, '16:00'), email);
      await drain(refusing); // the first attempt fails: the row exists, `failed`
      expect(await logOf(w, booking.id)).toEqual([expect.objectContaining({ status: 'failed', attempts: 1 })]);
      for (let i = 0; i < 3; i++) {
        await db().query(`select graphile_worker.add_job('booking_confirmation', $1::text::json)`, [JSON.stringify({ tenant_id: w.tenantId, booking_id: booking.id })]);
      }
      await db().query(`update graphile_worker._private_jobs set run_at = now() where task_id = (select id from graphile_worker._private_tasks where identifier = 'booking_confirmation')`);
      const worker = await startTestWorker(db(), { overrides: { mailer } });
      try {
        // Four jobs, four concurrent slots: wait until the worker has finished them all.
        for (let i = 0; i < 300 && (await jobsOf(db(), 'booking_confirmation')).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
      } finally {
        await worker.stop();
      }
      expect(await jobsOf(db(), 'booking_confirmation')).toEqual([]);
      expect(smtp.to(email)).toHaveLength(1);
      expect(await logOf(w, booking.id)).toEqual([expect.objectContaining({ status: 'sent', attempts: 2 })]);
    } finally {
      mailer.close();
      await smtp.close();
      await refusing.close();
    }
  });

  it('reminders go out when due; a reminder job for a rescheduled booking\'s old time does nothing', async () => {
    await withSmtp(async (smtp) => {
      const w = await clinic();
      const email = `${uniq('remind-')}@example.test`;
      const booking = await book(w, utc(3, '09:00'), email);
      await drain(smtp); // the confirmation
      const reminderJobs = async () => (await jobsOf(db(), 'booking_reminder')).filter((j) => j.payload.booking_id === booking.id);
      expect((await reminderJobs()).map((j) => j.key).sort()).toEqual([`reminder:${booking.id}:120`, `reminder:${booking.id}:1440`]);

      // A worker has the 1440-minute reminder in hand when the booking moves a day later.
      const [inHand] = (await reminderJobs()).filter((j) => j.key === `reminder:${booking.id}:1440`);
      await db().query(`update graphile_worker._private_jobs set locked_at = now(), locked_by = 'test-worker' where id = $1`, [inHand!.id]);
      const moved = utc(4, '09:00');
      expect((await api().json('POST', `/v1/bookings/${booking.id}/reschedule`, { token: w.tokens.owner, body: { starts_at: moved } })).status).toBe(200);

      // That job now runs to its end: it is about the old time, so it sends nothing.
      const mailer = smtp.mailer();
      const deps = createJobDeps({ databaseUrl: db().url!, config: workerTestConfig(), logger: createLogger('silent'), overrides: { mailer } });
      try {
        const tasks = await loadTaskList(deps);
        const [stale] = await db().query<{ id: string; key: string | null }>(`select id::text, key from graphile_worker.jobs where id = $1`, [inHand!.id]);
        expect(stale!.key).toBeNull();
        const quiet = { info() {}, debug() {}, warn() {}, error() {} };
        await tasks.booking_reminder!(inHand!.payload, { job: { ...inHand, id: inHand!.id }, logger: quiet } as never);
      } finally {
        await deps.close();
        mailer.close();
      }
      await db().query(`delete from graphile_worker._private_jobs where id = $1`, [inHand!.id]);
      expect(smtp.to(email).filter((m) => m.parsed.subject?.startsWith('Reminder'))).toEqual([]);

      // The reminder for the new time, made due now: sent, about the new time.
      const current = (await reminderJobs()).find((j) => j.key === `reminder:${booking.id}:1440`)!;
      expect(current.run_at.getTime()).toBe(new Date(moved).getTime() - 1440 * 60_000);
      await db().query(`update graphile_worker._private_jobs set run_at = now() where id = $1`, [current.id]);
      await drain(smtp);
      const reminders = smtp.to(email).filter((m) => m.parsed.subject?.startsWith('Reminder'));
      expect(reminders).toHaveLength(1);
      const localNew = new Intl.DateTimeFormat('en', { dateStyle: 'full', timeZone: 'Asia/Tokyo' }).format(new Date(moved));
      expect(reminders[0]!.parsed.text).toContain(localNew);
      const log = await logOf(w, booking.id);
      expect(log.filter((r) => r.template === 'reminder').map((r) => r.dedupe_key)).toEqual([
        `reminder:${booking.id}:1440:${new Date(moved).getTime() / 1000}:email:${email}`,
      ]);
    });
  });

  it('a reminder for a booking that is no longer confirmed does nothing', async () => {
    await withSmtp(async (smtp) => {
      const w = await clinic();
      const email = `${uniq('gone-')}@example.test`;
      const booking = await book(w, utc(3, '15:00'), email);
      await drain(smtp);
      // Cancelled: the trigger removes the reminder jobs; one re-added by hand (as a stale copy) must do nothing.
      await api().json('POST', `/v1/bookings/${booking.id}/cancel`, { token: w.tokens.owner, body: {} });
      expect((await jobsOf(db(), 'booking_reminder')).filter((j) => j.payload.booking_id === booking.id)).toEqual([]);
      await db().query(`select graphile_worker.add_job('booking_reminder', $1::text::json, job_key => $2)`, [
        JSON.stringify({ tenant_id: w.tenantId, booking_id: booking.id, offset_minutes: 120 }),
        `reminder:${booking.id}:120`,
      ]);
      await drain(smtp);
      expect(smtp.to(email).map((m) => m.parsed.subject?.split(':')[0])).toEqual(['Confirmed', 'Cancelled']);
      expect((await logOf(w, booking.id)).map((r) => r.template)).toEqual(['confirmation', 'cancelled']);
    });
  });

  it('a rolled-back booking enqueues no job and sends no mail', async () => {
    await withSmtp(async (smtp) => {
      const w = await clinic();
      const email = `${uniq('rollback-')}@example.test`;
      const sql = postgres(db().url!, { max: 1, onnotice: () => {} });
      let bookingId: string | undefined;
      try {
        await sql
          .begin(async (tx) => {
            const [b] = await tx<{ id: string }[]>`
              select b.id from slotbase.create_booking(p_tenant_id => ${w.tenantId}::uuid, p_service_id => ${w.serviceId}::uuid,
                p_starts_at => ${utc(6, '09:00')}::timestamptz, p_provider_id => ${w.providerA}::uuid,
                p_contact_name => 'Rolled Back', p_contact_email => ${email}) as b`;
            bookingId = b!.id;
            const inside = await tx`select 1 from graphile_worker._private_jobs where payload->>'booking_id' = ${b!.id}`;
            expect(inside.length).toBeGreaterThan(0);
            throw new Error('roll back');
          })
          .catch((e: Error) => {
            if (e.message !== 'roll back') throw e;
          });
      } finally {
        await sql.end();
      }
      expect(bookingId).toBeDefined();
      expect((await jobsOf(db())).filter((j) => j.payload.booking_id === bookingId)).toEqual([]);
      await drain(smtp);
      expect(smtp.to(email)).toEqual([]);
    });
  });

  it('a booking needing approval asks the owners, admins and the receptionists of its location; a rejection tells the booker why', async () => {
    await withSmtp(async (smtp) => {
      const w = await clinic({ requiresApproval: true });
      const receptionistB = await addMember(db(), w.tenantId, 'receptionist', { locationId: w.locationB });
      const emails = await db().query<{ role: string; email: string; location_id: string | null; user_id: string }>(
        `select m.role, u.email, m.location_id, m.user_id from slotbase.memberships m join slotbase.users u on u.id = m.user_id where m.tenant_id = $1`,
        [w.tenantId],
      );
      const expected = emails
        .filter((m) => m.role === 'owner' || m.role === 'admin' || (m.role === 'receptionist' && m.location_id === w.locationA))
        .map((m) => m.email.toLowerCase())
        .sort();
      const notAsked = emails.filter((m) => m.user_id === receptionistB.userId || m.role === 'viewer' || m.role === 'provider').map((m) => m.email.toLowerCase());
      expect(expected).toHaveLength(3);

      const customer = `${uniq('ask-')}@example.test`;
      const booking = await book(w, utc(3, '09:00'), customer);
      expect(booking.status).toBe('pending');
      await drain(smtp);
      const asked = smtp.received.filter((m) => m.parsed.subject?.startsWith('Approval needed')).flatMap((m) => m.to).sort();
      expect(asked).toEqual(expected);
      for (const e of notAsked) expect(smtp.to(e)).toEqual([]);
      expect(smtp.to(customer)).toEqual([]);

      const rejected = await api().json('POST', `/v1/bookings/${booking.id}/reject`, { token: w.tokens.owner, body: { reason: 'The doctor is away that week' } });
      expect(rejected.status).toBe(200);
      await drain(smtp);
      const [mail] = smtp.to(customer);
      expect(mail!.parsed.subject).toMatch(/^Not accepted: /);
      expect(mail!.parsed.text).toContain('Reason: The doctor is away that week');
      expect(inviteOf(mail!).method).toBe('CANCEL');
    });
  });
});
