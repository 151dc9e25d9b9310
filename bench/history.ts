import type postgres from 'postgres';
import type { Subject, World } from './fixtures.ts';
import { msSince, now } from './lib/stats.ts';

/**
 * Booking history, loaded set-based as the table owner straight into slotbase.bookings and
 * slotbase.booking_claims (INSERT … SELECT, ~100k rows per statement).
 *
 * Triggers are skipped for the load (session_replication_role = replica): history must not
 * enqueue a million reminder jobs or audit rows, and the claims are written here explicitly.
 * The exclusion constraint is an index, so it is still enforced: every subject's active claims
 * are laid out without overlap.
 *
 * The column lists come from the catalog, so the loader follows the migration: known columns get
 * realistic values, generated columns are skipped, and any other NOT NULL column without a default
 * gets a value by name (a source field of the same name) or by type.
 */

const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';
const ROWS_PER_STATEMENT = 100_000;
const STEP_MINUTES = 15;
/** Future history (after the query window) is bounded, as a booking horizon bounds it in reality. */
const FUTURE_CAPACITY_PER_PROVIDER = 60 * 96;

interface Column {
  name: string;
  type: string;
  notNull: boolean;
  hasDefault: boolean;
  generated: boolean;
}

async function columnsOf(sql: postgres.Sql, table: string): Promise<Column[]> {
  const rows = await sql<{ name: string; type: string; not_null: boolean; has_default: boolean; generated: boolean }[]>`
    select a.attname as name, format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as not_null,
           a.atthasdef as has_default, (a.attgenerated <> '' or a.attidentity = 'a') as generated
    from pg_attribute as a
    where a.attrelid = ${`slotbase.${table}`}::regclass and a.attnum > 0 and not a.attisdropped
    order by a.attnum`;
  return rows.map((r) => ({ name: r.name, type: r.type, notNull: r.not_null, hasDefault: r.has_default, generated: r.generated }));
}

/** Fields every source row provides (see the SOURCE_* queries). */
const SOURCE_FIELDS = ['tenant_id', 'booking_id', 'service_id', 'provider_id', 'location_id', 'starts_at', 'ends_at', 'status', 'seq'];

function codeExpr(): string {
  const base = CODE_ALPHABET.length;
  const parts = Array.from(
    { length: 7 },
    (_, i) => `substr('${CODE_ALPHABET}', ((s.seq / ${base ** i}::bigint) % ${base})::int + 1, 1)`,
  );
  return `'BK-' || ${parts.join(' || ')}`;
}

const BOOKING_VALUES: Record<string, string> = {
  tenant_id: 's.tenant_id',
  id: 's.booking_id',
  code: codeExpr(),
  service_id: 's.service_id',
  provider_id: 's.provider_id',
  location_id: 's.location_id',
  contact_name: `'Bench Customer'`,
  contact_email: `'c' || s.seq || '@bench.example'`,
  party_size: '1',
  during: `tstzrange(s.starts_at, s.ends_at, '[)')`,
  starts_at: 's.starts_at',
  ends_at: 's.ends_at',
  status: 's.status',
  source: `'public'`,
  created_at: `least(now(), s.starts_at - interval '7 days')`,
  updated_at: `least(now(), s.starts_at - interval '7 days')`,
};

const CLAIM_VALUES: Record<string, string> = {
  tenant_id: 's.tenant_id',
  id: 'gen_random_uuid()',
  booking_id: 's.booking_id',
  subject_id: 's.provider_id',
  subject_kind: `'provider'`,
  busy: `tstzrange(s.starts_at, s.ends_at, '[)')`,
  starts_at: 's.starts_at',
  ends_at: 's.ends_at',
  is_active: `s.status not in ('cancelled', 'rejected', 'expired')`,
  created_at: `least(now(), s.starts_at - interval '7 days')`,
  updated_at: `least(now(), s.starts_at - interval '7 days')`,
};

function fillerFor(table: string, c: Column): string {
  if (SOURCE_FIELDS.includes(c.name)) return `s.${c.name}`;
  const t = c.type;
  if (t === 'bytea') return `sha256(('bench-' || s.seq)::bytea)`;
  if (t === 'text' || t.startsWith('character')) return `md5('bench-' || s.seq)`;
  if (t === 'uuid') return 'gen_random_uuid()';
  if (['integer', 'bigint', 'smallint', 'numeric'].includes(t)) return '0';
  if (t === 'boolean') return 'false';
  if (t.startsWith('timestamp')) return 'now()';
  if (t === 'jsonb' || t === 'json') return `'{}'`;
  throw new Error(`history loader: cannot fill ${table}.${c.name} (${t}, not null, no default); teach bench/history.ts about it`);
}

