import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { startAvailabilityHub, type AvailabilityHub } from '#src/web/live-availability.ts';
import { createLogger } from '#src/lib/logger.ts';
import { addDailyRules, createLocation, createProvider, createService, createTenant, linkProvider } from '../support/factories.ts';
import { useApi } from '../support/http.ts';

interface SseEvent {
  id?: string;
  event: string;
  data: Record<string, unknown>;
}

/** Reads a text/event-stream response event by event (comments skipped). */
function sseReader(res: Response) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return {
    async next(): Promise<SseEvent> {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields: Record<string, string> = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':') || !line.includes(':')) continue;
            const [key, ...rest] = line.split(':');
            fields[key!] = rest.join(':').replace(/^ /, '');
          }
          if (!fields.event && !fields.data) continue;
          return { id: fields.id, event: fields.event ?? 'message', data: JSON.parse(fields.data ?? '{}') as Record<string, unknown> };
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('the stream ended');
        buffer += decoder.decode(value, { stream: true });
      }
    },
    close: () => reader.cancel(),
  };
}

describe('live availability over Server-Sent Events', () => {
  // The app gets a hub listening on its own connection as the API's role, as `slotbase serve` does.
  let hub: AvailabilityHub | undefined;
  const live: AvailabilityHub = {
    subscribe: (t, l) => hub!.subscribe(t, l),
    since: (t, id) => hub!.since(t, id),
    get listeners() {
      return hub!.listeners;
    },
    close: () => hub!.close(),
  };
  const api = useApi({ live });
  let listenSql: postgres.Sql;
  const clinics: { slug: string; serviceId: string; providerId: string }[] = [];

  beforeAll(async () => {
    const url = new URL(api().db.url!);
    url.username = 'slotbase_api';
    url.password = inject('apiPassword');
    listenSql = postgres(url.toString(), { max: 1, onnotice: () => {} });
    hub = await startAvailabilityHub(listenSql, createLogger('silent'));
    const db = api().db;
    for (let i = 0; i < 2; i++) {
      const tenant = await createTenant(db, { timeZone: 'UTC' });
      const location = await createLocation(db, tenant.id, { timeZone: 'UTC' });
      const service = await createService(db, tenant.id, { durationMinutes: 30, maxAdvanceDays: 365 });
      const provider = await createProvider(db, tenant.id, { locationId: location.id });
      await linkProvider(db, tenant.id, service.id, provider.id);
      await addDailyRules(db, tenant.id, { providerId: provider.id }, location.id, '09:00', '17:00');
      clinics.push({ slug: tenant.slug, serviceId: service.id, providerId: provider.id });
    }
  });
  afterAll(async () => {
    await hub?.close();
    await listenSql?.end({ timeout: 5 });
  });

  const at = (days: number, hhmm: string) => {
    const d = new Date();
    const [h, m] = hhmm.split(':').map(Number);
    return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + days, h, m)).toISOString();
  };
  const book = (clinic: (typeof clinics)[number], startsAt: string) =>
    api().json<{ id: string; code: string; manage_token: string }>('POST', `/v1/public/${clinic.slug}/bookings`, {
      body: { service_id: clinic.serviceId, starts_at: startsAt, contact: { name: 'Live Tester', email: 'live@example.test' } },
    });
  async function connect(slug: string, lastEventId?: string) {
    const res = await api().request('GET', `/v1/public/${slug}/events`, { headers: lastEventId ? { 'last-event-id': lastEventId } : {} });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const stream = sseReader(res);
    expect((await stream.next()).event).toBe('ready');
    return stream;
  }

  it('a booking made elsewhere reaches a connected page as the provider\'s busy range; a failed attempt announces nothing', async () => {
    const [a] = clinics;
    const stream = await connect(a!.slug);
    try {
      const first = await book(a!, at(3, '10:00'));
      expect(first.status).toBe(201);
      const taken = await book(a!, at(3, '10:00')); // rolled back: slot_taken
      expect(taken.status).toBe(409);
      const second = await book(a!, at(3, '11:00'));
      expect(second.status).toBe(201);
      const e1 = await stream.next();
      const e2 = await stream.next();
      expect(e1).toMatchObject({ event: 'availability', data: { kind: 'claim', subject_id: a!.providerId, from: at(3, '10:00'), to: at(3, '10:30') } });
      // The next event is the second booking's: the 409 in between produced none.
      expect(e2).toMatchObject({ event: 'availability', data: { kind: 'claim', subject_id: a!.providerId, from: at(3, '11:00') } });
    } finally {
      await stream.close();
    }
  });

  it('a page sees only its own business: another tenant\'s bookings never reach it', async () => {
    const [a, b] = clinics;
    const stream = await connect(a!.slug);
    try {
      expect((await book(b!, at(4, '10:00'))).status).toBe(201);
      expect((await book(a!, at(4, '12:00'))).status).toBe(201);
      const event = await stream.next();
      expect(event.data).toMatchObject({ subject_id: a!.providerId, from: at(4, '12:00') });
    } finally {
      await stream.close();
    }
  });

  it('a cancellation frees the range and is announced too', async () => {
    const [a] = clinics;
    const booked = await book(a!, at(5, '14:00'));
    expect(booked.status).toBe(201);
    const stream = await connect(a!.slug);
    try {
      const cancelled = await api().json('DELETE', `/v1/public/bookings/${booked.body.code}?token=${booked.body.manage_token}`);
      expect(cancelled.status).toBe(200);
      expect((await stream.next()).data).toMatchObject({ kind: 'claim', from: at(5, '14:00'), to: at(5, '14:30') });
    } finally {
      await stream.close();
    }
  });

  it('a page reconnecting with Last-Event-ID gets what it missed; an unknown id gets a reset', async () => {
    const [a] = clinics;
    const stream = await connect(a!.slug);
    expect((await book(a!, at(6, '09:00'))).status).toBe(201);
    const seen = await stream.next();
    await stream.close();
    expect(seen.id).toBeTruthy();
    expect((await book(a!, at(6, '09:30'))).status).toBe(201); // while disconnected
    const again = await connect(a!.slug, seen.id);
    try {
      expect((await again.next()).data).toMatchObject({ from: at(6, '09:30') });
    } finally {
      await again.close();
    }
    const stale = await connect(a!.slug, 'someotherprocess-12');
    try {
      expect((await stale.next()).event).toBe('reset');
    } finally {
      await stale.close();
    }
  });

  it('staff changing working hours is announced as a schedule change', async () => {
    const [a] = clinics;
    const stream = await connect(a!.slug);
    try {
      const [tenant] = await api().db.query<{ id: string }>(`select id from slotbase.tenants where slug = $1`, [a!.slug]);
      await api().db.query(`update slotbase.availability_rules set end_time = '16:00' where tenant_id = $1 and weekday = 1`, [tenant!.id]);
      expect(await stream.next()).toMatchObject({ event: 'availability', data: { kind: 'schedule', subject_id: a!.providerId, from: null, to: null } });
    } finally {
      await stream.close();
    }
  });

  it('a server shutting down ends open streams (pages reconnect elsewhere with Last-Event-ID)', async () => {
    const [a] = clinics;
    const main = hub;
    hub = await startAvailabilityHub(listenSql, createLogger('silent'));
    try {
      const stream = await connect(a!.slug);
      expect(hub.listeners).toBe(1);
      await hub.close();
      await expect(stream.next()).rejects.toThrow('the stream ended');
    } finally {
      hub = main;
    }
  });

  it('an unknown business is a 404 problem', async () => {
    const res = await api().json('GET', '/v1/public/no-such-business/events');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'not_found' });
  });
});

describe('live availability without a hub (e.g. an Edge Function)', () => {
  const api = useApi();
  it('answers 503 live_updates_unavailable, so pages fall back to polling', async () => {
    const res = await api().json('GET', '/v1/public/anything/events');
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ code: 'live_updates_unavailable' });
  });
});
