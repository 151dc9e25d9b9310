import { inject } from 'vitest';
import { describe, expect, it } from 'vitest';
import { useTestDb, type Queryable } from '../support/db.ts';
import { addDailyRules, createLocation, createProvider, createService, createTenant, linkProvider, type Member } from '../support/factories.ts';
import { invariantViolations } from '../support/invariants.ts';
import { asApiRole, useProcesses } from '../support/processes.ts';
import { jobsOf, until } from '../support/worker.ts';

const db = useTestDb();
const processes = useProcesses();

interface Clinic {
  tenantId: string;
  slug: string;
  owner: Member;
  serviceId: string;
}

/** One provider bookable around the clock, so every half hour is a distinct free slot. */
async function createClinic(q: Queryable): Promise<Clinic> {
  const tenant = await createTenant(q);
  const location = await createLocation(q, tenant.id);
  const service = await createService(q, tenant.id, { durationMinutes: 30, maxAdvanceDays: 365 });
  const provider = await createProvider(q, tenant.id, { locationId: location.id });
  await linkProvider(q, tenant.id, service.id, provider.id);
  await addDailyRules(q, tenant.id, { providerId: provider.id }, location.id, '00:00', '24:00');
  return { tenantId: tenant.id, slug: tenant.slug, owner: tenant.owner, serviceId: service.id };
}

type Outcome = { status: number; id?: string; code?: string } | { error: string };

describe('a killed API process', () => {
  it('SIGKILL during a booking burst: every acknowledged booking exists whole, and retries with the same Idempotency-Key give each booking exactly once', async () => {
    const REQUESTS = 240;
    const IN_FLIGHT = 24;
    const KILL_AFTER_ACKS = 60;
    const c = await createClinic(db());
    const first = new Date();
    first.setUTCHours(first.getUTCHours() + 48, 0, 0, 0);
    const requests = Array.from({ length: REQUESTS }, (_, i) => ({
      key: `burst-${c.tenantId}-${i}`,
      body: JSON.stringify({
        service_id: c.serviceId,
        starts_at: new Date(first.getTime() + i * 30 * 60_000).toISOString(),
        contact: { name: `Guest ${i}`, email: `guest-${i}@example.test` },
      }),
    }));
    const env = { apiDatabaseUrl: asApiRole(db().url!, inject('apiPassword')), databaseUrl: db().url! };
    const book = async (base: string, i: number): Promise<Outcome> => {
      try {
        const res = await fetch(`${base}/v1/public/${c.slug}/bookings`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': requests[i]!.key },
          body: requests[i]!.body,
          signal: AbortSignal.timeout(15_000),
        });
        const body = (await res.json()) as { id?: string; code?: string };
        return { status: res.status, id: body.id, code: body.code };
      } catch (error) {
        return { error: String((error as Error).cause ?? error) };
      }
    };

    // The burst: IN_FLIGHT requests at a time; the API is SIGKILLed once KILL_AFTER_ACKS were acknowledged.
    const api = await processes.api(env);
    const outcomes: Outcome[] = new Array(REQUESTS);
    let next = 0;
    let acks = 0;
    const burst = Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < REQUESTS) {
          const i = next++;
          const outcome = await book(api.base, i);
          outcomes[i] = outcome;
          if ('status' in outcome && outcome.status === 201) acks += 1;
        }
      }),
    );
    await until(() => acks >= KILL_AFTER_ACKS, 30_000, `${KILL_AFTER_ACKS} acknowledged bookings`);
    api.process.kill('SIGKILL');
    expect((await api.exited).signal).toBe('SIGKILL');
    await burst;

    const acknowledged = new Map<number, string>();
    const unacknowledged: number[] = [];
    outcomes.forEach((o, i) => {
      if ('status' in o && o.status === 201) acknowledged.set(i, o.id!);
      else unacknowledged.push(i);
    });
    // Before the kill nothing but 201 was answered; after it, only failed connections.
    for (const o of outcomes) if ('status' in o) expect(o, JSON.stringify(o)).toMatchObject({ status: 201 });
    expect(acknowledged.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    expect(unacknowledged.length, 'the kill came mid-burst').toBeGreaterThan(0);

    // Every acknowledged booking is there, read as the tenant's owner under RLS.
    const committed = await db().queryAs<{ id: string; starts_at: Date }>(c.owner, 'select id, starts_at from slotbase.bookings');
    const committedIds = new Set(committed.map((b) => b.id));
    for (const [i, id] of acknowledged) expect(committedIds.has(id), `acknowledged booking ${i}`).toBe(true);

    // Restarted on the same port, the API answers every request again with the same key: each
    // acknowledged one with its original booking, each unacknowledged one with the booking its
    // first attempt committed (if it did) or a new one; never a second booking for one key.
    const restarted = await processes.api({ ...env, port: api.port });
    const retried = await Promise.all(requests.map((_, i) => book(restarted.base, i)));
    retried.forEach((o, i) => expect(o, `retry ${i}`).toMatchObject({ status: 201, id: expect.any(String) }));
    const finalIds = retried.map((o) => (o as { id: string }).id);
    for (const [i, id] of acknowledged) expect(finalIds[i], `retry of acknowledged ${i}`).toBe(id);
    expect(new Set(finalIds).size).toBe(REQUESTS);

    const bookings = await db().queryAs<{ id: string; starts_at: Date; status: string; idempotency_key: string }>(
      c.owner,
      'select id, starts_at, status, idempotency_key from slotbase.bookings order by starts_at',
    );
    expect(bookings.map((b) => b.id).sort()).toEqual([...finalIds].sort());
    expect(bookings.map((b) => b.idempotency_key).sort()).toEqual(requests.map((r) => r.key).sort());
    expect(new Set(bookings.map((b) => b.status))).toEqual(new Set(['confirmed']));

    // None half-written: claims, audit event and confirmation job for every booking.
    // (Invariants read the whole database as its owner, so RLS cannot hide a violation.)
    expect(await invariantViolations(db(), c.tenantId)).toEqual({});
    const audited = await db().queryAs<{ booking_id: string }>(c.owner, `select distinct booking_id from slotbase.booking_events where to_status = 'confirmed'`);
    expect(audited.map((e) => e.booking_id).sort()).toEqual([...finalIds].sort());
    const confirmations = (await jobsOf(db(), 'booking_confirmation')).map((j) => j.key);
    expect(confirmations.sort()).toEqual(finalIds.map((id) => `confirmation:${id}`).sort());
  }, 60_000);
});
