import { SignJWT, createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';

/**
 * What an access token says: the user, the tenant the request acts in, and its role claim.
 * `kind: 'customer'` marks a customer session: it never carries a tenant_id, so it has no member
 * rights anywhere; RLS gives it only its own bookings.
 */
export interface AccessClaims extends JWTPayload {
  sub: string;
  tenant_id?: string;
  role: 'authenticated';
  kind?: 'customer';
  /** Set on a Supabase Auth access token: `sub` is then an auth.users id, mapped to a Slotbase user by src/http/supabase-auth.ts. */
  auth_provider?: 'supabase';
  /** A Supabase token's email claim (informational: never proof of anything). */
  email?: string;
}

export interface TokenService {
  signAccess(claims: { sub: string; tenant_id?: string; kind?: 'customer' }): Promise<{ token: string; expiresIn: number }>;
  /** Verifies our own tokens and, when configured, a Supabase project's. Throws on anything invalid. */
  verifyAccess(token: string): Promise<AccessClaims>;
}

export interface TokenConfig {
  /** HS256 secret for Slotbase's own access tokens (≥ 32 bytes). */
  secret: string;
  issuer?: string;
  accessTtlSeconds?: number;
  /** A Supabase project's (legacy) JWT secret: its HS256 Auth access tokens are accepted too. */
  supabaseJwtSecret?: string | undefined;
  /**
   * A Supabase project's signing keys, for its asymmetric (ES256/RS256) Auth access tokens: the
   * JWKS URL (`<SUPABASE_URL>/auth/v1/.well-known/jwks.json`, fetched and cached by jose) or the
   * key set itself (Edge Functions get it as SUPABASE_JWKS).
   */
  supabaseJwks?: URL | JSONWebKeySet | undefined;
  /** The `iss` Supabase tokens must carry (`<SUPABASE_URL>/auth/v1`); unset: not checked (the signature binds a token to its project). */
  supabaseIssuer?: string | undefined;
}

export function createTokenService(config: TokenConfig): TokenService {
  const key = new TextEncoder().encode(config.secret);
  const supabaseKey = config.supabaseJwtSecret ? new TextEncoder().encode(config.supabaseJwtSecret) : undefined;
  const supabaseJwks = config.supabaseJwks instanceof URL ? createRemoteJWKSet(config.supabaseJwks)
    : config.supabaseJwks && config.supabaseJwks.keys.length > 0 ? createLocalJWKSet(config.supabaseJwks) : undefined;
  const supabaseOptions = { audience: 'authenticated', ...(config.supabaseIssuer ? { issuer: config.supabaseIssuer } : {}) };
  /** A Supabase Auth access token: HS256 with the project's secret, or asymmetric with its JWKS. */
  const verifySupabase = async (token: string) => {
    const { alg } = decodeProtectedHeader(token);
    if (alg === 'HS256' && supabaseKey) return jwtVerify(token, supabaseKey, { ...supabaseOptions, algorithms: ['HS256'] });
    if (alg !== 'HS256' && supabaseJwks) return jwtVerify(token, supabaseJwks, { ...supabaseOptions, algorithms: ['ES256', 'RS256', 'EdDSA'] });
    throw new Error(`no Supabase key for ${String(alg)} tokens`);
  };
  const issuer = config.issuer ?? 'slotbase';
  const ttl = config.accessTtlSeconds ?? 900;
  return {
    async signAccess(claims) {
      if (claims.kind === 'customer' && claims.tenant_id) throw new Error('a customer token never carries a tenant');
      const token = await new SignJWT({
        role: 'authenticated',
        ...(claims.tenant_id ? { tenant_id: claims.tenant_id } : {}),
        ...(claims.kind ? { kind: claims.kind } : {}),
      })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(claims.sub)
        .setIssuer(issuer)
        .setAudience('authenticated')
        .setIssuedAt()
        .setExpirationTime(`${ttl}s`)
        .sign(key);
      return { token, expiresIn: ttl };
    },
    async verifyAccess(token) {
      try {
        const { payload } = await jwtVerify(token, key, { issuer, audience: 'authenticated', algorithms: ['HS256'] });
        return payload as AccessClaims;
      } catch (error) {
        if (!supabaseKey && !supabaseJwks) throw error;
        const { payload } = await verifySupabase(token);
        if (payload.role !== 'authenticated' || typeof payload.sub !== 'string') throw new Error('not an authenticated Supabase token');
        // Only what the mapping needs: no claim of a Supabase token (a custom access token hook
        // could add `tenant_id` or `kind`) decides a Slotbase tenant or role.
        return {
          sub: payload.sub,
          role: 'authenticated',
          auth_provider: 'supabase',
          ...(typeof payload.email === 'string' ? { email: payload.email } : {}),
          ...(payload.exp ? { exp: payload.exp } : {}),
        };
      }
    },
  };
}
