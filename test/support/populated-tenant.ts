import { expect } from 'vitest';
import type { Principal, Queryable } from './db.ts';
import {
  addDailyRules,
  addMember,
  createLocation,
  createProvider,
  createResource,
  createService,
  createTenant,
  linkProvider,
  linkResource,
  uniq,
} from './factories.ts';
import type { TestApi } from './http.ts';
import { utc } from './staff-world.ts';

/**
 * A tenant with a row in every table, arranged through the API where an operation exists (as its
 * owner) and as the table owner otherwise: catalog (location, provider, room, appointment,
 * approval and group services, rules, a date override, time off), a session with seats taken,
 * bookings in EVERY status, a calendar feed, a webhook endpoint with a delivery, a notification,
 * an opt-out, a ban, an API key, a viewer member and a registered customer with a booking; a
 * booking question on the public service, a hidden service with a question, a second location
 * with a travel time, a recurring series, a waitlist entry with an offer, a pending invitation.
 * Used by the fuzz test and the cross-tenant probe: both compare such a tenant before and after.
 */
export interface PopulatedTenant {
  tenantId: string;
  slug: string;
  owner: Principal;
  /** The owner's access token. */
  token: string;
  /** An API key of the tenant with every scope (`sb_live_…`). */
  apiKey: string;
  /** A registered customer's access token (signed up on this tenant's public page). */
  customerToken: string;
  customerUserId: string;
  /** One row id per collection, keyed by the path segment that names it (`bookings`, `webhook-endpoints`). */
  ids: Record<string, string>;
  /** Booking id by status (held, pending, confirmed, cancelled, rejected, expired, completed, no_show). */
  bookings: Record<string, { id: string; code: string; manageToken: string }>;
  /** A calendar feed's secret token (for /v1/feeds/{token}.ics). */
  feedToken: string;
  /** A service kept off the public page (is_public false) and its question: never public, unlike ids.services and ids.questions. */
  hidden: { serviceId: string; questionId: string };
}

export const ALL_STATUSES = ['held', 'pending', 'confirmed', 'cancelled', 'rejected', 'expired', 'completed', 'no_show'] as const;

