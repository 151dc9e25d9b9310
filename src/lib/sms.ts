/**
 * SMS through a Twilio-compatible REST API: `POST {SMS_API_URL}/2010-04-01/Accounts/{SID}/Messages.json`
 * with a form-encoded To/From/Body, HTTP basic auth SID:token, answered with JSON carrying the
 * message `sid`. Providers with Twilio-compatible endpoints (and Twilio itself) work unchanged.
 */

export interface SmsMessage {
  /** E.164 (+ and digits); see normalizePhone. */
  to: string;
  body: string;
}

export interface SentSms {
  /** The provider's message id (Twilio `sid`). */
  sid: string;
}

export interface SmsSender {
  /** False when SMS_* is not configured: nothing is sent and no SMS notification is logged. */
  readonly configured: boolean;
  send(message: SmsMessage): Promise<SentSms>;
}

export interface SmsSenderOptions {
  apiUrl?: string | undefined;
  accountSid?: string | undefined;
  authToken?: string | undefined;
  from?: string | undefined;
  fetch: typeof fetch;
  /** Per request, milliseconds (default 10 s): a hung provider fails the job instead of stalling it. */
  timeoutMs?: number;
}

/** A refused or failed send. `code` is the provider's error code when it sent one (Twilio: 21211 invalid number, 21610 unsubscribed). */
export class SmsError extends Error {
  override name = 'SmsError';
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: number | string,
  ) {
    super(message);
  }
}

/** Twilio's codes for "this number can never receive this message": retrying does not help. */
export const SMS_INVALID_NUMBER_CODES = new Set<number | string>([21211, 21214, 21614, '21211', '21214', '21614']);
export const SMS_UNSUBSCRIBED_CODES = new Set<number | string>([21610, '21610']);

const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * A phone number as E.164, or undefined when it is not one: spaces, dashes, dots and parentheses
 * are dropped and a leading 00 is read as +. A number without a country code cannot be
 * normalized (we would have to guess the country) and is refused. Same rules as
 * slotbase_private.normalize_notification_address('sms', …).
 */
export function normalizePhone(raw: string | null | undefined): string | undefined {
  if (!raw) return undefined;
  const compact = raw.trim().replace(/[\s().-]/g, '').replace(/^00/, '+');
  return E164.test(compact) ? compact : undefined;
}

export function createSmsSender(options: SmsSenderOptions): SmsSender {
  const { apiUrl, accountSid, authToken, from } = options;
  if (!apiUrl || !accountSid || !authToken || !from) {
    return {
      configured: false,
      async send() {
        throw new SmsError('SMS is not configured (SMS_API_URL, SMS_ACCOUNT_SID, SMS_AUTH_TOKEN, SMS_FROM)');
      },
    };
  }
  const endpoint = `${apiUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages.json`;
  const authorization = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
  return {
    configured: true,
    async send(message) {
      let res: Response;
      try {
        res = await options.fetch(endpoint, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: new URLSearchParams({ To: message.to, From: from, Body: message.body }).toString(),
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
      } catch (error) {
        const reason = error instanceof Error && error.name === 'TimeoutError' ? 'timed out' : (error as Error).message;
        throw new SmsError(`SMS provider unreachable: ${reason}`);
      }
      const text = await res.text().catch(() => '');
      let body: Record<string, unknown> = {};
      try {
        body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        // not JSON: reported below with the status
      }
      if (!res.ok) {
        const code = typeof body.code === 'number' || typeof body.code === 'string' ? body.code : undefined;
        const detail = typeof body.message === 'string' ? body.message : text.slice(0, 200);
        throw new SmsError(`SMS provider answered ${res.status}${code !== undefined ? ` (code ${code})` : ''}: ${detail}`, res.status, code);
      }
      if (typeof body.sid !== 'string' || body.sid.length === 0) {
        throw new SmsError(`SMS provider answered ${res.status} without a message sid`, res.status);
      }
      return { sid: body.sid };
    },
  };
}
