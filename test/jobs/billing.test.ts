import { describe, expect, it } from 'vitest';
import { useTestDb } from '../support/db.ts';
import { createTenant, type TenantFixture } from '../support/factories.ts';
import { stripeEvent, stripeIds, TEST_PRICES, TEST_STRIPE_ENV, type EventVars } from '../support/stripe-stand-in.ts';
import { drainJobs, jobsOf } from '../support/worker.ts';

/**
 * The stripe_event job on its own: events are stored the way the webhook stores them
 * (slotbase_private.record_stripe_event, here called by the test as setup), the job runs through
 * the real worker, and what a tenant sees is read as its owner (billing_overview).
 */

const env = { ...TEST_STRIPE_ENV, BILLING_GRACE_DAYS: '3' };
const now = () => Math.floor(Date.now() / 1000);

interface Overview {
  plan: string;
  status: string;
  subscription_status: string | null;
  stripe_customer_id: string | null;
  past_due_since: Date | null;
  grace_ends_at: Date | null;
}

describe('the stripe_event job', () => {
  const db = useTestDb();

  async function store(type: string, vars: EventVars): Promise<string> {
    const e = stripeEvent(type, vars);
    await db().query(`select slotbase_private.record_stripe_event($1, $2, to_timestamp($3), false, $4::text::jsonb)`, [
      e.id, e.event.type, e.event.created, e.payload,
    ]);
    return e.id;
  }

  const overview = async (t: TenantFixture) =>
    (await db().queryAs<Overview & Record<string, unknown>>(t.owner, 'select * from slotbase.billing_overview()'))[0]!;
  const outcomeOf = async (id: string) =>
    (await db().query<{ outcome: string | null }>('select outcome from slotbase_private.stripe_events where id = $1', [id]))[0]?.outcome;

  async function subscribed(price: string = TEST_PRICES.pro, created = now() - 100) {
    const t = await createTenant(db());
    const ids = stripeIds();
    await store('customer.subscription.updated', { tenantId: t.id, ...ids, price, status: 'active', created });
    await drainJobs(db(), { env });
    return { t, ...ids };
  }

  it('applies an event once: a duplicated job finds the event processed and changes nothing', async () => {
    const t = await createTenant(db());
    const ids = stripeIds();
    const id = await store('customer.subscription.updated', { tenantId: t.id, ...ids, price: TEST_PRICES.pro, status: 'active' });
    await drainJobs(db(), { env });
    expect(await overview(t)).toMatchObject({ plan: 'pro' });
    // Support moves the tenant by hand; then the same event's job runs again (retried or duplicated).
    await db().query(`update slotbase.tenants set plan = 'business' where id = $1`, [t.id]);
    await db().query(`select graphile_worker.add_job('stripe_event', json_build_object('event_id', $1::text))`, [id]);
    await drainJobs(db(), { env });
    expect(await overview(t)).toMatchObject({ plan: 'business' });
    expect(await jobsOf(db(), 'stripe_event')).toEqual([]);
  });

  it('the grace period is BILLING_GRACE_DAYS from the first failed payment, and a later failure does not extend it', async () => {
    const { t, customer, subscription } = await subscribed();
    const first = now() - 40;
    await store('invoice.payment_failed', { tenantId: t.id, customer, subscription, created: first });
    await store('invoice.payment_failed', { tenantId: t.id, customer, subscription, created: first + 20 });
    await drainJobs(db(), { env });
    const o = await overview(t);
    expect(o.past_due_since!.getTime()).toBe(first * 1000);
    expect(o.grace_ends_at!.getTime()).toBe((first + 3 * 86400) * 1000);
  });

  it('a subscription on a price that is no configured plan keeps the tenant\'s plan', async () => {
    const { t, customer, subscription } = await subscribed(TEST_PRICES.business);
    const id = await store('customer.subscription.updated', { tenantId: t.id, customer, subscription, price: 'price_SomethingElse', status: 'active' });
    await drainJobs(db(), { env });
    expect(await outcomeOf(id)).toBe('applied');
    expect(await overview(t)).toMatchObject({ plan: 'business', subscription_status: 'active' });
  });

  it('an event for no known tenant is recorded as unmatched and not retried', async () => {
    const id = await store('invoice.paid', { tenantId: '00000000-0000-4000-8000-000000000000', ...stripeIds() });
    await drainJobs(db(), { env });
    expect(await outcomeOf(id)).toBe('unmatched');
    expect(await jobsOf(db(), 'stripe_event')).toEqual([]);
  });

  it('a tenant found by its Stripe customer when the object carries no tenant id; other tenants are untouched', async () => {
    const a = await subscribed();
    const b = await subscribed();
    const e = stripeEvent('invoice.payment_failed', { tenantId: 'not-a-uuid', customer: a.customer, subscription: a.subscription });
    await db().query(`select slotbase_private.record_stripe_event($1, $2, now(), false, $3::text::jsonb)`, [e.id, 'invoice.payment_failed', e.payload]);
    await drainJobs(db(), { env });
    expect(await overview(a.t)).toMatchObject({ status: 'past_due' });
    expect(await overview(b.t)).toMatchObject({ status: 'active', past_due_since: null });
  });

  it('a tenant an operator suspended stays suspended through billing events (its plan still follows)', async () => {
    const { t, customer, subscription } = await subscribed();
    await db().query(`update slotbase.tenants set status = 'suspended' where id = $1`, [t.id]);
    await store('customer.subscription.updated', { tenantId: t.id, customer, subscription, price: TEST_PRICES.business, status: 'active' });
    await drainJobs(db(), { env });
    expect(await overview(t)).toMatchObject({ status: 'suspended', plan: 'business' });
  });

  it('checkout.session.completed of a payment (not a subscription) is ignored by billing', async () => {
    const t = await createTenant(db());
    const e = stripeEvent('checkout.session.completed', { tenantId: t.id, ...stripeIds() });
    const payload = e.payload.replace('"mode": "subscription"', '"mode": "payment"');
    await db().query(`select slotbase_private.record_stripe_event($1, $2, now(), false, $3::text::jsonb)`, [e.id, 'checkout.session.completed', payload]);
    await drainJobs(db(), { env });
    expect(await outcomeOf(e.id)).toBe('ignored');
    expect(await overview(t)).toMatchObject({ stripe_customer_id: null });
  });
});
