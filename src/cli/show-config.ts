import { CONFIG_KEYS, type Config } from '#src/config.ts';

/** Variables whose whole value is a secret: printed as `***` (a Stripe key keeps its `sk_test_`/`sk_live_` prefix). */
export const SECRET_KEYS: readonly (keyof Config)[] = [
  'SLOTBASE_JWT_SECRET',
  'SUPABASE_JWT_SECRET',
  'SLOTBASE_API_DB_PASSWORD',
  'SMS_AUTH_TOKEN',
  'STRIPE_SECRET_KEY',
  'STRIPE_WEBHOOK_SECRET',
  'METRICS_TOKEN',
];

/** `scheme://user:secret@host/…` → `scheme://user:***@host/…` (also `scheme://secret@host` when the user part alone is a token). */
export function maskUrlPassword(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^:/@]*)(:[^@/]*)?@/i, (_m, scheme: string, user: string, password?: string) =>
    password ? `${scheme}${user}:***@` : `${scheme}${user}@`,
  );
}

/** A value as `slotbase config` shows it: secrets masked, URL passwords masked. */
export function maskValue(key: keyof Config, value: unknown): string {
  if (value === undefined) return '';
  const text = String(value);
  if (SECRET_KEYS.includes(key)) {
    const prefix = /^(sk_test_|sk_live_|rk_test_|rk_live_|whsec_)/.exec(text)?.[1] ?? '';
    return `${prefix}***`;
  }
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? maskUrlPassword(text) : text;
}

/**
 * The effective configuration as `NAME=value` lines (every variable src/config.ts reads), secrets
 * masked, each marked with where it came from: the environment (or .env), a default, or unset.
 */
export function describeConfig(config: Config, env: NodeJS.ProcessEnv): string {
  const lines = CONFIG_KEYS.map((key) => {
    const value = config[key];
    const fromEnv = env[key] !== undefined && env[key] !== '';
    const origin = fromEnv ? '' : value === undefined ? '# unset' : '# default';
    const shown = value === undefined ? '' : maskValue(key, value);
    return origin ? `${key}=${shown}  ${origin}` : `${key}=${shown}`;
  });
  return [
    '# Effective Slotbase configuration (environment and .env, after defaults). Secrets are masked.',
    ...lines,
    '',
    `# database: ${config.DATABASE_URL ? maskUrlPassword(config.DATABASE_URL) : `embedded PostgreSQL, data in ${config.SLOTBASE_DATA_DIR}/`}`,
    `# mail: ${config.SMTP_URL ? `SMTP ${maskUrlPassword(config.SMTP_URL)}` : `not sent (no SMTP_URL): written to ${config.SLOTBASE_DATA_DIR}/outbox/, one line each in the log`}`,
    `# billing: ${config.STRIPE_SECRET_KEY ? 'Stripe' : 'off (501)'}; SMS: ${config.SMS_API_URL ? 'on' : 'off'}; metrics: ${config.METRICS_TOKEN ? 'token required' : 'open'}`,
  ].join('\n');
}
