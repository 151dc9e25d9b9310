import type postgres from 'postgres';

/**
 * Benchmark worlds, arranged as the table owner (superuser) with plain set-based SQL.
 * Benchmarks then act as anon / authenticated like the API would.
 */

export interface World {
  tenantId: string;
  locationId: string;
  serviceId: string;
  providerIds: string[];
  /** The tenant's owner (a staff member), for calls "as a user under RLS". */
  ownerUserId: string;
  timeZone: string;
  durationMinutes: number;
}

export interface WorldOptions {
  slug: string;
  providers: number;
  timeZone: string;
  durationMinutes?: number;
  minNoticeMinutes?: number;
  maxAdvanceDays?: number;
  /** Weekly hours, every day of the week. */
  opens?: string;
  closes?: string;
}

/** One tenant, one location, one public appointment service, N providers with daily hours. */
export async function createWorld(sql: postgres.Sql, o: WorldOptions): Promise<World> {
  return sql.begin(async (tx) => {
    const [tenant] = await tx<{ id: string }[]>`
      insert into slotbase.tenants (slug, name, time_zone) values (${o.slug}, ${`Bench ${o.slug}`}, ${o.timeZone}) returning id`;
    const tenantId = tenant!.id;
    const [user] = await tx<{ id: string }[]>`
      insert into slotbase.users (email) values (${`owner-${o.slug}@bench.example`}) returning id`;
    await tx`insert into slotbase.memberships (tenant_id, user_id, role) values (${tenantId}, ${user!.id}, 'owner')`;
    return createCatalog(tx, tenantId, user!.id, o);
  }) as Promise<World>;
}

/**
 * The catalog of createWorld in an existing tenant (e.g. one signed up through the API): one
 * location, one public appointment service (slug `consult`), N providers with daily hours.
 * `o.slug` is not used here.
 */
export async function createCatalog(tx: postgres.TransactionSql, tenantId: string, ownerUserId: string, o: WorldOptions): Promise<World> {
  const duration = o.durationMinutes ?? 15;
  const [location] = await tx<{ id: string }[]>`
    insert into slotbase.locations (tenant_id, name, time_zone) values (${tenantId}, 'Main', ${o.timeZone}) returning id`;
  const [service] = await tx<{ id: string }[]>`
    insert into slotbase.services (tenant_id, slug, name, kind, duration_minutes, min_notice_minutes, max_advance_days, is_public)
    values (${tenantId}, 'consult', 'Consultation', 'appointment', ${duration}, ${o.minNoticeMinutes ?? 0},
            ${o.maxAdvanceDays ?? 100}, true)
    returning id`;
  const providers = await tx<{ id: string }[]>`
    insert into slotbase.providers (tenant_id, name, location_id)
    select ${tenantId}, 'Provider ' || g, ${location!.id} from generate_series(1, ${o.providers}::int) as g
    returning id`;
  const providerIds = providers.map((p) => p.id).sort();
  await tx`
    insert into slotbase.service_providers (tenant_id, service_id, provider_id)
    select ${tenantId}, ${service!.id}, p from unnest(${providerIds}::uuid[]) as p`;
  await tx`
    insert into slotbase.availability_rules (tenant_id, provider_id, location_id, weekday, start_time, end_time)
    select ${tenantId}, p, ${location!.id}, wd, ${o.opens ?? '08:00'}::time, ${o.closes ?? '18:00'}::time
    from unnest(${providerIds}::uuid[]) as p cross join generate_series(1, 7) as wd`;
  return {
    tenantId,
    locationId: location!.id,
    serviceId: service!.id,
    providerIds,
    ownerUserId,
    timeZone: o.timeZone,
    durationMinutes: duration,
  };
}

/** A bookable subject of some tenant, for history rows. */
export interface Subject {
  tenantId: string;
  providerId: string;
  serviceId: string;
  locationId: string;
}

/**
 * Other tenants (their rows share the tables and indexes with the benchmark tenant):
 * `tenants` tenants with `providersEach` providers and one service each.
 */
export async function createOtherTenants(sql: postgres.Sql, tenants: number, providersEach: number): Promise<Subject[]> {
  return sql.begin(async (tx) => {
    await tx`
      insert into slotbase.tenants (slug, name, time_zone)
      select 'bench-other-' || g, 'Other ' || g, 'Europe/Berlin' from generate_series(1, ${tenants}::int) as g`;
    await tx`
      insert into slotbase.locations (tenant_id, name, time_zone)
      select id, 'Main', 'Europe/Berlin' from slotbase.tenants where slug like 'bench-other-%'`;
    await tx`
      insert into slotbase.services (tenant_id, slug, name, kind, duration_minutes, max_advance_days)
      select id, 'consult', 'Consultation', 'appointment', 15, 100 from slotbase.tenants where slug like 'bench-other-%'`;
    await tx`
      insert into slotbase.providers (tenant_id, name, location_id)
      select l.tenant_id, 'Provider ' || g, l.id
      from slotbase.locations as l join slotbase.tenants as t on t.id = l.tenant_id
      cross join generate_series(1, ${providersEach}::int) as g
      where t.slug like 'bench-other-%'`;
    await tx`
      insert into slotbase.service_providers (tenant_id, service_id, provider_id)
      select p.tenant_id, s.id, p.id
      from slotbase.providers as p join slotbase.services as s on s.tenant_id = p.tenant_id
      join slotbase.tenants as t on t.id = p.tenant_id
      where t.slug like 'bench-other-%'`;
    await tx`
      insert into slotbase.availability_rules (tenant_id, provider_id, location_id, weekday, start_time, end_time)
      select p.tenant_id, p.id, p.location_id, wd, '08:00', '18:00'
      from slotbase.providers as p join slotbase.tenants as t on t.id = p.tenant_id
      cross join generate_series(1, 5) as wd
      where t.slug like 'bench-other-%'`;
    const rows = await tx<{ tenant_id: string; provider_id: string; service_id: string; location_id: string }[]>`
      select p.tenant_id, p.id as provider_id, s.id as service_id, p.location_id
      from slotbase.providers as p join slotbase.services as s on s.tenant_id = p.tenant_id
      join slotbase.tenants as t on t.id = p.tenant_id
      where t.slug like 'bench-other-%'
      order by p.tenant_id, p.id`;
    return rows.map((r) => ({ tenantId: r.tenant_id, providerId: r.provider_id, serviceId: r.service_id, locationId: r.location_id }));
  }) as Promise<Subject[]>;
}
