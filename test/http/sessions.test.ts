import { describe, expect, it } from 'vitest';
import { addMember } from '../support/factories.ts';
import { useApi } from '../support/http.ts';
import { createStaffWorld, utc, type StaffWorld } from '../support/staff-world.ts';

interface Session {
  id: string;
  service_id: string;
  provider_id: string;
  location_id: string;
  starts_at: string;
  ends_at: string;
  capacity: number;
  seats_taken: number;
  status: string;
}
interface Problem {
  code: string;
  errors?: { field: string }[];
}
interface Page {
  data: Session[];
  next_cursor: string | null;
}

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

describe('staff sessions API', () => {
  const api = useApi();

  /** The staff world plus a 60-minute group service (up to 4 per party, 6 seats by default). */
  async function world(): Promise<StaffWorld & { groupId: string }> {
    const w = await createStaffWorld(api());
    const groupId = await w.addService({ kind: 'group', durationMinutes: 60, maxPartySize: 4, defaultCapacity: 6 });
    return { ...w, groupId };
  }

  const call = <T = Session & Problem>(method: string, token: string | undefined, path: string, body?: unknown) =>
    api().json<T>(method, path, { token, body });

  function schedule(w: StaffWorld & { groupId: string }, token: string, body: Record<string, unknown> = {}) {
    return call('POST', token, '/v1/sessions', {
      service_id: w.groupId,
      provider_id: w.providerA,
      location_id: w.locationA,
      starts_at: utc(5, '18:00'),
      capacity: 8,
      ...body,
    });
  }

  async function scheduled(w: StaffWorld & { groupId: string }, body: Record<string, unknown> = {}): Promise<Session> {
    const res = await schedule(w, w.tokens.owner, body);
    expect(res.status).toBe(201);
    return res.body;
  }

  it('an owner schedules a session (201); without an end it lasts the service\'s duration; it shows in the list', async () => {
    const w = await world();
    const res = await schedule(w, w.tokens.owner);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      service_id: w.groupId,
      provider_id: w.providerA,
      location_id: w.locationA,
      starts_at: utc(5, '18:00'),
      ends_at: utc(5, '19:00'),
      capacity: 8,
      seats_taken: 0,
      status: 'scheduled',
    });
    const list = await call<Page>('GET', w.tokens.viewer, '/v1/sessions');
    expect(list.body).toEqual({ data: [res.body], next_cursor: null });
    const admin = await schedule(w, w.tokens.admin, { starts_at: utc(6, '18:00'), ends_at: utc(6, '20:00') });
    expect(admin).toMatchObject({ status: 201, body: { ends_at: utc(6, '20:00') } });
  });

  it('every session route is 401 without a token, or with a token acting in no tenant', async () => {
    const w = await world();
    const s = await scheduled(w);
    const calls: [string, string, unknown?][] = [
      ['GET', '/v1/sessions'],
      ['POST', '/v1/sessions', { service_id: w.groupId }],
      ['POST', '/v1/sessions/generate', { service_id: w.groupId, from: utc(1, '00:00'), to: utc(2, '00:00') }],
      ['PATCH', `/v1/sessions/${s.id}`, { capacity: 9 }],
      ['POST', `/v1/sessions/${s.id}/cancel`],
    ];
    for (const [method, path, body] of calls) {
      for (const token of [undefined, w.tokens.noTenant]) {
        const res = await call<Problem>(method, token, path, body);
        expect([`${method} ${path}`, res.status, res.body.code]).toEqual([`${method} ${path}`, 401, 'unauthenticated']);
      }
    }
    expect((await call<Page>('GET', w.tokens.owner, '/v1/sessions')).body.data).toEqual([s]);
  });

  it('receptionists and viewers cannot schedule (403), change (403) or cancel (404) sessions', async () => {
    const w = await world();
    const s = await scheduled(w);
    for (const token of [w.tokens.receptionistA, w.tokens.viewer]) {
      expect((await schedule(w, token, { starts_at: utc(7, '18:00') })).body.code).toBe('forbidden');
      expect((await call('PATCH', token, `/v1/sessions/${s.id}`, { capacity: 2 })).body.code).toBe('forbidden');
      expect((await call('POST', token, `/v1/sessions/${s.id}/cancel`)).body.code).toBe('not_found');
    }
    expect((await call<Page>('GET', w.tokens.owner, '/v1/sessions')).body.data).toEqual([s]);
  });

  it('a session overlapping its provider\'s other session is 409 slot_taken', async () => {
    const w = await world();
    await scheduled(w);
    const overlap = await schedule(w, w.tokens.owner, { starts_at: utc(5, '18:30') });
    expect(overlap).toMatchObject({ status: 409, body: { code: 'slot_taken' } });
    // Back to back is fine, and so is another provider at the same time.
    expect((await schedule(w, w.tokens.owner, { starts_at: utc(5, '19:00') })).status).toBe(201);
    expect((await schedule(w, w.tokens.owner, { provider_id: w.providerB, location_id: w.locationB })).status).toBe(201);
  });

  it('bad input is 422 with a stable code', async () => {
    const w = await world();
    expect((await schedule(w, w.tokens.owner, { service_id: w.serviceId })).body).toMatchObject({ code: 'validation_failed', errors: [{ field: 'service_id' }] });
    expect((await schedule(w, w.tokens.owner, { capacity: 0 })).status).toBe(422);
    expect((await schedule(w, w.tokens.owner, { capacity: 10_001 })).status).toBe(422);
    expect((await schedule(w, w.tokens.owner, { seats_taken: 3 })).body.code).toBe('validation_failed');
    expect((await schedule(w, w.tokens.owner, { ends_at: utc(5, '17:00') })).body.code).toBe('validation_failed');
    expect((await schedule(w, w.tokens.owner, { provider_id: UNKNOWN_ID })).status).toBe(422);
    expect((await call('GET', w.tokens.owner, '/v1/sessions?from=yesterday')).status).toBe(422);
    expect((await call('PATCH', w.tokens.owner, `/v1/sessions/${UNKNOWN_ID}`, { capacity: 'many' })).status).toBe(422);
    expect((await call<Page>('GET', w.tokens.owner, '/v1/sessions')).body.data).toEqual([]);
  });

  it('generate creates sessions on the providers\' free slots (201), skipping busy ones', async () => {
    const w = await world();
    const busy = await scheduled(w, { starts_at: utc(8, '02:00'), ends_at: utc(8, '05:00') });
    const res = await call<{ data: Session[] }>('POST', w.tokens.admin, '/v1/sessions/generate', {
      service_id: w.groupId,
      from: utc(8, '00:00'),
      to: utc(8, '06:00'),
    });
    expect(res.status).toBe(201);
    const starts = (provider: string) => res.body.data.filter((s) => s.provider_id === provider).map((s) => s.starts_at);
    expect(starts(w.providerA)).toEqual([utc(8, '00:00'), utc(8, '01:00'), utc(8, '05:00')]);
    expect(starts(w.providerB)).toHaveLength(6);
    expect(res.body.data.every((s) => s.capacity === 6 && s.status === 'scheduled')).toBe(true);
    const listed = await call<Page>('GET', w.tokens.owner, `/v1/sessions?service=${w.groupId}&limit=200`);
    expect(listed.body.data.map((s) => s.id).sort()).toEqual([busy.id, ...res.body.data.map((s) => s.id)].sort());
  });

  it('generate: a range over 100 days is 422 invalid_range; an appointment service or a receptionist is 404', async () => {
    const w = await world();
    const body = { service_id: w.groupId, from: utc(1, '00:00'), to: utc(120, '00:00') };
    expect((await call('POST', w.tokens.owner, '/v1/sessions/generate', body)).body.code).toBe('invalid_range');
    const day = { from: utc(1, '00:00'), to: utc(2, '00:00') };
    expect((await call('POST', w.tokens.owner, '/v1/sessions/generate', { ...day, service_id: w.serviceId })).body.code).toBe('not_found');
    expect((await call('POST', w.tokens.receptionistA, '/v1/sessions/generate', { ...day, service_id: w.groupId })).status).toBe(404);
    expect((await call('POST', w.tokens.owner, '/v1/sessions/generate', { ...day, service_id: w.groupId, capacity: 3 })).status).toBe(422);
    expect((await call<Page>('GET', w.tokens.owner, '/v1/sessions')).body.data).toEqual([]);
  });

  it('PATCH changes the capacity (200), never below the seats taken (422)', async () => {
    const w = await world();
    const s = await scheduled(w);
    const booked = await call('POST', w.tokens.owner, '/v1/bookings', {
      service_id: w.groupId,
      session_id: s.id,
      party_size: 3,
      contact: { name: 'Party of three' },
    });
    expect(booked.status).toBe(201);
    const grown = await call('PATCH', w.tokens.owner, `/v1/sessions/${s.id}`, { capacity: 12 });
    expect(grown).toMatchObject({ status: 200, body: { id: s.id, capacity: 12, seats_taken: 3 } });
    expect((await call('PATCH', w.tokens.admin, `/v1/sessions/${s.id}`, { capacity: 2 })).body.code).toBe('validation_failed');
    expect((await call('PATCH', w.tokens.owner, `/v1/sessions/${s.id}`, { capacity: 3 })).body.capacity).toBe(3);
    expect((await call('PATCH', w.tokens.owner, `/v1/sessions/${s.id}`, { capacity: 4, status: 'cancelled' })).status).toBe(422);
  });

  it('an unknown id and another tenant\'s session id are both 404', async () => {
    const w = await world();
    const other = await world();
    const theirs = await scheduled(other);
    for (const id of [UNKNOWN_ID, theirs.id]) {
      expect((await call('PATCH', w.tokens.owner, `/v1/sessions/${id}`, { capacity: 2 })).body.code).toBe('not_found');
      expect((await call('POST', w.tokens.owner, `/v1/sessions/${id}/cancel`)).body.code).toBe('not_found');
    }
    expect((await call<Page>('GET', w.tokens.owner, '/v1/sessions')).body.data).toEqual([]);
    expect((await call('GET', other.tokens.owner, `/v1/bookings`)).status).toBe(200);
    expect((await call<Page>('GET', other.tokens.owner, '/v1/sessions')).body.data).toEqual([theirs]);
  });

  it('cancelling a session (200) cancels its bookings and frees the provider', async () => {
    const w = await world();
    const s = await scheduled(w);
    const booked = await call<{ id: string }>('POST', w.tokens.owner, '/v1/bookings', {
      service_id: w.groupId,
      session_id: s.id,
      contact: { name: 'Gina' },
    });
    const cancelled = await call('POST', w.tokens.owner, `/v1/sessions/${s.id}/cancel`);
    expect(cancelled).toMatchObject({ status: 200, body: { id: s.id, status: 'cancelled' } });
    expect((await call('GET', w.tokens.owner, `/v1/bookings/${booked.body.id}`)).body.status).toBe('cancelled');
    expect((await schedule(w, w.tokens.owner, { starts_at: utc(5, '18:30') })).status).toBe(201);
    expect((await call('POST', w.tokens.owner, '/v1/bookings', { service_id: w.groupId, session_id: s.id, contact: { name: 'Late' } })).status).toBe(404);
  });

  it('a branch-A admin sees and manages only branch A\'s sessions', async () => {
    const w = await world();
    const a = await scheduled(w);
    const b = await scheduled(w, { provider_id: w.providerB, location_id: w.locationB });
    const adminA = await addMember(api().db, w.tenantId, 'admin', { locationId: w.locationA });
    const token = (await api().tokens.signAccess({ sub: adminA.userId, tenant_id: w.tenantId })).token;
    expect((await call<Page>('GET', token, '/v1/sessions')).body.data.map((s) => s.id)).toEqual([a.id]);
    expect((await call<Page>('GET', w.tokens.receptionistA, '/v1/sessions')).body.data.map((s) => s.id)).toEqual([a.id]);
    expect((await call('PATCH', token, `/v1/sessions/${b.id}`, { capacity: 2 })).status).toBe(404);
    expect((await call('POST', token, `/v1/sessions/${b.id}/cancel`)).status).toBe(404);
    expect((await schedule(w, token, { provider_id: w.providerB, location_id: w.locationB, starts_at: utc(9, '18:00') })).status).toBe(403);
    expect((await call('POST', token, `/v1/sessions/${a.id}/cancel`)).body.status).toBe('cancelled');
  });

  it('pagination keeps microseconds: sessions a microsecond apart are each listed once', async () => {
    const w = await world();
    // Arranged in SQL: the API's own inputs are JS dates (milliseconds), SQL-made times need not be.
    const insert = (provider: string, location: string, micros: number) =>
      api().db.query<{ id: string }>(
        `insert into slotbase.sessions (tenant_id, service_id, provider_id, location_id, starts_at, capacity)
         values ($1, $2, $3, $4, $5::timestamptz + make_interval(secs => $6::float8 / 1e6), 4) returning id`,
        [w.tenantId, w.groupId, provider, location, utc(12, '18:00'), micros],
      );
    const [b] = await insert(w.providerB, w.locationB, 2);
    const [a] = await insert(w.providerA, w.locationA, 1);
    const first = await call<Page>('GET', w.tokens.owner, '/v1/sessions?limit=1');
    expect(first.body.data.map((s) => s.id)).toEqual([a!.id]);
    const second = await call<Page>('GET', w.tokens.owner, `/v1/sessions?limit=1&cursor=${first.body.next_cursor}`);
    expect(second.body).toEqual({ data: [expect.objectContaining({ id: b!.id })], next_cursor: null });
  });

  it('list filters (service, from, to) and pagination walk every page without duplicates', async () => {
    const w = await world();
    const otherGroup = await w.addService({ kind: 'group', durationMinutes: 60, defaultCapacity: 4 });
    const made: Session[] = [];
    for (const hh of ['08', '10', '12', '14']) {
      made.push(await scheduled(w, { starts_at: utc(10, `${hh}:00`) }));
      made.push(await scheduled(w, { starts_at: utc(10, `${hh}:00`), provider_id: w.providerB, location_id: w.locationB }));
    }
    const other = await scheduled(w, { service_id: otherGroup, starts_at: utc(11, '08:00') });
    const order = (xs: Session[]) =>
      [...xs].sort((x, y) => (x.starts_at === y.starts_at ? (x.id < y.id ? -1 : 1) : x.starts_at < y.starts_at ? -1 : 1)).map((s) => s.id);
    const walk = async (query: string) => {
      const ids: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: { status: number; body: Page } = await call<Page>('GET', w.tokens.owner, `/v1/sessions?${query}${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status).toBe(200);
        ids.push(...res.body.data.map((s) => s.id));
        cursor = res.body.next_cursor;
        pages++;
      } while (cursor && pages < 50);
      return { ids, pages };
    };
    expect(await walk('limit=2')).toEqual({ ids: order([...made, other]), pages: 5 });
    expect(await walk('limit=3')).toEqual({ ids: order([...made, other]), pages: 3 });
    expect((await walk(`limit=3&service=${w.groupId}`)).ids).toEqual(order(made));
    expect((await walk(`limit=1&service=${otherGroup}`)).ids).toEqual([other.id]);
    expect((await walk(`limit=2&from=${utc(10, '10:00')}&to=${utc(10, '14:00')}`)).ids).toEqual(order(made.slice(2, 6)));
  });
});
