import type { Buffer } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import type postgres from 'postgres';
import { etag } from 'hono/etag';
import type { z } from '@hono/zod-openapi';
import { withSession } from '#src/db/session.ts';
import { bookingInvite, calendarFeed, type CalendarBooking } from '#src/lib/ics.ts';
import { requireMember } from '../../auth.ts';
import { createRouter } from '../../create-router.ts';
import { deleteRow, listRows, notFound, present, type TableSpec } from '../../crud.ts';
import type { AppEnv } from '../../env.ts';
import { ProblemError } from '../../problem.ts';
import {
  type CalendarFeed,
  createCalendarFeed,
  deleteCalendarFeed,
  icsDownload,
  icsFeed,
  listCalendarFeeds,
  ManageTokenQuery,
} from './calendars.routes.ts';

type FeedRow = z.infer<typeof CalendarFeed>;

export const FEEDS: TableSpec = {
  table: 'slotbase.calendar_feeds',
  columns: 'id, provider_id, name, created_by, created_at',
  softDelete: false,
};

/** A row of slotbase.calendar_event. */
interface CalendarEventRow {
  booking_id: string;
  code: string;
  status: string;
  starts_at: Date;
  ends_at: Date;
  time_zone: string;
  service_name: string;
  provider_name: string;
  provider_email: string | null;
  location_name: string;
  location_address: string | null;
  tenant_name: string;
  contact_name: string;
  contact_email: string | null;
  contact_phone: string | null;
  party_size: number;
  sequence: number;
  created_at: Date;
  updated_at: Date;
}

/** How often subscribed clients should poll (REFRESH-INTERVAL, and the Cache-Control max-age). */
const FEED_REFRESH_MINUTES = 15;

/** `sbcal_` + 43 base64url characters (32 random bytes); the database keeps its sha256 only. */
function generateFeedToken(): { token: string; hash: Buffer } {
  const token = `sbcal_${randomBytes(32).toString('base64url')}`;
  return { token, hash: createHash('sha256').update(token).digest() };
}

/** Where feed URLs point: PUBLIC_URL when configured (behind a proxy), else the origin this request reached. */
const originOf = (c: Context<AppEnv>) => c.var.deps.publicUrl?.replace(/\/$/, '') ?? new URL(c.req.url).origin;

/** Validation for the hand-routed .ics operations: the same 422 problem as every other route. */
function validated<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ProblemError(
    422,
    'validation_failed',
    'The request is not valid',
    undefined,
    result.error.issues.map((i) => ({ field: i.path.join('.') || '(param)', message: i.message, code: i.code })),
  );
}

const place = (e: CalendarEventRow) => [e.location_name, e.location_address].filter(Boolean).join(', ');

/** The booker's view of their booking (the public download). */
function bookerEvent(e: CalendarEventRow): CalendarBooking {
  return {
    id: e.booking_id,
    code: e.code,
    status: e.status,
    starts_at: e.starts_at,
    ends_at: e.ends_at,
    time_zone: e.time_zone,
    summary: `${e.service_name} – ${e.tenant_name}`,
    description: `${e.service_name} with ${e.provider_name}. Booking code ${e.code}.`,
    location: place(e),
    organizer: { name: e.tenant_name },
    sequence: e.sequence,
    created_at: e.created_at,
    updated_at: e.updated_at,
  };
}

/** The provider's view of a booking (their feed): who is coming and how to reach them. */
function providerEvent(e: CalendarEventRow): CalendarBooking {
  const party = e.party_size > 1 ? ` (party of ${e.party_size})` : '';
  const lines = [
    `${e.contact_name}${party}`,
    e.contact_email ? `Email: ${e.contact_email}` : null,
    e.contact_phone ? `Phone: ${e.contact_phone}` : null,
    `Booking ${e.code} (${e.status})`,
  ];
  return {
    id: e.booking_id,
    code: e.code,
    status: e.status,
    starts_at: e.starts_at,
    ends_at: e.ends_at,
    time_zone: e.time_zone,
    summary: `${e.service_name}: ${e.contact_name}${party}`,
    description: lines.filter(Boolean).join('\n'),
    location: place(e),
    organizer: { name: e.tenant_name },
    sequence: e.sequence,
    created_at: e.created_at,
    updated_at: e.updated_at,
  };
}

const calendarResponse = (c: Context<AppEnv>, body: string, headers: Record<string, string>) =>
  c.body(body, 200, { 'content-type': 'text/calendar; charset=utf-8', ...headers });

/**
 * 404 when the caller cannot see the provider (unknown, another tenant's, outside their scope),
 * 403 when they see it but may not manage its feeds.
 */
