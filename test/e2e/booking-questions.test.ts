import { beforeAll, describe, expect, it } from 'vitest';
import { addDailyRules, createLocation, createProvider, createService, createTenant, linkProvider, type TenantFixture } from '../support/factories.ts';
import { useE2e } from '../support/browser.ts';

/**
 * The booking page renders a service's questions as native controls, shows the server's answer
 * errors at the question, and books with the answers; it obtains a device token bound to a key it
 * generates (WebCrypto, non-extractable, in IndexedDB) on its own, which a `strict` anti-scalping
 * service requires.
 */

const dayFromNow = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

interface StoredDevice {
  extractable: boolean;
  algorithm: string;
  token: string | null;
}

describe('booking questions and the bound device token on the booking page', () => {
  const e2e = useE2e();
  let tenant: TenantFixture;
  let serviceSlug: string;
  const q: Record<'reason' | 'insurer' | 'topics' | 'consent', string> = { reason: '', insurer: '', topics: '', consent: '' };

  beforeAll(async () => {
    const { db } = e2e();
    tenant = await createTenant(db, { name: 'Sunrise Clinic', timeZone: 'Europe/Berlin' });
    const location = await createLocation(db, tenant.id, { name: 'Mitte', timeZone: 'Europe/Berlin' });
    const service = await createService(db, tenant.id, { durationMinutes: 30, maxAdvanceDays: 365 });
    serviceSlug = service.slug;
    const providerId = (await createProvider(db, tenant.id, { name: 'Dr. Weiss', locationId: location.id })).id;
    await linkProvider(db, tenant.id, service.id, providerId);
    await addDailyRules(db, tenant.id, { providerId }, location.id, '09:00', '12:00');
    // Fixture: strict anti-scalping (the setting of the scheduling-rules migration).
    await db.query(`update slotbase.services set anti_scalping = 'strict' where id = $1`, [service.id]);
    const add = async (fields: Record<string, unknown>) => {
      const [row] = await db.queryAs<{ id: string }>(tenant.owner,
        `insert into slotbase.service_questions (tenant_id, service_id, position, kind, label, help_text, is_required, max_length, options)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id`,
        [tenant.id, service.id, fields.position, fields.kind, fields.label, fields.help_text ?? null, fields.is_required ?? false, fields.max_length ?? null, fields.options ?? null]);
      return row!.id;
    };
    q.reason = await add({ position: 0, kind: 'text', label: 'Reason for the visit', help_text: 'A few words are enough', is_required: true, max_length: 100 });
    q.insurer = await add({ position: 1, kind: 'single_choice', label: 'Insurance', options: ['Public', 'Private'], is_required: true });
    q.topics = await add({ position: 2, kind: 'multiple_choice', label: 'Topics', options: ['Teeth', 'Gums', 'Braces'] });
    q.consent = await add({ position: 3, kind: 'checkbox', label: 'I accept the cancellation policy', is_required: true });
  });

  it('asks the questions, marks a missing required answer at its question, and books with the answers and a bound device token', async () => {
    const context = await e2e().browser.newContext({ timezoneId: 'Europe/Berlin', locale: 'en-GB' });
    const page = await context.newPage();
    try {
      await page.goto(`${e2e().baseUrl}/b/${tenant.slug}/${serviceSlug}`);
      await page.getByLabel('Date').fill(dayFromNow(4));
      await page.locator('button.slot').first().click();
      await page.getByLabel('Your name').fill('Ada Lovelace');
      await page.getByLabel('Email').fill('ada@example.test');
      // Rendered as native controls with their labels and help text.
      const reason = page.getByLabel('Reason for the visit');
      expect(await reason.getAttribute('maxlength')).toBe('100');
      expect(await page.locator(`#q-${q.reason}-help`).textContent()).toBe('A few words are enough');
      await expect.poll(() => page.getByRole('group', { name: 'Topics (optional)' }).count()).toBe(1);
      await page.getByLabel('Private').check();
      await page.getByLabel('Gums').check();
      await page.getByLabel('I accept the cancellation policy').check();

      // The required text is left empty: the server's 422 is shown at that question, focus goes there.
      await page.getByRole('button', { name: 'Book' }).click();
      await expect.poll(() => reason.getAttribute('aria-invalid')).toBe('true');
      expect(await page.locator(`#q-${q.reason}-error`).textContent()).toBe('an answer is required');
      await expect.poll(() => page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document.activeElement?.id)).toBe(`q-${q.reason}`);

      await reason.fill('Toothache');
      await page.getByRole('button', { name: 'Book' }).click();
      const confirmation = page.locator('.confirmation');
      await confirmation.waitFor();
      const code = (await confirmation.locator('.code').textContent())!;

      const [row] = await e2e().db.queryAs<{ answers: { question_id: string; value: unknown }[]; device_hash: string | null }>(tenant.owner,
        'select answers, device_hash from slotbase.bookings where code = $1', [code]);
      expect(row!.answers.map((a) => [a.question_id, a.value])).toEqual([
        [q.reason, 'Toothache'], [q.insurer, 'Private'], [q.topics, ['Gums']], [q.consent, true],
      ]);
      // The strict service took it, so the page sent an issued token with a valid proof.
      expect(row!.device_hash).toMatch(/^[0-9a-f]{64}$/);

      // The key behind it stays in this browser: the private key cannot be exported.
      const stored = await page.evaluate((slug) => new Promise<StoredDevice>((resolve, reject) => {
        const g = globalThis as unknown as { indexedDB: { open(name: string): { onsuccess: (() => void) | null; onerror: (() => void) | null; result: { transaction(s: string): { objectStore(s: string): { get(k: string): { onsuccess: (() => void) | null; result: { keys: { privateKey: { extractable: boolean; algorithm: { name: string } } }; token: string | null } } } } } } } };
        const open = g.indexedDB.open('slotbase');
        open.onerror = () => reject(new Error('no database'));
        open.onsuccess = () => {
          const get = open.result.transaction('device').objectStore('device').get(slug);
          get.onsuccess = () => resolve({ extractable: get.result.keys.privateKey.extractable, algorithm: get.result.keys.privateKey.algorithm.name, token: get.result.token });
        };
      }), tenant.slug);
      expect(stored).toMatchObject({ extractable: false, algorithm: 'ECDSA' });
      expect(stored.token).toMatch(/^sbdt_/);
      const { createHash } = await import('node:crypto');
      expect(createHash('sha256').update(stored.token!).digest('hex')).toBe(row!.device_hash);
    } finally {
      await context.close();
    }
  });
});
