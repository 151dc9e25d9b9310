import { beforeAll, describe, expect, it } from 'vitest';
import { anon, expectSqlState, useTestDb, type Principal } from '../support/db.ts';
import {
  addDailyRules,
  addMember,
  createLocation,
  createProvider,
  createService,
  createTenant,
  linkProvider,
  type Member,
} from '../support/factories.ts';

const TZ = 'Europe/Berlin';

interface Clinic {
  tenantId: string;
  owner: Member;
  receptionist: Member;
  serviceId: string;
  plainServiceId: string;
  q: { reason: string; insurer: string; topics: string; consent: string; pet: string };
}

const BOOK = `select id from slotbase.create_booking(
  p_tenant_id => $1, p_service_id => $2, p_starts_at => $3, p_contact_name => 'Guest',
  p_contact_email => 'guest@example.test', p_on_behalf => $4, p_answers => $5::text::jsonb, p_idempotency_key => $6)`;

describe('booking questions', () => {
  const db = useTestDb();
  let c: Clinic;
  let hour = 0;

  async function nextSlot(): Promise<Date> {
    hour += 1;
    const [row] = await db().query<{ t: Date }>(`select date_trunc('hour', now()) + make_interval(days => 3, hours => $1) as t`, [hour]);
    return row!.t;
  }

  /** Books as `who` with `answers` as create_booking's p_answers (one call, as any client makes it). */
  async function book(who: Principal, answers: unknown, o: { serviceId?: string; onBehalf?: boolean; at?: Date; key?: string } = {}) {
    const at = o.at ?? (await nextSlot());
    const [r] = await db().queryAs<{ id: string }>(who, BOOK, [
      c.tenantId, o.serviceId ?? c.serviceId, at, o.onBehalf ?? false, answers === undefined ? null : JSON.stringify(answers), o.key ?? null,
    ]);
    return r!.id;
  }

  async function answersOf(id: string): Promise<{ question_id: string; label: string; kind: string; value: unknown }[]> {
    const [row] = await db().queryAs<{ answers: never }>(c.owner, 'select answers from slotbase.bookings where id = $1', [id]);
    return row!.answers;
  }

  async function question(by: Principal, fields: Record<string, unknown>, serviceId?: string): Promise<string> {
    const cols = ['tenant_id', 'service_id', ...Object.keys(fields)];
    const values = [c.tenantId, serviceId ?? c.serviceId, ...Object.values(fields)];
    const [row] = await db().queryAs<{ id: string }>(
      by,
      `insert into slotbase.service_questions (${cols.join(', ')}) values (${cols.map((_, i) => `$${i + 1}`).join(', ')}) returning id`,
      values,
    );
    return row!.id;
  }

  async function countBookings(): Promise<number> {
    const [row] = await db().queryAs<{ n: number }>(c.owner, 'select count(*)::int as n from slotbase.bookings where tenant_id = $1', [c.tenantId]);
    return row!.n;
  }

  beforeAll(async () => {
    const tenant = await createTenant(db(), { timeZone: TZ });
    const location = await createLocation(db(), tenant.id, { timeZone: TZ });
    const provider = await createProvider(db(), tenant.id, { locationId: location.id });
    const service = await createService(db(), tenant.id, { durationMinutes: 60, maxAdvanceDays: 60 });
    const plain = await createService(db(), tenant.id, { durationMinutes: 60, maxAdvanceDays: 60 });
    await linkProvider(db(), tenant.id, service.id, provider.id);
    await linkProvider(db(), tenant.id, plain.id, provider.id);
    await addDailyRules(db(), tenant.id, { providerId: provider.id }, location.id, '00:00', '24:00');
    c = {
      tenantId: tenant.id,
      owner: tenant.owner,
      receptionist: await addMember(db(), tenant.id, 'receptionist'),
      serviceId: service.id,
      plainServiceId: plain.id,
      q: {} as Clinic['q'],
    };
    c.q.reason = await question(c.owner, { position: 1, kind: 'text', label: ' Reason for the visit ', max_length: 20, is_required: true, help_text: 'A few words' });
    c.q.insurer = await question(c.owner, { position: 2, kind: 'single_choice', label: 'Insurance', options: ['Public', 'Private', 'None'], is_required: true });
    c.q.topics = await question(c.owner, { position: 3, kind: 'multiple_choice', label: 'Topics', options: ['Teeth', 'Gums', 'Braces'] });
    c.q.consent = await question(c.owner, { position: 4, kind: 'checkbox', label: 'I accept the terms', is_required: true });
    c.q.pet = await question(c.owner, { position: 5, kind: 'checkbox', label: 'Bringing a pet' });
  });

  const valid = () => ({ [c.q.reason]: '  Toothache ', [c.q.insurer]: 'Private', [c.q.topics]: ['Braces', 'Teeth'], [c.q.consent]: true });

  it('a guest booking stores the answers normalized, in the service\'s order, with the question as asked', async () => {
    const id = await book(anon, valid());
    expect(await answersOf(id)).toEqual([
      { question_id: c.q.reason, label: 'Reason for the visit', kind: 'text', value: 'Toothache' },
      { question_id: c.q.insurer, label: 'Insurance', kind: 'single_choice', value: 'Private' },
      { question_id: c.q.topics, label: 'Topics', kind: 'multiple_choice', value: ['Teeth', 'Braces'] },
      { question_id: c.q.consent, label: 'I accept the terms', kind: 'checkbox', value: true },
    ]);
  });

  it('renaming or deleting a question later does not change what a booking says', async () => {
    const extra = await question(c.owner, { position: 9, kind: 'text', label: 'Anything else', max_length: 50 });
    const id = await book(anon, { ...valid(), [extra]: 'No' });
    await db().queryAs(c.owner, `update slotbase.service_questions set label = 'Renamed' where id = $1`, [c.q.reason]);
    await db().queryAs(c.owner, 'delete from slotbase.service_questions where id = $1', [extra]);
    const answers = await answersOf(id);
    expect(answers.find((a) => a.question_id === c.q.reason)?.label).toBe('Reason for the visit');
    expect(answers.find((a) => a.question_id === extra)?.value).toBe('No');
    await db().queryAs(c.owner, `update slotbase.service_questions set label = 'Reason for the visit' where id = $1`, [c.q.reason]);
  });

  it('a guest who leaves out a required answer cannot book, even by direct SQL without p_answers (SBANS, hint names the question)', async () => {
    const before = await countBookings();
    const { [c.q.insurer]: _insurer, ...withoutInsurer } = valid();
    const e1 = (await expectSqlState(book(anon, withoutInsurer), 'SBANS')) as { hint?: string };
    expect(e1.hint).toBe(`answers.${c.q.insurer}`);
    const e2 = (await expectSqlState(book(anon, undefined), 'SBANS')) as { hint?: string };
    expect(e2.hint).toBe(`answers.${c.q.reason}`);
    // Blank text counts as no answer; a required checkbox must be ticked.
    await expectSqlState(book(anon, { ...valid(), [c.q.reason]: '   ' }), 'SBANS');
    const e3 = (await expectSqlState(book(anon, { ...valid(), [c.q.consent]: false }), 'SBANS')) as { hint?: string };
    expect(e3.hint).toBe(`answers.${c.q.consent}`);
    expect(await countBookings()).toBe(before);
  });

  it('answers of the wrong kind, too long, not a choice, repeated or for another question are refused and nothing is written', async () => {
    const before = await countBookings();
    const cases: [unknown, string][] = [
      [{ ...valid(), [c.q.reason]: 'x'.repeat(21) }, c.q.reason],
      [{ ...valid(), [c.q.reason]: 42 }, c.q.reason],
      [{ ...valid(), [c.q.insurer]: 'Gold' }, c.q.insurer],
      [{ ...valid(), [c.q.insurer]: ['Private'] }, c.q.insurer],
      [{ ...valid(), [c.q.topics]: ['Teeth', 'Nails'] }, c.q.topics],
      [{ ...valid(), [c.q.topics]: ['Teeth', 'Teeth'] }, c.q.topics],
      [{ ...valid(), [c.q.topics]: 'Teeth' }, c.q.topics],
      [{ ...valid(), [c.q.pet]: 'yes' }, c.q.pet],
      [{ ...valid(), '00000000-0000-4000-8000-000000000000': 'hello' }, '00000000-0000-4000-8000-000000000000'],
    ];
    for (const [answers, field] of cases) {
      const e = (await expectSqlState(book(anon, answers), 'SBANS')) as { hint?: string };
      expect(e.hint, JSON.stringify(answers)).toBe(`answers.${field}`);
    }
    await expectSqlState(book(anon, ['not', 'an', 'object']), 'SBANS');
    await expectSqlState(book(anon, valid(), { serviceId: c.plainServiceId }), 'SBANS');
    expect(await countBookings()).toBe(before);
  });

  it('a question of another service is not a question of this one', async () => {
    const other = await question(c.owner, { kind: 'checkbox', label: 'Other service' }, c.plainServiceId);
    await expectSqlState(book(anon, { ...valid(), [other]: true }), 'SBANS');
    await db().queryAs(c.owner, 'delete from slotbase.service_questions where id = $1', [other]);
  });

  it('staff booking on a customer\'s behalf may leave required questions out, but what they give is checked', async () => {
    const id = await book(c.receptionist, { [c.q.insurer]: 'None' }, { onBehalf: true });
    expect((await answersOf(id)).map((a) => a.value)).toEqual(['None']);
    await expectSqlState(book(c.receptionist, { [c.q.insurer]: 'Gold' }, { onBehalf: true }), 'SBANS');
  });

  it('an idempotent replay with the same answers returns the booking; with other answers it is SBIDM', async () => {
    const at = await nextSlot();
    const key = `answers-${at.getTime()}`;
    const id = await book(anon, valid(), { at, key });
    expect(await book(anon, valid(), { at, key })).toBe(id);
    const before = await countBookings();
    await expectSqlState(book(anon, { ...valid(), [c.q.insurer]: 'Public' }, { at, key }), 'SBIDM');
    expect(await countBookings()).toBe(before);
    expect((await answersOf(id)).find((a) => a.question_id === c.q.insurer)?.value).toBe('Private');
  });

  it('each booking of one transaction takes only its own answers', async () => {
    const [a, b, plain] = [await nextSlot(), await nextSlot(), await nextSlot()];
    const ids = await db().as(anon, async (q) => {
      const one = await q.query<{ id: string }>(BOOK, [c.tenantId, c.serviceId, a, false, JSON.stringify(valid()), null]);
      const two = await q.query<{ id: string }>(BOOK, [c.tenantId, c.serviceId, b, false, JSON.stringify({ ...valid(), [c.q.insurer]: 'None' }), null]);
      const three = await q.query<{ id: string }>(BOOK, [c.tenantId, c.plainServiceId, plain, false, null, null]);
      return [one[0]!.id, two[0]!.id, three[0]!.id];
    });
    expect((await answersOf(ids[0]!)).find((x) => x.question_id === c.q.insurer)?.value).toBe('Private');
    expect((await answersOf(ids[1]!)).find((x) => x.question_id === c.q.insurer)?.value).toBe('None');
    expect(await answersOf(ids[2]!)).toEqual([]);
  });

  it('the old transaction-local way is gone: set_booking_answers does not exist', async () => {
    const [row] = await db().query<{ f: string | null }>(`select to_regprocedure('slotbase.set_booking_answers(jsonb)')::text as f`);
    expect(row!.f).toBeNull();
  });

  it('a service without questions books as before, with no answers', async () => {
    const id = await book(anon, undefined, { serviceId: c.plainServiceId });
    expect(await answersOf(id)).toEqual([]);
  });

  it('callers cannot write answers themselves: no update grant on bookings.answers', async () => {
    const id = await book(anon, valid());
    await expectSqlState(db().queryAs(c.owner, `update slotbase.bookings set answers = '[]' where id = $1`, [id]), '42501');
  });

  it('only tenant-wide owners and admins manage questions; the definition is checked (23514 / SBVAL)', async () => {
    await expectSqlState(question(c.receptionist, { kind: 'checkbox', label: 'Nope' }), '42501');
    await expectSqlState(question(c.owner, { kind: 'text', label: 'No max' }), '23514');
    await expectSqlState(question(c.owner, { kind: 'single_choice', label: 'No options' }), '23514');
    await expectSqlState(question(c.owner, { kind: 'checkbox', label: 'Options', options: ['a'] }), '23514');
    await expectSqlState(question(c.owner, { kind: 'dropdown', label: 'Kind' }), '23514');
    await expectSqlState(question(c.owner, { kind: 'single_choice', label: 'Twice', options: ['a', ' a'] }), 'SBVAL');
    await expectSqlState(question(c.owner, { kind: 'single_choice', label: 'Blank', options: ['a', ''] }), 'SBVAL');
  });

  it('the public list shows questions of public services only, to anyone', async () => {
    const hidden = await createService(db(), c.tenantId);
    await db().query('update slotbase.services set is_public = false where id = $1', [hidden.id]);
    await question(c.owner, { kind: 'checkbox', label: 'Hidden question' }, hidden.id);
    const rows = await db().queryAs<{ service_id: string; label: string }>(anon, 'select * from slotbase.public_service_questions($1)', [c.tenantId]);
    expect(rows.map((r) => r.label)).toEqual(['Reason for the visit', 'Insurance', 'Topics', 'I accept the terms', 'Bringing a pet']);
    expect(rows.every((r) => r.service_id === c.serviceId)).toBe(true);
  });

  it('members of another tenant see none of these questions', async () => {
    const other = await createTenant(db(), { timeZone: TZ });
    const rows = await db().queryAs(other.owner, 'select * from slotbase.service_questions');
    expect(rows).toEqual([]);
  });
});
