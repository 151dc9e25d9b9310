import type { Queryable } from './db.ts';
import {
  addMember,
  addRule,
  createLocation,
  createProvider,
  createResource,
  createService,
  createTenant,
  linkProvider,
  linkResource,
  type Member,
  type TenantFixture,
} from './factories.ts';

/** A tenant with one row in every tenant-owned table, and its ids, for isolation tests. */
export interface TenantWorld extends TenantFixture {
  locationId: string;
  providerId: string;
  resourceId: string;
  serviceId: string;
  ruleId: string;
  overrideId: string;
  timeOffId: string;
  groupServiceId: string;
  sessionId: string;
  bookingId: string;
  banId: string;
  /** A second location, and the travel time between it and the first. */
  location2Id: string;
  travelTimeId: string;
  questionId: string;
  seriesId: string;
  waitlistEntryId: string;
  waitlistOfferId: string;
  admin: Member;
  viewer: Member;
}

export async function createTenantWorld(db: Queryable): Promise<TenantWorld> {
  const tenant = await createTenant(db);
  const location = await createLocation(db, tenant.id);
  const provider = await createProvider(db, tenant.id, { locationId: location.id });
  const resource = await createResource(db, tenant.id, location.id);
  const service = await createService(db, tenant.id);
  await linkProvider(db, tenant.id, service.id, provider.id);
  await linkResource(db, tenant.id, service.id, resource.id);
  const rule = await addRule(db, tenant.id, { providerId: provider.id }, location.id, 1, '09:00', '17:00');
  const [override] = await db.query<{ id: string }>(
    `insert into slotbase.date_overrides (tenant_id, provider_id, location_id, date) values ($1, $2, $3, '2030-01-01') returning id`,
    [tenant.id, provider.id, location.id],
  );
  const [timeOff] = await db.query<{ id: string }>(
    `insert into slotbase.time_off (tenant_id, provider_id, starts_at, ends_at) values ($1, $2, '2030-02-01T00:00Z', '2030-02-02T00:00Z') returning id`,
    [tenant.id, provider.id],
  );
  // A group session next week (forced: whatever the provider's hours then) and one booking in it, made through the booking function as the owner.
  const group = await createService(db, tenant.id, { kind: 'group', defaultCapacity: 10, maxPartySize: 4 });
  await linkProvider(db, tenant.id, group.id, provider.id);
  const [session] = await db.query<{ id: string }>(
    `insert into slotbase.sessions (tenant_id, service_id, provider_id, location_id, starts_at, ends_at, capacity, is_forced)
     values ($1, $2, $3, $4, date_trunc('hour', now()) + interval '7 days', date_trunc('hour', now()) + interval '7 days 1 hour', 10, true) returning id`,
    [tenant.id, group.id, provider.id, location.id],
  );
  const [booking] = await db.query<{ id: string }>(
    `select b.id from slotbase.create_booking(p_tenant_id => $1, p_service_id => $2, p_session_id => $3, p_party_size => 2,
       p_contact_name => 'Grace Guest', p_contact_email => 'grace@example.test') as b`,
    [tenant.id, group.id, session!.id],
  );
  // A ban and one logged attempt against it (written as the functions would: callers cannot).
  const [ban] = await db.query<{ id: string }>(
    `insert into slotbase.bans (tenant_id, kind, value, reason) values ($1, 'email', 'mallory@example.test', 'no-shows') returning id`,
    [tenant.id],
  );
  await db.query(
    `insert into slotbase.ban_hits (tenant_id, ban_id, service_id, starts_at, contact_email) values ($1, $2, $3, now() + interval '1 day', 'Mallory@example.test')`,
    [tenant.id, ban!.id, service.id],
  );
  // Issue 9's tables: a travel time between two locations and a question on the service (as an
  // admin would write them), a recurring series, a waitlist entry and an offer to it (written as
  // the series and waitlist functions would: callers cannot).
  const location2 = await createLocation(db, tenant.id);
  const [travel] = await db.query<{ id: string }>(
    `insert into slotbase.location_travel_times (tenant_id, location_a_id, location_b_id, minutes) values ($1, $2, $3, 30) returning id`,
    [tenant.id, location.id, location2.id],
  );
  const [question] = await db.query<{ id: string }>(
    `insert into slotbase.service_questions (tenant_id, service_id, kind, label, max_length) values ($1, $2, 'text', 'Anything we should know?', 200) returning id`,
    [tenant.id, service.id],
  );
  const [series] = await db.query<{ id: string }>(
    `insert into slotbase.booking_series (tenant_id, code, manage_token_hash, service_id, provider_id, location_id, rrule, mode, time_zone, first_starts_at, contact_name, source)
     values ($1, 'SR-222222', '\\x00', $2, $3, $4, 'FREQ=WEEKLY;COUNT=2', 'partial', 'UTC', '2030-03-04T09:00Z', 'Sam Series', 'staff') returning id`,
    [tenant.id, service.id, provider.id, location.id],
  );
  const [entry] = await db.query<{ id: string }>(
    `insert into slotbase.waitlist_entries (tenant_id, service_id, provider_id, location_id, window_from, window_to, contact_name, contact_email, sort_key, source, manage_token_hash, status)
     values ($1, $2, $3, $4, '2030-04-01T00:00Z', '2030-04-02T00:00Z', 'Wanda Wait', 'wanda@example.test', 1, 'public', '\\x00', 'offered') returning id`,
    [tenant.id, service.id, provider.id, location.id],
  );
  const [offer] = await db.query<{ id: string }>(
    `insert into slotbase.waitlist_offers (tenant_id, entry_id, booking_id, starts_at, expires_at) values ($1, $2, $3, now() + interval '7 days', now() + interval '1 day') returning id`,
    [tenant.id, entry!.id, booking!.id],
  );
  return {
    ...tenant,
    banId: ban!.id,
    location2Id: location2.id,
    travelTimeId: travel!.id,
    questionId: question!.id,
    seriesId: series!.id,
    waitlistEntryId: entry!.id,
    waitlistOfferId: offer!.id,
    groupServiceId: group.id,
    sessionId: session!.id,
    bookingId: booking!.id,
    locationId: location.id,
    providerId: provider.id,
    resourceId: resource.id,
    serviceId: service.id,
    ruleId: rule.id,
    overrideId: override!.id,
    timeOffId: timeOff!.id,
    admin: await addMember(db, tenant.id, 'admin'),
    viewer: await addMember(db, tenant.id, 'viewer'),
  };
}

/** Tables in `slotbase` that carry tenant_id, from the catalog (so new tables are covered). */
export async function tenantOwnedTables(db: Queryable): Promise<string[]> {
  const rows = await db.query<{ name: string }>(`
    select c.relname as name
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped
    where n.nspname = 'slotbase' and c.relkind in ('r', 'p')
    order by 1`);
  return rows.map((r) => r.name);
}
