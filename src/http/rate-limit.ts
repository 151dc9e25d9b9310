import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type postgres from 'postgres';
import type { Logger } from '#src/lib/logger.ts';
import type { AppEnv } from './env.ts';
import { apiKeyOf } from './auth.ts';
import { ProblemError } from './problem.ts';

/** A budget: `limit` requests at once, refilled evenly over `windowSeconds` (a token bucket, kept as GCRA). */
export interface RateLimitBudget {
  limit: number;
  windowSeconds: number;
}

/** Where one bucket stands after a request was admitted or refused. */
export interface RateLimitDecision {
  allowed: boolean;
  /** Requests left right now. */
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** Seconds until the next request is admitted (0 when this one was). */
  retryAfterSeconds: number;
}

/**
 * Where the buckets live. `take` admits (and counts) or refuses one request against the bucket
 * `key`. `now` (milliseconds) is a test's clock; absent, the store's own clock.
 */
export interface RateLimitStore {
  take(key: string, budget: RateLimitBudget, now?: number): Promise<RateLimitDecision>;
}

/**
 * GCRA arithmetic, the same as slotbase_private.take_rate_limit: `tat` (ms) is when the bucket is
 * full again; a request moves it by window/limit and is admitted while tat - now stays within the window.
 */
function gcra(tat: number | undefined, budget: RateLimitBudget, now: number): { decision: RateLimitDecision; tat: number } {
  const step = (budget.windowSeconds * 1000) / budget.limit;
  const window = budget.windowSeconds * 1000;
  const base = Math.max(tat ?? now, now);
  const allowed = base + step - window <= now;
  const next = allowed ? base + step : base;
  const full = Math.max(0, next - now);
  return {
    tat: next,
    decision: {
      allowed,
      remaining: Math.max(0, Math.floor((window - full) / step + 1e-6)),
      resetSeconds: full / 1000,
      retryAfterSeconds: allowed ? 0 : Math.max(0, (full + step - window) / 1000),
    },
  };
}

/**
 * Buckets in this process's memory: each process counts alone. For tests, benchmarks and
 * single-process setups; `maxBuckets` bounds the memory (full buckets are forgotten first).
 */
export function memoryRateLimitStore(options: { maxBuckets?: number; now?: () => number } = {}): RateLimitStore {
  const maxBuckets = options.maxBuckets ?? 100_000;
  const clock = options.now ?? Date.now;
  const buckets = new Map<string, number>();
  function sweep(now: number) {
    for (const [key, tat] of buckets) if (tat <= now) buckets.delete(key);
    // Still too many: drop the oldest (a Map keeps insertion order).
    for (const key of buckets.keys()) {
      if (buckets.size < maxBuckets) break;
      buckets.delete(key);
    }
  }
  return {
    async take(key, budget, now = clock()) {
      const { decision, tat } = gcra(buckets.get(key), budget, now);
      if (decision.allowed) {
        if (!buckets.has(key) && buckets.size >= maxBuckets) sweep(now);
        buckets.set(key, tat);
      }
      return decision;
    },
  };
}

/** A bucket's key as stored: its sha256, so no address, user id or email sits in the table. */
export const rateLimitKey = (name: string): Buffer => createHash('sha256').update(name).digest();

/**
 * Buckets in PostgreSQL (slotbase_private.rate_limits, an unlogged table), shared by every process
 * and Edge Function isolate on the database: one round trip per request (an upsert that does the
 * GCRA arithmetic), called as the API's own role. Time is the database's clock unless a test
 * passes one.
 */
export function postgresRateLimitStore(sql: postgres.Sql): RateLimitStore {
  return {
    async take(key, budget, now) {
      const [row] = await sql<{ allowed: boolean; remaining: number; reset_seconds: number; retry_after_seconds: number }[]>`
        select allowed, remaining, reset_seconds, retry_after_seconds
        from slotbase_private.take_rate_limit(${rateLimitKey(key)}, ${budget.limit}, ${budget.windowSeconds},
                                              ${now === undefined ? null : new Date(now)})`;
      if (!row) throw new Error('take_rate_limit returned no row');
      return { allowed: row.allowed, remaining: row.remaining, resetSeconds: row.reset_seconds, retryAfterSeconds: row.retry_after_seconds };
    },
  };
}

/** Which budget a request spends. */
export type RateLimitClass = 'public' | 'authenticated' | 'feeds' | 'booking' | 'auth' | 'device_token';

