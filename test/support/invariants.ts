import type { Queryable, Row } from './db.ts';

/**
 * Whole-database invariants of the booking engine, checked with SQL after a test (or a torture
 * run) has acted through the booking functions. They read every tenant, so run them as the table
 * owner (the test database's superuser connection, `db()`), never as a user: RLS would hide rows.
 *
 * Each check returns the offending rows; a healthy database returns `[]` from every one of them,
 * so a test asserts `expect(await noOverlappingActiveClaims(db())).toEqual([])`.
 * Pass `tenantId` to restrict a check to one tenant (default: the whole database).
 */

/** Statuses that occupy time (claims) or seats. */
export const ACTIVE_STATUSES = ['held', 'pending', 'confirmed', 'completed', 'no_show'] as const;
/** Terminal statuses that release time and seats. */
export const INACTIVE_STATUSES = ['cancelled', 'rejected', 'expired'] as const;

const ACTIVE_SQL = `('held', 'pending', 'confirmed', 'completed', 'no_show')`;

/** `and <alias>.tenant_id = $1` when a tenant is given. */
function scoped(alias: string, tenantId: string | undefined): { where: string; params: unknown[] } {
  return tenantId ? { where: `and ${alias}.tenant_id = $1::uuid`, params: [tenantId] } : { where: '', params: [] };
}

/**
 * (a) No two ACTIVE claims of the same (tenant_id, subject_id) overlap.
 * Returns one row per overlapping pair (claim_a < claim_b).
 */
export async function overlappingActiveClaims(db: Queryable, tenantId?: string): Promise<Row[]> {
  const s = scoped('a', tenantId);
  return db.query(
    `select a.tenant_id, a.subject_id, a.subject_kind,
            a.id as claim_a, a.booking_id as booking_a, a.session_id as session_a, a.busy::text as busy_a,
            b.id as claim_b, b.booking_id as booking_b, b.session_id as session_b, b.busy::text as busy_b
       from slotbase.booking_claims as a
       join slotbase.booking_claims as b
         on b.tenant_id = a.tenant_id and b.subject_id = a.subject_id and a.id < b.id and a.busy && b.busy
      where a.is_active and b.is_active ${s.where}
      order by a.tenant_id, a.subject_id, a.id, b.id`,
    s.params,
  );
}

/**
 * (b) For every session: seats_taken = sum(party_size) of its active bookings, and
 * 0 <= seats_taken <= capacity (so the check still bites if the table's own check is gone).
 */
export async function sessionSeatMismatches(db: Queryable, tenantId?: string): Promise<Row[]> {
  const s = scoped('se', tenantId);
  return db.query(
    `select se.tenant_id, se.id as session_id, se.capacity, se.seats_taken, coalesce(sum_active.seats, 0)::int as booked_seats
       from slotbase.sessions as se
       left join lateral (
         select sum(b.party_size) as seats
           from slotbase.bookings as b
          where b.tenant_id = se.tenant_id and b.session_id = se.id and b.status in ${ACTIVE_SQL}
       ) as sum_active on true
      where (se.seats_taken <> coalesce(sum_active.seats, 0)
             or se.seats_taken < 0
             or se.seats_taken > se.capacity) ${s.where}
      order by se.tenant_id, se.id`,
    s.params,
  );
}

/**
 * (c) Claims match bookings: every active appointment booking has exactly one active claim of its
 * provider and exactly one per required resource of its service at its location (all or nothing:
 * never a "half booking"); no booking has any other active claim; inactive and group bookings
 * have no active claim at all.
 * A row per (booking, subject) whose active-claim count differs from the expected 0 or 1:
 * `expected` (0|1) and `actual` (count).
 */
export async function bookingClaimMismatches(db: Queryable, tenantId?: string): Promise<Row[]> {
  const s = scoped('b', tenantId);
  const c = scoped('c', tenantId);
  return db.query(
    `with active_appointments as (
       select b.tenant_id, b.id, b.service_id, b.provider_id, b.location_id, b.status
         from slotbase.bookings as b
         join slotbase.services as sv on sv.tenant_id = b.tenant_id and sv.id = b.service_id
        where sv.kind = 'appointment' and b.session_id is null and b.status in ${ACTIVE_SQL} ${s.where}
     ),
     required as (
       select b.tenant_id, b.id as booking_id, b.provider_id as subject_id, 'provider'::text as subject_kind
         from active_appointments as b
       union all
       select b.tenant_id, b.id, r.id, 'resource'
         from active_appointments as b
         join slotbase.service_resources as sr on sr.tenant_id = b.tenant_id and sr.service_id = b.service_id
         join slotbase.resources as r
           on r.tenant_id = sr.tenant_id and r.id = sr.resource_id and r.location_id = b.location_id and r.deleted_at is null
     ),
     actual as (
       select c.tenant_id, c.booking_id, c.subject_id, c.subject_kind::text as subject_kind, count(*)::int as n
         from slotbase.booking_claims as c
        where c.is_active and c.booking_id is not null ${c.where}
        group by 1, 2, 3, 4
     )
     select coalesce(r.tenant_id, a.tenant_id) as tenant_id,
            coalesce(r.booking_id, a.booking_id) as booking_id,
            bk.status, bk.session_id,
            coalesce(r.subject_kind, a.subject_kind) as subject_kind,
            coalesce(r.subject_id, a.subject_id) as subject_id,
            (case when r.booking_id is null then 0 else 1 end) as expected,
            coalesce(a.n, 0) as actual
       from required as r
       full join actual as a using (tenant_id, booking_id, subject_id, subject_kind)
       left join slotbase.bookings as bk
         on bk.tenant_id = coalesce(r.tenant_id, a.tenant_id) and bk.id = coalesce(r.booking_id, a.booking_id)
      where coalesce(a.n, 0) <> (case when r.booking_id is null then 0 else 1 end)
      order by 1, 2, 5, 6`,
    s.params,
  );
}

