import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '#src/lib/logger.ts';
import { startAvailabilityHub, type AvailabilityHub } from '#src/web/live-availability.ts';
import { useApi } from '../support/http.ts';
import { useStripeStandIn } from '../support/stripe-stand-in.ts';
import { deref, loadSpec, operationsOf, pathParams, requestSchema, sample, type JsonSchema, type OpenApiDoc, type SpecOperation } from '../support/openapi-spec.ts';
import { fingerprint, populateTenant, type PopulatedTenant } from '../support/populated-tenant.ts';

/**
 * Spec-driven fuzzing of every operation in openapi/openapi.json. Per operation: the valid request
 * (bodies from the schema, tenant A's real ids) with no auth, A's owner token, A's registered
 * customer's token and A's API key; then deliberately broken ones generated with fast-check from
 * a fixed seed: wrong types, missing required fields, extra fields, 100 KB strings, NUL, RTL
 * override, emoji and lone surrogates, impossible dates and unknown time zones, negative and huge
 * numbers, SQL metacharacters, path parameters that are not uuids (or are tenant B's ids), bodies
 * that are not objects or not JSON. Rules: no response is a 5xx; every 4xx is
 * application/problem+json with a string `code`; and tenant B — a bystander populated the same
 * way — is unchanged (row counts and checksums of every table, read as B's owner under RLS).
 * The SSE stream (/v1/public/{tenant}/events) never ends: only its status and headers are read.
 */

const spec: OpenApiDoc = loadSpec();
const SEED = 0x5eed_f022;
/** Broken requests per operation (plus 4 valid ones). */
const MUTANTS = 12;

const NASTY_STRINGS = [
  '',
  ' ',
  'x'.repeat(100_000),
  '\u0000',
  'a\u0000b',
  '\u202eevil.exe',
  '😀'.repeat(8),
  '\ud800',
  'x\udfff\ud800y',
  "'; drop table slotbase.bookings; --",
  '" or 1=1 --',
  '%_\\',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  'null',
  'NaN',
  '-1',
  '1e309',
  '2026-02-30T10:00:00Z',
  '2026-13-01',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '+275760-09-13T00:00:00Z',
  'yesterday',
  '2026-03-29T02:30:00',
  '2026-03-29T02:30:00+25:00',
  '24:00:01',
  '99:99',
  'Mars/Olympus',
  'UTC+25',
  'Europe/../../etc',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '00000000-0000-0000-0000-000000000000',
  'BK-\u0000\u0000\u0000',
];
const NASTY_NUMBERS = [-1, 0, -2_147_483_649, 2_147_483_648, 9_007_199_254_740_993, 1e308, -1e308, 1.5, -0.000001];
const NASTY_OTHERS: unknown[] = [null, true, [], {}, [1, 2], { $ne: 1 }, { __proto__: { admin: true } }];

type Auth = 'none' | 'staff' | 'customer' | 'apiKey';
const AUTHS: Auth[] = ['none', 'staff', 'customer', 'apiKey'];

/** encodeURIComponent, except lone surrogates become invalid UTF-8 bytes (a request a browser could not send, a client can). */
function encodePath(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return value.split('').map((ch) => (/[\ud800-\udfff]/.test(ch) ? '%ED%A0%80' : encodeURIComponent(ch))).join('');
  }
}

interface FuzzRequest {
  label: string;
  auth: Auth;
  method: string;
  url: string;
  headers: Record<string, string>;
  /** A JSON value (serialized) or a raw string sent as is. */
  body?: unknown;
  raw?: string;
}

