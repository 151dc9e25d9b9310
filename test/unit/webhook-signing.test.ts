import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook } from '#src/lib/webhook-signing.ts';

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
const now = () => Math.floor(Date.now() / 1000);
const body = JSON.stringify({ type: 'booking.created', timestamp: '2027-02-20T14:12:05.123Z', data: { id: 'e4f5a6b7', contact: { name: 'Ada Lovelace' } } });

describe('Standard Webhooks signing', () => {
  it('the standardwebhooks package verifies what we sign and returns the parsed body', () => {
    const secret = newSecret();
    const headers = signWebhook(secret, 'msg_2b4c6d8e0f', now(), body);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('our signature is byte-for-byte the one standardwebhooks computes, for any id and body', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^msg_[A-Za-z0-9]{1,40}$/), fc.string({ unit: 'grapheme', maxLength: 300 }), fc.integer({ min: 0, max: 4_000_000_000 }), (id, text, ts) => {
        const secret = newSecret();
        expect(signWebhook(secret, id, ts, text)['webhook-signature']).toBe(new Webhook(secret).sign(id, new Date(ts * 1000), text));
      }),
      { numRuns: 200 },
    );
  });

  it('a tampered body fails verification', () => {
    const secret = newSecret();
    const headers = signWebhook(secret, 'msg_tamper', now(), body);
    const tampered = body.replace('Ada Lovelace', 'Eve Mallory');
    expect(() => new Webhook(secret).verify(tampered, { ...headers })).toThrow();
    expect(verifyWebhook(secret, headers, tampered)).toBe(false);
    expect(verifyWebhook(secret, headers, body)).toBe(true);
  });

  it('a wrong secret fails verification', () => {
    const headers = signWebhook(newSecret(), 'msg_wrongkey', now(), body);
    const other = newSecret();
    expect(() => new Webhook(other).verify(body, { ...headers })).toThrow();
    expect(verifyWebhook(other, headers, body)).toBe(false);
  });

  it('a changed webhook-id or timestamp fails verification (both are signed)', () => {
    const secret = newSecret();
    const ts = now();
    const headers = signWebhook(secret, 'msg_original', ts, body);
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'msg_replayed' })).toThrow();
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-timestamp': String(ts - 1) })).toThrow();
    expect(verifyWebhook(secret, { ...headers, 'webhook-id': 'msg_replayed' }, body)).toBe(false);
  });

  it('a message older than the tolerance fails verification even with a valid signature', () => {
    const secret = newSecret();
    const old = now() - 600;
    const headers = signWebhook(secret, 'msg_old', old, body);
    expect(() => new Webhook(secret).verify(body, { ...headers })).toThrow();
    expect(verifyWebhook(secret, headers, body)).toBe(false);
    expect(verifyWebhook(secret, headers, body, { nowSeconds: old + 10 })).toBe(true);
  });

  it('verification accepts a list of signatures when one of them matches (secret rotation on the receiver side)', () => {
    const secret = newSecret();
    const headers = signWebhook(secret, 'msg_list', now(), body);
    const listed = { ...headers, 'webhook-signature': `v1,${randomBytes(32).toString('base64')} ${headers['webhook-signature']}` };
    expect(verifyWebhook(secret, listed, body)).toBe(true);
    expect(() => new Webhook(secret).verify(body, listed)).not.toThrow();
  });

  it('refuses a secret that is not whsec_<base64>', () => {
    expect(() => signWebhook('not-a-secret', 'msg_x', now(), body)).toThrow();
  });
});
