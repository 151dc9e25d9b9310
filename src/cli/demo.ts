import postgres from 'postgres';
import type { PasswordHasher } from '#src/lib/passwords.ts';

export const DEMO_SLUG = 'demo';
export const DEMO_NAME = 'Sunrise Clinic (demo)';
export const DEMO_OWNER_EMAIL = 'owner@demo.slotbase.localhost';
const ZONE = 'Europe/Berlin';
/** Serializes seeding and resetting across processes. */
const LOCK = 'slotbase.seed_demo';

/**
 * The demo business for local runs: "Sunrise Clinic", a small clinic chain in Berlin.
 *
 * - Two locations: **Mitte** (open Mon–Fri 08:00–18:00, Sat 09:00–13:00) and **Kreuzberg**
 *   (Mon–Fri 09:00–19:00).
 * - Three providers: Dr. Ada Weiss (Mitte, Mon–Fri 09–17, Sat 09–13), Dr. Chiara Rossi
 *   (Kreuzberg, Mon–Fri 09–17) and Dr. Ben Okafor, who works at **both**: Mitte on Mon/Wed/Fri,
 *   Kreuzberg on Tue/Thu (10–19). His bookings span both, so he is never double-booked across them.
 * - A room: the **Ultrasound room** at Mitte (open with the location), which the ultrasound service
 *   needs: two doctors cannot use it at the same time.
 * - Services: `checkup` (30 min + 10 min buffer, everyone), `consultation` (60 min, needs the
 *   clinic's approval), `ultrasound` (45 min, needs the room: Ada and Ben at Mitte) and `yoga`, a
 *   group class (60 min, 8 seats, parties up to 4) with sessions on Tuesdays and Thursdays at 18:00
 *   in Kreuzberg for the next four weeks, taught by Ben.
 *
 * Its owner signs in with DEMO_OWNER_EMAIL and `ownerPassword`. Runs once: a database that already
 * has the `demo` tenant is left alone (its bookings included); returns whether it created it.
 */