describe('fuzzing every operation of openapi/openapi.json: no 5xx, problem+json 4xx, the bystander tenant untouched', () => {
  // The SSE route reads its hub per request: a real one (LISTEN on this file's database) is started below.
  let hub: AvailabilityHub | undefined;
  let listenSql: postgres.Sql | undefined;
  const live: AvailabilityHub = {
    subscribe: (tenantId, listener) => hub!.subscribe(tenantId, listener),
    since: (tenantId, lastEventId) => hub!.since(tenantId, lastEventId),
    get listeners() {
      return hub?.listeners ?? 0;
    },
    close: async () => {},
  };
  // Billing against the local Stripe stand-in, so its routes answer for real (not 501).
  const stripe = useStripeStandIn();
  const api = useApi({ rateLimit: false, live, stripe: stripe.billing });
  let a: PopulatedTenant;
  let b: PopulatedTenant;

  afterAll(async () => {
    await hub?.close();
    await listenSql?.end({ timeout: 5 });
  });

  beforeAll(async () => {
    listenSql = postgres(api().db.url!, { max: 1, onnotice: () => {} });
    hub = await startAvailabilityHub(listenSql, createLogger('silent'));
    a = await populateTenant(api());
    b = await populateTenant(api());
    // The key named in paths (DELETE /v1/api-keys/{id}) is not the one the fuzzer signs in with.
    const spare = await api().json<{ id: string }>('POST', '/v1/api-keys', { token: a.token, body: { name: 'spare', scopes: ['*'] } });
    expect(spare.status).toBe(201);
    a.ids['api-keys'] = spare.body.id;
  }, 120_000);

  const authHeaders = (auth: Auth): Record<string, string> =>
    auth === 'staff' ? { authorization: `Bearer ${a.token}` } : auth === 'customer' ? { authorization: `Bearer ${a.customerToken}` } : auth === 'apiKey' ? { 'x-api-key': a.apiKey } : {};

  /** A's value for a path parameter. */
  function validPathValue(op: SpecOperation, name: string): string {
    if (name === 'tenant') return a.slug;
    if (name === 'service') return a.ids.services!;
    if (name === 'code') return a.bookings.confirmed!.code;
    if (name === 'token') return a.feedToken;
    const segments = op.path.split('/');
    const collection = segments[segments.indexOf(`{${name}}`) - 1] ?? '';
    if (name === 'user_id') return a.customerUserId;
    return a.ids[collection] ?? randomUUID();
  }

  /** Generates the requests of one operation: the valid one per auth, then MUTANTS broken ones. */
  function requestsOf(op: SpecOperation, seed: number): FuzzRequest[] {
    const params = op.op.parameters ?? [];
    const idForA = (property: string) => (property === 'user_id' ? a.customerUserId : a.ids[`${property.slice(0, -3)}s`]);
    const schema = requestSchema(spec, op);
    const validBody = schema ? sample(spec, schema, { idFor: idForA }) : undefined;
    const build = (o: { path?: Record<string, string>; query?: Record<string, string>; headers?: Record<string, string>; body?: unknown; raw?: string }, auth: Auth, label: string): FuzzRequest => {
      let path = op.path;
      for (const p of pathParams(op)) path = path.replace(`{${p.name}}`, encodePath(o.path?.[p.name] ?? validPathValue(op, p.name)));
      const query = new URLSearchParams();
      for (const p of params.filter((x) => x.in === 'query')) {
        const v = o.query?.[p.name] ?? (p.required ? String(sample(spec, p.schema ?? {}, { idFor: idForA }, p.name)) : undefined);
        if (v !== undefined) query.set(p.name, v);
      }
      // The manage token of A's booking where an operation takes one.
      if (params.some((x) => x.name === 'token' && x.in === 'query') && !o.query?.token) query.set('token', a.bookings.confirmed!.manageToken);
      const url = query.size ? `${path}?${query}` : path;
      return { label, auth, method: op.method, url, headers: { ...authHeaders(auth), ...o.headers }, ...(o.raw !== undefined ? { raw: o.raw } : { body: 'body' in o ? o.body : validBody }) };
    };
    const out: FuzzRequest[] = AUTHS.map((auth) => build({}, auth, 'valid'));

    const bodySchema = schema ? deref(spec, schema) : undefined;
    const props = Object.entries(bodySchema?.properties ?? {}).map(([k, v]) => [k, deref(spec, v)] as [string, JsonSchema]);
    const nastyValue = fc.oneof(
      { weight: 5, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
      { weight: 2, arbitrary: fc.constantFrom(...NASTY_NUMBERS) },
      { weight: 1, arbitrary: fc.constantFrom(...NASTY_OTHERS) },
      { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
      { weight: 1, arbitrary: fc.constant(null).map(() => b.ids.bookings) },
    );
    const kinds = ['path', 'query', 'header', 'wrong_type', 'missing', 'extra', 'replace_body', 'raw_body'] as const;
    const mutant = fc.record({
      kind: fc.constantFrom(...kinds),
      auth: fc.constantFrom(...AUTHS),
      value: nastyValue,
      pick: fc.nat(),
    });
    const takesBody = !['GET', 'HEAD'].includes(op.method);
    const pathP = pathParams(op);
    const queryP = params.filter((x) => x.in === 'query');
    const objectBody = props.length > 0 && validBody !== null && typeof validBody === 'object';
    for (const m of fc.sample(mutant, { seed, numRuns: MUTANTS })) {
      // What an operation cannot take falls back: no body (GET) → headers; no such field or parameter → the next kind.
      let kind: (typeof kinds)[number] = m.kind;
      if (!takesBody && ['wrong_type', 'missing', 'extra', 'replace_body', 'raw_body'].includes(kind)) kind = 'header';
      if (['wrong_type', 'missing', 'extra'].includes(kind) && !objectBody) kind = 'replace_body';
      if (kind === 'path' && !pathP.length) kind = 'query';
      if (kind === 'query' && !queryP.length) kind = 'header';
      const text = typeof m.value === 'string' ? m.value : JSON.stringify(m.value) ?? 'undefined';
      const latin1 = text.replace(/[^\x20-\x7e]/g, '?').slice(0, 4000);
      const show = (v: unknown) => (JSON.stringify(v) ?? String(v)).slice(0, 60);
      if (kind === 'path') {
        const p = pathP[m.pick % pathP.length]!;
        out.push(build({ path: { [p.name]: text || ' ' } }, m.auth, `path ${p.name}=${show(text)}`));
      } else if (kind === 'query') {
        const p = queryP[m.pick % queryP.length]!;
        out.push(build({ query: { [p.name]: text } }, m.auth, `query ${p.name}=${show(text)}`));
      } else if (kind === 'header') {
        out.push(build({ headers: { 'idempotency-key': latin1, 'x-manage-token': latin1 } }, m.auth, `headers=${show(latin1)}`));
      } else if (kind === 'wrong_type' || kind === 'missing' || kind === 'extra') {
        const [name] = props[m.pick % props.length]!;
        const body = { ...(validBody as Record<string, unknown>) };
        const required = bodySchema?.required ?? [];
        if (kind === 'wrong_type') body[name] = m.value;
        else if (kind === 'missing') delete body[required.length ? required[m.pick % required.length]! : name];
        else body[`sneaky_${m.pick % 7}`] = m.value;
        out.push(build({ body }, m.auth, `${kind} ${name}=${show(m.value)}`));
      } else if (kind === 'replace_body') {
        out.push(build({ body: m.value }, m.auth, `body=${show(m.value)}`));
      } else {
        out.push(build({ raw: `{"${text.slice(0, 100)}": `, headers: { 'content-type': 'application/json' } }, m.auth, 'malformed JSON'));
      }
    }
    return out;
  }

  const operations = operationsOf(spec);

  it('the fuzzer has every operation of the spec to run', () => {
    expect(operations.length).toBeGreaterThanOrEqual(100);
  });

  it.each(operations.map((op, i) => [op.label, op, i] as const))('%s: no 5xx, every 4xx a problem with a code, tenant B untouched', async (_label, op, i) => {
    const isStream = op.path === '/v1/public/{tenant}/events';
    const before = await fingerprint(api().db, b.owner);
    const failures: string[] = [];
    const requests = requestsOf(op, SEED + i);
    for (const r of requests) {
      const headers = { ...(r.body !== undefined || r.raw !== undefined ? { 'content-type': 'application/json' } : {}), ...r.headers };
      const body = r.raw ?? (r.body === undefined ? undefined : JSON.stringify(r.body));
      const res = await api().request(r.method, r.url, { headers, ...(body !== undefined ? { body } : {}) });
      const type = res.headers.get('content-type') ?? '';
      const where = `${r.label} [${r.auth}] ${r.method} ${r.url.slice(0, 160)} → ${res.status}`;
      if (isStream && res.status === 200) {
        if (!type.startsWith('text/event-stream')) failures.push(`stream without text/event-stream: ${where}`);
        await res.body?.cancel();
        continue;
      }
      const text = await res.text();
      if (res.status >= 500) failures.push(`${where} ${text.slice(0, 300)}`);
      if (res.status >= 400 && res.status < 500) {
        if (!type.startsWith('application/problem+json')) failures.push(`not problem+json (${type}): ${where}`);
        else {
          const problem = JSON.parse(text) as { code?: unknown; status?: unknown };
          if (typeof problem.code !== 'string' || problem.code === '') failures.push(`problem without a code: ${where} ${text.slice(0, 200)}`);
          if (problem.status !== res.status) failures.push(`problem status ${String(problem.status)}: ${where}`);
        }
      }
    }
    const after = await fingerprint(api().db, b.owner);
    expect(failures).toEqual([]);
    expect(requests.length).toBeGreaterThanOrEqual(AUTHS.length + MUTANTS);
    expect(after, 'the bystander tenant B changed').toEqual(before);
  });
});
