import { describe, expect, it } from 'vitest';
import { expectSqlState, type Principal } from '../support/db.ts';
import { uniq } from '../support/factories.ts';
import { useApi } from '../support/http.ts';
import { createStaffWorld, utc, type StaffWorld } from '../support/staff-world.ts';
import { drainJobs } from '../support/worker.ts';

interface Notification {
  id: string;
  booking_id: string | null;
  channel: string;
  template: string;
  recipient: string;
  status: string;
  attempts: number;
  sent_at: string | null;
}
interface Page<T> {
  data: T[];
  next_cursor: string | null;
}
interface Problem {
  code: string;
}

describe('notification log and opt-outs API', () => {
  const api = useApi();
  const db = () => api().db;

  /** Two confirmed bookings (branch A with provider A, branch B with provider B), their mails sent (SMTP unset: printed to the log). */
  async function clinicWithMail(): Promise<{ w: StaffWorld; atA: string; atB: string; emailA: string; emailB: string }> {
    const w = await createStaffWorld(api());
    const emailA = `${uniq('a-')}@example.test`;
    const emailB = `${uniq('b-')}@example.test`;
    const book = async (provider: string, location: string, email: string, startsAt: string) => {
      const res = await api().json<{ id: string }>('POST', '/v1/bookings', {
        token: w.tokens.owner,
        body: { service_id: w.serviceId, starts_at: startsAt, provider_id: provider, location_id: location, contact: { name: 'Guest', email } },
      });
      expect(res.status).toBe(201);
      return res.body.id;
    };
    const atA = await book(w.providerA, w.locationA, emailA, utc(3, '09:00'));
    const atB = await book(w.providerB, w.locationB, emailB, utc(3, '10:00'));
    await drainJobs(db());
    return { w, atA, atB, emailA, emailB };
  }

  const list = (token: string, query = '') => api().json<Page<Notification> & Problem>('GET', `/v1/notifications${query}`, { token });

  async function principalOf(tenantId: string, role: string, locationId: string | null = null): Promise<Principal> {
    const [m] = await db().query<{ user_id: string }>(
      `select user_id from slotbase.memberships where tenant_id = $1 and role = $2 and location_id is not distinct from $3 limit 1`,
      [tenantId, role, locationId],
    );
    return { role: 'authenticated', userId: m!.user_id, tenantId };
  }

  it('staff read the log of their tenant, filtered by booking, status and channel, newest first, page by page', async () => {
    const { w, atA, atB, emailA } = await clinicWithMail();
    const all = await list(w.tokens.owner);
    expect(all.status).toBe(200);
    expect(all.body.data.map((n) => n.booking_id).sort()).toEqual([atA, atB].sort());
    expect(all.body.data[0]).toMatchObject({ channel: 'email', template: 'confirmation', status: 'sent', attempts: 1 });
    expect(all.body.data[1]!.id).not.toBe(all.body.data[0]!.id);
    expect(Date.parse(all.body.data[0]!.sent_at!)).toBeGreaterThan(0);

    const one = await list(w.tokens.owner, `?booking_id=${atA}`);
    expect(one.body.data).toEqual([expect.objectContaining({ booking_id: atA, recipient: emailA })]);
    expect((await list(w.tokens.owner, '?status=failed')).body.data).toEqual([]);
    expect((await list(w.tokens.owner, '?channel=sms')).body.data).toEqual([]);
    expect((await list(w.tokens.viewer, '?status=sent&channel=email')).body.data).toHaveLength(2);

    const first = await list(w.tokens.owner, '?limit=1');
    expect(first.body.data).toHaveLength(1);
    expect(first.body.next_cursor).not.toBeNull();
    const second = await list(w.tokens.owner, `?limit=1&cursor=${first.body.next_cursor}`);
    expect(second.body.data).toHaveLength(1);
    expect(second.body.next_cursor).toBeNull();
    expect([first.body.data[0]!.id, second.body.data[0]!.id]).toEqual(all.body.data.map((n) => n.id));

    expect((await list(w.tokens.owner, '?cursor=nonsense')).body.code).toBe('validation_failed');
    expect((await list(w.tokens.owner, '?status=lost')).status).toBe(422);
    expect((await api().json('GET', '/v1/notifications')).status).toBe(401);
  });

  it('a receptionist of another location sees nothing of a booking\'s messages; a provider sees only their own bookings\' messages', async () => {
    const { w, atA, atB } = await clinicWithMail();
    // receptionistA is scoped to branch A: the booking at B's messages are invisible.
    expect((await list(w.tokens.receptionistA)).body.data.map((n) => n.booking_id)).toEqual([atA]);
    expect((await list(w.tokens.receptionistA, `?booking_id=${atB}`)).body.data).toEqual([]);
    // The provider member is provider A.
    expect((await list(w.tokens.provider)).body.data.map((n) => n.booking_id)).toEqual([atA]);
    // The same under RLS, as the scoped receptionist.
    const receptionist = await principalOf(w.tenantId, 'receptionist', w.locationA);
    expect(await db().queryAs(receptionist, `select booking_id from slotbase.notifications where booking_id = $1`, [atB])).toEqual([]);
  });

  it('another tenant sees nothing: not through the API, not under RLS, not with a forged tenant claim', async () => {
    const { w, atA } = await clinicWithMail();
    const other = await createStaffWorld(api());
    expect((await list(other.tokens.owner)).body.data).toEqual([]);
    expect((await list(other.tokens.owner, `?booking_id=${atA}`)).body.data).toEqual([]);
    const otherOwner = await principalOf(other.tenantId, 'owner');
    expect(await db().queryAs(otherOwner, `select 1 from slotbase.notifications where tenant_id = $1`, [w.tenantId])).toEqual([]);
    expect(await db().queryAs({ ...otherOwner, tenantId: w.tenantId } as Principal, `select 1 from slotbase.notifications`)).toEqual([]);
    // And the tenant's own owner does see them under RLS (the query above could see rows).
    const owner = await principalOf(w.tenantId, 'owner');
    expect(await db().queryAs(owner, `select 1 from slotbase.notifications where tenant_id = $1`, [w.tenantId])).toHaveLength(2);
  });

  it('no caller writes the log, not even the owner (42501)', async () => {
    const { w, atA } = await clinicWithMail();
    const owner = await principalOf(w.tenantId, 'owner');
    await expectSqlState(db().queryAs(owner, `update slotbase.notifications set status = 'queued' where booking_id = $1`, [atA]), '42501');
    await expectSqlState(db().queryAs(owner, `delete from slotbase.notifications where booking_id = $1`, [atA]), '42501');
    await expectSqlState(
      db().queryAs(owner, `insert into slotbase.notifications (tenant_id, channel, template, recipient, dedupe_key) values ($1, 'email', 'reminder', 'x@example.test', 'forged')`, [w.tenantId]),
      '42501',
    );
    await expectSqlState(db().queryAs(owner, `select slotbase_private.claim_notification($1, null, 'email', 'reminder', 'x@example.test', 'forged')`, [w.tenantId]), '42501');
  });

  it('opt-outs: staff record them normalized, one per channel and address; viewers may not; deleting lifts them', async () => {
    const w = await createStaffWorld(api());
    const created = await api().json<{ id: string; address: string; channel: string; created_by: string } & Problem>('POST', '/v1/notification-opt-outs', {
      token: w.tokens.receptionistA,
      body: { channel: 'sms', address: '0049 (30) 123-4567', reason: 'No texts please' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ channel: 'sms', address: '+49301234567' });
    const email = await api().json<{ address: string }>('POST', '/v1/notification-opt-outs', { token: w.tokens.owner, body: { channel: 'email', address: 'Ada@Example.TEST' } });
    expect(email.body.address).toBe('ada@example.test');

    const again = await api().json<Problem>('POST', '/v1/notification-opt-outs', { token: w.tokens.admin, body: { channel: 'sms', address: '+49 30 1234567' } });
    expect([again.status, again.body.code]).toEqual([409, 'already_exists']);
    const invalid = await api().json<Problem>('POST', '/v1/notification-opt-outs', { token: w.tokens.owner, body: { channel: 'sms', address: '030 1234567' } });
    expect([invalid.status, invalid.body.code]).toEqual([422, 'validation_failed']);
    const unknownField = await api().json<Problem>('POST', '/v1/notification-opt-outs', { token: w.tokens.owner, body: { channel: 'fax', address: '+49301234567' } });
    expect(unknownField.status).toBe(422);
    const byViewer = await api().json<Problem>('POST', '/v1/notification-opt-outs', { token: w.tokens.viewer, body: { channel: 'email', address: 'v@example.test' } });
    expect([byViewer.status, byViewer.body.code]).toEqual([403, 'forbidden']);

    const listed = await api().json<Page<{ id: string }>>('GET', '/v1/notification-opt-outs', { token: w.tokens.owner });
    expect(listed.body.data.map((o) => o.id)).toContain(created.body.id);
    expect((await api().json<Page<unknown>>('GET', '/v1/notification-opt-outs', { token: w.tokens.viewer })).body.data).toEqual([]);

    const other = await createStaffWorld(api());
    expect((await api().json<Page<unknown>>('GET', '/v1/notification-opt-outs', { token: other.tokens.owner })).body.data).toEqual([]);
    expect((await api().request('DELETE', `/v1/notification-opt-outs/${created.body.id}`, { token: other.tokens.owner })).status).toBe(404);
    expect((await api().request('DELETE', `/v1/notification-opt-outs/${created.body.id}`, { token: w.tokens.viewer })).status).toBe(404);
    expect((await api().request('DELETE', `/v1/notification-opt-outs/${created.body.id}`, { token: w.tokens.receptionistA })).status).toBe(204);
    expect((await api().request('DELETE', `/v1/notification-opt-outs/${created.body.id}`, { token: w.tokens.owner })).status).toBe(404);
  });
});
