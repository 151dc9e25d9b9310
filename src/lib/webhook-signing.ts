import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com/): the signed content is
 * `<webhook-id>.<webhook-timestamp>.<body>`, the key is the base64-decoded part of the
 * `whsec_` secret, the signature is `v1,<base64 HMAC-SHA256>`.
 */

export const WEBHOOK_SECRET_PATTERN = /^whsec_[A-Za-z0-9+/]+={0,2}$/;

export interface WebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

function keyOf(secret: string): Buffer {
  if (!WEBHOOK_SECRET_PATTERN.test(secret)) throw new Error('a webhook secret looks like whsec_<base64>');
  return Buffer.from(secret.slice('whsec_'.length), 'base64');
}

/** The base64 HMAC-SHA256 of `<id>.<timestamp>.<body>` under the secret's key. */
export function webhookSignature(secret: string, id: string, timestampSeconds: number, body: string): string {
  return createHmac('sha256', keyOf(secret)).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
}

/** The three headers of a signed message (timestamp in Unix seconds). */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): WebhookHeaders {
  if (!Number.isInteger(timestampSeconds) || timestampSeconds < 0) throw new Error('the timestamp is whole Unix seconds');
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': `v1,${webhookSignature(secret, id, timestampSeconds, body)}`,
  };
}

/**
 * Receiver side, without the standardwebhooks package: true when one of the space-separated
 * `v1,` signatures matches and the timestamp is within `toleranceSeconds` of `nowSeconds`.
 */
export function verifyWebhook(
  secret: string,
  headers: WebhookHeaders,
  body: string,
  options: { nowSeconds?: number; toleranceSeconds?: number } = {},
): boolean {
  const timestamp = Number(headers['webhook-timestamp']);
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (!/^\d+$/.test(headers['webhook-timestamp']) || Math.abs(now - timestamp) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(webhookSignature(secret, headers['webhook-id'], timestamp, body), 'base64');
  return headers['webhook-signature'].split(' ').some((part) => {
    const [version, signature] = part.split(',', 2);
    if (version !== 'v1' || !signature) return false;
    const given = Buffer.from(signature, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
