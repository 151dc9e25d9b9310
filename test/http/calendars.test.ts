import { randomBytes } from 'node:crypto';
import ICAL from 'ical.js';
import { describe, expect, it } from 'vitest';
import { bookingUid } from '#src/lib/ics.ts';
import { useApi } from '../support/http.ts';
import { createStaffWorld, utc, type StaffWorld } from '../support/staff-world.ts';

interface Receipt {
  id: string;
  code: string;
  manage_token: string;
  starts_at: string;
  ends_at: string;
}
interface Problem {
  code: string;
}
interface Feed {
  id: string;
  provider_id: string;
  name: string | null;
  created_by: string | null;
  created_at: string;
  url: string;
}

interface Parsed {
  root: ICAL.Component;
  events: ICAL.Component[];
  zones: Map<string, ICAL.Timezone>;
}

/** Parses with ical.js; TZIDs resolve only through the VTIMEZONEs of the same file. */
function parse(text: string): Parsed {
  const root = new ICAL.Component(ICAL.parse(text));
  const zones = new Map<string, ICAL.Timezone>();
  for (const vtz of root.getAllSubcomponents('vtimezone')) {
    const tz = new ICAL.Timezone(vtz);
    zones.set(tz.tzid, tz);
  }
  return { root, events: root.getAllSubcomponents('vevent'), zones };
}

function instant(p: Parsed, event: ICAL.Component, prop: 'dtstart' | 'dtend'): { iso: string; tzid: string | undefined } {
  const property = event.getFirstProperty(prop)!;
  const tzid = property.getParameter('tzid') as string | undefined;
  const time = (property.getFirstValue() as ICAL.Time).clone();
  if (tzid) {
    const zone = p.zones.get(tzid);
    if (!zone) throw new Error(`no VTIMEZONE for ${tzid}`);
    time.zone = zone;
  }
  return { iso: time.toJSDate().toISOString(), tzid };
}

const eventOf = (p: Parsed, bookingId: string) => p.events.find((e) => e.getFirstPropertyValue('uid') === bookingUid(bookingId));
const uidsOf = (p: Parsed) => p.events.map((e) => e.getFirstPropertyValue('uid'));

