import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { useApi } from '../support/http.ts';
import { useStripeStandIn } from '../support/stripe-stand-in.ts';
import { loadSpec, operationsOf, pathParams, requestSchema, sample, type OpenApiDoc, type SpecOperation } from '../support/openapi-spec.ts';
import { ALL_STATUSES, fingerprint, populateTenant, type PopulatedTenant } from '../support/populated-tenant.ts';

/**
 * The cross-tenant probe. Two fully populated tenants (bookings in every status, a session with
 * seats, webhook endpoints and deliveries, a calendar feed, a notification, an opt-out, a ban, an
 * API key, members, a registered customer). With each of tenant B's credentials — its owner's
 * token, its API key (X-API-Key) and its registered customer's session — every operation of
 * openapi/openapi.json is called on tenant A:
 *  - operations naming a row (`{id}`, `{…_id}`, a booking `{code}`) get A's row: never 2xx; 404,
 *    or 403 only where the operation documents it (a customer or a key's scope is refused before
 *    any row is read), and exactly the same answer as for an id that does not exist anywhere
 *    (no existence oracle);
 *  - every other operation gets A's ids in its body (`service_id`, `provider_id`, …): never 2xx
 *    when it names one of A's rows;
 *  - no response contains an id of A's private rows, and A's tables — row counts and checksums of
 *    every column A's owner can read, read AS A's owner under RLS — are unchanged after each call.
 * test/http/cross-tenant.test.ts covers B's owner on id-taking operations with every id mix;
 * this adds the API key and customer callers, body-borne ids, booking codes, and the oracle check.
 */

const spec: OpenApiDoc = loadSpec();

/** Public operations that legitimately write into the tenant named in their path, for anyone: not probed. */
const BY_DESIGN_OPEN: Record<string, string> = {
  'POST /v1/public/{tenant}/customers/signup': 'anyone may register as a customer of any business',
  'POST /v1/public/{tenant}/waitlist': 'anyone may join a business\'s public waitlist (like booking it), with the ids of its public catalog',
  'POST /v1/public/{tenant}/customers/login': 'a customer signs in on the business page (no tenant data is written)',
  'GET /v1/public/{tenant}/events': 'a never-ending public SSE stream of availability changes (covered by live-availability tests)',
  'GET /v1/feeds/{token}.ics': 'a capability URL: only its secret token (never an id) names the feed; wrong tokens are probed by calendars tests',
};

type Caller = 'owner' | 'apiKey' | 'customer';
const CALLERS: Caller[] = ['owner', 'apiKey', 'customer'];

/** Path parameters that name a tenant's row. */
const isIdParam = (name: string) => name === 'id' || name.endsWith('_id');

/** The collection a path parameter names: the segment before it. */
function collectionOf(path: string, param: string): string {
  const segments = path.split('/');
  const at = segments.indexOf(`{${param}}`);
  const before = segments[at - 1];
  if (at < 1 || !before || before.startsWith('{')) throw new Error(`${path}: no collection segment before {${param}}`);
  return before;
}

const collectionOfProperty = (property: string) => `${property.slice(0, -'_id'.length)}s`;

