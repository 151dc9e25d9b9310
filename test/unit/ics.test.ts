import ICAL from 'ical.js';
import { afterEach, describe, expect, it } from 'vitest';
import { bookingInvite, bookingUid, calendarFeed, type CalendarBooking } from '#src/lib/ics.ts';

// The .ics we write is read back with an independent parser (ical.js): instants are compared after
// ical.js resolves each TZID through the VTIMEZONE we embedded, so a wrong offset, a missing
// VTIMEZONE or a UTC time mislabelled as local all fail here.

function booking(over: Partial<CalendarBooking> = {}): CalendarBooking {
  return {
    id: '7d0c8f6e-2b7a-4c59-9d0e-3f7d2a1b9c01',
    code: 'BK-7F3K9Q',
    status: 'confirmed',
    starts_at: new Date('2026-06-15T07:00:00Z'),
    ends_at: new Date('2026-06-15T07:45:00Z'),
    time_zone: 'Europe/Berlin',
    summary: 'Haircut; wash, dry',
    description: 'With Alex\nBring your card',
    location: 'Main St 1, Berlin',
    organizer: { name: 'Salon Nord', email: 'hello@salon.example' },
    attendee: { name: 'Ann Booker', email: 'ann@example.com' },
    sequence: 0,
    url: 'https://book.example/manage/BK-7F3K9Q',
    created_at: new Date('2026-06-01T10:00:00Z'),
    updated_at: new Date('2026-06-01T10:00:00Z'),
    ...over,
  };
}

interface Parsed { root: ICAL.Component; events: ICAL.Component[]; zones: Map<string, ICAL.Timezone> }

function parse(text: string): Parsed {
  const root = new ICAL.Component(ICAL.parse(text));
  const zones = new Map<string, ICAL.Timezone>();
  for (const vtz of root.getAllSubcomponents('vtimezone')) {
    const tz = new ICAL.Timezone(vtz);
    zones.set(tz.tzid, tz);
  }
  return { root, events: root.getAllSubcomponents('vevent'), zones };
}

/** DTSTART/DTEND as an instant, resolved only through the VTIMEZONE in the same file. */
function instant(p: Parsed, event: ICAL.Component, prop: 'dtstart' | 'dtend'): { at: Date; tzid: string | null } {
  const property = event.getFirstProperty(prop);
  if (!property) throw new Error(`no ${prop}`);
  const tzid = property.getParameter('tzid') as string | undefined;
  const time = (property.getFirstValue() as ICAL.Time).clone();
  if (tzid) {
    const zone = p.zones.get(tzid);
    if (!zone) throw new Error(`no VTIMEZONE for ${tzid}`);
    time.zone = zone;
  }
  return { at: time.toJSDate(), tzid: tzid ?? null };
}

const only = (p: Parsed): ICAL.Component => {
  expect(p.events).toHaveLength(1);
  return p.events[0]!;
};

describe('bookingUid', () => {
  it('is stable per booking and distinct between bookings', () => {
    expect(bookingUid('a')).toBe(bookingUid('a'));
    expect(bookingUid('a')).not.toBe(bookingUid('b'));
    expect(bookingUid('a')).toMatch(/^booking-a@slotbase$/);
  });
});