describe('calendars over HTTP', () => {
  const api = useApi();

  const world = () => createStaffWorld(api());

  async function slugOf(w: StaffWorld): Promise<string> {
    // Fixture lookup (the staff world does not return the slug); nothing is asserted on it.
    const [row] = await api().db.query<{ slug: string }>('select slug from slotbase.tenants where id = $1', [w.tenantId]);
    return row!.slug;
  }

  /** A booking through the public booking API, with provider A unless told otherwise. */
  async function publicBooking(w: StaffWorld, startsAt: string, providerId = w.providerA, serviceId = w.serviceId): Promise<Receipt> {
    const res = await api().json<Receipt>('POST', `/v1/public/${await slugOf(w)}/bookings`, {
      body: { service_id: serviceId, provider_id: providerId, starts_at: startsAt, contact: { name: 'Ada Guest', email: 'ada@example.test', phone: '+49 30 555' } },
    });
    expect(res.status).toBe(201);
    return res.body;
  }

  async function download(code: string, token: string): Promise<{ res: Response; text: string }> {
    const res = await api().request('GET', `/v1/public/bookings/${code}.ics?token=${encodeURIComponent(token)}`);
    return { res, text: await res.text() };
  }

  async function createFeed(token: string, providerId: string, body?: unknown) {
    return api().json<Feed & Problem>('POST', `/v1/providers/${providerId}/calendar-feeds`, { token, body });
  }

  /** GET of a feed URL through the app (its path; the origin is the test request's). */
  async function fetchFeed(url: string, headers?: Record<string, string>): Promise<{ res: Response; text: string }> {
    const res = await api().request('GET', new URL(url).pathname, { headers });
    return { res, text: await res.text() };
  }

  describe('GET /v1/public/bookings/{code}.ics', () => {
    it('is the booking as text/calendar: METHOD:PUBLISH, its stable UID, the right instants with the location zone and its VTIMEZONE', async () => {
      const w = await world();
      const receipt = await publicBooking(w, utc(3, '10:00'));
      const { res, text } = await download(receipt.code, receipt.manage_token);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/calendar/);
      expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${receipt.code}.ics"`);
      const p = parse(text);
      expect(p.root.getFirstPropertyValue('method')).toBe('PUBLISH');
      expect(p.events).toHaveLength(1);
      const e = p.events[0]!;
      expect(e.getFirstPropertyValue('uid')).toBe(bookingUid(receipt.id));
      expect(e.getFirstPropertyValue('sequence')).toBe(0);
      expect(e.getFirstPropertyValue('status')).toBe('CONFIRMED');
      expect(instant(p, e, 'dtstart')).toEqual({ iso: receipt.starts_at, tzid: 'Europe/Berlin' });
      expect(instant(p, e, 'dtend')).toEqual({ iso: receipt.ends_at, tzid: 'Europe/Berlin' });
      expect([...p.zones.keys()]).toEqual(['Europe/Berlin']);
      // A download for the booker: no ATTENDEE (RFC 5546 PUBLISH), nothing about other bookings.
      expect(e.getFirstProperty('attendee')).toBeNull();
    });

    it('keeps the UID after a reschedule and bumps SEQUENCE; a cancellation bumps it again with STATUS:CANCELLED', async () => {
      const w = await world();
      const receipt = await publicBooking(w, utc(3, '10:00'));
      const manage = `/v1/public/bookings/${receipt.code}?token=${encodeURIComponent(receipt.manage_token)}`;
      const later = utc(3, '11:30');
      expect((await api().json('PATCH', manage, { body: { starts_at: later } })).status).toBe(200);

      const moved = parse((await download(receipt.code, receipt.manage_token)).text);
      const e1 = moved.events[0]!;
      expect(e1.getFirstPropertyValue('uid')).toBe(bookingUid(receipt.id));
      expect(e1.getFirstPropertyValue('sequence')).toBe(1);
      expect(instant(moved, e1, 'dtstart').iso).toBe(later);
      expect(e1.getFirstPropertyValue('status')).toBe('CONFIRMED');

      expect((await api().json('DELETE', manage)).status).toBe(200);
      const cancelled = parse((await download(receipt.code, receipt.manage_token)).text);
      const e2 = cancelled.events[0]!;
      expect(e2.getFirstPropertyValue('uid')).toBe(bookingUid(receipt.id));
      expect(e2.getFirstPropertyValue('sequence')).toBe(2);
      expect(e2.getFirstPropertyValue('status')).toBe('CANCELLED');
    });

    it('a wrong token, an unknown code and a missing token are the same 404 not_found', async () => {
      const w = await world();
      const receipt = await publicBooking(w, utc(3, '10:00'));
      const other = await publicBooking(w, utc(3, '12:00'));
      const answers = [
        await download(receipt.code, 'wrong-token-wrong-token-wrong-token-wrong-tok'),
        await download(receipt.code, other.manage_token), // another booking's real token
        await download('BK-ZZZZZZZ', receipt.manage_token),
        { res: await api().request('GET', `/v1/public/bookings/${receipt.code}.ics`), text: '' },
      ];
      for (const { res } of answers) {
        expect(res.status).toBe(404);
        expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      }
      const bodies = await Promise.all([
        api().json<Problem>('GET', `/v1/public/bookings/${receipt.code}.ics?token=wrong`),
        api().json<Problem>('GET', `/v1/public/bookings/BK-ZZZZZZZ.ics?token=${receipt.manage_token}`),
      ]);
      expect(bodies.map((b) => b.body.code)).toEqual(['not_found', 'not_found']);
    });

    it('takes the manage token from X-Manage-Token too, and a malformed code is 422 validation_failed', async () => {
      const w = await world();
      const receipt = await publicBooking(w, utc(3, '10:00'));
      const viaHeader = await api().request('GET', `/v1/public/bookings/${receipt.code}.ics`, { headers: { 'x-manage-token': receipt.manage_token } });
      expect(viaHeader.status).toBe(200);
      const bad = await api().json<Problem>('GET', '/v1/public/bookings/not-a-code.ics?token=x');
      expect(bad).toMatchObject({ status: 422, body: { code: 'validation_failed' } });
      // The JSON view of the same booking is unaffected by the .ics route.
      expect((await api().json('GET', `/v1/public/bookings/${receipt.code}?token=${receipt.manage_token}`)).status).toBe(200);
    });
  });

  describe('provider calendar feeds', () => {
    it('lifecycle: create (URL shown once) → subscribe → only this provider\'s bookings → revoke → 404', async () => {
      const w = await world();
      const other = await world();
      const mine = await publicBooking(w, utc(3, '10:00'));
      const cancelled = await publicBooking(w, utc(4, '10:00'));
      const colleague = await publicBooking(w, utc(3, '10:00'), w.providerB);
      const foreign = await publicBooking(other, utc(3, '10:00'));
      expect((await api().json('DELETE', `/v1/public/bookings/${cancelled.code}?token=${encodeURIComponent(cancelled.manage_token)}`)).status).toBe(200);

      const created = await createFeed(w.tokens.owner, w.providerA, { name: 'Phone' });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ provider_id: w.providerA, name: 'Phone' });
      expect(created.body.url).toMatch(/^http:\/\/localhost\/v1\/feeds\/sbcal_[A-Za-z0-9_-]{43}\.ics$/);

      const { res, text } = await fetchFeed(created.body.url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/calendar/);
      expect(res.headers.get('cache-control')).toBe('private, max-age=900');
      const p = parse(text);
      expect(p.root.getFirstProperty('method')).toBeNull();
      expect(String(p.root.getFirstPropertyValue('refresh-interval'))).toBe('PT15M');
      expect(uidsOf(p).sort()).toEqual([bookingUid(mine.id), bookingUid(cancelled.id)].sort());
      expect(uidsOf(p)).not.toContain(bookingUid(colleague.id));
      expect(uidsOf(p)).not.toContain(bookingUid(foreign.id));
      const e = eventOf(p, mine.id)!;
      expect(instant(p, e, 'dtstart')).toEqual({ iso: mine.starts_at, tzid: 'Europe/Berlin' });
      expect(e.getFirstPropertyValue('description')).toContain('ada@example.test');
      const c = eventOf(p, cancelled.id)!;
      expect(c.getFirstPropertyValue('status')).toBe('CANCELLED');
      expect(c.getFirstPropertyValue('sequence')).toBe(1);

      // The list shows the feed but never its URL or token.
      const list = await api().json<{ data: Record<string, unknown>[] }>('GET', `/v1/providers/${w.providerA}/calendar-feeds`, { token: w.tokens.owner });
      expect(list.status).toBe(200);
      expect(list.body.data).toEqual([{ id: created.body.id, provider_id: w.providerA, name: 'Phone', created_by: expect.any(String), created_at: created.body.created_at }]);
      expect(JSON.stringify(list.body)).not.toContain('sbcal_');

      expect((await api().request('DELETE', `/v1/calendar-feeds/${created.body.id}`, { token: w.tokens.owner })).status).toBe(204);
      const gone = await fetchFeed(created.body.url);
      expect(gone.res.status).toBe(404);
      expect(JSON.parse(gone.text)).toMatchObject({ code: 'not_found' });
      expect((await api().json<Problem>('DELETE', `/v1/calendar-feeds/${created.body.id}`, { token: w.tokens.owner })).status).toBe(404);
      expect((await api().json<{ data: unknown[] }>('GET', `/v1/providers/${w.providerA}/calendar-feeds`, { token: w.tokens.owner })).body.data).toEqual([]);
    });

    it('follows changes: a reschedule moves the event under the same UID with a higher SEQUENCE, and the ETag changes', async () => {
      const w = await world();
      const booking = await publicBooking(w, utc(3, '10:00'));
      const feed = (await createFeed(w.tokens.owner, w.providerA)).body;
      const first = await fetchFeed(feed.url);
      const tag = first.res.headers.get('etag');
      expect(tag).toBeTruthy();
      // Unchanged: a conditional poll is 304 without a body.
      const again = await fetchFeed(feed.url, { 'if-none-match': tag! });
      expect(again.res.status).toBe(304);
      expect(again.text).toBe('');

      const later = utc(3, '12:00');
      expect((await api().json('PATCH', `/v1/public/bookings/${booking.code}?token=${encodeURIComponent(booking.manage_token)}`, { body: { starts_at: later } })).status).toBe(200);
      const changed = await fetchFeed(feed.url, { 'if-none-match': tag! });
      expect(changed.res.status).toBe(200);
      expect(changed.res.headers.get('etag')).not.toBe(tag);
      const p = parse(changed.text);
      const e = eventOf(p, booking.id)!;
      expect(e.getFirstPropertyValue('sequence')).toBe(1);
      expect(instant(p, e, 'dtstart').iso).toBe(later);
    });

    it('spans 30 days back to 365 days ahead, and leaves out holds', async () => {
      const w = await world();
      const farService = await w.addService({ maxAdvanceDays: 400 });
      const book = (days: number) => publicBooking(w, utc(days, '10:00'), w.providerA, farService);
      const [recent, old, soon, nextYear, tooFar] = [await book(5), await book(6), await book(7), await book(360), await book(370)];
      // Fixture: move two bookings into the past (the booking API only books the future).
      await api().db.query(
        `update slotbase.bookings set during = tstzrange(now() - make_interval(days => $2) , now() - make_interval(days => $2) + interval '30 minutes') where id = $1`,
        [recent.id, 20],
      );
      await api().db.query(
        `update slotbase.bookings set during = tstzrange(now() - make_interval(days => $2) , now() - make_interval(days => $2) + interval '30 minutes') where id = $1`,
        [old.id, 40],
      );
      const held = await api().json<Receipt>('POST', `/v1/public/${await slugOf(w)}/bookings`, {
        body: { service_id: farService, provider_id: w.providerA, starts_at: utc(8, '10:00'), hold: true, contact: { name: 'Hal Hold', email: 'hal@example.test' } },
      });
      expect(held.status).toBe(201);
      const feed = (await createFeed(w.tokens.owner, w.providerA)).body;
      const uids = uidsOf(parse((await fetchFeed(feed.url)).text));
      expect(uids.sort()).toEqual([recent, soon, nextYear].map((b) => bookingUid(b.id)).sort());
      expect(uids).not.toContain(bookingUid(old.id));
      expect(uids).not.toContain(bookingUid(tooFar.id));
      expect(uids).not.toContain(bookingUid(held.body.id));
    });

    it('an unknown or malformed feed token is 404 / 422, never a calendar', async () => {
      const unknown = await api().json<Problem>('GET', `/v1/feeds/sbcal_${randomBytes(32).toString('base64url')}.ics`);
      expect(unknown).toMatchObject({ status: 404, body: { code: 'not_found' } });
      const malformed = await api().json<Problem>('GET', '/v1/feeds/nope.ics');
      expect(malformed).toMatchObject({ status: 422, body: { code: 'validation_failed' } });
    });

    it('a provider-role member creates and revokes a feed of their own provider, but not of a colleague', async () => {
      const w = await world();
      const own = await createFeed(w.tokens.provider, w.providerA);
      expect(own.status).toBe(201);
      expect((await fetchFeed(own.body.url)).res.status).toBe(200);
      expect((await api().json<{ data: Feed[] }>('GET', `/v1/providers/${w.providerA}/calendar-feeds`, { token: w.tokens.provider })).body.data.map((f) => f.id)).toEqual([own.body.id]);

      expect(await createFeed(w.tokens.provider, w.providerB)).toMatchObject({ status: 403, body: { code: 'forbidden' } });
      expect((await api().json<Problem>('GET', `/v1/providers/${w.providerB}/calendar-feeds`, { token: w.tokens.provider })).status).toBe(403);
      // A colleague's feed (made by the owner) is invisible to them: revoking it is a 404.
      const colleagues = await createFeed(w.tokens.owner, w.providerB);
      expect(colleagues.status).toBe(201);
      expect((await api().json<Problem>('DELETE', `/v1/calendar-feeds/${colleagues.body.id}`, { token: w.tokens.provider })).status).toBe(404);
      expect((await fetchFeed(colleagues.body.url)).res.status).toBe(200);

      expect((await api().request('DELETE', `/v1/calendar-feeds/${own.body.id}`, { token: w.tokens.provider })).status).toBe(204);
      expect((await fetchFeed(own.body.url)).res.status).toBe(404);
    });

    it('admins manage any provider\'s feeds; receptionists and viewers may not (403)', async () => {
      const w = await world();
      expect((await createFeed(w.tokens.admin, w.providerB)).status).toBe(201);
      for (const token of [w.tokens.receptionistA, w.tokens.viewer]) {
        expect(await createFeed(token, w.providerA)).toMatchObject({ status: 403, body: { code: 'forbidden' } });
        expect((await api().json<Problem>('GET', `/v1/providers/${w.providerA}/calendar-feeds`, { token })).status).toBe(403);
      }
      expect((await api().json<Problem>('POST', `/v1/providers/${w.providerA}/calendar-feeds`, {})).status).toBe(401);
    });

    it('an API key cannot create feeds, even with every scope (a feed URL is a standing credential)', async () => {
      const w = await world();
      const key = await api().json<{ key: string }>('POST', '/v1/api-keys', { token: w.tokens.owner, body: { name: 'Integration', scopes: ['*'] } });
      expect(key.status).toBe(201);
      const res = await api().json<Problem>('POST', `/v1/providers/${w.providerA}/calendar-feeds`, { headers: { 'x-api-key': key.body.key } });
      expect(res).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    });

    it('another tenant\'s provider and feed are 404, for create, list and revoke', async () => {
      const w = await world();
      const other = await world();
      const feed = await createFeed(w.tokens.owner, w.providerA);
      expect(feed.status).toBe(201);
      expect(await createFeed(other.tokens.owner, w.providerA)).toMatchObject({ status: 404, body: { code: 'not_found' } });
      expect((await api().json<Problem>('GET', `/v1/providers/${w.providerA}/calendar-feeds`, { token: other.tokens.owner })).status).toBe(404);
      expect((await api().json<Problem>('DELETE', `/v1/calendar-feeds/${feed.body.id}`, { token: other.tokens.owner })).status).toBe(404);
      expect((await fetchFeed(feed.body.url)).res.status).toBe(200);
    });

    it('an unknown provider is 404 and a bad body is 422', async () => {
      const w = await world();
      expect((await createFeed(w.tokens.owner, '00000000-0000-4000-8000-000000000000')).status).toBe(404);
      expect(await createFeed(w.tokens.owner, w.providerA, { name: '' })).toMatchObject({ status: 422, body: { code: 'validation_failed' } });
      expect(await createFeed(w.tokens.owner, w.providerA, { token: 'mine' })).toMatchObject({ status: 422, body: { code: 'validation_failed' } });
    });
  });
});

describe('calendar feed URLs behind a proxy', () => {
  const api = useApi({ publicUrl: 'https://book.example.com/' });
  it('point at PUBLIC_URL, not at the address the request reached', async () => {
    const w = await createStaffWorld(api());
    const created = await api().json<{ url: string }>('POST', `/v1/providers/${w.providerA}/calendar-feeds`, { token: w.tokens.owner, body: { name: 'Phone' } });
    expect(created.status).toBe(201);
    expect(created.body.url).toMatch(/^https:\/\/book\.example\.com\/v1\/feeds\/sbcal_[A-Za-z0-9_-]{43}\.ics$/);
  });
});
