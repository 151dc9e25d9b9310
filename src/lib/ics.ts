import ical, { ICalCalendarMethod, ICalEventStatus, ICalAttendeeRole, ICalAttendeeStatus, type ICalCalendar, type ICalDateTimeValue } from 'ical-generator';
import { tzlib_get_ical_block, tzlib_get_timezones } from 'timezones-ical-library';

/**
 * iCalendar (RFC 5545) output for bookings: invitations (iTIP, RFC 5546) attached to emails, the
 * public `.ics` download and per-provider subscription feeds.
 *
 * Times are written as local times with `TZID=<the location's zone>` plus a VTIMEZONE for that zone
 * (from timezones-ical-library), so calendar clients show the appointment at the location's wall
 * clock time and move it correctly across daylight saving changes. Stamps (DTSTAMP, CREATED,
 * LAST-MODIFIED) are UTC, as RFC 5545 requires.
 */
export interface CalendarBooking {
  id: string;
  code: string;
  /** Booking status; cancelled/rejected/expired => STATUS:CANCELLED, held/pending => TENTATIVE. */
  status: string;
  starts_at: Date;
  ends_at: Date;
  /** The location's IANA zone. */
  time_zone: string;
  summary: string;
  description?: string;
  location?: string;
  /** Without an email no ORGANIZER is written (iCalendar needs an address). */
  organizer: { name: string; email?: string };
  attendee?: { name: string; email: string };
  /** Bumped on each reschedule and on cancellation (slotbase_private.booking_ical_sequence). */
  sequence: number;
  /** Manage link. */
  url?: string;
  created_at: Date;
  updated_at: Date;
}

export interface IcsOptions {
  /** DTSTAMP of iTIP messages (REQUEST/CANCEL/PUBLISH): when the message was created. Defaults to now. */
  now?: Date;
}

const PROD_ID = '//Slotbase//Slotbase Scheduling//EN';
const CANCELLED = new Set(['cancelled', 'rejected', 'expired']);
const TENTATIVE = new Set(['held', 'pending']);

/** Stable per booking: reschedules and cancellations update the same calendar event. */
export function bookingUid(bookingId: string): string {
  return `booking-${bookingId}@slotbase`;
}

/** One booking as an iTIP message: REQUEST (new/changed), CANCEL, or PUBLISH (a plain download). */
export function bookingInvite(booking: CalendarBooking, method: 'REQUEST' | 'CANCEL' | 'PUBLISH', options: IcsOptions = {}): string {
  const cal = newCalendar();
  cal.method(ICalCalendarMethod[method]);
  addEvent(cal, booking, {
    stamp: options.now ?? new Date(),
    // RFC 5546 §3.2: PUBLISH carries no ATTENDEE; REQUEST and CANCEL address the booker.
    withAttendee: method !== 'PUBLISH',
    forceCancelled: method === 'CANCEL',
  });
  return cal.toString();
}

/**
 * A subscription feed (no METHOD): every booking is an event keyed by its stable UID; cancelled
 * ones stay in the feed with STATUS:CANCELLED so subscribed clients remove them. Without a METHOD,
 * DTSTAMP means "last revised" (RFC 5545 §3.8.7.2), so it is the booking's updated_at and the
 * output is deterministic for unchanged data.
 */
export function calendarFeed(options: { name: string; time_zone: string; bookings: CalendarBooking[]; refreshIntervalMinutes?: number; description?: string }): string {
  const cal = newCalendar();
  cal.name(options.name);
  if (options.description) cal.description(options.description);
  if (knownZone(options.time_zone)) cal.x('X-WR-TIMEZONE', options.time_zone);
  cal.ttl((options.refreshIntervalMinutes ?? 15) * 60);
  for (const booking of options.bookings) {
    addEvent(cal, booking, { stamp: booking.updated_at, withAttendee: false, forceCancelled: false });
  }
  return cal.toString();
}

function newCalendar(): ICalCalendar {
  // name: null keeps stamps in UTC (ical-generator formats DTSTAMP in the calendar's zone otherwise);
  // the generator still emits one VTIMEZONE per zone the events use.
  return ical({ prodId: PROD_ID, timezone: { name: null, generator: vtimezone } });
}

