import { describe, expect, it } from 'vitest';
import { DEMO_NAME, DEMO_OWNER_EMAIL, DEMO_SLUG, resetDemo, seedDemo } from '#src/cli/demo.ts';
import { scryptHasher } from '#src/lib/passwords.ts';
import { useApi } from '../support/http.ts';
import { addDailyRules, createLocation, createProvider, createResource, createService, createTenant, linkProvider, linkResource } from '../support/factories.ts';
import { fingerprint, ident } from '../support/populated-tenant.ts';

interface Slot { starts_at: string; provider_id: string; location_id: string; session_id: string | null; local_starts_at: string }
const DAY = 86_400_000;
/** ISO weekday (1 = Monday) of a local wall-clock time `YYYY-MM-DDTHH:MM:SS`. */
const isoWeekday = (local: string) => ((new Date(`${local.slice(0, 10)}T12:00:00Z`).getUTCDay() + 6) % 7) + 1;

describe('the demo business `slotbase start` seeds on the embedded database', () => {
  const api = useApi();
  const password = 'demo-password-for-tests';
  const seed = (pw = password) => seedDemo({ databaseUrl: api().db.url!, ownerPassword: pw, passwords: scryptHasher });
  const slots = async (service: string, days = 14, query = '') => {
    const from = new Date(Date.now() + DAY);
    const to = new Date(from.getTime() + days * DAY);
    const res = await api().json<{ data: Slot[] }>('GET', `/v1/public/${DEMO_SLUG}/services/${service}/slots?from=${from.toISOString()}&to=${to.toISOString()}${query}`);
    expect(res.status, service).toBe(200);
    return res.body.data;
  };

  it('is a small clinic chain, bookable right away: two locations, three providers (one at both on different days), a room, one-to-one and group services', async () => {
    expect(await seed()).toBe(true);
    expect(await seed('other')).toBe(false);

    const services = await api().json<{ data: { id: string; slug: string; kind: string }[] }>('GET', `/v1/public/${DEMO_SLUG}/services`);
    expect(services.body.data.map((s) => `${s.slug}:${s.kind}`).sort()).toEqual(['checkup:appointment', 'consultation:appointment', 'ultrasound:appointment', 'yoga:group']);
    const providers = await api().json<{ data: { id: string; name: string }[] }>('GET', `/v1/public/${DEMO_SLUG}/providers`);
    expect(providers.body.data.map((p) => p.name).sort()).toEqual(['Dr. Ada Weiss', 'Dr. Ben Okafor', 'Dr. Chiara Rossi']);
    const locations = await api().json<{ data: { id: string; name: string }[] }>('GET', `/v1/public/${DEMO_SLUG}/locations`);
    expect(locations.body.data.map((l) => l.name).sort()).toEqual(['Kreuzberg', 'Mitte']);
    const location = (name: string) => locations.body.data.find((l) => l.name === name)!.id;
    const provider = (name: string) => providers.body.data.find((p) => p.name === name)!.id;

    for (const slug of ['checkup', 'consultation', 'ultrasound']) expect((await slots(slug)).length, slug).toBeGreaterThan(0);
    const yoga = await slots('yoga');
    expect(yoga.length).toBeGreaterThan(0);
    expect(yoga.every((s) => s.session_id !== null && s.location_id === location('Kreuzberg'))).toBe(true);

    // Ben works in Mitte on Mon/Wed/Fri and in Kreuzberg on Tue/Thu; his check-ups say so.
    const ben = await slots('checkup', 14, `&provider=${provider('Dr. Ben Okafor')}`);
    const whereByDay = new Map<number, Set<string>>();
    for (const s of ben) {
      expect(s.provider_id).toBe(provider('Dr. Ben Okafor'));
      const day = isoWeekday(s.local_starts_at);
      whereByDay.set(day, (whereByDay.get(day) ?? new Set()).add(s.location_id));
    }
    expect([...whereByDay.keys()].sort()).toEqual([1, 2, 3, 4, 5]);
    for (const [day, where] of whereByDay) expect([...where], `weekday ${day}`).toEqual([location([2, 4].includes(day) ? 'Kreuzberg' : 'Mitte')]);

    // The ultrasound needs the one room in Mitte: at a time both Ada and Ben are free there, the
    // second booking is refused (the room is taken), while a check-up (no room) still fits.
    const ultrasound = await slots('ultrasound');
    const adaAt = new Set(ultrasound.filter((s) => s.provider_id === provider('Dr. Ada Weiss')).map((s) => s.starts_at));
    const both = ultrasound.find((s) => s.provider_id === provider('Dr. Ben Okafor') && adaAt.has(s.starts_at))!;
    expect(both).toBeDefined();
    expect(both.location_id).toBe(location('Mitte'));
    const book = (service: string, providerId: string, name: string) =>
      api().json<{ code: string; manage_token: string }>('POST', `/v1/public/${DEMO_SLUG}/bookings`, {
        body: { service_id: services.body.data.find((s) => s.slug === service)!.id, starts_at: both.starts_at, provider_id: providerId, contact: { name, email: `${name.toLowerCase()}@example.test` } },
      });
    expect((await book('ultrasound', provider('Dr. Ada Weiss'), 'First')).status).toBe(201);
    const second = await book('ultrasound', provider('Dr. Ben Okafor'), 'Second');
    expect(second.status).toBe(409);
    expect((second.body as unknown as { code: string }).code).toBe('slot_taken');
    expect((await book('checkup', provider('Dr. Ben Okafor'), 'Third')).status).toBe(201);

    const login = await api().json<{ access_token: string }>('POST', '/v1/auth/login', { body: { email: DEMO_OWNER_EMAIL, password } });
    expect(login.status).toBe(200);
    const page = await api().request('GET', `/b/${DEMO_SLUG}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(DEMO_NAME);
  });

  it('`demo --reset` deletes the demo tenant with every row and job of it, leaves other tenants untouched, and seeds it again', async () => {
    // Another business with a catalog, a room and a booking (with its jobs): the reset must not touch it.
    const db = api().db;
    const bystander = await createTenant(db);
    const loc = await createLocation(db, bystander.id);
    const prov = await createProvider(db, bystander.id, { locationId: loc.id });
    const room = await createResource(db, bystander.id, loc.id);
    const svc = await createService(db, bystander.id, { durationMinutes: 30, maxAdvanceDays: 365 });
    await linkProvider(db, bystander.id, svc.id, prov.id);
    await linkResource(db, bystander.id, svc.id, room.id);
    await addDailyRules(db, bystander.id, { providerId: prov.id }, loc.id, '00:00', '24:00');
    const theirs = await api().json('POST', `/v1/public/${bystander.slug}/bookings`, {
      body: { service_id: svc.id, starts_at: new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 2 * DAY).toISOString(), contact: { name: 'Bystander', email: 'bystander@example.test' } },
    });
    expect(`${theirs.status} ${JSON.stringify(theirs.body)}`).toMatch(/^201 /);
    const theirJobs = await db.query<{ n: number }>(`select count(*)::int as n from graphile_worker._private_jobs where payload->>'tenant_id' = $1`, [bystander.id]);
    expect(theirJobs[0]!.n).toBeGreaterThan(0);
    const before = await fingerprint(api().db, bystander.owner);
    const [old] = await api().db.query<{ id: string }>(`select id from slotbase.tenants where slug = $1`, [DEMO_SLUG]);
    // A booking of the demo with its jobs (confirmation, reminders) to be removed by the reset.
    const checkup = (await api().json<{ data: { id: string; slug: string }[] }>('GET', `/v1/public/${DEMO_SLUG}/services`)).body.data.find((s) => s.slug === 'checkup')!;
    const [slot] = await slots('checkup');
    const booked = await api().json<{ code: string; manage_token: string }>('POST', `/v1/public/${DEMO_SLUG}/bookings`, {
      body: { service_id: checkup.id, starts_at: slot!.starts_at, provider_id: slot!.provider_id, location_id: slot!.location_id, contact: { name: 'Reset Me', email: 'reset-me@example.test', phone: '+49 30 555 0100' } },
    });
    expect(`${booked.status} ${JSON.stringify(booked.body)}`).toMatch(/^201 /);
    const jobs = await api().db.query<{ n: number }>(`select count(*)::int as n from graphile_worker._private_jobs where payload->>'tenant_id' = $1`, [old!.id]);
    expect(jobs[0]!.n).toBeGreaterThan(0);

    expect(await resetDemo({ databaseUrl: api().db.url! })).toBe(old!.id);

    // Not a row anywhere still mentions the old tenant (every table of our schemas and the job queue).
    const tables = await api().db.query<{ schema: string; table: string }>(`
      select n.nspname as schema, c.relname as table from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname in ('slotbase', 'slotbase_private', 'graphile_worker') and c.relkind in ('r', 'p')`);
    expect(tables.length).toBeGreaterThan(20);
    const leftovers: string[] = [];
    for (const { schema, table } of tables) {
      const [row] = await api().db.query<{ n: number }>(`select count(*)::int as n from ${ident(schema)}.${ident(table)} t where t::text like $1`, [`%${old!.id}%`]);
      if (row!.n > 0) leftovers.push(`${schema}.${table}: ${row!.n}`);
    }
    expect(leftovers).toEqual([]);
    expect(await fingerprint(api().db, bystander.owner)).toEqual(before);
    expect(await db.query(`select count(*)::int as n from graphile_worker._private_jobs where payload->>'tenant_id' = $1`, [bystander.id])).toEqual(theirJobs);
    expect((await api().request('GET', `/v1/public/bookings/${booked.body.code}?token=${booked.body.manage_token}`)).status).toBe(404);
    expect((await api().request('GET', `/v1/public/${DEMO_SLUG}/services`)).status).toBe(404);
    expect(await resetDemo({ databaseUrl: api().db.url! })).toBeUndefined();

    // Seeded again: a new tenant, bookable, and the owner signs in with the password given now.
    expect(await seed('a-new-demo-password')).toBe(true);
    const [fresh] = await api().db.query<{ id: string }>(`select id from slotbase.tenants where slug = $1`, [DEMO_SLUG]);
    expect(fresh!.id).not.toBe(old!.id);
    expect((await slots('checkup')).length).toBeGreaterThan(0);
    expect((await api().json('POST', '/v1/auth/login', { body: { email: DEMO_OWNER_EMAIL, password: 'a-new-demo-password' } })).status).toBe(200);
    expect((await api().json('POST', '/v1/auth/login', { body: { email: DEMO_OWNER_EMAIL, password } })).status).toBe(401);
    expect(await fingerprint(api().db, bystander.owner)).toEqual(before);
  });
});
