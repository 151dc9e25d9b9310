import { describe, expect, it } from 'vitest';
import { anon, expectSqlState, useTestDb, type Principal, type Queryable, type TestDb } from '../support/db.ts';
import { addDailyRules, createLocation, createProvider, createService, createTenant, linkProvider, type Member } from '../support/factories.ts';

/**
 * Recurring series (20261124110000_booking_series.sql): create_booking_series books each
 * occurrence through create_booking; all_or_nothing writes nothing on any conflict, partial books
 * what is free and names exactly the dates that were not; local wall-clock time survives DST;
 * cancel and move "this and following"; bad rules are refused before anything is written.
 */

const TZ = 'Europe/Berlin';

interface Clinic {
  tenantId: string;
  owner: Member;
  locationId: string;
  providerId: string;
  serviceId: string;
}

async function createClinic(db: Queryable): Promise<Clinic> {
  const tenant = await createTenant(db, { timeZone: TZ });
  const location = await createLocation(db, tenant.id, { timeZone: TZ });
  const svc = await createService(db, tenant.id, { maxAdvanceDays: 730, durationMinutes: 30 });
  const p = await createProvider(db, tenant.id, { locationId: location.id });
  await linkProvider(db, tenant.id, svc.id, p.id);
  await addDailyRules(db, tenant.id, { providerId: p.id }, location.id, '00:00', '24:00');
  return { tenantId: tenant.id, owner: tenant.owner, locationId: location.id, providerId: p.id, serviceId: svc.id };
}

/** The instant of local `hhmm` in Berlin on a local date (YYYY-MM-DD). */
async function localAt(db: Queryable, date: string, hhmm: string): Promise<Date> {
  const [row] = await db.query<{ t: Date }>(`select ($1::date + $2::time) at time zone $3 as t`, [date, hhmm, TZ]);
  return row!.t;
}

/** A local date `days` days from today (Berlin), as YYYY-MM-DD. */
async function dayFromNow(db: Queryable, days: number, isodow?: number): Promise<string> {
  const [row] = await db.query<{ d: string }>(
    `select to_char(d + ((coalesce($2::int, extract(isodow from d)::int) - extract(isodow from d)::int + 7) % 7), 'YYYY-MM-DD') as d
     from (select (now() at time zone $3)::date + $1::int as d) as x`,
    [days, isodow ?? null, TZ],
  );
  return row!.d;
}

interface SeriesResult {
  id: string;
  code: string;
  manage_token: string | null;
  mode: string;
  time_zone: string;
  occurrences: { booking_id: string; code: string; manage_token: string | null; status: string; starts_at: string; local_starts_at: string }[];
  conflicts: { occurrence: number; starts_at: string; local_starts_at: string; sqlstate: string }[];
}

const CREATE = `select slotbase.create_booking_series(
  p_tenant_id => $1, p_service_id => $2, p_starts_at => $3, p_rrule => $4, p_mode => coalesce($5, 'all_or_nothing'),
  p_contact_name => 'Ada Guest', p_contact_email => $6, p_idempotency_key => $7, p_location_id => $8) as r`;

async function createSeries(
  db: TestDb,
  who: Principal,
  c: Clinic,
  a: { startsAt: Date; rrule: string; mode?: 'all_or_nothing' | 'partial'; email?: string; key?: string; locationId?: string | null },
): Promise<SeriesResult> {
  const [row] = await db.queryAs<{ r: SeriesResult }>(who, CREATE, [
    c.tenantId, c.serviceId, a.startsAt, a.rrule, a.mode ?? null, a.email ?? 'ada@example.test', a.key ?? null,
    a.locationId === undefined ? c.locationId : a.locationId,
  ]);
  return row!.r;
}

async function bookOne(db: TestDb, c: Clinic, startsAt: Date, email = 'blocker@example.test'): Promise<string> {
  const [r] = await db.queryAs<{ id: string }>(
    anon,
    `select id from slotbase.create_booking(p_tenant_id => $1, p_service_id => $2, p_starts_at => $3, p_contact_name => 'Blocker', p_contact_email => $4)`,
    [c.tenantId, c.serviceId, startsAt, email],
  );
  return r!.id;
}

