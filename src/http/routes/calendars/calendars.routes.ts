import { createRoute, z } from '@hono/zod-openapi';
import { ids, manageToken } from '../../examples.ts';
import { jsonContent, problems, Timestamp, Uuid } from '../../openapi.ts';
import { IdParam, pageOf, PageQuery, peopleOnly } from '../../staff.ts';

/**
 * Calendars: the .ics of one booking (public, with its manage token) and per-provider
 * subscription feeds (a secret URL calendar apps poll).
 *
 * Routing `{code}.ics`: zod-openapi turns `/{code}.ics` into Hono's `/:code.ics`, a parameter
 * *named* `code.ics` that also matches paths without the suffix, so such a route can neither
 * validate `code` nor tell `/BK-X` from `/BK-X.ics`. The two `.ics` operations are therefore
 * documented here with their exact templates (`icsDownload`, `icsFeed`) and routed in the
 * handlers with a Hono regex parameter (`/:code{[^/]+\.ics}`), validated by the same 422 hook.
 */

const feedToken = 'sbcal_Jq7X2mT9vR4kLw8nZ3pB6yH1cF5dG0sA-uE_iOtQxYe';
const feedExample = {
  id: 'a7b8c9d0-e1f2-4a3b-8c4d-5e6f7a8b9c0d',
  provider_id: ids.provider,
  name: 'Phone',
  created_by: ids.providerUser,
  created_at: '2027-02-01T08:15:00.000Z',
};
const icsExample = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:-//Slotbase//Slotbase Scheduling//EN',
  'METHOD:PUBLISH',
  'BEGIN:VTIMEZONE',
  'TZID:Europe/Berlin',
  '…',
  'END:VTIMEZONE',
  'BEGIN:VEVENT',
  `UID:booking-${ids.booking}@slotbase`,
  'SEQUENCE:0',
  'DTSTAMP:20270220T141205Z',
  'DTSTART;TZID=Europe/Berlin:20270301T100000',
  'DTEND;TZID=Europe/Berlin:20270301T103000',
  'SUMMARY:Check-up – Sunrise Clinic',
  'LOCATION:Mitte\\, Hauptstr. 1',
  'STATUS:CONFIRMED',
  'END:VEVENT',
  'END:VCALENDAR',
  '',
].join('\r\n');

export const Code = z
  .string()
  .regex(/^[Bb][Kk]-[0-9A-Za-z]{6,8}$/)
  .openapi({ param: { name: 'code', in: 'path' }, example: 'BK-7F3K9QM', description: 'The booking code (the path ends in `.ics`)' });
export const FeedToken = z
  .string()
  .regex(/^sbcal_[A-Za-z0-9_-]{43}$/)
  .openapi({ param: { name: 'token', in: 'path' }, example: feedToken, description: 'The secret token of the feed URL (the path ends in `.ics`)' });
export const ManageTokenQuery = z.object({
  token: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({ param: { name: 'token', in: 'query' }, description: 'The manage token (or send it as X-Manage-Token)', example: manageToken }),
});

export const CalendarFeed = z
  .object({
    id: Uuid,
    provider_id: Uuid,
    name: z.string().nullable().openapi({ description: 'What the feed is for, to recognise it in the list' }),
    created_by: Uuid.nullable(),
    created_at: Timestamp,
  })
  .openapi('CalendarFeed', { example: feedExample });

export const CalendarFeedCreated = CalendarFeed.extend({
  url: z.string().openapi({
    description: 'The subscription URL, shown once (only its token\'s hash is stored): add it to Google, Apple or Outlook calendar by URL',
    example: `https://api.slotbase.example/v1/feeds/${feedToken}.ics`,
  }),
}).openapi('CalendarFeedCreated', { example: { ...feedExample, url: `https://api.slotbase.example/v1/feeds/${feedToken}.ics` } });

export const CalendarFeedCreate = z
  .strictObject({ name: z.string().trim().min(1).max(200).optional().openapi({ example: 'Phone' }) })
  .openapi('CalendarFeedCreate', { example: { name: 'Phone' } });

