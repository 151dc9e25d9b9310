import { describe, expect, it } from 'vitest';
import { DEMO_OWNER_EMAIL, DEMO_SLUG, seedDemo } from '#src/cli/demo.ts';
import { scryptHasher } from '#src/lib/passwords.ts';
import { useApi } from '../support/http.ts';

describe('the demo business `slotbase start` seeds on the embedded database', () => {
  const api = useApi();

  it('is bookable right away: public services, providers, free slots, yoga sessions; its owner can sign in; seeding twice changes nothing', async () => {
    const password = 'demo-password-for-tests';
    expect(await seedDemo({ databaseUrl: api().db.url!, ownerPassword: password, passwords: scryptHasher })).toBe(true);
    expect(await seedDemo({ databaseUrl: api().db.url!, ownerPassword: 'other', passwords: scryptHasher })).toBe(false);

    const services = await api().json<{ data: { id: string; slug: string; kind: string }[] }>('GET', `/v1/public/${DEMO_SLUG}/services`);
    expect(services.body.data.map((s) => s.slug).sort()).toEqual(['checkup', 'consultation', 'yoga']);
    const providers = await api().json<{ data: { name: string }[] }>('GET', `/v1/public/${DEMO_SLUG}/providers`);
    expect(providers.body.data.map((p) => p.name)).toEqual(['Dr. Ada Weiss', 'Dr. Ben Okafor']);

    const from = new Date(Date.now() + 86_400_000);
    const to = new Date(from.getTime() + 7 * 86_400_000);
    for (const slug of ['checkup', 'yoga']) {
      const slots = await api().json<{ data: unknown[] }>('GET', `/v1/public/${DEMO_SLUG}/services/${slug}/slots?from=${from.toISOString()}&to=${to.toISOString()}`);
      expect(slots.status).toBe(200);
      expect(slots.body.data.length, slug).toBeGreaterThan(0);
    }

    const login = await api().json<{ access_token: string }>('POST', '/v1/auth/login', { body: { email: DEMO_OWNER_EMAIL, password } });
    expect(login.status).toBe(200);
    const page = await api().request('GET', `/b/${DEMO_SLUG}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Sunrise Clinic (demo)');
  });
});