export async function populateTenant(api: TestApi): Promise<PopulatedTenant> {
  const db = api.db;
  const tenant = await createTenant(db, { timeZone: 'Europe/Berlin' });
  const location = await createLocation(db, tenant.id, { timeZone: 'Europe/Berlin' });
  const provider = await createProvider(db, tenant.id, { locationId: location.id });
  const resource = await createResource(db, tenant.id, location.id);
  await addDailyRules(db, tenant.id, { providerId: provider.id }, location.id, '00:00', '24:00');
  await addDailyRules(db, tenant.id, { resourceId: resource.id }, location.id, '00:00', '24:00');
  const service = await createService(db, tenant.id, { durationMinutes: 30, maxAdvanceDays: 365 });
  await linkProvider(db, tenant.id, service.id, provider.id);
  await linkResource(db, tenant.id, service.id, resource.id);
  const approval = await createService(db, tenant.id, { durationMinutes: 30, maxAdvanceDays: 365, requiresApproval: true });
  await linkProvider(db, tenant.id, approval.id, provider.id);
  const group = await createService(db, tenant.id, { kind: 'group', durationMinutes: 60, maxPartySize: 4, defaultCapacity: 6, maxAdvanceDays: 365 });
  await linkProvider(db, tenant.id, group.id, provider.id);
  const member = await addMember(db, tenant.id, 'viewer');
  const token = (await api.tokens.signAccess({ sub: tenant.owner.userId, tenant_id: tenant.id })).token;

  const call = async <T = Record<string, unknown>>(method: string, path: string, body?: unknown, status = 201, as = token): Promise<T> => {
    const res = await api.json<T>(method, path, { token: as, body });
    expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(status);
    return res.body;
  };
  const create = async (path: string, body: unknown): Promise<string> => (await call<{ id: string }>('POST', path, body)).id;

  const dateOverride = await create('/v1/date-overrides', {
    provider_id: provider.id, location_id: location.id, date: utc(30, '00:00').slice(0, 10), start_time: '10:00', end_time: '12:00',
  });
  const timeOff = await create('/v1/time-off', { provider_id: provider.id, starts_at: utc(40, '00:00'), ends_at: utc(41, '00:00'), reason: 'away' });
  const session = await create('/v1/sessions', { service_id: group.id, provider_id: provider.id, location_id: location.id, starts_at: utc(5, '18:00'), capacity: 8 });
  const rules = await call<{ data: { id: string }[] }>('GET', `/v1/providers/${provider.id}/availability-rules?limit=1`, undefined, 200);
  const feed = await call<{ id: string; url: string }>('POST', `/v1/providers/${provider.id}/calendar-feeds`, { name: 'probe' });
  const webhookEndpoint = await create('/v1/webhook-endpoints', { url: 'https://hooks.example.test/in' });
  const webhookDelivery = (await call<{ id: string }>('POST', `/v1/webhook-endpoints/${webhookEndpoint}/test`, undefined, 202)).id;
  const optOut = await create('/v1/notification-opt-outs', { channel: 'email', address: `${tenant.slug}-quiet@example.test` });
  const ban = await create('/v1/bans', { kind: 'email', value: `${tenant.slug}-banned@example.test`, reason: 'probe' });
  // Someone without an account added as a member: a pending invitation (202).
  const invitation = (await call<{ id: string }>('POST', '/v1/members', { email: `${tenant.slug}-invited@example.test`, role: 'viewer' }, 202)).id;
  const question = await create(`/v1/services/${service.id}/questions`, { kind: 'text', label: 'Probe question' });
  // A service off the public page, offered by the same provider, with a question of its own.
  const hiddenService = await create('/v1/services', { slug: uniq('hidden-'), name: 'Hidden service', duration_minutes: 30, is_public: false });
  await linkProvider(db, tenant.id, hiddenService, provider.id);
  const hiddenQuestion = await create(`/v1/services/${hiddenService}/questions`, { kind: 'checkbox', label: 'Hidden question' });
  // A second location and the travel time a provider needs between the two.
  const location2 = await createLocation(db, tenant.id, { timeZone: 'Europe/Berlin' });
  const travelTime = await create('/v1/travel-times', { location_a_id: location.id, location_b_id: location2.id, minutes: 30 });
  const key = await call<{ id: string; key: string }>('POST', '/v1/api-keys', { name: 'probe', scopes: ['*'] });
  const apiKey = key.key;
  expect(apiKey).toMatch(/^sb_live_/);

  // Bookings in every status, an hour apart, so none collides with another.
  const bookings: PopulatedTenant['bookings'] = {};
  let hour = 0;
  // Completed and no-show ones yesterday: an outcome is recorded only once a booking has started.
  const book = async (serviceId: string, hold = false, past = false) => {
    const b = await call<{ id: string; code: string; manage_token: string; status: string }>('POST', '/v1/bookings', {
      service_id: serviceId, provider_id: provider.id, starts_at: utc(past ? -1 : 3, `${String(6 + hour++).padStart(2, '0')}:00`), hold,
      contact: { name: 'Ada Guest', email: `ada-${hour}@example.test` },
    });
    return { id: b.id, code: b.code, manageToken: b.manage_token, status: b.status };
  };
  const confirmed = await book(service.id);
  bookings.confirmed = confirmed;
  bookings.pending = await book(approval.id);
  bookings.held = await book(service.id, true);
  const cancelled = await book(service.id);
  await call('POST', `/v1/bookings/${cancelled.id}/cancel`, { reason: 'probe' }, 200);
  bookings.cancelled = cancelled;
  const rejected = await book(approval.id);
  await call('POST', `/v1/bookings/${rejected.id}/reject`, { reason: 'probe' }, 200);
  bookings.rejected = rejected;
  const completed = await book(service.id, false, true);
  await call('POST', `/v1/bookings/${completed.id}/complete`, undefined, 200);
  bookings.completed = completed;
  const noShow = await book(service.id, false, true);
  await call('POST', `/v1/bookings/${noShow.id}/no-show`, undefined, 200);
  bookings.no_show = noShow;
  const expired = await book(service.id, true);
  // The worker's sweep, after the hold's time ran out (the clock is not ours to move; its deadline is).
  await db.query(`update slotbase.bookings set hold_expires_at = now() - interval '1 minute' where tenant_id = $1 and id = $2`, [tenant.id, expired.id]);
  await db.query('select slotbase.expire_holds(p_tenant_id => $1)', [tenant.id]);
  bookings.expired = expired;
  // Seats on the session.
  await call('POST', '/v1/bookings', { service_id: group.id, session_id: session, party_size: 2, contact: { name: 'Group Guest', email: 'group@example.test' } });
  // A delivery-log row (written by the worker in production).
  const [notification] = await db.query<{ id: string }>(
    `insert into slotbase.notifications (tenant_id, booking_id, channel, template, recipient, dedupe_key, status, sent_at)
     values ($1, $2, 'email', 'confirmation', 'ada@example.test', $3, 'sent', now()) returning id`,
    [tenant.id, confirmed.id, uniq('confirmation:')],
  );

  const customerEmail = `${tenant.slug}-customer@example.test`;
  const customer = await call<{ access_token: string; user: { id: string } }>('POST', `/v1/public/${tenant.slug}/customers/signup`, {
    email: customerEmail, password: 'correct horse battery staple', name: 'Carla Customer',
  }, 201, '');
  await call('POST', `/v1/public/${tenant.slug}/bookings`, {
    service_id: service.id, starts_at: utc(4, '11:00'), contact: { name: 'Carla Customer', email: customerEmail },
  }, 201, customer.access_token);

  // A recurring series, a waitlist entry and an offer to it (the offer job's SQL, run here as the worker would).
  const series = await create('/v1/booking-series', {
    service_id: service.id, provider_id: provider.id, starts_at: utc(6, '09:00'), rrule: 'FREQ=WEEKLY;COUNT=2', contact: { name: 'Series Guest', email: 'series@example.test' },
  });
  const waitlistEntry = await create('/v1/waitlist', {
    service_id: service.id, provider_id: provider.id, window_from: utc(3, '00:00'), window_to: utc(4, '00:00'), contact: { name: 'Wait Guest', email: 'wait@example.test' },
  });
  const [offer] = await db.query<{ id: string }>('select slotbase_private.offer_waitlist_slot($1, $2, $3, $4, $5) as id', [
    tenant.id, service.id, provider.id, location.id, utc(3, '20:00'),
  ]);
  expect(offer?.id).toBeTruthy();

  const feedToken = feed.url.match(/\/feeds\/([^/]+)\.ics$/)?.[1];
  expect(feedToken, feed.url).toBeTruthy();
  for (const s of ALL_STATUSES) {
    const [row] = await db.query<{ status: string }>('select status from slotbase.bookings where tenant_id = $1 and id = $2', [tenant.id, bookings[s]!.id]);
    expect(row?.status, `the ${s} booking`).toBe(s);
  }

  return {
    tenantId: tenant.id,
    slug: tenant.slug,
    owner: tenant.owner,
    token,
    apiKey,
    customerToken: customer.access_token,
    customerUserId: customer.user.id,
    bookings,
    feedToken: feedToken!,
    hidden: { serviceId: hiddenService, questionId: hiddenQuestion },
    ids: {
      locations: location.id,
      providers: provider.id,
      resources: resource.id,
      services: service.id,
      'availability-rules': rules.data[0]!.id,
      'date-overrides': dateOverride,
      'time-off': timeOff,
      members: member.membershipId,
      sessions: session,
      bookings: confirmed.id,
      users: tenant.owner.userId,
      customers: customer.user.id,
      'calendar-feeds': feed.id,
      'webhook-endpoints': webhookEndpoint,
      'webhook-deliveries': webhookDelivery,
      'notification-opt-outs': optOut,
      bans: ban,
      questions: question,
      'api-keys': key.id,
      notifications: notification!.id,
      'booking-series': series,
      waitlist: waitlistEntry,
      'waitlist-offers': offer!.id,
      invitations: invitation,
      'travel-times': travelTime,
    },
  };
}

