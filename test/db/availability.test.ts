import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addDays,
  compareSlots,
  dateToUtcMs,
  isoWeekday,
  localDateOf,
  localDateTimeToInstant,
  localTimestampText,
  offsetMinutesAt,
  oracleSlots,
  transitionsInYear,
  type OracleService,
  type OracleSlot,
  type OracleWorld,
} from '../support/availability-oracle.ts';
import { anon, expectSqlState, useTestDb, type Principal, type Queryable } from '../support/db.ts';
import {
  addDailyRules,
  addRule,
  createLocation,
  createProvider,
  createResource,
  createService,
  createTenant,
  linkProvider,
  linkResource,
  type Member,
  type ServiceOptions,
} from '../support/factories.ts';

// available_slots for APPOINTMENT services, compared with an independent brute-force oracle
// (test/support/availability-oracle.ts) and with hand-computed examples.
// Dates are relative to the current date; the clock the database used (now() of the calling
// transaction) is read in the same transaction and handed to the oracle.

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const MAX_ADVANCE_DAYS = 730;
const NEXT_YEAR = new Date().getUTCFullYear() + 1;
const todayUtc = (): string => new Date().toISOString().slice(0, 10);

interface DbSlot extends OracleSlot {
  sessionId: unknown;
  seatsLeft: unknown;
}

interface SlotArgs {
  tenantId: string;
  serviceId: string;
  from: number;
  to: number;
  providerId?: string | null;
  locationId?: string | null;
  timeZone?: string | null;
}

const SLOTS_SQL = `
  select starts_at, ends_at, provider_id, location_id, session_id, seats_left, local_starts_at::text as local_starts_at
  from slotbase.available_slots(p_tenant_id => $1::uuid, p_service_id => $2::uuid, p_from => $3::timestamptz,
                                p_to => $4::timestamptz, p_provider_id => $5::uuid, p_location_id => $6::uuid,
                                p_time_zone => $7::text)`;

async function slotsIn(q: Queryable, a: SlotArgs): Promise<{ rows: DbSlot[]; nowMicros: number }> {
  const [clock] = await q.query<{ now_us: string }>(
    `select (extract(epoch from now()) * 1000000)::bigint::text as now_us`,
  );
  const rows = await q.query<Record<string, unknown>>(SLOTS_SQL, [
    a.tenantId,
    a.serviceId,
    new Date(a.from).toISOString(),
    new Date(a.to).toISOString(),
    a.providerId ?? null,
    a.locationId ?? null,
    a.timeZone ?? null,
  ]);
  return {
    nowMicros: Number(clock!.now_us),
    rows: rows.map((r) => ({
      startsAt: new Date(r.starts_at as Date).getTime(),
      endsAt: new Date(r.ends_at as Date).getTime(),
      providerId: r.provider_id as string,
      locationId: r.location_id as string,
      localStartsAt: r.local_starts_at as string,
      sessionId: r.session_id,
      seatsLeft: r.seats_left,
    })),
  };
}

/** One line per slot, readable in a diff. */
function show(slots: OracleSlot[], labels: Map<string, string>): string[] {
  return [...slots]
    .sort(compareSlots)
    .map(
      (s) =>
        `${new Date(s.startsAt).toISOString()} +${(s.endsAt - s.startsAt) / MINUTE}m ${labels.get(s.providerId) ?? s.providerId} ` +
        `${labels.get(s.locationId) ?? s.locationId} local=${s.localStartsAt}`,
    );
}

/** Rows come ordered by starts_at, provider_id (uuid order = lowercase hex order). */
function expectContractOrder(rows: OracleSlot[]): void {
  for (let i = 1; i < rows.length; i++) {
    const a = rows[i - 1]!;
    const b = rows[i]!;
    expect(a.startsAt < b.startsAt || (a.startsAt === b.startsAt && a.providerId <= b.providerId), `row ${i} out of order`).toBe(
      true,
    );
  }
}

/** The result of create_booking as staff (owner). */
async function bookAs(
  who: Principal,
  tenantId: string,
  serviceId: string,
  startsAt: number,
  providerId: string,
  locationId: string,
  options: { hold?: boolean } = {},
): Promise<{ id: string; starts_at: Date; ends_at: Date; status: string }> {
  const [receipt] = await db().queryAs<{ id: string; starts_at: Date; ends_at: Date; status: string }>(
    who,
    `select id, starts_at, ends_at, status
     from slotbase.create_booking(p_tenant_id => $1::uuid, p_service_id => $2::uuid, p_starts_at => $3::timestamptz,
                                  p_provider_id => $4::uuid, p_location_id => $5::uuid, p_contact_name => 'Oracle Test',
                                  p_contact_email => 'oracle@example.test', p_hold => $6::boolean)`,
    [tenantId, serviceId, new Date(startsAt).toISOString(), providerId, locationId, options.hold ?? false],
  );
  return receipt!;
}

const db = useTestDb();

/**
 * The oracle takes its tz data from ICU (Intl); the engine has its own copy. Where the two disagree
 * about a zone's UTC offsets (this year to the end of next year, every 3 hours), no comparison of
 * slots can be meaningful, so such a zone is not used on that engine. Known case: PGlite 0.5.14's tz
 * data puts Africa/Casablanca on +00 permanently from late 2026 on (tzdata: +01 except during
 * Ramadan); real PostgreSQL agrees with ICU. On real PostgreSQL every zone must agree.
 */
const engineZoneCache = new Map<string, Promise<boolean>>();
function engineAgreesWithIcu(zone: string): Promise<boolean> {
  let p = engineZoneCache.get(zone);
  if (!p) {
    p = (async () => {
      const start = Date.UTC(NEXT_YEAR - 1, 0, 1);
      const end = Date.UTC(NEXT_YEAR + 1, 0, 1);
      const rows = await db().queryAs<{ ms: string; off: string }>(
        anon,
        `select (extract(epoch from t) * 1000)::bigint::text as ms,
                (extract(epoch from (t at time zone $3::text) - (t at time zone 'UTC')) / 60)::int::text as off
         from generate_series($1::timestamptz, $2::timestamptz, interval '3 hours') as t`,
        [new Date(start).toISOString(), new Date(end).toISOString(), zone],
      );
      const agrees = rows.every((r) => Number(r.off) === offsetMinutesAt(Number(r.ms), zone));
      if (!agrees && db().engine === 'postgres') throw new Error(`PostgreSQL's tz data disagrees with ICU for ${zone}`);
      return agrees;
    })();
    engineZoneCache.set(zone, p);
  }
  return p;
}

