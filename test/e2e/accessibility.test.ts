import { createRequire } from 'node:module';
import type { BrowserContext, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { addDailyRules, createLocation, createProvider, createService, createTenant, linkProvider, uniq, type TenantFixture } from '../support/factories.ts';
import { useE2e } from '../support/browser.ts';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
/** Waiting on a request and a render: generous, the CI machine is shared. */
const POLL = { timeout: 10_000 };
const dayFromNow = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

interface AxeResult { id: string; impact: string | null; help: string; nodes: { target: string[]; failureSummary?: string }[] }
// Functions passed to page.evaluate run in the browser; the project has no DOM types.
interface PageGlobals {
  axe: { run(context: unknown, options: unknown): Promise<{ violations: AxeResult[] }> };
  document: {
    activeElement: { id: string; tagName: string; textContent: string | null; getAttribute(n: string): string | null } | null;
  };
}

/** axe-core's serious and critical findings on the page as it is now (WCAG 2.x A/AA and best practices). */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  const { violations } = await page.evaluate(() => (globalThis as unknown as PageGlobals).axe.run((globalThis as unknown as { document: unknown }).document, { resultTypes: ['violations'] }));
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

describe('accessibility of the booking, manage and sign-up pages (axe-core, in Chromium)', () => {
  const e2e = useE2e();
  let tenant: TenantFixture;
  let serviceSlug: string;

  beforeAll(async () => {
    const { db } = e2e();
    tenant = await createTenant(db, { name: 'Access Clinic', timeZone: 'Europe/Berlin' });
    const main = await createLocation(db, tenant.id, { name: 'Main Street', timeZone: 'Europe/Berlin' });
    const service = await createService(db, tenant.id, { durationMinutes: 30, maxAdvanceDays: 365 });
    serviceSlug = service.slug;
    const first = await createProvider(db, tenant.id, { name: 'Dr. One', locationId: main.id });
    const second = await createProvider(db, tenant.id, { name: 'Dr. Two', locationId: main.id });
    for (const p of [first, second]) {
      await linkProvider(db, tenant.id, service.id, p.id);
      await addDailyRules(db, tenant.id, { providerId: p.id }, main.id, '09:00', '12:00');
    }
    // A brand colour that is light: the page must keep its text readable.
    await db.query(`update slotbase.tenants set settings = settings || '{"brand_color": "#ffd400"}' where id = $1`, [tenant.id]);
  });

  // bypassCSP: axe is injected as an inline script, which the pages' CSP would (rightly) refuse.
  const newContext = (options: { colorScheme?: 'light' | 'dark' } = {}): Promise<BrowserContext> =>
    e2e().browser.newContext({ bypassCSP: true, timezoneId: 'Europe/Berlin', locale: 'en-GB', colorScheme: options.colorScheme ?? 'light' });

  for (const colorScheme of ['light', 'dark'] as const) {
    it(`the booking page has no serious or critical violations at any step, then on its manage page (${colorScheme} mode)`, async () => {
      const context = await newContext({ colorScheme });
      try {
        const page = await context.newPage();
        await page.goto(`${e2e().baseUrl}/b/${tenant.slug}/${serviceSlug}`);
        await page.getByRole('link', { name: 'Sign in to see your bookings' }).waitFor();
        expect(await seriousViolations(page), 'initial').toEqual([]);

        await page.getByLabel('Date').fill(dayFromNow(10));
        await page.locator('button.slot').first().waitFor();
        expect(await seriousViolations(page), 'slots shown').toEqual([]);

        await page.getByRole('link', { name: 'Sign in to see your bookings' }).click();
        await page.getByLabel('I am new here').check();
        expect(await seriousViolations(page), 'customer sign-in open').toEqual([]);
        await page.getByRole('button', { name: 'Close' }).click();

        await page.locator('button.slot').first().click();
        await page.getByLabel('Your name').fill('Axe Tester');
        await page.getByLabel('Email', { exact: true }).fill('not-an-email');
        await page.getByRole('button', { name: 'Book', exact: true }).click();
        await expect.poll(() => page.getByLabel('Email', { exact: true }).getAttribute('aria-invalid'), POLL).toBe('true');
        expect(await seriousViolations(page), 'details form with an error').toEqual([]);

        await page.getByLabel('Email', { exact: true }).fill(`${uniq('axe-')}@example.test`);
        await page.getByRole('button', { name: 'Book', exact: true }).click();
        await page.locator('.confirmation').waitFor();
        expect(await seriousViolations(page), 'confirmation').toEqual([]);

        const manage = (await page.getByRole('link', { name: 'View, reschedule or cancel' }).getAttribute('href'))!;
        await page.goto(`${e2e().baseUrl}${manage}`);
        await page.locator('dd.code').waitFor();
        expect(await seriousViolations(page), 'manage page').toEqual([]);
        await page.getByRole('button', { name: 'Reschedule' }).click();
        await page.getByLabel('Date').fill(dayFromNow(11));
        await page.locator('button.slot').first().waitFor();
        expect(await seriousViolations(page), 'manage page, rescheduling').toEqual([]);
      } finally {
        await context.close();
      }
    });
  }

  it('the sign-up page has no serious or critical violations, with errors shown and on every setup step', async () => {
    const context = await newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${e2e().baseUrl}/signup`);
      await page.getByLabel('Business name').waitFor();
      expect(await seriousViolations(page), 'account step').toEqual([]);
      await page.getByLabel('Business name').fill(`Axe Studio ${uniq()}`);
      await page.getByLabel('Your email').fill('broken');
      await page.getByLabel('Password').fill('short');
      await page.getByRole('button', { name: 'Create my account' }).click();
      await expect.poll(() => page.getByLabel('Password').getAttribute('aria-invalid'), POLL).toBe('true');
      expect(await seriousViolations(page), 'account step with errors').toEqual([]);

      await page.getByLabel('Your email').fill(`${uniq('axe-')}@example.test`);
      await page.getByLabel('Password').fill('correct horse battery staple');
      await page.getByRole('button', { name: 'Create my account' }).click();
      for (const heading of ['Where you see customers', 'Who takes the appointments', 'What customers can book', 'Make it yours']) {
        await page.getByRole('heading', { name: heading }).waitFor();
        if (heading === 'Who takes the appointments') await page.getByLabel('Provider name').fill('Axe Person');
        expect(await seriousViolations(page), heading).toEqual([]);
        await page.getByRole('button', { name: 'Save and continue' }).click();
      }
      await page.getByRole('heading', { name: 'Your booking page is live' }).waitFor();
      expect(await seriousViolations(page), 'final step').toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('a business can sign up and finish the setup with the keyboard alone (Tab, Enter, Space)', async () => {
    const context = await newContext();
    const email = `${uniq('keys-')}@example.test`;
    try {
      const page = await context.newPage();
      await page.goto(`${e2e().baseUrl}/signup`);
      await page.getByLabel('Business name').waitFor();
      const active = () => page.evaluate(() => {
        const el = (globalThis as unknown as PageGlobals).document.activeElement;
        return el ? `${el.id || el.tagName.toLowerCase()}|${el.getAttribute('value') ?? ''}|${(el.textContent ?? '').trim()}` : '';
      });
      /** Presses Tab until the focused element's id, or a button's text, matches. */
      const tabTo = async (target: RegExp) => {
        for (let i = 0; i < 60; i++) {
          await page.keyboard.press('Tab');
          if (target.test(await active())) return;
        }
        throw new Error(`Tab never reached ${target} (last: ${await active()})`);
      };
      await tabTo(/^business-name\|/);
      await page.keyboard.type('Keyboard Yoga');
      await tabTo(/^owner-name\|/);
      await page.keyboard.type('Kim Keys');
      await tabTo(/^email\|/);
      await page.keyboard.type(email);
      await tabTo(/^password\|/);
      await page.keyboard.type('correct horse battery staple');
      await page.keyboard.press('Enter'); // submits the form

      await page.getByRole('heading', { name: 'Where you see customers' }).waitFor();
      await tabTo(/\|Save and continue$/);
      await page.keyboard.press('Enter');

      await page.getByRole('heading', { name: 'Who takes the appointments' }).waitFor();
      await tabTo(/^weekday-6\|/);
      await page.keyboard.press('Space'); // Saturday too
      await tabTo(/\|Save and continue$/);
      await page.keyboard.press('Enter');

      await page.getByRole('heading', { name: 'What customers can book' }).waitFor();
      await tabTo(/\|Save and continue$/);
      await page.keyboard.press('Space');

      await page.getByRole('heading', { name: 'Make it yours' }).waitFor();
      await tabTo(/\|Skip$/);
      await page.keyboard.press('Enter');

      await page.getByRole('heading', { name: 'Your booking page is live' }).waitFor();
      await tabTo(/^booking-link\|/);
      await tabTo(/\|Copy embed code$/);
      await page.keyboard.press('Space');
      await expect.poll(() => page.locator('#copy-status').textContent(), POLL).toContain('Copied');

      // What the keyboard set up, read back through the API as the new owner.
      const base = e2e().baseUrl;
      const login = await fetch(`${base}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: 'correct horse battery staple' }) });
      const token = ((await login.json()) as { access_token: string }).access_token;
      const auth = { authorization: `Bearer ${token}` };
      const [provider] = ((await (await fetch(`${base}/v1/providers`, { headers: auth })).json()) as { data: { id: string; name: string }[] }).data;
      expect(provider!.name).toBe('Kim Keys');
      const rules = ((await (await fetch(`${base}/v1/providers/${provider!.id}/availability-rules`, { headers: auth })).json()) as { data: { weekday: number }[] }).data;
      expect(rules.map((r) => r.weekday).sort()).toEqual([1, 2, 3, 4, 5, 6]);
      const services = ((await (await fetch(`${base}/v1/services`, { headers: auth })).json()) as { data: { name: string; provider_ids: string[] }[] }).data;
      expect(services.map((s) => [s.name, s.provider_ids])).toEqual([['Appointment', [provider!.id]]]);
    } finally {
      await context.close();
    }
  });
});
