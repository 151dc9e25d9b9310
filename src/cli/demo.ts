import postgres from 'postgres';
import type { PasswordHasher } from '#src/lib/passwords.ts';

export const DEMO_SLUG = 'demo';
export const DEMO_OWNER_EMAIL = 'owner@demo.slotbase.localhost';

/**
 * A demo business for local runs: "Sunrise Clinic" (slug `demo`, Europe/Berlin) with one branch,
 * two doctors working Mon–Fri 09:00–17:00 and Sat 10:00–14:00, a 30-minute check-up, a 60-minute
 * consultation that needs approval, and evening yoga sessions (8 seats) for the next two weeks.
 * Its owner can sign in with DEMO_OWNER_EMAIL and the given password. Runs once: a database that
 * already has the `demo` tenant is left alone. Returns whether it created anything.
 */
export async function seedDemo(options: { databaseUrl: string; ownerPassword: string; passwords: PasswordHasher }): Promise<boolean> {
  const sql = postgres(options.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const hash = await options.passwords.hash(options.ownerPassword);
    return await sql.begin(async (tx) => {
      // Serializes two processes seeding at once; the second finds the tenant and stops.
      await tx`select pg_advisory_xact_lock(hashtext('slotbase.seed_demo'))`;
      const [existing] = await tx`select 1 from slotbase.tenants where slug = ${DEMO_SLUG}`;
      if (existing) return false;
      const [owner] = await tx<{ id: string }[]>`
        select coalesce(
          (select id from slotbase.users where lower(email) = ${DEMO_OWNER_EMAIL}),
          slotbase_private.register_user(${DEMO_OWNER_EMAIL}, ${hash}, 'Olga Owner')) as id`;
      const [tenant] = await tx<{ id: string }[]>`
        insert into slotbase.tenants (slug, name, time_zone) values (${DEMO_SLUG}, 'Sunrise Clinic (demo)', 'Europe/Berlin') returning id`;
      const t = tenant!.id;
      await tx`insert into slotbase.memberships (tenant_id, user_id, role) values (${t}, ${owner!.id}, 'owner')`;
      const [location] = await tx<{ id: string }[]>`
        insert into slotbase.locations (tenant_id, name, time_zone, address)
        values (${t}, 'Mitte', 'Europe/Berlin', 'Torstraße 1, 10119 Berlin') returning id`;
      const providers = await tx<{ id: string }[]>`
        insert into slotbase.providers (tenant_id, name, location_id)
        values (${t}, 'Dr. Ada Weiss', ${location!.id}), (${t}, 'Dr. Ben Okafor', ${location!.id}) returning id`;
      for (const p of providers) {
        await tx`
          insert into slotbase.availability_rules (tenant_id, provider_id, location_id, weekday, start_time, end_time)
          select ${t}::uuid, ${p.id}::uuid, ${location!.id}::uuid, d, time '09:00', time '17:00' from generate_series(1, 5) as d
          union all select ${t}::uuid, ${p.id}::uuid, ${location!.id}::uuid, 6, time '10:00', time '14:00'`;
      }
      const services = await tx<{ id: string; kind: string }[]>`
        insert into slotbase.services (tenant_id, slug, name, description, kind, duration_minutes, buffer_after_minutes, requires_approval, max_party_size, default_capacity)
        values
          (${t}, 'checkup', 'Check-up', 'A short general check-up.', 'appointment', 30, 10, false, 1, null),
          (${t}, 'consultation', 'Consultation', 'An in-depth consultation; the clinic confirms each request.', 'appointment', 60, 0, true, 1, null),
          (${t}, 'yoga', 'Evening yoga', 'A relaxed group class. Bring a friend.', 'group', 60, 0, false, 4, 8)
        returning id, kind`;
      for (const s of services) {
        const offeredBy = s.kind === 'group' ? providers.slice(1) : providers;
        for (const p of offeredBy) await tx`insert into slotbase.service_providers (tenant_id, service_id, provider_id) values (${t}, ${s.id}, ${p.id})`;
      }
      const yoga = services.find((s) => s.kind === 'group')!;
      // Sessions on weekdays at 18:00 Berlin time, for two weeks from tomorrow.
      await tx`
        insert into slotbase.sessions (tenant_id, service_id, provider_id, location_id, starts_at, ends_at, capacity)
        select ${t}::uuid, ${yoga.id}::uuid, ${providers[1]!.id}::uuid, ${location!.id}::uuid,
               (d + time '18:00') at time zone 'Europe/Berlin', (d + time '19:00') at time zone 'Europe/Berlin', 8
        from generate_series((now() at time zone 'Europe/Berlin')::date + 1, (now() at time zone 'Europe/Berlin')::date + 14, interval '1 day') as g(day),
             lateral (select g.day::date as d) as x
        where extract(isodow from d) between 1 and 5`;
      return true;
    });
  } finally {
    await sql.end({ timeout: 5 });
  }
}
