import { mkdirSync, writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { anon } from '../support/db.ts';
import { addDailyRules, createLocation, createProvider, createService, createTenant, linkProvider, uniq, type TenantFixture } from '../support/factories.ts';
import { hostPage, useE2e } from '../support/browser.ts';

const SHOTS = new URL('../../test-results/screenshots/', import.meta.url);
mkdirSync(SHOTS, { recursive: true });
const shot = (page: Page, name: string) => page.screenshot({ path: new URL(name, SHOTS).pathname, fullPage: true });

/** Waiting on a request and a render: generous, the CI machine is shared. */
const POLL = { timeout: 10_000 };
const dayFromNow = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
const PASSWORD = 'correct horse battery staple';

// Functions passed to page.evaluate run in the browser; the project has no DOM types.
interface PageGlobals {
  navigator: { clipboard: { readText(): Promise<string> } };
  document: { activeElement: { id: string } | null };
  getComputedStyle(el: unknown): { backgroundColor: string; color: string };
  booked?: string;
}

describe('business sign-up and guided setup in a real browser', () => {
  const e2e = useE2e();

  const json = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await fetch(`${e2e().baseUrl}${path}`, {
      method,
      headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> | null };
  };
  const ownerToken = async (email: string) => {
    const res = await json('POST', '/v1/auth/login', { email, password: PASSWORD });
    expect(res.status).toBe(200);
    return res.body!.access_token as string;
  };

  it('a new business signs up, sets up a location, hours and a service, and a customer books on its own link', async () => {
    const { browser, baseUrl } = e2e();
    const email = `${uniq('owner-')}@example.test`;
    const business = `Harbour Physio ${uniq()}`;
    const owner = await browser.newContext({ timezoneId: 'Europe/Berlin', locale: 'en-GB' });
    await owner.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseUrl });
    try {
      const page = await owner.newPage();
      await page.goto(`${baseUrl}/signup`);
      await page.getByLabel('Business name').fill(business);
      const slug = await page.getByLabel('Booking link').inputValue();
      expect(slug).toBe(business.toLowerCase().replace(/ /g, '-')); // follows the name
      expect(await page.getByLabel('Time zone', { exact: true }).inputValue()).toBe('Europe/Berlin'); // the browser's zone
      await page.getByLabel('Your name').fill('Hanna Weiss');
      await page.getByLabel('Your email').fill(email);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Create my account' }).click();

      await page.getByRole('heading', { name: 'Where you see customers' }).waitFor();
      expect(await page.getByLabel('Location name').inputValue()).toBe(business); // a sensible default
      await page.getByLabel('Location name').fill('Harbour Street');
      await page.getByRole('button', { name: 'Save and continue' }).click();

      await page.getByRole('heading', { name: 'Who takes the appointments' }).waitFor();
      expect(await page.getByLabel('Provider name').inputValue()).toBe('Hanna Weiss');
      await page.getByLabel('Saturday').check();
      await page.getByLabel('Sunday').check(); // open every day: the booking below works on any weekday
      await page.getByLabel('From').fill('08:00');
      await page.getByLabel('Until').fill('12:00');
      await page.getByRole('button', { name: 'Save and continue' }).click();

      await page.getByRole('heading', { name: 'What customers can book' }).waitFor();
      await page.getByLabel('Service name').fill('Sports massage');
      await page.getByLabel('Duration (minutes)').fill('45');
      await page.getByRole('button', { name: 'Save and continue' }).click();

      await page.getByRole('heading', { name: 'Make it yours' }).waitFor();
      await page.getByLabel('Brand colour').fill('#0f766e');
      await page.getByRole('button', { name: 'Save and continue' }).click();

      await page.getByRole('heading', { name: 'Your booking page is live' }).waitFor();
      const link = (await page.locator('#booking-link').getAttribute('href'))!;
      expect(link).toBe(`${baseUrl}/b/${slug}`);
      const snippet = await page.getByLabel('Embed code').inputValue();
      expect(snippet).toBe(`<script src="${baseUrl}/embed.js" data-slotbase-tenant="${slug}"></script>`);
      expect(await page.getByLabel('Embed code').getAttribute('readonly')).not.toBeNull();
      await page.getByRole('button', { name: 'Copy embed code' }).click();
      await expect.poll(() => page.locator('#copy-status').textContent(), POLL).toContain('Copied');
      expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).navigator.clipboard.readText())).toBe(snippet);
      await shot(page, 'signup-final.png');

      // What the setup created, read back through the API as the owner.
      const token = await ownerToken(email);
      const services = await json('GET', '/v1/services', undefined, token);
      expect((services.body!.data as { name: string; duration_minutes: number; provider_ids: string[] }[]).map((s) => [s.name, s.duration_minutes, s.provider_ids.length]))
        .toEqual([['Sports massage', 45, 1]]);
      const tenant = await json('GET', '/v1/tenant', undefined, token);
      expect(tenant.body!.settings).toMatchObject({ brand_color: '#0f766e' });

      // A customer opens the link in another browser and books.
      const customer = await browser.newContext({ timezoneId: 'Europe/Berlin', locale: 'en-GB' });
      try {
        const booker = await customer.newPage();
        await booker.goto(link);
        await booker.getByLabel('Date').fill(dayFromNow(3));
        const first = booker.locator('button.slot').first();
        await first.waitFor();
        expect(await first.textContent()).toBe('08:00');
        const startsAt = (await first.getAttribute('data-starts-at'))!;
        // The brand colour is the page's accent.
        expect(await booker.locator('header .business').textContent()).toBe(business);
        await first.click();
        await booker.getByLabel('Your name').fill('Ada Lovelace');
        await booker.getByLabel('Email').fill('ada@example.test');
        const book = booker.getByRole('button', { name: 'Book', exact: true });
        expect(await book.evaluate((el) => (globalThis as unknown as PageGlobals).getComputedStyle(el).backgroundColor)).toBe('rgb(15, 118, 110)');
        await shot(booker, 'booking-page.png');
        await book.click();
        const code = (await booker.locator('.confirmation .code').textContent())!;
        expect(code).toMatch(/^BK-/);

        // The booking is the owner's to see, through the API with the owner's token.
        const bookings = await json('GET', '/v1/bookings', undefined, token);
        const mine = (bookings.body!.data as { code: string; contact_name: string; starts_at: string; status: string }[]).find((b) => b.code === code);
        expect(mine).toMatchObject({ contact_name: 'Ada Lovelace', status: 'confirmed' });
        expect(new Date(mine!.starts_at).toISOString()).toBe(new Date(startsAt).toISOString());

        // And it shows in the business's console: the owner signs in there with the new account.
        const staff = await browser.newContext({ timezoneId: 'Europe/Berlin', locale: 'en-GB', viewport: { width: 1360, height: 900 } });
        try {
          const consolePage = await staff.newPage();
          await consolePage.goto(`${baseUrl}/console`);
          await consolePage.getByLabel('Email').fill(email);
          await consolePage.getByLabel('Password').fill(PASSWORD);
          await consolePage.getByRole('button', { name: 'Sign in' }).click();
          await consolePage.getByRole('heading', { level: 1, name: 'Calendar' }).waitFor();
          await consolePage.getByLabel('Date', { exact: true }).fill(dayFromNow(3));
          await expect.poll(() => consolePage.locator('table.grid').textContent(), POLL).toContain('Ada Lovelace');
        } finally {
          await staff.close();
        }
      } finally {
        await customer.close();
      }

      // The snippet, pasted as-is on the business's own site, shows the booking page.
      const host = await hostPage(`<!doctype html><html lang="en"><head><title>Harbour Physio</title></head><body><h1>Harbour Physio</h1><p>Book online:</p>\n${snippet}\n</body></html>`);
      const visitor = await browser.newContext({ timezoneId: 'Europe/Berlin', locale: 'en-GB' });
      try {
        const site = await visitor.newPage();
        await site.goto(host.url);
        const frame = site.frameLocator('iframe');
        await frame.getByLabel('Date').fill(dayFromNow(4));
        await frame.locator('button.slot').first().waitFor();
        await expect.poll(() => site.locator('iframe').evaluate((el) => (el as unknown as { getBoundingClientRect(): { height: number } }).getBoundingClientRect().height), POLL).toBeGreaterThan(420);
        await shot(site, 'embed-host-page.png');
      } finally {
        await visitor.close();
        await host.close();
      }
    } finally {
      await owner.close();
    }
  });

  it('sign-up problems are shown at their field and nothing typed is lost, across a reload too', async () => {
    const { browser, baseUrl, db } = e2e();
    const taken = await createTenant(db);
    const context = await browser.newContext({ timezoneId: 'America/New_York', locale: 'en-US' });
    try {
      const page = await context.newPage();
      const response = await page.goto(`${baseUrl}/signup`);
      expect(response!.headers()['content-security-policy']).toContain("frame-ancestors 'none'"); // it holds the owner's tokens
      expect(await page.getByLabel('Time zone', { exact: true }).inputValue()).toBe('America/New_York');
      await page.getByLabel('Business name').fill('Copycat Clinic');
      await page.getByLabel('Booking link').fill(taken.slug);
      await page.getByLabel('Your email').fill(`${uniq('cc-')}@example.test`);
      await page.getByLabel('Password').fill('short');
      await page.getByRole('button', { name: 'Create my account' }).click();
      // 422 from the API's validation: at the password field, which gets the focus.
      await expect.poll(() => page.getByLabel('Password').getAttribute('aria-invalid'), POLL).toBe('true');
      expect(await page.locator('#password-error').textContent()).not.toBe('');
      expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.id)).toBe('password');

      // Typed values survive a reload (the password is never stored).
      await page.reload();
      expect(await page.getByLabel('Business name').inputValue()).toBe('Copycat Clinic');
      expect(await page.getByLabel('Booking link').inputValue()).toBe(taken.slug);
      expect(await page.getByLabel('Password').inputValue()).toBe('');

      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Create my account' }).click();
      // 409: the booking link is taken, said at that field.
      await expect.poll(() => page.getByLabel('Booking link').getAttribute('aria-invalid'), POLL).toBe('true');
      expect(await page.locator('#slug-error').textContent()).toMatch(/taken/);
      await shot(page, 'signup-errors.png');
      expect(await page.getByLabel('Password').getAttribute('aria-invalid')).toBeNull();
      expect(await page.getByLabel('Business name').inputValue()).toBe('Copycat Clinic');

      await page.getByLabel('Booking link').fill(uniq('copycat-'));
      await page.getByRole('button', { name: 'Create my account' }).click();
      await page.getByRole('heading', { name: 'Where you see customers' }).waitFor();
      expect(await page.getByLabel('Location time zone').inputValue()).toBe('America/New_York');
    } finally {
      await context.close();
    }
  });

  it('hours that end before they start are refused at the field, and no provider is created', async () => {
    const { browser, baseUrl } = e2e();
    const email = `${uniq('hours-')}@example.test`;
    const context = await browser.newContext({ timezoneId: 'Europe/Berlin' });
    try {
      const page = await context.newPage();
      await page.goto(`${baseUrl}/signup`);
      await page.getByLabel('Business name').fill(`Late Hours ${uniq()}`);
      await page.getByLabel('Your email').fill(email);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Create my account' }).click();
      await page.getByLabel('Location name').fill('Main');
      await page.getByRole('button', { name: 'Save and continue' }).click();
      await page.getByLabel('Provider name').fill('Night Owl');
      await page.getByLabel('From').fill('18:00');
      await page.getByLabel('Until').fill('09:00');
      await page.getByRole('button', { name: 'Save and continue' }).click();
      await expect.poll(() => page.getByLabel('Until').getAttribute('aria-invalid'), POLL).toBe('true');
      const providers = await json('GET', '/v1/providers', undefined, await ownerToken(email));
      expect(providers.body!.data).toEqual([]);

      await page.getByLabel('Until').fill('22:00');
      await page.getByRole('button', { name: 'Save and continue' }).click();
      await page.getByRole('heading', { name: 'What customers can book' }).waitFor();
      const token = await ownerToken(email);
      const [provider] = (await json('GET', '/v1/providers', undefined, token)).body!.data as { id: string; name: string }[];
      expect(provider!.name).toBe('Night Owl');
      const rules = (await json('GET', `/v1/providers/${provider!.id}/availability-rules`, undefined, token)).body!.data as { weekday: number; start_time: string; end_time: string }[];
      expect(rules.map((r) => [r.weekday, r.start_time.slice(0, 5), r.end_time.slice(0, 5)]).sort()).toEqual([1, 2, 3, 4, 5].map((d) => [d, '18:00', '22:00']));
    } finally {
      await context.close();
    }
  });
});

