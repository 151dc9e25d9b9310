import { beforeAll, describe, expect, it } from 'vitest';
import type { Principal, Queryable } from '../support/db.ts';
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
} from '../support/factories.ts';
import { useApi, type TestApi } from '../support/http.ts';
import { loadSpec, operationsOf, pathParams, requestSchema, sample, type OpenApiDoc, type Parameter, type SpecOperation } from '../support/openapi-spec.ts';
import { utc } from '../support/staff-world.ts';
import { fingerprint, ident, readableColumns } from '../support/populated-tenant.ts';

/**
 * Tenant isolation over HTTP, driven by the committed OpenAPI document: every operation that
 * names a row by id in its path, called by tenant B's owner with tenant A's ids, is a 404 and
 * changes nothing of tenant A. A new route is checked the day it lands in the spec.
 */

const spec: OpenApiDoc = loadSpec();

/** Path parameters that name a tenant's row: `{id}` and `{…_id}`. Codes (`{code}`) are public + token. */
const isIdParam = (p: Parameter) => p.name === 'id' || p.name.endsWith('_id');

/** The collection a path parameter names: the segment before it (`/v1/services/{id}/providers/{provider_id}`). */
function collectionOf(path: string, param: string): string {
  const segments = path.split('/');
  const at = segments.indexOf(`{${param}}`);
  const before = segments[at - 1];
  if (at < 1 || !before || before.startsWith('{')) throw new Error(`${path}: no collection segment before {${param}}`);
  return before;
}

/** `location_id` → `locations`. */
const collectionOfProperty = (property: string) => `${property.slice(0, -'_id'.length)}s`;

interface Case {
  op: SpecOperation;
  /** Which tenant's id each id parameter gets. */
  owners: Record<string, 'A' | 'B'>;
  name: string;
}

/** Every id operation with all ids of A; with several ids, also each one of A's among B's own (linking B's service to A's provider). */
function casesOf(doc: OpenApiDoc): Case[] {
  const cases: Case[] = [];
  for (const op of operationsOf(doc)) {
    const ids = pathParams(op).filter(isIdParam).map((p) => p.name);
    if (ids.length === 0) continue;
    const variants: Record<string, 'A' | 'B'>[] = [Object.fromEntries(ids.map((n) => [n, 'A' as const]))];
    if (ids.length > 1) for (const only of ids) variants.push(Object.fromEntries(ids.map((n) => [n, n === only ? 'A' : 'B'] as const)));
    for (const owners of variants) {
      const who = ids.map((n) => `${n}=${owners[n]}`).join(', ');
      cases.push({ op, owners, name: `${op.label} (${op.op.operationId}; ${who})` });
    }
  }
  return cases;
}

interface PopulatedTenant {
  tenantId: string;
  slug: string;
  owner: Principal;
  token: string;
  /** One row id per collection (the path segment that names it). */
  ids: Record<string, string>;
}

/**
 * A tenant with a row in every table: a location, a provider and a room working around the clock,
 * an appointment service using both, a group service with a session, a date override, time off,
 * a member besides the owner, and a booking (with its claims and events).
 */
