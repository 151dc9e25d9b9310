import type { z } from '@hono/zod-openapi';
import { withSession } from '#src/db/session.ts';
import { requireMember } from '../../auth.ts';
import { createRouter } from '../../create-router.ts';
import { ProblemError } from '../../problem.ts';
import { BOOKING_STATUSES } from '../bookings/bookings.routes.ts';
import { getAnalyticsSummary, type StatusCounts } from './analytics.routes.ts';

type Status = (typeof BOOKING_STATUSES)[number];
type Counts = z.infer<typeof StatusCounts>;

const MAX_DAYS = 366;
const zeroCounts = (): Counts => Object.fromEntries(BOOKING_STATUSES.map((s) => [s, 0])) as Counts;
const ratio = (a: number, b: number) => (b > 0 ? a / b : null);

interface UtilizationRow {
  provider_id: string;
  location_id: string;
  working_minutes: number;
  booked_minutes: number;
}

/** Sums working and booked minutes per key (provider or location). */
function rollUp(rows: UtilizationRow[], key: 'provider_id' | 'location_id') {
  const sums = new Map<string, { working: number; booked: number }>();
  for (const r of rows) {
    const s = sums.get(r[key]) ?? { working: 0, booked: 0 };
    s.working += r.working_minutes;
    s.booked += r.booked_minutes;
    sums.set(r[key], s);
  }
  return [...sums].map(([id, s]) => ({ id, working_minutes: s.working, booked_minutes: s.booked, utilization: ratio(s.booked, s.working) }));
}

export const analyticsRouter = createRouter().openapi(getAnalyticsSummary, async (c) => {
  const caller = requireMember(c);
  const { from, to } = c.req.valid('query');
  const days = (Date.parse(to) - Date.parse(from)) / 86_400_000;
  if (!(days > 0 && days <= MAX_DAYS)) {
    throw new ProblemError(422, 'invalid_range', `The period must be 1 to ${MAX_DAYS} days`, undefined, [
      { field: 'to', message: `Must be after from and at most ${MAX_DAYS} days later`, code: 'invalid_range' },
    ]);
  }
  const { stats, utilization } = await withSession(c.var.deps.sql, caller, async (tx) => {
    const [me] = await tx<{ role: string | null }[]>`select slotbase.current_member_role() as role`;
    if (me?.role !== 'owner' && me?.role !== 'admin') throw new ProblemError(403, 'forbidden', 'Analytics are for owners and admins');
    const stats = await tx<{ date: string; status: Status; n: number }[]>`
      select local_date::text as date, status, sum(bookings_count)::int as n
      from slotbase.booking_daily_stats
      where tenant_id = ${caller.tenantId} and local_date >= ${from}::date and local_date < ${to}::date
      group by local_date, status
      order by local_date, status`;
    const utilization = await tx<UtilizationRow[]>`
      select provider_id, location_id, working_minutes::float8 as working_minutes, booked_minutes::float8 as booked_minutes
      from slotbase.provider_utilization(${from}::date, ${to}::date)
      where tenant_id = ${caller.tenantId}
      order by provider_id, location_id`;
    return { stats, utilization };
  });

  const total = zeroCounts();
  const byDay = new Map<string, Counts>();
  for (const row of stats) {
    total[row.status] += row.n;
    const day = byDay.get(row.date) ?? zeroCounts();
    day[row.status] += row.n;
    byDay.set(row.date, day);
  }
  const sum = (counts: Counts) => BOOKING_STATUSES.reduce((n, s) => n + counts[s], 0);
  const all = sum(total);
  return c.json(
    {
      from,
      to,
      bookings: { total: all, by_status: total },
      no_show_rate: ratio(total.no_show, total.completed + total.no_show),
      cancellation_rate: ratio(total.cancelled, all - total.expired),
      by_day: [...byDay].map(([date, counts]) => ({ date, total: sum(counts), by_status: counts })),
      utilization: {
        providers: rollUp(utilization, 'provider_id').map(({ id, ...u }) => ({ provider_id: id, ...u })),
        locations: rollUp(utilization, 'location_id').map(({ id, ...u }) => ({ location_id: id, ...u })),
      },
    },
    200,
  );
});
