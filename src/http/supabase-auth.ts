import type { Caller } from '#src/db/session.ts';
import type { AccessClaims } from '#src/lib/tokens.ts';
import type { AppDeps } from './env.ts';
import { ProblemError } from './problem.ts';

/** A Supabase project whose Auth signs staff in: its URL and its public anon (or publishable) key. */
export interface SupabaseProject {
  /** https://<ref>.supabase.co (no trailing slash); Auth is at `<url>/auth/v1`. */
  url: string;
  anonKey: string;
}

/** The header that picks the business a Supabase-signed-in request acts in (its slug or id). */
export const TENANT_HEADER = 'x-slotbase-tenant';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const notAMember = (detail: string) => new ProblemError(403, 'not_a_member', 'This account is not a member of a business here', detail);
const emailNotVerified = (detail: string) => new ProblemError(403, 'email_not_verified', 'Supabase Auth has not confirmed this account\'s email', detail);
const invalidToken = () => new ProblemError(401, 'invalid_token', 'The access token is invalid or expired');
const authUnavailable = () => new ProblemError(503, 'auth_unavailable', 'Supabase Auth did not answer; try again');

/** The fields of Supabase Auth's user object (GET /auth/v1/user) the link decision reads. */
interface AuthUser {
  id?: string;
  email?: string | null;
  email_confirmed_at?: string | null;
  invited_at?: string | null;
  is_anonymous?: boolean;
}

/**
 * Links that failed recently, per process: an outsider's valid token must not make every one of
 * its requests call Supabase Auth twice. Short, so a colleague added a moment later gets in soon.
 */
const recentFailures = new Map<string, { until: number; error: ProblemError }>();
const FAILURE_TTL_MS = 10_000;

/**
 * The caller behind a verified Supabase Auth access token: the Slotbase user linked to its `sub`
 * (linked on first use, see linkSupabaseUser) acting in the tenant named by `X-Slotbase-Tenant`,
 * or else in its first membership. 403 not_a_member when there is no such user or membership.
 */
export async function authenticateSupabaseUser(deps: AppDeps, token: string, claims: AccessClaims, tenant: string | undefined): Promise<Caller> {
  if (!UUID.test(claims.sub)) throw invalidToken();
  const hint = tenant?.trim() || null;
  const resolve = async () => (await deps.sql<{ user_id: string; tenant_id: string | null }[]>`
    select user_id, tenant_id from slotbase_private.resolve_supabase_user(${claims.sub}::uuid, ${hint})`)[0];
  let row = await resolve();
  if (!row) {
    await linkSupabaseUser(deps, token, claims.sub);
    row = await resolve();
  }
  if (!row) throw notAMember('No Slotbase user is linked to this Supabase account');
  if (!row.tenant_id) {
    throw notAMember(hint ? `This account is not a member of the business "${hint}"` : 'This account is not a member of any business');
  }
  return { role: 'authenticated', userId: row.user_id, tenantId: row.tenant_id };
}

/**
 * First request of a Supabase user: ask the project's Auth server who the token belongs to and
 * link it to the Slotbase user with that email — only when the address is proven. Proven means
 * Supabase Auth reports it confirmed AND the project confirms addresses by mail
 * (`mailer_autoconfirm` off in GET /auth/v1/settings), or the user accepted an invitation mail.
 * With "Confirm email" off, Supabase marks every sign-up confirmed without a mail, so anyone could
 * claim an owner's address: no link then. The email claim in the token is never used.
 */
async function linkSupabaseUser(deps: AppDeps, token: string, sub: string): Promise<void> {
  const project = deps.supabase;
  if (!project) throw notAMember('This Supabase account is not linked to a Slotbase user, and linking needs SUPABASE_URL and SUPABASE_ANON_KEY on the server');
  const key = `${project.url} ${sub}`;
  const failed = recentFailures.get(key);
  if (failed && failed.until > Date.now()) throw failed.error;
  try {
    const [user, settings] = await Promise.all([
      authGet<AuthUser>(project, '/user', token),
      authGet<{ mailer_autoconfirm?: boolean }>(project, '/settings'),
    ]);
    if (user.id !== sub) throw invalidToken();
    if (!user.email || !user.email_confirmed_at || user.is_anonymous) {
      throw emailNotVerified('Confirm your email address with Supabase Auth first');
    }
    if (settings.mailer_autoconfirm !== false && !user.invited_at) {
      throw emailNotVerified('This Supabase project confirms emails without sending a mail ("Confirm email" is off), so an address proves nothing: turn it on, or invite staff from Supabase Auth');
    }
    const [linked] = await deps.sql<{ user_id: string | null }[]>`
      select slotbase_private.link_supabase_user(${sub}::uuid, ${user.email}) as user_id`;
    if (!linked?.user_id) {
      throw notAMember('No Slotbase member has this email, or that member is linked to another Supabase account: ask an owner to add you (POST /v1/members)');
    }
  } catch (error) {
    if (error instanceof ProblemError && error.status === 403) {
      if (recentFailures.size >= 10_000) recentFailures.clear();
      recentFailures.set(key, { until: Date.now() + FAILURE_TTL_MS, error });
    }
    throw error;
  }
}

/** GET on the project's Auth API with its anon key (and the user's token when given). */
async function authGet<T>(project: SupabaseProject, path: string, token?: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${project.url}/auth/v1${path}`, {
      headers: { apikey: project.anonKey, accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      signal: AbortSignal.timeout(5_000),
    });
  } catch {
    throw authUnavailable();
  }
  if (token && (res.status === 401 || res.status === 403 || res.status === 404)) throw invalidToken();
  if (!res.ok) throw authUnavailable();
  return (await res.json()) as T;
}

/**
 * How Node reads a Supabase project from the configuration: the project (console sign-in and
 * linking) when SUPABASE_URL and SUPABASE_ANON_KEY are set, and the token service's options —
 * the legacy HS256 secret, the project's JWKS (asymmetric signing keys) and the issuer its
 * tokens must carry.
 */
export function supabaseFromConfig(config: { SUPABASE_URL?: string | undefined; SUPABASE_ANON_KEY?: string | undefined; SUPABASE_JWT_SECRET?: string | undefined }) {
  const url = config.SUPABASE_URL;
  return {
    project: url && config.SUPABASE_ANON_KEY ? { url, anonKey: config.SUPABASE_ANON_KEY } : undefined,
    tokenOptions: {
      supabaseJwtSecret: config.SUPABASE_JWT_SECRET,
      supabaseJwks: url ? new URL(`${url}/auth/v1/.well-known/jwks.json`) : undefined,
      supabaseIssuer: url ? `${url}/auth/v1` : undefined,
    },
  };
}