function insertList(table: string, columns: Column[], known: Record<string, string>): { names: string; values: string; filled: string[] } {
  const names: string[] = [];
  const values: string[] = [];
  const filled: string[] = [];
  for (const c of columns) {
    if (c.generated) continue;
    const v = known[c.name];
    if (v !== undefined) {
      names.push(c.name);
      values.push(v);
    } else if (c.notNull && !c.hasDefault) {
      names.push(c.name);
      values.push(fillerFor(table, c));
      filled.push(c.name);
    }
  }
  return { names: names.join(', '), values: values.join(', '), filled };
}

/** A run of bookings for one subject: starts at base + j·dir·15 min for j in [firstJ, firstJ + n). */
interface Run {
  tenant_id: string;
  service_id: string;
  provider_id: string;
  location_id: string;
  base: string;
  dir: 1 | -1;
  dur: number;
  kind: 'past' | 'future';
  first_j: number;
  n: number;
  seq0: number;
}

const SOURCE_RUNS = `
  select e.tenant_id, gen_random_uuid() as booking_id, e.service_id, e.provider_id, e.location_id,
         e.base + (g.j * e.dir) * interval '${STEP_MINUTES} minutes' as starts_at,
         e.base + (g.j * e.dir) * interval '${STEP_MINUTES} minutes' + e.dur * interval '1 minute' as ends_at,
         case when e.kind = 'past'
              then case g.j % 10 when 0 then 'cancelled' when 1 then 'no_show' else 'completed' end
              else case g.j % 10 when 0 then 'cancelled' else 'confirmed' end end as status,
         e.seq0 + (g.j - e.first_j) as seq
  from jsonb_to_recordset($1::text::jsonb) as e(tenant_id uuid, service_id uuid, provider_id uuid, location_id uuid,
       base timestamptz, dir int, dur int, kind text, first_j int, n int, seq0 bigint)
  cross join lateral generate_series(e.first_j, e.first_j + e.n - 1) as g(j)`;

/**
 * Bookings of the 5 benchmark providers inside the query window, on the slot grid within their
 * working hours: `perProvider` each (every 10th cancelled), the same at every table size, so the
 * slots a query returns do not change while the history grows.
 */
const SOURCE_WINDOW = `
  select $1::uuid as tenant_id, gen_random_uuid() as booking_id, $2::uuid as service_id, p.provider_id, $3::uuid as location_id,
         ((($4::date + (x.pos / $7::int)) + time '08:00' + (x.pos % $7::int) * interval '${STEP_MINUTES} minutes') at time zone $5::text) as starts_at,
         ((($4::date + (x.pos / $7::int)) + time '08:00' + (x.pos % $7::int) * interval '${STEP_MINUTES} minutes') at time zone $5::text)
           + interval '${STEP_MINUTES} minutes' as ends_at,
         case when i % 10 = 0 then 'cancelled' else 'confirmed' end as status,
         $8::bigint + (p.ord - 1) * $6::int + i as seq
  from unnest($9::uuid[]) with ordinality as p(provider_id, ord)
  cross join generate_series(0, $6::int - 1) as i
  cross join lateral (select ((i * 7 + p.ord * 13) % ($7::int * 90))::int as pos) as x`;

export interface HistoryPlan {
  /** The benchmark world whose 5 providers are queried. */
  world: World;
  /** First local date of the 90-day query window, and its first instant / end. */
  windowFirstDate: string;
  windowFrom: Date;
  windowTo: Date;
  /** Other tenants' providers. */
  others: Subject[];
  /** In-window bookings per benchmark provider. */
  windowPerProvider: number;
  /** Share of the added history that goes to the benchmark providers (the rest to other tenants). */
  benchShare: number;
}

export interface LoadStep {
  target: number;
  added: number;
  seconds: number;
  rowsPerSecond: number;
  vacuumAnalyzeSeconds: number;
}

export class HistoryLoader {
  private readonly nextJ = new Map<string, number>();
  private readonly futureUsed = new Map<string, number>();
  private seq = 1_000_000_000;
  private total = 0;
  private bookingCols: Column[] = [];
  private claimCols: Column[] = [];
  filledColumns: string[] = [];

  constructor(
    private readonly sql: postgres.Sql,
    private readonly plan: HistoryPlan,
  ) {}

  /** Rows in slotbase.bookings so far (counted, not assumed). */
  get count(): number {
    return this.total;
  }

  async init(): Promise<void> {
    this.bookingCols = await columnsOf(this.sql, 'bookings');
    this.claimCols = await columnsOf(this.sql, 'booking_claims');
    await this.sql.unsafe('set session_replication_role = replica');
    await this.sql.unsafe('set synchronous_commit = off');
    await this.sql.unsafe(`set maintenance_work_mem = '256MB'`);
    await this.sql.unsafe(`set work_mem = '64MB'`);
    const [row] = await this.sql<{ n: string }[]>`select count(*) as n from slotbase.bookings`;
    this.total = Number(row!.n);
  }

