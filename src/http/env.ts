import type postgres from 'postgres';
import type { Caller } from '#src/db/session.ts';
import type { Logger } from '#src/lib/logger.ts';
import type { PasswordHasher } from '#src/lib/passwords.ts';
import type { StripeBilling } from '#src/lib/stripe-billing.ts';
import type { TokenService } from '#src/lib/tokens.ts';
import type { AvailabilityHub } from '#src/web/live-availability.ts';
import type { Metrics } from './metrics.ts';
import type { LoginProtection, LoginProtectionOptions } from './login-protection.ts';
import type { RateLimitOptions } from './rate-limit.ts';
import type { SupabaseProject } from './supabase-auth.ts';

/** What createApp needs; the same app runs under Node or in a Supabase Edge Function. */
export interface AppDeps {
  /** Connection pool of the API's login role (`slotbase_api`): never superuser, never BYPASSRLS. */
  sql: postgres.Sql;
  tokens: TokenService;
  passwords: PasswordHasher;
  logger: Logger;
  /** Largest accepted request body, in bytes. */
  bodyLimit?: number;
  refreshTtlSeconds?: number;
  /** Token-bucket rate limits (src/http/rate-limit.ts); default 120/min public, 600/min signed in. `false` turns them off. */
  rateLimit?: RateLimitOptions | false;
  /** Failed sign-in counting with backoff (src/http/login-protection.ts), in PostgreSQL; default on. `false` turns it off. */
  loginProtection?: LoginProtectionOptions | false;
  /** A request still unanswered after this many milliseconds gets 503 `request_timeout` (event streams exempt). Default 30 000; 0 = none. */
  requestTimeoutMs?: number;
  /** Where people reach this deployment (PUBLIC_URL), for absolute links such as calendar feed URLs; unset: the request's origin. */
  publicUrl?: string;
  /** Prometheus metrics (GET /metrics); absent, there is no /metrics. */
  metrics?: Metrics;
  /** Live availability fan-out (one LISTEN per process); absent, the events endpoint answers 503. */
  live?: AvailabilityHub;
  /** Stripe billing (client with pinned API version, webhook secret, plan prices); absent, /v1/billing/* answers 501 billing_not_configured. */
  stripe?: StripeBilling;
  /** A Supabase project whose Auth signs staff in (SUPABASE_URL, SUPABASE_ANON_KEY): the console uses it, and the API asks it to link new Supabase users (src/http/supabase-auth.ts). */
  supabase?: SupabaseProject;
  /** What GET /ready checks beyond "the database answers" (src/http/routes/system); absent, only that. */
  readiness?: Readiness;
}

/** GET /ready's checks besides the database (each one that fails is named in the 503 problem). */
export interface Readiness {
  /** Migration files this code ships: all must be applied (slotbase_private.applied_migrations()). */
  expectedMigrations?: string[];
  /** The worker running in this process (`slotbase start`): is it up and holding its liveness session? */
  worker?: () => { ok: boolean; reason?: string };
  /** True once graceful shutdown began: answer 503 so load balancers stop sending traffic. */
  shuttingDown?: () => boolean;
}

export interface AppEnv {
  Variables: {
    deps: AppDeps;
    requestId: string;
    caller: Caller;
    /** A credential that failed to verify: thrown once the rate limiter has counted the request. */
    authError?: unknown;
    /** The client's address (socket, or the first X-Forwarded-For hop behind a trusted proxy); unknown: undefined. */
    clientAddress?: string | undefined;
    loginProtection?: LoginProtection | undefined;
  };
}
