import { createHash, randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify, type JWK } from 'jose';
import type postgres from 'postgres';
import { ProblemError } from '#src/http/problem.ts';

/**
 * Device tokens for anti-scalping, bound to a key the client generated (proof of possession, in
 * the manner of DPoP, RFC 9449).
 *
 * The booking page generates a P-256 key pair with WebCrypto (private key non-extractable, kept in
 * IndexedDB) and asks `POST /v1/public/{tenant}/device-tokens` for a token, sending the public JWK
 * and a proof. Every booking with that token (`X-Device-Token: sbdt_…`) sends a fresh proof in
 * `X-Device-Proof`: a compact JWS (`typ: dpop+jwt`, `alg: ES256`, the public `jwk` in the header)
 * whose claims are
 *   htm  the request method,      htu  the request path (or a URL with that path),
 *   iat  now (± PROOF_MAX_AGE),    jti  a one-time random id (16–128 characters),
 *   ath  base64url(sha256(token)) when a token is used,
 *   idk  the Idempotency-Key header, when the request has one.
 * The server checks the signature, that the key is the one the token was issued to (RFC 7638
 * thumbprint), the method/path/time/token/key binding, and records the jti (a proof is good once).
 * Only sha256(token) is stored; it is the `p_device_hash` create_booking counts and bans compare.
 *
 * Tokens without the `sbdt_` prefix are the older unbound random tokens: still accepted (hashed
 * and passed on) for services that are not in `strict` anti-scalping mode, which accepts only
 * issued ones.
 */

export const BOUND_TOKEN_PREFIX = 'sbdt_';
/** How long an issued token lives. */
export const DEVICE_TOKEN_TTL_DAYS = 30;
/** A proof older (or further in the future) than this is stale. */
export const PROOF_MAX_AGE_SECONDS = 120;

/** What device bans and anti-scalping compare: the sha256 (lower-case hex) of the token. */
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export const newDeviceToken = (): string => BOUND_TOKEN_PREFIX + randomBytes(32).toString('base64url');

export const isBoundToken = (token: string): boolean => token.startsWith(BOUND_TOKEN_PREFIX);

const invalidProof = (detail: string) => new ProblemError(401, 'invalid_device_proof', 'The device proof is missing or not valid', detail);
export const invalidDeviceToken = (detail: string) => new ProblemError(401, 'invalid_device_token', 'The device token is not valid', detail);

/** A public P-256 key as JWK (the only kind a device token is bound to). */
export function publicP256Jwk(jwk: JWK): { kty: 'EC'; crv: 'P-256'; x: string; y: string } {
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.x !== 'string' || typeof jwk.y !== 'string' || 'd' in jwk) {
    throw new ProblemError(422, 'validation_failed', 'The request is not valid', undefined, [
      { field: 'public_key', message: 'A public P-256 key (kty EC, crv P-256, x, y; no private part)', code: 'invalid_key' },
    ]);
  }
  return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
}

export interface VerifiedProof {
  thumbprint: string;
  jwk: JWK;
  jti: string;
  /** Until when the jti must be remembered: after that the proof is stale anyway. */
  rememberUntil: Date;
}

/**
 * Verifies a proof for this request. Throws 401 `invalid_device_proof` when it is missing,
 * malformed, signed by another key than its header names, for another method or path, stale, or
 * not bound to `token` / `idempotencyKey`. Replay is checked by the caller (useDeviceProof).
 */
