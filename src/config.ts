import { existsSync } from 'node:fs';
import { z } from 'zod';

/**
 * Slotbase's configuration, parsed from the environment once at boot.
 * Bad configuration fails here with every problem listed, never later on a request.
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
  /** Accept a Supabase project's Auth access tokens too (its JWT secret). */
  SUPABASE_JWT_SECRET: z.string().min(32).optional(),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(10_000_000).default(65_536),
  /** Behind a reverse proxy that sets X-Forwarded-For: rate-limit anonymous callers by its first hop. */
  TRUST_PROXY: z.enum(['true', 'false'], 'must be true or false').default('false').transform((v) => v === 'true'),
  /** Token-bucket budgets: anonymous callers per client address, signed-in members and API keys each. */
  RATE_LIMIT_PUBLIC_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(120),
  RATE_LIMIT_AUTHENTICATED_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(600),
});

export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads `.env` (if present) into the environment, then validates it. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, envFile = '.env'): Config {
  if (env === process.env && existsSync(envFile)) process.loadEnvFile(envFile);
  const parsed = ConfigSchema.safeParse(
    Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')),
  );
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
