import { randomBytes } from 'node:crypto';
import type { Principal, Queryable, Row } from './db.ts';

/**
 * Factories arrange data directly as the table owner (fast, no policies in the way).
 * Tests then act and assert as a user through `db.as(principal, …)`.
 */

export type Role = 'owner' | 'admin' | 'receptionist' | 'provider' | 'viewer';

export interface Member extends Extract<Principal, { role: 'authenticated' }> {
  tenantId: string;
  membershipId: string;
  memberRole: Role;
}

export interface TenantFixture {
  id: string;
  slug: string;
  owner: Member;
}

export const uniq = (prefix = ''): string => `${prefix}${randomBytes(5).toString('hex')}`;

async function one<T extends Row>(db: Queryable, text: string, params: unknown[]): Promise<T> {
  const [row] = await db.query<T>(text, params);
  if (!row) throw new Error(`factory statement returned no row: ${text}`);
  return row;
}

export async function createUser(db: Queryable, email = `${uniq('user-')}@example.test`): Promise<{ id: string; email: string }> {
  return one(db, 'insert into slotbase.users (email) values ($1) returning id, email', [email]);
}

export async function createTenant(
  db: Queryable,
  options: { slug?: string; name?: string; timeZone?: string } = {},
): Promise<TenantFixture> {
  const slug = options.slug ?? uniq('t-');
  const tenant = await one<{ id: string }>(
    db,
    'insert into slotbase.tenants (slug, name, time_zone) values ($1, $2, $3) returning id',
    [slug, options.name ?? `Tenant ${slug}`, options.timeZone ?? 'Europe/Berlin'],
  );
  const owner = await addMember(db, tenant.id, 'owner');
  return { id: tenant.id, slug, owner };
}

export async function addMember(
  db: Queryable,
  tenantId: string,
  role: Role,
  options: { locationId?: string; userId?: string } = {},
): Promise<Member> {
  const userId = options.userId ?? (await createUser(db)).id;
  const m = await one<{ id: string }>(
    db,
    'insert into slotbase.memberships (tenant_id, user_id, role, location_id) values ($1, $2, $3, $4) returning id',
    [tenantId, userId, role, options.locationId ?? null],
  );
  return { role: 'authenticated', userId, tenantId, membershipId: m.id, memberRole: role };
}

export async function createLocation(
  db: Queryable,
  tenantId: string,
  options: { name?: string; timeZone?: string } = {},
): Promise<{ id: string; time_zone: string }> {
  return one(db, 'insert into slotbase.locations (tenant_id, name, time_zone) values ($1, $2, $3) returning id, time_zone', [
    tenantId,
    options.name ?? uniq('Location '),
    options.timeZone ?? 'Europe/Berlin',
  ]);
}

export async function createProvider(
  db: Queryable,
  tenantId: string,
  options: { name?: string; locationId?: string; userId?: string } = {},
): Promise<{ id: string }> {
  return one(db, 'insert into slotbase.providers (tenant_id, name, location_id, user_id) values ($1, $2, $3, $4) returning id', [
    tenantId,
    options.name ?? uniq('Provider '),
    options.locationId ?? null,
    options.userId ?? null,
  ]);
}

export async function createResource(db: Queryable, tenantId: string, locationId: string): Promise<{ id: string }> {
  return one(db, 'insert into slotbase.resources (tenant_id, location_id, name) values ($1, $2, $3) returning id', [
    tenantId,
    locationId,
    uniq('Room '),
  ]);
}

export interface ServiceOptions {
  slug?: string;
  kind?: 'appointment' | 'group';
  durationMinutes?: number;
  bufferBeforeMinutes?: number;
  bufferAfterMinutes?: number;
  slotIntervalMinutes?: number | null;
  minNoticeMinutes?: number;
  maxAdvanceDays?: number;
  maxPartySize?: number;
  defaultCapacity?: number | null;
  holdMinutes?: number;
  requiresApproval?: boolean;
}

export async function createService(db: Queryable, tenantId: string, o: ServiceOptions = {}): Promise<{ id: string; slug: string }> {
  return one(
    db,
    `insert into slotbase.services (tenant_id, slug, name, kind, duration_minutes, buffer_before_minutes, buffer_after_minutes,
       slot_interval_minutes, min_notice_minutes, max_advance_days, max_party_size, default_capacity, hold_minutes, requires_approval)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) returning id, slug`,
    [
      tenantId,
      o.slug ?? uniq('svc-'),
      'Service',
      o.kind ?? 'appointment',
      o.durationMinutes ?? 30,
      o.bufferBeforeMinutes ?? 0,
      o.bufferAfterMinutes ?? 0,
      o.slotIntervalMinutes ?? null,
      o.minNoticeMinutes ?? 0,
      o.maxAdvanceDays ?? 90,
      o.maxPartySize ?? 1,
      o.defaultCapacity ?? null,
      o.holdMinutes ?? 10,
      o.requiresApproval ?? false,
    ],
  );
}

export async function linkProvider(db: Queryable, tenantId: string, serviceId: string, providerId: string): Promise<void> {
  await db.query('insert into slotbase.service_providers (tenant_id, service_id, provider_id) values ($1, $2, $3)', [
    tenantId,
    serviceId,
    providerId,
  ]);
}

export async function linkResource(db: Queryable, tenantId: string, serviceId: string, resourceId: string): Promise<void> {
  await db.query('insert into slotbase.service_resources (tenant_id, service_id, resource_id) values ($1, $2, $3)', [
    tenantId,
    serviceId,
    resourceId,
  ]);
}

/** Weekly hours. weekday: ISO (1 = Monday … 7 = Sunday); times 'HH:MM'. */
export async function addRule(
  db: Queryable,
  tenantId: string,
  subject: { providerId?: string; resourceId?: string },
  locationId: string,
  weekday: number,
  start: string,
  end: string,
): Promise<{ id: string }> {
  return one(
    db,
    `insert into slotbase.availability_rules (tenant_id, provider_id, resource_id, location_id, weekday, start_time, end_time)
     values ($1, $2, $3, $4, $5, $6, $7) returning id`,
    [tenantId, subject.providerId ?? null, subject.resourceId ?? null, locationId, weekday, start, end],
  );
}

/** Same hours every day of the week. */
export async function addDailyRules(
  db: Queryable,
  tenantId: string,
  subject: { providerId?: string; resourceId?: string },
  locationId: string,
  start: string,
  end: string,
): Promise<void> {
  for (let weekday = 1; weekday <= 7; weekday++) await addRule(db, tenantId, subject, locationId, weekday, start, end);
}
