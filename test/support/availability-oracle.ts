/**
 * A brute-force oracle for `slotbase.available_slots` on APPOINTMENT services, written from the
 * contract ("Semantics for APPOINTMENT services") without any SQL, so tests can compare the
 * database's answer with an independent one. It is deliberately slow and literal: working time,
 * time off and claims are checked minute by minute.
 *
 * Time zones are handled in TypeScript with `Intl.DateTimeFormat` (ICU's tz data), including
 * PostgreSQL's rule for local times that do not exist or exist twice (see `localToInstant`).
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// ---------------------------------------------------------------------------------------------
// Time zone arithmetic
// ---------------------------------------------------------------------------------------------

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The wall clock shown in `timeZone` at an instant (unambiguous direction: instant → local). */
export function wallClockAt(instantMs: number, timeZone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(instantMs))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour! === 24 ? 0 : parts.hour!,
    minute: parts.minute!,
    second: parts.second!,
  };
}

/** UTC offset in minutes (local − UTC) in effect at an instant. */
export function offsetMinutesAt(instantMs: number, timeZone: string): number {
  const w = wallClockAt(instantMs, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  const whole = Math.floor(instantMs / 1000) * 1000;
  return Math.round((asUtc - whole) / MINUTE);
}

/**
 * The first instant after `afterMs` at which the offset of `timeZone` changes, if one happens
 * within `withinMs` (found by an hourly scan, then a binary search to the minute).
 */
export function nextTransition(
  afterMs: number,
  timeZone: string,
  withinMs: number,
): { at: number; before: number; after: number } | undefined {
  const before = offsetMinutesAt(afterMs, timeZone);
  for (let t = afterMs + HOUR; t <= afterMs + withinMs; t += HOUR) {
    if (offsetMinutesAt(t, timeZone) !== before) {
      // The change is in (t - HOUR, t]; find the first minute with the new offset.
      let lo = Math.floor((t - HOUR) / MINUTE); // offset == before here
      let hi = Math.floor(t / MINUTE); // offset != before here
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (offsetMinutesAt(mid * MINUTE, timeZone) === before) lo = mid;
        else hi = mid;
      }
      return { at: hi * MINUTE, before, after: offsetMinutesAt(hi * MINUTE, timeZone) };
    }
  }
  return undefined;
}

/**
 * The instant PostgreSQL assigns to a local wall-clock time: `(local)::timestamp AT TIME ZONE tz`.
 * `localMs` is the wall clock written as if it were UTC (Date.UTC(y, m-1, d, h, mi)).
 *
 * PostgreSQL's rule, determined empirically with psql (PostgreSQL 15.20) and matching
 * DetermineTimeZoneOffsetInternal() in src/backend/utils/adt/datetime.c:
 *
 *   select '2027-03-28 02:30'::timestamp at time zone 'Europe/Berlin'   -- gap 02:00→03:00
 *     → 2027-03-28 01:30Z  (= 02:30 read with the offset BEFORE the jump, +01; i.e. 03:30 CEST)
 *   select '2027-03-28 03:00'::timestamp at time zone 'Europe/Berlin'   → 01:00Z (first valid time)
 *   select '2027-10-31 02:30'::timestamp at time zone 'Europe/Berlin'   -- 02:00–03:00 happens twice
 *     → 2027-10-31 01:30Z  (= the offset AFTER the change, +01: the LATER of the two instants)
 *   America/New_York  2027-03-14 02:30 → 07:30Z (−05, before);  2027-11-07 01:30 → 06:30Z (−05, after)
 *   America/St_Johns  2027-03-14 02:30 → 06:00Z (−03:30, before); 2027-11-07 01:30 → 05:00Z (−03:30, after)
 *   Australia/Lord_Howe (30-minute DST) 2027-10-03 02:15 → 15:45Z (+10:30, before);
 *                                       2027-04-04 01:45 → 15:15Z (+10:30, after)
 *
 * The algorithm: take the first offset transition after (local − 24 h); let `before`/`after` be the
 * offsets around it and compute both candidate instants local − before and local − after. If both
 * fall before the transition use `before`; if both fall at/after it use `after`; otherwise the local
 * time is in a gap (spring forward: use `before`, the candidate that is later) or in an overlap
 * (fall back: use `after`, again the later candidate). In short: inside a gap or an overlap,
 * PostgreSQL uses the SMALLER of the two offsets, which gives the LATER instant.
 */