describe('cross-tenant probe: tenant B\'s owner, API key and customer against every operation on tenant A', () => {
  // Billing against the local Stripe stand-in, so its routes answer for real (not 501).
  const stripe = useStripeStandIn();
  const api = useApi({ rateLimit: false, stripe: stripe.billing });
  let a: PopulatedTenant;
  let b: PopulatedTenant;
  /** Ids of A's rows that must never appear in an answer to B (its public catalog may: it is public). */
  let privateIdsOfA: string[];

  beforeAll(async () => {
    a = await populateTenant(api());
    b = await populateTenant(api());
    // The public catalog: a.ids.questions asks on a.ids.services, a public service, so the booking
    // page lists it (GET /v1/public/{tenant}/services renders the form). A hidden service and its
    // question stay private.
    const publicCollections = ['locations', 'providers', 'services', 'resources', 'questions'];
    privateIdsOfA = [
      ...Object.entries(a.ids).filter(([c]) => !publicCollections.includes(c)).map(([, id]) => id),
      ...Object.values(a.bookings).flatMap((x) => [x.id, x.manageToken]),
      a.feedToken,
      a.hidden.serviceId,
      a.hidden.questionId,
    ];
  }, 120_000);

  const credentials = (t: PopulatedTenant, c: Caller): { token?: string; headers?: Record<string, string> } =>
    c === 'owner' ? { token: t.token } : c === 'customer' ? { token: t.customerToken } : { headers: { 'x-api-key': t.apiKey } };

  /** A's value for a path parameter; `mode: 'absent'` gives a well-formed value naming nothing. */
  function pathValue(op: SpecOperation, name: string, mode: 'A' | 'absent'): string {
    if (name === 'tenant') return a.slug;
    // A public service of A on A's public page: public data, not a private row.
    if (name === 'service') return a.ids.services!;
    if (name === 'code') return mode === 'A' ? a.bookings.confirmed!.code : 'BK-ZZZZZZ9';
    if (isIdParam(name)) {
      if (mode === 'absent') return randomUUID();
      const collection = collectionOf(op.path, name);
      const id = a.ids[collection];
      if (!id) throw new Error(`${op.label}: no ${collection} row of tenant A for {${name}}: add one to populateTenant`);
      return id;
    }
    throw new Error(`${op.label}: unknown path parameter {${name}}`);
  }

  interface Probe {
    op: SpecOperation;
    /** Names one of A's rows in the path. */
    namesRow: boolean;
  }
  const probes: Probe[] = operationsOf(spec)
    .filter((op) => !BY_DESIGN_OPEN[op.label])
    .map((op) => ({ op, namesRow: pathParams(op).some((p) => isIdParam(p.name) || p.name === 'code') }));

  it('the probe covers every operation of the spec but the documented open ones, and A has a booking in every status', () => {
    expect(probes.length + Object.keys(BY_DESIGN_OPEN).filter((l) => operationsOf(spec).some((o) => o.label === l)).length).toBe(operationsOf(spec).length);
    expect(Object.keys(a.bookings).sort()).toEqual([...ALL_STATUSES].sort());
    expect(probes.filter((p) => p.namesRow).length).toBeGreaterThanOrEqual(40);
  });

  it.each(probes.map((p) => [p.op.label, p] as const))('%s with B\'s owner, API key and customer: never 2xx on A, no leak, A unchanged', async (_label, { op, namesRow }) => {
    const build = (mode: 'A' | 'absent') => {
      let path = op.path;
      for (const p of pathParams(op)) path = path.replace(`{${p.name}}`, encodeURIComponent(pathValue(op, p.name, mode)));
      const query = new URLSearchParams();
      const headers: Record<string, string> = {};
      const idForA = (property: string) => (property === 'user_id' ? a.customerUserId : a.ids[collectionOfProperty(property)]);
      for (const p of op.op.parameters ?? []) {
        if (p.in === 'path') continue;
        // Manage tokens: B's own booking's token on A's booking code.
        if (p.name === 'token' && p.in === 'query') {
          query.set('token', b.bookings.confirmed!.manageToken);
          continue;
        }
        if (!p.required) continue;
        const value = String(sample(spec, p.schema ?? {}, { idFor: idForA }, p.name));
        if (p.in === 'query') query.set(p.name, value);
        if (p.in === 'header') headers[p.name] = value;
      }
      const schema = requestSchema(spec, op);
      let usedA = false;
      const body = schema
        ? sample(spec, schema, {
            idFor: (property) => {
              const id = idForA(property);
              if (id) usedA = true;
              return id;
            },
          })
        : undefined;
      return { url: query.size ? `${path}?${query}` : path, headers, body, usedA };
    };

    const before = await fingerprint(api().db, a.owner);
    const failures: string[] = [];
    for (const caller of CALLERS) {
      const creds = credentials(b, caller);
      const req = build('A');
      const res = await api().request(op.method, req.url, { ...creds, headers: { ...creds.headers, ...req.headers }, body: req.body });
      const text = await res.text();
      const where = `${caller}: ${op.method} ${req.url} ${JSON.stringify(req.body) ?? ''} → ${res.status} ${text.slice(0, 300)}`;
      if (res.status >= 500) failures.push(`5xx ${where}`);
      const leaked = privateIdsOfA.filter((id) => text.includes(id));
      if (leaked.length) failures.push(`leaks ${leaked.join(', ')} ${where}`);
      if (namesRow) {
        // 403 where the operation documents it (roles, API key scopes). A customer session is refused
        // by every staff operation before any row is read (403 forbidden), documented or not.
        const code = (JSON.parse(text || '{}') as { code?: string }).code;
        const allowed = [404, ...(op.op.responses['403'] || (caller === 'customer' && code === 'forbidden') ? [403] : [])];
        if (!allowed.includes(res.status)) failures.push(`expected ${allowed.join(' or ')} ${where}`);
        else if (!/^application\/problem\+json/.test(res.headers.get('content-type') ?? '')) failures.push(`not problem+json ${where}`);
        // No existence oracle: A's row and a row that exists nowhere get the same answer.
        const absent = build('absent');
        const other = await api().request(op.method, absent.url, { ...creds, headers: { ...creds.headers, ...absent.headers }, body: absent.body });
        const otherCode = ((await other.json().catch(() => ({}))) as { code?: string }).code;
        if (other.status !== res.status || otherCode !== code) failures.push(`A's row answers ${res.status} ${code}, a missing one ${other.status} ${otherCode}: ${where}`);
      } else if (req.usedA && res.status < 300) {
        failures.push(`2xx with A's ids in the body ${where}`);
      }
    }
    const after = await fingerprint(api().db, a.owner);
    expect(failures).toEqual([]);
    expect(after, 'tenant A\'s data changed').toEqual(before);
  });
});
