import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS } from '#src/config.ts';
import { useProcesses } from '../support/processes.ts';

// The real `slotbase` command (bin/slotbase.js through tsx), with only the environment given.
const processes = useProcesses();

async function run(args: string[], env: Record<string, string>) {
  const child = processes.slotbase(args, env);
  let stdout = '';
  let stderr = '';
  child.process.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.process.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const { code } = await child.exited;
  return { code, stdout, stderr };
}

describe('bad configuration stops every command with exit code 2 and one line per variable', () => {
  it.each([
    ['a port that is not a number', { PORT: 'eighty' }, 'PORT', /^PORT: must be a number$/],
    ['a JWT secret that is too short (its value is never echoed)', { SLOTBASE_JWT_SECRET: 'short-secret-value' }, 'SLOTBASE_JWT_SECRET', /^SLOTBASE_JWT_SECRET: must be at least 32 characters$/],
    ['an unknown log level', { LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /^LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent$/],
    ['a database URL that is not one', { DATABASE_URL: 'mysql://root@db/app' }, 'DATABASE_URL', /^DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL$/],
    ['half an SMS configuration', { SMS_API_URL: 'https://api.twilio.com', SMS_ACCOUNT_SID: 'AC1', SMS_FROM: '+15005550006' }, 'SMS_AUTH_TOKEN', /^SMS_AUTH_TOKEN: required when/],
  ])('%s', async (_what, env, variable, line) => {
    // Every command parses the configuration first: `start` and `config` with the first case only (each spawn costs seconds).
    for (const command of variable === 'PORT' ? ['serve', 'start', 'config'] : ['serve']) {
      const { code, stdout, stderr } = await run([command], env);
      expect(code, `${command}: ${stderr}`).toBe(2);
      expect(stdout).toBe('');
      const lines = stderr.trimEnd().split('\n');
      expect(lines, command).toHaveLength(1);
      expect(lines[0]!.startsWith(`${variable}: `)).toBe(true);
      expect(lines[0]).toMatch(line);
      expect(stderr).not.toContain('short-secret-value');
      expect(stderr).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack trace
    }
  });

  it('two wrong variables: two lines, each naming its variable, in declaration order', async () => {
    const { code, stderr } = await run(['serve'], { PORT: '0', WORKER_CONCURRENCY: 'many' });
    expect(code).toBe(2);
    expect(stderr.trimEnd().split('\n')).toEqual(['PORT: must be at least 1', 'WORKER_CONCURRENCY: must be a number']);
  });

  it('`slotbase serve` without its secret: one line naming SLOTBASE_JWT_SECRET', async () => {
    const { code, stderr } = await run(['serve'], { API_DATABASE_URL: 'postgres://slotbase_api:x@127.0.0.1:1/none' });
    expect(code).toBe(2);
    expect(stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^SLOTBASE_JWT_SECRET: required by slotbase serve/)]);
  });
});

describe('`slotbase config` prints the effective configuration with secrets masked', () => {
  it('every variable once, defaults marked, passwords in URLs and secrets masked, exit 0', async () => {
    const secrets = {
      DATABASE_URL: 'postgres://owner:db-password-123@db.example:5432/slotbase',
      API_DATABASE_URL: 'postgres://slotbase_api:api-password-456@db.example:6543/slotbase',
      SLOTBASE_API_DB_PASSWORD: 'api-password-456',
      SLOTBASE_JWT_SECRET: 'jwt-secret-0123456789abcdefghijklmnopqrstuv',
      SUPABASE_JWT_SECRET: 'supabase-secret-0123456789abcdefghijklmnopq',
      SMTP_URL: 'smtps://mailer:smtp-password-789@mail.example:465',
      SMS_API_URL: 'https://api.twilio.com',
      SMS_ACCOUNT_SID: 'AC0123456789',
      SMS_AUTH_TOKEN: 'sms-auth-token-abcdef',
      SMS_FROM: '+15005550006',
      STRIPE_SECRET_KEY: 'sk_test_51StripeSecretKeyValue',
      STRIPE_WEBHOOK_SECRET: 'whsec_StripeWebhookSecretValue',
      STRIPE_PRICE_PRO: 'price_pro123',
      STRIPE_PRICE_BUSINESS: 'price_business123',
      METRICS_TOKEN: 'metrics-token-0123456789',
      PORT: '4000',
    };
    const { code, stdout, stderr } = await run(['config'], secrets);
    expect(code, stderr).toBe(0);
    for (const part of ['db-password-123', 'api-password-456', 'smtp-password-789', 'jwt-secret-0123', 'supabase-secret', 'sms-auth-token', 'StripeSecretKeyValue', 'StripeWebhookSecretValue', 'metrics-token-0123']) {
      expect(stdout).not.toContain(part);
    }
    const lines = new Map(stdout.split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect([...lines.keys()]).toEqual(CONFIG_KEYS);
    expect(lines.get('DATABASE_URL')).toBe('postgres://owner:***@db.example:5432/slotbase');
    expect(lines.get('API_DATABASE_URL')).toBe('postgres://slotbase_api:***@db.example:6543/slotbase');
    expect(lines.get('SMTP_URL')).toBe('smtps://mailer:***@mail.example:465');
    expect(lines.get('SLOTBASE_JWT_SECRET')).toBe('***');
    expect(lines.get('SLOTBASE_API_DB_PASSWORD')).toBe('***');
    expect(lines.get('SMS_AUTH_TOKEN')).toBe('***');
    expect(lines.get('METRICS_TOKEN')).toBe('***');
    expect(lines.get('STRIPE_SECRET_KEY')).toBe('sk_test_***');
    expect(lines.get('STRIPE_WEBHOOK_SECRET')).toBe('whsec_***');
    expect(lines.get('SMS_ACCOUNT_SID')).toBe('AC0123456789');
    expect(lines.get('PORT')).toBe('4000');
    expect(lines.get('HOST')).toBe('127.0.0.1  # default');
    expect(lines.get('SHUTDOWN_TIMEOUT_MS')).toBe('25000  # default');
    expect(lines.get('PUBLIC_URL')).toBe('  # unset');
  });
});
