import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { addDailyRules, createLocation, createProvider, createService, createTenant, linkProvider, uniq } from '../support/factories.ts';
import { TEST_JWT_SECRET, TEST_SUPABASE_JWT_SECRET, useApi } from '../support/http.ts';
import { useSupabaseAuthStandIn } from '../support/supabase-auth-stand-in.ts';

/**
 * The Supabase Edge Function (supabase/functions/api/index.ts) run by a real Deno (the `deno`
 * devDependency) against this file's database, side by side with the Node app of useApi() on the
 * same database: what the edge function answers must be what Node answers.
 *
 * Deno resolves the function's npm: imports from the npm registry into DENO_DIR
 * (node_modules/.cache/deno) once, in beforeAll, pinned by supabase/functions/api/deno.lock
 * (--frozen); the function then runs with --cached-only (it fetches nothing) and may only reach
 * its own port and the database (--allow-net).
 */
const ROOT = resolve(import.meta.dirname, '../..');
const FUNCTION_DIR = join(ROOT, 'supabase/functions/api');
const PREFIX = '/functions/v1/api';
const DENO_DIR = join(ROOT, 'node_modules/.cache/deno');

/** The deno binary of the `deno` package (works whether or not npm ran its postinstall). */
function denoBinary(): string {
  const install = createRequire(import.meta.url)('deno/install_api.cjs') as { runInstall(): string };
  return install.runInstall();
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

const denoEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  ...process.env,
  DENO_DIR,
  DENO_NO_UPDATE_CHECK: '1',
  DENO_NO_PROMPT: '1',
  NO_COLOR: '1',
  ...extra,
});

interface Res<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

