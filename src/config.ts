import { existsSync } from 'node:fs';
import { z } from 'zod';

/**
 * Slotbase's configuration, parsed from the environment once at boot.
 * Bad configuration fails here, one line per wrong variable, never later on a request.
 */
const ConfigSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  SLOTBASE_DATA_DIR: z.string().min(1).default('.slotbase'),
  SLOTBASE_EMBEDDED_PG_PORT: z.coerce.number().int().min(1024).max(65535).default(54329),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info'),
  /** Connection of the API's login role (slotbase_api). Unset: derived from DATABASE_URL (see README). */
  API_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  /** Password `slotbase start` gives slotbase_api when API_DATABASE_URL is unset (generated if absent). */
  SLOTBASE_API_DB_PASSWORD: z.string().min(12).optional(),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** HS256 key for access tokens (>= 32 characters). `slotbase start` generates one if unset. */
  SLOTBASE_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Accept a Supabase project's Auth access tokens too (its legacy JWT secret, for HS256 tokens). */
  SUPABASE_JWT_SECRET: z.string().min(32).optional(),
  /** A Supabase project (https://<ref>.supabase.co): its Auth signs staff in to the console; tokens are checked against its JWKS and issuer. With SUPABASE_ANON_KEY. */
  SUPABASE_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).transform((v) => v.replace(/\/+$/, '')).optional(),
  /** That project's anon (or publishable) key: public, sent by the console and by the API to Supabase Auth. With SUPABASE_URL. */
  SUPABASE_ANON_KEY: z.string().min(20, 'must be the project\'s anon or publishable key').optional(),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(10_000_000).default(65_536),
  /** Behind a reverse proxy that sets X-Forwarded-For: rate-limit anonymous callers by its first hop. */
  TRUST_PROXY: z.enum(['true', 'false'], 'must be true or false').default('false').transform((v) => v === 'true'),
  /** Token-bucket budgets: anonymous callers per client address, signed-in members and API keys each. */
  RATE_LIMIT_PUBLIC_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(120),
  RATE_LIMIT_AUTHENTICATED_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(600),
  /** Stricter budgets per address (README "Rate limits"): public booking creation, credential endpoints, device-token issuance. */
  RATE_LIMIT_BOOKING_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(20),
  RATE_LIMIT_AUTH_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(10),
  RATE_LIMIT_DEVICE_TOKEN_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(10),
  /** Where rate-limit buckets live: `postgres` (shared by every process) or `memory` (each process counts alone). */
  RATE_LIMIT_STORE: z.enum(['postgres', 'memory']).default('postgres'),
  /** Failed sign-ins allowed per window: per account, per client address, per account from one address (README "Security"). */
  LOGIN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).max(1_000_000).default(20),
  LOGIN_MAX_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).max(1_000_000).default(50),
  LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: z.coerce.number().int().min(1).max(1_000_000).default(5),
  LOGIN_FAILURE_WINDOW_MINUTES: z.coerce.number().int().min(1).max(1440).default(15),
  /** A request unanswered after this long gets 503 request_timeout; also the API connections' statement_timeout. 0 = none. */
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(30_000),
  /** Where people reach this deployment (links in mails, ICS feeds). Unset: http://HOST:PORT. */
  PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  /** Outgoing mail server, e.g. smtp://user:pass@mail.example.com:587 (smtps:// for TLS). Unset: mails go to the log. */
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL').optional(),
  MAIL_FROM: z.string().min(3).default('Slotbase <no-reply@slotbase.localhost>'),
  /** A Twilio-compatible SMS API: base URL (e.g. https://api.twilio.com), account SID, auth token, sender. All four, or none. */
  SMS_API_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  SMS_ACCOUNT_SID: z.string().min(1).optional(),
  SMS_AUTH_TOKEN: z.string().min(1).optional(),
  SMS_FROM: z.string().regex(/^\+[1-9]\d{1,14}$/, 'must be an E.164 number such as +15005550006').optional(),
  /** Outbound webhooks: per-attempt timeout, attempts per delivery, first retry delay (doubles each time). */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(30).default(8),
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(30_000),
  /** Let webhooks reach private, loopback and link-local addresses (self-hosting on one network, tests). Off: such URLs fail. */
  WEBHOOK_ALLOW_PRIVATE_TARGETS: z.enum(['true', 'false'], 'must be true or false').default('false').transform((v) => v === 'true'),
  /** An endpoint is disabled after this many failed attempts in a row (any success resets the count). */
  WEBHOOK_DISABLE_AFTER_FAILURES: z.coerce.number().int().min(1).max(10_000).default(50),
  /** Notification and webhook delivery logs older than this are pruned by a daily job. */
  LOG_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  /** When set, GET /metrics (Prometheus) needs `Authorization: Bearer <token>`; unset, it is open (keep it off the public internet). */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Jobs one worker process runs at once (graphile-worker concurrency). */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(5),
  /** Jobs a worker process fetches (and locks) per query, served to its workers from memory; 0 = one query per job. */
  WORKER_LOCAL_QUEUE_SIZE: z.coerce.number().int().min(0).max(1000).default(0),
  /** How often the worker looks for jobs that became due (new jobs arrive by LISTEN/NOTIFY at once). */
  WORKER_POLL_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(2_000),
  /** Seed the demo business under `slotbase start`: default yes with the embedded database, no with DATABASE_URL. */
  SLOTBASE_DEMO: z.enum(['true', 'false'], 'must be true or false').transform((v) => v === 'true').optional(),
  /** Run API and worker in one process for `slotbase start` (the default) or not. */
  WORKER_IN_PROCESS: z.enum(['true', 'false'], 'must be true or false').default('true').transform((v) => v === 'true'),
  /** Stripe billing (README, Billing): secret key, webhook signing secret and the price of each paid plan. All four, or none (billing off: 501). */
  STRIPE_SECRET_KEY: z.string().regex(/^(sk|rk)_(test|live)_[A-Za-z0-9_]+$/, 'must be a Stripe secret key (sk_test_… or sk_live_…)').optional(),
  STRIPE_WEBHOOK_SECRET: z.string().regex(/^whsec_[A-Za-z0-9_+/=]+$/, 'must be a Stripe webhook signing secret (whsec_…)').optional(),
  STRIPE_PRICE_PRO: z.string().regex(/^price_[A-Za-z0-9_]+$/, 'must be a Stripe price id (price_…)').optional(),
  STRIPE_PRICE_BUSINESS: z.string().regex(/^price_[A-Za-z0-9_]+$/, 'must be a Stripe price id (price_…)').optional(),
  /** The signing secret of a second webhook endpoint for events from connected accounts (Stripe Connect), whsec_…. Optional. */
  STRIPE_CONNECT_WEBHOOK_SECRET: z.string().regex(/^whsec_[A-Za-z0-9_+/=]+$/, 'must be a Stripe webhook signing secret (whsec_…)').optional(),
  /** Another Stripe API host (a local stand-in or stripe-mock), e.g. http://127.0.0.1:12111. Unset: https://api.stripe.com. */
  STRIPE_API_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  /** Days a past-due tenant keeps taking public bookings before they pause. */
  BILLING_GRACE_DAYS: z.coerce.number().int().min(0).max(90).default(7),
  /** On SIGTERM/Ctrl-C: how long in-flight requests and running jobs get to finish before they are cut off. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(25_000),
});

export type Config = z.infer<typeof ConfigSchema>;

/** Every environment variable the configuration reads, in declaration order. */
export const CONFIG_KEYS = Object.keys(ConfigSchema.shape) as (keyof Config)[];

