import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, jwtVerify, type JWK } from 'jose';
import { afterAll, beforeAll } from 'vitest';
import type { SupabaseProject } from '#src/http/supabase-auth.ts';
import type { TokenConfig } from '#src/lib/tokens.ts';
import { TEST_SUPABASE_JWT_SECRET } from './http.ts';

/**
 * A local stand-in for a Supabase project's Auth server (GoTrue's HTTP API, node:http on
 * 127.0.0.1): the endpoints supabase-js calls for password sign-in and refresh
 * (`POST /auth/v1/token?grant_type=password|refresh_token`, `POST /auth/v1/logout`), and the ones
 * Slotbase calls to link a user (`GET /auth/v1/user`, `GET /auth/v1/settings`), plus the JWKS.
 * Access tokens are Supabase-shaped JWTs: HS256 with the project's JWT secret (TEST_SUPABASE_JWT_SECRET),
 * or ES256 with its signing key. It answers CORS like Supabase's gateway, so the console in a real
 * browser can call it. Nothing reaches the internet.
 */

export const TEST_SUPABASE_ANON_KEY = 'sb_publishable_slotbaseStandIn_0123456789abcdef';

export interface AuthUser {
  id: string;
  email: string;
  password: string;
  /** null: the address was never confirmed. */
  email_confirmed_at: string | null;
  /** Set when the user came in through an invitation mail. */
  invited_at: string | null;
}

export interface AuthRequest {
  method: string;
  path: string;
  grantType: string | null;
  authorization: string | undefined;
  apikey: string | undefined;
}

export interface SupabaseAuthStandIn {
  /** The project URL (`SUPABASE_URL`); Auth is under `/auth/v1`. */
  url: string;
  /** The `iss` of its tokens. */
  issuer: string;
  requests: AuthRequest[];
  /** What GET /auth/v1/settings reports; `mailer_autoconfirm` is "Confirm email" turned off. */
  settings: { mailer_autoconfirm: boolean; disable_signup: boolean };
  /** `expires_in` of the session a password sign-in returns (a short one makes supabase-js refresh at once). */
  passwordSessionExpiresIn: number;
  /** Access tokens this server issued, in order, with the grant that issued each. */
  issued: { grant: 'password' | 'refresh_token'; accessToken: string }[];
  addUser(user: { email: string; password?: string; confirmed?: boolean; invited?: boolean }): AuthUser;
  /** An access token for `user` as this project's Auth would issue it (or as another project's: other secret or issuer). */
  accessToken(user: AuthUser, options?: { secret?: string; issuer?: string; alg?: 'HS256' | 'ES256'; claims?: Record<string, unknown> }): Promise<string>;
  /** The project's public signing keys (what Edge Functions get as SUPABASE_JWKS). */
  jwks(): { keys: JWK[] };
  /** SUPABASE_URL + SUPABASE_ANON_KEY as the API reads them. */
  project(): SupabaseProject;
  /** The token service's Supabase options: this project's secret, JWKS URL and issuer. */
  tokenOptions(): Pick<TokenConfig, 'supabaseJwtSecret' | 'supabaseJwks' | 'supabaseIssuer'>;
  close(): Promise<void>;
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });

