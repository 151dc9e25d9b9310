import { describe, expect, it } from 'vitest';
import { useApi } from '../support/http.ts';
import { createStaffWorld, utc, type StaffWorld } from '../support/staff-world.ts';

interface Booking {
  id: string;
  code: string;
  status: string;
  source: string;
  provider_id: string;
  location_id: string;
  starts_at: string;
  contact_email: string | null;
  status_reason: string | null;
  [key: string]: unknown;
}
interface Receipt extends Booking {
  manage_token: string;
  manage_url: string;
}
interface Problem {
  code: string;
  errors?: { field: string }[];
}
interface Page {
  data: Booking[];
  next_cursor: string | null;
}

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

describe('staff bookings API', () => {
  const api = useApi();

  const world = (options?: Parameters<typeof createStaffWorld>[1]) => createStaffWorld(api(), options);

  /** Books as `token` through POST /v1/bookings. */
  function book(w: StaffWorld, token: string, body: Record<string, unknown>, headers?: Record<string, string>) {
    return api().json<Receipt & Problem>('POST', '/v1/bookings', {
      token,
      headers,
      body: { service_id: w.serviceId, contact: { name: 'Ada Guest', email: 'ada@example.test' }, ...body },
    });
  }

  /** A confirmed booking at branch A (provider A) by the owner. */
  async function booked(w: StaffWorld, startsAt: string, body: Record<string, unknown> = {}): Promise<Receipt> {
    const res = await book(w, w.tokens.owner, { starts_at: startsAt, provider_id: w.providerA, ...body });
    expect(res.status).toBe(201);
    return res.body;
  }

  const get = <T = Booking & Problem>(token: string, path: string) => api().json<T>('GET', path, { token });
  const post = <T = Booking & Problem>(token: string, path: string, body?: unknown) => api().json<T>('POST', path, { token, body });

  /** Every page of a list, following next_cursor. */
  async function walk(token: string, path: string): Promise<{ pages: number; rows: Booking[] }> {
    const rows: Booking[] = [];
    let pages = 0;
    let cursor: string | null = null;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const res: { status: number; body: Page } = await get<Page>(token, cursor ? `${path}${sep}cursor=${cursor}` : path);
      expect(res.status).toBe(200);
      rows.push(...res.body.data);
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor && pages < 50);
    return { pages, rows };
  }

  it('a receptionist books a walk-in (no email, inside the notice period): 201 with code and manage token, and it shows in the list', async () => {
    const w = await world();
    const soon = new Date(Math.ceil((Date.now() + 30 * 60_000) / 1_800_000) * 1_800_000).toISOString(); // < 2 h notice
    const res = await book(w, w.tokens.receptionistA, { starts_at: soon, location_id: w.locationA, contact: { name: 'Walk-in Wanda' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'confirmed', source: 'staff', starts_at: soon, provider_id: w.providerA, location_id: w.locationA, contact_email: null });
    expect(res.body.code).toMatch(/^BK-/);
    expect(res.body.manage_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(res.body).not.toHaveProperty('manage_token_hash');
    expect(res.body).not.toHaveProperty('request_hash');
    const list = await get<Page>(w.tokens.receptionistA, '/v1/bookings');
    expect(list.body.data.map((b) => b.id)).toEqual([res.body.id]);
    expect(list.body.data[0]).not.toHaveProperty('manage_token');
    // The token staff pass on works on the customer's manage page.
    expect((await api().json<Booking>('GET', res.body.manage_url)).body.code).toBe(res.body.code);
  });

  it('the same Idempotency-Key replays the booking; reused for another request it is 409 idempotency_conflict', async () => {
    const w = await world();
    const headers = { 'idempotency-key': 'desk-1' };
    const first = await book(w, w.tokens.owner, { starts_at: utc(3, '10:00'), provider_id: w.providerA }, headers);
    expect(first.status).toBe(201);
    const replay = await book(w, w.tokens.owner, { starts_at: utc(3, '10:00'), provider_id: w.providerA }, headers);
    expect(replay).toMatchObject({ status: 201, body: { id: first.body.id, manage_token: first.body.manage_token } });
    const other = await book(w, w.tokens.owner, { starts_at: utc(3, '11:00'), provider_id: w.providerA }, headers);
    expect(other).toMatchObject({ status: 409, body: { code: 'idempotency_conflict' } });
  });

  it('a taken time is 409 slot_taken', async () => {
    const w = await world();
    await booked(w, utc(3, '10:00'));
    const again = await book(w, w.tokens.owner, { starts_at: utc(3, '10:00'), provider_id: w.providerA, contact: { name: 'Bob' } });
    expect(again).toMatchObject({ status: 409, body: { code: 'slot_taken' } });
  });

  it('a full session is 409 session_full', async () => {
    const w = await world();
    const groupId = await w.addService({ kind: 'group', maxPartySize: 4, defaultCapacity: 3 });
    const session = await api().json<{ id: string }>('POST', '/v1/sessions', {
      token: w.tokens.owner,
      body: { service_id: groupId, provider_id: w.providerA, location_id: w.locationA, starts_at: utc(4, '18:00'), capacity: 3 },
    });
    expect(session.status).toBe(201);
    expect((await book(w, w.tokens.owner, { service_id: groupId, session_id: session.body.id, party_size: 2 })).status).toBe(201);
    const full = await book(w, w.tokens.owner, { service_id: groupId, session_id: session.body.id, party_size: 2 });
    expect(full).toMatchObject({ status: 409, body: { code: 'session_full' } });
  });

  it('bad input is 422 with a stable code, and books nothing', async () => {
    const w = await world();
    const start = utc(3, '10:00');
    const at = { starts_at: start, provider_id: w.providerA };
    expect((await book(w, w.tokens.owner, { ...at, extra: true })).body.code).toBe('validation_failed');
    expect((await book(w, w.tokens.owner, { ...at, starts_at: 'tomorrow' })).status).toBe(422);
    expect((await book(w, w.tokens.owner, { ...at, party_size: 3 })).body.code).toBe('party_too_large');
    expect((await book(w, w.tokens.owner, { ...at, starts_at: utc(3, '10:10') })).body.code).toBe('outside_availability');
    expect((await book(w, w.tokens.owner, { starts_at: start })).body).toMatchObject({ code: 'validation_failed', errors: [{ field: 'location_id' }] });
    expect((await book(w, w.tokens.owner, { ...at, service_id: UNKNOWN_ID })).status).toBe(404);
    expect((await get(w.tokens.owner, '/v1/bookings/not-a-uuid')).status).toBe(422);
    expect((await get(w.tokens.owner, '/v1/bookings?status=confirmed,lost')).body.code).toBe('validation_failed');
    expect((await get(w.tokens.owner, '/v1/bookings?limit=0')).status).toBe(422);
    expect((await get(w.tokens.owner, '/v1/bookings?limit=201')).status).toBe(422);
    expect((await get(w.tokens.owner, '/v1/bookings?cursor=bm9wZQ')).body).toMatchObject({ code: 'validation_failed', errors: [{ field: 'cursor' }] });
    expect((await post(w.tokens.owner, `/v1/bookings/${UNKNOWN_ID}/reschedule`, { starts_at: start, when: 'now' })).status).toBe(422);
    expect((await get<Page>(w.tokens.owner, '/v1/bookings')).body.data).toEqual([]);
  });

  it('every staff route is 401 without a token, or with a token acting in no tenant', async () => {
    const w = await world();
    const b = await booked(w, utc(3, '10:00'));
    const calls: [string, string, unknown?][] = [
      ['GET', '/v1/bookings'],
      ['GET', `/v1/bookings/${b.id}`],
      ['GET', `/v1/bookings/${b.id}/events`],
      ['POST', '/v1/bookings', { service_id: w.serviceId, starts_at: utc(3, '11:00'), contact: { name: 'X' } }],
      ['POST', `/v1/bookings/${b.id}/confirm`],
      ['POST', `/v1/bookings/${b.id}/reject`, {}],
      ['POST', `/v1/bookings/${b.id}/cancel`, {}],
      ['POST', `/v1/bookings/${b.id}/complete`],
      ['POST', `/v1/bookings/${b.id}/no-show`],
      ['POST', `/v1/bookings/${b.id}/reschedule`, { starts_at: utc(3, '12:00') }],
      ['POST', '/v1/bookings', { bad: 'input' }], // 401 comes before validation
    ];
    for (const [method, path, body] of calls) {
      for (const token of [undefined, w.tokens.noTenant]) {
        const res = await api().json<Problem>(method, path, { body, token });
        expect([`${method} ${path}`, res.status, res.body.code]).toEqual([`${method} ${path}`, 401, 'unauthenticated']);
      }
    }
    expect((await get(w.tokens.owner, `/v1/bookings/${b.id}`)).body.status).toBe('confirmed');
  });

  it('a viewer reads bookings but cannot book for a customer (403) or act on a booking (404)', async () => {
    const w = await world();
    const b = await booked(w, utc(3, '10:00'));
    expect((await get<Page>(w.tokens.viewer, '/v1/bookings')).body.data.map((x) => x.id)).toEqual([b.id]);
    expect((await get(w.tokens.viewer, `/v1/bookings/${b.id}`)).status).toBe(200);
    const attempt = await book(w, w.tokens.viewer, { starts_at: utc(3, '12:00'), provider_id: w.providerA });
    expect(attempt).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    for (const action of ['confirm', 'reject', 'cancel', 'complete', 'no-show']) {
      expect((await post(w.tokens.viewer, `/v1/bookings/${b.id}/${action}`)).body.code).toBe('not_found');
    }
    expect((await post(w.tokens.viewer, `/v1/bookings/${b.id}/reschedule`, { starts_at: utc(3, '13:00') })).status).toBe(404);
    // Nothing changed and nothing was booked.
    expect((await get<Page>(w.tokens.owner, '/v1/bookings')).body.data.map((x) => [x.id, x.status, x.starts_at])).toEqual([[b.id, 'confirmed', b.starts_at]]);
  });

  it('an unknown id and another tenant\'s booking id are both 404', async () => {
    const w = await world();
    const other = await world();
    const theirs = await booked(other, utc(3, '10:00'));
    for (const id of [UNKNOWN_ID, theirs.id]) {
      expect((await get(w.tokens.owner, `/v1/bookings/${id}`)).body.code).toBe('not_found');
      expect((await get(w.tokens.owner, `/v1/bookings/${id}/events`)).status).toBe(404);
      expect((await post(w.tokens.owner, `/v1/bookings/${id}/cancel`)).status).toBe(404);
      expect((await post(w.tokens.owner, `/v1/bookings/${id}/confirm`)).status).toBe(404);
      expect((await post(w.tokens.owner, `/v1/bookings/${id}/reschedule`, { starts_at: utc(3, '11:00') })).status).toBe(404);
    }
    expect((await get<Page>(w.tokens.owner, '/v1/bookings')).body.data).toEqual([]);
    expect((await get(other.tokens.owner, `/v1/bookings/${theirs.id}`)).body.status).toBe('confirmed');
  });

  it('a member\'s own bookings as a customer of another business stay out of their tenant\'s list and actions (404)', async () => {
    const w = await world();
    const shop = await world();
    const [{ slug }] = (await api().db.query<{ slug: string }>('select slug from slotbase.tenants where id = $1', [shop.tenantId])) as [{ slug: string }];
    const asCustomer = await api().json<{ id: string }>('POST', `/v1/public/${slug}/bookings`, {
      token: w.tokens.owner,
      body: { service_id: shop.serviceId, starts_at: utc(3, '10:00'), provider_id: shop.providerA, contact: { name: 'Olivia', email: 'olivia@example.test' } },
    });
    expect(asCustomer.status).toBe(201);
    expect((await get<Page>(w.tokens.owner, '/v1/bookings')).body.data).toEqual([]);
    expect((await get(w.tokens.owner, `/v1/bookings/${asCustomer.body.id}`)).status).toBe(404);
    expect((await post(w.tokens.owner, `/v1/bookings/${asCustomer.body.id}/cancel`)).status).toBe(404);
    expect((await post(w.tokens.owner, `/v1/bookings/${asCustomer.body.id}/reschedule`, { starts_at: utc(3, '11:00') })).status).toBe(404);
    expect((await get<Page>(shop.tokens.owner, '/v1/bookings')).body.data.map((b) => [b.id, b.source])).toEqual([[asCustomer.body.id, 'public']]);
  });

  it('a receptionist of branch A does not see branch B\'s bookings, gets 404 on B\'s id and cannot book at B', async () => {
    const w = await world();
    const a = await booked(w, utc(3, '10:00'));
    const b = await booked(w, utc(3, '10:00'), { provider_id: w.providerB });
    expect(b.location_id).toBe(w.locationB);
    expect((await get<Page>(w.tokens.receptionistA, '/v1/bookings')).body.data.map((x) => x.id)).toEqual([a.id]);
    expect((await get<Page>(w.tokens.receptionistA, `/v1/bookings?location=${w.locationB}`)).body.data).toEqual([]);
    expect((await get(w.tokens.receptionistA, `/v1/bookings/${b.id}`)).status).toBe(404);
    expect((await get(w.tokens.receptionistA, `/v1/bookings/${b.id}/events`)).status).toBe(404);
    expect((await post(w.tokens.receptionistA, `/v1/bookings/${b.id}/cancel`)).status).toBe(404);
    const atB = await book(w, w.tokens.receptionistA, { starts_at: utc(3, '12:00'), provider_id: w.providerB });
    expect(atB).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    expect((await get<Page>(w.tokens.owner, '/v1/bookings')).body.data).toHaveLength(2);
    // At their own branch they act: cancel A's booking.
    expect((await post(w.tokens.receptionistA, `/v1/bookings/${a.id}/cancel`, { reason: 'customer called' })).body.status).toBe('cancelled');
  });

  it('approval flow: a pending booking is confirmed (200), then completed; an illegal step is 409 invalid_transition', async () => {
    const w = await world({ requiresApproval: true });
    // Yesterday's: an outcome is recorded only once a booking has started.
    const b = await booked(w, utc(-1, '10:00'));
    expect(b.status).toBe('pending');
    expect((await post(w.tokens.owner, `/v1/bookings/${b.id}/complete`)).body.code).toBe('invalid_transition');
    const confirmed = await post(w.tokens.receptionistA, `/v1/bookings/${b.id}/confirm`);
    expect(confirmed).toMatchObject({ status: 200, body: { id: b.id, status: 'confirmed' } });
    expect(confirmed.body).not.toHaveProperty('manage_token_hash');
    expect((await post(w.tokens.owner, `/v1/bookings/${b.id}/confirm`)).body.code).toBe('invalid_transition');
    expect((await post(w.tokens.owner, `/v1/bookings/${b.id}/complete`)).body.status).toBe('completed');
    expect((await post(w.tokens.owner, `/v1/bookings/${b.id}/cancel`)).status).toBe(409);
  });

  it('reject takes a reason and frees the time; a rejected booking cannot be confirmed', async () => {
    const w = await world({ requiresApproval: true });
    const b = await booked(w, utc(3, '10:00'));
    const rejected = await post(w.tokens.admin, `/v1/bookings/${b.id}/reject`, { reason: 'fully booked that week' });
    expect(rejected).toMatchObject({ status: 200, body: { status: 'rejected', status_reason: 'fully booked that week' } });
    expect((await post(w.tokens.owner, `/v1/bookings/${b.id}/confirm`)).body.code).toBe('invalid_transition');
    expect((await booked(w, utc(3, '10:00'))).status).toBe('pending');
  });

  it('cancel (with or without a body) frees the time; cancelling twice is 409 invalid_transition', async () => {
    const w = await world();
    const b = await booked(w, utc(3, '10:00'));
    const cancelled = await post(w.tokens.owner, `/v1/bookings/${b.id}/cancel`);
    expect(cancelled).toMatchObject({ status: 200, body: { status: 'cancelled' } });
    expect((await post(w.tokens.owner, `/v1/bookings/${b.id}/cancel`, { reason: 'again' })).body.code).toBe('invalid_transition');
    expect((await booked(w, utc(3, '10:00'))).status).toBe('confirmed');
  });

  it('the booking\'s own provider marks it completed or no-show, but cannot cancel it', async () => {
    const w = await world();
    const first = await booked(w, utc(-1, '10:00'));
    const second = await booked(w, utc(-1, '11:00'));
    const atB = await booked(w, utc(-1, '10:00'), { provider_id: w.providerB });
    expect((await post(w.tokens.provider, `/v1/bookings/${first.id}/complete`)).body.status).toBe('completed');
    expect((await post(w.tokens.provider, `/v1/bookings/${second.id}/no-show`)).body.status).toBe('no_show');
    expect((await post(w.tokens.provider, `/v1/bookings/${atB.id}/complete`)).status).toBe(404);
    expect((await post(w.tokens.provider, `/v1/bookings/${second.id}/cancel`)).status).toBe(404);
    expect((await post(w.tokens.owner, `/v1/bookings/${second.id}/no-show`)).body.code).toBe('invalid_transition');
  });

  it('reschedule moves the booking (200); to a taken time it is 409 slot_taken and stays put; off the grid it is 422', async () => {
    const w = await world();
    const b = await booked(w, utc(3, '10:00'));
    await booked(w, utc(3, '12:00'));
    const moved = await post(w.tokens.receptionistA, `/v1/bookings/${b.id}/reschedule`, { starts_at: utc(3, '11:00') });
    expect(moved).toMatchObject({ status: 200, body: { id: b.id, starts_at: utc(3, '11:00'), status: 'confirmed' } });
    const taken = await post(w.tokens.owner, `/v1/bookings/${b.id}/reschedule`, { starts_at: utc(3, '12:00') });
    expect(taken).toMatchObject({ status: 409, body: { code: 'slot_taken' } });
    expect((await post(w.tokens.owner, `/v1/bookings/${b.id}/reschedule`, { starts_at: utc(3, '12:10') })).body.code).toBe('outside_availability');
    expect((await post(w.tokens.owner, `/v1/bookings/${b.id}/reschedule`, {})).body).toMatchObject({ code: 'validation_failed', errors: [{ field: 'starts_at' }] });
    expect((await get(w.tokens.owner, `/v1/bookings/${b.id}`)).body.starts_at).toBe(utc(3, '11:00'));
    // To the other branch's provider: the location follows.
    const other = await post(w.tokens.owner, `/v1/bookings/${b.id}/reschedule`, { starts_at: utc(3, '12:00'), provider_id: w.providerB });
    expect(other.body).toMatchObject({ provider_id: w.providerB, location_id: w.locationB });
    await post(w.tokens.owner, `/v1/bookings/${b.id}/cancel`);
    expect((await post(w.tokens.owner, `/v1/bookings/${b.id}/reschedule`, { starts_at: utc(3, '14:00') })).body.code).toBe('invalid_transition');
  });

  it('the audit trail lists each change, oldest first, with who made it', async () => {
    const w = await world();
    const b = await booked(w, utc(3, '10:00'));
    await post(w.tokens.receptionistA, `/v1/bookings/${b.id}/reschedule`, { starts_at: utc(3, '11:00') });
    await post(w.tokens.owner, `/v1/bookings/${b.id}/cancel`, { reason: 'doctor ill' });
    const events = await get<{ data: { booking_id: string; from_status: string | null; to_status: string; actor_role: string; at: string; changes: Record<string, unknown> }[] }>(
      w.tokens.viewer,
      `/v1/bookings/${b.id}/events`,
    );
    expect(events.status).toBe(200);
    expect(events.body.data.map((e) => [e.from_status, e.to_status, e.actor_role])).toEqual([
      [null, 'confirmed', 'owner'],
      ['confirmed', 'confirmed', 'receptionist'],
      ['confirmed', 'cancelled', 'owner'],
    ]);
    expect(events.body.data[1]!.changes).toHaveProperty('starts_at');
    expect(events.body.data[2]!.changes).toEqual({ reason: 'doctor ill' });
    expect(events.body.data.every((e) => e.booking_id === b.id && !Number.isNaN(Date.parse(e.at)))).toBe(true);
  });

  it('list filters: time range, provider, location, service, status (repeated or comma list), customer email, code', async () => {
    const w = await world();
    const other = await w.addService();
    // In the past, so that one can be completed (outcomes are recorded once a booking has started).
    const b1 = await booked(w, utc(-5, '09:00'), { contact: { name: 'Ann', email: 'Ann@Example.test' } });
    const b2 = await booked(w, utc(-5, '10:00'), { provider_id: w.providerB });
    const b3 = await booked(w, utc(-4, '09:00'), { service_id: other });
    const b4 = await booked(w, utc(-3, '09:00'));
    expect((await post(w.tokens.owner, `/v1/bookings/${b4.id}/cancel`)).status).toBe(200);
    expect((await post(w.tokens.owner, `/v1/bookings/${b3.id}/complete`)).status).toBe(200);
    const ids = async (query: string) => (await get<Page>(w.tokens.owner, `/v1/bookings?${query}`)).body.data.map((b) => b.id);
    expect(await ids('')).toEqual([b1.id, b2.id, b3.id, b4.id]);
    expect(await ids(`from=${utc(-5, '10:00')}&to=${utc(-3, '09:00')}`)).toEqual([b2.id, b3.id]);
    expect(await ids(`provider=${w.providerB}`)).toEqual([b2.id]);
    expect(await ids(`location=${w.locationA}`)).toEqual([b1.id, b3.id, b4.id]);
    expect(await ids(`service=${other}`)).toEqual([b3.id]);
    expect(await ids('status=cancelled')).toEqual([b4.id]);
    expect(await ids('status=cancelled&status=completed')).toEqual([b3.id, b4.id]);
    expect(await ids('status=confirmed,completed')).toEqual([b1.id, b2.id, b3.id]);
    expect(await ids('customer=ann@EXAMPLE.test')).toEqual([b1.id]);
    expect(await ids(`q=${b2.code.toLowerCase()}`)).toEqual([b2.id]);
    expect(await ids(`q=${b2.code.slice(0, 6)}`)).toContain(b2.id);
    expect(await ids(`provider=${w.providerA}&status=confirmed`)).toEqual([b1.id]);
  });

  it('pagination walks every page in (starts_at, id) order without duplicates or gaps', async () => {
    const w = await world();
    const made: Booking[] = [];
    for (const hhmm of ['09:00', '09:30', '10:00', '10:30', '11:00']) {
      made.push(await booked(w, utc(6, hhmm)));
      made.push(await booked(w, utc(6, hhmm), { provider_id: w.providerB })); // same start, other provider: id breaks the tie
    }
    made.push(await booked(w, utc(7, '08:00')));
    const expected = made
      .map((b) => [b.starts_at, b.id] as const)
      .sort((x, y) => (x[0] === y[0] ? (x[1] < y[1] ? -1 : 1) : x[0] < y[0] ? -1 : 1))
      .map(([, id]) => id);
    for (const limit of [1, 3, 4, 11, 200]) {
      const { pages, rows } = await walk(w.tokens.owner, `/v1/bookings?limit=${limit}`);
      expect(rows.map((b) => b.id)).toEqual(expected);
      expect(pages).toBe(Math.max(1, Math.ceil(expected.length / limit)));
    }
    const first = await get<Page>(w.tokens.owner, '/v1/bookings');
    expect(first.body.next_cursor).toBeNull(); // default limit 50
    // Filters hold across pages.
    const atB = await walk(w.tokens.owner, `/v1/bookings?limit=2&location=${w.locationB}`);
    expect(atB.rows.map((b) => b.location_id)).toEqual(Array(5).fill(w.locationB));
  });
});
