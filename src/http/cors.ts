import { createMiddleware } from 'hono/factory';
import type postgres from 'postgres';
import { ANON, withSession } from '#src/db/session.ts';
import type { AppEnv } from './env.ts';

/** An origin as a tenant writes it in settings.embed_origins (the booking page's frame-ancestors use the same rule). */
const ORIGIN = /^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/i;

const ALLOW_METHODS = 'GET,HEAD,POST,PUT,PATCH,DELETE';
/** Response headers a cross-origin page may read. */
const EXPOSE_HEADERS = 'X-Request-Id,RateLimit-Limit,RateLimit-Remaining,RateLimit-Reset,RateLimit-Policy,Retry-After,Location';

export interface PublicCorsOptions {
  /** The tenant's allowed origins by slug (null: any). Default: slotbase.public_embed_origins as anon. */
  originsOf?: (slug: string) => Promise<string[] | null>;
  /** How long a tenant's origins are cached per process, in milliseconds. Default 30 000. */
  cacheMs?: number;
  /** Tenants cached at most (the oldest are dropped first). */
  maxTenants?: number;
}

/** Public resources addressed by their own code or id and secret, not under a tenant slug. */
const BY_CODE = new Set(['bookings', 'booking-series', 'waitlist', 'waitlist-offers']);

/**
 * The tenant slug of a tenant-scoped public path (`/v1/public/{tenant}/…`), or undefined for the
 * endpoints by code (`/v1/public/bookings/{code}`, `/v1/public/booking-series/{code}`,
 * `/v1/public/waitlist/{id}`, `/v1/public/waitlist-offers/{id}`).
 */
export function tenantSlugOfPublicPath(path: string): string | undefined {
  const m = /^\/v1\/public\/([^/]+)\/./.exec(path);
  if (!m || BY_CODE.has(m[1]!)) return undefined;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return undefined;
  }
}

/** Lower-cased scheme and host, no trailing slash: how two origins are compared. */
const normalized = (origin: string) => origin.trim().replace(/\/+$/, '').toLowerCase();

/** slotbase.public_embed_origins of the tenant behind `slug`, read as anon (null: unknown tenant, or no setting). */
export function embedOriginsFromDatabase(sql: postgres.Sql) {
  return async (slug: string): Promise<string[] | null> => {
    const rows = await withSession(sql, ANON, (tx) =>
      tx<{ origins: string[] | null }[]>`select slotbase.public_embed_origins(t.id) as origins from slotbase.public_tenant(${slug}) as t`);
    return rows[0]?.origins ?? null;
  };
}

/**
 * CORS for the public API (`/v1/public/*`), per tenant. A tenant-scoped endpoint
 * (`/v1/public/{tenant}/…`) follows the tenant's `settings.embed_origins`: unset, any origin may
 * call it (`Access-Control-Allow-Origin: *`); set, only those origins get CORS headers (echoed,
 * with `Vary: Origin`), and every other origin gets none, so browsers refuse to let that site read
 * the response — and, for anything but a simple request, to send it at all, since the preflight
 * fails. Preflights (OPTIONS with Access-Control-Request-Method) are answered here, 204. The
 * manage endpoints by booking code (`/v1/public/bookings/{code}`) name no tenant and need the
 * booking's secret manage token; they stay open to any origin. Requests without an Origin header
 * (servers, same-origin pages such as the booking page itself) are untouched.
 *
 * Origins are cached per process for `cacheMs` (a changed setting applies within that time). For
 * requests other than preflights the lookup runs after the handler, so the rate limiter has
 * counted the request before any lookup is made.
 */
export function publicCors(sql: postgres.Sql, options: PublicCorsOptions = {}) {
  const originsOf = options.originsOf ?? embedOriginsFromDatabase(sql);
  const cacheMs = options.cacheMs ?? 30_000;
  const maxTenants = options.maxTenants ?? 10_000;
  const cache = new Map<string, { at: number; origins: Set<string> | null }>();

  async function allowedOrigin(path: string, origin: string): Promise<string | null> {
    const slug = tenantSlugOfPublicPath(path);
    if (slug === undefined) return '*';
    const now = Date.now();
    let entry = cache.get(slug);
    if (!entry || now - entry.at > cacheMs) {
      let origins: string[] | null;
      try {
        origins = await originsOf(slug);
      } catch {
        // The database is away: no CORS headers (the request itself answers 503 anyway); not cached.
        return null;
      }
      entry = { at: now, origins: origins === null ? null : new Set(origins.filter((o) => ORIGIN.test(o)).map(normalized)) };
      cache.delete(slug);
      if (cache.size >= maxTenants) cache.delete(cache.keys().next().value!);
      cache.set(slug, entry);
    }
    if (entry.origins === null) return '*';
    return entry.origins.has(normalized(origin)) ? origin : null;
  }

  return createMiddleware<AppEnv>(async (c, next) => {
    const origin = c.req.header('origin');
    const restricted = tenantSlugOfPublicPath(c.req.path) !== undefined;
    if (c.req.method === 'OPTIONS') {
      const headers = new Headers();
      if (restricted) headers.set('Vary', 'Origin');
      const allow = origin ? await allowedOrigin(c.req.path, origin) : null;
      if (allow) {
        headers.set('Access-Control-Allow-Origin', allow);
        headers.set('Access-Control-Allow-Methods', ALLOW_METHODS);
        const requested = c.req.header('access-control-request-headers');
        if (requested) {
          headers.set('Access-Control-Allow-Headers', requested.split(',').map((h) => h.trim()).filter(Boolean).join(','));
          headers.append('Vary', 'Access-Control-Request-Headers');
        }
        headers.set('Access-Control-Max-Age', '600');
      }
      return new Response(null, { status: 204, headers });
    }
    await next();
    if (restricted) c.res.headers.append('Vary', 'Origin');
    if (!origin) return;
    const allow = await allowedOrigin(c.req.path, origin);
    if (allow) {
      c.res.headers.set('Access-Control-Allow-Origin', allow);
      c.res.headers.set('Access-Control-Expose-Headers', EXPOSE_HEADERS);
    }
  });
}
