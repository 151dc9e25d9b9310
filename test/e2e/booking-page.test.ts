import { beforeAll, describe, expect, it } from 'vitest';
import { addDailyRules, createLocation, createProvider, createService, createTenant, linkProvider, type TenantFixture } from '../support/factories.ts';
import { hostPage, useE2e } from '../support/browser.ts';

/** YYYY-MM-DD, `days` from today (UTC). */
// Functions passed to page.evaluate run in the browser; the project has no DOM types, so they
// reach the page through this narrow view of its globals.
interface PageGlobals {
  document: { activeElement: { id: string } | null; querySelector(s: string): { requestSubmit(): void } | null };
  marker?: boolean;
  booked?: string;
}

const dayFromNow = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

describe('the public booking page in a real browser', () => {
  const e2e = useE2e();
  let tenant: TenantFixture;
  let serviceId: string;
  let serviceSlug: string;
  let providerId: string;

  beforeAll(async () => {
    const { db } = e2e();
    tenant = await createTenant(db, { name: 'Sunrise Clinic', timeZone: 'Europe/Berlin' });
    const location = await createLocation(db, tenant.id, { name: 'Mitte', timeZone: 'Europe/Berlin' });
    const service = await createService(db, tenant.id, { durationMinutes: 30, maxAdvanceDays: 365 });
    serviceId = service.id;
    serviceSlug = service.slug;
    providerId = (await createProvider(db, tenant.id, { name: 'Dr. Weiss', locationId: location.id })).id;
    await linkProvider(db, tenant.id, service.id, providerId);
    await addDailyRules(db, tenant.id, { providerId }, location.id, '09:00', '12:00');
  });

  async function openOn(day: string, options: { timezoneId?: string } = {}) {
    const context = await e2e().browser.newContext({ timezoneId: options.timezoneId ?? 'Europe/Berlin', locale: 'en-GB' });
    const page = await context.newPage();
    await page.goto(`${e2e().baseUrl}/b/${tenant.slug}/${serviceSlug}`);
    await page.getByLabel('Date').fill(day);
    await page.locator('button.slot').first().waitFor();
    return { page, context };
  }

  const bookViaApi = async (startsAt: string, name = 'Someone Else') => {
    const res = await fetch(`${e2e().baseUrl}/v1/public/${tenant.slug}/bookings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ service_id: serviceId, starts_at: startsAt, contact: { name, email: 'else@example.test' } }),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { code: string; manage_token: string };
  };

  it('a booker picks a day and a time, types their details with the keyboard, and gets a code, a calendar link and a manage link', async () => {
    const { page, context } = await openOn(dayFromNow(3));
    try {
      const first = page.locator('button.slot').first();
      const startsAt = await first.getAttribute('data-starts-at');
      expect(await first.textContent()).toBe('09:00'); // shown in the booker's zone (Berlin = the clinic's)
      await first.focus();
      await page.keyboard.press('Enter');
      await expect.poll(() => page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.id)).toBe('name'); // focus moves to the form
      await page.keyboard.type('Ada Lovelace');
      await page.keyboard.press('Tab');
      await page.keyboard.type('ada@example.test');
      await page.getByRole('button', { name: 'Book' }).press('Enter');
      const confirmation = page.locator('.confirmation');
      await confirmation.waitFor();
      const code = (await confirmation.locator('.code').textContent())!;
      expect(code).toMatch(/^BK-/);
      expect(await page.getByRole('link', { name: 'Add to calendar (.ics)' }).getAttribute('href')).toContain(`/v1/public/bookings/${code}.ics?token=`);
      const manage = await page.getByRole('link', { name: 'View, reschedule or cancel' }).getAttribute('href');
      // The booking exists, for that instant, seen by the business's owner under RLS.
      const [row] = await e2e().db.queryAs<{ starts_at: Date; contact_name: string; status: string }>(tenant.owner,
        'select starts_at, contact_name, status from slotbase.bookings where code = $1', [code]);
      expect(row).toMatchObject({ contact_name: 'Ada Lovelace', status: 'confirmed' });
      expect(row!.starts_at.toISOString()).toBe(new Date(startsAt!).toISOString());

      // The manage link shows the booking and cancels it.
      await page.goto(`${e2e().baseUrl}${manage}`);
      await expect.poll(() => page.locator('dd.code').textContent()).toBe(code);
      page.once('dialog', (dialog) => void dialog.accept());
      await page.getByRole('button', { name: 'Cancel booking' }).click();
      await expect.poll(() => page.locator('dd.status').textContent()).toBe('cancelled');
    } finally {
      await context.close();
    }
  });

  it('shows times in the booker\'s own time zone and names the clinic\'s', async () => {
    const { page, context } = await openOn(dayFromNow(4), { timezoneId: 'America/New_York' });
    try {
      expect(await page.getByLabel('Times shown in').inputValue()).toBe('America/New_York');
      expect(await page.locator('.zone .hint').textContent()).toContain('Europe/Berlin');
      // 09:00 in Berlin is 03:00 in New York (02:00 or 04:00 in the weeks the two switch DST apart).
      expect(await page.locator('button.slot').first().textContent()).toMatch(/^0[234]:00$/);
      await page.getByLabel('Times shown in').selectOption('Europe/Berlin');
      await expect.poll(() => page.locator('button.slot').first().textContent()).toBe('09:00');
    } finally {
      await context.close();
    }
  });

  it('a slot taken elsewhere disappears from an open page without a reload', async () => {
    const day = dayFromNow(5);
    const { page, context } = await openOn(day);
    try {
      const second = page.locator('button.slot').nth(1);
      const startsAt = (await second.getAttribute('data-starts-at'))!;
      const before = await page.locator('button.slot').count();
      await page.evaluate(() => { (globalThis as unknown as PageGlobals).marker = true; });
      await bookViaApi(startsAt);
      // The page refetches the day: the slot is gone and every other one is still there.
      await expect.poll(() => page.locator('button.slot').count(), { timeout: 5_000 }).toBe(before - 1);
      expect(await page.locator(`button.slot[data-starts-at="${startsAt}"]`).count()).toBe(0);
      expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).marker)).toBe(true); // same document: no reload
    } finally {
      await context.close();
    }
  });

  it('when the chosen time is taken meanwhile, the booker is told so and keeps what they typed', async () => {
    const { page, context } = await openOn(dayFromNow(6));
    try {
      const slot = page.locator('button.slot').last();
      const startsAt = (await slot.getAttribute('data-starts-at'))!;
      await slot.click();
      await page.getByLabel('Your name').fill('Grace Hopper');
      await page.getByLabel('Email').fill('grace@example.test');
      await page.getByLabel('Notes (optional)').fill('Second visit');
      await bookViaApi(startsAt);
      // The live update may already have removed the slot; then the booker picks again. Either way
      // the typed details survive. Force the race by submitting what the form still holds.
      await page.evaluate(() => (globalThis as unknown as PageGlobals).document.querySelector('form')?.requestSubmit());
      await expect.poll(() => page.locator('.form-status').textContent().catch(() => '')).toMatch(/taken|pick another/i);
      expect(await page.getByLabel('Your name').inputValue()).toBe('Grace Hopper');
      expect(await page.getByLabel('Notes (optional)').inputValue()).toBe('Second visit');
    } finally {
      await context.close();
    }
  });

  it('a banned booker is told exactly what a taken time tells anyone, and nothing is booked', async () => {
    const { db } = e2e();
    await db.query(`insert into slotbase.bans (tenant_id, kind, value, reason) values ($1, 'email', 'mallory@example.test', 'scalping')`, [tenant.id]);
    const attempt = async (day: string, email: string, takeFirst: boolean) => {
      const { page, context } = await openOn(day);
      try {
        const slot = page.locator('button.slot').first();
        const startsAt = (await slot.getAttribute('data-starts-at'))!;
        await slot.click();
        await page.getByLabel('Your name').fill('Some Booker');
        await page.getByLabel('Email').fill(email);
        if (takeFirst) await bookViaApi(startsAt);
        await page.evaluate(() => (globalThis as unknown as PageGlobals).document.querySelector('form')?.requestSubmit());
        await expect.poll(() => page.locator('.form-status').textContent().catch(() => '')).toMatch(/taken|pick another/i);
        return { startsAt, message: await page.locator('.form-status').textContent() };
      } finally {
        await context.close();
      }
    };
    const banned = await attempt(dayFromNow(8), 'Mallory@Example.test', false);
    const taken = await attempt(dayFromNow(9), 'honest@example.test', true);
    expect(banned.message).toBe(taken.message);
    // The banned booker's time is still free for everyone else.
    const from = new Date(banned.startsAt);
    const to = new Date(from.getTime() + 3_600_000);
    const query = new URLSearchParams({ from: from.toISOString(), to: to.toISOString() });
    const slots = await (await fetch(`${e2e().baseUrl}/v1/public/${tenant.slug}/services/${serviceId}/slots?${query}`)).json() as { data: { starts_at: string }[] };
    expect(slots.data.map((s) => new Date(s.starts_at).getTime())).toContain(from.getTime());
  });

  it('invalid details are marked at the field, with the server\'s message', async () => {
    const { page, context } = await openOn(dayFromNow(7));
    try {
      await page.locator('button.slot').first().click();
      await page.getByLabel('Your name').fill('Bad Email');
      await page.getByLabel('Email').fill('not-an-email');
      await page.getByRole('button', { name: 'Book' }).click();
      await expect.poll(() => page.getByLabel('Email').getAttribute('aria-invalid')).toBe('true');
      expect(await page.locator('#email-error').textContent()).not.toBe('');
      expect(await page.getByLabel('Your name').inputValue()).toBe('Bad Email');
    } finally {
      await context.close();
    }
  });

  it('the embed script puts the page on another site, sizes it, and tells the host page the booking code', async () => {
    const host = await hostPage(`<!doctype html><html><body><h1>Our clinic</h1>
<script src="${e2e().baseUrl}/embed.js" data-slotbase-tenant="${tenant.slug}" data-service="${serviceSlug}"></script>
<script>document.addEventListener('slotbase:booked', (e) => { window.booked = e.detail.code; });</script>
</body></html>`);
    const context = await e2e().browser.newContext({ timezoneId: 'Europe/Berlin' });
    try {
      const page = await context.newPage();
      await page.goto(host.url);
      const frameEl = page.locator('iframe');
      await frameEl.waitFor();
      const frame = page.frameLocator('iframe');
      await frame.getByLabel('Date').fill(dayFromNow(8));
      await frame.locator('button.slot').first().click();
      await frame.getByLabel('Your name').fill('Embedded Booker');
      await frame.getByLabel('Email').fill('embed@example.test');
      await frame.getByRole('button', { name: 'Book' }).click();
      await expect.poll(() => page.evaluate(() => (globalThis as unknown as PageGlobals).booked), { timeout: 10_000 }).toMatch(/^BK-/);
      // The booking exists for the business, and its confirmation mail is queued in the same transaction.
      const code = (await page.evaluate(() => (globalThis as unknown as PageGlobals).booked))!;
      const [booking] = await e2e().db.queryAs<{ id: string; status: string }>(tenant.owner, 'select id, status from slotbase.bookings where code = $1', [code]);
      expect(booking?.status).toBe('confirmed');
      const jobs = await e2e().db.query<{ key: string }>(`select key from graphile_worker.jobs where key = $1`, [`confirmation:${booking!.id}`]);
      expect(jobs).toHaveLength(1);
      const height = await frameEl.evaluate((el) => (el as unknown as { getBoundingClientRect(): { height: number } }).getBoundingClientRect().height);
      expect(height).toBeGreaterThan(200);
    } finally {
      await context.close();
      await host.close();
    }
  });

  it('a business that lists its embedding origins is framed only there (CSP frame-ancestors)', async () => {
    const { db } = e2e();
    const other = await createTenant(db, { name: 'Strict Clinic' });
    await db.query(`update slotbase.tenants set settings = settings || '{"embed_origins": ["https://clinic.example"]}' where id = $1`, [other.id]);
    const strict = await fetch(`${e2e().baseUrl}/b/${other.slug}`);
    expect(strict.status).toBe(200);
    expect(strict.headers.get('content-security-policy')).toContain("frame-ancestors 'self' https://clinic.example");
    expect(strict.headers.get('x-frame-options')).toBeNull();
    const open = await fetch(`${e2e().baseUrl}/b/${tenant.slug}`);
    expect(open.headers.get('content-security-policy')).toContain('frame-ancestors *');
    const manage = await fetch(`${e2e().baseUrl}/b/manage/BK-AAAAAA?token=wrong`);
    expect(manage.status, await manage.clone().text()).toBe(404);
    expect(manage.headers.get('content-security-policy')).toContain("frame-ancestors 'self'");
    expect((await fetch(`${e2e().baseUrl}/b/no-such-business`)).status).toBe(404);
  });
});