/** `zone`, or UTC when the engine's tz data for `zone` disagrees with ICU (see above). */
async function usableZone(zone: string): Promise<string> {
  return (await engineAgreesWithIcu(zone)) ? zone : 'UTC';
}

// ---------------------------------------------------------------------------------------------
// Arranging a randomized world (as the table owner), mirrored into the oracle's model
// ---------------------------------------------------------------------------------------------

type Window = [number, number]; // minutes of the local day, end may be 1440 (24:00)

interface WorldSpec {
  zones: string[];
  secondLocationDeleted: boolean;
  providers: { linked: boolean; deleted: boolean }[];
  resources: { withRules: boolean }[];
  resourceLocation: number;
  rules: {
    subject: number;
    location: number;
    weekdays: number[];
    window: Window;
    validFrom: number | null;
    validSpan: number | null;
  }[];
  resourceRules: { subject: number; weekdays: number[]; window: Window }[];
  overrides: { resource: boolean; subject: number; location: number; dayOffset: number; window: Window | null }[];
  timeOff: { resource: boolean; subject: number; startOffset: number; length: number }[];
  service: {
    durationMinutes: number;
    bufferBeforeMinutes: number;
    bufferAfterMinutes: number;
    slotIntervalMinutes: number | null;
    minNoticeMinutes: number;
  };
  isPublic: boolean;
  base: { dst: boolean; index: number; daysAhead: number; shift: number };
  spanDays: number;
  fromShift: number;
  toShift: number;
  bookings: { pick: number; hold: boolean; cancel: boolean }[];
  query: { provider: number | null; location: number | null; timeZone: string | null; asAnon: boolean };
}

const ZONE_POOL = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'America/St_Johns',
  'Asia/Kolkata',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'America/Sao_Paulo',
  'Africa/Casablanca',
];

const hhmm = (minutes: number): string => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

const windowArb: fc.Arbitrary<Window> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: 288 }), fc.integer({ min: 0, max: 288 }))
      .filter(([a, b]) => a !== b)
      .map(([a, b]): Window => [Math.min(a, b) * 5, Math.max(a, b) * 5]),
  },
  { weight: 2, arbitrary: fc.constant<Window>([0, 360]) }, // 00:00–06:00 crosses most DST changes
  { weight: 2, arbitrary: fc.integer({ min: 12, max: 23 }).map((h): Window => [h * 60, 1440]) }, // … until 24:00
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 5 }).map((h): Window => [h * 60 - 30, h * 60 + 90]) }, // small hours
  { weight: 1, arbitrary: fc.constant<Window>([0, 1440]) }, // the whole day
);
/** `arb` with probability 1/`oneIn`, otherwise null. */
const sometimes = <T,>(arb: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });
const weekdaysArb: fc.Arbitrary<number[]> = fc.oneof(fc.constant<number[]>([1, 2, 3, 4, 5, 6, 7]), fc.subarray([1, 2, 3, 4, 5, 6, 7], { minLength: 1, maxLength: 4 }));

const worldSpecArb: fc.Arbitrary<WorldSpec> = fc.record({
  zones: fc.oneof(
    fc.tuple(fc.constantFrom(...ZONE_POOL)).map((z) => [...z]),
    fc.tuple(fc.constantFrom(...ZONE_POOL), fc.constantFrom(...ZONE_POOL)).map((z) => [...z]),
  ),
  secondLocationDeleted: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
  providers: fc.array(
    fc.record({
      linked: fc.integer({ min: 0, max: 9 }).map((n) => n > 0),
      deleted: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  resources: fc.oneof(
    { weight: 2, arbitrary: fc.constant<{ withRules: boolean }[]>([]) },
    { weight: 2, arbitrary: fc.array(fc.record({ withRules: fc.boolean() }), { minLength: 1, maxLength: 2 }) },
  ),
  resourceLocation: fc.integer({ min: 0, max: 3 }).map((n) => (n === 3 ? 1 : 0)),
  rules: fc.array(
    fc.record({
      subject: fc.nat(2),
      location: fc.integer({ min: 0, max: 3 }).map((n) => (n === 3 ? 1 : 0)),
      weekdays: weekdaysArb,
      window: windowArb,
      validFrom: sometimes(fc.integer({ min: -2, max: 3 }), 5),
      validSpan: sometimes(fc.integer({ min: 0, max: 3 }), 5),
    }),
    { minLength: 1, maxLength: 6 },
  ),
  resourceRules: fc.array(fc.record({ subject: fc.nat(1), weekdays: weekdaysArb, window: windowArb }), { maxLength: 3 }),
  overrides: fc.array(
    fc.record({
      resource: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
      subject: fc.nat(2),
      location: fc.integer({ min: 0, max: 3 }).map((n) => (n === 3 ? 1 : 0)),
      dayOffset: fc.integer({ min: -1, max: 3 }),
      window: fc.option(windowArb, { freq: 3 }),
    }),
    { maxLength: 4 },
  ),
  timeOff: fc.array(
    fc.record({
      resource: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
      subject: fc.nat(2),
      startOffset: fc.integer({ min: -24, max: 4 * 288 }).map((n) => n * 5),
      length: fc.integer({ min: 1, max: 144 }).map((n) => n * 5),
    }),
    { maxLength: 3 },
  ),
  service: fc.record({
    durationMinutes: fc.oneof(fc.constantFrom(15, 20, 30, 45, 60, 90), fc.integer({ min: 5, max: 180 })),
    bufferBeforeMinutes: fc.constantFrom(0, 0, 0, 5, 10, 15, 30, 45),
    bufferAfterMinutes: fc.constantFrom(0, 0, 0, 5, 10, 15, 30, 60),
    slotIntervalMinutes: fc.option(fc.oneof(fc.constantFrom(5, 10, 15, 20, 30, 45, 60), fc.integer({ min: 1, max: 120 })), {
      freq: 2,
    }),
    minNoticeMinutes: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 6 * 1440 })),
  }),
  isPublic: fc.integer({ min: 0, max: 4 }).map((n) => n > 0),
  base: fc.record({
    dst: fc.boolean(),
    index: fc.nat(9),
    daysAhead: fc.integer({ min: 1, max: 45 }),
    shift: fc.integer({ min: -2, max: 0 }),
  }),
  spanDays: fc.integer({ min: 1, max: 3 }),
  fromShift: fc.integer({ min: 0, max: 100 }).map((n) => n * 6),
  toShift: fc.integer({ min: 0, max: 100 }).map((n) => n * 6),
  bookings: fc.array(fc.record({ pick: fc.nat(), hold: fc.boolean(), cancel: fc.integer({ min: 0, max: 3 }).map((n) => n === 0) }), {
    maxLength: 4,
  }),
  query: fc.record({
    provider: sometimes(fc.nat(2), 4),
    location: sometimes(fc.integer({ min: 0, max: 1 }), 4),
    timeZone: sometimes(fc.constantFrom(...ZONE_POOL), 3),
    asAnon: fc.boolean(),
  }),
});