/**
 * (c') Every active claim of a booking covers exactly the booking's time widened by the service's
 * buffers: busy = [starts_at - buffer_before, ends_at + buffer_after), and the claim's plain
 * starts_at/ends_at columns are the bounds of busy; the booking's own starts_at/ends_at are the
 * bounds of its `during`.
 */
export async function claimWindowMismatches(db: Queryable, tenantId?: string): Promise<Row[]> {
  const s = scoped('c', tenantId);
  return db.query(
    `select c.tenant_id, c.id as claim_id, c.booking_id, c.subject_id, c.busy::text as busy,
            c.starts_at as claim_starts_at, c.ends_at as claim_ends_at,
            b.starts_at, b.ends_at, b.during::text as during,
            sv.buffer_before_minutes, sv.buffer_after_minutes
       from slotbase.booking_claims as c
       join slotbase.bookings as b on b.tenant_id = c.tenant_id and b.id = c.booking_id
       join slotbase.services as sv on sv.tenant_id = b.tenant_id and sv.id = b.service_id
      where c.is_active ${s.where}
        and (c.busy is distinct from tstzrange(b.starts_at - make_interval(mins => sv.buffer_before_minutes),
                                               b.ends_at + make_interval(mins => sv.buffer_after_minutes), '[)')
             or c.starts_at is distinct from lower(c.busy)
             or c.ends_at is distinct from upper(c.busy)
             or b.starts_at is distinct from lower(b.during)
             or b.ends_at is distinct from upper(b.during))
      order by c.tenant_id, c.id`,
    s.params,
  );
}

/**
 * (c'') Every scheduled session holds exactly one active claim: its provider's, with no booking
 * (inserting a session claims its provider once; group bookings claim nothing themselves);
 * a cancelled session holds none.
 */
export async function sessionClaimMismatches(db: Queryable, tenantId?: string): Promise<Row[]> {
  const s = scoped('se', tenantId);
  return db.query(
    `select se.tenant_id, se.id as session_id, se.provider_id, se.status,
            count(c.id)::int as active_claims,
            (count(c.id) filter (where c.subject_id = se.provider_id and c.subject_kind::text = 'provider' and c.booking_id is null))::int as provider_claims
       from slotbase.sessions as se
       left join slotbase.booking_claims as c
         on c.tenant_id = se.tenant_id and c.session_id = se.id and c.is_active
      where true ${s.where}
      group by se.tenant_id, se.id, se.provider_id, se.status
     having (se.status = 'scheduled'
             and (count(c.id) <> 1
                  or count(c.id) filter (where c.subject_id = se.provider_id and c.subject_kind::text = 'provider' and c.booking_id is null) <> 1))
         or (se.status <> 'scheduled' and count(c.id) <> 0)
      order by se.tenant_id, se.id`,
    s.params,
  );
}

/** (d) booking_events has at least one row per booking: the bookings that have none. */
export async function bookingsWithoutEvents(db: Queryable, tenantId?: string): Promise<Row[]> {
  const s = scoped('b', tenantId);
  return db.query(
    `select b.tenant_id, b.id as booking_id, b.status
       from slotbase.bookings as b
      where not exists (select 1 from slotbase.booking_events as e where e.tenant_id = b.tenant_id and e.booking_id = b.id)
        ${s.where}
      order by b.tenant_id, b.id`,
    s.params,
  );
}

/** (d') The audit reached the current state: some event of each booking has to_status = its status. */
export async function bookingsWithoutEventForStatus(db: Queryable, tenantId?: string): Promise<Row[]> {
  const s = scoped('b', tenantId);
  return db.query(
    `select b.tenant_id, b.id as booking_id, b.status
       from slotbase.bookings as b
      where not exists (
              select 1 from slotbase.booking_events as e
               where e.tenant_id = b.tenant_id and e.booking_id = b.id and e.to_status = b.status)
        ${s.where}
      order by b.tenant_id, b.id`,
    s.params,
  );
}

export const INVARIANTS = {
  overlappingActiveClaims,
  sessionSeatMismatches,
  bookingClaimMismatches,
  claimWindowMismatches,
  sessionClaimMismatches,
  bookingsWithoutEvents,
  bookingsWithoutEventForStatus,
} as const;

export type InvariantName = keyof typeof INVARIANTS;

/**
 * Runs every invariant and returns the violations by name; `{}` when all hold, so a test asserts
 * `expect(await invariantViolations(db())).toEqual({})` and a failure names the broken rule.
 */
export async function invariantViolations(db: Queryable, tenantId?: string): Promise<Partial<Record<InvariantName, Row[]>>> {
  const out: Partial<Record<InvariantName, Row[]>> = {};
  for (const [name, check] of Object.entries(INVARIANTS) as [InvariantName, (q: Queryable, t?: string) => Promise<Row[]>][]) {
    const rows = await check(db, tenantId);
    if (rows.length > 0) out[name] = rows;
  }
  return out;
}