  private statement(source: string): string {
    const b = insertList('bookings', this.bookingCols, BOOKING_VALUES);
    const c = insertList('booking_claims', this.claimCols, CLAIM_VALUES);
    for (const f of [...b.filled.map((n) => `bookings.${n}`), ...c.filled.map((n) => `booking_claims.${n}`)]) {
      if (!this.filledColumns.includes(f)) this.filledColumns.push(f);
    }
    return `
      with s as materialized (${source}),
      b as (insert into slotbase.bookings (${b.names}) select ${b.values} from s)
      insert into slotbase.booking_claims (${c.names}) select ${c.values} from s`;
  }

  /** The fixed in-window bookings of the benchmark providers (call once, first). */
  async loadWindow(slotsPerDay: number): Promise<number> {
    const { world, windowFirstDate, windowPerProvider } = this.plan;
    const n = windowPerProvider * world.providerIds.length;
    await this.sql.unsafe(this.statement(SOURCE_WINDOW), [
      world.tenantId,
      world.serviceId,
      world.locationId,
      windowFirstDate,
      world.timeZone,
      windowPerProvider,
      slotsPerDay,
      this.seq,
      world.providerIds,
    ] as never[]);
    this.seq += n;
    this.total += n;
    return n;
  }

  /** Adds history until the table holds `target` bookings; VACUUM ANALYZE afterwards. */
  async growTo(target: number, onProgress?: (done: number, of: number) => void): Promise<LoadStep> {
    const add = Math.max(0, target - this.total);
    const start = now();
    const runs = this.planRuns(add);
    let batch: Run[] = [];
    let batchRows = 0;
    let done = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      await this.sql.unsafe(this.statement(SOURCE_RUNS), [JSON.stringify(batch)]);
      done += batchRows;
      onProgress?.(done, add);
      batch = [];
      batchRows = 0;
    };
    for (const run of runs) {
      let rest = run;
      while (rest.n > 0) {
        const take = Math.min(rest.n, ROWS_PER_STATEMENT - batchRows);
        batch.push({ ...rest, n: take });
        batchRows += take;
        rest = { ...rest, first_j: rest.first_j + take, n: rest.n - take, seq0: rest.seq0 + take };
        if (batchRows >= ROWS_PER_STATEMENT) await flush();
      }
    }
    await flush();
    const loadSeconds = msSince(start) / 1000;
    const vStart = now();
    await this.sql.unsafe('vacuum (analyze) slotbase.bookings, slotbase.booking_claims');
    const vacuumAnalyzeSeconds = msSince(vStart) / 1000;
    this.total += add;
    return {
      target,
      added: add,
      seconds: loadSeconds,
      rowsPerSecond: add / Math.max(loadSeconds, 1e-3),
      vacuumAnalyzeSeconds,
    };
  }

  private planRuns(add: number): Run[] {
    const { world, windowFrom, windowTo, others, benchShare } = this.plan;
    const benchSubjects: Subject[] = world.providerIds.map((providerId) => ({
      tenantId: world.tenantId,
      providerId,
      serviceId: world.serviceId,
      locationId: world.locationId,
    }));
    const toBench = others.length === 0 ? add : Math.round(add * benchShare);
    const runs: Run[] = [];
    const pastBase = new Date(windowFrom.getTime() - 24 * 3600_000 - STEP_MINUTES * 60_000).toISOString();
    const futureBase = new Date(windowTo.getTime() + 24 * 3600_000).toISOString();
    const spread = (subjects: Subject[], total: number, futureShare: number) => {
      subjects.forEach((s, i) => {
        const n = Math.floor(total / subjects.length) + (i < total % subjects.length ? 1 : 0);
        if (n === 0) return;
        const usedFuture = this.futureUsed.get(s.providerId) ?? 0;
        const future = Math.min(Math.round(n * futureShare), FUTURE_CAPACITY_PER_PROVIDER - usedFuture);
        const past = n - future;
        const common = {
          tenant_id: s.tenantId,
          service_id: s.serviceId,
          provider_id: s.providerId,
          location_id: s.locationId,
          dur: STEP_MINUTES,
        };
        if (future > 0) {
          runs.push({ ...common, base: futureBase, dir: 1, kind: 'future', first_j: usedFuture, n: future, seq0: this.seq });
          this.seq += future;
          this.futureUsed.set(s.providerId, usedFuture + future);
        }
        if (past > 0) {
          const j = this.nextJ.get(s.providerId) ?? 0;
          runs.push({ ...common, base: pastBase, dir: -1, kind: 'past', first_j: j, n: past, seq0: this.seq });
          this.seq += past;
          this.nextJ.set(s.providerId, j + past);
        }
      });
    };
    spread(benchSubjects, toBench, 0.1);
    spread(others, add - toBench, 0.05);
    return runs;
  }
}