interface ArrangedWorld {
  tenantId: string;
  owner: Member;
  serviceId: string;
  world: OracleWorld;
  labels: Map<string, string>;
  locationIds: string[];
  providerIds: string[];
  from: number;
  to: number;
  baseDate: string;
}

async function arrange(q: Queryable, spec: WorldSpec): Promise<ArrangedWorld> {
  const tenant = await createTenant(q);
  const labels = new Map<string, string>();
  const locations: OracleWorld['locations'] = [];
  for (const [i, zone] of spec.zones.entries()) {
    const loc = await createLocation(q, tenant.id, { timeZone: zone });
    const deleted = i === 1 && spec.secondLocationDeleted;
    if (deleted) await q.query('update slotbase.locations set deleted_at = now() where tenant_id = $1 and id = $2', [tenant.id, loc.id]);
    locations.push({ id: loc.id, timeZone: zone, deleted });
    labels.set(loc.id, `L${i}(${zone}${deleted ? ',deleted' : ''})`);
  }
  const tz0 = spec.zones[0]!;
  const svcOptions: ServiceOptions = { ...spec.service, maxAdvanceDays: MAX_ADVANCE_DAYS };
  const service = await createService(q, tenant.id, svcOptions);
  if (!spec.isPublic) await q.query('update slotbase.services set is_public = false where tenant_id = $1 and id = $2', [tenant.id, service.id]);

  const providers: OracleWorld['providers'] = [];
  for (const [i, p] of spec.providers.entries()) {
    const provider = await createProvider(q, tenant.id);
    if (p.linked) await linkProvider(q, tenant.id, service.id, provider.id);
    if (p.deleted) await q.query('update slotbase.providers set deleted_at = now() where tenant_id = $1 and id = $2', [tenant.id, provider.id]);
    providers.push({ id: provider.id, linked: p.linked, deleted: p.deleted });
    labels.set(provider.id, `P${i}${p.linked ? '' : '(unlinked)'}${p.deleted ? '(deleted)' : ''}`);
  }
  const resourceLocation = locations[spec.resourceLocation % locations.length]!;
  const resources: OracleWorld['resources'] = [];
  for (const [i] of spec.resources.entries()) {
    const r = await createResource(q, tenant.id, resourceLocation.id);
    await linkResource(q, tenant.id, service.id, r.id);
    resources.push({ id: r.id, locationId: resourceLocation.id, required: true });
    labels.set(r.id, `R${i}`);
  }

  // The dates: soon, or around a DST change of the first location's zone next year.
  const transitions = transitionsInYear(tz0, NEXT_YEAR);
  const baseDate =
    spec.base.dst && transitions.length > 0
      ? addDays(transitions[spec.base.index % transitions.length]!.localDate, spec.base.shift)
      : addDays(todayUtc(), spec.base.daysAhead);
  const dayStart = localDateTimeToInstant(baseDate, 0, tz0);
  const from = dayStart + spec.fromShift * MINUTE;
  const to = localDateTimeToInstant(addDays(baseDate, spec.spanDays), 0, tz0) - spec.toShift * MINUTE;

  const rules: OracleWorld['rules'] = [];
  for (const r of spec.rules) {
    const validFrom = r.validFrom === null ? null : addDays(baseDate, r.validFrom);
    const validUntil = r.validSpan === null ? null : addDays(validFrom ?? baseDate, r.validSpan);
    for (const weekday of r.weekdays) {
      rules.push({
        providerId: providers[r.subject % providers.length]!.id,
        locationId: locations[r.location % locations.length]!.id,
        weekday,
        start: hhmm(r.window[0]),
        end: hhmm(r.window[1]),
        validFrom,
        validUntil,
      });
    }
  }
  for (const r of spec.resourceRules) {
    const resource = resources[r.subject % Math.max(resources.length, 1)];
    if (!resource || !spec.resources[r.subject % resources.length]!.withRules) continue;
    for (const weekday of r.weekdays) {
      rules.push({ resourceId: resource.id, locationId: resource.locationId, weekday, start: hhmm(r.window[0]), end: hhmm(r.window[1]) });
    }
  }
  const overrides: OracleWorld['overrides'] = [];
  for (const o of spec.overrides) {
    const date = addDays(baseDate, o.dayOffset);
    const times = { start: o.window ? hhmm(o.window[0]) : null, end: o.window ? hhmm(o.window[1]) : null };
    if (o.resource) {
      const resource = resources[o.subject % Math.max(resources.length, 1)];
      if (resource) overrides.push({ resourceId: resource.id, locationId: resource.locationId, date, ...times });
    } else {
      overrides.push({
        providerId: providers[o.subject % providers.length]!.id,
        locationId: locations[o.location % locations.length]!.id,
        date,
        ...times,
      });
    }
  }
  const timeOff: OracleWorld['timeOff'] = [];
  for (const t of spec.timeOff) {
    const span = { startsAt: dayStart + t.startOffset * MINUTE, endsAt: dayStart + (t.startOffset + t.length) * MINUTE };
    if (t.resource) {
      const resource = resources[t.subject % Math.max(resources.length, 1)];
      if (resource) timeOff.push({ resourceId: resource.id, ...span });
    } else {
      timeOff.push({ providerId: providers[t.subject % providers.length]!.id, ...span });
    }
  }

  await q.query(
    `insert into slotbase.availability_rules (tenant_id, provider_id, resource_id, location_id, weekday, start_time, end_time, valid_from, valid_until)
     select $1::uuid, x.provider_id, x.resource_id, x.location_id, x.weekday, x.start_time, x.end_time, x.valid_from, x.valid_until
     from jsonb_to_recordset($2::text::jsonb) as x(provider_id uuid, resource_id uuid, location_id uuid, weekday smallint,
                                             start_time time, end_time time, valid_from date, valid_until date)`,
    [
      tenant.id,
      JSON.stringify(
        rules.map((r) => ({
          provider_id: r.providerId ?? null,
          resource_id: r.resourceId ?? null,
          location_id: r.locationId,
          weekday: r.weekday,
          start_time: r.start,
          end_time: r.end,
          valid_from: r.validFrom ?? null,
          valid_until: r.validUntil ?? null,
        })),
      ),
    ],
  );
  await q.query(
    `insert into slotbase.date_overrides (tenant_id, provider_id, resource_id, location_id, date, start_time, end_time)
     select $1::uuid, x.provider_id, x.resource_id, x.location_id, x.date, x.start_time, x.end_time
     from jsonb_to_recordset($2::text::jsonb) as x(provider_id uuid, resource_id uuid, location_id uuid, date date, start_time time, end_time time)`,
    [
      tenant.id,
      JSON.stringify(
        overrides.map((o) => ({
          provider_id: o.providerId ?? null,
          resource_id: o.resourceId ?? null,
          location_id: o.locationId,
          date: o.date,
          start_time: o.start,
          end_time: o.end,
        })),
      ),
    ],
  );
  await q.query(
    `insert into slotbase.time_off (tenant_id, provider_id, resource_id, starts_at, ends_at)
     select $1::uuid, x.provider_id, x.resource_id, x.starts_at, x.ends_at
     from jsonb_to_recordset($2::text::jsonb) as x(provider_id uuid, resource_id uuid, starts_at timestamptz, ends_at timestamptz)`,
    [
      tenant.id,
      JSON.stringify(
        timeOff.map((t) => ({
          provider_id: t.providerId ?? null,
          resource_id: t.resourceId ?? null,
          starts_at: new Date(t.startsAt).toISOString(),
          ends_at: new Date(t.endsAt).toISOString(),
        })),
      ),
    ],
  );

  const oracleService: OracleService = {
    durationMinutes: spec.service.durationMinutes,
    bufferBeforeMinutes: spec.service.bufferBeforeMinutes,
    bufferAfterMinutes: spec.service.bufferAfterMinutes,
    slotIntervalMinutes: spec.service.slotIntervalMinutes,
    minNoticeMinutes: spec.service.minNoticeMinutes,
    maxAdvanceDays: MAX_ADVANCE_DAYS,
  };
  return {
    tenantId: tenant.id,
    owner: tenant.owner,
    serviceId: service.id,
    world: { service: oracleService, locations, providers, resources, rules, overrides, timeOff, bookings: [] },
    labels,
    locationIds: locations.map((l) => l.id),
    providerIds: providers.map((p) => p.id),
    from,
    to,
    baseDate,
  };
}

