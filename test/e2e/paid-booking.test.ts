import { beforeAll, describe, expect, it } from 'vitest';
import { addDailyRules, createLocation, createProvider, createService, createTenant, linkProvider, type TenantFixture } from '../support/factories.ts';
import { useE2e } from '../support/browser.ts';
import { useStripeStandIn } from '../support/stripe-stand-in.ts';

const dayFromNow = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

describe('paying for a priced service on the booking page (Stripe Checkout through the local stand-in)', () => {
  const stripe = useStripeStandIn();
  const e2e = useE2e({ stripe: stripe.billing });
  let tenant: TenantFixture;
  let serviceSlug: string;

  beforeAll(async () => {
    const { db } = e2e();
    // The deployment collects booking payments (setup as the database owner, as an operator would).
    await db.query('update slotbase_private.billing_settings set collect_booking_payments = true');
    tenant = await createTenant(db, { name: 'Paid Clinic', timeZone: 'Europe/Berlin' });
    const location = await createLocation(db, tenant.id, { timeZone: 'Europe/Berlin' });
    const service = await createService(db, tenant.id, { durationMinutes: 60, maxAdvanceDays: 365 });
    await db.query(`update slotbase.services set name = 'Massage', price_cents = 6000, currency = 'EUR' where tenant_id = $1 and id = $2`, [tenant.id, service.id]);
    serviceSlug = service.slug;
    const provider = await createProvider(db, tenant.id, { locationId: location.id });
    await linkProvider(db, tenant.id, service.id, provider.id);
    await addDailyRules(db, tenant.id, { providerId: provider.id }, location.id, '09:00', '12:00');
  });

  it('booking holds the time and sends the booker to Checkout; coming back shows the booking with "Pay now" while it is unpaid', async () => {
    const context = await e2e().browser.newContext({ timezoneId: 'Europe/Berlin', locale: 'en-GB' });
    // Checkout is Stripe's page: here a stand-in answers for its host, so no request leaves the machine.
    await context.route('https://checkout.stripe.test/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<title>Checkout</title><h1>Stripe Checkout (stand-in)</h1>' }));
    try {
      const page = await context.newPage();
      await page.goto(`${e2e().baseUrl}/b/${tenant.slug}/${serviceSlug}`);
      await page.getByLabel('Date').fill(dayFromNow(4));
      await page.locator('button.slot').first().click();
      await page.getByLabel('Your name').fill('Paying Patient');
      await page.getByLabel('Email').fill('pay@example.test');
      const before = stripe.standIn().requests.length;
      await page.getByRole('button', { name: 'Book', exact: true }).click();
      await page.waitForURL(/^https:\/\/checkout\.stripe\.test\//, { timeout: 10_000 });

      const [session] = stripe.standIn().requests.slice(before).filter((r) => r.path === '/v1/checkout/sessions');
      expect(session?.form).toMatchObject({ mode: 'payment', 'line_items[0][price_data][unit_amount]': '6000' });
      const bookingId = session!.form['metadata[booking_id]']!;
      const [held] = await e2e().db.queryAs<{ status: string; code: string }>(tenant.owner, 'select status, code from slotbase.bookings where id = $1', [bookingId]);
      expect(held?.status).toBe('held');

      // Stripe sends the booker back to success_url: the manage page, token included.
      const successUrl = session!.form.success_url!;
      expect(successUrl).toContain(`/b/manage/${held!.code}?token=`);
      await page.goto(successUrl);
      await expect.poll(() => page.locator('.notice').textContent(), { timeout: 10_000 }).toMatch(/Payment received/);
      expect(await page.locator('dd.status').textContent()).toBe('held');
      expect(await page.getByRole('button', { name: 'Pay now' }).count()).toBe(1);
    } finally {
      await context.close();
    }
  });
});