function addEvent(cal: ICalCalendar, b: CalendarBooking, opts: { stamp: Date; withAttendee: boolean; forceCancelled: boolean }): void {
  // A wall-clock time that occurs twice (the hour the clocks go back) cannot name its instant with a
  // TZID (RFC 5545 says "the first occurrence"; parsers disagree), so such an event is written in UTC.
  const zone = knownZone(b.time_zone) && !ambiguous(b.starts_at, b.time_zone) && !ambiguous(b.ends_at, b.time_zone) ? b.time_zone : null;
  const event = cal.createEvent({
    id: bookingUid(b.id),
    sequence: b.sequence,
    stamp: opts.stamp,
    start: zone ? zoned(b.starts_at, zone) : b.starts_at,
    end: zone ? zoned(b.ends_at, zone) : b.ends_at,
    timezone: zone,
    summary: b.summary,
    description: b.description ?? null,
    location: b.location ? b.location : null,
    url: b.url ?? null,
    created: b.created_at,
    lastModified: b.updated_at,
    status: opts.forceCancelled || CANCELLED.has(b.status)
      ? ICalEventStatus.CANCELLED
      : TENTATIVE.has(b.status) ? ICalEventStatus.TENTATIVE : ICalEventStatus.CONFIRMED,
  });
  event.x('X-SLOTBASE-BOOKING-CODE', b.code);
  if (b.organizer.email) event.organizer({ name: b.organizer.name, email: b.organizer.email });
  if (opts.withAttendee && b.attendee) {
    event.createAttendee({
      name: b.attendee.name,
      email: b.attendee.email,
      role: ICalAttendeeRole.REQ,
      // The booker made the booking: nothing to answer.
      status: ICalAttendeeStatus.ACCEPTED,
      rsvp: false,
    });
  }
}

let zones: Set<string> | undefined;
/** Zones timezones-ical-library has a VTIMEZONE for; anything else (or UTC) is written in UTC. */
function knownZone(zone: string): boolean {
  if (!zone || zone === 'UTC' || zone === 'Etc/UTC') return false;
  if (!zones) {
    const list = tzlib_get_timezones();
    zones = new Set(Array.isArray(list) ? list : (JSON.parse(list) as string[]));
  }
  return zones.has(zone);
}

function vtimezone(zone: string): string | null {
  if (!knownZone(zone)) return null;
  const block = tzlib_get_ical_block(zone);
  return Array.isArray(block) && block[0] ? block[0] : null;
}

/**
 * An instant ical-generator formats as wall-clock time in `zone`. ical-generator formats a plain
 * Date with the *process's* local zone when an event has a TZID; a Luxon-shaped value
 * (toJSDate/setZone/toFormat) is formatted in the zone we give it instead.
 */
function zoned(instant: Date, zone: string): ICalDateTimeValue {
  const date = new Date(instant.getTime());
  const stub = {
    isValid: true as const,
    toJSDate: () => new Date(date.getTime()),
    toJSON: () => date.toISOString(),
    toISO: () => date.toISOString(),
    setZone: (z: string) => ({ ...stub, toFormat: (fmt: string) => formatIn(date, z, fmt) }),
    toFormat: (fmt: string) => formatIn(date, zone, fmt),
    zone: { type: 'iana' },
  };
  return stub as unknown as ICalDateTimeValue;
}

/** Whether the local time of `instant` in `zone` also names another instant (DST fall-back). */
function ambiguous(instant: Date, zone: string): boolean {
  const local = (d: Date) => formatIn(d, zone, 'yyyyLLdd') + formatIn(d, zone, 'HHmmss');
  const here = local(instant);
  // DST shifts are 30, 60 or 120 minutes (Lord Howe, most zones, Troll).
  return [30, 60, 120].some((minutes) => {
    const ms = minutes * 60_000;
    return local(new Date(instant.getTime() - ms)) === here || local(new Date(instant.getTime() + ms)) === here;
  });
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatIn(date: Date, zone: string, fmt: string): string {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23',
      year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(zone, f);
  }
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(date)) p[part.type] = part.value;
  const pad = (v: string | undefined, n: number) => (v ?? '').padStart(n, '0');
  if (fmt === 'yyyyLLdd') return pad(p.year, 4) + pad(p.month, 2) + pad(p.day, 2);
  if (fmt === 'HHmmss') return pad(p.hour, 2) + pad(p.minute, 2) + pad(p.second, 2);
  throw new Error(`unsupported date format ${fmt}`);
}