const SMS_KEYS = ['SMS_API_URL', 'SMS_ACCOUNT_SID', 'SMS_AUTH_TOKEN', 'SMS_FROM'] as const;
const STRIPE_KEYS = ['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'STRIPE_PRICE_PRO', 'STRIPE_PRICE_BUSINESS'] as const;

/** One line per variable that is wrong, each starting with the variable's name (what `slotbase` prints before exiting 2). */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(problems.map((p) => `${p.variable}: ${p.message}`).join('\n'));
  }
}

/**
 * Friendlier zod messages for the common cases (schema-level messages above win). Never echoes the
 * value: it may be a secret.
 */
const friendly: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'number' ? 'must be a number' : undefined;
    case 'too_small':
      return issue.origin === 'number' ? `must be at least ${String(issue.minimum)}` : issue.origin === 'string' ? `must be at least ${String(issue.minimum)} characters` : undefined;
    case 'too_big':
      return issue.origin === 'number' ? `must be at most ${String(issue.maximum)}` : undefined;
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    default:
      return undefined;
  }
};

/** Reads `.env` (if present) into the environment, then validates it. Throws ConfigError listing every wrong variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, envFile = '.env'): Config {
  if (env === process.env && existsSync(envFile)) process.loadEnvFile(envFile);
  const parsed = ConfigSchema.safeParse(
    Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')),
    { error: friendly },
  );
  if (!parsed.success) {
    // One line per variable (its first problem), in the order the schema declares them.
    const byVariable = new Map<string, string>();
    for (const issue of parsed.error.issues) {
      const variable = String(issue.path[0] ?? 'configuration');
      if (!byVariable.has(variable)) byVariable.set(variable, issue.message);
    }
    throw new ConfigError([...byVariable].map(([variable, message]) => ({ variable, message })));
  }
  const problems: { variable: string; message: string }[] = [];
  const set = SMS_KEYS.filter((k) => parsed.data[k] !== undefined);
  if (set.length > 0 && set.length < SMS_KEYS.length) {
    for (const k of SMS_KEYS.filter((k) => !set.includes(k))) problems.push({ variable: k, message: `required when ${set.join(', ')} ${set.length === 1 ? 'is' : 'are'} set (all four SMS_* or none)` });
  }
  const stripe = STRIPE_KEYS.filter((k) => parsed.data[k] !== undefined);
  if ((stripe.length > 0 || parsed.data.STRIPE_API_URL) && stripe.length < STRIPE_KEYS.length) {
    const given = [...stripe, ...(parsed.data.STRIPE_API_URL ? ['STRIPE_API_URL'] : [])];
    for (const k of STRIPE_KEYS.filter((k) => !stripe.includes(k))) problems.push({ variable: k, message: `required when ${given.join(', ')} ${given.length === 1 ? 'is' : 'are'} set (all four STRIPE_* or none)` });
  }
  if ((parsed.data.SUPABASE_URL === undefined) !== (parsed.data.SUPABASE_ANON_KEY === undefined)) {
    const missing = parsed.data.SUPABASE_URL === undefined ? 'SUPABASE_URL' : 'SUPABASE_ANON_KEY';
    problems.push({ variable: missing, message: `required when ${missing === 'SUPABASE_URL' ? 'SUPABASE_ANON_KEY' : 'SUPABASE_URL'} is set (both or neither)` });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return parsed.data;
}
