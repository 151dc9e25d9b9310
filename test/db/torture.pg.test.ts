import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDb } from '../support/db.ts';
import {
  createTortureWorld,
  outcomeTable,
  queryable,
  runTorture,
  tortureViolations,
  unexpectedOutcomes,
  type OperationLog,
  type TortureWorld,
} from '../support/torture.ts';

/**
 * The small version of `npm run torture`: 16 real connections issue 600 random operations as
 * users (public bookers with manage tokens, staff, the worker) across 3 tenants; afterwards every
 * whole-database invariant must hold and no caller may have seen a deadlock, an unexpected
 * SQLSTATE, or a cross-tenant attempt that did not fail with not_found (SBNF1).
 */

const SEED = 0x70e7;

describe('torture: random booking operations on 16 connections across 3 tenants', () => {
  const db = useTestDb();
  let pool: postgres.Sql;
  let world: TortureWorld;
  let log: OperationLog[];

  beforeAll(async () => {
    const url = db().url;
    if (!url) throw new Error('the torture run needs real PostgreSQL (db().url)');
    pool = postgres(url, { max: 18, onnotice: () => {}, idle_timeout: 20 });
    world = await createTortureWorld(pool, 3);
    log = await runTorture(pool, world, { connections: 16, operations: 600, seed: SEED });
  });
  afterAll(async () => {
    await pool?.end({ timeout: 5 });
  });

  it('every operation ran and every kind of operation succeeded at least once', () => {
    expect(log).toHaveLength(600);
    const succeeded = new Set(log.filter((l) => l.ok).map((l) => l.op));
    expect([...succeeded].sort()).toEqual(
      expect.arrayContaining(['book_public', 'book_staff', 'cancel_staff', 'cancel_token', 'confirm', 'expire_holds', 'hold', 'join_session', 'reschedule_staff', 'reschedule_token']),
    );
    // Contention was real: slots and seats were refused.
    const codes = new Set(log.flatMap((l) => (l.ok ? [] : [l.code])));
    expect(codes.has('SBTAK') || codes.has('23P01')).toBe(true);
    expect(codes.has('SBFUL')).toBe(true);
    expect(log.filter((l) => l.foreign).length, 'cross-tenant attempts were made').toBeGreaterThan(0);
  });

  it('no caller saw a deadlock or a SQLSTATE outside the domain errors; every cross-tenant attempt was not_found', () => {
    expect(log.filter((l) => l.code === '40P01')).toEqual([]);
    expect(unexpectedOutcomes(log), `outcomes: ${JSON.stringify(Object.fromEntries([...outcomeTable(log)].map(([k, m]) => [k, Object.fromEntries(m)])))}`).toEqual([]);
  });

  it('afterwards every invariant holds: claims, seats, jobs, tenant references and the audit trail', async () => {
    expect(await tortureViolations(queryable(pool))).toEqual({});
    // Something to check: bookings in several statuses, with events and jobs.
    const [counts] = await db().query<{ statuses: number; events: number; jobs: number }>(
      `select (select count(distinct status) from slotbase.bookings)::int as statuses,
              (select count(*) from slotbase.booking_events)::int as events,
              (select count(*) from graphile_worker.jobs)::int as jobs`,
    );
    expect(counts!.statuses).toBeGreaterThanOrEqual(5);
    expect(counts!.events).toBeGreaterThan(0);
    expect(counts!.jobs).toBeGreaterThan(0);
  });

  it('the torture checks detect broken outboxes, foreign references and audit gaps (so an empty result means something)', async () => {
    const t = world.tenants[0]!;
    const other = world.tenants[1]!;
    const [confirmed] = await db().query<{ id: string }>(`select id from slotbase.bookings where tenant_id = $1 and status = 'confirmed' limit 1`, [t.id]);
    const [cancelled] = await db().query<{ id: string }>(`select id from slotbase.bookings where tenant_id = $1 and status = 'cancelled' limit 1`, [t.id]);
    expect(confirmed && cancelled, 'the run left confirmed and cancelled bookings').toBeTruthy();
    const corruptions: [string, string][] = [
      ['jobMismatches', `delete from graphile_worker._private_jobs where key like 'reminder:${confirmed!.id}:%'`],
      ['jobMismatches', `select graphile_worker.add_job('booking_reminder', '{}'::json, job_key => 'reminder:${cancelled!.id}:120')`],
      ['crossTenantReferences', `insert into slotbase.booking_events (tenant_id, booking_id, actor_user_id, actor_role, from_status, to_status)
         values ('${t.id}', '${confirmed!.id}', '${other.ownerId}', 'owner', 'confirmed', 'confirmed')`],
      ['auditTrailGaps', `insert into slotbase.booking_events (tenant_id, booking_id, from_status, to_status) values ('${t.id}', '${confirmed!.id}', 'held', 'cancelled')`],
    ];
    const ROLLBACK = new Error('rollback');
    const seen: string[][] = [];
    await pool.begin(async (tx) => {
      await tx.unsafe('set local session_replication_role = replica');
      for (const [, corruption] of corruptions) {
        await tx
          .savepoint(async (sp) => {
            await sp.unsafe(corruption);
            const q = { query: async (text: string, params?: unknown[]) => [...(await sp.unsafe(text, params as never[]))] as never[] };
            seen.push(Object.keys(await tortureViolations(q)));
            throw ROLLBACK;
          })
          .catch((e: unknown) => {
            if (e !== ROLLBACK) throw e;
          });
      }
    });
    expect(seen).toEqual(corruptions.map(([name]) => expect.arrayContaining([name])));
  });
});