export async function verifyDeviceProof(
  proof: string | undefined,
  request: { method: string; path: string; token?: string | undefined; idempotencyKey?: string | null | undefined; now?: Date },
): Promise<VerifiedProof> {
  if (!proof) throw invalidProof('Send X-Device-Proof: a JWS signed with the device key');
  const now = request.now ?? new Date();
  let payload: Record<string, unknown>;
  let jwk: JWK | undefined;
  try {
    const verified = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms: ['ES256'],
      maxTokenAge: PROOF_MAX_AGE_SECONDS,
      clockTolerance: PROOF_MAX_AGE_SECONDS,
      currentDate: now,
    });
    payload = verified.payload as Record<string, unknown>;
    jwk = verified.protectedHeader.jwk;
  } catch (error) {
    throw invalidProof(`The proof does not verify (${(error as { code?: string }).code ?? 'invalid'})`);
  }
  if (!jwk || jwk.kty !== 'EC' || jwk.crv !== 'P-256') throw invalidProof('The proof must carry the public P-256 key in its header');
  if (payload.htm !== request.method) throw invalidProof('The proof is for another method');
  let proofPath: string;
  try {
    proofPath = new URL(String(payload.htu), 'http://proof.invalid').pathname;
  } catch {
    throw invalidProof('The proof has no valid htu');
  }
  // Behind a mount prefix (the edge function's /functions/v1/api) the client signs the longer path.
  if (proofPath !== request.path && !proofPath.endsWith(request.path)) throw invalidProof('The proof is for another path');
  if (typeof payload.jti !== 'string' || payload.jti.length < 16 || payload.jti.length > 128) throw invalidProof('The proof needs a jti of 16 to 128 characters');
  if (typeof payload.iat !== 'number' || Math.abs(payload.iat * 1000 - now.getTime()) > PROOF_MAX_AGE_SECONDS * 1000) throw invalidProof('The proof is stale');
  if (request.token !== undefined && payload.ath !== createHash('sha256').update(request.token).digest('base64url')) {
    throw invalidProof('The proof is not bound to this device token (ath)');
  }
  if (request.idempotencyKey && payload.idk !== request.idempotencyKey) throw invalidProof('The proof is not bound to this Idempotency-Key (idk)');
  return {
    thumbprint: await calculateJwkThumbprint(jwk, 'sha256'),
    jwk,
    jti: payload.jti,
    rememberUntil: new Date(payload.iat * 1000 + 2 * PROOF_MAX_AGE_SECONDS * 1000),
  };
}

/** Records a proof's jti for its key; 401 when it was seen before (a replayed request). As slotbase_api. */
export async function useDeviceProof(sql: postgres.Sql, tenantId: string, proof: VerifiedProof): Promise<void> {
  const [row] = await sql<{ fresh: boolean }[]>`
    select slotbase_private.use_device_proof(${tenantId}, ${proof.thumbprint}, ${proof.jti}, ${proof.rememberUntil}) as fresh`;
  if (!row?.fresh) throw invalidProof('This proof was used before: sign a new one for every request');
}

/**
 * The device hash a public booking passes to create_booking. An issued (`sbdt_`) token must come
 * with a valid, fresh proof by the key it was issued to; an older unbound token is only hashed.
 * As slotbase_api (device tokens are private), before the booking's own transaction.
 */
export async function deviceHashFor(
  sql: postgres.Sql,
  request: { tenantSlug: string; token: string | undefined; proof: string | undefined; method: string; path: string; idempotencyKey: string | null },
): Promise<string | null> {
  const { token } = request;
  if (!token) return null;
  const hash = hashToken(token);
  if (!isBoundToken(token)) return hash;
  const proof = await verifyDeviceProof(request.proof, { ...request, token });
  const [bound] = await sql<{ tenant_id: string; key_thumbprint: string; is_expired: boolean }[]>`
    select tenant_id, key_thumbprint, is_expired from slotbase_private.device_token_key(${request.tenantSlug}, ${hash})`;
  if (!bound) throw invalidDeviceToken('This device token was not issued by this business: get one at POST /v1/public/{tenant}/device-tokens');
  if (bound.is_expired) throw invalidDeviceToken('This device token has expired: get a new one');
  if (bound.key_thumbprint !== proof.thumbprint) throw invalidProof('The proof is signed by another key than the one this token was issued to');
  await useDeviceProof(sql, bound.tenant_id, proof);
  return hash;
}