async function populateTenant(api: TestApi): Promise<PopulatedTenant> {
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
  const group = await createService(db, tenant.id, { kind: 'group', durationMinutes: 60, maxPartySize: 4, defaultCapacity: 6, maxAdvanceDays: 365 });
  await linkProvider(db, tenant.id, group.id, provider.id);
  const member = await addMember(db, tenant.id, 'viewer');
  const token = (await api.tokens.signAccess({ sub: tenant.owner.userId, tenant_id: tenant.id })).token;

  const create = async (path: string, body: unknown): Promise<string> => {
    const res = await api.json<{ id: string }>('POST', path, { token, body });
    expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(201);
    return res.body.id;
  };
  const dateOverride = await create('/v1/date-overrides', {
    provider_id: provider.id, location_id: location.id, date: utc(30, '00:00').slice(0, 10), start_time: '10:00', end_time: '12:00',
  });
  const timeOff = await create('/v1/time-off', { provider_id: provider.id, starts_at: utc(40, '00:00'), ends_at: utc(41, '00:00'), reason: 'away' });
  const session = await create('/v1/sessions', { service_id: group.id, provider_id: provider.id, location_id: location.id, starts_at: utc(5, '18:00'), capacity: 8 });
  const booking = await create('/v1/bookings', {
    service_id: service.id, provider_id: provider.id, starts_at: utc(3, '10:00'), contact: { name: 'Ada Guest', email: 'ada@example.test' },
  });
  const rules = await api.json<{ data: { id: string }[] }>('GET', `/v1/providers/${provider.id}/availability-rules?limit=1`, { token });
  // Created under its provider (POST /v1/providers/{id}/calendar-feeds): not discoverable from /v1/calendar-feeds.
  const calendarFeed = await create(`/v1/providers/${provider.id}/calendar-feeds`, { name: 'probe' });
  // A webhook endpoint and one delivery (a test ping): deliveries are listed only under their endpoint.
  const webhookEndpoint = await create('/v1/webhook-endpoints', { url: 'https://hooks.example.test/in' });
  const webhookDelivery = (await api.json<{ id: string }>('POST', `/v1/webhook-endpoints/${webhookEndpoint}/test`, { token })).body.id;
  const notificationOptOut = await create('/v1/notification-opt-outs', { channel: 'email', address: `${tenant.slug}-quiet@example.test` });
  // A pending invitation (someone without an account, added as a member): found through GET /v1/invitations.
  const invited = await api.json('POST', '/v1/members', { token, body: { email: `${tenant.slug}-invited@example.test`, role: 'viewer' } });
  expect(invited.status, JSON.stringify(invited.body)).toBe(202);
  // A booking question: only reachable under its service (/v1/services/{id}/questions/{question_id}).
  const question = await create(`/v1/services/${service.id}/questions`, { kind: 'text', label: 'Probe question' });
  // A second location and the travel time between the two (a pair of distinct locations: the spec's sample body cannot make one).
  const location2 = await createLocation(db, tenant.id, { timeZone: 'Europe/Berlin' });
  const travelTime = await create('/v1/travel-times', { location_a_id: location.id, location_b_id: location2.id, minutes: 30 });
  expect(rules.status).toBe(200);
  // A recurring series, a waitlist entry and an offer to it (the offer job's SQL, run as the worker would).
  const series = await create('/v1/booking-series', {
    service_id: service.id, provider_id: provider.id, starts_at: utc(6, '09:00'), rrule: 'FREQ=WEEKLY;COUNT=2', contact: { name: 'Series Guest', email: 'series@example.test' },
  });
  const waitlistEntry = await create('/v1/waitlist', {
    service_id: service.id, provider_id: provider.id, window_from: utc(3, '00:00'), window_to: utc(4, '00:00'), contact: { name: 'Wait Guest', email: 'wait@example.test' },
  });
  const [offer] = await api.db.query<{ id: string }>('select slotbase_private.offer_waitlist_slot($1, $2, $3, $4, $5) as id', [
    tenant.id, service.id, provider.id, location.id, utc(3, '20:00'),
  ]);
  expect(offer?.id).toBeTruthy();
  // With customer accounts in the spec: a registered customer who booked while signed in.
  const ids: Record<string, string> = {};
  if (spec.paths['/v1/public/{tenant}/customers/signup']) {
    const customer = await api.json<{ access_token: string; user: { id: string } }>('POST', `/v1/public/${tenant.slug}/customers/signup`, {
      body: { email: `${tenant.slug}-customer@example.test`, password: 'correct horse battery staple', name: 'Carla Customer' },
    });
    expect(customer.status, JSON.stringify(customer.body)).toBe(201);
    const booked = await api.json('POST', `/v1/public/${tenant.slug}/bookings`, {
      token: customer.body.access_token,
      body: { service_id: service.id, starts_at: utc(3, '11:00'), contact: { name: 'Carla Customer', email: `${tenant.slug}-customer@example.test` } },
    });
    expect(booked.status, JSON.stringify(booked.body)).toBe(201);
    ids.customers = customer.body.user.id;
  }

  return {
    tenantId: tenant.id,
    slug: tenant.slug,
    owner: tenant.owner,
    token,
    ids: {
      ...ids,
      locations: location.id,
      providers: provider.id,
      resources: resource.id,
      services: service.id,
      'availability-rules': rules.body.data[0]!.id,
      'date-overrides': dateOverride,
      'time-off': timeOff,
      members: member.membershipId,
      sessions: session,
      bookings: booking,
      users: tenant.owner.userId,
      'calendar-feeds': calendarFeed,
      'webhook-endpoints': webhookEndpoint,
      'webhook-deliveries': webhookDelivery,
      'notification-opt-outs': notificationOptOut,
      'booking-series': series,
      waitlist: waitlistEntry,
      'waitlist-offers': offer!.id,
      questions: question,
      'travel-times': travelTime,
    },
  };
}

/** Every id (`id` or `…_id` column) in every table the caller can read: what counts as tenant A's. */
async function visibleIds(api: TestApi, who: Principal): Promise<Set<string>> {
  return api.db.as(who, async (q) => {
    const selects = (await readableColumns(q)).flatMap(({ table, columns }) =>
      columns.filter((c) => c === 'id' || c.endsWith('_id')).map((c) => `select ${ident(c)}::text as id from slotbase.${ident(table)}`));
    const rows = await q.query<{ id: string | null }>(selects.join('\nunion\n'));
    // Row ids are uuids; global reference tables keyed by names (slotbase.plans: free, pro, …) are nobody's data.
    return new Set(rows.flatMap((r) => (r.id && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(r.id) ? [r.id] : [])));
  });
}

