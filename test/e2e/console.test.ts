import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import type { BrowserContext, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CLIENT_FILE, renderConsoleClient } from '#src/cli/console-client.ts';
import { OPENAPI_FILE } from '#src/cli/openapi.ts';
import { scryptHasher } from '#src/lib/passwords.ts';
import { useE2e } from '../support/browser.ts';
import type { TestDb } from '../support/db.ts';
import { addDailyRules, addMember, createLocation, createProvider, createService, createTenant, linkProvider, uniq, type Member, type Role } from '../support/factories.ts';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const SCREENSHOT = fileURLToPath(new URL('../../test-results/screenshots/console.png', import.meta.url));
const PASSWORD = 'correct horse battery staple';
const ZONE = 'Europe/Berlin';

/** The local date in Berlin, `days` from now. */
const berlinDay = (days: number) =>
  new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(Date.now() + days * 86_400_000));
/** The instant of Berlin wall-clock `hhmm` on `day`. */
const berlin = (day: string, hhmm: string) => {
  const offset = new Intl.DateTimeFormat('en-US', { timeZone: ZONE, timeZoneName: 'longOffset' })
    .formatToParts(new Date(`${day}T12:00:00Z`)).find((p) => p.type === 'timeZoneName')!.value.replace('GMT', '') || '+00:00';
  return new Date(`${day}T${hhmm}:00${offset}`).toISOString();
};

