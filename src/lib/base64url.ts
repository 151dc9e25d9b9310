/**
 * base64url (RFC 4648 §5, unpadded) of UTF-8 text with Web APIs only (btoa/atob, TextEncoder),
 * so the HTTP layer needs no `Buffer`: the same code runs on Node and in Deno (a Supabase Edge
 * Function). Encodes exactly as `Buffer.from(text).toString('base64url')` does.
 */
export function textToBase64Url(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * The text behind a base64url string (padding and the `+/` alphabet are accepted, as Buffer does);
 * `undefined` when it is not base64 at all. Invalid UTF-8 becomes U+FFFD, as with Buffer.
 */
export function base64UrlToText(encoded: string): string | undefined {
  const unpadded = encoded.replace(/={1,2}$/, '');
  if (!/^[A-Za-z0-9+/_-]*$/.test(unpadded) || unpadded.length % 4 === 1) return undefined;
  const binary = atob(unpadded.replace(/-/g, '+').replace(/_/g, '/'));
  return new TextDecoder().decode(Uint8Array.from(binary, (char) => char.charCodeAt(0)));
}
