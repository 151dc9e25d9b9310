import { createRoute, z } from '@hono/zod-openapi';
import { jsonContent, problems, Uuid } from '../../openapi.ts';
import { peopleOnly } from '../../staff.ts';
import { otherExamples } from '../../examples.ts';
import { BOOKING_STATUSES } from '../bookings/bookings.routes.ts';

const LocalDate = z.iso.date().openapi({ example: '2027-03-01' });

export const StatusCounts = z
  .object(Object.fromEntries(BOOKING_STATUSES.map((s) => [s, z.number().int()])) as Record<(typeof BOOKING_STATUSES)[number], z.ZodNumber>)
  .openapi('BookingStatusCounts', { example: otherExamples.statusCounts });

const Utilization = {
  working_minutes: z.number().openapi({ description: 'Minutes of working hours in the period (weekly hours and date overrides, minus time off)' }),
  booked_minutes: z.number().openapi({ description: 'Minutes of that period taken by held, pending, confirmed, completed or no-show bookings (a group session counts once)' }),
  utilization: z.number().nullable().openapi({ description: 'booked_minutes ÷ working_minutes; null without working time', example: 0.42 }),
};

export const AnalyticsSummary = z
  .object({
    from: LocalDate,
    to: LocalDate,
    bookings: z.object({ total: z.number().int(), by_status: StatusCounts }),
    no_show_rate: z.number().nullable().openapi({ description: 'no_show ÷ (completed + no_show); null when none has an outcome yet' }),
    cancellation_rate: z.number().nullable().openapi({ description: 'cancelled ÷ (all bookings − expired holds); null without bookings' }),
    by_day: z.array(z.object({ date: LocalDate, total: z.number().int(), by_status: StatusCounts })).openapi({ description: 'Local days (in each booking\'s location zone) that have bookings, in order' }),
    utilization: z.object({
      providers: z.array(z.object({ provider_id: Uuid, ...Utilization })),
      locations: z.array(z.object({ location_id: Uuid, ...Utilization })),
    }),
  })
  .openapi('AnalyticsSummary', { example: otherExamples.analytics });

export const SummaryQuery = z.object({
  from: LocalDate.openapi({ param: { name: 'from', in: 'query' }, description: 'First local day of the period' }),
  to: LocalDate.openapi({ param: { name: 'to', in: 'query' }, description: 'The local day after the period (exclusive); at most 366 days after `from`' }),
});

export const getAnalyticsSummary = createRoute({
  method: 'get',
  path: '/v1/analytics/summary',
  operationId: 'getAnalyticsSummary',
  tags: ['Analytics'],
  ...peopleOnly,
  summary: 'Bookings by status and local day, utilization per provider and location, no-show and cancellation rates (owners and admins)',
  description:
    'Days are local days in the zone of each booking\'s location; a booking counts on the day it starts. ' +
    'Only bookings you can see count (an admin scoped to a branch sees that branch). Other roles get 403.',
  request: { query: SummaryQuery },
  responses: { 200: jsonContent(AnalyticsSummary, 'The summary'), ...problems(401, 403, 422) },
});