// ---------------------------------------------------------------------------------------------

describe('available_slots (appointment services) equals the brute-force oracle', () => {
  // Replay a failure with the seed and path fast-check prints:
  //   SLOTBASE_FC_SEED=<seed> SLOTBASE_FC_PATH=<path> [SLOTBASE_FC_SHRINK=1] DATABASE_URL=… npx vitest run test/db/availability.test.ts
  // SLOTBASE_FC_RUNS=<n> explores more cases; SLOTBASE_FC_STATS=1 logs what each run compared.
  it('on randomized schedules, time off, overrides, resources and bookings (property)', async () => {
    const seed = process.env.SLOTBASE_FC_SEED ? Number(process.env.SLOTBASE_FC_SEED) : undefined;
    const path = process.env.SLOTBASE_FC_PATH;
    await fc.assert(
      fc.asyncProperty(worldSpecArb, async (rawSpec) => {
        const spec: WorldSpec = {
          ...rawSpec,
          zones: await Promise.all(rawSpec.zones.map(usableZone)),
          query: { ...rawSpec.query, timeZone: rawSpec.query.timeZone === null ? null : await usableZone(rawSpec.query.timeZone) },
        };
        const w = await arrange(db(), spec);

        // Existing bookings, made by staff (owner) at slots the oracle says are free right now
        // (min notice does not apply to staff). Each one must succeed.
        for (const b of spec.bookings) {
          const [clock] = await db().queryAs<{ now_us: string }>(w.owner, `select (extract(epoch from now()) * 1000000)::bigint::text as now_us`);
          const oracle = oracleSlots(w.world, { from: w.from, to: w.to, nowMicros: Number(clock!.now_us), ignoreNotice: true });
          // Ranges without a visible start are well defined (epoch grid): nothing to discard.
          const free = oracle.slots;
          if (free.length === 0) break;
          const slot = free[b.pick % free.length]!;
          let receipt;
          try {
            receipt = await bookAs(w.owner, w.tenantId, w.serviceId, slot.startsAt, slot.providerId, slot.locationId, { hold: b.hold });
          } catch (e) {
            throw new Error(
              `create_booking (staff) rejected a slot the oracle says is free: ${show([slot], w.labels)[0]} ` +
                `existing bookings: ${JSON.stringify(w.world.bookings.map((x) => ({ ...x, startsAt: new Date(x.startsAt).toISOString() })))}: ` +
                `${(e as { code?: string }).code} ${(e as Error).message}`,
            );
          }
          expect(new Date(receipt.starts_at).getTime()).toBe(slot.startsAt);
          expect(new Date(receipt.ends_at).getTime()).toBe(slot.endsAt);
          if (b.cancel) await db().queryAs(w.owner, 'select 1 from slotbase.cancel_booking(p_booking_id => $1::uuid)', [receipt.id]);
          w.world.bookings.push({ providerId: slot.providerId, locationId: slot.locationId, startsAt: slot.startsAt, endsAt: slot.endsAt, active: !b.cancel });
        }

        const args: SlotArgs = {
          tenantId: w.tenantId,
          serviceId: w.serviceId,
          from: w.from,
          to: w.to,
          providerId: spec.query.provider === null ? null : w.providerIds[spec.query.provider % w.providerIds.length]!,
          locationId: spec.query.location === null ? null : w.locationIds[spec.query.location % w.locationIds.length]!,
          timeZone: spec.query.timeZone,
        };
        const who: Principal = spec.query.asAnon && spec.isPublic ? anon : w.owner;
        const { rows, nowMicros } = await db().as(who, (q) => slotsIn(q, args));
        const expected = oracleSlots(w.world, { ...args, nowMicros });
        // Ranges without a visible start are well defined (epoch grid): nothing to discard.

        expect(rows.every((r) => r.sessionId === null && r.seatsLeft === null)).toBe(true);
        expectContractOrder(rows);
        expect(show(rows, w.labels)).toEqual(show(expected.slots, w.labels));
        if (process.env.SLOTBASE_FC_STATS) {
          console.log(`run: zones=${spec.zones.join(',')} slots=${rows.length} bookings=${w.world.bookings.length} providers=${new Set(rows.map((r) => r.providerId)).size}`);
        }
      }),
      { numRuns: Number(process.env.SLOTBASE_FC_RUNS ?? 30), seed, path, endOnFailure: process.env.SLOTBASE_FC_SHRINK !== '1', verbose: 1 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// DST: both transition days of next year in each zone (zones without DST: a normal day)
// ---------------------------------------------------------------------------------------------

const DST_TEST_ZONES = [
  'Europe/Berlin',
  'America/New_York',
  'America/St_Johns',
  'Asia/Kolkata',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'America/Sao_Paulo',
  'Africa/Casablanca',
];

interface DstCase {
  name: string;
  zone: string;
  date: string;
  /** Local wall-clock [start, end) minutes of the repeated/skipped interval (or 02:00–03:00 on a normal day). */
  local: [number, number];
  transition: boolean;
}

const dstCases: DstCase[] = DST_TEST_ZONES.flatMap((zone): DstCase[] => {
  const ts = transitionsInYear(zone, NEXT_YEAR);
  if (ts.length === 0) {
    const date = `${NEXT_YEAR}-03-28`;
    return [{ name: `${zone} has no DST change in ${NEXT_YEAR}: a normal day (${date}) keeps every slot`, zone, date, local: [120, 180], transition: false }];
  }
  return ts.map((t) => {
    // Wall clock just before the change, and the jump (positive = spring forward).
    const wallBefore = (t.at + t.before * MINUTE - dateToUtcMs(t.localDate)) / MINUTE;
    const shift = t.after - t.before;
    const local: [number, number] = shift > 0 ? [wallBefore, wallBefore + shift] : [wallBefore + shift, wallBefore];
    return {
      name: `${zone} ${t.localDate} (${shift > 0 ? 'clocks go forward' : 'clocks go back'} ${Math.abs(shift)} min at ${hhmm(wallBefore)}): no slot lost, shifted or duplicated`,
      zone,
      date: t.localDate,
      local,
      transition: true,
    };
  });
});

describe('available_slots across daylight saving changes of next year', () => {
  it.for(dstCases)('$name', async (c, ctx) => {
    if (!(await engineAgreesWithIcu(c.zone))) {
      ctx.skip(`the ${db().engine} engine's tz data disagrees with ICU for ${c.zone}`);
      return;
    }
    const q = db();
    const tenant = await createTenant(q, { timeZone: c.zone });
    const location = await createLocation(q, tenant.id, { timeZone: c.zone });
    const service = await createService(q, tenant.id, { durationMinutes: 30, maxAdvanceDays: MAX_ADVANCE_DAYS });
    const D = c.date;
    const mk = async (label: string) => {
      const p = await createProvider(q, tenant.id, { locationId: location.id, name: label });
      await linkProvider(q, tenant.id, service.id, p.id);
      return p.id;
    };
    const day = await mk('day'); // 09:00–17:00 every day
    const night = await mk('night'); // D−1 20:00–24:00 and D 00:00–06:00: one range across midnight and the change
    const around = await mk('around'); // one hour either side of the changed wall-clock interval
    const exact = await mk('exact'); // exactly the skipped / repeated wall-clock interval
    await addDailyRules(q, tenant.id, { providerId: day }, location.id, '09:00', '17:00');
    await addRule(q, tenant.id, { providerId: night }, location.id, isoWeekday(addDays(D, -1)), '20:00', '24:00');
    await addRule(q, tenant.id, { providerId: night }, location.id, isoWeekday(D), '00:00', '06:00');
    const aroundWindow: [number, number] = [Math.floor(c.local[0] / 15) * 15 - 60, Math.ceil(c.local[1] / 15) * 15 + 60];
    await addRule(q, tenant.id, { providerId: around }, location.id, isoWeekday(D), hhmm(aroundWindow[0]), hhmm(aroundWindow[1]));
    await addRule(q, tenant.id, { providerId: exact }, location.id, isoWeekday(D), hhmm(c.local[0]), hhmm(c.local[1]));
    const labels = new Map([
      [day, 'day'],
      [night, 'night'],
      [around, 'around'],
      [exact, 'exact'],
      [location.id, c.zone],
    ]);

    const from = localDateTimeToInstant(addDays(D, -1), 0, c.zone);
    const to = localDateTimeToInstant(addDays(D, 2), 0, c.zone);
    const { rows, nowMicros } = await db().as(anon, (qq) => slotsIn(qq, { tenantId: tenant.id, serviceId: service.id, from, to }));

    const world: OracleWorld = {
      service: { durationMinutes: 30, bufferBeforeMinutes: 0, bufferAfterMinutes: 0, slotIntervalMinutes: null, minNoticeMinutes: 0, maxAdvanceDays: MAX_ADVANCE_DAYS },
      locations: [{ id: location.id, timeZone: c.zone }],
      providers: [day, night, around, exact].map((id) => ({ id, linked: true })),
      resources: [],
      rules: [
        ...[1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ providerId: day, locationId: location.id, weekday, start: '09:00', end: '17:00' })),
        { providerId: night, locationId: location.id, weekday: isoWeekday(addDays(D, -1)), start: '20:00', end: '24:00' },
        { providerId: night, locationId: location.id, weekday: isoWeekday(D), start: '00:00', end: '06:00' },
        { providerId: around, locationId: location.id, weekday: isoWeekday(D), start: hhmm(aroundWindow[0]), end: hhmm(aroundWindow[1]) },
        { providerId: exact, locationId: location.id, weekday: isoWeekday(D), start: hhmm(c.local[0]), end: hhmm(c.local[1]) },
      ],
      overrides: [],
      timeOff: [],
      bookings: [],
    };
    const expected = oracleSlots(world, { from, to, nowMicros });
    expect(expected.unboundedAnchor).toBe(false);
    expect(show(rows, labels)).toEqual(show(expected.slots, labels));

    // Independently of the oracle's internals:
    // every slot lasts 30 minutes and is reported at its own wall clock in the zone;
    for (const r of rows) {
      expect(r.endsAt - r.startsAt).toBe(30 * MINUTE);
      expect(r.localStartsAt).toBe(localTimestampText(r.startsAt, c.zone));
    }
    // no instant is duplicated for a provider;
    for (const p of [day, night, around, exact]) {
      const mine = rows.filter((r) => r.providerId === p).map((r) => r.startsAt);
      expect(new Set(mine).size, `duplicate instants for ${labels.get(p)}`).toBe(mine.length);
    }
    // the 09:00–17:00 rule yields the wall-clock times 09:00, 09:30 … 16:30 exactly once on each day;
    const dayTimes = ['09:00', '09:30', '10:00', '10:30', '11:00', '11:30', '12:00', '12:30', '13:00', '13:30', '14:00', '14:30', '15:00', '15:30', '16:00', '16:30'];
    for (const date of [addDays(D, -1), D, addDays(D, 1)]) {
      const got = rows.filter((r) => r.providerId === day && r.localStartsAt.startsWith(date)).map((r) => r.localStartsAt.slice(11, 16));
      expect(got, `09:00–17:00 on ${date}`).toEqual(dayTimes);
      for (const r of rows.filter((x) => x.providerId === day && x.localStartsAt.startsWith(date))) {
        expect(r.startsAt).toBe(localDateTimeToInstant(date, r.localStartsAt.slice(11, 16), c.zone));
      }
    }
    // ranges across the change keep every elapsed half hour: consecutive instants from the range's start.
    const contiguous = (p: string, start: number, end: number) => {
      const got = rows.filter((r) => r.providerId === p).map((r) => r.startsAt);
      const want: number[] = [];
      for (let s = start; s + 30 * MINUTE <= end; s += 30 * MINUTE) want.push(s);
      expect(got.map((x) => new Date(x).toISOString()), labels.get(p)).toEqual(want.map((x) => new Date(x).toISOString()));
    };
    contiguous(night, localDateTimeToInstant(addDays(D, -1), '20:00', c.zone), localDateTimeToInstant(D, '06:00', c.zone));
    contiguous(around, localDateTimeToInstant(D, aroundWindow[0], c.zone), localDateTimeToInstant(D, aroundWindow[1], c.zone));
    if (c.transition) {
      // The elapsed length of the ranges differs from their wall-clock length by the shift.
      const nightRows = rows.filter((r) => r.providerId === night).length;
      expect(nightRows).not.toBe(20);
    }
  });

  it('a window that starts inside a skipped (spring-forward) hour and ends before the skipped hour\'s end instant yields no slot and raises no error', async () => {
    const q = db();
    for (const c of dstCases.filter((x) => x.transition)) {
      if (!(await engineAgreesWithIcu(c.zone))) continue; // (see engineAgreesWithIcu)
      const ts = transitionsInYear(c.zone, NEXT_YEAR).filter((t) => t.localDate === c.date && t.after > t.before);
      if (ts.length === 0) continue;
      const shift = c.local[1] - c.local[0];
      // e.g. Berlin 02:30–03:15: 02:30 does not exist and is read with the old offset (→ 03:30 CEST),
      // so the window's start instant is after its end instant: an empty window.
      const start = c.local[0] + Math.floor(shift / 2);
      const end = c.local[1] + Math.floor(shift / 4);
      const tenant = await createTenant(q, { timeZone: c.zone });
      const location = await createLocation(q, tenant.id, { timeZone: c.zone });
      const service = await createService(q, tenant.id, { durationMinutes: 5, maxAdvanceDays: MAX_ADVANCE_DAYS });
      const p = await createProvider(q, tenant.id, { locationId: location.id });
      await linkProvider(q, tenant.id, service.id, p.id);
      await addRule(q, tenant.id, { providerId: p.id }, location.id, isoWeekday(c.date), hhmm(start), hhmm(end));
      expect(localDateTimeToInstant(c.date, end, c.zone)).toBeLessThan(localDateTimeToInstant(c.date, start, c.zone));
      const from = localDateTimeToInstant(c.date, 0, c.zone);
      const to = localDateTimeToInstant(addDays(c.date, 1), 0, c.zone);
      const { rows } = await db().as(anon, (qq) => slotsIn(qq, { tenantId: tenant.id, serviceId: service.id, from, to }));
      expect(rows, `${c.zone} ${c.date} ${hhmm(start)}–${hhmm(end)}`).toEqual([]);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Targeted examples (one rule each). A UTC location keeps the arithmetic visible.
// ---------------------------------------------------------------------------------------------

describe('available_slots rules by example', () => {
  /** A tenant with one UTC location, one linked provider with hours on `day` and a public service. */
  async function oneProvider(
    service: ServiceOptions,
    hours: [string, string][] = [['09:00', '12:00']],
    options: { timeZone?: string; daily?: boolean } = {},
  ) {
    const q = db();
    const zone = options.timeZone ?? 'UTC';
    const tenant = await createTenant(q);
    const location = await createLocation(q, tenant.id, { timeZone: zone });
    const svc = await createService(q, tenant.id, { maxAdvanceDays: MAX_ADVANCE_DAYS, ...service });
    const provider = await createProvider(q, tenant.id, { locationId: location.id });
    await linkProvider(q, tenant.id, svc.id, provider.id);
    const day = addDays(todayUtc(), 10);
    for (const [start, end] of hours) {
      if (options.daily) await addDailyRules(q, tenant.id, { providerId: provider.id }, location.id, start, end);
      else await addRule(q, tenant.id, { providerId: provider.id }, location.id, isoWeekday(day), start, end);
    }
    const at = (time: string, date = day) => localDateTimeToInstant(date, time, zone);
    /** Local 'HH:MM' starts on `date` as anon. */
    const times = async (date = day) => {
      const { rows } = await db().as(anon, (qq) =>
        slotsIn(qq, { tenantId: tenant.id, serviceId: svc.id, from: at('00:00', date), to: at('24:00', date) }),
      );
      return rows.map((r) => r.localStartsAt.slice(11, 16));
    };
    const book = (time: string, date = day) => bookAs(tenant.owner, tenant.id, svc.id, at(time, date), provider.id, location.id);
    return { q, tenant, location, service: svc, provider, day, at, times, book, zone };
  }

  it('back-to-back bookings touch but do not block each other', async () => {
    const w = await oneProvider({ durationMinutes: 60 }, [['09:00', '13:00']]);
    expect(await w.times()).toEqual(['09:00', '10:00', '11:00', '12:00']);
    await w.book('10:00');
    expect(await w.times()).toEqual(['09:00', '11:00', '12:00']);
    await w.book('09:00'); // ends exactly when the 10:00 booking starts
    await w.book('11:00'); // starts exactly when it ends
    expect(await w.times()).toEqual(['12:00']);
  });

  it('buffers before and after a booking block the neighbouring slots they overlap', async () => {
    const w = await oneProvider({ durationMinutes: 30, bufferBeforeMinutes: 15, bufferAfterMinutes: 15 }, [['09:00', '13:00']]);
    await w.book('11:00'); // busy [10:45, 11:45)
    // s is free iff [s − 15, s + 45) misses [10:45, 11:45): 10:30 and 11:30 are blocked, 10:00 and 12:00 touch.
    expect(await w.times()).toEqual(['09:00', '09:30', '10:00', '12:00', '12:30']);
  });

  it('time off removes exactly the slots it overlaps', async () => {
    const w = await oneProvider({ durationMinutes: 60 }, [['09:00', '13:00']]);
    await w.q.query('insert into slotbase.time_off (tenant_id, provider_id, starts_at, ends_at) values ($1, $2, $3, $4)', [
      w.tenant.id,
      w.provider.id,
      new Date(w.at('10:30')).toISOString(),
      new Date(w.at('11:00')).toISOString(),
    ]);
    expect(await w.times()).toEqual(['09:00', '11:00', '12:00']);
  });

  it('a date override replaces the weekly rule on that date only', async () => {
    const w = await oneProvider({ durationMinutes: 60 }, [['09:00', '12:00']]);
    await w.q.query(
      `insert into slotbase.date_overrides (tenant_id, provider_id, location_id, date, start_time, end_time) values ($1, $2, $3, $4, '14:00', '16:00')`,
      [w.tenant.id, w.provider.id, w.location.id, w.day],
    );
    expect(await w.times()).toEqual(['14:00', '15:00']);
    expect(await w.times(addDays(w.day, 7))).toEqual(['09:00', '10:00', '11:00']);
  });

  it('a closed date override (null times) removes the whole day', async () => {
    const w = await oneProvider({ durationMinutes: 60 }, [['09:00', '12:00']], { daily: true });
    await w.q.query(`insert into slotbase.date_overrides (tenant_id, provider_id, location_id, date) values ($1, $2, $3, $4)`, [
      w.tenant.id,
      w.provider.id,
      w.location.id,
      w.day,
    ]);
    expect(await w.times()).toEqual([]);
    expect(await w.times(addDays(w.day, 1))).toEqual(['09:00', '10:00', '11:00']);
  });

  it('min notice drops slots starting before now() + notice and keeps the ones after', async () => {
    const w = await oneProvider({ durationMinutes: 60, minNoticeMinutes: 180 }, [['00:00', '23:00']], { daily: true });
    const from = localDateTimeToInstant(todayUtc(), 0, 'UTC');
    const to = from + 3 * DAY;
    const { rows, nowMicros } = await db().as(anon, (q) => slotsIn(q, { tenantId: w.tenant.id, serviceId: w.service.id, from, to }));
    const now = nowMicros / 1000;
    const earliest = now + 180 * MINUTE;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.startsAt >= earliest)).toBe(true);
    // The first hourly slot at or after now + 3 h is offered (unless it falls in the 23:00 gap).
    const firstHour = Math.ceil(earliest / (60 * MINUTE)) * 60 * MINUTE;
    const expectedFirst = new Date(firstHour).getUTCHours() === 23 ? firstHour + 60 * MINUTE : firstHour;
    expect(new Date(rows[0]!.startsAt).toISOString()).toBe(new Date(expectedFirst).toISOString());
  });

  it('the horizon (max_advance_days) drops slots starting at or after now() + max days', async () => {
    const w = await oneProvider({ durationMinutes: 60, maxAdvanceDays: 2 }, [['00:00', '23:00']], { daily: true });
    const from = localDateTimeToInstant(todayUtc(), 0, 'UTC') + DAY;
    const to = from + 4 * DAY;
    const { rows, nowMicros } = await db().as(anon, (q) => slotsIn(q, { tenantId: w.tenant.id, serviceId: w.service.id, from, to }));
    const limit = nowMicros / 1000 + 2 * DAY; // the session time zone of the test databases is UTC: 2 days = 48 h
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.startsAt < limit)).toBe(true);
    const lastHour = Math.ceil(limit / (60 * MINUTE)) * 60 * MINUTE - 60 * MINUTE; // last whole hour before the limit
    const expectedLast = new Date(lastHour).getUTCHours() === 23 ? lastHour - 60 * MINUTE : lastHour;
    expect(new Date(rows.at(-1)!.startsAt).toISOString()).toBe(new Date(expectedLast).toISOString());
  });

  it('p_time_zone changes local_starts_at but not the instants', async () => {
    const w = await oneProvider({ durationMinutes: 60 }, [['09:00', '12:00']], { timeZone: 'Europe/Berlin' });
    const args = { tenantId: w.tenant.id, serviceId: w.service.id, from: w.at('00:00'), to: w.at('24:00') };
    const own = (await db().as(anon, (q) => slotsIn(q, args))).rows;
    const tokyo = (await db().as(anon, (q) => slotsIn(q, { ...args, timeZone: 'Asia/Tokyo' }))).rows;
    expect(own.map((r) => r.localStartsAt.slice(11, 16))).toEqual(['09:00', '10:00', '11:00']);
    expect(tokyo.map((r) => r.startsAt)).toEqual(own.map((r) => r.startsAt));
    expect(tokyo.map((r) => r.localStartsAt)).toEqual(own.map((r) => localTimestampText(r.startsAt, 'Asia/Tokyo')));
    expect(tokyo.map((r) => r.localStartsAt)).not.toEqual(own.map((r) => r.localStartsAt));
  });

  it('an invalid p_time_zone raises SBVAL', async () => {
    const w = await oneProvider({ durationMinutes: 60 });
    await expectSqlState(
      db().as(anon, (q) => slotsIn(q, { tenantId: w.tenant.id, serviceId: w.service.id, from: w.at('00:00'), to: w.at('24:00'), timeZone: 'Mars/Olympus' })),
      'SBVAL',
    );
  });

  it('a private (is_public = false) service is invisible to anon (SBNF1) but listed for its owner', async () => {
    const w = await oneProvider({ durationMinutes: 60 });
    await w.q.query('update slotbase.services set is_public = false where tenant_id = $1 and id = $2', [w.tenant.id, w.service.id]);
    const args = { tenantId: w.tenant.id, serviceId: w.service.id, from: w.at('00:00'), to: w.at('24:00') };
    await expectSqlState(db().as(anon, (q) => slotsIn(q, args)), 'SBNF1');
    const { rows } = await db().as(w.tenant.owner, (q) => slotsIn(q, args));
    expect(rows.map((r) => r.localStartsAt.slice(11, 16))).toEqual(['09:00', '10:00', '11:00']);
  });

  it('a service of another tenant is not found (SBNF1), for anon and for the other tenant\'s owner', async () => {
    const w = await oneProvider({ durationMinutes: 60 });
    const other = await createTenant(w.q);
    const args = { tenantId: other.id, serviceId: w.service.id, from: w.at('00:00'), to: w.at('24:00') };
    await expectSqlState(db().as(anon, (q) => slotsIn(q, args)), 'SBNF1');
    await expectSqlState(db().as(other.owner, (q) => slotsIn(q, args)), 'SBNF1');
    // the same call with the right tenant lists the slots (the test above can fail)
    expect(await w.times()).toEqual(['09:00', '10:00', '11:00']);
  });

  it('p_to <= p_from raises SBRNG', async () => {
    const w = await oneProvider({ durationMinutes: 60 });
    const base = { tenantId: w.tenant.id, serviceId: w.service.id };
    await expectSqlState(db().as(anon, (q) => slotsIn(q, { ...base, from: w.at('10:00'), to: w.at('10:00') })), 'SBRNG');
    await expectSqlState(db().as(anon, (q) => slotsIn(q, { ...base, from: w.at('10:00'), to: w.at('09:00') })), 'SBRNG');
  });

  it('a range longer than 100 days raises SBRNG', async () => {
    const w = await oneProvider({ durationMinutes: 60 });
    const from = w.at('00:00');
    await expectSqlState(db().as(anon, (q) => slotsIn(q, { tenantId: w.tenant.id, serviceId: w.service.id, from, to: from + 100 * DAY + MINUTE })), 'SBRNG');
    const { rows } = await db().as(anon, (q) => slotsIn(q, { tenantId: w.tenant.id, serviceId: w.service.id, from, to: from + 100 * DAY }));
    expect(rows.length).toBeGreaterThan(0);
  });

  it('the grid is anchored at the start of each working range and bookings do not re-anchor it', async () => {
    const w = await oneProvider({ durationMinutes: 30, slotIntervalMinutes: 45 }, [['09:10', '12:00'], ['13:00', '14:00']]);
    expect(await w.times()).toEqual(['09:10', '09:55', '10:40', '11:25', '13:00']);
    await w.book('09:55');
    expect(await w.times()).toEqual(['09:10', '10:40', '11:25', '13:00']);
  });

  /**
   * One merged range [D−3 10:00, D 12:00) (UTC): D−3 10:00–24:00, D−2 and D−1 all day, D 00:00–12:00,
   * with a 45-minute service. Its grid runs from D−3 10:00: D 00:00 is 62 h = 82⅔ steps later, so
   * D's slots are 00:15, 01:00, … 10:45.
   */
  async function multiDayRange() {
    const w = await oneProvider({ durationMinutes: 45 }, []);
    const D = w.day;
    const rules: [string, string, string][] = [
      [addDays(D, -3), '10:00', '24:00'],
      [addDays(D, -2), '00:00', '24:00'],
      [addDays(D, -1), '00:00', '24:00'],
      [D, '00:00', '12:00'],
    ];
    for (const [date, start, end] of rules) await addRule(w.q, w.tenant.id, { providerId: w.provider.id }, w.location.id, isoWeekday(date), start, end);
    const expected: string[] = [];
    for (let s = w.at('10:00', addDays(D, -3)); s + 45 * MINUTE <= w.at('12:00'); s += 45 * MINUTE) {
      if (s >= w.at('00:00')) expected.push(localTimestampText(s, 'UTC').slice(11, 16));
    }
    expect(expected.slice(0, 3)).toEqual(['00:15', '01:00', '01:45']);
    /** Slots on D from a query that starts on D−4, before the working range. */
    const fromWideQuery = async () => {
      const { rows } = await db().as(anon, (q) =>
        slotsIn(q, { tenantId: w.tenant.id, serviceId: w.service.id, from: w.at('00:00', addDays(D, -4)), to: w.at('24:00') }),
      );
      return rows.filter((r) => r.localStartsAt.startsWith(D));
    };
    return { w, expected, fromWideQuery };
  }

  it('a working range spanning several days keeps one grid anchored at its start, whatever the query range', async () => {
    const { w, expected, fromWideQuery } = await multiDayRange();
    expect((await fromWideQuery()).map((r) => r.localStartsAt.slice(11, 16))).toEqual(expected);
    expect(await w.times()).toEqual(expected); // queried for day D alone
  });

  it('a slot listed on a working range spanning several days can be booked by staff', async () => {
    const { w, fromWideQuery } = await multiDayRange();
    const [first] = await fromWideQuery();
    expect(first).toBeDefined();
    const receipt = await bookAs(w.tenant.owner, w.tenant.id, w.service.id, first!.startsAt, w.provider.id, w.location.id);
    expect(new Date(receipt.starts_at).getTime()).toBe(first!.startsAt);
  });

  it('a working range longer than a week keeps its own grid for 7 days, then the epoch-aligned grid', async () => {
    // One range [D0 10:00, D0+9 00:00) (UTC): all day every day from D0, D0 itself from 10:00, D0+9 closed.
    // 45-minute steps from D0 10:00 up to D0+7 10:00 (7 days after the start); after that, the grid
    // of 45-minute multiples since the Unix epoch (which meets every UTC midnight): 10:30, 11:15.
    const w = await oneProvider({ durationMinutes: 45 }, [['00:00', '24:00']], { daily: true });
    const D0 = w.day;
    await w.q.query('update slotbase.availability_rules set valid_from = $2 where tenant_id = $1', [w.tenant.id, D0]);
    await w.q.query(
      `insert into slotbase.date_overrides (tenant_id, provider_id, location_id, date, start_time, end_time)
       values ($1, $2, $3, $4, '10:00', '24:00'), ($1, $2, $3, $5, null, null)`,
      [w.tenant.id, w.provider.id, w.location.id, D0, addDays(D0, 9)],
    );
    const from = w.at('08:30', addDays(D0, 7));
    const to = w.at('12:00', addDays(D0, 7));
    const { rows } = await db().as(anon, (q) => slotsIn(q, { tenantId: w.tenant.id, serviceId: w.service.id, from, to }));
    expect(rows.map((r) => r.localStartsAt.slice(11, 16))).toEqual(['08:30', '09:15', '10:00', '10:30', '11:15']);
  });

  it('adjacent windows of one day merge into one range (one grid across the join)', async () => {
    const w = await oneProvider({ durationMinutes: 60 }, [['09:00', '10:30'], ['10:30', '12:00']]);
    expect(await w.times()).toEqual(['09:00', '10:00', '11:00']);
  });

  it('a required resource with hours limits slots to its hours; a booking claims it for every provider', async () => {
    const w = await oneProvider({ durationMinutes: 60 }, [['09:00', '13:00']]);
    const p2 = await createProvider(w.q, w.tenant.id, { locationId: w.location.id });
    await linkProvider(w.q, w.tenant.id, w.service.id, p2.id);
    await addRule(w.q, w.tenant.id, { providerId: p2.id }, w.location.id, isoWeekday(w.day), '09:00', '13:00');
    const room = await createResource(w.q, w.tenant.id, w.location.id);
    await linkResource(w.q, w.tenant.id, w.service.id, room.id);
    await addRule(w.q, w.tenant.id, { resourceId: room.id }, w.location.id, isoWeekday(w.day), '10:00', '13:00');
    expect(await w.times()).toEqual(['10:00', '10:00', '11:00', '11:00', '12:00', '12:00']);
    await w.book('11:00');
    expect(await w.times()).toEqual(['10:00', '10:00', '12:00', '12:00']);
  });
});
