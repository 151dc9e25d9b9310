import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_KEYS, ConfigError, loadConfig } from '#src/config.ts';
import { USAGE } from '#src/cli/main.ts';

// No Docker engine runs in CI, so `docker compose config` cannot: this checks what it would, and
// more — every service runs a real slotbase command with an environment our config accepts.
interface Service {
  build?: string;
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
}
const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as { services: Record<string, Service> };
const withDefaults = (env: Record<string, string>) =>
  Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')]));
const commands = [...USAGE.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]);

describe('docker-compose.yml', () => {
  const built = Object.entries(compose.services).filter(([, s]) => s.build);

  it('every service built from our image runs a command the slotbase CLI has', () => {
    expect(built.length).toBeGreaterThanOrEqual(3);
    for (const [name, service] of built) expect(commands, name).toContain(service.command?.[0]);
  });

  it('every service built from our image has an environment slotbase accepts', () => {
    for (const [name, service] of built) {
      expect(() => loadConfig(withDefaults(service.environment ?? {}), '/nonexistent'), name).not.toThrow();
    }
  });

  it('the API and the worker start only after migrations completed, and the worker sends mail to the catcher', () => {
    expect(compose.services.worker?.depends_on?.migrate?.condition).toBe('service_completed_successfully');
    expect(compose.services.api?.depends_on?.['api-role']?.condition).toBe('service_completed_successfully');
    expect(withDefaults(compose.services.worker?.environment ?? {}).SMTP_URL).toBe('smtp://mailpit:1025');
    expect(compose.services.mailpit?.image).toMatch(/^axllent\/mailpit:/);
  });

  it('PostgreSQL 17 with a health check and a volume; API and worker get longer to stop than SHUTDOWN_TIMEOUT_MS', () => {
    const db = compose.services.db as Service & { healthcheck?: { test?: unknown }; volumes?: string[] };
    expect(db.image).toBe('postgres:17');
    expect(db.healthcheck?.test).toBeTruthy();
    expect(db.volumes?.some((v) => v.endsWith(':/var/lib/postgresql/data'))).toBe(true);
    expect((compose.services.migrate as Service & { restart?: string }).restart).toBe('no');
    const timeout = loadConfig({}, '/nonexistent').SHUTDOWN_TIMEOUT_MS;
    for (const name of ['api', 'worker']) {
      const grace = (compose.services[name] as Service & { stop_grace_period?: string }).stop_grace_period;
      expect(Number(/^(\d+)s$/.exec(grace ?? '')?.[1]) * 1000, name).toBeGreaterThan(timeout);
    }
  });
});

describe('.env.example', () => {
  const example = readFileSync('.env.example', 'utf8');
  const documented = [...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]);

  it('documents every variable src/config.ts reads, and none it does not', () => {
    expect(CONFIG_KEYS.filter((k) => !documented.includes(k))).toEqual([]);
    expect(documented.filter((k) => !(CONFIG_KEYS as string[]).includes(k!))).toEqual([]);
  });

  it('every example value given there is one the configuration accepts', () => {
    const values = [...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=(\S*)/gm)].filter(([, , v]) => v !== '' && !v!.includes('…'));
    expect(values.length).toBeGreaterThan(20);
    for (const [, key, value] of values) {
      try {
        loadConfig({ [key!]: value }, '/nonexistent');
      } catch (error) {
        // Only "the rest of its group is missing" (SMS_*, STRIPE_*) may be said, never about this value.
        expect((error as ConfigError).problems.filter((p) => p.variable === key), `${key}=${value}`).toEqual([]);
      }
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  it('is multi-stage, installs production dependencies only, runs as a non-root user and has a health check on /ready', () => {
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev\b/m);
    expect(dockerfile).toMatch(/^USER (?!root\b)\S+/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*\/ready/m);
    expect(dockerfile).toMatch(/^COPY supabase\/migrations /m); // /ready compares them with the database
  });
});

// `docker compose config` validates the file against the Compose specification and resolves
// interpolation; it needs the docker client with its compose plugin (not the engine).
const docker = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
const hasCompose = docker.status === 0;
describe.skipIf(!hasCompose)(`docker compose config${hasCompose ? '' : ' — skipped: no `docker compose` client on this machine (the checks above still ran)'}`, () => {
  it('accepts docker-compose.yml', () => {
    const result = spawnSync('docker', ['compose', '-f', 'docker-compose.yml', 'config', '--quiet'], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
  });
});