describe('customer accounts and branding on the booking page', () => {
  const e2e = useE2e();
  let tenant: TenantFixture;
  let serviceId: string;

  beforeAll(async () => {
    const { db } = e2e();
    tenant = await createTenant(db, { name: 'Lakeside Dental', timeZone: 'Europe/Berlin' });
    const location = await createLocation(db, tenant.id, { name: 'Lakeside', timeZone: 'Europe/Berlin' });
    const service = await createService(db, tenant.id, { durationMinutes: 30, maxAdvanceDays: 365 });
    serviceId = service.id;
    const provider = await createProvider(db, tenant.id, { name: 'Dr. Brandt', locationId: location.id });
    await linkProvider(db, tenant.id, service.id, provider.id);
    await addDailyRules(db, tenant.id, { providerId: provider.id }, location.id, '09:00', '12:00');
  });

  async function open() {
    const context = await e2e().browser.newContext({ timezoneId: 'Europe/Berlin', locale: 'en-GB' });
    const page = await context.newPage();
    await page.goto(`${e2e().baseUrl}/b/${tenant.slug}`);
    await page.getByRole('link', { name: 'Sign in to see your bookings' }).waitFor();
    return { context, page };
  }

  it('a customer creates an account on the booking page, books without typing contact details, and sees it under Upcoming', async () => {
    const { context, page } = await open();
    const email = `${uniq('cust-')}@example.test`;
    try {
      await page.getByRole('link', { name: 'Sign in to see your bookings' }).click();
      await page.getByLabel('I am new here').check();
      await page.getByLabel('Full name').fill('Grace Hopper');
      await page.getByLabel('Account email').fill(email);
      await page.getByLabel('Account password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.getByRole('heading', { name: 'Your bookings' }).waitFor();
      expect(await page.locator('.account').textContent()).toContain('No upcoming appointments.');
      expect(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('slotbase.customer'))).toContain('access_token');

      await page.getByLabel('Date').fill(dayFromNow(9));
      await page.locator('button.slot').first().click();
      expect(await page.locator('.booking-as').textContent()).toContain('Grace Hopper');
      expect(await page.locator('#email').count()).toBe(0); // no contact fields to fill
      await page.getByRole('button', { name: 'Book', exact: true }).click();
      const code = (await page.locator('.confirmation .code').textContent())!;
      await expect.poll(() => page.locator(`.my-bookings li[data-code="${code}"]`).count(), POLL).toBe(1);

      // The booking carries the profile's contact and belongs to the account (seen by the owner under RLS).
      const [row] = await e2e().db.queryAs<{ contact_name: string; contact_email: string; customer_user_id: string | null }>(tenant.owner,
        'select contact_name, contact_email, customer_user_id from slotbase.bookings where code = $1', [code]);
      expect(row).toMatchObject({ contact_name: 'Grace Hopper', contact_email: email });
      expect(row!.customer_user_id).not.toBeNull();

      await shot(page, 'booking-page-signed-in.png');
      // A reload keeps the tab signed in; signing out forgets it.
      await page.reload();
      await page.getByRole('heading', { name: 'Your bookings' }).waitFor();
      await expect.poll(() => page.locator(`.my-bookings li[data-code="${code}"]`).count(), POLL).toBe(1);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('link', { name: 'Sign in to see your bookings' }).waitFor();
    } finally {
      await context.close();
    }
  });

  it('a signed-in customer sees past bookings apart from upcoming ones, and only those with this business', async () => {
    const { db, baseUrl } = e2e();
    const email = `${uniq('past-')}@example.test`;
    const signup = await fetch(`${baseUrl}/v1/public/${tenant.slug}/customers/signup`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: PASSWORD, name: 'Past Person' }),
    });
    expect(signup.status).toBe(201);
    const token = ((await signup.json()) as { access_token: string }).access_token;
    const slots = await (await fetch(`${baseUrl}/v1/public/${tenant.slug}/services/${serviceId}/slots?from=${dayFromNow(11)}T00:00:00Z&to=${dayFromNow(12)}T00:00:00Z`)).json() as { data: { starts_at: string }[] };
    const book = async (startsAt: string) => {
      const res = await fetch(`${baseUrl}/v1/public/${tenant.slug}/bookings`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ service_id: serviceId, starts_at: startsAt }),
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as { code: string }).code;
    };
    const upcoming = await book(slots.data[0]!.starts_at);
    const past = await book(slots.data[1]!.starts_at);
    // Setup: move one booking into the past (time passing, without waiting for it).
    await db.query(`update slotbase.bookings set during = tstzrange(lower(during) - interval '40 days', upper(during) - interval '40 days', '[)') where code = $1`, [past]);
    // And a booking of the same account with another business, which this page must not list.
    const other = await createTenant(db, { name: 'Elsewhere' });
    const loc = await createLocation(db, other.id, { name: 'Elsewhere', timeZone: 'Europe/Berlin' });
    const svc = await createService(db, other.id, { durationMinutes: 30, maxAdvanceDays: 365 });
    const prov = await createProvider(db, other.id, { name: 'Someone', locationId: loc.id });
    await linkProvider(db, other.id, svc.id, prov.id);
    await addDailyRules(db, other.id, { providerId: prov.id }, loc.id, '09:00', '12:00');
    const otherSlots = await (await fetch(`${baseUrl}/v1/public/${other.slug}/services/${svc.id}/slots?from=${dayFromNow(11)}T00:00:00Z&to=${dayFromNow(12)}T00:00:00Z`)).json() as { data: { starts_at: string }[] };
    const elsewhere = await fetch(`${baseUrl}/v1/public/${other.slug}/bookings`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ service_id: svc.id, starts_at: otherSlots.data[0]!.starts_at }),
    });
    expect(elsewhere.status).toBe(201);
    const elsewhereCode = ((await elsewhere.json()) as { code: string }).code;

    const { context, page } = await open();
    try {
      await page.getByRole('link', { name: 'Sign in to see your bookings' }).click();
      await page.getByLabel('Account email').fill(email);
      await page.getByLabel('Account password').fill('wrong password!');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => page.locator('.account-status').textContent(), POLL).not.toBe('');
      expect(await page.getByLabel('Account email').inputValue()).toBe(email); // kept
      await page.getByLabel('Account password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Your bookings' }).waitFor();
      const lists = page.locator('.my-bookings');
      await expect.poll(() => lists.count(), POLL).toBe(2);
      expect(await lists.nth(0).locator('li').evaluateAll((els) => els.map((el) => (el as unknown as { dataset: { code: string } }).dataset.code))).toEqual([upcoming]);
      expect(await lists.nth(1).locator('li').evaluateAll((els) => els.map((el) => (el as unknown as { dataset: { code: string } }).dataset.code))).toEqual([past]);
      expect(await page.locator(`[data-code="${elsewhereCode}"]`).count()).toBe(0);
    } finally {
      await context.close();
    }
  });

  it('a brand colour and an https logo are applied to the booking page; malformed values are ignored', async () => {
    const { db, baseUrl, browser } = e2e();
    const branded = await createTenant(db, { name: 'Bright & Co' });
    await db.query(`update slotbase.tenants set settings = settings || $2::text::jsonb where id = $1`,
      [branded.id, JSON.stringify({ brand_color: '#FFD400', logo_url: 'https://cdn.example/logo.png?v=1&size=2' })]);
    const res = await fetch(`${baseUrl}/b/${branded.slug}`);
    const html = await res.text();
    const csp = res.headers.get('content-security-policy')!;
    expect(html).toContain(':root{--accent:#ffd400;--accent-fg:#000000;--link:#0b57d0}'); // light colour: dark text, readable links
    expect(csp).toMatch(/style-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).toContain("img-src 'self' data: https://cdn.example;");
    expect(html).toContain('<img class="logo" src="https://cdn.example/logo.png?v=1&amp;size=2" alt="Bright &amp; Co">');

    // The browser accepts the inline style under that CSP (its hash matches).
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.route('https://cdn.example/**', (route) => route.fulfill({
        status: 200,
        contentType: 'image/svg+xml',
        body: '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="48"><rect width="96" height="48" rx="8" fill="#ffd400"/><text x="48" y="31" font-size="18" text-anchor="middle" font-family="sans-serif">B&amp;Co</text></svg>',
      }));
      await page.goto(`${baseUrl}/b/${branded.slug}`);
      await expect.poll(() => page.locator('header img.logo').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth), POLL).toBe(96); // CSP let it load
      await shot(page, 'booking-page-branded.png');
      const accent = await page.evaluate(() => (globalThis as unknown as { getComputedStyle(e: unknown): { getPropertyValue(p: string): string }; document: { documentElement: unknown } })
        .getComputedStyle((globalThis as unknown as { document: { documentElement: unknown } }).document.documentElement).getPropertyValue('--accent'));
      expect(accent.trim()).toBe('#ffd400');
    } finally {
      await context.close();
    }

    for (const settings of [
      { brand_color: 'red;}body{display:none', logo_url: 'http://cdn.example/logo.png' },
      { brand_color: '#12345', logo_url: 'javascript:alert(1)' },
      { brand_color: ['#123456'], logo_url: 'https://user:pw@cdn.example/x.png' },
    ]) {
      await db.query(`update slotbase.tenants set settings = $2::text::jsonb where id = $1`, [branded.id, JSON.stringify(settings)]);
      const plain = await fetch(`${baseUrl}/b/${branded.slug}`);
      const body = await plain.text();
      expect(body, JSON.stringify(settings)).not.toContain('<style>');
      expect(body).not.toContain('class="logo"');
      expect(plain.headers.get('content-security-policy')).toContain("style-src 'self';");
      expect(plain.headers.get('content-security-policy')).toContain("img-src 'self' data:;");
    }
  });

  it('anyone can read a business\'s brand colour and logo, and nothing else of its settings', async () => {
    const { db } = e2e();
    const branded = await createTenant(db);
    await db.query(`update slotbase.tenants set settings = $2::text::jsonb where id = $1`,
      [branded.id, JSON.stringify({ brand_color: '#123456', logo_url: 'https://cdn.example/l.svg', embed_origins: ['https://x.example'], secret_note: 'staff only' })]);
    const rows = await db.queryAs(anon, 'select * from slotbase.public_branding($1)', [branded.id]);
    expect(rows).toEqual([{ brand_color: '#123456', logo_url: 'https://cdn.example/l.svg' }]);
    await expect(db.queryAs(anon, 'select settings from slotbase.tenants where id = $1', [branded.id])).rejects.toMatchObject({ code: '42501' });
  });
});
