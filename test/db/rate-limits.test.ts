import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { anon, expectSqlState, useTestDb } from '../support/db.ts';
import { createTenant, uniq } from '../support/factories.ts';

const db = useTestDb();
const key = (name = uniq('bucket-')) => createHash('sha256').update(name).digest();
const T0 = new Date('2027-05-01T10:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

type Decision = {
  allowed: boolean;
  remaining: number;
  reset_seconds: number;
  retry_after_seconds: number;
};

/** take_rate_limit as the API calls it (the grant is checked separately below). */
async function take(k: Buffer, limit: number, window: number, when: Date): Promise<Decision> {
  const [row] = await db().query<Decision>(`select * from slotbase_private.take_rate_limit($1, $2, $3, $4)`, [k, limit, window, when]);
  return row!;
}

describe('rate-limit buckets (slotbase_private.take_rate_limit)', () => {
  it('admits the budget at once, then one request per window/limit; says what is left and when to retry', async () => {
    const k = key();
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push(await take(k, 3, 60, T0));
    expect(seen).toEqual([
      { allowed: true, remaining: 2, reset_seconds: 20, retry_after_seconds: 0 },
      { allowed: true, remaining: 1, reset_seconds: 40, retry_after_seconds: 0 },
      { allowed: true, remaining: 0, reset_seconds: 60, retry_after_seconds: 0 },
      { allowed: false, remaining: 0, reset_seconds: 60, retry_after_seconds: 20 },
    ]);
    expect((await take(k, 3, 60, at(19))).allowed).toBe(false);
    expect(await take(k, 3, 60, at(20))).toMatchObject({ allowed: true, remaining: 0 });
    // A full minute later the bucket is full again.
    expect(await take(k, 3, 60, at(140))).toMatchObject({ allowed: true, remaining: 2 });
  });

  it('a refused request spends nothing: refusals do not push the next admission further away', async () => {
    const k = key();
    await take(k, 1, 10, T0);
    for (let i = 0; i < 5; i++) expect((await take(k, 1, 10, at(1))).allowed).toBe(false);
    expect((await take(k, 1, 10, at(10))).allowed).toBe(true);
  });

  it('buckets are independent', async () => {
    const [a, b] = [key(), key()];
    await take(a, 1, 60, T0);
    expect((await take(a, 1, 60, T0)).allowed).toBe(false);
    expect((await take(b, 1, 60, T0)).allowed).toBe(true);
  });

  it('refuses a malformed key or budget with SBVAL', async () => {
    await expectSqlState(db().query(`select * from slotbase_private.take_rate_limit($1, 3, 60, null)`, [Buffer.from('short')]), 'SBVAL');
    await expectSqlState(db().query(`select * from slotbase_private.take_rate_limit($1, 0, 60, null)`, [key()]), 'SBVAL');
    await expectSqlState(db().query(`select * from slotbase_private.take_rate_limit($1, 3, 0, null)`, [key()]), 'SBVAL');
  });

  it('prune_rate_limits deletes only buckets that are full again', async () => {
    const [past, future] = [key(), key()];
    await take(past, 1, 1, new Date(Date.now() - 3_600_000));
    await take(future, 1, 3600, new Date());
    await db().query(`select slotbase_private.prune_rate_limits(100000)`);
    // The bucket still in use was kept (its one request is spent), the full one is gone.
    expect((await take(future, 1, 3600, new Date())).allowed).toBe(false);
    const [row] = await db().query<{ n: number }>(`select count(*)::int as n from slotbase_private.rate_limits where key = $1`, [past]);
    expect(row!.n).toBe(0);
  });

  it('only the API role may call the functions; callers get 42501 and see no table', async () => {
    const tenant = await createTenant(db());
    const functions = [
      'slotbase_private.take_rate_limit(bytea, integer, double precision, timestamptz)',
      'slotbase_private.login_attempt_wait(bytea, bytea, bytea, bytea, integer, integer, integer, double precision, timestamptz)',
      'slotbase_private.record_login_failure(bytea, bytea, bytea, integer, integer, integer, double precision, timestamptz)',
      'slotbase_private.record_login_success(bytea, bytea, integer, timestamptz)',
    ];
    for (const fn of functions) {
      const [grant] = await db().query<{ api: boolean; anon: boolean; auth: boolean }>(
        `select has_function_privilege('slotbase_api', $1::regprocedure, 'execute') as api,
                has_function_privilege('anon', $1::regprocedure, 'execute') as anon,
                has_function_privilege('authenticated', $1::regprocedure, 'execute') as auth`,
        [fn],
      );
      expect(grant, fn).toEqual({ api: true, anon: false, auth: false });
    }
    const [prune] = await db().query<{ api: boolean }>(
      `select has_function_privilege('slotbase_api', 'slotbase_private.prune_rate_limits(integer)'::regprocedure, 'execute') as api`,
    );
    expect(prune!.api).toBe(false);
    await expectSqlState(db().queryAs(anon, `select * from slotbase_private.take_rate_limit($1, 3, 60, null)`, [key()]), '42501');
    await expectSqlState(db().queryAs(tenant.owner, `select * from slotbase_private.take_rate_limit($1, 3, 60, null)`, [key()]), '42501');
    await expectSqlState(db().queryAs(tenant.owner, `select * from slotbase_private.rate_limits`), '42501');
  });
});

describe('failed sign-in counting (login_attempt_wait, record_login_failure, record_login_success)', () => {
  /** Budgets: 2 per account, 10 per address, 2 per pair, per 600 s (one try per 300 s once spent). */
  const LIMITS = [2, 10, 2, 600] as const;
  const wait = async (account: Buffer, address: Buffer | null, pair: Buffer | null, known: Buffer | null, when: Date) =>
    (await db().query<{ wait: number }>(`select slotbase_private.login_attempt_wait($1, $2, $3, $4, $5, $6, $7, $8, $9) as wait`, [account, address, pair, known, ...LIMITS, when]))[0]!.wait;
  const fail = (account: Buffer, address: Buffer | null, pair: Buffer | null, when: Date) =>
    db().query(`select slotbase_private.record_login_failure($1, $2, $3, $4, $5, $6, $7, $8)`, [account, address, pair, ...LIMITS, when]);

  it('the account budget locks new addresses but not an address marked known by a success', async () => {
    const account = key();
    const [home, homePair, homeKnown] = [key(), key(), key()];
    await db().query(`select slotbase_private.record_login_success($1, $2, 30, $3)`, [homePair, homeKnown, T0]);
    await fail(account, key(), key(), T0);
    await fail(account, key(), key(), T0);
    expect(await wait(account, key(), key(), key(), T0)).toBe(300);
    expect(await wait(account, home, homePair, homeKnown, T0)).toBe(0);
    // Known for 30 days only: a month later the same attack locks the old address out too.
    const later = at(30 * 86_400 + 1);
    await fail(account, key(), key(), later);
    await fail(account, key(), key(), later);
    expect(await wait(account, home, homePair, homeKnown, later)).toBe(300);
  });

  it('a burst of failures can never push a lock further than two windows', async () => {
    const account = key();
    for (let i = 0; i < 20; i++) await fail(account, null, null, T0);
    // tat is capped at T0 + 1200 s: wait = 1200 + 300 - 600.
    expect(await wait(account, null, null, null, T0)).toBe(900);
  });
});