describe('bookingInvite', () => {
  const originalTz = process.env.TZ;
  afterEach(() => {
    if (originalTz === undefined) delete process.env.TZ;
    else process.env.TZ = originalTz;
  });

  it('writes METHOD, the stable UID, SEQUENCE and STATUS of a confirmed booking', () => {
    const p = parse(bookingInvite(booking({ sequence: 3 }), 'REQUEST'));
    expect(p.root.getFirstPropertyValue('method')).toBe('REQUEST');
    const e = only(p);
    expect(e.getFirstPropertyValue('uid')).toBe(bookingUid(booking().id));
    expect(e.getFirstPropertyValue('sequence')).toBe(3);
    expect(e.getFirstPropertyValue('status')).toBe('CONFIRMED');
    expect(e.getFirstPropertyValue('summary')).toBe('Haircut; wash, dry');
    expect(e.getFirstPropertyValue('description')).toBe('With Alex\nBring your card');
    expect(e.getFirstPropertyValue('location')).toBe('Main St 1, Berlin');
    expect(e.getFirstPropertyValue('url')).toBe('https://book.example/manage/BK-7F3K9Q');
    expect(e.getFirstPropertyValue('organizer')).toBe('mailto:hello@salon.example');
    const attendee = e.getFirstProperty('attendee');
    expect(String(attendee?.getFirstValue()).toLowerCase()).toBe('mailto:ann@example.com');
    expect(attendee?.getParameter('partstat')).toBe('ACCEPTED');
  });

  it('writes times with the location zone as TZID and a VTIMEZONE for it', () => {
    const p = parse(bookingInvite(booking(), 'REQUEST'));
    const e = only(p);
    const start = instant(p, e, 'dtstart');
    expect(start.tzid).toBe('Europe/Berlin');
    expect([...p.zones.keys()]).toEqual(['Europe/Berlin']);
    // 07:00Z in June is 09:00 CEST: the wall clock is written, not the UTC digits.
    expect(e.getFirstProperty('dtstart')?.toICALString()).toBe('DTSTART;TZID=Europe/Berlin:20260615T090000');
    expect(start.at.toISOString()).toBe('2026-06-15T07:00:00.000Z');
    expect(instant(p, e, 'dtend').at.toISOString()).toBe('2026-06-15T07:45:00.000Z');
  });

  it('keeps the instants across the March switch in Berlin (start in CET, end in CEST)', () => {
    // 2026-03-29 01:00Z clocks jump 02:00 -> 03:00 local.
    const b = booking({ starts_at: new Date('2026-03-29T00:30:00Z'), ends_at: new Date('2026-03-29T01:30:00Z') });
    const p = parse(bookingInvite(b, 'PUBLISH'));
    const e = only(p);
    expect(e.getFirstProperty('dtstart')?.toICALString()).toBe('DTSTART;TZID=Europe/Berlin:20260329T013000');
    expect(e.getFirstProperty('dtend')?.toICALString()).toBe('DTEND;TZID=Europe/Berlin:20260329T033000');
    expect(instant(p, e, 'dtstart').at.toISOString()).toBe('2026-03-29T00:30:00.000Z');
    expect(instant(p, e, 'dtend').at.toISOString()).toBe('2026-03-29T01:30:00.000Z');
  });

  it('keeps the instants across the October switch in Berlin (start in CEST, end in CET)', () => {
    // 2026-10-25 01:00Z clocks go back 03:00 -> 02:00 local.
    const b = booking({ starts_at: new Date('2026-10-24T23:30:00Z'), ends_at: new Date('2026-10-25T02:30:00Z') });
    const p = parse(bookingInvite(b, 'PUBLISH'));
    const e = only(p);
    expect(e.getFirstProperty('dtstart')?.toICALString()).toBe('DTSTART;TZID=Europe/Berlin:20261025T013000');
    expect(e.getFirstProperty('dtend')?.toICALString()).toBe('DTEND;TZID=Europe/Berlin:20261025T033000');
    expect(instant(p, e, 'dtstart').at.toISOString()).toBe('2026-10-24T23:30:00.000Z');
    expect(instant(p, e, 'dtend').at.toISOString()).toBe('2026-10-25T02:30:00.000Z');
  });

  it.each([
    ['first', '2026-10-25T00:15:00Z'],
    ['second', '2026-10-25T01:15:00Z'],
  ])('writes the %s 02:15 of the Berlin fall-back night in UTC, since a TZID cannot tell the two apart', (_, iso) => {
    const starts = new Date(iso);
    const b = booking({ starts_at: starts, ends_at: new Date(starts.getTime() + 30 * 60_000) });
    const p = parse(bookingInvite(b, 'PUBLISH'));
    const e = only(p);
    const start = instant(p, e, 'dtstart');
    expect(start.tzid).toBeNull();
    expect(e.getFirstProperty('dtstart')?.toICALString()).toMatch(/Z$/);
    expect(start.at.toISOString()).toBe(starts.toISOString());
  });

  it('keeps the instants in America/New_York on both sides of the November switch', () => {
    const before = booking({ time_zone: 'America/New_York', starts_at: new Date('2026-10-30T13:00:00Z'), ends_at: new Date('2026-10-30T14:00:00Z') });
    const after = booking({ time_zone: 'America/New_York', starts_at: new Date('2026-11-02T14:00:00Z'), ends_at: new Date('2026-11-02T15:00:00Z') });
    for (const [b, local] of [[before, '20261030T090000'], [after, '20261102T090000']] as const) {
      const p = parse(bookingInvite(b, 'REQUEST'));
      const e = only(p);
      expect(p.zones.has('America/New_York')).toBe(true);
      expect(e.getFirstProperty('dtstart')?.toICALString()).toBe(`DTSTART;TZID=America/New_York:${local}`);
      expect(instant(p, e, 'dtstart').at.toISOString()).toBe(b.starts_at.toISOString());
      expect(instant(p, e, 'dtend').at.toISOString()).toBe(b.ends_at.toISOString());
    }
  });

  it('does not depend on the server process time zone', () => {
    process.env.TZ = 'Pacific/Auckland';
    const inAuckland = bookingInvite(booking(), 'PUBLISH', { now: new Date('2026-06-01T00:00:00Z') });
    process.env.TZ = 'America/Los_Angeles';
    const inLosAngeles = bookingInvite(booking(), 'PUBLISH', { now: new Date('2026-06-01T00:00:00Z') });
    expect(inAuckland).toBe(inLosAngeles);
    expect(inAuckland).toContain('DTSTART;TZID=Europe/Berlin:20260615T090000');
    expect(inAuckland).toContain('DTSTAMP:20260601T000000Z');
  });

  it('writes stamps in UTC', () => {
    const text = bookingInvite(booking(), 'REQUEST', { now: new Date('2026-06-02T03:04:05Z') });
    const e = only(parse(text));
    expect(e.getFirstProperty('dtstamp')?.toICALString()).toBe('DTSTAMP:20260602T030405Z');
    expect(e.getFirstProperty('created')?.toICALString()).toBe('CREATED:20260601T100000Z');
  });

  it.each(['cancelled', 'rejected', 'expired'])('marks a %s booking STATUS:CANCELLED', (status) => {
    const e = only(parse(bookingInvite(booking({ status, sequence: 1 }), 'PUBLISH')));
    expect(e.getFirstPropertyValue('status')).toBe('CANCELLED');
  });

  it.each(['held', 'pending'])('marks a %s booking TENTATIVE', (status) => {
    const e = only(parse(bookingInvite(booking({ status }), 'PUBLISH')));
    expect(e.getFirstPropertyValue('status')).toBe('TENTATIVE');
  });

  it('a CANCEL message keeps the UID, carries the bumped SEQUENCE and STATUS:CANCELLED', () => {
    const request = only(parse(bookingInvite(booking({ sequence: 0 }), 'REQUEST')));
    const p = parse(bookingInvite(booking({ status: 'cancelled', sequence: 1 }), 'CANCEL'));
    expect(p.root.getFirstPropertyValue('method')).toBe('CANCEL');
    const cancel = only(p);
    expect(cancel.getFirstPropertyValue('uid')).toBe(request.getFirstPropertyValue('uid'));
    expect(cancel.getFirstPropertyValue('sequence')).toBe(1);
    expect(cancel.getFirstPropertyValue('status')).toBe('CANCELLED');
  });

  it('a PUBLISH download carries no ATTENDEE (RFC 5546) but REQUEST does', () => {
    expect(only(parse(bookingInvite(booking(), 'PUBLISH'))).getFirstProperty('attendee')).toBeNull();
    expect(only(parse(bookingInvite(booking(), 'REQUEST'))).getFirstProperty('attendee')).not.toBeNull();
  });

  it('omits ORGANIZER when there is no email address', () => {
    const e = only(parse(bookingInvite(booking({ organizer: { name: 'Salon Nord' } }), 'PUBLISH')));
    expect(e.getFirstProperty('organizer')).toBeNull();
  });

  it('writes UTC times (no TZID, no VTIMEZONE) for a UTC location', () => {
    const p = parse(bookingInvite(booking({ time_zone: 'UTC' }), 'PUBLISH'));
    const e = only(p);
    expect(p.zones.size).toBe(0);
    expect(e.getFirstProperty('dtstart')?.toICALString()).toBe('DTSTART:20260615T070000Z');
  });
});

