import { beforeAll, describe, expect, it } from 'vitest';
import { useApi } from '../support/http.ts';
import { createStaffWorld, utc, type StaffWorld } from '../support/staff-world.ts';

interface Question {
  id: string;
  service_id: string;
  position: number;
  kind: string;
  label: string;
  is_required: boolean;
  max_length: number | null;
  options: string[] | null;
}
interface Problem {
  code: string;
  errors?: { field: string; message: string; code?: string }[];
}

describe('booking questions over HTTP', () => {
  const api = useApi();
  let w: StaffWorld;
  let slug: string;
  let q: { reason: Question; insurer: Question; topics: Question; consent: Question };
  let day = 10;

  const base = () => `/v1/services/${w.serviceId}/questions`;
  const ask = async (body: Record<string, unknown>, token = w.tokens.owner) => api().json<Question>('POST', base(), { token, body });

  beforeAll(async () => {
    w = await createStaffWorld(api());
    const [t] = await api().db.query<{ slug: string }>('select slug from slotbase.tenants where id = $1', [w.tenantId]);
    slug = t!.slug;
    const reason = await ask({ kind: 'text', label: 'Reason for the visit', is_required: true, max_length: 40, help_text: 'A few words' });
    const insurer = await ask({ kind: 'single_choice', label: 'Insurance', options: ['Public', 'Private'], is_required: true });
    const topics = await ask({ kind: 'multiple_choice', label: 'Topics', options: ['Teeth', 'Gums', 'Braces'] });
    const consent = await ask({ kind: 'checkbox', label: 'I accept the policy', is_required: true });
    for (const r of [reason, insurer, topics, consent]) expect(r.status, JSON.stringify(r.body)).toBe(201);
    q = { reason: reason.body, insurer: insurer.body, topics: topics.body, consent: consent.body };
  });

  const answers = () => ({ [q.reason.id]: 'Toothache', [q.insurer.id]: 'Public', [q.topics.id]: ['Gums'], [q.consent.id]: true });
  const guestBooking = (extra: Record<string, unknown> = {}) => ({
    service_id: w.serviceId, location_id: w.locationA, starts_at: utc(day++, '10:00'), contact: { name: 'Ada Guest', email: 'ada@example.test' }, answers: answers(), ...extra,
  });

  it('staff add questions in order; the default position is after the last; text gets a default maximum length', async () => {
    const list = await api().json<{ data: Question[] }>('GET', base(), { token: w.tokens.viewer });
    expect(list.status).toBe(200);
    expect(list.body.data.map((x) => [x.label, x.position])).toEqual([
      ['Reason for the visit', 0], ['Insurance', 1], ['Topics', 2], ['I accept the policy', 3],
    ]);
    const extra = await ask({ kind: 'text', label: 'Anything else?' });
    expect(extra.body).toMatchObject({ position: 4, max_length: 500, is_required: false, options: null });
    const patched = await api().json<Question>('PATCH', `${base()}/${extra.body.id}`, { token: w.tokens.admin, body: { label: 'Anything else', max_length: 100 } });
    expect(patched).toMatchObject({ status: 200, body: { label: 'Anything else', max_length: 100 } });
    expect((await api().request('DELETE', `${base()}/${extra.body.id}`, { token: w.tokens.owner })).status).toBe(204);
    expect((await api().request('DELETE', `${base()}/${extra.body.id}`, { token: w.tokens.owner })).status).toBe(404);
  });

  it('receptionists and viewers may read but not change questions (403); a bad definition is 422 naming the field', async () => {
    expect((await ask({ kind: 'checkbox', label: 'No' }, w.tokens.receptionistA)).status).toBe(403);
    expect((await api().request('DELETE', `${base()}/${q.topics.id}`, { token: w.tokens.viewer })).status).toBe(403);
    const noOptions = await api().json<Problem>('POST', base(), { token: w.tokens.owner, body: { kind: 'single_choice', label: 'Pick' } });
    expect(noOptions.status).toBe(422);
    expect(noOptions.body.errors?.[0]?.field).toBe('options');
    const twice = await api().json<Problem>('POST', base(), { token: w.tokens.owner, body: { kind: 'multiple_choice', label: 'Pick', options: ['A', 'A'] } });
    expect(twice).toMatchObject({ status: 422, body: { code: 'validation_failed', errors: [{ field: 'options' }] } });
    expect((await ask({ kind: 'radio', label: 'Kind' })).status).toBe(422);
  });

  it('another tenant\'s service and its questions are 404', async () => {
    const other = await createStaffWorld(api());
    expect((await api().request('GET', base(), { token: other.tokens.owner })).status).toBe(404);
    expect((await api().request('POST', base(), { token: other.tokens.owner, body: { kind: 'checkbox', label: 'x' } })).status).toBe(404);
    expect((await api().request('PATCH', `${base()}/${q.topics.id}`, { token: other.tokens.owner, body: { label: 'x' } })).status).toBe(404);
  });

  it('the public service list carries the questions for the booking page, without internals', async () => {
    const res = await api().json<{ data: { id: string; questions: Record<string, unknown>[] }[] }>('GET', `/v1/public/${slug}/services`);
    const svc = res.body.data.find((s) => s.id === w.serviceId)!;
    expect(svc.questions.map((x) => x.label)).toEqual(['Reason for the visit', 'Insurance', 'Topics', 'I accept the policy']);
    expect(svc.questions[1]).toEqual({ id: q.insurer.id, position: 1, kind: 'single_choice', label: 'Insurance', help_text: null, is_required: true, max_length: null, options: ['Public', 'Private'] });
  });

  it('a guest books with answers; staff see them on the booking and in the list', async () => {
    const booked = await api().json<{ id: string }>('POST', `/v1/public/${slug}/bookings`, { body: guestBooking() });
    expect(booked.status, JSON.stringify(booked.body)).toBe(201);
    const got = await api().json<{ answers: unknown[] }>('GET', `/v1/bookings/${booked.body.id}`, { token: w.tokens.owner });
    expect(got.body.answers).toEqual([
      { question_id: q.reason.id, label: 'Reason for the visit', kind: 'text', value: 'Toothache' },
      { question_id: q.insurer.id, label: 'Insurance', kind: 'single_choice', value: 'Public' },
      { question_id: q.topics.id, label: 'Topics', kind: 'multiple_choice', value: ['Gums'] },
      { question_id: q.consent.id, label: 'I accept the policy', kind: 'checkbox', value: true },
    ]);
    const list = await api().json<{ data: { id: string; answers: unknown[] }[] }>('GET', `/v1/bookings?service=${w.serviceId}`, { token: w.tokens.owner });
    expect(list.body.data.find((b) => b.id === booked.body.id)?.answers).toEqual(got.body.answers);
  });

  it('a missing required answer, a wrong choice, too long a text: 422 invalid_answer naming answers.<question id>, nothing booked', async () => {
    const startsAt = utc(day++, '10:00');
    const cases: [Record<string, unknown>, string][] = [
      [{ ...answers(), [q.insurer.id]: undefined }, q.insurer.id],
      [{ ...answers(), [q.insurer.id]: 'Gold' }, q.insurer.id],
      [{ ...answers(), [q.reason.id]: 'x'.repeat(41) }, q.reason.id],
      [{ ...answers(), [q.consent.id]: false }, q.consent.id],
      [{ ...answers(), [q.topics.id]: ['Nails'] }, q.topics.id],
    ];
    for (const [given, field] of cases) {
      const res = await api().json<Problem>('POST', `/v1/public/${slug}/bookings`, { body: guestBooking({ starts_at: startsAt, answers: given }) });
      expect(res.status, JSON.stringify(given)).toBe(422);
      expect(res.body.code).toBe('invalid_answer');
      expect(res.body.errors?.[0]).toMatchObject({ field: `answers.${field}`, code: 'invalid_answer' });
    }
    const withoutAnswers = await api().json<Problem>('POST', `/v1/public/${slug}/bookings`, { body: guestBooking({ starts_at: startsAt, answers: undefined }) });
    expect(withoutAnswers.body.errors?.[0]?.field).toBe(`answers.${q.reason.id}`);
    // The time is still free: nothing was written.
    const free = await api().json<{ data: { starts_at: string }[] }>(
      'GET', `/v1/public/${slug}/services/${w.serviceId}/slots?from=${encodeURIComponent(startsAt)}&to=${encodeURIComponent(new Date(Date.parse(startsAt) + 3_600_000).toISOString())}`);
    expect(free.body.data.map((s) => s.starts_at)).toContain(startsAt);
  });

  it('answers that are not answers at all are 422 before SQL (the body schema)', async () => {
    const res = await api().json<Problem>('POST', `/v1/public/${slug}/bookings`, { body: guestBooking({ answers: { 'not-a-uuid': 'x' } }) });
    expect(res).toMatchObject({ status: 422, body: { code: 'validation_failed' } });
  });

  it('a retry with the same Idempotency-Key and other answers is 409 idempotency_conflict; the same answers replay', async () => {
    const body = guestBooking();
    const key = `answers-${String(day)}`;
    const first = await api().json<{ id: string }>('POST', `/v1/public/${slug}/bookings`, { headers: { 'idempotency-key': key }, body });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const replay = await api().json<{ id: string }>('POST', `/v1/public/${slug}/bookings`, { headers: { 'idempotency-key': key }, body });
    expect(replay.body.id).toBe(first.body.id);
    const other = await api().json<Problem>('POST', `/v1/public/${slug}/bookings`, {
      headers: { 'idempotency-key': key }, body: { ...body, answers: { ...answers(), [q.insurer.id]: 'Private' } },
    });
    expect(other).toMatchObject({ status: 409, body: { code: 'idempotency_conflict' } });
  });

  it('a series takes the answers once for every date; a missing or invalid one is 422 invalid_answer in both modes, nothing booked', async () => {
    const series = (extra: Record<string, unknown>) => ({
      service_id: w.serviceId, location_id: w.locationA, starts_at: utc(day, '11:00'), rrule: 'FREQ=WEEKLY;COUNT=2',
      contact: { name: 'Ada Guest', email: 'ada@example.test' }, answers: answers(), ...extra,
    });
    for (const mode of ['all_or_nothing', 'partial']) {
      for (const given of [undefined, { ...answers(), [q.insurer.id]: 'Gold' }]) {
        const res = await api().json<Problem>('POST', `/v1/public/${slug}/booking-series`, { body: series({ mode, answers: given }) });
        expect([res.status, res.body.code], `${mode} ${JSON.stringify(given)}`).toEqual([422, 'invalid_answer']);
        expect(res.body.errors?.[0]?.field).toMatch(/^answers\./);
      }
    }
    const ok = await api().json<{ occurrences: { booking_id: string }[] }>('POST', `/v1/public/${slug}/booking-series`, { body: series({ mode: 'partial' }) });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(ok.body.occurrences).toHaveLength(2);
    for (const o of ok.body.occurrences) {
      const got = await api().json<{ answers: { question_id: string; value: unknown }[] }>('GET', `/v1/bookings/${o.booking_id}`, { token: w.tokens.owner });
      expect(got.body.answers.find((a) => a.question_id === q.insurer.id)?.value).toBe('Public');
    }
    // Staff booking a series on a customer's behalf may leave required questions out.
    const staff = await api().json<{ occurrences: unknown[] }>('POST', '/v1/booking-series', {
      token: w.tokens.owner,
      body: { ...series({ mode: 'partial', answers: { [q.insurer.id]: 'Private' } }), starts_at: utc(day, '13:00'), contact: { name: 'Walk In' } },
    });
    expect(staff.status, JSON.stringify(staff.body)).toBe(201);
    day += 1;
  });

  it('staff booking on a customer\'s behalf may skip required questions; what they give is checked', async () => {
    const ok = await api().json<{ answers: unknown[] }>('POST', '/v1/bookings', {
      token: w.tokens.owner,
      body: { service_id: w.serviceId, location_id: w.locationA, starts_at: utc(day++, '10:00'), contact: { name: 'Walk In' }, answers: { [q.insurer.id]: 'Private' } },
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(ok.body.answers).toEqual([{ question_id: q.insurer.id, label: 'Insurance', kind: 'single_choice', value: 'Private' }]);
    const bad = await api().json<Problem>('POST', '/v1/bookings', {
      token: w.tokens.owner,
      body: { service_id: w.serviceId, location_id: w.locationA, starts_at: utc(day++, '10:00'), contact: { name: 'Walk In' }, answers: { [q.insurer.id]: 'Gold' } },
    });
    expect(bad).toMatchObject({ status: 422, body: { code: 'invalid_answer', errors: [{ field: `answers.${q.insurer.id}` }] } });
  });
});
