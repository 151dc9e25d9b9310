import { describe, expect, it } from 'vitest';
import { useApi } from '../support/http.ts';
import { overlappingActiveClaims, invariantViolations } from '../support/invariants.ts';
import { createStaffWorld, utc, type StaffWorld } from '../support/staff-world.ts';
import { drainJobs, jobsOf } from '../support/worker.ts';
import { startSmtp, type TestSmtp } from './notifications-support.ts';

/**
 * The waitlist end to end on real PostgreSQL: a freed time is offered by the real worker (held
 * booking + email through a real SMTP server), accepting confirms it, an unanswered offer passes
 * to the next entry, and racing accepts and public bookers leave exactly one winner.
 */

interface Entry {
  id: string;
  status: string;
  position: number | null;
  manage_token: string | null;
  offers: { id: string; booking_id: string; status: string }[];
}
interface Offer {
  id: string;
  status: string;
  booking: { id: string; code: string; status: string } | null;
}

describe('waitlist', () => {
  const api = useApi();
  const db = () => api().db;

  async function world(): Promise<StaffWorld & { slug: string }> {
    const w = await createStaffWorld(api());
    const [t] = await db().query<{ slug: string }>('select slug from slotbase.tenants where id = $1', [w.tenantId]);
    return { ...w, slug: t!.slug };
  }

  async function join(w: StaffWorld & { slug: string }, email: string, from = utc(2, '00:00'), to = utc(4, '00:00')): Promise<Entry> {
    const res = await api().json<Entry>('POST', `/v1/public/${w.slug}/waitlist`, {
      body: { service_id: w.serviceId, provider_id: w.providerA, window_from: from, window_to: to, contact: { name: 'Wait Ing', email } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }

  async function bookPublic(w: StaffWorld & { slug: string }, startsAt: string, email: string) {
    return api().json<{ id: string; code: string; manage_token: string }>('POST', `/v1/public/${w.slug}/bookings`, {
      body: { service_id: w.serviceId, provider_id: w.providerA, starts_at: startsAt, contact: { name: 'Quick Booker', email } },
    });
  }

  async function drain(smtp: TestSmtp): Promise<void> {
    const mailer = smtp.mailer();
    try {
      await drainJobs(db(), { overrides: { mailer } });
    } finally {
      mailer.close();
    }
  }

  async function entryOf(w: StaffWorld, id: string): Promise<Entry> {
    const res = await api().json<Entry>('GET', `/v1/waitlist/${id}`, { token: w.tokens.owner });
    expect(res.status).toBe(200);
    return res.body;
  }

  /** The accept token of an offer, as the email carries it (read from the link in the mail). */
  function offerLink(smtp: TestSmtp, email: string): { id: string; token: string } {
    const mails = smtp.to(email);
    expect(mails).toHaveLength(1);
    const m = /\/b\/waitlist\/offers\/([0-9a-f-]{36})\?token=([A-Za-z0-9_%-]+)/.exec(mails[0]!.parsed.text ?? '');
    expect(m, mails[0]!.parsed.text).not.toBeNull();
    return { id: m![1]!, token: decodeURIComponent(m![2]!) };
  }

  /** "Time passes" for an offer: its hold and its expiry job become due now (the clock is passed in, nothing sleeps). */
  async function expireOfferNow(offerId: string): Promise<void> {
    await db().query(`update slotbase.bookings set hold_expires_at = now() - interval '1 second'
                      where id = (select booking_id from slotbase.waitlist_offers where id = $1)`, [offerId]);
    await db().query(`update slotbase.waitlist_offers set expires_at = now() - interval '1 second' where id = $1`, [offerId]);
    await db().query(`update graphile_worker._private_jobs set run_at = now() where key = $1`, [`waitlist-offer:${offerId}`]);
  }

  it('a cancelled time is held for the first entry, who is emailed a link and accepts it', async () => {
    const smtp = await startSmtp();
    try {
      const w = await world();
      const slot = utc(3, '10:00');
      const booked = await bookPublic(w, slot, 'first@example.test');
      expect(booked.status).toBe(201);
      const entry = await join(w, 'waiter@example.test');
      expect(entry.position).toBe(1);
      expect(entry.manage_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const cancelled = await api().json('POST', `/v1/bookings/${booked.body.id}/cancel`, { token: w.tokens.owner, body: {} });
      expect(cancelled.status).toBe(200);
      expect((await jobsOf(db(), 'waitlist_offer')).length).toBe(1);
      await drain(smtp);
      const link = offerLink(smtp, 'waiter@example.test');
      expect(smtp.to('waiter@example.test')[0]!.parsed.subject).toMatch(/^A time is free: /);
      const offered = await entryOf(w, entry.id);
      expect(offered.status).toBe('offered');
      expect(offered.offers.map((o) => o.status)).toEqual(['open']);
      // The time is held: a public booker cannot take it.
      expect((await bookPublic(w, slot, 'late@example.test')).body).toMatchObject({ code: 'slot_taken' });
      // The email's page shows the offer without changing it; the form (or the API) accepts.
      const pageRes = await api().request('GET', `/b/waitlist/offers/${link.id}?token=${encodeURIComponent(link.token)}`);
      expect(pageRes.status).toBe(200);
      expect(await pageRes.text()).toContain('Accept this time');
      const accepted = await api().json<Offer>('POST', `/v1/public/waitlist-offers/${link.id}/accept?token=${encodeURIComponent(link.token)}`);
      expect(accepted.status).toBe(200);
      expect(accepted.body.status).toBe('accepted');
      expect(accepted.body.booking!.status).toBe('confirmed');
      const after = await entryOf(w, entry.id);
      expect(after).toMatchObject({ status: 'booked', position: null });
      expect(await invariantViolations(db(), w.tenantId)).toEqual({});
      await expect(api().json('POST', `/v1/public/waitlist-offers/${link.id}/accept?token=wrong`)).resolves.toMatchObject({ status: 404 });
    } finally {
      await smtp.close();
    }
  });

  it('an unanswered offer expires and passes to the next entry; the first one can no longer accept', async () => {
    const smtp = await startSmtp();
    try {
      const w = await world();
      const slot = utc(3, '11:00');
      const booked = await bookPublic(w, slot, 'first@example.test');
      const a = await join(w, 'a@example.test');
      const b = await join(w, 'b@example.test');
      expect(b.position).toBe(2);
      await api().json('POST', `/v1/bookings/${booked.body.id}/cancel`, { token: w.tokens.owner, body: {} });
      await drain(smtp);
      const offerA = offerLink(smtp, 'a@example.test');
      expect(smtp.to('b@example.test')).toEqual([]);
      await expireOfferNow(offerA.id);
      await drain(smtp);
      const offerB = offerLink(smtp, 'b@example.test');
      expect((await entryOf(w, a.id)).offers.map((o) => o.status)).toEqual(['expired']);
      expect((await entryOf(w, a.id)).status).toBe('waiting');
      expect((await entryOf(w, b.id)).status).toBe('offered');
      const late = await api().json('POST', `/v1/public/waitlist-offers/${offerA.id}/accept?token=${encodeURIComponent(offerA.token)}`);
      expect(late).toMatchObject({ status: 409, body: { code: 'offer_expired' } });
      // B declines: the time is free again, and A (who had it already) is not offered it twice.
      const declined = await api().json<Offer>('POST', `/v1/public/waitlist-offers/${offerB.id}/decline?token=${encodeURIComponent(offerB.token)}`);
      expect(declined.body.status).toBe('declined');
      await drain(smtp);
      expect(smtp.to('a@example.test')).toHaveLength(1);
      expect((await bookPublic(w, slot, 'walkin@example.test')).status).toBe(201);
      expect(await invariantViolations(db(), w.tenantId)).toEqual({});
    } finally {
      await smtp.close();
    }
  });

  it('race: many accepts of an open offer, stale accepts of an expired one and public bookers → exactly one winner', async () => {
    const smtp = await startSmtp();
    try {
      const w = await world();
      const slot = utc(3, '12:00');
      const booked = await bookPublic(w, slot, 'first@example.test');
      await join(w, 'ra@example.test');
      await join(w, 'rb@example.test');
      await api().json('POST', `/v1/bookings/${booked.body.id}/cancel`, { token: w.tokens.owner, body: {} });
      await drain(smtp);
      const offerA = offerLink(smtp, 'ra@example.test');
      await expireOfferNow(offerA.id);
      await drain(smtp);
      const offerB = offerLink(smtp, 'rb@example.test');
      const accept = (o: { id: string; token: string }) => api().json<Offer>('POST', `/v1/public/waitlist-offers/${o.id}/accept?token=${encodeURIComponent(o.token)}`);
      const results = await Promise.all([
        ...Array.from({ length: 12 }, () => accept(offerB)),
        ...Array.from({ length: 6 }, () => accept(offerA)),
        ...Array.from({ length: 6 }, (_, i) => bookPublic(w, slot, `racer${i}@example.test`)),
      ]);
      const bAccepts = results.slice(0, 12) as { status: number; body: Offer }[];
      expect(new Set(bAccepts.map((r) => r.status))).toEqual(new Set([200]));
      expect(new Set(bAccepts.map((r) => r.body.booking!.id)).size).toBe(1);
      for (const r of results.slice(12, 18)) expect(r).toMatchObject({ status: 409, body: { code: 'offer_expired' } });
      for (const r of results.slice(18)) expect(r).toMatchObject({ status: 409, body: { code: 'slot_taken' } });
      const active = await db().query(`select id from slotbase.bookings where tenant_id = $1 and starts_at = $2 and status in ('held', 'pending', 'confirmed')`, [w.tenantId, slot]);
      expect(active).toEqual([{ id: bAccepts[0]!.body.booking!.id }]);
      expect(await overlappingActiveClaims(db(), w.tenantId)).toEqual([]);
    } finally {
      await smtp.close();
    }
  });

  it('race: accepts after the hold ran out against public bookers → one booker wins, every accept is told offer_expired', async () => {
    const smtp = await startSmtp();
    try {
      const w = await world();
      const slot = utc(3, '13:00');
      const booked = await bookPublic(w, slot, 'first@example.test');
      await join(w, 'only@example.test');
      await api().json('POST', `/v1/bookings/${booked.body.id}/cancel`, { token: w.tokens.owner, body: {} });
      await drain(smtp);
      const offer = offerLink(smtp, 'only@example.test');
      // The hold is past its time but nobody has swept it yet: a booker's create_booking sweeps it.
      await db().query(`update slotbase.bookings set hold_expires_at = now() - interval '1 second'
                        where id = (select booking_id from slotbase.waitlist_offers where id = $1)`, [offer.id]);
      const results = await Promise.all([
        ...Array.from({ length: 10 }, () => api().json('POST', `/v1/public/waitlist-offers/${offer.id}/accept?token=${encodeURIComponent(offer.token)}`)),
        ...Array.from({ length: 8 }, (_, i) => bookPublic(w, slot, `racer${i}@example.test`)),
      ]);
      for (const r of results.slice(0, 10)) expect(r).toMatchObject({ status: 409, body: { code: 'offer_expired' } });
      const bookers = results.slice(10);
      expect(bookers.filter((r) => r.status === 201)).toHaveLength(1);
      for (const r of bookers.filter((x) => x.status !== 201)) expect(r.body).toMatchObject({ code: 'slot_taken' });
      expect(await overlappingActiveClaims(db(), w.tenantId)).toEqual([]);
      expect(await invariantViolations(db(), w.tenantId)).toEqual({});
    } finally {
      await smtp.close();
    }
  });

  it('staff see the line with positions, move an entry to the front, and remove one (its open offer is withdrawn)', async () => {
    const smtp = await startSmtp();
    try {
      const w = await world();
      const a = await join(w, 'la@example.test');
      const b = await join(w, 'lb@example.test');
      const c = await join(w, 'lc@example.test');
      const list = await api().json<{ data: Entry[] }>('GET', `/v1/waitlist?service=${w.serviceId}`, { token: w.tokens.owner });
      expect(list.body.data.map((e) => [e.id, e.position])).toEqual([[a.id, 1], [b.id, 2], [c.id, 3]]);
      const moved = await api().json<Entry>('POST', `/v1/waitlist/${c.id}/move`, { token: w.tokens.owner, body: { position: 1 } });
      expect(moved.body.position).toBe(1);
      const again = await api().json<{ data: Entry[] }>('GET', `/v1/waitlist?service=${w.serviceId}&status=waiting`, { token: w.tokens.admin });
      expect(again.body.data.map((e) => e.id)).toEqual([c.id, a.id, b.id]);
      // A freed time goes to the front entry; removing it withdraws the offer and passes the time on.
      const booked = await bookPublic(w, utc(3, '14:00'), 'first@example.test');
      await api().json('POST', `/v1/bookings/${booked.body.id}/cancel`, { token: w.tokens.owner, body: {} });
      await drain(smtp);
      expect(smtp.to('lc@example.test')).toHaveLength(1);
      const removed = await api().json<Entry>('DELETE', `/v1/waitlist/${c.id}`, { token: w.tokens.owner });
      expect(removed.body).toMatchObject({ status: 'removed', position: null });
      expect(removed.body.offers.map((o) => o.status)).toEqual(['withdrawn']);
      await drain(smtp);
      expect(smtp.to('la@example.test')).toHaveLength(1);
      // The guest sees their place with their own token, and leaves.
      const mine = await api().json<Entry>('GET', `/v1/public/waitlist/${b.id}?token=${encodeURIComponent(b.manage_token!)}`);
      expect(mine.body.position).toBe(2);
      const left = await api().json<Entry>('DELETE', `/v1/public/waitlist/${b.id}?token=${encodeURIComponent(b.manage_token!)}`);
      expect(left.body.status).toBe('removed');
      // A viewer reads but cannot reorder; another tenant sees nothing.
      expect((await api().json('POST', `/v1/waitlist/${a.id}/move`, { token: w.tokens.viewer, body: { position: 1 } })).status).toBe(404);
      const other = await world();
      expect((await api().json('GET', `/v1/waitlist/${a.id}`, { token: other.tokens.owner })).status).toBe(404);
      expect((await api().json<{ data: Entry[] }>('GET', '/v1/waitlist', { token: other.tokens.owner })).body.data).toEqual([]);
    } finally {
      await smtp.close();
    }
  });

  it('a service with a required question: joining without its answer is 422 (guest and staff); with it, the offer books with the answers and accepting works', async () => {
    const smtp = await startSmtp();
    try {
      const w = await world();
      const asked = await api().json<{ id: string }>('POST', `/v1/services/${w.serviceId}/questions`, {
        token: w.tokens.owner, body: { kind: 'single_choice', label: 'Insurance', options: ['Public', 'Private'], is_required: true },
      });
      expect(asked.status).toBe(201);
      const q = asked.body.id;
      const request = (email: string, extra: Record<string, unknown> = {}) => ({
        service_id: w.serviceId, provider_id: w.providerA, window_from: utc(2, '00:00'), window_to: utc(4, '00:00'), contact: { name: 'Wait Ing', email }, ...extra,
      });
      // Without the required answer, or with one that is not a choice: refused now, by the same rules as booking.
      for (const [path, token, body] of [
        [`/v1/public/${w.slug}/waitlist`, undefined, request('no-answer@example.test')],
        [`/v1/public/${w.slug}/waitlist`, undefined, request('bad-answer@example.test', { answers: { [q]: 'Gold' } })],
        ['/v1/waitlist', w.tokens.owner, request('staff-no-answer@example.test')],
      ] as const) {
        const res = await api().json<{ code: string; errors?: { field: string }[] }>('POST', path, { token, body });
        expect([res.status, res.body.code], JSON.stringify(body)).toEqual([422, 'invalid_answer']);
        expect(res.body.errors?.[0]?.field).toBe(`answers.${q}`);
      }
      expect((await api().json<{ data: Entry[] }>('GET', '/v1/waitlist', { token: w.tokens.owner })).body.data).toEqual([]);

      const slot = utc(3, '15:00');
      const booked = await api().json<{ id: string }>('POST', `/v1/public/${w.slug}/bookings`, {
        body: { service_id: w.serviceId, provider_id: w.providerA, starts_at: slot, contact: { name: 'Quick Booker', email: 'first@example.test' }, answers: { [q]: 'Public' } },
      });
      expect(booked.status, JSON.stringify(booked.body)).toBe(201);
      const joined = await api().json<Entry & { answers: { question_id: string; value: unknown }[] }>('POST', `/v1/public/${w.slug}/waitlist`, {
        body: request('answered@example.test', { answers: { [q]: 'Private' } }),
      });
      expect(joined.status, JSON.stringify(joined.body)).toBe(201);
      expect(joined.body.answers).toEqual([{ question_id: q, label: 'Insurance', kind: 'single_choice', value: 'Private' }]);
      await api().json('POST', `/v1/bookings/${booked.body.id}/cancel`, { token: w.tokens.owner, body: {} });
      await drain(smtp);
      const link = offerLink(smtp, 'answered@example.test');
      const accepted = await api().json<Offer>('POST', `/v1/public/waitlist-offers/${link.id}/accept?token=${encodeURIComponent(link.token)}`);
      expect(accepted.status).toBe(200);
      expect(accepted.body.booking!.status).toBe('confirmed');
      const got = await api().json<{ answers: unknown[] }>('GET', `/v1/bookings/${accepted.body.booking!.id}`, { token: w.tokens.owner });
      expect(got.body.answers).toEqual([{ question_id: q, label: 'Insurance', kind: 'single_choice', value: 'Private' }]);
      expect(await invariantViolations(db(), w.tenantId)).toEqual({});
    } finally {
      await smtp.close();
    }
  });

  it('bad input is a 4xx problem with a stable code and writes nothing', async () => {
    const w = await world();
    const body = (over: Record<string, unknown>) => ({ service_id: w.serviceId, window_from: utc(2, '00:00'), window_to: utc(3, '00:00'), contact: { name: 'X', email: 'x@example.test' }, ...over });
    const cases: [Record<string, unknown>, number, string][] = [
      [{ window_to: utc(1, '00:00') }, 422, 'invalid_range'],
      [{ window_from: utc(-3, '00:00'), window_to: utc(-2, '00:00') }, 422, 'invalid_range'],
      [{ window_to: utc(150, '00:00') }, 422, 'invalid_range'],
      [{ service_id: '00000000-0000-4000-8000-000000000000' }, 404, 'not_found'],
      [{ contact: { name: 'No Contact' } }, 422, 'validation_failed'],
      [{ party_size: 5 }, 422, 'party_too_large'],
    ];
    for (const [over, status, code] of cases) {
      const res = await api().json('POST', `/v1/public/${w.slug}/waitlist`, { body: body(over) });
      expect([res.status, (res.body as { code: string }).code], JSON.stringify(over)).toEqual([status, code]);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    const list = await api().json<{ data: Entry[] }>('GET', '/v1/waitlist', { token: w.tokens.owner });
    expect(list.body.data).toEqual([]);
  });
});
