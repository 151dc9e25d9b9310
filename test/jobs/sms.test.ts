import { describe, expect, it } from 'vitest';
import { normalizePhone } from '#src/lib/sms.ts';
import { uniq } from '../support/factories.ts';
import { useApi } from '../support/http.ts';
import { createStaffWorld, utc, type StaffWorld } from '../support/staff-world.ts';
import { drainJobs, jobsOf } from '../support/worker.ts';
import { startSmsProvider } from './notifications-support.ts';

const SID = 'AC0123456789abcdef0123456789abcdef';
const TOKEN = 'test-auth-token';
const FROM = '+15005550006';

interface LogRow {
  channel: string;
  template: string;
  status: string;
  reason: string | null;
  recipient: string;
  attempts: number;
  provider_message_id: string | null;
  last_error: string | null;
}

describe('E.164 normalization', () => {
  it('strips spaces, dashes, dots and parentheses and reads 00 as +; numbers without a country code are refused', () => {
    expect(normalizePhone('+49 (30) 123-4567')).toBe('+49301234567');
    expect(normalizePhone('0049 30 1234567')).toBe('+49301234567');
    expect(normalizePhone(' +1.415.555.0100 ')).toBe('+14155550100');
    expect(normalizePhone('030 1234567')).toBeUndefined();
    expect(normalizePhone('+0 30 1234567')).toBeUndefined();
    expect(normalizePhone('+49 30 1234567 ext 5')).toBeUndefined();
    expect(normalizePhone('+1234567890123456')).toBeUndefined();
    expect(normalizePhone('')).toBeUndefined();
  });
});

