import type postgres from 'postgres';
import type { Caller } from '#src/db/session.ts';
import type { Logger } from '#src/lib/logger.ts';
import type { PasswordHasher } from '#src/lib/passwords.ts';
import type { StripeBilling } from '#src/lib/stripe-billing.ts';
import type { TokenService } from '#src/lib/tokens.ts';
import type { AvailabilityHub } from '#src/web/live-availability.ts';
import type { Metrics } from './metrics.ts';
import type { RateLimitOptions } from './rate-limit.ts';

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
  /** Where people reach this deployment (PUBLIC_URL), for absolute links such as calendar feed URLs; unset: the request's origin. */
  publicUrl?: string;
  /** Prometheus metrics (GET /metrics); absent, there is no /metrics. */
  metrics?: Metrics;
  /** Live availability fan-out (one LISTEN per process); absent, the events endpoint answers 503. */
  live?: AvailabilityHub;
  /** Stripe billing (client with pinned API version, webhook secret, plan prices); absent, /v1/billing/* answers 501 billing_not_configured. */
  stripe?: StripeBilling;
}

export interface AppEnv {
  Variables: {
    deps: AppDeps;
    requestId: string;
    caller: Caller;
    /** A credential that failed to verify: thrown once the rate limiter has counted the request. */
    authError?: unknown;
  };
}
