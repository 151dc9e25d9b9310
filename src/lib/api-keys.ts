import { createHash, randomBytes } from 'node:crypto';
import type { Buffer } from 'node:buffer';

/** `sb_live_` + 43 base64url characters (32 random bytes). */
export const API_KEY_PATTERN = /^sb_live_[A-Za-z0-9_-]{43}$/;
export const API_KEY_PREFIX_LENGTH = 12;

/** Only the sha256 of a key is stored (`slotbase_private.api_key_secrets`). */
export const hashApiKey = (key: string): Buffer => createHash('sha256').update(key).digest();

/** A new key, its display prefix and its hash; the key itself is shown once and never stored. */
export function generateApiKey(): { key: string; prefix: string; hash: Buffer } {
  const key = `sb_live_${randomBytes(32).toString('base64url')}`;
  return { key, prefix: key.slice(0, API_KEY_PREFIX_LENGTH), hash: hashApiKey(key) };
}
