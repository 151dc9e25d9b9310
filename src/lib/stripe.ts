import Stripe from 'stripe';
import type { Config } from '#src/config.ts';
import type { PaidPlan, StripeBilling } from './stripe-billing.ts';

/**
 * Stripe, as Slotbase uses it on Node: one client with the API version pinned, the webhook signing
 * secret, and which Stripe price is which paid plan. Built from the configuration at boot; when
 * Stripe is not configured there is none and the billing routes answer 501. (The HTTP app only
 * sees the slice in stripe-billing.ts, so it also runs where the `stripe` package is absent.)
 */

/**
 * The API version every request and every webhook payload we parse is written against: the one
 * this `stripe` package (23.x) describes. Set the webhook endpoint in the Stripe dashboard to the
 * same version. Changing it is a code change (read Stripe's upgrade notes first).
 */
export const STRIPE_API_VERSION = '2026-10-28.endive' as const;

export { HANDLED_EVENT_TYPES, PAID_PLANS, type PaidPlan, type StripeBilling } from './stripe-billing.ts';

export interface StripeClientOptions {
  /** Another API host (a local stand-in, stripe-mock), e.g. http://127.0.0.1:12111. */
  apiUrl?: string | undefined;
  maxNetworkRetries?: number;
  timeoutMs?: number;
}

/** A Stripe client with the pinned API version, pointed at api.stripe.com or at `apiUrl`. */
export function createStripeClient(secretKey: string, options: StripeClientOptions = {}): Stripe {
  const url = options.apiUrl ? new URL(options.apiUrl) : undefined;
  return new Stripe(secretKey, {
    apiVersion: STRIPE_API_VERSION,
    // Retries are safe: every create carries an idempotency key.
    maxNetworkRetries: options.maxNetworkRetries ?? 2,
    timeout: options.timeoutMs ?? 20_000,
    telemetry: false,
    appInfo: { name: 'Slotbase', url: 'https://github.com/slotbase/slotbase' },
    ...(url
      ? {
          host: url.hostname,
          port: url.port || (url.protocol === 'https:' ? 443 : 80),
          protocol: url.protocol === 'http:' ? ('http' as const) : ('https' as const),
        }
      : {}),
  });
}

/** Billing from the configuration, or undefined when Stripe is not configured (loadConfig guarantees all or none). */
export function stripeBillingFromConfig(config: Config): StripeBilling | undefined {
  const { STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, STRIPE_PRICE_PRO, STRIPE_PRICE_BUSINESS } = config;
  if (!STRIPE_SECRET_KEY || !STRIPE_WEBHOOK_SECRET || !STRIPE_PRICE_PRO || !STRIPE_PRICE_BUSINESS) return undefined;
  return {
    client: createStripeClient(STRIPE_SECRET_KEY, { apiUrl: config.STRIPE_API_URL }),
    webhookSecret: STRIPE_WEBHOOK_SECRET,
    connectWebhookSecret: config.STRIPE_CONNECT_WEBHOOK_SECRET,
    prices: { pro: STRIPE_PRICE_PRO, business: STRIPE_PRICE_BUSINESS },
  };
}

/** The plan a Stripe price stands for, from the configuration; undefined for a price we do not know. */
export function planOfPrice(config: Pick<Config, 'STRIPE_PRICE_PRO' | 'STRIPE_PRICE_BUSINESS'>, priceId: string | null | undefined): PaidPlan | undefined {
  if (!priceId) return undefined;
  if (priceId === config.STRIPE_PRICE_PRO) return 'pro';
  if (priceId === config.STRIPE_PRICE_BUSINESS) return 'business';
  return undefined;
}