export async function seedDemo(options: { databaseUrl: string; ownerPassword: string; passwords: PasswordHasher }): Promise<boolean> {
  const sql = postgres(options.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const hash = await options.passwords.hash(options.ownerPassword);
    return await sql.begin(async (tx) => {
      // Serializes two processes seeding at once; the second finds the tenant and stops.
      await tx`select pg_advisory_xact_lock(hashtext(${LOCK}))`;
      const [existing] = await tx`select 1 from slotbase.tenants where slug = ${DEMO_SLUG}`;
      if (existing) return false;
      const [owner] = await tx<{ id: string }[]>`
        select coalesce(
          (select id from slotbase.users where lower(email) = ${DEMO_OWNER_EMAIL}),
          slotbase_private.register_user(${DEMO_OWNER_EMAIL}, ${hash}, 'Olga Owner')) as id`;
      // The demo owner exists from an earlier seed (a reset): the password printed now must work.
      await tx`update slotbase_private.user_credentials set password_hash = ${hash}, updated_at = now() where user_id = ${owner!.id}`;
      const [tenant] = await tx<{ id: string }[]>`
        insert into slotbase.tenants (slug, name, time_zone) values (${DEMO_SLUG}, ${DEMO_NAME}, ${ZONE}) returning id`;
      const t = tenant!.id;
      await tx`insert into slotbase.memberships (tenant_id, user_id, role) values (${t}, ${owner!.id}, 'owner')`;
      const [mitte, kreuzberg] = await tx<{ id: string }[]>`
        insert into slotbase.locations (tenant_id, name, time_zone, address)
        values (${t}, 'Mitte', ${ZONE}, 'Torstraße 1, 10119 Berlin'),
               (${t}, 'Kreuzberg', ${ZONE}, 'Oranienstraße 20, 10999 Berlin')
        returning id`;
      const [ada, ben, chiara] = await tx<{ id: string }[]>`
        insert into slotbase.providers (tenant_id, name, location_id)
        values (${t}, 'Dr. Ada Weiss', ${mitte!.id}), (${t}, 'Dr. Ben Okafor', ${mitte!.id}), (${t}, 'Dr. Chiara Rossi', ${kreuzberg!.id})
        returning id`;
      const [room] = await tx<{ id: string }[]>`
        insert into slotbase.resources (tenant_id, location_id, name, kind) values (${t}, ${mitte!.id}, 'Ultrasound room', 'room') returning id`;

      // Weekly hours (ISO weekdays, 1 = Monday), as local wall-clock times at each location.
      type Hours = { provider?: string; resource?: string; location: string; days: number[]; from: string; to: string };
      const hours: Hours[] = [
        { resource: room!.id, location: mitte!.id, days: [1, 2, 3, 4, 5], from: '08:00', to: '18:00' },
        { resource: room!.id, location: mitte!.id, days: [6], from: '09:00', to: '13:00' },
        { provider: ada!.id, location: mitte!.id, days: [1, 2, 3, 4, 5], from: '09:00', to: '17:00' },
        { provider: ada!.id, location: mitte!.id, days: [6], from: '09:00', to: '13:00' },
        { provider: ben!.id, location: mitte!.id, days: [1, 3, 5], from: '10:00', to: '18:00' },
        { provider: ben!.id, location: kreuzberg!.id, days: [2, 4], from: '10:00', to: '19:00' },
        { provider: chiara!.id, location: kreuzberg!.id, days: [1, 2, 3, 4, 5], from: '09:00', to: '17:00' },
      ];
      for (const h of hours) {
        await tx`
          insert into slotbase.availability_rules (tenant_id, provider_id, resource_id, location_id, weekday, start_time, end_time)
          select ${t}::uuid, ${h.provider ?? null}::uuid, ${h.resource ?? null}::uuid, ${h.location}::uuid, d, ${h.from}::time, ${h.to}::time
          from unnest(${h.days}::int[]) as d`;
      }

      const services = await tx<{ id: string; slug: string }[]>`
        insert into slotbase.services (tenant_id, slug, name, description, kind, duration_minutes, buffer_after_minutes, slot_interval_minutes, requires_approval, max_party_size, default_capacity)
        values
          (${t}, 'checkup', 'Check-up', 'A short general check-up, at either location.', 'appointment', 30, 10, null, false, 1, null),
          (${t}, 'consultation', 'Consultation', 'An in-depth consultation; the clinic confirms each request.', 'appointment', 60, 0, null, true, 1, null),
          (${t}, 'ultrasound', 'Ultrasound', 'An ultrasound scan in our Mitte ultrasound room.', 'appointment', 45, 15, 30, false, 1, null),
          (${t}, 'yoga', 'Evening yoga', 'A relaxed group class in Kreuzberg. Bring a friend.', 'group', 60, 0, null, false, 4, 8)
        returning id, slug`;
      const service = (slug: string) => services.find((s) => s.slug === slug)!.id;
      const offers: [string, string[]][] = [
        ['checkup', [ada!.id, ben!.id, chiara!.id]],
        ['consultation', [ada!.id, chiara!.id]],
        ['ultrasound', [ada!.id, ben!.id]],
        ['yoga', [ben!.id]],
      ];
      for (const [slug, providers] of offers) {
        for (const p of providers) await tx`insert into slotbase.service_providers (tenant_id, service_id, provider_id) values (${t}, ${service(slug)}, ${p})`;
      }
      await tx`insert into slotbase.service_resources (tenant_id, service_id, resource_id) values (${t}, ${service('ultrasound')}, ${room!.id})`;
      // Yoga sessions on Tuesdays and Thursdays at 18:00 Berlin time in Kreuzberg (Ben's days there), for four weeks from tomorrow.
      await tx`
        insert into slotbase.sessions (tenant_id, service_id, provider_id, location_id, starts_at, ends_at, capacity)
        select ${t}::uuid, ${service('yoga')}::uuid, ${ben!.id}::uuid, ${kreuzberg!.id}::uuid,
               (d + time '18:00') at time zone ${ZONE}, (d + time '19:00') at time zone ${ZONE}, 8
        from generate_series((now() at time zone ${ZONE})::date + 1, (now() at time zone ${ZONE})::date + 28, interval '1 day') as g(day),
             lateral (select g.day::date as d) as x
        where extract(isodow from d) in (2, 4)`;
      return true;
    });
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * Deletes the demo tenant (slug `demo`) and every row that belongs to it, so `seedDemo` can create
 * it afresh (`slotbase demo --reset`). Returns the deleted tenant's id, or undefined if there was none.
 *
 * Needs the database owner's connection (DATABASE_URL: a superuser, or Supabase's `postgres`).
 * Slotbase never deletes tenants otherwise (they are soft-deleted), and some of its guarantees
 * refuse deletes on purpose — the audit trail is append-only even for the table owner — so this
 * runs with `session_replication_role = replica` (no triggers, no foreign-key actions) for one
 * transaction and deletes explicitly: every row whose `tenant_id` (or any other column with a
 * foreign key to `slotbase.tenants`) is the demo tenant's, in every table of `slotbase` and
 * `slotbase_private`, plus the demo tenant's unfinished jobs. Nothing of another tenant matches
 * these predicates (every tenant-owned table carries `tenant_id` and references other tenant-owned
 * rows only through it). Global users stay (the demo owner is reused by the next seed).
 */
export async function resetDemo(options: { databaseUrl: string }): Promise<string | undefined> {
  const sql = postgres(options.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    return await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(hashtext(${LOCK}))`;
      const [tenant] = await tx<{ id: string }[]>`select id from slotbase.tenants where slug = ${DEMO_SLUG}`;
      if (!tenant) return undefined;
      const id = tenant.id;
      // Jobs first (graphile-worker's own API): notifications, reminders and webhooks of the demo's
      // bookings. A job running right now is left to finish; it finds its rows gone and does nothing.
      await tx`
        select graphile_worker.complete_jobs(array(
          select j.id from graphile_worker._private_jobs as j
          where j.payload->>'tenant_id' = ${id}::text and j.locked_at is null))`;
      await tx`set local session_replication_role = replica`;
      const columns = await tx<{ relation: string; column_name: string }[]>`
        select format('%I.%I', n.nspname, c.relname) as relation, format('%I', a.attname) as column_name
        from pg_catalog.pg_class as c
        join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
        join pg_catalog.pg_attribute as a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where n.nspname in ('slotbase', 'slotbase_private') and c.relkind in ('r', 'p')
          and c.oid <> 'slotbase.tenants'::regclass
          and (a.attname = 'tenant_id' or exists (
            select 1 from pg_catalog.pg_constraint as k
            where k.contype = 'f' and k.conrelid = c.oid and k.confrelid = 'slotbase.tenants'::regclass and a.attnum = any (k.conkey)))
        order by 1, 2`;
      for (const { relation, column_name } of columns) {
        await tx.unsafe(`delete from ${relation} where ${column_name} = $1`, [id]);
      }
      await tx`delete from slotbase.tenants where id = ${id}`;
      return id;
    });
  } finally {
    await sql.end({ timeout: 5 });
  }
}