export async function startSupabaseAuthStandIn(): Promise<SupabaseAuthStandIn> {
  const users = new Map<string, AuthUser>();
  const refreshTokens = new Map<string, { userId: string; used: boolean }>();
  const requests: AuthRequest[] = [];
  const issued: SupabaseAuthStandIn['issued'] = [];
  const settings = { mailer_autoconfirm: false, disable_signup: false };
  const secret = new TextEncoder().encode(TEST_SUPABASE_JWT_SECRET);
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const kid = randomUUID();
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  let url = '';
  let issuer = '';

  const userObject = (u: AuthUser) => ({
    id: u.id,
    aud: 'authenticated',
    role: 'authenticated',
    email: u.email,
    email_confirmed_at: u.email_confirmed_at,
    confirmed_at: u.email_confirmed_at,
    invited_at: u.invited_at,
    phone: '',
    app_metadata: { provider: 'email', providers: ['email'] },
    user_metadata: { email: u.email, email_verified: u.email_confirmed_at !== null },
    identities: [],
    is_anonymous: false,
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
  });

  const sign = async (u: AuthUser, options: { secret?: string; issuer?: string; alg?: 'HS256' | 'ES256'; expiresIn?: number; claims?: Record<string, unknown> } = {}) => {
    const now = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT({
      aud: 'authenticated',
      role: 'authenticated',
      email: u.email,
      phone: '',
      app_metadata: { provider: 'email', providers: ['email'] },
      user_metadata: { email: u.email, email_verified: u.email_confirmed_at !== null },
      aal: 'aal1',
      amr: [{ method: 'password', timestamp: now }],
      session_id: randomUUID(),
      is_anonymous: false,
      ...options.claims,
    })
      .setSubject(u.id)
      .setIssuer(options.issuer ?? issuer)
      .setIssuedAt(now)
      // The JWT itself lives 10 minutes; a short `expires_in` only tells supabase-js to refresh.
      .setExpirationTime(now + 600);
    return options.alg === 'ES256'
      ? jwt.setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid }).sign(privateKey)
      : jwt.setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(options.secret ? new TextEncoder().encode(options.secret) : secret);
  };

  const session = async (u: AuthUser, grant: 'password' | 'refresh_token', expiresIn: number) => {
    const accessToken = await sign(u);
    issued.push({ grant, accessToken });
    const refreshToken = randomBytes(12).toString('hex');
    refreshTokens.set(refreshToken, { userId: u.id, used: false });
    return {
      access_token: accessToken,
      token_type: 'bearer',
      expires_in: expiresIn,
      expires_at: Math.floor(Date.now() / 1000) + expiresIn,
      refresh_token: refreshToken,
      user: userObject(u),
    };
  };

  /** The user behind a Bearer access token this project issued, or undefined. */
  const bearerUser = async (authorization: string | undefined) => {
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    if (!token) return undefined;
    try {
      const { payload } = await jwtVerify(token, (header) => (header.alg === 'ES256' ? publicKey : secret), { issuer, audience: 'authenticated' });
      return users.get(String(payload.sub));
    } catch {
      return undefined;
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const cors = {
      'access-control-allow-origin': '*',
      'access-control-allow-headers': req.headers['access-control-request-headers'] ?? 'authorization, apikey, content-type, x-client-info',
      'access-control-allow-methods': 'GET, POST, PUT, DELETE, OPTIONS',
    };
    const send = (status: number, body?: unknown) => {
      res.writeHead(status, { ...cors, ...(body === undefined ? {} : { 'content-type': 'application/json' }) });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    if (req.method === 'OPTIONS') return send(204);
    const target = new URL(req.url ?? '/', url);
    const body = await readBody(req);
    requests.push({
      method: req.method ?? 'GET',
      path: target.pathname,
      grantType: target.searchParams.get('grant_type'),
      authorization: req.headers.authorization,
      apikey: typeof req.headers.apikey === 'string' ? req.headers.apikey : undefined,
    });
    if (target.pathname === '/auth/v1/.well-known/jwks.json') return send(200, { keys: [publicJwk] });
    if (req.headers.apikey !== TEST_SUPABASE_ANON_KEY) return send(401, { message: 'Invalid API key' });
    const json = (body ? JSON.parse(body) : {}) as Record<string, string>;

    if (req.method === 'POST' && target.pathname === '/auth/v1/token') {
      const grant = target.searchParams.get('grant_type');
      if (grant === 'password') {
        const u = [...users.values()].find((x) => x.email.toLowerCase() === String(json.email).toLowerCase());
        if (!u || u.password !== json.password) return send(400, { code: 400, error_code: 'invalid_credentials', msg: 'Invalid login credentials' });
        // With "Confirm email" on, Supabase Auth refuses to sign in an unconfirmed address.
        if (!u.email_confirmed_at && !settings.mailer_autoconfirm) return send(400, { code: 400, error_code: 'email_not_confirmed', msg: 'Email not confirmed' });
        return send(200, await session(u, 'password', stand.passwordSessionExpiresIn));
      }
      if (grant === 'refresh_token') {
        const entry = refreshTokens.get(json.refresh_token ?? '');
        if (!entry || entry.used) return send(400, { code: 400, error_code: 'refresh_token_not_found', msg: 'Invalid Refresh Token: Refresh Token Not Found' });
        entry.used = true;
        return send(200, await session(users.get(entry.userId)!, 'refresh_token', 3600));
      }
      return send(400, { code: 400, error_code: 'validation_failed', msg: 'unsupported grant_type' });
    }
    if (req.method === 'GET' && target.pathname === '/auth/v1/user') {
      const u = await bearerUser(req.headers.authorization);
      return u ? send(200, userObject(u)) : send(403, { code: 403, error_code: 'bad_jwt', msg: 'invalid JWT' });
    }
    if (req.method === 'GET' && target.pathname === '/auth/v1/settings') {
      return send(200, { external: { email: true, phone: false }, disable_signup: settings.disable_signup, mailer_autoconfirm: settings.mailer_autoconfirm, phone_autoconfirm: false, sms_provider: '', saml_enabled: false });
    }
    if (req.method === 'POST' && target.pathname === '/auth/v1/logout') return send(204);
    return send(404, { code: 404, error_code: 'not_found', msg: 'Not found' });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  issuer = `${url}/auth/v1`;

  const stand: SupabaseAuthStandIn = {
    url,
    issuer,
    requests,
    settings,
    passwordSessionExpiresIn: 3600,
    issued,
    addUser({ email, password = randomBytes(9).toString('hex'), confirmed = true, invited = false }) {
      const u: AuthUser = {
        id: randomUUID(),
        email,
        password,
        email_confirmed_at: confirmed ? new Date().toISOString() : null,
        invited_at: invited ? new Date().toISOString() : null,
      };
      users.set(u.id, u);
      return u;
    },
    accessToken: (u, options) => sign(u, options),
    jwks: () => ({ keys: [publicJwk] }),
    project: () => ({ url, anonKey: TEST_SUPABASE_ANON_KEY }),
    tokenOptions: () => ({ supabaseJwtSecret: TEST_SUPABASE_JWT_SECRET, supabaseJwks: new URL(`${url}/auth/v1/.well-known/jwks.json`), supabaseIssuer: issuer }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  return stand;
}

/** Starts the stand-in before this file's tests (register it before useApi/useE2e) and stops it after. */
export function useSupabaseAuthStandIn(): () => SupabaseAuthStandIn {
  let stand: SupabaseAuthStandIn | undefined;
  beforeAll(async () => {
    stand = await startSupabaseAuthStandIn();
  });
  afterAll(async () => {
    await stand?.close();
  });
  return () => {
    if (!stand) throw new Error('the Supabase Auth stand-in starts in beforeAll');
    return stand;
  };
}