describe('booking notifications by SMS', () => {
  const api = useApi();
  const db = () => api().db;

  async function clinic(smsEnabled = true): Promise<StaffWorld & { ownerId: string }> {
    const w = await createStaffWorld(api());
    await db().query(`update slotbase.tenants set name = 'Sunrise Clinic', settings = settings || jsonb_build_object('sms_notifications', $2::boolean) where id = $1`, [
      w.tenantId,
      smsEnabled,
    ]);
    const [owner] = await db().query<{ user_id: string }>(`select user_id from slotbase.memberships where tenant_id = $1 and role = 'owner'`, [w.tenantId]);
    return { ...w, ownerId: owner!.user_id };
  }

  async function book(w: StaffWorld, phone: string, startsAt = utc(3, '09:00')): Promise<{ id: string; code: string; manage_token: string }> {
    const res = await api().json<{ id: string; code: string; manage_token: string }>('POST', '/v1/bookings', {
      token: w.tokens.owner,
      body: { service_id: w.serviceId, starts_at: startsAt, provider_id: w.providerA, contact: { name: 'Ada Guest', phone } },
    });
    expect(res.status).toBe(201);
    return res.body;
  }

  const env = (url: string) => ({ SMS_API_URL: url, SMS_ACCOUNT_SID: SID, SMS_AUTH_TOKEN: TOKEN, SMS_FROM: FROM });

  async function smsLog(w: StaffWorld & { ownerId: string }, bookingId: string): Promise<LogRow[]> {
    return db().queryAs<LogRow & Record<string, unknown>>(
      { role: 'authenticated', userId: w.ownerId, tenantId: w.tenantId },
      `select channel, template, status, reason, recipient, attempts, provider_message_id, last_error
       from slotbase.notifications where booking_id = $1 and channel = 'sms' order by created_at`,
      [bookingId],
    );
  }

  it('a confirmation SMS goes to the provider API form-encoded with basic auth, to the E.164 number, and is logged with its sid', async () => {
    const provider = await startSmsProvider();
    try {
      const w = await clinic();
      const booking = await book(w, '+49 (30) 123-4567');
      await drainJobs(db(), { env: env(provider.url) });

      expect(provider.requests).toHaveLength(1);
      const [req] = provider.requests;
      expect(req!.path).toBe(`/2010-04-01/Accounts/${SID}/Messages.json`);
      expect(req!.authorization).toBe(`Basic ${Buffer.from(`${SID}:${TOKEN}`).toString('base64')}`);
      expect(req!.contentType).toMatch(/^application\/x-www-form-urlencoded/);
      expect(req!.form.To).toBe('+49301234567');
      expect(req!.form.From).toBe(FROM);
      expect(req!.form.Body).toContain('Sunrise Clinic');
      expect(req!.form.Body).toContain(booking.code);
      expect(req!.form.Body).toContain(`http://slotbase.test/b/manage/${booking.code}?token=${booking.manage_token}`);
      expect(await smsLog(w, booking.id)).toEqual([
        expect.objectContaining({ template: 'confirmation', status: 'sent', recipient: '+49301234567', attempts: 1, provider_message_id: 'SM00000000000000000000000000000001' }),
      ]);

      // The reminder, made due: a second SMS; a re-run of the same reminder sends nothing more.
      const reminder = (await jobsOf(db(), 'booking_reminder')).find((j) => j.payload.booking_id === booking.id && j.key?.endsWith(':120'))!;
      await db().query(`update graphile_worker._private_jobs set run_at = now() where id = $1`, [reminder.id]);
      await drainJobs(db(), { env: env(provider.url) });
      await db().query(`select graphile_worker.add_job('booking_reminder', $1::text::json, job_key => $2)`, [JSON.stringify(reminder.payload), reminder.key]);
      await drainJobs(db(), { env: env(provider.url) });
      expect(provider.requests).toHaveLength(2);
      expect(provider.requests[1]!.form.Body).toMatch(/reminder/i);
      expect((await smsLog(w, booking.id)).map((r) => [r.template, r.status])).toEqual([
        ['confirmation', 'sent'],
        ['reminder', 'sent'],
      ]);
    } finally {
      await provider.close();
    }
  });

  it('a number without a country code is skipped as invalid_phone and never sent to the provider', async () => {
    const provider = await startSmsProvider();
    try {
      const w = await clinic();
      const booking = await book(w, '030 1234567');
      await drainJobs(db(), { env: env(provider.url) });
      expect(provider.requests).toEqual([]);
      expect(await smsLog(w, booking.id)).toEqual([expect.objectContaining({ status: 'skipped', reason: 'invalid_phone', attempts: 0 })]);
    } finally {
      await provider.close();
    }
  });

  it('an opted-out number (as typed differently) is skipped as opted_out and never sent', async () => {
    const provider = await startSmsProvider();
    try {
      const w = await clinic();
      await db().queryAs({ role: 'authenticated', userId: w.ownerId, tenantId: w.tenantId },
        `insert into slotbase.notification_opt_outs (tenant_id, channel, address, reason) values ($1, 'sms', '0049-30-7654321', 'Asked at the desk')`, [w.tenantId]);
      const booking = await book(w, '+49 30 7654321');
      await drainJobs(db(), { env: env(provider.url) });
      expect(provider.requests).toEqual([]);
      expect(await smsLog(w, booking.id)).toEqual([expect.objectContaining({ status: 'skipped', reason: 'opted_out', recipient: '+49307654321' })]);
    } finally {
      await provider.close();
    }
  });

  it('a tenant that did not enable SMS, or a deployment without SMS_*, sends and logs no SMS', async () => {
    const provider = await startSmsProvider();
    try {
      const off = await clinic(false);
      const b1 = await book(off, '+49 30 1111111');
      await drainJobs(db(), { env: env(provider.url) });
      const on = await clinic(true);
      const b2 = await book(on, '+49 30 2222222');
      await drainJobs(db());
      expect(provider.requests).toEqual([]);
      expect(await smsLog(off, b1.id)).toEqual([]);
      expect(await smsLog(on, b2.id)).toEqual([]);
    } finally {
      await provider.close();
    }
  });

  it('a provider error is recorded as failed and retried; an unsubscribed number (21610) becomes an opt-out', async () => {
    const failing = await startSmsProvider(() => ({ status: 503, body: { code: 20503, message: 'Service unavailable', status: 503 } }));
    try {
      const w = await clinic();
      const booking = await book(w, '+49 30 3333333');
      await drainJobs(db(), { env: env(failing.url) });
      expect(failing.requests).toHaveLength(1);
      const [row] = await smsLog(w, booking.id);
      expect(row).toMatchObject({ status: 'failed', reason: 'sms_error', attempts: 1 });
      expect(row!.last_error).toMatch(/503/);
      const job = (await jobsOf(db(), 'booking_confirmation')).find((j) => j.payload.booking_id === booking.id);
      expect(job).toMatchObject({ attempts: 1 });

      const stop = await startSmsProvider(() => ({ status: 400, body: { code: 21610, message: 'Attempt to send to unsubscribed recipient', status: 400 } }));
      try {
        await db().query(`update graphile_worker._private_jobs set run_at = now() where id = $1`, [job!.id]);
        await drainJobs(db(), { env: env(stop.url) });
        expect(stop.requests).toHaveLength(1);
      } finally {
        await stop.close();
      }
      expect(await smsLog(w, booking.id)).toEqual([expect.objectContaining({ status: 'skipped', reason: 'opted_out', attempts: 2 })]);
      expect((await jobsOf(db(), 'booking_confirmation')).find((j) => j.payload.booking_id === booking.id)).toBeUndefined();
      const optOuts = await db().queryAs({ role: 'authenticated', userId: w.ownerId, tenantId: w.tenantId },
        `select channel, address from slotbase.notification_opt_outs where tenant_id = $1`, [w.tenantId]);
      expect(optOuts).toEqual([{ channel: 'sms', address: '+49303333333' }]);
    } finally {
      await failing.close();
    }
  });
});