describe('the Supabase Edge Function under Deno', () => {
  const auth = useSupabaseAuthStandIn();
  const api = useApi();
  let child: ChildProcess | undefined;
  let output = '';
  let base = '';

  beforeAll(async () => {
    const deno = denoBinary();
    const config = ['--config', join(FUNCTION_DIR, 'deno.json'), '--frozen'];
    // Fills DENO_DIR from the npm registry (a no-op once cached); nothing else is contacted.
    const cached = spawnSync(deno, ['cache', ...config, join(FUNCTION_DIR, 'index.ts')], {
      cwd: FUNCTION_DIR, env: denoEnv(), encoding: 'utf8', timeout: 240_000,
    });
    if (cached.status !== 0) throw new Error(`deno cache failed (${cached.status ?? cached.signal}):\n${cached.stderr}${cached.stdout}`);

    const db = new URL(api().db.url!);
    db.username = 'slotbase_api';
    db.password = inject('apiPassword');
    const port = await freePort();
    child = spawn(
      deno,
      [
        'run', ...config, '--cached-only',
        `--allow-net=127.0.0.1:${port},${db.hostname}:${db.port || 5432},${new URL(auth().url).host}`, '--allow-env', '--allow-read', '--allow-sys',
        join(FUNCTION_DIR, 'index.ts'),
      ],
      {
        cwd: FUNCTION_DIR,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: denoEnv({
          API_DATABASE_URL: db.toString(),
          SLOTBASE_JWT_SECRET: TEST_JWT_SECRET,
          // What Supabase gives every function (here: the local Auth stand-in's), plus the legacy secret.
          SUPABASE_URL: auth().url,
          SUPABASE_ANON_KEY: auth().project().anonKey,
          SUPABASE_JWKS: JSON.stringify(auth().jwks()),
          SLOTBASE_SUPABASE_JWT_SECRET: TEST_SUPABASE_JWT_SECRET,
          HOST: '127.0.0.1',
          PORT: String(port),
          LOG_LEVEL: 'warn',
        }),
      },
    );
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    base = `http://127.0.0.1:${port}${PREFIX}`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the edge function exited with ${child.exitCode}:\n${output}`);
      try {
        if ((await fetch(`${base}/health`)).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`the edge function did not answer /health within 60 s:\n${output}`);
      await new Promise((done) => setTimeout(done, 100));
    }
  }, 300_000);

  afterAll(async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((done) => child!.once('exit', done));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((done) => setTimeout(done, 5_000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  /** One request to the edge function (`path` without the /functions/v1/api prefix). */
  async function edge<T = Record<string, unknown>>(method: string, path: string, options: { body?: unknown; token?: string; headers?: Record<string, string> } = {}): Promise<Res<T>> {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...options.headers,
      },
      body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T, headers: res.headers };
  }

  /** A problem as both runtimes must answer it: everything but the per-request id. */
  const sameProblem = (res: Res) => {
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.body.request_id).toBe(res.headers.get('x-request-id'));
    const { request_id: _id, ...rest } = res.body;
    return { status: res.status, body: rest };
  };

  const signupBody = () => ({
    email: `${uniq('edge-')}@example.test`,
    password: 'correct horse battery staple',
    name: 'Edna Edge',
    tenant: { slug: uniq('edge-'), name: 'Edge Clinic', time_zone: 'Europe/Berlin' },
  });

  it('answers /health under the Supabase prefix, with the same headers as Node, and 404s as problem+json', async () => {
    const res = await edge('GET', '/health');
    expect(res).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const node = await api().request('GET', '/health');
    for (const header of ['content-type', 'x-content-type-options', 'strict-transport-security', 'referrer-policy'])
      expect(res.headers.get(header)).toBe(node.headers.get(header));
    expect((await edge('GET', '/ready')).status).toBe(200); // the database answers Deno's pool too
    const missing = await edge('GET', '/v1/no-such-thing');
    expect(sameProblem(missing)).toEqual(sameProblem(await api().json('GET', '/v1/no-such-thing')));
    expect(missing.body).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('signs up and logs in under Deno; tokens and password hashes work across both runtimes', async () => {
    const body = signupBody();
    const res = await edge<{ access_token: string; refresh_token: string; user: { id: string }; tenant: { id: string; slug: string; role: string } }>(
      'POST', '/v1/signup', { body });
    expect(res.status).toBe(201);
    expect(res.body.tenant).toMatchObject({ slug: body.tenant.slug, role: 'owner' });
    // The same response shape as a Node sign-up, and the token is one the Node app accepts.
    const nodeSignup = await api().json('POST', '/v1/signup', { body: signupBody() });
    expect(Object.keys(res.body).sort()).toEqual(Object.keys(nodeSignup.body).sort());
    expect(await api().tokens.verifyAccess(res.body.access_token)).toMatchObject({ sub: res.body.user.id, tenant_id: res.body.tenant.id });
    const tenant = await api().json<{ slug: string }>('GET', '/v1/tenant', { token: res.body.access_token });
    expect(tenant).toMatchObject({ status: 200, body: { slug: body.tenant.slug } });
    // A scrypt hash written by Deno verifies on Node, and one written by Node verifies on Deno.
    const onNode = await api().json('POST', '/v1/auth/login', { body: { email: body.email, password: body.password } });
    expect(onNode.status).toBe(200);
    const nodeUser = (nodeSignup.body as { user: { email: string } }).user.email;
    expect((await edge('POST', '/v1/auth/login', { body: { email: nodeUser, password: body.password } })).status).toBe(200);
    const wrong = await edge('POST', '/v1/auth/login', { body: { email: body.email, password: 'not the password' } });
    expect(sameProblem(wrong)).toEqual(sameProblem(await api().json('POST', '/v1/auth/login', { body: { email: body.email, password: 'not the password' } })));
    expect(wrong.body).toMatchObject({ status: 401, code: 'invalid_credentials' });
    // Refresh tokens are hashed with node:crypto under Deno exactly as under Node.
    const refreshed = await api().json('POST', '/v1/auth/refresh', { body: { refresh_token: res.body.refresh_token } });
    expect(refreshed.status).toBe(200);
    // Validation errors and malformed JSON are the same problems.
    const invalid = { ...signupBody(), email: 'not-an-email', password: 'short' };
    expect(sameProblem(await edge('POST', '/v1/signup', { body: invalid }))).toEqual(sameProblem(await api().json('POST', '/v1/signup', { body: invalid })));
    const malformed = await edge('POST', '/v1/signup', { body: '{"email":' });
    expect(sameProblem(malformed)).toEqual(sameProblem(await api().json('POST', '/v1/signup', { body: '{"email":' })));
    expect(malformed.body).toMatchObject({ status: 400, code: 'bad_request' });

    // Page cursors (base64url without Buffer) round-trip under Deno and are the ones Node hands out.
    for (const name of ['Mitte', 'Nord', 'Süd'])
      expect((await edge('POST', '/v1/locations', { token: res.body.access_token, body: { name, time_zone: 'Europe/Berlin' } })).status).toBe(201);
    const pageOnEdge = await edge<{ data: { name: string }[]; next_cursor: string }>('GET', '/v1/locations?limit=2', { token: res.body.access_token });
    const pageOnNode = await api().json<{ next_cursor: string }>('GET', '/v1/locations?limit=2', { token: res.body.access_token });
    expect(pageOnEdge.body).toEqual(pageOnNode.body);
    const next = await edge<{ data: { name: string }[]; next_cursor: null }>('GET', `/v1/locations?limit=2&cursor=${pageOnEdge.body.next_cursor}`, { token: res.body.access_token });
    expect(next.body.data.map((l) => l.name)).toEqual(['Süd']);
    const badCursor = await edge('GET', '/v1/locations?cursor=%25%25', { token: res.body.access_token });
    expect(sameProblem(badCursor)).toEqual(sameProblem(await api().json('GET', '/v1/locations?cursor=%25%25', { token: res.body.access_token })));
    expect(badCursor.status).toBe(422);
  });

  it('takes the project\'s Auth tokens as staff: SUPABASE_JWKS verifies ES256 ones, the legacy secret HS256 ones, and a new user is linked through SUPABASE_URL', async () => {
    const owner = await edge<{ access_token: string; tenant: { id: string } }>('POST', '/v1/signup', { body: signupBody() });
    const email = `${uniq('edge-staff-')}@example.test`;
    expect([201, 202]).toContain((await edge('POST', '/v1/members', { token: owner.body.access_token, body: { email, role: 'receptionist' } })).status);
    const user = auth().addUser({ email });
    const es256 = await auth().accessToken(user, { alg: 'ES256' });
    const tenant = await edge('GET', '/v1/tenant', { token: es256 });
    expect(tenant).toMatchObject({ status: 200, body: { id: owner.body.tenant.id } });
    expect(auth().requests.some((r) => r.path === '/auth/v1/user' && r.authorization === `Bearer ${es256}`)).toBe(true);
    expect((await edge('GET', '/v1/bookings', { token: await auth().accessToken(user) })).status).toBe(200);
    const forged = await edge('GET', '/v1/bookings', { token: await auth().accessToken(user, { secret: 'another-supabase-projects-jwt-secret-0123456789' }) });
    expect(forged.body).toMatchObject({ status: 401, code: 'invalid_token' });
  });

  it('serves /docs under the prefix loading the document next to it, not the site root\'s', async () => {
    const docs = await fetch(`${base}/docs`);
    expect(docs.status).toBe(200);
    const html = await docs.text();
    expect(html).toMatch(/"url":\s*"openapi\.json"/);
    const document = await edge<{ openapi: string }>('GET', '/openapi.json');
    expect(document).toMatchObject({ status: 200, body: { openapi: '3.1.0' } });
  });

  it('serves public slots and takes a public booking exactly as the Node app does', async () => {
    const db = api().db;
    const tenant = await createTenant(db, { timeZone: 'Europe/Berlin' });
    const location = await createLocation(db, tenant.id, { timeZone: 'Europe/Berlin' });
    const service = await createService(db, tenant.id, { durationMinutes: 30, maxAdvanceDays: 365 });
    const provider = await createProvider(db, tenant.id, { locationId: location.id });
    await linkProvider(db, tenant.id, service.id, provider.id);
    await addDailyRules(db, tenant.id, { providerId: provider.id }, location.id, '09:00', '12:00');
    const now = new Date();
    const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 3)).toISOString();
    const to = new Date(Date.parse(from) + 86_400_000).toISOString();

    const slotsPath = `/v1/public/${tenant.slug}/services/${service.slug}/slots?from=${from}&to=${to}&timezone=America/New_York`;
    // A browser on another site sends its Origin; the public API answers it with CORS as Node does.
    const slots = await edge<{ data: { starts_at: string; local_starts_at: string }[] }>('GET', slotsPath, { headers: { origin: 'https://clinic.example' } });
    expect(slots.status).toBe(200);
    expect(slots.body.data).toHaveLength(6);
    expect(slots.body).toEqual((await api().json('GET', slotsPath)).body);
    expect(slots.headers.get('access-control-allow-origin')).toBe('*');

    const startsAt = slots.body.data[0]!.starts_at;
    const body = { service_id: service.id, starts_at: startsAt, contact: { name: 'Ada Edge', email: 'ada@example.test' } };
    const booked = await edge<{ code: string; manage_token: string; manage_url: string; status: string; starts_at: string }>(
      'POST', `/v1/public/${tenant.slug}/bookings`, { body, headers: { 'idempotency-key': 'edge-1' } });
    expect(booked.status).toBe(201);
    expect(booked.body).toMatchObject({ status: 'confirmed', starts_at: startsAt });
    expect(booked.body.code).toMatch(/^BK-/);
    // Node replays the booking Deno made for the same key, and both refuse the taken slot alike.
    const replay = await api().json('POST', `/v1/public/${tenant.slug}/bookings`, { body, headers: { 'idempotency-key': 'edge-1' } });
    expect(replay).toMatchObject({ status: 201, body: booked.body });
    const other = { ...body, contact: { name: 'Bob', email: 'bob@example.test' } };
    const taken = await edge('POST', `/v1/public/${tenant.slug}/bookings`, { body: other });
    expect(taken.body).toMatchObject({ status: 409, code: 'slot_taken' });
    expect(sameProblem(taken)).toEqual(sameProblem(await api().json('POST', `/v1/public/${tenant.slug}/bookings`, { body: other })));
    // The slot is gone for both, and the manage link works through the edge function.
    const after = await edge<{ data: { starts_at: string }[] }>('GET', slotsPath);
    expect(after.body.data.map((s) => s.starts_at)).not.toContain(startsAt);
    expect(after.body).toEqual((await api().json('GET', slotsPath)).body);
    const managed = await edge('GET', booked.body.manage_url);
    expect(managed).toMatchObject({ status: 200, body: { code: booked.body.code, status: 'confirmed' } });
  });
});
