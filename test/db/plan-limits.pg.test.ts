import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimsOf, useTestDb, type Principal } from '../support/db.ts';
import { addDailyRules, createLocation, createProvider, createService, createTenant, linkProvider, uniq } from '../support/factories.ts';

/**
 * Plan limits under concurrency, on real PostgreSQL with many connections: transactions all open
 * at once, released together, each adding one more than the plan has room for. The advisory lock
 * per tenant and limit (slotbase_private.plan_has_room) makes the count see every earlier winner,
 * so exactly the limit succeeds and the rest get SBPLN.
 */

const BECOME = `select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)`;

function barrier(n: number, timeoutMs = 20_000): { wait(): Promise<void>; readonly reached: boolean } {
  let count = 0;
  let reached = false;
  let release!: () => void;
  const all = new Promise<void>((r) => (release = r));
  const timer = setTimeout(release, timeoutMs);
  return {
    async wait() {
      if (++count >= n) {
        reached = true;
        clearTimeout(timer);
        release();
      }
      await all;
    },
    get reached() {
      return reached;
    },
  };
}

describe('plan limits under concurrent writers', () => {
  const db = useTestDb();
  let pool: postgres.Sql;

  beforeAll(async () => {
    pool = postgres(db().url!, { max: 16, onnotice: () => {} });
    await db().query('update slotbase_private.billing_settings set enforce_plan_limits = true');
    await db().query(`insert into slotbase.plans (id, name, max_providers, max_bookings_per_month) values ('race', 'Race', 3, 5)`);
  });
  afterAll(async () => {
    await pool?.end({ timeout: 5 });
  });

  /** `n` transactions as `who`, open together, each running `statement(i)`; the SQLSTATE of each failure or 'ok'. */
  async function race(n: number, who: (i: number) => Principal, statement: (i: number) => [string, unknown[]]): Promise<string[]> {
    const gate = barrier(n);
    const outcomes = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        pool
          .begin(async (tx) => {
            const p = who(i);
            await tx.unsafe(BECOME, [p.role, JSON.stringify(claimsOf(p))]);
            await gate.wait();
            const [text, params] = statement(i);
            await tx.unsafe(text, params as never[]);
          })
          .then(
            () => 'ok',
            (e: { code?: string }) => String(e.code),
          ),
      ),
    );
    expect(gate.reached, `all ${n} transactions were open before anyone wrote`).toBe(true);
    return outcomes;
  }

  it('12 members adding a provider at once to a plan allowing 3: exactly 3 succeed, the rest get SBPLN', async () => {
    const t = await createTenant(db());
    await db().query(`update slotbase.tenants set plan = 'race' where id = $1`, [t.id]);
    const outcomes = await race(12, () => t.owner, () => [`insert into slotbase.providers (tenant_id, name) values ($1, $2)`, [t.id, uniq('P ')]]);
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(3);
    expect(outcomes.filter((o) => o !== 'ok')).toEqual(Array(9).fill('SBPLN'));
    const rows = await db().queryAs(t.owner, 'select id from slotbase.providers where tenant_id = $1 and deleted_at is null', [t.id]);
    expect(rows).toHaveLength(3);
  });

  it('16 bookers taking 16 different free times at once on a plan allowing 5 bookings a month: exactly 5 are booked', async () => {
    const t = await createTenant(db(), { timeZone: 'UTC' });
    const location = await createLocation(db(), t.id, { timeZone: 'UTC' });
    const provider = await createProvider(db(), t.id, { locationId: location.id });
    await addDailyRules(db(), t.id, { providerId: provider.id }, location.id, '00:00', '24:00');
    const service = await createService(db(), t.id, { durationMinutes: 30, maxAdvanceDays: 365 });
    await linkProvider(db(), t.id, service.id, provider.id);
    await db().query(`update slotbase.tenants set plan = 'race' where id = $1`, [t.id]);
    const [{ base } = { base: new Date() }] = await db().query<{ base: Date }>(`select date_trunc('hour', now()) + interval '3 days' as base`);
    const outcomes = await race(16, () => ({ role: 'anon' }), (i) => [
      `select slotbase.create_booking(p_tenant_id => $1, p_service_id => $2, p_starts_at => $3, p_contact_name => 'Guest', p_contact_email => $4)`,
      [t.id, service.id, new Date(base.getTime() + i * 3_600_000), `guest${i}@example.test`],
    ]);
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(5);
    expect(outcomes.filter((o) => o !== 'ok')).toEqual(Array(11).fill('SBPLN'));
    const rows = await db().queryAs(t.owner, 'select id from slotbase.bookings where tenant_id = $1', [t.id]);
    expect(rows).toHaveLength(5);
  });
});