export interface RateLimitOptions {
  /** Anonymous callers (the public booking flow, pages), per client address. Default 120/min. */
  public?: RateLimitBudget;
  /** Signed-in members, customers and API keys, per user or key. Default 600/min. */
  authenticated?: RateLimitBudget;
  /** Creating bookings, series and waitlist entries on /v1/public/…, per address (or signed-in user). Default 20/min. */
  booking?: RateLimitBudget;
  /** Sign-up, sign-in, token refresh, password and invitation endpoints, per address. Default 10/min. */
  auth?: RateLimitBudget;
  /** Device-token issuance (POST /v1/public/{tenant}/device-tokens), per address. Default 10/min. */
  deviceToken?: RateLimitBudget;
  /** Where buckets live. Default: PostgreSQL over the app's pool (shared by every process). */
  store?: RateLimitStore;
  /** The clock, in milliseconds (tests pass a fake one); absent, the store's (for PostgreSQL: the database's). */
  now?: () => number;
  /** Take the client address from the first X-Forwarded-For entry (only behind a proxy that sets it). */
  trustProxy?: boolean;
  /** The connection's remote address, from the runtime (Node: getConnInfo). Unknown: anonymous calls go unlimited. */
  clientAddress?: (c: Context<AppEnv>) => string | undefined;
  /** Logs the store's failures (requests are let through while it fails). */
  logger?: Logger;
}

export const DEFAULT_PUBLIC_BUDGET: RateLimitBudget = { limit: 120, windowSeconds: 60 };
export const DEFAULT_AUTHENTICATED_BUDGET: RateLimitBudget = { limit: 600, windowSeconds: 60 };
export const DEFAULT_BOOKING_BUDGET: RateLimitBudget = { limit: 20, windowSeconds: 60 };
export const DEFAULT_AUTH_BUDGET: RateLimitBudget = { limit: 10, windowSeconds: 60 };
export const DEFAULT_DEVICE_TOKEN_BUDGET: RateLimitBudget = { limit: 10, windowSeconds: 60 };

/** Liveness and readiness probes are never limited. */
const EXEMPT = new Set(['/health', '/ready']);

/** POSTs that create bookings on the public API: bookings, series, waitlist entries, accepting a waitlist offer. */
const BOOKING_PATH = /^\/v1\/public\/([^/]+\/(bookings|booking-series|series|waitlist|waitlist-entries)|waitlist-offers\/[^/]+\/accept)\/?$/;
/** Credentials: sign-up and sign-in (staff and customers), refresh, logout, accepting an invitation, password changes. */
const AUTH_PATH = /^\/v1\/(signup|auth\/[^/]+|public\/[^/]+\/customers\/(signup|login)|.*\/password[^/]*)\/?$/;
const DEVICE_TOKEN_PATH = /^\/v1\/public\/[^/]+\/device-tokens\/?$/;

