/**
 * The Slotbase HTTP API as a Supabase Edge Function (Deno): the very app `slotbase serve` runs on
 * Node (src/app.ts), with its dependencies built for Deno. Supabase serves the function under
 * `/functions/v1/api/...`; that prefix is stripped so routes keep their `/v1/...` paths.
 *
 * Environment: SUPABASE_DB_URL (set by Supabase) or API_DATABASE_URL (preferred when set: a URL
 * of the `slotbase_api` login role), SLOTBASE_JWT_SECRET (≥ 32 bytes); optional LOG_LEVEL,
 * DB_POOL_MAX, TRUST_PROXY. The project's Auth tokens are accepted as staff sign-ins with what
 * Supabase gives every function: SUPABASE_JWKS (its signing keys), SUPABASE_URL and
 * SUPABASE_ANON_KEY (to link a new Supabase user to its member); a project still on the legacy
 * HS256 secret sets SLOTBASE_SUPABASE_JWT_SECRET (the SUPABASE_ prefix is reserved for secrets).
 * Deploy: `supabase functions deploy api` (see README, "Deploy on Supabase").
 */
import postgres from 'postgres';
import { pino } from 'pino';
import { createApp } from '#src/app.ts';
import { scryptHasher } from '#src/lib/passwords.ts';
import { createTokenService } from '#src/lib/tokens.ts';

/** Where Supabase mounts this function. Requests outside it are answered by the app's 404. */
const PREFIX = '/functions/v1/api';

const env = (name: string): string | undefined => Deno.env.get(name) || undefined;

const databaseUrl = env('API_DATABASE_URL') ?? env('SUPABASE_DB_URL');
const jwtSecret = env('SLOTBASE_JWT_SECRET');
if (!databaseUrl) throw new Error('Set API_DATABASE_URL (the slotbase_api role) or SUPABASE_DB_URL');
if (!jwtSecret || new TextEncoder().encode(jwtSecret).length < 32) throw new Error('Set SLOTBASE_JWT_SECRET (at least 32 bytes)');

// Edge functions are short-lived and many run at once: keep each isolate's pool small. Every
// request's SQL is one statement or one transaction, so Supavisor's transaction mode (port 6543)
// works too (without prepared statements).
const sql = postgres(databaseUrl, {
  max: Number(env('DB_POOL_MAX') ?? 3),
  prepare: new URL(databaseUrl).port !== '6543',
  idle_timeout: 20,
  onnotice: () => {},
  connection: { application_name: 'slotbase-edge' },
});

// pino's JSON lines, written through console.log: Supabase collects a function's console output.
const logger = pino(
  { name: 'slotbase', level: env('LOG_LEVEL') ?? 'info' },
  { write: (line: string) => console.log(line.trimEnd()) },
);

// The project's Auth: its signing keys (a JSON key set Supabase provides), the legacy secret if
// any, and URL + anon key for the one Auth call that links a new Supabase user. No issuer check:
// inside the platform SUPABASE_URL may be an internal address, and the keys bind a token to
// its project anyway.
const supabaseJwks = env('SUPABASE_JWKS');
const supabaseUrl = env('SUPABASE_URL')?.replace(/\/+$/, '');
const supabaseAnonKey = env('SUPABASE_ANON_KEY');

const app = createApp({
  sql,
  tokens: createTokenService({
    secret: jwtSecret,
    supabaseJwtSecret: env('SLOTBASE_SUPABASE_JWT_SECRET') ?? env('SUPABASE_JWT_SECRET'),
    supabaseJwks: supabaseJwks ? JSON.parse(supabaseJwks) : undefined,
  }),
  ...(supabaseUrl && supabaseAnonKey ? { supabase: { url: supabaseUrl, anonKey: supabaseAnonKey } } : {}),
  passwords: scryptHasher,
  logger,
  // Rate-limit buckets and failed-login counts live in PostgreSQL (createApp's default), shared by
  // every isolate and every Node process on the database. The socket's peer is Supabase's gateway, which
  // passes the client's address in X-Forwarded-For; without a proxy, the peer (Deno.serve's remoteAddr).
  rateLimit: {
    trustProxy: env('TRUST_PROXY') !== 'false',
    clientAddress: (c) => (c.env as Deno.ServeHandlerInfo<Deno.NetAddr> | undefined)?.remoteAddr?.hostname,
  },
});

/** `/functions/v1/api/v1/...` → `/v1/...` (and `/functions/v1/api` → `/`); the rest untouched. */
function stripPrefix(request: Request): Request {
  const url = new URL(request.url);
  if (url.pathname !== PREFIX && !url.pathname.startsWith(`${PREFIX}/`)) return request;
  url.pathname = url.pathname.slice(PREFIX.length) || '/';
  // Not `new Request(url, request)`: copying `request.signal` makes Deno.serve print a warning about
  // its legacy abort behaviour.
  return new Request(url, { method: request.method, headers: request.headers, body: request.body, duplex: 'half' } as RequestInit);
}

Deno.serve(
  {
    port: Number(env('PORT') ?? 8000),
    hostname: env('HOST') ?? '0.0.0.0',
    onListen: ({ hostname, port }) => logger.info({ url: `http://${hostname}:${port}${PREFIX}` }, 'API listening'),
  },
  // The connection info is Hono's `c.env` (as with hono/deno's getConnInfo).
  (request, info) => app.fetch(stripPrefix(request), info),
);