describe('cross-tenant isolation of every id-taking operation in openapi/openapi.json', () => {
  const api = useApi();
  const cases = casesOf(spec);
  let a: PopulatedTenant;
  let b: PopulatedTenant;
  let aIds: Set<string>;

  beforeAll(async () => {
    a = await populateTenant(api());
    b = await populateTenant(api());
    aIds = await visibleIds(api(), a.owner);
  });

  /**
   * Tenant t's id for the row a path parameter names: from the populated tenant, or (a collection
   * added later) the first row its list returns, or else one made by its create operation with a
   * body generated from the spec.
   */
  async function idOf(t: PopulatedTenant, collection: string, param: string): Promise<string> {
    const known = t.ids[collection];
    if (known) return known;
    const pick = (row: Record<string, unknown> | undefined) => {
      const id = row?.[param] ?? row?.id;
      return typeof id === 'string' ? id : undefined;
    };
    const list = await api().json<{ data?: Record<string, unknown>[] }>('GET', `/v1/${collection}?limit=1`, { token: t.token });
    let id = list.status === 200 ? pick(list.body.data?.[0]) : undefined;
    const create = operationsOf(spec).find((o) => o.method === 'POST' && o.path === `/v1/${collection}`);
    const schema = create && requestSchema(spec, create);
    if (!id && create && schema) {
      const body = sample(spec, schema, { idFor: (property) => t.ids[collectionOfProperty(property)] });
      const made = await api().json<Record<string, unknown>>('POST', create.path, { token: t.token, body });
      id = made.status === 201 ? pick(made.body) : undefined;
    }
    if (!id) throw new Error(`no ${collection} row of tenant ${t.slug} to use for {${param}}: add one to populateTenant`);
    t.ids[collection] = id;
    return id;
  }

  it('the spec has id-taking operations to check, and both tenants have a row in every table', async () => {
    expect(cases.length).toBeGreaterThanOrEqual(35);
    const prints = await fingerprint(api().db, a.owner);
    const empty = Object.entries(prints).filter(([, f]) => f.startsWith('0:')).map(([t]) => t);
    // Tables arriving with new features may start empty; the core ones must hold A's data.
    const core = ['tenants', 'users', 'memberships', 'locations', 'providers', 'resources', 'services', 'service_providers', 'service_resources',
      'availability_rules', 'date_overrides', 'time_off', 'sessions', 'bookings', 'booking_claims', 'booking_events'];
    expect(core.filter((t) => !(t in prints)), 'tables the owner cannot read').toEqual([]);
    expect(empty.filter((t) => core.includes(t)), 'core tables without rows of tenant A').toEqual([]);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s as tenant B\'s owner: 404, tenant A unchanged', async (_name, { op, owners }) => {
    const used: string[] = [];
    let path = op.path;
    for (const p of pathParams(op)) {
      let value: string;
      if (isIdParam(p)) {
        const tenant = owners[p.name] === 'A' ? a : b;
        value = await idOf(tenant, collectionOf(op.path, p.name), p.name);
        if (tenant === a) used.push(value);
      } else if (p.name === 'tenant') {
        value = b.slug;
      } else {
        value = String(sample(spec, p.schema ?? {}));
      }
      path = path.replace(`{${p.name}}`, encodeURIComponent(value));
    }
    const idForA = (property: string) => a.ids[collectionOfProperty(property)];
    const query = new URLSearchParams();
    const headers: Record<string, string> = {};
    for (const p of op.op.parameters ?? []) {
      if (!p.required || p.in === 'path') continue;
      const value = String(sample(spec, p.schema ?? {}, { idFor: idForA }, p.name));
      if (p.in === 'query') query.set(p.name, value);
      if (p.in === 'header') headers[p.name] = value;
    }
    const schema = requestSchema(spec, op);
    const body = schema ? sample(spec, schema, { idFor: idForA }) : undefined;
    const url = query.size ? `${path}?${query}` : path;

    if (used.some((id) => !aIds.has(id))) aIds = await visibleIds(api(), a.owner); // rows made on demand by idOf
    for (const id of used) expect(aIds.has(id), `${id} should be a row of tenant A`).toBe(true);
    const before = await fingerprint(api().db, a.owner);
    const res = await api().request(op.method, url, { token: b.token, headers, body });
    const text = await res.text();
    const after = await fingerprint(api().db, a.owner);

    // 403 only for an operation that documents no 404 (there is none today).
    const expected = op.op.responses['404'] ? 404 : 403;
    expect(res.status, `${op.method} ${url} ${JSON.stringify(body)} → ${text}`).toBe(expected);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((JSON.parse(text) as { code: string }).code).toBe(expected === 404 ? 'not_found' : 'forbidden');
    expect([...aIds].filter((id) => text.includes(id)), 'ids of tenant A in the response').toEqual([]);
    expect(after, 'tenant A\'s data changed').toEqual(before);
  });
});