const calendarContent = (description: string) => ({
  description,
  content: { 'text/calendar': { schema: z.string().openapi({ description: 'iCalendar (RFC 5545)' }), example: icsExample } },
});

const tags = ['Calendars'];
const feedsDescription =
  'A feed is a secret URL that calendar apps poll (Google Calendar: "From URL"; Apple: "New Calendar Subscription"; Outlook: ' +
  '"Subscribe from web"). It lists the provider\'s bookings from 30 days ago to a year ahead, at every location, cancelled ones ' +
  'as STATUS:CANCELLED. Owners and admins (of the provider\'s home location when location-scoped) manage the feeds of providers; ' +
  'a provider-role member linked to a provider manages their own. API keys cannot (a feed URL is a standing credential to booking data).';

/** Documentation only: routed in calendars.handlers.ts (see the top of this file). */
export const icsDownload = createRoute({
  method: 'get',
  path: '/v1/public/bookings/{code}.ics',
  operationId: 'downloadPublicBookingCalendar',
  tags: ['Public booking', ...tags],
  summary: 'The booking as an .ics file (add to calendar)',
  description:
    'METHOD:PUBLISH with one event whose UID never changes for this booking; its SEQUENCE grows with each reschedule and once it is ' +
    'cancelled (then STATUS:CANCELLED), so downloading again updates the copy in the calendar. A wrong code and a wrong token are the same 404.',
  request: { params: z.object({ code: Code }), query: ManageTokenQuery },
  responses: { 200: calendarContent('The booking as iCalendar'), ...problems(404, 422) },
});

/** Documentation only: routed in calendars.handlers.ts (see the top of this file). */
export const icsFeed = createRoute({
  method: 'get',
  path: '/v1/feeds/{token}.ics',
  operationId: 'getCalendarFeed',
  tags,
  summary: 'A provider\'s calendar feed (subscribe by URL)',
  description: `${feedsDescription} Answers with an ETag (If-None-Match → 304) and Cache-Control for polling. A revoked or unknown token is 404.`,
  request: { params: z.object({ token: FeedToken }) },
  responses: { 200: calendarContent('The provider\'s bookings as iCalendar'), 304: { description: 'Unchanged since the ETag sent in If-None-Match' }, ...problems(404, 422) },
});

const ProviderParam = z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' }, example: ids.provider }) });

export const createCalendarFeed = createRoute({
  method: 'post',
  path: '/v1/providers/{id}/calendar-feeds',
  operationId: 'createCalendarFeed',
  tags,
  summary: 'Create a subscription feed of a provider\'s bookings (the URL is shown once)',
  description: feedsDescription,
  ...peopleOnly,
  request: { params: ProviderParam, body: { required: false, content: { 'application/json': { schema: CalendarFeedCreate } } } },
  responses: { 201: jsonContent(CalendarFeedCreated, 'Created: subscribe to `url`'), ...problems(400, 401, 403, 404, 413, 415, 422) },
});

export const listCalendarFeeds = createRoute({
  method: 'get',
  path: '/v1/providers/{id}/calendar-feeds',
  operationId: 'listCalendarFeeds',
  tags,
  summary: 'A provider\'s feeds (without their URLs)',
  description: feedsDescription,
  ...peopleOnly,
  request: { params: ProviderParam, query: PageQuery },
  responses: { 200: jsonContent(pageOf(CalendarFeed, 'CalendarFeed', { data: [feedExample], next_cursor: null }), 'Feeds, oldest first'), ...problems(401, 403, 404, 422) },
});

export const deleteCalendarFeed = createRoute({
  method: 'delete',
  path: '/v1/calendar-feeds/{id}',
  operationId: 'deleteCalendarFeed',
  tags,
  summary: 'Revoke a feed: its URL stops working at once',
  description: feedsDescription,
  ...peopleOnly,
  request: { params: IdParam },
  responses: { 204: { description: 'Revoked' }, ...problems(401, 403, 404, 422) },
});
