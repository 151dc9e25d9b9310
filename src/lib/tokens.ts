import { SignJWT, jwtVerify, type JWTPayload } from 'jose';

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
  /** A Supabase project's JWT secret: its Auth access tokens are accepted too (mapped by `sub`). */
  supabaseJwtSecret?: string | undefined;
}

export function createTokenService(config: TokenConfig): TokenService {
  const key = new TextEncoder().encode(config.secret);
  const supabaseKey = config.supabaseJwtSecret ? new TextEncoder().encode(config.supabaseJwtSecret) : undefined;
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
        if (!supabaseKey) throw error;
        const { payload } = await jwtVerify(token, supabaseKey, { audience: 'authenticated', algorithms: ['HS256'] });
        if (payload.role !== 'authenticated' || typeof payload.sub !== 'string') throw new Error('not an authenticated Supabase token');
        return { ...payload, role: 'authenticated' } as AccessClaims;
      }
    },
  };
}
