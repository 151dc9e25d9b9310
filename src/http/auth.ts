import type postgres from 'postgres';
import { createMiddleware } from 'hono/factory';
import type { Caller } from '#src/db/session.ts';
import { API_KEY_PATTERN, hashApiKey } from '#src/lib/api-keys.ts';
import type { AppEnv } from './env.ts';
import { ProblemError } from './problem.ts';

/** A customer session (`kind: 'customer'` in its token): signed in, but never acting in a tenant. */
export const isCustomer = (caller: Caller): boolean => caller.role === 'authenticated' && caller.claims?.kind === 'customer';

/**
 * The signed-in member acting in a tenant, or 401 unauthenticated (403 for a customer session,
 * which may never use the staff API). RLS decides the rest.
 */
export function requireMember(c: { var: { caller: Caller } }): Extract<Caller, { role: 'authenticated' }> & { tenantId: string } {
  const caller = c.var.caller;
  if (isCustomer(caller)) throw new ProblemError(403, 'forbidden', 'Customer accounts cannot use the staff API');
  if (caller.role !== 'authenticated' || !caller.tenantId) throw new ProblemError(401, 'unauthenticated', 'Sign in first');
  return { ...caller, tenantId: caller.tenantId };
}

/** Any signed-in user (staff or customer), or 401. */
export function requireUser(c: { var: { caller: Caller } }): Extract<Caller, { role: 'authenticated' }> {
  const caller = c.var.caller;
  if (caller.role !== 'authenticated') throw new ProblemError(401, 'unauthenticated', 'Sign in first');
  return caller;
}

export const isApiKey = (token: string) => token.startsWith('sb_live_');

const invalidApiKey = () => new ProblemError(401, 'invalid_api_key', 'The API key is invalid, expired or revoked');

/**
 * The caller behind an API key: its service member in its tenant, with its scopes in the claims.
 * Resolved as slotbase_api (the only role that may), which also bumps `last_used_at`.
 */
export async function authenticateApiKey(sql: postgres.Sql, key: string): Promise<Caller> {
  if (!API_KEY_PATTERN.test(key)) throw invalidApiKey();
  const [row] = await sql<{ tenant_id: string; service_user_id: string; scopes: string[]; key_id: string }[]>`
    select tenant_id, service_user_id, scopes, key_id from slotbase_private.resolve_api_key(${hashApiKey(key)})`;
  if (!row) throw invalidApiKey();
  return { role: 'authenticated', userId: row.service_user_id, tenantId: row.tenant_id, claims: { scopes: row.scopes, api_key_id: row.key_id } };
}

/** The API key a request was made with, or undefined for people and anonymous callers. */
export function apiKeyOf(caller: Caller): { id: string; scopes: string[] } | undefined {
  if (caller.role !== 'authenticated' || typeof caller.claims?.api_key_id !== 'string') return undefined;
  return { id: caller.claims.api_key_id, scopes: (caller.claims.scopes as string[] | undefined) ?? [] };
}

/** Path prefix → the scope area a key needs for it. Paths not listed here are closed to keys. */
const SCOPE_AREAS: [prefix: string, area: string | null][] = [
  ['/v1/bookings', 'bookings'],
  ['/v1/sessions', 'bookings'],
  ['/v1/booking-series', 'bookings'],
  ['/v1/waitlist', 'bookings'],
  // Booking contacts, aggregated from bookings.
  ['/v1/customers', 'bookings'],
  // The public booking flow, called with a key, acts as the key's member (staff rights): the
  // same scope as the staff bookings API.
  ['/v1/public', 'bookings'],
  ['/v1/members', 'members'],
  ['/v1/invitations', 'members'],
  ['/v1/tenant', 'catalog'],
  ['/v1/locations', 'catalog'],
  ['/v1/providers', 'catalog'],
  ['/v1/resources', 'catalog'],
  ['/v1/services', 'catalog'],
  ['/v1/availability-rules', 'catalog'],
  ['/v1/date-overrides', 'catalog'],
  ['/v1/time-off', 'catalog'],
  // Who may book is part of what the business offers, like its services.
  ['/v1/bans', 'catalog'],
  // Never the caller's own rights: nothing to scope.
  ['/v1/signup', null],
  ['/v1/auth', null],
  ['/health', null],
  ['/ready', null],
  ['/openapi.json', null],
  ['/docs', null],
];

/**
 * The scope a key needs for this request (`bookings:read`, …), null when none is needed, or
 * 'none' when keys may not call it at all (`/v1/api-keys`, and anything not mapped above).
 */
export function requiredScope(method: string, path: string): string | null | 'none' {
  const entry = SCOPE_AREAS.find(([prefix]) => path === prefix || path.startsWith(`${prefix}/`));
  if (!entry) return 'none';
  const [, area] = entry;
  if (area === null) return null;
  return `${area}:${method === 'GET' || method === 'HEAD' || method === 'OPTIONS' ? 'read' : 'write'}`;
}

/** The one place API key scopes are enforced: 403 insufficient_scope before any route runs. */
export const enforceApiKeyScopes = createMiddleware<AppEnv>(async (c, next) => {
  const key = apiKeyOf(c.var.caller);
  if (key) {
    const scope = requiredScope(c.req.method, c.req.path);
    if (scope === 'none') throw new ProblemError(403, 'insufficient_scope', 'API keys cannot call this endpoint');
    if (scope && !key.scopes.includes('*') && !key.scopes.includes(scope)) {
      throw new ProblemError(403, 'insufficient_scope', `This API key lacks the ${scope} scope`);
    }
  }
  await next();
});