/** What the owner sees: the tenant's bookings (status, start) and series rows. */
async function written(db: TestDb, c: Clinic): Promise<{ bookings: number; series: number }> {
  const [b] = await db.queryAs<{ n: number }>(c.owner, `select count(*)::int as n from slotbase.bookings where tenant_id = $1`, [c.tenantId]);
  const [s] = await db.queryAs<{ n: number }>(c.owner, `select count(*)::int as n from slotbase.booking_series where tenant_id = $1`, [c.tenantId]);
  return { bookings: b!.n, series: s!.n };
}

/** Last Sunday of a month (1-based) of a year, as YYYY-MM-DD: the EU's DST change days. */
function lastSunday(year: number, month: number): string {
  const last = new Date(Date.UTC(year, month, 0));
  last.setUTCDate(last.getUTCDate() - last.getUTCDay());
  return last.toISOString().slice(0, 10);
}

describe('recurring series', () => {
  const db = useTestDb();

  /** Adds a question to the clinic's service (as its owner); returns its id. */
  async function question(c: Clinic, fields: Record<string, unknown>): Promise<string> {
    const cols = ['tenant_id', 'service_id', ...Object.keys(fields)];
    const [row] = await db().queryAs<{ id: string }>(
      c.owner,
      `insert into slotbase.service_questions (${cols.join(', ')}) values (${cols.map((_, i) => `$${i + 1}`).join(', ')}) returning id`,
      [c.tenantId, c.serviceId, ...Object.values(fields)],
    );
    return row!.id;
  }

  const WITH_ANSWERS = `select slotbase.create_booking_series(
    p_tenant_id => $1, p_service_id => $2, p_starts_at => $3, p_rrule => 'FREQ=WEEKLY;COUNT=3', p_mode => $4,
    p_contact_name => 'Ada Guest', p_contact_email => 'ada@example.test', p_location_id => $5,
    p_answers => $6::text::jsonb, p_idempotency_key => $7) as r`;

  it('answers given once are stored with every occurrence of the series', async () => {
    const c = await createClinic(db());
    const insurer = await question(c, { kind: 'single_choice', label: 'Insurance', options: ['Public', 'Private'], is_required: true });
    const first = await localAt(db(), await dayFromNow(db(), 3, 2), '09:00');
    const [row] = await db().queryAs<{ r: SeriesResult }>(anon, WITH_ANSWERS, [
      c.tenantId, c.serviceId, first, 'partial', c.locationId, JSON.stringify({ [insurer]: 'Private' }), null,
    ]);
    expect(row!.r.occurrences).toHaveLength(3);
    const answers = await db().queryAs<{ answers: { question_id: string; value: unknown }[] }>(
      c.owner, 'select answers from slotbase.bookings where series_id = $1', [row!.r.id]);
    expect(answers.map((a) => a.answers)).toEqual(Array(3).fill([{ question_id: insurer, label: 'Insurance', kind: 'single_choice', value: 'Private' }]));
  });

  it('a missing or invalid answer fails the whole series with SBANS in both modes (not a conflict per date), nothing written', async () => {
    const c = await createClinic(db());
    const insurer = await question(c, { kind: 'single_choice', label: 'Insurance', options: ['Public', 'Private'], is_required: true });
    const first = await localAt(db(), await dayFromNow(db(), 3, 2), '10:00');
    const before = await written(db(), c);
    for (const mode of ['all_or_nothing', 'partial']) {
      for (const answers of [null, { [insurer]: 'Gold' }]) {
        const e = (await expectSqlState(
          db().queryAs(anon, WITH_ANSWERS, [c.tenantId, c.serviceId, first, mode, c.locationId, answers && JSON.stringify(answers), null]),
          'SBANS',
        )) as { hint?: string };
        expect(e.hint, `${mode} ${JSON.stringify(answers)}`).toBe(`answers.${insurer}`);
      }
    }
    expect(await written(db(), c)).toEqual(before);
    // Staff booking on a customer's behalf may leave the required answer out, as for one booking.
    const [staff] = await db().queryAs<{ r: SeriesResult }>(
      c.owner,
      `select slotbase.create_booking_series(p_tenant_id => $1, p_service_id => $2, p_starts_at => $3, p_rrule => 'FREQ=WEEKLY;COUNT=2',
         p_contact_name => 'Walk In', p_location_id => $4, p_on_behalf => true) as r`,
      [c.tenantId, c.serviceId, first, c.locationId],
    );
    expect(staff!.r.occurrences).toHaveLength(2);
  });

  it('an idempotent replay of a series with other answers is SBIDM', async () => {
    const c = await createClinic(db());
    const insurer = await question(c, { kind: 'single_choice', label: 'Insurance', options: ['Public', 'Private'] });
    const first = await localAt(db(), await dayFromNow(db(), 3, 2), '11:00');
    const args = (v: string) => [c.tenantId, c.serviceId, first, 'all_or_nothing', c.locationId, JSON.stringify({ [insurer]: v }), 'series-key'];
    const [a] = await db().queryAs<{ r: SeriesResult }>(anon, WITH_ANSWERS, args('Public'));
    const [again] = await db().queryAs<{ r: SeriesResult }>(anon, WITH_ANSWERS, args('Public'));
    expect(again!.r.id).toBe(a!.r.id);
    await expectSqlState(db().queryAs(anon, WITH_ANSWERS, args('Private')), 'SBIDM');
  });

  it('a weekly series books every occurrence as a booking of the series, at the same local time', async () => {
    const c = await createClinic(db());
    const first = await localAt(db(), await dayFromNow(db(), 3, 2), '09:00');
    const s = await createSeries(db(), anon, c, { startsAt: first, rrule: 'FREQ=WEEKLY;COUNT=4' });
    expect(s.code).toMatch(/^SR-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{7}$/);
    expect(s.manage_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(s.conflicts).toEqual([]);
    expect(s.occurrences.map((o) => o.status)).toEqual(['confirmed', 'confirmed', 'confirmed', 'confirmed']);
    expect(new Set(s.occurrences.map((o) => o.local_starts_at.slice(11)))).toEqual(new Set(['09:00:00']));
    const days = s.occurrences.map((o) => Date.parse(`${o.local_starts_at.slice(0, 10)}T00:00:00Z`) / 86_400_000);
    expect(days.slice(1).map((d, i) => d - days[i]!)).toEqual([7, 7, 7]);
    const rows = await db().queryAs<{ series_id: string }>(c.owner, 'select series_id from slotbase.bookings where tenant_id = $1', [c.tenantId]);
    expect(rows.map((r) => r.series_id)).toEqual([s.id, s.id, s.id, s.id]);
  });

  it('biweekly on two weekdays and monthly on the 31st (months without one are skipped) yield the right dates', async () => {
    const c = await createClinic(db());
    const monday = await dayFromNow(db(), 3, 1);
    const weekly = await createSeries(db(), anon, c, { startsAt: await localAt(db(), monday, '10:00'), rrule: 'RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;COUNT=4' });
    const offsets = weekly.occurrences.map((o) => (Date.parse(`${o.local_starts_at.slice(0, 10)}T00:00:00Z`) - Date.parse(`${monday}T00:00:00Z`)) / 86_400_000);
    expect(offsets).toEqual([0, 3, 14, 17]);
    // The next 31st, then monthly: every date is a 31st.
    const [row] = await db().query<{ d: string }>(
      `select to_char(min(d), 'YYYY-MM-DD') as d from generate_series((now() at time zone $1)::date + 2, (now() at time zone $1)::date + 70, interval '1 day') as d
       where extract(day from d) = 31`,
      [TZ],
    );
    const monthly = await createSeries(db(), anon, c, { startsAt: await localAt(db(), row!.d, '11:00'), rrule: 'FREQ=MONTHLY;BYMONTHDAY=31;COUNT=3' });
    expect(monthly.occurrences.map((o) => o.local_starts_at.slice(8, 10))).toEqual(['31', '31', '31']);
    const months = monthly.occurrences.map((o) => Number(o.local_starts_at.slice(5, 7)));
    expect(months.every((m) => [1, 3, 5, 7, 8, 10, 12].includes(m))).toBe(true);
  });

  it('all_or_nothing: one taken date fails the whole series with that date and its code, and writes nothing', async () => {
    const c = await createClinic(db());
    const day = await dayFromNow(db(), 3, 3);
    const first = await localAt(db(), day, '09:00');
    const third = new Date(first.getTime() + 14 * 86_400_000);
    await bookOne(db(), c, third);
    const before = await written(db(), c);
    const error = (await expectSqlState(createSeries(db(), anon, c, { startsAt: first, rrule: 'FREQ=WEEKLY;COUNT=4' }), 'SBSRC')) as unknown as { detail: string };
    const conflicts = JSON.parse(error.detail) as SeriesResult['conflicts'];
    expect(conflicts.map((x) => [x.occurrence, x.sqlstate])).toEqual([[3, expect.stringMatching(/^(SBTAK|23P01)$/)]]);
    expect(new Date(conflicts[0]!.starts_at).getTime()).toBe(third.getTime());
    expect(await written(db(), c)).toEqual(before);
  });

  it('partial: books what is free and reports exactly the conflicting dates, each with its reason', async () => {
    const c = await createClinic(db());
    const first = await localAt(db(), await dayFromNow(db(), 3, 4), '14:00');
    const week = (n: number) => new Date(first.getTime() + n * 7 * 86_400_000);
    await bookOne(db(), c, week(1));
    await bookOne(db(), c, week(3));
    const s = await createSeries(db(), anon, c, { startsAt: first, rrule: 'FREQ=WEEKLY;COUNT=5', mode: 'partial' });
    expect(s.occurrences.map((o) => new Date(o.starts_at).getTime())).toEqual([week(0), week(2), week(4)].map((d) => d.getTime()));
    expect(s.conflicts.map((x) => [x.occurrence, new Date(x.starts_at).getTime()])).toEqual([
      [2, week(1).getTime()],
      [4, week(3).getTime()],
    ]);
    for (const x of s.conflicts) expect(['SBTAK', '23P01']).toContain(x.sqlstate);
    // A date beyond the booking horizon is a conflict with its own code.
    const far = await createSeries(db(), anon, c, { startsAt: await localAt(db(), await dayFromNow(db(), 700), '08:00'), rrule: 'FREQ=MONTHLY;COUNT=3', mode: 'partial' });
    expect(far.occurrences).toHaveLength(1);
    expect(far.conflicts.map((x) => [x.occurrence, x.sqlstate])).toEqual([[2, 'SBEAR'], [3, 'SBEAR']]);
  });

  it('partial with nothing free fails like all_or_nothing (SBSRC) and writes nothing', async () => {
    const c = await createClinic(db());
    const first = await localAt(db(), await dayFromNow(db(), 3), '16:00');
    await bookOne(db(), c, first);
    const before = await written(db(), c);
    await expectSqlState(createSeries(db(), anon, c, { startsAt: first, rrule: 'FREQ=WEEKLY;COUNT=1', mode: 'partial' }), 'SBSRC');
    expect(await written(db(), c)).toEqual(before);
  });

  it.each([
    ['March', 3],
    ['October', 10],
  ])('a weekly series across the %s DST change in Berlin keeps 09:00 local (the UTC time moves)', async (_name, month) => {
    const c = await createClinic(db());
    const year = new Date().getUTCFullYear() + 1;
    const change = lastSunday(year, month);
    const startDay = new Date(Date.parse(`${change}T00:00:00Z`) - 13 * 86_400_000).toISOString().slice(0, 10); // the Monday two weeks before
    const s = await createSeries(db(), anon, c, { startsAt: await localAt(db(), startDay, '09:00'), rrule: 'FREQ=WEEKLY;COUNT=4' });
    expect(s.occurrences.map((o) => o.local_starts_at.slice(11))).toEqual(['09:00:00', '09:00:00', '09:00:00', '09:00:00']);
    const utcHours = s.occurrences.map((o) => new Date(o.starts_at).getUTCHours());
    // Berlin is UTC+1 in winter and UTC+2 in summer.
    expect(utcHours).toEqual(month === 3 ? [8, 8, 7, 7] : [7, 7, 8, 8]);
    const spans = s.occurrences.slice(1).map((o, i) => (Date.parse(o.starts_at) - Date.parse(s.occurrences[i]!.starts_at)) / 3_600_000);
    expect(spans).toEqual(month === 3 ? [168, 167, 168] : [168, 169, 168]);
  });

  it('the series token cancels this and the following dates; the earlier ones stay', async () => {
    const c = await createClinic(db());
    const s = await createSeries(db(), anon, c, { startsAt: await localAt(db(), await dayFromNow(db(), 3), '12:00'), rrule: 'FREQ=WEEKLY;COUNT=4' });
    const [row] = await db().queryAs<{ r: SeriesResult }>(anon, 'select slotbase.cancel_booking_series($1, $2, p_manage_token => $3) as r', [
      s.id, s.occurrences[1]!.booking_id, s.manage_token,
    ]);
    expect(row!.r.occurrences.map((o) => o.status)).toEqual(['confirmed', 'cancelled', 'cancelled', 'cancelled']);
    // Without the token (or with a wrong one) a guest reaches nothing.
    await expectSqlState(db().queryAs(anon, 'select slotbase.cancel_booking_series($1, p_manage_token => $2)', [s.id, 'wrong-token']), 'SBNF1');
    // Staff cancel the rest of the series.
    const [rest] = await db().queryAs<{ r: SeriesResult }>(c.owner, 'select slotbase.cancel_booking_series($1) as r', [s.id]);
    expect(rest!.r.occurrences.map((o) => o.status)).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled']);
    expect(rest!.r.occurrences[0]!.manage_token).toBeNull();
  });

  it('moving the rest shifts every later date by the same local delta; one conflict moves nothing', async () => {
    const c = await createClinic(db());
    const first = await localAt(db(), await dayFromNow(db(), 3, 2), '09:00');
    const s = await createSeries(db(), anon, c, { startsAt: first, rrule: 'FREQ=WEEKLY;COUNT=4' });
    const second = s.occurrences[1]!;
    // Tuesday 09:00 → Wednesday 10:00 from the second date on.
    const target = new Date(Date.parse(second.starts_at) + 25 * 3_600_000);
    const [row] = await db().queryAs<{ r: SeriesResult }>(anon, 'select slotbase.reschedule_booking_series($1, $2, $3, $4) as r', [
      s.id, second.booking_id, target, s.manage_token,
    ]);
    const moved = row!.r.occurrences;
    expect(moved.map((o) => o.local_starts_at.slice(11))).toEqual(['09:00:00', '10:00:00', '10:00:00', '10:00:00']);
    expect(moved.map((o) => o.booking_id)).toEqual(s.occurrences.map((o) => o.booking_id));
    // Another week back would land the last date on a taken time: nothing moves.
    const blocked = new Date(Date.parse(moved[3]!.starts_at) - 7 * 86_400_000 + 60 * 60_000);
    await bookOne(db(), c, blocked);
    const error = (await expectSqlState(
      db().queryAs(c.owner, 'select slotbase.reschedule_booking_series($1, $2, $3)', [s.id, moved[1]!.booking_id, new Date(Date.parse(moved[1]!.starts_at) + 3_600_000)]),
      'SBSRC',
    )) as unknown as { detail: string };
    expect((JSON.parse(error.detail) as { booking_id: string }[]).map((x) => x.booking_id)).toEqual([moved[2]!.booking_id]);
    const [after] = await db().queryAs<{ r: SeriesResult }>(c.owner, 'select slotbase.get_booking_series($1) as r', [s.id]);
    expect(after!.r.occurrences.map((o) => o.starts_at)).toEqual(moved.map((o) => o.starts_at));
  });

  it.each([
    ['FREQ=DAILY;COUNT=3', 'SBRRL'],
    ['FREQ=WEEKLY', 'SBRRL'],
    ['FREQ=WEEKLY;COUNT=3;UNTIL=20991231', 'SBRRL'],
    ['FREQ=WEEKLY;INTERVAL=3;COUNT=3', 'SBRRL'],
    ['FREQ=WEEKLY;BYDAY=XX;COUNT=3', 'SBRRL'],
    ['FREQ=WEEKLY;COUNT=3;COUNT=4', 'SBRRL'],
    ['FREQ=WEEKLY;UNTIL=20990231', 'SBRRL'],
    ['FREQ=WEEKLY;UNTIL=20000101', 'SBRRL'],
    ['FREQ=MONTHLY;BYDAY=MO;COUNT=2', 'SBRRL'],
    ['FREQ=WEEKLY;COUNT=3;WKST=MO', 'SBRRL'],
    ['garbage', 'SBRRL'],
    ['', 'SBRRL'],
    ['FREQ=WEEKLY;COUNT=53', 'SBRMX'],
    ['FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;UNTIL=20991231', 'SBRMX'],
  ])('the rule %s is refused with %s and nothing is written', async (rrule, code) => {
    const c = await createClinic(db());
    const monday = await localAt(db(), await dayFromNow(db(), 3, 1), '09:00');
    await expectSqlState(createSeries(db(), anon, c, { startsAt: monday, rrule }), code);
    expect(await written(db(), c)).toEqual({ bookings: 0, series: 0 });
  });

  it('a first start that does not match BYDAY, a bad mode, or a guest without contact is refused', async () => {
    const c = await createClinic(db());
    const monday = await localAt(db(), await dayFromNow(db(), 3, 1), '09:00');
    await expectSqlState(createSeries(db(), anon, c, { startsAt: monday, rrule: 'FREQ=WEEKLY;BYDAY=TU;COUNT=2' }), 'SBRRL');
    await expectSqlState(
      db().queryAs(anon, `select slotbase.create_booking_series(p_tenant_id => $1, p_service_id => $2, p_starts_at => $3, p_rrule => 'FREQ=WEEKLY;COUNT=2', p_mode => 'some', p_contact_name => 'A', p_contact_email => 'a@example.test')`, [c.tenantId, c.serviceId, monday]),
      'SBVAL',
    );
    await expectSqlState(
      db().queryAs(anon, `select slotbase.create_booking_series(p_tenant_id => $1, p_service_id => $2, p_starts_at => $3, p_rrule => 'FREQ=WEEKLY;COUNT=2', p_contact_name => 'A')`, [c.tenantId, c.serviceId, monday]),
      'SBVAL',
    );
    expect(await written(db(), c)).toEqual({ bookings: 0, series: 0 });
  });

  it('the same idempotency key replays the series; reused for another request it conflicts', async () => {
    const c = await createClinic(db());
    const start = await localAt(db(), await dayFromNow(db(), 5), '13:00');
    const a = await createSeries(db(), anon, c, { startsAt: start, rrule: 'FREQ=WEEKLY;COUNT=2', key: 'series-key-1' });
    const b = await createSeries(db(), anon, c, { startsAt: start, rrule: 'FREQ=WEEKLY;COUNT=2', key: 'series-key-1' });
    expect(b.id).toBe(a.id);
    expect(b.occurrences.map((o) => o.booking_id)).toEqual(a.occurrences.map((o) => o.booking_id));
    await expectSqlState(createSeries(db(), anon, c, { startsAt: start, rrule: 'FREQ=WEEKLY;COUNT=3', key: 'series-key-1' }), 'SBIDM');
    expect(await written(db(), c)).toEqual({ bookings: 2, series: 1 });
  });

  it('a series is invisible to another tenant, and a guest finds it only with code and token', async () => {
    const c = await createClinic(db());
    const other = await createClinic(db());
    const s = await createSeries(db(), anon, c, { startsAt: await localAt(db(), await dayFromNow(db(), 4), '15:00'), rrule: 'FREQ=WEEKLY;COUNT=2' });
    expect(await db().queryAs(other.owner, 'select id from slotbase.booking_series where id = $1', [s.id])).toEqual([]);
    await expectSqlState(db().queryAs(other.owner, 'select slotbase.get_booking_series($1)', [s.id]), 'SBNF1');
    await expectSqlState(db().queryAs(other.owner, 'select slotbase.cancel_booking_series($1)', [s.id]), 'SBNF1');
    await expectSqlState(db().queryAs(c.owner, 'select manage_token_hash from slotbase.booking_series where id = $1', [s.id]), '42501');
    const [found] = await db().queryAs<{ r: SeriesResult }>(anon, 'select slotbase.find_booking_series($1, $2) as r', [s.code.toLowerCase(), s.manage_token]);
    expect(found!.r.id).toBe(s.id);
    await expectSqlState(db().queryAs(anon, 'select slotbase.find_booking_series($1, $2)', [s.code, s.occurrences[0]!.manage_token]), 'SBNF1');
  });
});
