import { z } from 'zod';
import { defineTask } from '#src/jobs/deps.ts';
import type { TransactionSql } from 'postgres';
import { createStripeClient, planOfPrice } from '#src/lib/stripe.ts';

/**
 * Applies one stored Stripe webhook event (slotbase_private.stripe_events, queued by
 * record_stripe_event with job_key stripe_event:<id>). The event row is locked and re-read: an
 * event already processed does nothing, so a duplicated job never applies twice. The state write
 * itself (apply_stripe_billing) is guarded by the event's `created` time, so events applied out of
 * order never roll a tenant's subscription back. Outcome per event: applied, stale, ignored,
 * unmatched, paid_too_late, paid_twice. Checkout sessions in payment mode are paid bookings
 * (20261123180200_paid_bookings.sql): completed confirms the hold, expired releases it.
 *
 * Events from a connected account (Stripe Connect) carry `account`. They are matched only to the
 * Checkout session or refund Slotbase recorded on that same account (the tenant is the recorded
 * one, never the event's metadata), and subscription or invoice events from a connected account
 * never touch the platform's billing (a tenant's own customers' subscriptions are not its plan).
 *
 * Reads only what the pinned API version (src/lib/stripe.ts) sends, with fallbacks for the older
 * shapes (subscription on the invoice, period end on the subscription).
 */

const Payload = z.object({ event_id: z.string().regex(/^evt_/) });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
/** An expandable Stripe field: the id, or the expanded object's id. */
const idOf = (v: unknown): string | null => str(v) ?? str(obj(v).id);
const seconds = (v: unknown): Date | null => (typeof v === 'number' && Number.isFinite(v) ? new Date(v * 1000) : null);

