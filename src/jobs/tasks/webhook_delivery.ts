import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { defineTask } from '#src/jobs/deps.ts';
import { signWebhook } from '#src/lib/webhook-signing.ts';

/**
 * One attempt of one webhook delivery (job key webhook:<delivery>; added by the booking_events
 * trigger, send_test_webhook, redeliver_webhook, and by this task for its own retries).
 *
 * Re-reads the delivery and its endpoint: nothing to do when the delivery is gone (its endpoint
 * was deleted) or already succeeded; a disabled endpoint ends the delivery as failed. Otherwise
 * POSTs the stored payload bytes, signed per Standard Webhooks with a fresh timestamp, never
 * following redirects, within WEBHOOK_TIMEOUT_MS; and records the outcome with
 * record_webhook_attempt, which in the same transaction schedules the retry (when this was not
 * the last of WEBHOOK_MAX_ATTEMPTS) and disables the endpoint after
 * WEBHOOK_DISABLE_AFTER_FAILURES consecutive failed attempts. A receiver's failure never throws:
 * the job succeeds and the retry is a new job, so graphile-worker's own retries are only for
 * database trouble.
 */

const Payload = z.object({
  tenant_id: z.uuid(),
  delivery_id: z.uuid(),
  /** Attempt number within this round (1 for a new message or a redelivery). */
  attempt: z.number().int().min(1).default(1),
});

export const USER_AGENT = 'Slotbase-Webhooks/1';
const EXCERPT_BYTES = 1024;

/** Backoff before attempt `attempt + 1`: base × 2^(attempt−1), plus up to 20 % jitter. */
export function retryDelayMs(baseMs: number, attempt: number, random: () => number = Math.random): number {
  const exponential = baseMs * 2 ** (attempt - 1);
  return Math.round(exponential + exponential * 0.2 * random());
}

/** Up to 1 KiB of the response body (a multi-byte character is never split), then the stream is dropped. */
async function readExcerpt(response: Response): Promise<string | null> {
  if (!response.body) return null;
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < EXCERPT_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const bytes = Buffer.concat(chunks).subarray(0, EXCERPT_BYTES);
  // stream: true holds back a trailing partial character instead of emitting U+FFFD.
  const text = new TextDecoder('utf-8').decode(bytes, { stream: true }).replaceAll('\u0000', '');
  return text === '' ? null : text;
}

/** A short, stable description of why there was no usable answer. */
function describeError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `timeout after ${timeoutMs} ms`;
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message;
    return detail ? `${error.message}: ${detail}` : error.message;
  }
  return String(error);
}

interface DeliveryRow {
  status: 'pending' | 'succeeded' | 'failed';
  message_id: string;
  body: string;
  url: string;
  is_enabled: boolean;
  disabled_reason: string | null;
  secret: string | null;
}

export default defineTask(({ sql, config, logger, webhookFetch: fetch }) => async (raw) => {
  const { tenant_id, delivery_id, attempt } = Payload.parse(raw);
  const [row] = await sql<DeliveryRow[]>`
    select d.status, d.message_id, d.payload::text as body, e.url, e.is_enabled, e.disabled_reason, s.secret
    from slotbase.webhook_deliveries as d
    join slotbase.webhook_endpoints as e on e.tenant_id = d.tenant_id and e.id = d.endpoint_id
    left join slotbase_private.webhook_endpoint_secrets as s on s.tenant_id = e.tenant_id and s.endpoint_id = e.id
    where d.tenant_id = ${tenant_id} and d.id = ${delivery_id}`;
  if (!row || row.status === 'succeeded') return;
  if (!row.is_enabled || !row.secret) {
    const reason = row.is_enabled ? 'endpoint has no signing secret' : `endpoint disabled${row.disabled_reason ? ` (${row.disabled_reason})` : ''}`;
    await sql`select slotbase_private.skip_webhook_delivery(${tenant_id}, ${delivery_id}, ${reason})`;
    return;
  }

  const timeoutMs = config.WEBHOOK_TIMEOUT_MS;
  const headers = signWebhook(row.secret, row.message_id, Math.floor(Date.now() / 1000), row.body);
  let statusCode: number | null = null;
  let excerpt: string | null = null;
  let error: string | null = null;
  const started = performance.now();
  try {
    const response = await fetch(row.url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'user-agent': USER_AGENT },
      body: row.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    statusCode = response.status;
    excerpt = await readExcerpt(response).catch(() => null);
    if (statusCode < 200 || statusCode > 299) {
      error = statusCode >= 300 && statusCode < 400 ? `HTTP ${statusCode} (redirects are not followed)` : `HTTP ${statusCode}`;
    }
  } catch (e) {
    error = describeError(e, timeoutMs);
  }
  const durationMs = Math.round(performance.now() - started);

  const retryInMs = error !== null && attempt < config.WEBHOOK_MAX_ATTEMPTS ? retryDelayMs(config.WEBHOOK_RETRY_BASE_MS, attempt) : null;
  const [outcome] = await sql<{ status: string | null }[]>`
    select slotbase_private.record_webhook_attempt(
      ${tenant_id}, ${delivery_id}, ${statusCode}, ${durationMs}, ${excerpt}, ${error},
      ${retryInMs}, ${attempt + 1}, ${config.WEBHOOK_DISABLE_AFTER_FAILURES}) as status`;
  const fields = { tenant_id, delivery_id, message_id: row.message_id, attempt, status_code: statusCode, duration_ms: durationMs };
  if (error === null) logger.info(fields, 'webhook delivered');
  else logger.warn({ ...fields, error, outcome: outcome?.status, retry_in_ms: retryInMs }, 'webhook attempt failed');
});