export function localToInstant(localMs: number, timeZone: string): number {
  const prev = localMs - DAY;
  const t = nextTransition(prev, timeZone, 3 * DAY);
  const beforeOffset = t ? t.before : offsetMinutesAt(prev, timeZone);
  if (!t) return localMs - beforeOffset * MINUTE;
  const beforeTime = localMs - t.before * MINUTE;
  const afterTime = localMs - t.after * MINUTE;
  if (beforeTime < t.at && afterTime < t.at) return beforeTime;
  if (beforeTime >= t.at && afterTime >= t.at) return afterTime;
  return beforeTime > afterTime ? beforeTime : afterTime;
}

// ---------------------------------------------------------------------------------------------
// Calendar helpers (dates are 'YYYY-MM-DD' strings, times 'HH:MM[:SS]', 24:00 allowed)
// ---------------------------------------------------------------------------------------------

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

export function dateToUtcMs(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return Date.UTC(y, m - 1, d);
}

export function utcMsToDate(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

export function addDays(date: string, days: number): string {
  return utcMsToDate(dateToUtcMs(date) + days * DAY);
}

/** ISO weekday, 1 = Monday … 7 = Sunday. */
export function isoWeekday(date: string): number {
  return ((new Date(dateToUtcMs(date)).getUTCDay() + 6) % 7) + 1;
}

export function timeToMinutes(time: string): number {
  const [h, m, s] = time.split(':').map(Number) as [number, number, number | undefined];
  return h * 60 + m + (s ?? 0) / 60;
}

/** The local date (in `timeZone`) of an instant. */
export function localDateOf(instantMs: number, timeZone: string): string {
  const w = wallClockAt(instantMs, timeZone);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`;
}

/** `timestamp::text` as PostgreSQL prints it, for the wall clock of an instant in `timeZone`. */
export function localTimestampText(instantMs: number, timeZone: string): string {
  const w = wallClockAt(instantMs, timeZone);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}`;
}

/** `(date + time) AT TIME ZONE tz` as an instant in ms; time may be '24:00' (next midnight). */
export function localDateTimeToInstant(date: string, time: string | number, timeZone: string): number {
  const minutes = typeof time === 'number' ? time : timeToMinutes(time);
  return localToInstant(dateToUtcMs(date) + minutes * MINUTE, timeZone);
}

/** Offset transitions of `timeZone` whose instant falls in calendar year `year` (UTC). */
export function transitionsInYear(
  timeZone: string,
  year: number,
): { at: number; before: number; after: number; localDate: string }[] {
  const out: { at: number; before: number; after: number; localDate: string }[] = [];
  let cursor = Date.UTC(year, 0, 1);
  const end = Date.UTC(year + 1, 0, 1);
  while (cursor < end) {
    const t = nextTransition(cursor, timeZone, end - cursor);
    if (!t || t.at >= end) break;
    out.push({ ...t, localDate: localDateOf(t.at - MINUTE, timeZone) });
    cursor = t.at;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The oracle
// ---------------------------------------------------------------------------------------------

export interface OracleService {
  durationMinutes: number;
  bufferBeforeMinutes: number;
  bufferAfterMinutes: number;
  slotIntervalMinutes: number | null;
  minNoticeMinutes: number;
  maxAdvanceDays: number;
}

export interface OracleWorld {
  service: OracleService;
  locations: { id: string; timeZone: string; deleted?: boolean }[];
  /** linked: in service_providers of the service. */
  providers: { id: string; linked: boolean; deleted?: boolean }[];
  /** required: in service_resources of the service. */
  resources: { id: string; locationId: string; required: boolean }[];
  rules: {
    providerId?: string;
    resourceId?: string;
    locationId: string;
    weekday: number;
    start: string;
    end: string;
    validFrom?: string | null;
    validUntil?: string | null;
  }[];
  overrides: {
    providerId?: string;
    resourceId?: string;
    locationId: string;
    date: string;
    start: string | null;
    end: string | null;
  }[];
  timeOff: { providerId?: string; resourceId?: string; startsAt: number; endsAt: number }[];
  /**
   * Appointment bookings of this service (instants in ms). An active one claims its provider and
   * every required resource at its location, busy = [start − before, end + after).
   */
  bookings: { providerId: string; locationId: string; startsAt: number; endsAt: number; active: boolean }[];
}

export interface OracleQuery {
  from: number;
  to: number;
  providerId?: string | null;
  locationId?: string | null;
  timeZone?: string | null;
  /** now() of the calling transaction, in microseconds since the epoch. */
  nowMicros: number;
  /** Staff booking: min notice does not apply. */
  ignoreNotice?: boolean;
}

export interface OracleSlot {
  startsAt: number;
  endsAt: number;
  providerId: string;
  locationId: string;
  localStartsAt: string;
}

export interface OracleResult {
  slots: OracleSlot[];
  /**
   * True when a merged working range that yields candidates runs back to the start of the scanned
   * dates (more than a week before p_from): its slots are then on the epoch-aligned grid.
   */
  unboundedAnchor: boolean;
  /** The earliest lower bound of a merged working range that yields a candidate in [from, to) (null: none). */
  earliestAnchor: number | null;
}

type Subject = { providerId?: string; resourceId?: string };
const isSubject = (row: Subject, id: string): boolean => row.providerId === id || row.resourceId === id;

const SCAN_DAYS_BEFORE = 8;
/** How long after its start a working range keeps its own slot grid (see slot_candidates). */
const GRID_OWN_DAYS = 7;
const SCAN_DAYS_AFTER = 3;

/**
 * Working minutes of a subject at a location, as a set of absolute minute numbers (instant / 60 000)
 * over the local dates [firstDate, lastDate], plus the instant of the scan's first local midnight.
 */
function workingMinutes(
  world: OracleWorld,
  subjectId: string,
  location: { id: string; timeZone: string },
  firstDate: string,
  lastDate: string,
): Set<number> {
  const minutes = new Set<number>();
  for (let date = firstDate; date <= lastDate; date = addDays(date, 1)) {
    const overrides = world.overrides.filter((o) => isSubject(o, subjectId) && o.locationId === location.id && o.date === date);
    let windows: { start: string; end: string }[];
    if (overrides.length > 0) {
      windows = overrides.filter((o) => o.start !== null && o.end !== null).map((o) => ({ start: o.start!, end: o.end! }));
    } else {
      const weekday = isoWeekday(date);
      windows = world.rules.filter(
        (r) =>
          isSubject(r, subjectId) &&
          r.locationId === location.id &&
          r.weekday === weekday &&
          (r.validFrom == null || r.validFrom <= date) &&
          (r.validUntil == null || date <= r.validUntil),
      );
    }
    for (const w of windows) {
      const a = localDateTimeToInstant(date, w.start, location.timeZone) / MINUTE;
      const b = localDateTimeToInstant(date, w.end, location.timeZone) / MINUTE;
      // [a, b) as a set of instants; empty when b <= a (possible around a DST gap).
      for (let m = a; m < b; m++) minutes.add(m);
    }
  }
  return minutes;
}

export function oracleSlots(world: OracleWorld, q: OracleQuery): OracleResult {
  const svc = world.service;
  const d = svc.durationMinutes;
  const step = svc.slotIntervalMinutes ?? svc.durationMinutes;
  const before = svc.bufferBeforeMinutes;
  const after = svc.bufferAfterMinutes;
  const fromMin = q.from / MINUTE;
  const toMin = q.to / MINUTE;
  const slots: OracleSlot[] = [];
  let unboundedAnchor = false;
  let earliestAnchor: number | null = null;

  const requiredAll = world.resources.filter((r) => r.required);
  const hasAnyAvailability = (id: string): boolean =>
    world.rules.some((r) => r.resourceId === id) || world.overrides.some((o) => o.resourceId === id);

  // Busy minutes of a subject from active claims: provider of the booking, and required
  // resources at the booking's location.
  const busyRanges = (subjectId: string): [number, number][] =>
    world.bookings
      .filter(
        (b) =>
          b.active &&
          (b.providerId === subjectId ||
            requiredAll.some((r) => r.id === subjectId && r.locationId === b.locationId)),
      )
      .map((b) => [b.startsAt / MINUTE - before, b.endsAt / MINUTE + after]);
  const offRanges = (subjectId: string): [number, number][] =>
    world.timeOff.filter((t) => isSubject(t, subjectId)).map((t) => [t.startsAt / MINUTE, t.endsAt / MINUTE]);
  const inAny = (m: number, ranges: [number, number][]): boolean => ranges.some(([a, b]) => a <= m && m < b);
  /** Any minute of [a, b) inside one of the ranges. */
  const hits = (a: number, b: number, ranges: [number, number][]): boolean => {
    for (let m = a; m < b; m++) if (inAny(m, ranges)) return true;
    return false;
  };

  for (const provider of world.providers) {
    if (!provider.linked || provider.deleted) continue;
    if (q.providerId != null && q.providerId !== provider.id) continue;
    const pBusy = busyRanges(provider.id);
    const pOff = offRanges(provider.id);
    for (const location of world.locations) {
      if (location.deleted) continue;
      if (q.locationId != null && q.locationId !== location.id) continue;
      const required = requiredAll.filter((r) => r.locationId === location.id);
      if (requiredAll.length > 0 && required.length === 0) continue;

      const tz = location.timeZone;
      const firstDate = addDays(localDateOf(q.from, tz), -SCAN_DAYS_BEFORE);
      const lastDate = addDays(localDateOf(q.to, tz), SCAN_DAYS_AFTER);
      const scanStart = localDateTimeToInstant(firstDate, 0, tz) / MINUTE;
      const work = workingMinutes(world, provider.id, location, firstDate, lastDate);
      if (work.size === 0) continue;
      const resourceChecks = required.map((r) => ({
        busy: busyRanges(r.id),
        off: offRanges(r.id),
        work: hasAnyAvailability(r.id) ? workingMinutes(world, r.id, location, firstDate, lastDate) : undefined,
      }));

      // Maximal runs of consecutive working minutes.
      const sorted = [...work].sort((x, y) => x - y);
      let i = 0;
      while (i < sorted.length) {
        let j = i;
        while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
        const lower = sorted[i]!;
        const upper = sorted[j]! + 1;
        i = j + 1;
        let yields = false;
        // The grid (the SQL's rule): a slot up to 7 days after the start of its working range is
        // on that range's grid; later slots are on the fixed grid aligned to the Unix epoch. A
        // range running back past the scan has no visible start, so all its slots in [from, to)
        // are more than 7 days past `lower` and land on the epoch grid, as in the SQL.
        const candidates: number[] = [];
        for (let s = lower; s + d <= upper && s <= lower + GRID_OWN_DAYS * 1440; s += step) candidates.push(s);
        for (let s = Math.floor((lower + GRID_OWN_DAYS * 1440) / step) * step + step; s + d <= upper; s += step) candidates.push(s);
        for (const s of candidates) {
          if (!(fromMin <= s && s < toMin)) continue;
          yields = true;
          if (!q.ignoreNotice && s * MINUTE * 1000 < q.nowMicros + svc.minNoticeMinutes * MINUTE * 1000) continue;
          if (!(s * MINUTE * 1000 < q.nowMicros + svc.maxAdvanceDays * DAY * 1000)) continue;
          if (hits(s, s + d, pOff)) continue;
          if (hits(s - before, s + d + after, pBusy)) continue;
          let ok = true;
          for (const rc of resourceChecks) {
            if (hits(s, s + d, rc.off) || hits(s - before, s + d + after, rc.busy)) {
              ok = false;
              break;
            }
            if (rc.work) {
              for (let m = s; m < s + d; m++) {
                if (!rc.work.has(m)) {
                  ok = false;
                  break;
                }
              }
              if (!ok) break;
            }
          }
          if (!ok) continue;
          slots.push({
            startsAt: s * MINUTE,
            endsAt: (s + d) * MINUTE,
            providerId: provider.id,
            locationId: location.id,
            localStartsAt: localTimestampText(s * MINUTE, q.timeZone ?? tz),
          });
        }
        if (yields && lower <= scanStart) unboundedAnchor = true;
        if (yields && (earliestAnchor === null || lower * MINUTE < earliestAnchor)) earliestAnchor = lower * MINUTE;
      }
    }
  }
  slots.sort(compareSlots);
  return { slots, unboundedAnchor, earliestAnchor };
}

export function compareSlots(a: OracleSlot, b: OracleSlot): number {
  return (
    a.startsAt - b.startsAt ||
    (a.providerId < b.providerId ? -1 : a.providerId > b.providerId ? 1 : 0) ||
    (a.locationId < b.locationId ? -1 : a.locationId > b.locationId ? 1 : 0)
  );
}
