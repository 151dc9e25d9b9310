import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '#src/config.ts';
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
});