/** The stricter class a request belongs to, if any (by method and path; see README "Rate limits"). */
export function strictClassOf(method: string, path: string): 'booking' | 'auth' | 'device_token' | undefined {
  if (method !== 'POST' && method !== 'PUT' && method !== 'PATCH') return undefined;
  if (DEVICE_TOKEN_PATH.test(path)) return 'device_token';
  if (method === 'POST' && BOOKING_PATH.test(path)) return 'booking';
  if (AUTH_PATH.test(path)) return 'auth';
  return undefined;
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
 * Rate limits, one bucket per request (README "Rate limits"): API keys spend their key's budget;
 * signed-in users their own (or, creating bookings, the stricter booking budget per user);
 * anonymous callers (and failed sign-ins, which count as anonymous) spend the budget of their
 * address for the request's class: booking creation, credential endpoints and device tokens each
 * have a stricter one, calendar feeds a larger one. Runs after authentication. Every limited
 * response carries RateLimit-Limit/-Remaining/-Reset (IETF draft) and RateLimit-Policy; an empty
 * bucket is 429 `rate_limited` with Retry-After. When the store fails (the database is down) the
 * request is let through without headers: rate limiting fails open, and the request's own query
 * answers 503 if the database is really gone.
 */
export function rateLimit(options: RateLimitOptions = {}) {
  const store = options.store ?? memoryRateLimitStore();
  const budgets: Record<RateLimitClass, RateLimitBudget> = {
    public: options.public ?? DEFAULT_PUBLIC_BUDGET,
    authenticated: options.authenticated ?? DEFAULT_AUTHENTICATED_BUDGET,
    booking: options.booking ?? DEFAULT_BOOKING_BUDGET,
    auth: options.auth ?? DEFAULT_AUTH_BUDGET,
    device_token: options.deviceToken ?? DEFAULT_DEVICE_TOKEN_BUDGET,
    feeds: { limit: (options.public ?? DEFAULT_PUBLIC_BUDGET).limit * 10, windowSeconds: (options.public ?? DEFAULT_PUBLIC_BUDGET).windowSeconds },
  };
  let lastFailureLog = 0;

  return createMiddleware<AppEnv>(async (c, next) => {
    if (EXEMPT.has(c.req.path) || c.req.method === 'OPTIONS') return next();
    const caller = c.var.caller;
    const key = apiKeyOf(caller);
    const strict = strictClassOf(c.req.method, c.req.path);
    const user = !key && caller.role === 'authenticated' ? caller.userId : undefined;
    let bucket: string;
    let cls: RateLimitClass;
    if (key) {
      [bucket, cls] = [`key:${key.id}`, 'authenticated'];
    } else if (user && strict !== 'auth') {
      // Signed-in customers booking spend a booking budget of their own; anything else the user's.
      [bucket, cls] = strict ? [`${strict}:user:${user}`, strict] : [`user:${user}`, 'authenticated'];
    } else {
      const address = clientAddressOf(c, options);
      if (address === undefined) return next();
      // Calendar services poll thousands of feeds from a few addresses: feed requests spend a
      // separate, ten times larger budget per address, so subscriptions do not starve (or get
      // starved by) the address's other public calls, while guessing feed URLs stays bounded.
      cls = strict ?? (c.req.path.startsWith('/v1/feeds/') ? 'feeds' : 'public');
      bucket = cls === 'public' ? `ip:${address}` : `${cls}:ip:${address}`;
    }
    const budget = budgets[cls];
    let decision: RateLimitDecision;
    try {
      decision = await store.take(bucket, budget, options.now?.());
    } catch (error) {
      const t = Date.now();
      if (t - lastFailureLog > 10_000) {
        lastFailureLog = t;
        (options.logger ?? c.var.deps?.logger)?.warn({ err: error }, 'rate-limit store failed; letting requests through');
      }
      return next();
    }
    c.header('RateLimit-Limit', String(budget.limit));
    c.header('RateLimit-Remaining', String(decision.remaining));
    c.header('RateLimit-Reset', String(Math.ceil(decision.resetSeconds - 1e-6)));
    c.header('RateLimit-Policy', `${budget.limit};w=${budget.windowSeconds}`);
    if (!decision.allowed) {
      c.header('Retry-After', String(Math.max(1, Math.ceil(decision.retryAfterSeconds - 1e-6))));
      throw new ProblemError(429, 'rate_limited', 'Too many requests; retry after the time in Retry-After');
    }
    await next();
  });
}

/** The budgets of the configuration (RATE_LIMIT_*_PER_MINUTE), for createApp's `rateLimit`. */
export function rateLimitBudgets(config: {
  RATE_LIMIT_PUBLIC_PER_MINUTE: number;
  RATE_LIMIT_AUTHENTICATED_PER_MINUTE: number;
  RATE_LIMIT_BOOKING_PER_MINUTE: number;
  RATE_LIMIT_AUTH_PER_MINUTE: number;
  RATE_LIMIT_DEVICE_TOKEN_PER_MINUTE: number;
}): Pick<RateLimitOptions, 'public' | 'authenticated' | 'booking' | 'auth' | 'deviceToken'> {
  const perMinute = (limit: number) => ({ limit, windowSeconds: 60 });
  return {
    public: perMinute(config.RATE_LIMIT_PUBLIC_PER_MINUTE),
    authenticated: perMinute(config.RATE_LIMIT_AUTHENTICATED_PER_MINUTE),
    booking: perMinute(config.RATE_LIMIT_BOOKING_PER_MINUTE),
    auth: perMinute(config.RATE_LIMIT_AUTH_PER_MINUTE),
    deviceToken: perMinute(config.RATE_LIMIT_DEVICE_TOKEN_PER_MINUTE),
  };
}

/** The failed-login budgets of the configuration (LOGIN_*), for createApp's `loginProtection`. */
export function loginProtectionOptions(config: {
  LOGIN_MAX_FAILURES_PER_ACCOUNT: number;
  LOGIN_MAX_FAILURES_PER_ADDRESS: number;
  LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: number;
  LOGIN_FAILURE_WINDOW_MINUTES: number;
}) {
  return {
    accountFailures: config.LOGIN_MAX_FAILURES_PER_ACCOUNT,
    addressFailures: config.LOGIN_MAX_FAILURES_PER_ADDRESS,
    pairFailures: config.LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS,
    windowSeconds: config.LOGIN_FAILURE_WINDOW_MINUTES * 60,
  };
}