/**
 * Tables of the `slotbase` schema and the columns this caller may select (several tables grant
 * select per column and hide some, e.g. token hashes), read through the catalog as the caller.
 */
export async function readableColumns(q: Queryable): Promise<{ table: string; columns: string[] }[]> {
  return q.query<{ table: string; columns: string[] }>(`
    select c.relname as table, array_agg(a.attname::text order by a.attnum) as columns
    from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    where n.nspname = 'slotbase' and c.relkind in ('r', 'p')
      and pg_catalog.has_column_privilege(c.oid, a.attnum, 'select')
    group by c.relname
    order by c.relname`);
}

export const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * `count:md5` of every table the caller can read (all readable columns), read AS that caller
 * (RLS applies; never as superuser). Columns that change by themselves on reads (`last_used_at`
 * of API keys, when the key itself is used) can be left out with `ignore` (`table.column`).
 */
export async function fingerprint(db: { as<T>(who: Principal, fn: (q: Queryable) => Promise<T>): Promise<T> }, who: Principal, ignore: string[] = []): Promise<Record<string, string>> {
  return db.as(who, async (q) => {
    const tables = await readableColumns(q);
    const parts = tables.map(({ table, columns }) => {
      const kept = columns.filter((c) => !ignore.includes(`${table}.${c}`));
      return `select '${table}' as t, count(*)::text || ':' || coalesce(md5(string_agg(r, E'\\n' order by r)), '-') as f
         from (select row(${kept.map(ident).join(', ')})::text as r from slotbase.${ident(table)}) s`;
    });
    const rows = await q.query<{ t: string; f: string }>(parts.join('\nunion all\n'));
    return Object.fromEntries(rows.map((r) => [r.t, r.f]));
  });
}