describe('the generated API client of the staff console', () => {
  it('src/web/console/api-client.js is exactly what the generator makes of openapi/openapi.json (run `npm run openapi`)', async () => {
    const spec = JSON.parse(await readFile(OPENAPI_FILE, 'utf8')) as Parameters<typeof renderConsoleClient>[0];
    expect(await readFile(CONSOLE_CLIENT_FILE, 'utf8')).toBe(renderConsoleClient(spec));
  });

  it('has one exported function per operationId, and its JSDoc types check under strict TypeScript', async () => {
    const spec = JSON.parse(await readFile(OPENAPI_FILE, 'utf8')) as { paths: Record<string, Record<string, { operationId?: string }>> };
    const ids = Object.values(spec.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId)).filter(Boolean).sort();
    const source = await readFile(CONSOLE_CLIENT_FILE, 'utf8');
    const exported = [...source.matchAll(/^export function (\w+)\(args/gm)].map((m) => m[1]).sort();
    expect(exported).toEqual(ids);
    const program = ts.createProgram([CONSOLE_CLIENT_FILE], {
      allowJs: true, checkJs: true, noEmit: true, strict: true, skipLibCheck: true,
      target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ['lib.es2023.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'], types: [],
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(problems).toEqual([]);
  }, 30_000);
});

describe('the staff console in a real browser', () => {
  const e2e = useE2e();
  let passwordHash: string;

  beforeAll(async () => {
    passwordHash = await scryptHasher.hash(PASSWORD);
    await mkdir(new URL('../../test-results/screenshots/', import.meta.url), { recursive: true });
  });

  /** A member who can sign in with PASSWORD. */
  async function staff(db: TestDb, tenantId: string, role: Role, locationId?: string): Promise<Member & { email: string }> {
    const email = `${uniq('staff-')}@example.test`;
    const [user] = await db.query<{ id: string }>('select slotbase_private.register_user($1, $2, $3) as id', [email, passwordHash, `${role} person`]);
    const member = await addMember(db, tenantId, role, { userId: user!.id, ...(locationId ? { locationId } : {}) });
    return { ...member, email };
  }

  /** Two branches in Berlin (Mitte: Dr. Weiss; Kreuzberg: Dr. Okafor), open 08:00–18:00 every day. */
  async function clinic(options: { requiresApproval?: boolean } = {}) {
    const { db } = e2e();
    const tenant = await createTenant(db, { name: 'Sunrise Clinic', timeZone: ZONE });
    const mitte = (await createLocation(db, tenant.id, { name: 'Mitte', timeZone: ZONE })).id;
    const kreuzberg = (await createLocation(db, tenant.id, { name: 'Kreuzberg', timeZone: ZONE })).id;
    const weiss = (await createProvider(db, tenant.id, { name: 'Dr. Weiss', locationId: mitte })).id;
    const okafor = (await createProvider(db, tenant.id, { name: 'Dr. Okafor', locationId: kreuzberg })).id;
    for (const [p, l] of [[weiss, mitte], [okafor, kreuzberg]] as const) await addDailyRules(db, tenant.id, { providerId: p }, l, '08:00', '18:00');
    const service = await createService(db, tenant.id, { durationMinutes: 30, maxAdvanceDays: 365, requiresApproval: options.requiresApproval ?? false });
    await db.query(`update slotbase.services set name = 'Check-up' where id = $1`, [service.id]);
    await linkProvider(db, tenant.id, service.id, weiss);
    await linkProvider(db, tenant.id, service.id, okafor);
    const owner = await staff(db, tenant.id, 'owner');
    return { tenant, mitte, kreuzberg, weiss, okafor, serviceId: service.id, owner };
  }
  type Clinic = Awaited<ReturnType<typeof clinic>>;

  /** A booking made on the public booking page (no account). */
  async function publicBooking(c: Clinic, startsAt: string, name: string, providerId: string): Promise<{ code: string }> {
    const res = await fetch(`${e2e().baseUrl}/v1/public/${c.tenant.slug}/bookings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ service_id: c.serviceId, starts_at: startsAt, provider_id: providerId, contact: { name, email: `${uniq('c-')}@example.test` } }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as { code: string };
  }

  async function apiLogin(email: string): Promise<string> {
    const res = await fetch(`${e2e().baseUrl}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: PASSWORD }) });
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  async function signIn(email: string, options: { colorScheme?: 'light' | 'dark'; bypassCSP?: boolean } = {}): Promise<{ page: Page; context: BrowserContext }> {
    const context = await e2e().browser.newContext({ timezoneId: ZONE, locale: 'en-GB', viewport: { width: 1360, height: 900 }, ...options });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(`${e2e().baseUrl}/console`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Calendar' }).waitFor();
    return { page, context };
  }

  /** Shows the day calendar of `day` and waits until its bookings are on screen. */
  async function showDay(page: Page, day: string) {
    await page.getByLabel('Date', { exact: true }).fill(day);
    await expect.poll(() => page.locator('table.grid caption').textContent()).toContain(new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'long', year: 'numeric' }).format(new Date(`${day}T12:00:00Z`)));
  }

  it('serves the console shell with a strict CSP that allows only its own scripts', async () => {
    const res = await fetch(`${e2e().baseUrl}/console`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    const client = await fetch(`${e2e().baseUrl}/console/assets/api-client.js`);
    expect(client.headers.get('content-type')).toContain('text/javascript');
    expect(await client.text()).toBe(await readFile(CONSOLE_CLIENT_FILE, 'utf8'));
  });

  it('a receptionist logs in, books a walk-in, and the provider\'s day calendar shows it', async () => {
    const c = await clinic();
    const receptionist = await staff(e2e().db, c.tenant.id, 'receptionist', c.mitte);
    const day = berlinDay(2);
    const { page, context } = await signIn(receptionist.email);
    try {
      await page.getByRole('link', { name: 'New booking' }).click();
      await page.getByRole('heading', { level: 1, name: 'New booking' }).waitFor();
      await page.getByLabel('Branch').selectOption({ label: 'Mitte' });
      await page.getByLabel('Service').selectOption({ label: 'Check-up (30 min)' });
      await page.getByLabel('Provider').selectOption({ label: 'Dr. Weiss' });
      await page.getByLabel('Day').fill(day);
      await page.getByRole('group', { name: /^Free times on/ }).waitFor();
      await page.getByRole('radio', { name: '10:00' }).check();
      await page.getByLabel('Name').fill('Walk-in Wanda');
      await page.getByLabel('Phone (optional)').fill('+49 30 5550100');
      await page.screenshot({ path: SCREENSHOT.replace(/console\.png$/, 'console-new-booking.png'), fullPage: true });
      await page.getByRole('button', { name: 'Book', exact: true }).click();
      const receipt = page.locator('.receipt');
      await receipt.waitFor();
      const code = (await receipt.locator('.code').textContent())!;
      expect(code).toMatch(/^BK-/);
      // The booking exists at 10:00 Berlin time with Dr. Weiss, as the owner reads it under RLS.
      const [row] = await e2e().db.queryAs<{ starts_at: Date; provider_id: string; source: string; status: string; contact_phone: string }>(c.tenant.owner,
        'select starts_at, provider_id, source, status, contact_phone from slotbase.bookings where code = $1', [code]);
      expect(row).toMatchObject({ provider_id: c.weiss, source: 'staff', status: 'confirmed', contact_phone: '+49 30 5550100' });
      expect(row!.starts_at.toISOString()).toBe(berlin(day, '10:00'));

      await receipt.getByRole('button', { name: 'Show in calendar' }).click();
      await page.getByRole('heading', { level: 1, name: 'Calendar' }).waitFor();
      expect(await page.getByLabel('Provider').inputValue()).toBe(c.weiss);
      const chip = page.locator('table.grid.day button.booking', { hasText: 'Walk-in Wanda' });
      await chip.waitFor();
      expect(await page.locator('table.grid.day thead th').nth(1).textContent()).toBe('Dr. Weiss');
      // In the 10:00 row, the Dr. Weiss column.
      expect(await chip.locator('xpath=ancestor::tr/th').textContent()).toBe('10:00');
      expect(await chip.locator('.when').textContent()).toBe('10:00–10:30');
    } finally {
      await context.close();
    }
  });

  it('a receptionist of branch A cannot see branch B\'s bookings in the console (the owner sees both)', async () => {
    const c = await clinic();
    const day = berlinDay(3);
    await publicBooking(c, berlin(day, '09:00'), 'Alice at Mitte', c.weiss);
    await publicBooking(c, berlin(day, '09:00'), 'Bob at Kreuzberg', c.okafor);
    const receptionist = await staff(e2e().db, c.tenant.id, 'receptionist', c.mitte);

    const owner = await signIn(c.owner.email);
    try {
      await showDay(owner.page, day);
      await expect.poll(() => owner.page.locator('button.booking .who').allTextContents()).toEqual(expect.arrayContaining(['Alice at Mitte', 'Bob at Kreuzberg']));
    } finally {
      await owner.context.close();
    }

    const { page, context } = await signIn(receptionist.email);
    try {
      await showDay(page, day);
      await expect.poll(() => page.locator('button.booking .who').allTextContents()).toEqual(['Alice at Mitte']);
      // Nor does the console offer the other branch or its provider: it lists what the API returns.
      expect(await page.getByLabel('Branch').locator('option').allTextContents()).toEqual(['Mitte']);
      expect(await page.getByLabel('Provider').locator('option').allTextContents()).toEqual(['All providers', 'Dr. Weiss']);
      await page.getByRole('radio', { name: 'Week' }).check();
      await expect.poll(() => page.locator('table.grid.week button.booking .who').allTextContents()).toEqual(['Alice at Mitte']);
      await page.screenshot({ path: SCREENSHOT.replace(/console\.png$/, 'console-week.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });

  it('an owner approves a pending booking and rejects another with a reason; a taken time is refused with its problem code', async () => {
    const c = await clinic({ requiresApproval: true });
    const day = berlinDay(4);
    const paula = await publicBooking(c, berlin(day, '09:00'), 'Pending Paula', c.weiss);
    const peter = await publicBooking(c, berlin(day, '11:30'), 'Pending Peter', c.weiss);
    await publicBooking(c, berlin(day, '10:00'), 'Pending Olga', c.okafor);
    const status = async (code: string) =>
      (await e2e().db.queryAs<{ status: string; status_reason: string | null }>(c.tenant.owner, 'select status, status_reason from slotbase.bookings where code = $1', [code]))[0];
    expect(await status(paula.code)).toMatchObject({ status: 'pending' });

    const { page, context } = await signIn(c.owner.email);
    try {
      await showDay(page, day);
      const detail = page.locator('#detail');
      await page.locator('button.booking', { hasText: 'Pending Paula' }).click();
      await detail.getByRole('heading', { name: `Booking ${paula.code}` }).waitFor();
      await detail.getByRole('button', { name: 'Approve' }).click();
      await expect.poll(() => detail.locator('span.status').textContent()).toBe('confirmed');
      expect(await status(paula.code)).toMatchObject({ status: 'confirmed' });

      await page.locator('button.booking', { hasText: 'Pending Peter' }).click();
      await detail.getByRole('heading', { name: `Booking ${peter.code}` }).waitFor();
      await detail.getByLabel('Reason for rejecting (optional)').fill('No referral letter');
      await detail.getByRole('button', { name: 'Reject' }).click();
      await expect.poll(() => detail.locator('span.status').textContent()).toBe('rejected');
      expect(await status(peter.code)).toEqual({ status: 'rejected', status_reason: 'No referral letter' });

      // Moving Olga (Dr. Okafor) is fine; moving Paula's provider onto a taken time is a 409 shown with its code.
      await page.locator('button.booking', { hasText: 'Pending Paula' }).click();
      await detail.getByRole('heading', { name: `Booking ${paula.code}` }).waitFor();
      await publicBooking(c, berlin(day, '13:00'), 'Walk-up Wilma', c.weiss);
      await detail.locator('summary', { hasText: 'Reschedule' }).click();
      await detail.getByLabel(/Or another time/).fill('13:00');
      await detail.getByRole('button', { name: 'Move booking' }).click();
      await expect.poll(() => detail.locator('.problem .code').textContent()).toBe('slot_taken');
      expect(await status(paula.code)).toMatchObject({ status: 'confirmed' });
      await page.locator('.problem').scrollIntoViewIfNeeded();

      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    } finally {
      await context.close();
    }
  });

  it('the dashboard shows the numbers the analytics API returns, with a chart and text equivalents', async () => {
    const c = await clinic();
    const day = berlinDay(1);
    await publicBooking(c, berlin(day, '09:00'), 'One', c.weiss);
    await publicBooking(c, berlin(day, '09:30'), 'Two', c.weiss);
    await publicBooking(c, berlin(berlinDay(2), '10:00'), 'Three', c.okafor);
    const cancelled = await publicBooking(c, berlin(berlinDay(2), '11:00'), 'Four', c.okafor);
    const token = await apiLogin(c.owner.email);
    const [{ id }] = (await e2e().db.queryAs<{ id: string }>(c.tenant.owner, 'select id from slotbase.bookings where code = $1', [cancelled.code])) as [{ id: string }];
    const cancel = await fetch(`${e2e().baseUrl}/v1/bookings/${id}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
    expect(cancel.status).toBe(200);

    const from = berlinDay(-1);
    const to = berlinDay(5);
    const res = await fetch(`${e2e().baseUrl}/v1/analytics/summary?from=${from}&to=${to}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const summary = (await res.json()) as {
      bookings: { total: number; by_status: Record<string, number> };
      no_show_rate: number | null;
      cancellation_rate: number | null;
      by_day: { date: string; total: number }[];
      utilization: { providers: { provider_id: string; utilization: number | null }[] };
    };
    expect(summary.bookings.total).toBe(4);
    const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);

    const { page, context } = await signIn(c.owner.email);
    try {
      await page.getByRole('link', { name: 'Dashboard' }).click();
      await page.getByLabel('From').fill(from);
      await page.getByLabel('To (exclusive)').fill(to);
      await page.getByRole('button', { name: 'Show' }).click();
      // The default period (four weeks) has the same total: wait for the chosen one's six days.
      await expect.poll(() => page.locator('svg.chart desc').textContent()).toContain('of 6 days');
      expect(await page.locator('[data-kpi="total"]').textContent()).toBe('4');
      expect(await page.locator('[data-kpi="cancellation_rate"]').textContent()).toBe(pct(summary.cancellation_rate));
      expect(await page.locator('[data-kpi="no_show_rate"]').textContent()).toBe(pct(summary.no_show_rate));
      for (const [s, n] of Object.entries(summary.bookings.by_status)) expect(await page.locator(`tr[data-status="${s}"] td`).textContent(), s).toBe(String(n));
      for (const u of summary.utilization.providers) expect(await page.locator(`tr[data-id="${u.provider_id}"] .pct`).textContent()).toBe(pct(u.utilization));
      expect(await page.locator(`tr[data-id="${c.weiss}"] th`).textContent()).toBe('Dr. Weiss');
      // The chart: one bar per day with bookings, and words for screen readers.
      const chart = page.getByRole('img', { name: 'Bookings per day' });
      expect(await chart.locator('rect.bar').count()).toBe(6); // every day of the period, also those without bookings
      const bars = await chart.locator('g > title').allTextContents();
      for (const d of summary.by_day) expect(bars).toContain(`${d.date}: ${d.total}`);
      expect(await chart.locator('desc').textContent()).toContain(`${summary.bookings.total} bookings on ${summary.by_day.length} of 6 days`);
      const rows = await page.locator('#per-day-table tbody tr').allTextContents();
      expect(rows).toEqual(summary.by_day.map((d) => `${d.date}${d.total}`));
      await page.screenshot({ path: SCREENSHOT.replace(/console\.png$/, 'console-dashboard.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });

  it('settings list services, providers\' weekly hours and members for an owner; a receptionist sees which lists their role may not read', async () => {
    const c = await clinic();
    const receptionist = await staff(e2e().db, c.tenant.id, 'receptionist', c.mitte);
    const owner = await signIn(c.owner.email);
    try {
      await owner.page.getByRole('link', { name: 'Settings' }).click();
      const providers = owner.page.getByRole('region', { name: 'Providers and hours' });
      await expect.poll(() => providers.locator('tbody tr').count()).toBe(2);
      expect(await providers.locator('tr', { hasText: 'Dr. Weiss' }).locator('td').allTextContents()).toEqual(['Mitte', 'Mon–Sun 08:00–18:00']);
      expect(await owner.page.getByRole('region', { name: 'Services' }).locator('tbody th').allTextContents()).toEqual(['Check-up']);
      const members = owner.page.getByRole('region', { name: 'Members' });
      await expect.poll(() => members.locator('tbody tr').count()).toBe(3); // the factory's owner, ours, the receptionist
      expect(await members.locator('tbody td').allTextContents()).toEqual(expect.arrayContaining(['owner', 'receptionist', 'Mitte']));
      await owner.page.screenshot({ path: SCREENSHOT.replace(/console\.png$/, 'console-settings.png'), fullPage: true });
    } finally {
      await owner.context.close();
    }
    const { page, context } = await signIn(receptionist.email);
    try {
      await page.getByRole('link', { name: 'Settings' }).click();
      await expect.poll(() => page.getByRole('region', { name: 'Webhooks' }).locator('.problem .code').textContent()).toBe('forbidden');
      expect(await page.getByRole('region', { name: 'Providers and hours' }).locator('tbody th').allTextContents()).toEqual(['Dr. Weiss']);
    } finally {
      await context.close();
    }
  });

  /** axe-core's serious and critical findings on the page as it is now. */
  async function seriousViolations(page: Page): Promise<string[]> {
    await page.addScriptTag({ path: AXE });
    type Axe = { run(context: unknown, options: unknown): Promise<{ violations: { id: string; impact: string | null; nodes: { target: string[] }[] }[] }> };
    const { violations } = await page.evaluate(() => {
      const g = globalThis as unknown as { axe: Axe; document: unknown };
      return g.axe.run(g.document, { resultTypes: ['violations'] });
    });
    return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }

  for (const colorScheme of ['light', 'dark'] as const) {
    it(`calendar with an open booking, new booking and dashboard have no serious or critical axe violations (${colorScheme} mode)`, async () => {
      const c = await clinic({ requiresApproval: true });
      const day = berlinDay(2);
      await publicBooking(c, berlin(day, '09:00'), 'Axe Person', c.weiss);
      // bypassCSP: axe is injected as an inline script, which the console's CSP (rightly) refuses.
      const { page, context } = await signIn(c.owner.email, { colorScheme, bypassCSP: true });
      try {
        await showDay(page, day);
        await page.locator('button.booking', { hasText: 'Axe Person' }).click();
        await page.locator('#detail').getByRole('button', { name: 'Approve' }).waitFor();
        expect(await seriousViolations(page), 'calendar').toEqual([]);
        await page.getByRole('link', { name: 'New booking' }).click();
        await page.getByLabel('Service').selectOption({ label: 'Check-up (30 min)' });
        await page.getByLabel('Day').fill(day);
        await page.getByRole('group', { name: /^Free times on/ }).waitFor();
        expect(await seriousViolations(page), 'new booking').toEqual([]);
        await page.getByRole('link', { name: 'Dashboard' }).click();
        await page.locator('[data-kpi="total"]').waitFor();
        expect(await seriousViolations(page), 'dashboard').toEqual([]);
      } finally {
        await context.close();
      }
    });
  }

  it('an expired access token is refreshed once and the call retried; signing out revokes the refresh token', async () => {
    const c = await clinic();
    const { page, context } = await signIn(c.owner.email);
    try {
      const before = JSON.parse((await page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(k: string): string } }).sessionStorage.getItem('slotbase.console.session')))) as { access_token: string; refresh_token: string };
      await page.evaluate(() => {
        const store = (globalThis as unknown as { sessionStorage: { getItem(k: string): string; setItem(k: string, v: string): void } }).sessionStorage;
        const s = JSON.parse(store.getItem('slotbase.console.session')) as { access_token: string };
        s.access_token = 'expired.or.forged';
        store.setItem('slotbase.console.session', JSON.stringify(s));
      });
      await page.reload();
      await page.getByRole('heading', { level: 1, name: 'Calendar' }).waitFor();
      await expect.poll(() => page.locator('.calendar-body').textContent()).toMatch(/\d+ bookings?\./);
      const after = JSON.parse((await page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(k: string): string } }).sessionStorage.getItem('slotbase.console.session')))) as { access_token: string; refresh_token: string };
      expect(after.refresh_token).not.toBe(before.refresh_token);
      expect(after.access_token).not.toBe('expired.or.forged');

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
      const reuse = await fetch(`${e2e().baseUrl}/v1/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: after.refresh_token }) });
      expect(reuse.status).toBe(401);
    } finally {
      await context.close();
    }
  });
});
