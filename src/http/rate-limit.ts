import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from './env.ts';
import { apiKeyOf } from './auth.ts';
import { ProblemError } from './problem.ts';

/** A token bucket: `limit` requests at once, refilled evenly over `windowSeconds`. */
export interface RateLimitBudget {
  limit: number;
  windowSeconds: number;
}

export interface RateLimitOptions {
  /** Anonymous callers (the public booking flow, sign-up, login), per client address. Default 120/min. */
  public?: RateLimitBudget;
  /** Signed-in members and API keys, per user or key. Default 600/min. */
  authenticated?: RateLimitBudget;
  /** The clock, in milliseconds (tests pass a fake one). */
  now?: () => number;
  /** Take the client address from the first X-Forwarded-For entry (only behind a proxy that sets it). */
  trustProxy?: boolean;
  /** The connection's remote address, from the runtime (Node: getConnInfo). Unknown: anonymous calls go unlimited. */
  clientAddress?: (c: Context<AppEnv>) => string | undefined;
  /** Buckets kept in memory before full ones are dropped. */
  maxBuckets?: number;
}

export const DEFAULT_PUBLIC_BUDGET: RateLimitBudget = { limit: 120, windowSeconds: 60 };
export const DEFAULT_AUTHENTICATED_BUDGET: RateLimitBudget = { limit: 600, windowSeconds: 60 };

/** Liveness and readiness probes are never limited. */
const EXEMPT = new Set(['/health', '/ready']);

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * The client's address: the first X-Forwarded-For hop when the proxy is trusted, else the
 * socket's; undefined when the runtime does not say (then anonymous calls are not limited, rather
 * than every client sharing one bucket).
 */
export function clientAddressOf(c: Context<AppEnv>, options: Pick<RateLimitOptions, 'trustProxy' | 'clientAddress'>): string | undefined {
  if (options.trustProxy) {
    const first = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (first) return first;
  }
  return options.clientAddress?.(c) || undefined;
}

/**
 * In-process token buckets, one per API key, user or client address (each process of a cluster
 * counts on its own). Runs after authentication: anonymous callers (and failed sign-ins, which
 * count as anonymous) spend the public budget of their address; members and keys their own.
 * Every limited response carries RateLimit-Limit/-Remaining/-Reset (IETF draft); an empty
 * bucket is 429 `rate_limited` with Retry-After.
 */
export function rateLimit(options: RateLimitOptions = {}) {
  const now = options.now ?? Date.now;
  const publicBudget = options.public ?? DEFAULT_PUBLIC_BUDGET;
  const authenticatedBudget = options.authenticated ?? DEFAULT_AUTHENTICATED_BUDGET;
  const feedBudget = { limit: publicBudget.limit * 10, windowSeconds: publicBudget.windowSeconds };
  const maxBuckets = options.maxBuckets ?? 100_000;
  const buckets = new Map<string, Bucket>();

  /** Forgets buckets that have refilled (a full bucket is the same as none). */
  function sweep(t: number) {
    for (const [key, b] of buckets) {
      const budget = key.startsWith('ip:') ? publicBudget : key.startsWith('feeds:') ? feedBudget : authenticatedBudget;
      if (b.tokens + ((t - b.at) / 1000) * (budget.limit / budget.windowSeconds) >= budget.limit) buckets.delete(key);
    }
    // Still too many: drop the oldest (Map keeps insertion order).
    for (const key of buckets.keys()) {
      if (buckets.size <= maxBuckets) break;
      buckets.delete(key);
    }
  }

  return createMiddleware<AppEnv>(async (c, next) => {
    if (EXEMPT.has(c.req.path)) return next();
    const caller = c.var.caller;
    const key = apiKeyOf(caller);
    const address = key || caller.role === 'authenticated' ? undefined : clientAddressOf(c, options);
    if (!key && caller.role !== 'authenticated' && address === undefined) return next();
    // Calendar services poll thousands of feeds from a few addresses: feed requests spend a
    // separate, ten times larger budget per address, so subscriptions do not starve (or get
    // starved by) the address's other public calls, while guessing feed URLs stays bounded.
    const feed = !key && caller.role !== 'authenticated' && c.req.path.startsWith('/v1/feeds/');
    const [id, budget] =
      key ? [`key:${key.id}`, authenticatedBudget]
      : caller.role === 'authenticated' ? [`user:${caller.userId}`, authenticatedBudget]
      : feed ? [`feeds:${address}`, feedBudget]
      : [`ip:${address}`, publicBudget];
    const t = now();
    const perSecond = budget.limit / budget.windowSeconds;
    let bucket = buckets.get(id);
    if (!bucket) {
      if (buckets.size >= maxBuckets) sweep(t);
      bucket = { tokens: budget.limit, at: t };
      buckets.set(id, bucket);
    }
    bucket.tokens = Math.min(budget.limit, bucket.tokens + (Math.max(0, t - bucket.at) / 1000) * perSecond);
    bucket.at = Math.max(bucket.at, t);
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    c.header('RateLimit-Limit', String(budget.limit));
    c.header('RateLimit-Remaining', String(Math.floor(bucket.tokens)));
    c.header('RateLimit-Reset', String(Math.ceil((budget.limit - bucket.tokens) / perSecond)));
    c.header('RateLimit-Policy', `${budget.limit};w=${budget.windowSeconds}`);
    if (!allowed) {
      c.header('Retry-After', String(Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond))));
      throw new ProblemError(429, 'rate_limited', 'Too many requests; retry after the time in Retry-After');
    }
    await next();
  });
}
