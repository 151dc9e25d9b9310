import { beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../support/factories.ts';
import { useApi } from '../support/http.ts';
import { loadSpec, operationsOf, requestSchema, sample, type SpecOperation } from '../support/openapi-spec.ts';

/**
 * A registered customer's session (`kind: customer`) may use the public API and `/v1/me`, never
 * the staff API: every staff operation answers it 403 `forbidden`, and the committed spec says
 * so. Driven by openapi/openapi.json: every operation that needs a token, outside the `Me` tag.
 */
const spec = loadSpec();
const staffOperations = operationsOf(spec).filter(
  (o) => (o.op.security?.length ?? 0) > 0 && !((o.op as { tags?: string[] }).tags ?? []).includes('Me'),
);

/** The operation's path with a fresh id for every parameter, its required query parameters, and a valid body. */
function requestOf(o: SpecOperation): { path: string; body: unknown } {
  let path = o.path;
  const query = new URLSearchParams();
  for (const p of o.op.parameters ?? []) {
    const value = String(p.example ?? (p.schema ? sample(spec, p.schema) : 'x'));
    if (p.in === 'path') path = path.replace(`{${p.name}}`, encodeURIComponent(value));
    else if (p.in === 'query' && p.required) query.set(p.name, value);
  }
  const schema = requestSchema(spec, o);
  let body: unknown;
  try {
    body = schema ? sample(spec, schema) : undefined;
  } catch {
    body = {}; // a pattern without an example: the member check comes before the body's validation anyway
  }
  return { path: query.size ? `${path}?${query}` : path, body };
}

describe('customer sessions on the staff API', () => {
  const api = useApi();
  let customerToken: string;

  beforeAll(async () => {
    const user = await createUser(api().db);
    customerToken = (await api().tokens.signAccess({ sub: user.id, kind: 'customer' })).token;
  });

  it('the spec documents 403 on every staff operation (and there are many)', () => {
    expect(staffOperations.length).toBeGreaterThan(80);
    expect(staffOperations.filter((o) => !o.op.responses['403']).map((o) => o.label)).toEqual([]);
  });

  it('every staff operation answers a customer session 403 forbidden', async () => {
    const wrong: string[] = [];
    for (const o of staffOperations) {
      const { path, body } = requestOf(o);
      const res = await api().json<{ code?: string }>(o.method, path, { token: customerToken, ...(body !== undefined ? { body } : {}) });
      if (res.status !== 403 || res.body?.code !== 'forbidden') wrong.push(`${o.label} → ${res.status} ${res.body?.code}`);
    }
    expect(wrong).toEqual([]);
  });

  it('the same session may read its own profile (the Me operations are not staff operations)', async () => {
    const me = await api().json('GET', '/v1/me', { token: customerToken });
    expect(me.status).toBe(200);
  });
});