export default defineTask(({ sql, config, logger }) => {
  /**
   * A paid booking's Checkout (metadata booking_id): completed and paid confirms the hold,
   * expired releases it. Paid after the hold had expired, the booking is not revived and the
   * payment is refunded (idempotency key per session, so a retried job refunds once).
   */
  async function applyBookingPayment(tx: TransactionSql, eventId: string, type: string, object: Obj, account: string | null): Promise<string> {
    const metadata = obj(object.metadata);
    const bookingId = str(metadata.booking_id);
    const sessionId = str(object.id);
    if (!bookingId || !sessionId || !UUID.test(bookingId)) return 'ignored';
    const paid = type === 'checkout.session.completed';
    // Delayed payment methods complete the session unpaid; their async events are not handled.
    if (paid && object.payment_status !== 'paid') return 'ignored';
    const paymentIntent = idOf(object.payment_intent);
    // The session must be one we opened for this booking on this account (null: the platform's).
    const [row] = await tx<{ outcome: string; stripe_account: string | null }[]>`
      select outcome, stripe_account from slotbase_private.apply_booking_payment(${bookingId}::uuid, ${sessionId}, ${paid}, ${paymentIntent}, ${account})`;
    const outcome = row?.outcome ?? 'unmatched';
    if ((outcome === 'paid_too_late' || outcome === 'paid_twice') && paymentIntent) {
      if (!config.STRIPE_SECRET_KEY) throw new Error('a booking payment needs a refund, but Stripe is not configured to refund it');
      const stripe = createStripeClient(config.STRIPE_SECRET_KEY, { apiUrl: config.STRIPE_API_URL });
      const reason = outcome === 'paid_twice' ? 'paid_twice' : 'hold_expired';
      await stripe.refunds.create(
        { payment_intent: paymentIntent, reason: outcome === 'paid_twice' ? 'duplicate' : 'requested_by_customer', metadata: { booking_id: bookingId, reason } },
        { idempotencyKey: `slotbase:refund:${sessionId}`, ...(row?.stripe_account ? { stripeAccount: row.stripe_account } : {}) },
      );
      logger.info({ event: eventId, booking: bookingId, reason }, 'booking payment refunded');
    }
    return outcome;
  }

  return async (payload) => {
    const { event_id } = Payload.parse(payload);
    const grace = `${config.BILLING_GRACE_DAYS} days`;
    await sql.begin(async (tx) => {
      const [event] = await tx<{ id: string; type: string; created: Date; payload: Obj; processed_at: Date | null }[]>`
        select id, type, created, payload, processed_at from slotbase_private.stripe_events where id = ${event_id} for update`;
      if (!event || event.processed_at) return;
      const object = obj(obj(event.payload.data).object);
      const metadata = obj(object.metadata);
      // Set on events from a connected account (Stripe Connect); Stripe signs it with the event.
      const account = str(event.payload.account);
      let outcome = 'ignored';

      switch (event.type) {
        case 'checkout.session.completed':
        case 'checkout.session.expired': {
          if (object.mode === 'payment') {
            outcome = await applyBookingPayment(tx, event.id, event.type, object, account);
            break;
          }
          if (account || object.mode !== 'subscription' || event.type !== 'checkout.session.completed') break;
          const [row] = await tx<{ outcome: string }[]>`
            select slotbase_private.link_stripe_customer(
              slotbase_private.tenant_of_stripe(${str(object.client_reference_id) ?? str(metadata.tenant_id)}, ${idOf(object.customer)}),
              ${idOf(object.customer)}, ${idOf(object.subscription)}) as outcome`;
          outcome = row?.outcome ?? 'unmatched';
          break;
        }
        case 'customer.subscription.created':
        case 'customer.subscription.updated':
        case 'customer.subscription.deleted': {
          if (account) break;
          const item = obj((obj(object.items).data as unknown[] | undefined)?.[0]);
          const price = idOf(item.price);
          const plan = planOfPrice(config, price);
          if (!plan && price) logger.warn({ event: event.id, price }, 'subscription price is not a configured plan (STRIPE_PRICE_PRO/BUSINESS): plan unchanged');
          const status = event.type === 'customer.subscription.deleted' ? 'canceled' : str(object.status);
          const customer = idOf(object.customer);
          const [row] = await tx<{ outcome: string }[]>`
            select slotbase_private.apply_stripe_billing(
              slotbase_private.tenant_of_stripe(${str(metadata.tenant_id)}, ${customer}),
              ${event.created}, ${customer}, ${str(object.id)}, ${status}, ${price}, ${plan ?? null},
              ${seconds(item.current_period_end) ?? seconds(object.current_period_end)},
              ${typeof object.cancel_at_period_end === 'boolean' ? object.cancel_at_period_end : null},
              ${grace}::interval) as outcome`;
          outcome = row?.outcome ?? 'unmatched';
          break;
        }
        case 'invoice.paid':
        case 'invoice.payment_failed': {
          if (account) break;
          const details = obj(obj(object.parent).subscription_details);
          const subscription = idOf(details.subscription) ?? idOf(object.subscription);
          // A one-off invoice (no subscription) says nothing about the plan.
          if (!subscription) break;
          const customer = idOf(object.customer);
          const status = event.type === 'invoice.paid' ? 'active' : 'past_due';
          const [row] = await tx<{ outcome: string }[]>`
            select slotbase_private.apply_stripe_billing(
              slotbase_private.tenant_of_stripe(${str(obj(details.metadata).tenant_id)}, ${customer}),
              ${event.created}, ${customer}, ${subscription}, ${status}, null, null, null, null, ${grace}::interval) as outcome`;
          outcome = row?.outcome ?? 'unmatched';
          break;
        }
        case 'refund.updated':
        case 'refund.failed': {
          // A booking refund's later status (pending → succeeded, or failed), from the account it was made on.
          const refundId = str(object.id);
          if (!refundId) break;
          const [row] = await tx<{ outcome: string }[]>`
            select slotbase_private.apply_refund_update(${account}, ${refundId}, ${str(object.status)}, ${event.created}) as outcome`;
          outcome = row?.outcome ?? 'unmatched';
          break;
        }
      }
      if (outcome === 'unmatched') logger.warn({ event: event.id, type: event.type }, 'Stripe event matches no tenant');
      await tx`select slotbase_private.finish_stripe_event(${event.id}, ${outcome})`;
    });
  };
});
