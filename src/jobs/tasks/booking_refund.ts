import { defineTask } from '#src/jobs/deps.ts';
import { BookingPayload } from '#src/jobs/payloads.ts';
import { stripeErrorOf } from '#src/lib/stripe-billing.ts';
import { createStripeClient } from '#src/lib/stripe.ts';

/**
 * Refunds a cancelled or rejected paid booking (job_key refund:<booking>, queued by the
 * _410_refund trigger in the cancelling transaction). The amount was decided there
 * (slotbase_private.booking_refunds); this task only executes it:
 *
 * - the row is locked and re-read: a refund that already has a Stripe refund id (or nothing to
 *   refund) does nothing, so a retried or duplicated job never refunds twice;
 * - the Stripe call carries the idempotency key slotbase:booking-refund:<booking>, so a job that
 *   died after Stripe accepted the refund and before the id was stored gets the same refund back
 *   (Stripe keeps keys for at least 24 hours; the job retries much sooner);
 * - a payment taken on a tenant's connected account is refunded there (Stripe-Account header).
 *
 * Stripe refusing the refund (a 4xx: already refunded in the dashboard, disputed, …) is final: it
 * is recorded `failed` with Stripe's error code and not retried. Network errors and 5xx retry.
 */
export default defineTask(({ sql, config, logger }) => async (payload) => {
  const { tenant_id, booking_id } = BookingPayload.parse(payload);
  await sql.begin(async (tx) => {
    const [refund] = await tx<{
      payment_intent_id: string | null; stripe_account: string | null; amount_cents: number; currency: string;
      basis: string; status: string; stripe_refund_id: string | null;
    }[]>`
      select r.payment_intent_id, r.stripe_account, r.amount_cents, r.currency, r.basis, r.status, r.stripe_refund_id
      from slotbase_private.booking_refunds as r
      where r.tenant_id = ${tenant_id} and r.booking_id = ${booking_id}
      for update`;
    if (!refund || refund.status !== 'queued' || refund.stripe_refund_id) {
      logger.info({ booking: booking_id, status: refund?.status ?? 'none' }, 'booking refund: nothing to do');
      return;
    }
    if (!refund.payment_intent_id) {
      await tx`select slotbase_private.record_booking_refund(${tenant_id}, ${booking_id}, null, 'failed', 'no_payment_intent')`;
      logger.error({ booking: booking_id }, 'booking refund: the payment has no payment intent on record; refund it in the Stripe dashboard');
      return;
    }
    if (!config.STRIPE_SECRET_KEY) throw new Error('a booking refund is queued, but Stripe is not configured');
    const stripe = createStripeClient(config.STRIPE_SECRET_KEY, { apiUrl: config.STRIPE_API_URL });
    try {
      const result = await stripe.refunds.create(
        {
          payment_intent: refund.payment_intent_id,
          amount: refund.amount_cents,
          reason: 'requested_by_customer',
          metadata: { booking_id, tenant_id, basis: refund.basis },
        },
        {
          idempotencyKey: `slotbase:booking-refund:${booking_id}`,
          ...(refund.stripe_account ? { stripeAccount: refund.stripe_account } : {}),
        },
      );
      await tx`select slotbase_private.record_booking_refund(${tenant_id}, ${booking_id}, ${result.id}, ${result.status ?? 'pending'}, null)`;
      logger.info({ booking: booking_id, refund: result.id, amount: refund.amount_cents, basis: refund.basis }, 'booking refunded');
    } catch (error) {
      const stripeError = stripeErrorOf(error);
      const final = stripeError && stripeError.type !== 'StripeConnectionError' && (stripeError.statusCode ?? 500) < 500 && stripeError.statusCode !== 429;
      if (!final) throw error;
      const code = (error as { code?: unknown }).code;
      await tx`select slotbase_private.record_booking_refund(${tenant_id}, ${booking_id}, null, 'failed', ${typeof code === 'string' ? code : stripeError.type})`;
      logger.error({ err: error, booking: booking_id }, 'booking refund refused by Stripe; recorded as failed');
    }
  });
});
