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
 * unmatched, paid_too_late. Checkout sessions in payment mode are paid bookings
 * (20261123180200_paid_bookings.sql): completed confirms the hold, expired releases it.
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
  async function applyBookingPayment(tx: TransactionSql, eventId: string, type: string, object: Obj): Promise<string> {
    const metadata = obj(object.metadata);
    const bookingId = str(metadata.booking_id);
    const sessionId = str(object.id);
    if (!bookingId || !sessionId || !UUID.test(bookingId)) return 'ignored';
    const paid = type === 'checkout.session.completed';
    // Delayed payment methods complete the session unpaid; their async events are not handled.
    if (paid && object.payment_status !== 'paid') return 'ignored';
    const [row] = await tx<{ outcome: string }[]>`
      select slotbase_private.apply_booking_payment(slotbase_private.tenant_of_stripe(${str(metadata.tenant_id)}, null), ${bookingId}::uuid, ${sessionId}, ${paid}) as outcome`;
    const outcome = row?.outcome ?? 'unmatched';
    const paymentIntent = idOf(object.payment_intent);
    if (outcome === 'paid_too_late' && paymentIntent) {
      if (!config.STRIPE_SECRET_KEY) throw new Error('a booking was paid after its hold expired, but Stripe is not configured to refund it');
      const stripe = createStripeClient(config.STRIPE_SECRET_KEY, { apiUrl: config.STRIPE_API_URL });
      await stripe.refunds.create(
        { payment_intent: paymentIntent, reason: 'requested_by_customer', metadata: { booking_id: bookingId, reason: 'hold_expired' } },
        { idempotencyKey: `slotbase:refund:${sessionId}` },
      );
      logger.info({ event: eventId, booking: bookingId }, 'booking paid after its hold expired: refunded');
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
      let outcome = 'ignored';

      switch (event.type) {
        case 'checkout.session.completed':
        case 'checkout.session.expired': {
          if (object.mode === 'payment') {
            outcome = await applyBookingPayment(tx, event.id, event.type, object);
            break;
          }
          if (object.mode !== 'subscription' || event.type !== 'checkout.session.completed') break;
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
      }
      if (outcome === 'unmatched') logger.warn({ event: event.id, type: event.type }, 'Stripe event matches no tenant');
      await tx`select slotbase_private.finish_stripe_event(${event.id}, ${outcome})`;
    });
  };
});
