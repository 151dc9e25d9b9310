import postgres from 'postgres';
import { afterAll, beforeAll, expect } from 'vitest';
import { claimsOf, type Principal, type Queryable, type TestDb } from './db.ts';
import { addDailyRules, createLocation, createProvider, createService, createTenant, linkProvider, type ServiceOptions, type TenantFixture } from './factories.ts';

/**
 * Helpers for the scheduling-rule tests (round-robin, limits, anti-scalping, travel): a UTC
 * world, create_booking with named arguments, and races of real concurrent transactions each
 * running as a principal (role + JWT claims), as the API runs them.
 */

export type Tx = postgres.TransactionSql;
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: string; hint: string | undefined; message: string };

export interface BookArgs {
  tenantId: string;
  serviceId: string;
  startsAt: Date;
  providerId?: string | null;
  locationId?: string | null;
  email?: string | null;
  phone?: string | null;
  device?: string | null;
}

export interface Receipt {
  id: string;
  provider_id: string;
  location_id: string;
  starts_at: Date;
  status: string;
}

export const BOOK = `select * from slotbase.create_booking(
  p_tenant_id => $1, p_service_id => $2, p_starts_at => $3, p_provider_id => $4, p_location_id => $5,
  p_contact_name => 'Booker', p_contact_email => $6, p_contact_phone => $7, p_device_hash => $8)`;

export function bookParams(a: BookArgs): unknown[] {
  return [a.tenantId, a.serviceId, a.startsAt.toISOString(), a.providerId ?? null, a.locationId ?? null, a.email === undefined ? 'booker@example.test' : a.email, a.phone ?? null, a.device ?? null];
}

/** create_booking through any Queryable (PGlite or postgres), as whoever the Queryable acts as. */
export async function book(q: Queryable, a: BookArgs): Promise<Receipt> {
  const [row] = await q.query<Receipt & Record<string, unknown>>(BOOK, bookParams(a));
  return row!;
}

/** Midnight UTC `days` days from the day after tomorrow (notice never bites). */
export function day(days: number): Date {
  const d = new Date();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 2 + days));
}
export const at = (base: Date, hhmm: string): Date => {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return new Date(base.getTime() + (h * 60 + m) * 60_000);
};
export const plusMinutes = (d: Date, m: number): Date => new Date(d.getTime() + m * 60_000);

/** A UTC tenant, one location and `n` providers working `hours` every day, offering one service. */
export async function ruleWorld(db: Queryable, n: number, service: ServiceOptions = {}, hours: [string, string] = ['00:00', '24:00']) {
  const tenant: TenantFixture = await createTenant(db, { timeZone: 'UTC' });
  const location = await createLocation(db, tenant.id, { timeZone: 'UTC' });
  const svc = await createService(db, tenant.id, { durationMinutes: 30, maxAdvanceDays: 365, ...service });
  const providers: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = await createProvider(db, tenant.id, { locationId: location.id });
    await addDailyRules(db, tenant.id, { providerId: p.id }, location.id, hours[0], hours[1]);
    await linkProvider(db, tenant.id, svc.id, p.id);
    providers.push(p.id);
  }
  providers.sort();
  return { tenant, tenantId: tenant.id, locationId: location.id, serviceId: svc.id, providers };
}

/** Sets columns of a service (as the table owner; the settings API is tested over HTTP). */
export async function configure(db: Queryable, table: 'services' | 'providers', id: string, values: Record<string, unknown>): Promise<void> {
  const keys = Object.keys(values);
  await db.query(`update slotbase.${table} set ${keys.map((k, i) => `${k} = $${i + 2}`).join(', ')} where id = $1`, [id, ...Object.values(values)]);
}

/** Resolves once `n` callers wait, so they fire together. */
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

const BECOME = `select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)`;

/** A pool of real connections to this file's PostgreSQL database and races on it. */
export function useRacePool(db: () => TestDb) {
  let pool: postgres.Sql;
  beforeAll(() => {
    const url = db().url;
    if (!url) throw new Error('races need real PostgreSQL (db().url)');
    pool = postgres(url, { max: 40, onnotice: () => {}, idle_timeout: 20 });
  });
  afterAll(async () => {
    await pool?.end({ timeout: 5 });
  });

  async function act<T>(who: Principal, fn: (tx: Tx) => Promise<T>): Promise<Outcome<T>> {
    try {
      const value = (await pool.begin(async (tx) => {
        await tx.unsafe(BECOME, [who.role, JSON.stringify(claimsOf(who))]);
        return fn(tx);
      })) as T;
      return { ok: true, value };
    } catch (e) {
      const err = e as { code?: string; hint?: string; message?: string };
      return { ok: false, code: String(err.code ?? 'NO_SQLSTATE'), hint: err.hint, message: String(err.message ?? e) };
    }
  }

  /** `n` transactions open at once, released together, each running `fn(tx, i)`. */
  async function race<T>(n: number, who: (i: number) => Principal, fn: (tx: Tx, i: number) => Promise<T>): Promise<Outcome<T>[]> {
    const gate = barrier(n);
    const outcomes = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        act(who(i), async (tx) => {
          await gate.wait();
          return fn(tx, i);
        }),
      ),
    );
    expect(gate.reached, `all ${n} transactions were open before anyone booked`).toBe(true);
    return outcomes;
  }

  /** A race of create_booking calls. */
  const raceBookings = (n: number, who: (i: number) => Principal, args: (i: number) => BookArgs) =>
    race(n, who, async (tx, i) => {
      const [row] = (await tx.unsafe(BOOK, bookParams(args(i)) as postgres.ParameterOrJSON<never>[])) as unknown as Receipt[];
      return row!;
    });

  return { act, race, raceBookings };
}

export const successes = <T>(os: Outcome<T>[]): T[] => os.flatMap((o) => (o.ok ? [o.value] : []));
export const failureCodes = <T>(os: Outcome<T>[]): string[] => os.flatMap((o) => (o.ok ? [] : [o.code]));
export const failureHints = <T>(os: Outcome<T>[]): (string | undefined)[] => os.flatMap((o) => (o.ok ? [] : [o.hint]));
