import { describe, expect, it } from 'vitest';
import { createTokenService } from '#src/lib/tokens.ts';
import { useE2e } from '../support/browser.ts';
import { addDailyRules, addMember, createLocation, createProvider, createService, createTenant, linkProvider, uniq } from '../support/factories.ts';
import { TEST_JWT_SECRET } from '../support/http.ts';
import { TEST_SUPABASE_ANON_KEY, useSupabaseAuthStandIn } from '../support/supabase-auth-stand-in.ts';

const ZONE = 'Europe/Berlin';
const berlinDay = (days: number) =>
  new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(Date.now() + days * 86_400_000));

/**
 * The staff console configured for Supabase (SUPABASE_URL + SUPABASE_ANON_KEY): it signs staff in
 * with supabase-js — served by the app from node_modules — against a local stand-in of Supabase
 * Auth's HTTP API, and calls the API with that session's access token. Nothing else is reached.
 */
describe('the staff console signing in through Supabase Auth', () => {
  const auth = useSupabaseAuthStandIn();
  const e2e = useE2e({
    deps: () => ({ supabase: auth().project(), tokens: createTokenService({ secret: TEST_JWT_SECRET, ...auth().tokenOptions() }) }),
  });

  it('serves supabase-js from node_modules and lets the page talk to this origin and the project\'s Auth only', async () => {
    const res = await fetch(`${e2e().baseUrl}/console`);
    const html = await res.text();
    expect(html).toContain(`<meta name="slotbase-supabase-url" content="${auth().url}">`);
    expect(html).toContain(`<meta name="slotbase-supabase-anon-key" content="${TEST_SUPABASE_ANON_KEY}">`);
    expect(res.headers.get('content-security-policy')).toContain(`connect-src 'self' ${auth().url};`);
    const bundle = await fetch(`${e2e().baseUrl}/console/assets/supabase.js`);
    expect(bundle.headers.get('content-type')).toContain('text/javascript');
    expect(await bundle.text()).toMatch(/^var supabase=/);
  });

  it('a receptionist added by email signs in with Supabase, the session is refreshed by supabase-js, and the calendar lists bookings through the API with that token', async () => {
    const { db, baseUrl, browser } = e2e();
    const tenant = await createTenant(db, { name: 'Sunrise Clinic', timeZone: ZONE });
    const mitte = (await createLocation(db, tenant.id, { name: 'Mitte', timeZone: ZONE })).id;
    const weiss = (await createProvider(db, tenant.id, { name: 'Dr. Weiss', locationId: mitte })).id;
    await addDailyRules(db, tenant.id, { providerId: weiss }, mitte, '08:00', '18:00');
    const service = await createService(db, tenant.id, { durationMinutes: 30, maxAdvanceDays: 365 });
    await linkProvider(db, tenant.id, service.id, weiss);
    const owner = await addMember(db, tenant.id, 'owner');
    // The owner adds the receptionist by email, as POST /v1/members does: no password in Slotbase.
    const email = `${uniq('reception-')}@example.test`;
    await db.queryAs(owner, 'select slotbase.add_member($1, $2)', [email, 'receptionist']);
    const password = 'supabase password 123';
    auth().addUser({ email, password });
    // The first session "expires" within supabase-js' refresh margin: its next getSession() refreshes.
    auth().passwordSessionExpiresIn = 30;

    const day = berlinDay(3);
    const booked = await fetch(`${baseUrl}/v1/public/${tenant.slug}/bookings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ service_id: service.id, starts_at: `${day}T09:00:00${offsetOf(day)}`, provider_id: weiss, contact: { name: 'Supa Sam', email: `${uniq('c-')}@example.test` } }),
    });
    expect(booked.status, await booked.clone().text()).toBe(201);

    const context = await browser.newContext({ timezoneId: ZONE, locale: 'en-GB', viewport: { width: 1360, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const hosts = new Set<string>();
    const bookingCalls: (string | undefined)[] = [];
    page.on('request', (r) => {
      hosts.add(new URL(r.url()).origin);
      if (new URL(r.url()).pathname === '/v1/bookings') bookingCalls.push(r.headers().authorization);
    });
    try {
      await page.goto(`${baseUrl}/console`);
      await page.getByText('You sign in with your Supabase account.').waitFor();
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { level: 1, name: 'Calendar' }).waitFor();
      await expect.poll(() => page.locator('.who').textContent()).toContain('Sunrise Clinic · receptionist');
      await page.getByLabel('Date', { exact: true }).fill(day);
      await page.locator('table.grid.day button.booking', { hasText: 'Supa Sam' }).waitFor();

      // supabase-js signed in with the password, then refreshed the short session before the calls.
      const grants = auth().requests.filter((r) => r.path === '/auth/v1/token').map((r) => r.grantType);
      expect(grants.slice(0, 2)).toEqual(['password', 'refresh_token']);
      expect(auth().requests.filter((r) => r.path === '/auth/v1/token').every((r) => r.apikey === TEST_SUPABASE_ANON_KEY)).toBe(true);
      // Every bookings call carried a Supabase access token the stand-in issued, the last one a refreshed one.
      const issued = auth().issued.map((i) => `Bearer ${i.accessToken}`);
      expect(bookingCalls.length).toBeGreaterThan(0);
      for (const header of bookingCalls) expect(issued).toContain(header);
      const refreshed = auth().issued.filter((i) => i.grant === 'refresh_token').map((i) => `Bearer ${i.accessToken}`);
      expect(refreshed).toContain(bookingCalls.at(-1));
      // Only the app and the project's Auth were reached: supabase-js came from the app.
      expect([...hosts].sort()).toEqual([baseUrl, auth().url].sort());

      // Signing out ends the Supabase session too.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
      await expect.poll(() => auth().requests.some((r) => r.path === '/auth/v1/logout')).toBe(true);
    } finally {
      auth().passwordSessionExpiresIn = 3600;
      await context.close();
    }
  });

  it('an account the API refuses (not staff here) is signed out again and shows the API\'s problem', async () => {
    const { baseUrl, browser } = e2e();
    const email = `${uniq('stranger-')}@example.test`;
    auth().addUser({ email, password: 'stranger password 1' });
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    try {
      await page.goto(`${baseUrl}/console`);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill('stranger password 1');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => page.locator('.problem .code').textContent()).toBe('not_a_member');
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Sign in');
      // Neither the console's session nor supabase-js' is left in the tab.
      expect(await page.evaluate('Object.keys(sessionStorage).filter((k) => k.startsWith("slotbase.console"))')).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

/** `+01:00` or `+02:00`: Berlin's UTC offset on `day`. */
function offsetOf(day: string): string {
  return new Intl.DateTimeFormat('en-US', { timeZone: ZONE, timeZoneName: 'longOffset' })
    .formatToParts(new Date(`${day}T12:00:00Z`)).find((p) => p.type === 'timeZoneName')!.value.replace('GMT', '') || '+00:00';
}