describe('calendarFeed', () => {
  it('lists every booking once by its UID, with cancelled ones as STATUS:CANCELLED and no METHOD', () => {
    const text = calendarFeed({
      name: 'Alex — Salon Nord',
      time_zone: 'Europe/Berlin',
      bookings: [
        booking({ id: 'one' }),
        booking({ id: 'two', status: 'cancelled', sequence: 2 }),
        booking({ id: 'three', time_zone: 'America/New_York', starts_at: new Date('2026-03-09T13:00:00Z'), ends_at: new Date('2026-03-09T14:00:00Z') }),
      ],
      refreshIntervalMinutes: 30,
    });
    const p = parse(text);
    expect(p.root.getFirstProperty('method')).toBeNull();
    expect(p.root.getFirstPropertyValue('x-wr-calname')).toBe('Alex — Salon Nord');
    expect(p.root.getFirstPropertyValue('x-wr-timezone')).toBe('Europe/Berlin');
    expect(String(p.root.getFirstPropertyValue('refresh-interval'))).toBe('PT30M');
    expect(p.events.map((e) => e.getFirstPropertyValue('uid'))).toEqual(['one', 'two', 'three'].map(bookingUid));
    expect(p.events.map((e) => e.getFirstPropertyValue('status'))).toEqual(['CONFIRMED', 'CANCELLED', 'CONFIRMED']);
    expect(p.events[1]!.getFirstPropertyValue('sequence')).toBe(2);
    // One VTIMEZONE per zone the events use.
    expect([...p.zones.keys()].sort()).toEqual(['America/New_York', 'Europe/Berlin']);
    const ny = instant(p, p.events[2]!, 'dtstart');
    expect(ny.tzid).toBe('America/New_York');
    expect(ny.at.toISOString()).toBe('2026-03-09T13:00:00.000Z'); // 09:00 EDT, the day after the switch
    expect(p.events.every((e) => e.getFirstProperty('attendee') === null)).toBe(true);
  });

  it('is byte-identical for unchanged bookings (DTSTAMP is the last revision)', () => {
    const opts = { name: 'x', time_zone: 'Europe/Berlin', bookings: [booking()] };
    const first = calendarFeed(opts);
    expect(calendarFeed(opts)).toBe(first);
    expect(only(parse(first)).getFirstProperty('dtstamp')?.toICALString()).toBe('DTSTAMP:20260601T100000Z');
  });

  it('is a valid empty calendar without bookings', () => {
    const p = parse(calendarFeed({ name: 'empty', time_zone: 'Europe/Berlin', bookings: [] }));
    expect(p.events).toHaveLength(0);
    expect(p.root.name).toBe('vcalendar');
  });
});
