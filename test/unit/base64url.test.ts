import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64UrlToText, textToBase64Url } from '#src/lib/base64url.ts';

// Page cursors are base64url without Buffer (so the HTTP layer runs in Deno too): they must stay
// byte-for-byte what Buffer produced, so cursors handed out before keep working.
describe('base64url without Buffer', () => {
  it('encodes any text exactly as Buffer does, and decodes it back', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        const encoded = textToBase64Url(text);
        expect(encoded).toBe(Buffer.from(text, 'utf8').toString('base64url'));
        expect(base64UrlToText(encoded)).toBe(Buffer.from(encoded, 'base64url').toString('utf8'));
      }),
      { numRuns: 500 },
    );
  });

  it('decodes any bytes as Buffer does (padding, the +/ alphabet, invalid UTF-8 as U+FFFD)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.boolean(), fc.boolean(), (bytes, padded, standard) => {
        const encoded = Buffer.from(bytes).toString(standard ? 'base64' : 'base64url');
        const input = padded ? encoded : encoded.replace(/=+$/, '');
        expect(base64UrlToText(input)).toBe(Buffer.from(input, 'base64url').toString('utf8'));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses what is not base64', () => {
    for (const bad of ['a', 'ab$c', 'abc d', '%%%%', 'abcde', '=abc']) expect(base64UrlToText(bad)).toBeUndefined();
  });
});
