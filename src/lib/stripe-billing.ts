/**
 * What the HTTP app needs of Stripe, without importing the `stripe` package: the app also runs as
 * a Supabase Edge Function (Deno), whose import map has no `stripe`. Node builds the real client in
 * src/lib/stripe.ts; any object with these methods (a real `Stripe` instance) fits.
 */

export const PAID_PLANS = ['pro', 'business'] as const;
export type PaidPlan = (typeof PAID_PLANS)[number];

/** Event types the webhook stores and the stripe_event job applies; any other type is answered 200 and dropped. */
export const HANDLED_EVENT_TYPES = new Set([
  'checkout.session.completed',
  'checkout.session.expired',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'invoice.paid',
  'invoice.payment_failed',
  'refund.updated',
  'refund.failed',
]);

type Metadata = Record<string, string>;

export interface CheckoutSessionParams {
  mode: 'subscription' | 'payment';
  line_items: {
    quantity: number;
    price?: string;
    price_data?: { currency: string; unit_amount: number; product_data: { name: string } };
  }[];
  client_reference_id?: string;
  metadata?: Metadata;
  subscription_data?: { metadata?: Metadata };
  payment_intent_data?: { metadata?: Metadata };
  customer?: string;
  customer_email?: string;
  expires_at?: number;
  /** Text Checkout shows next to the pay button (the cancellation policy of a paid booking). */
  custom_text?: { submit?: { message: string } };
  success_url: string;
  cancel_url: string;
}

/** Per-request options: an idempotency key, and the connected account to act on (the Stripe-Account header). */
export interface StripeRequestOptions {
  idempotencyKey?: string;
  stripeAccount?: string;
}

/** The slice of the Stripe client Slotbase's HTTP API calls. */
export interface StripeClient {
  checkout: {
    sessions: {
      create(params: CheckoutSessionParams, options?: StripeRequestOptions): Promise<{ id: string; url: string | null }>;
    };
  };
  accounts: {
    /** A connected account, as the platform sees it (Stripe answers 403/404 for accounts not connected to it). */
    retrieve(id: string): Promise<{ id: string; metadata?: Record<string, string> | null }>;
  };
  billingPortal: {
    sessions: {
      create(params: { customer: string; return_url: string }, options?: { idempotencyKey?: string }): Promise<{ id: string; url: string }>;
    };
  };
  webhooks: {
    constructEvent(payload: string, header: string, secret: string): { id: string; type: string; created: number; livemode: boolean };
  };
}

export interface StripeBilling {
  client: StripeClient;
  webhookSecret: string;
  /** The signing secret of the Connect webhook endpoint (events from connected accounts), if there is one. */
  connectWebhookSecret?: string | undefined;
  /** The Stripe price id of each paid plan (STRIPE_PRICE_PRO, STRIPE_PRICE_BUSINESS). */
  prices: Record<PaidPlan, string>;
}

/** A Stripe error, known by its `type` (StripeConnectionError, StripeAPIError, …) without the package. */
export function stripeErrorOf(error: unknown): { type: string; statusCode?: number; requestId?: string } | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { type?: unknown; statusCode?: unknown; requestId?: unknown };
  if (typeof e.type !== 'string' || !e.type.startsWith('Stripe')) return undefined;
  return {
    type: e.type,
    ...(typeof e.statusCode === 'number' ? { statusCode: e.statusCode } : {}),
    ...(typeof e.requestId === 'string' ? { requestId: e.requestId } : {}),
  };
}