async function assertCanManage(tx: postgres.TransactionSql, providerId: string): Promise<void> {
  const [row] = await tx<{ can: boolean; visible: boolean }[]>`
    select slotbase.can_manage_calendar_feeds(${providerId}) as can,
           exists (select 1 from slotbase.providers where id = ${providerId} and deleted_at is null) as visible`;
  if (row?.can) return;
  if (row?.visible) throw new ProblemError(403, 'forbidden', 'Not allowed');
  throw notFound('Provider');
}

export const calendarsRouter = createRouter();

// The .ics operations: documented with their exact templates, routed with a Hono regex parameter
// (zod-openapi cannot route `{code}.ics`; see calendars.routes.ts). Registered before the public
// router, whose `/v1/public/bookings/{code}` would otherwise take `BK-….ics` as a code.
calendarsRouter.openAPIRegistry.registerPath(icsDownload);
calendarsRouter.openAPIRegistry.registerPath(icsFeed);

calendarsRouter.get('/v1/public/bookings/:code{[^/]+\\.ics}', async (c) => {
  const { code } = validated(icsDownload.request.params, { code: c.req.param('code').slice(0, -'.ics'.length) });
  const query = validated(ManageTokenQuery, c.req.query());
  const token = query.token ?? c.req.header('x-manage-token');
  if (!token) throw notFound('Booking');
  const [event] = await withSession(c.var.deps.sql, c.var.caller, (tx) =>
    tx<CalendarEventRow[]>`select * from slotbase.booking_calendar_event(${code}, ${token})`,
  );
  return calendarResponse(c, bookingInvite(bookerEvent(event!), 'PUBLISH'), {
    'content-disposition': `attachment; filename="${event!.code}.ics"`,
    // The token is in the URL: never store it in shared caches.
    'cache-control': 'private, no-store',
  });
});

calendarsRouter.get('/v1/feeds/:token{[^/]+\\.ics}', etag(), async (c) => {
  const { token } = validated(icsFeed.request.params, { token: c.req.param('token').slice(0, -'.ics'.length) });
  const { feed, events } = await withSession(c.var.deps.sql, c.var.caller, async (tx) => {
    const [f] = await tx<{ provider_name: string; tenant_name: string; time_zone: string }[]>`
      select provider_name, tenant_name, time_zone from slotbase.find_calendar_feed(${token})`;
    const rows = await tx<CalendarEventRow[]>`select * from slotbase.calendar_feed_events(${token})`;
    return { feed: f!, events: rows };
  });
  const body = calendarFeed({
    name: `${feed.provider_name} – ${feed.tenant_name}`,
    time_zone: feed.time_zone,
    bookings: events.map(providerEvent),
    refreshIntervalMinutes: FEED_REFRESH_MINUTES,
  });
  return calendarResponse(c, body, {
    'content-disposition': 'inline; filename="calendar.ics"',
    // Clients poll; the ETag makes an unchanged feed a 304. private: the URL is a secret.
    'cache-control': `private, max-age=${FEED_REFRESH_MINUTES * 60}`,
  });
});

calendarsRouter
  .openapi(createCalendarFeed, async (c) => {
    const { tenantId } = requireMember(c);
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const { token, hash } = generateFeedToken();
    const feed = await withSession(c.var.deps.sql, c.var.caller, async (tx) => {
      await assertCanManage(tx, id);
      const [row] = await tx<Record<string, unknown>[]>`
        insert into slotbase.calendar_feeds (tenant_id, provider_id, name, token_hash)
        values (${tenantId}, ${id}, ${body.name ?? null}, ${hash})
        returning ${tx.unsafe(FEEDS.columns)}`;
      return present<FeedRow>(row!);
    });
    return c.json({ ...feed, url: `${originOf(c)}/v1/feeds/${token}.ics` }, 201);
  })
  .openapi(listCalendarFeeds, async (c) => {
    const { id } = c.req.valid('param');
    const q = c.req.valid('query');
    const result = await withSession(c.var.deps.sql, c.var.caller, async (tx) => {
      await assertCanManage(tx, id);
      return listRows<FeedRow>(tx, FEEDS, q, [tx`provider_id = ${id}`]);
    });
    return c.json(result, 200);
  })
  .openapi(deleteCalendarFeed, async (c) => {
    const { id } = c.req.valid('param');
    await withSession(c.var.deps.sql, c.var.caller, (tx) => deleteRow(tx, FEEDS, id, 'Calendar feed'));
    return c.body(null, 204);
  });
