import { OpenAPIHono } from '@hono/zod-openapi';
import { Scalar } from '@scalar/hono-api-reference';
import { bodyLimit } from 'hono/body-limit';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import { ANON } from '#src/db/session.ts';
import type { AppDeps, AppEnv } from '#src/http/env.ts';
import { authenticateApiKey, enforceApiKeyScopes, isApiKey } from '#src/http/auth.ts';
import { authenticateSupabaseUser, TENANT_HEADER } from '#src/http/supabase-auth.ts';
import { problemResponse, ProblemError, toProblem } from '#src/http/problem.ts';
import { clientAddressOf, postgresRateLimitStore, rateLimit } from '#src/http/rate-limit.ts';
import { publicCors } from '#src/http/cors.ts';
import { requestLog } from '#src/http/request-log.ts';
import { loginProtection } from '#src/http/login-protection.ts';
import { requestTimeout } from '#src/http/request-timeout.ts';
import { secretsEqual } from '#src/lib/constant-time.ts';
import { authRouter } from '#src/http/routes/auth/index.ts';
import { bookingsRouter } from '#src/http/routes/bookings/index.ts';
import { catalogRouter } from '#src/http/routes/catalog/index.ts';
import { membersRouter } from '#src/http/routes/members/index.ts';
import { invitationsRouter } from '#src/http/routes/invitations/index.ts';
import { documentStaffForbidden } from '#src/http/openapi.ts';
import { inviteRouter } from '#src/web/invite.ts';
import { apiKeysRouter } from '#src/http/routes/api-keys/index.ts';
import { bansRouter } from '#src/http/routes/bans/index.ts';
import { notificationsRouter } from '#src/http/routes/notifications/index.ts';
import { webhooksRouter } from '#src/http/routes/webhooks/index.ts';
import { analyticsRouter } from '#src/http/routes/analytics/index.ts';
import { customersRouter } from '#src/http/routes/customers/index.ts';
import { meRouter } from '#src/http/routes/me/index.ts';
import { publicRouter } from '#src/http/routes/public/index.ts';
import { calendarsRouter } from '#src/http/routes/calendars/index.ts';
import { liveRouter } from '#src/http/routes/live/index.ts';
import { webRouter } from '#src/web/pages.ts';
import { consoleRouter } from '#src/web/console.ts';
import { sessionsRouter } from '#src/http/routes/sessions/index.ts';
import { systemRouter } from '#src/http/routes/system/index.ts';
import { tenantRouter } from '#src/http/routes/tenant/index.ts';
import { billingRouter } from '#src/http/routes/billing/index.ts';
import { seriesRouter } from '#src/http/routes/series/index.ts';
import { waitlistRouter } from '#src/http/routes/waitlist/index.ts';
import { offerPageRouter } from '#src/http/routes/waitlist/offer-page.ts';

export const API_VERSION = '0.1.0';

/**
 * The whole HTTP API as a Hono app. Runtime-agnostic: everything Node-specific (the database
 * pool, password hashing, logging) comes in through `deps`, so the same app can be served by Node
 * (`slotbase serve`) or a Supabase Edge Function.
 */
export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();

  if (deps.metrics) app.use(deps.metrics.middleware);
  app.use(requestId({ headerName: 'X-Request-Id' }));
  app.use(requestLog(deps.logger));
  if (deps.metrics) {
    const metrics = deps.metrics;
    // Not part of the API document: an operations endpoint in Prometheus' text format. Registered
    // before the auth middleware: its bearer token is not an access token.
    app.get('/metrics', async (c) => {
      if (metrics.token && !secretsEqual(c.req.header('authorization') ?? '', `Bearer ${metrics.token}`)) {
        throw new ProblemError(401, 'unauthenticated', 'Send the metrics token as Authorization: Bearer <token>');
      }
      return c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType });
    });
  }

  const logins = deps.loginProtection === false ? undefined : loginProtection(deps.sql, deps.loginProtection);
  const addressOptions = deps.rateLimit || {};
  app.use(async (c, next) => {
    c.set('deps', deps);
    c.set('caller', ANON);
    c.set('clientAddress', clientAddressOf(c, addressOptions));
    c.set('loginProtection', logins);
    await next();
  });
  // No request waits forever (event streams aside): 503 request_timeout, Retry-After.
  app.use(requestTimeout(deps.requestTimeoutMs ?? 30_000));
  const apiHeaders = secureHeaders({ crossOriginResourcePolicy: false });
  // Booking pages are meant to be embedded: their CSP frame-ancestors (per tenant) decides where.
  const pageHeaders = secureHeaders({ crossOriginResourcePolicy: false, xFrameOptions: false });
  app.use((c, next) => (c.req.path.startsWith('/b/') ? pageHeaders(c, next) : apiHeaders(c, next)));
  // CORS per tenant (settings.embed_origins) for the public API; preflights are answered here.
  app.use('/v1/public/*', publicCors(deps.sql));
  app.use(methodNotAllowed({ app, onMethodNotAllowed: (c, methods) => {
    const res = problemResponse(c, { status: 405, code: 'method_not_allowed', title: `Use ${methods.join(', ')}` });
    res.headers.set('Allow', methods.join(', '));
    return res;
  } }));
  app.use(
    bodyLimit({
      maxSize: deps.bodyLimit ?? 64 * 1024,
      onError: (c) => problemResponse(c, { status: 413, code: 'payload_too_large', title: 'The request body is too large' }),
    }),
  );
  // A JSON body with another Content-Type is refused by the validator (415 unsupported_media_type).
  // Bearer tokens (Slotbase's own, or a configured Supabase project's) make the caller authenticated;
  // so does an API key (`Bearer sb_live_…` or `X-API-Key`), as its tenant's service member. A
  // credential that fails is answered 401 only after the rate limiter has counted the request.
  app.use(async (c, next) => {
    const header = c.req.header('authorization');
    const apiKey = c.req.header('x-api-key');
    try {
      if (header) {
        const match = /^Bearer\s+(\S+)$/i.exec(header);
        if (!match) throw new ProblemError(401, 'unauthenticated', 'Use Authorization: Bearer <token>');
        if (isApiKey(match[1]!)) c.set('caller', await authenticateApiKey(deps.sql, match[1]!));
        else {
          const claims = await deps.tokens.verifyAccess(match[1]!).catch(() => {
            throw new ProblemError(401, 'invalid_token', 'The access token is invalid or expired');
          });
          // A customer session never acts in a tenant; its kind travels in the claims (requireMember: 403).
          // A Supabase Auth token's sub is an auth.users id: mapped to its linked Slotbase member.
          c.set('caller', claims.auth_provider === 'supabase'
            ? await authenticateSupabaseUser(deps, match[1]!, claims, c.req.header(TENANT_HEADER))
            : claims.kind === 'customer'
              ? { role: 'authenticated', userId: claims.sub, claims: { kind: 'customer' } }
              : { role: 'authenticated', userId: claims.sub, tenantId: claims.tenant_id });
        }
      } else if (apiKey) {
        c.set('caller', await authenticateApiKey(deps.sql, apiKey));
      }
    } catch (error) {
      c.set('authError', error);
    }
    await next();
  });
  // Buckets in PostgreSQL by default, shared by every process (a memory store for tests and benchmarks).
  if (deps.rateLimit !== false) app.use(rateLimit({ store: postgresRateLimitStore(deps.sql), logger: deps.logger, ...deps.rateLimit }));
  app.use(async (c, next) => {
    if (c.var.authError) throw c.var.authError;
    await next();
  });
  app.use(enforceApiKeyScopes);

  app.route('/', systemRouter);
  app.route('/', authRouter);
  // Before publicRouter: its /v1/public/bookings/{code} would take `BK-….ics` for a code.
  app.route('/', calendarsRouter);
  app.route('/', publicRouter);
  app.route('/', liveRouter);
  app.route('/', webRouter);
  app.route('/', consoleRouter);
  app.route('/', bookingsRouter);
  app.route('/', sessionsRouter);
  app.route('/', tenantRouter);
  app.route('/', catalogRouter);
  app.route('/', membersRouter);
  app.route('/', invitationsRouter);
  app.route('/', inviteRouter);
  app.route('/', apiKeysRouter);
  app.route('/', bansRouter);
  app.route('/', notificationsRouter);
  app.route('/', webhooksRouter);
  app.route('/', customersRouter);
  app.route('/', meRouter);
  app.route('/', analyticsRouter);
  app.route('/', billingRouter);
  app.route('/', seriesRouter);
  app.route('/', waitlistRouter);
  app.route('/', offerPageRouter);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'Access token from /v1/signup, /v1/auth/login or /v1/auth/refresh (an API key `sb_live_…` is accepted here too)',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'apiKey',
    in: 'header',
    name: 'X-API-Key',
    description:
      'An API key (`sb_live_…`) from POST /v1/api-keys, also accepted as `Authorization: Bearer sb_live_…`. It acts as its tenant\'s service member ' +
      'under the same row-level security, limited to its scopes: `bookings|catalog|members` + `:read` (GET) or `:write`, or `*`. ' +
      'A call outside them is 403 `insufficient_scope`.',
  });
  let document: ReturnType<typeof openApiDocument> | undefined;
  app.get('/openapi.json', (c) => c.json((document ??= openApiDocument(app))));
  // Relative to the page: under a mount prefix (the Edge Function's /functions/v1/api) the
  // reference still loads this app's document, not the site root's.
  app.get('/docs', Scalar({ url: 'openapi.json', pageTitle: 'Slotbase API' }));

  app.notFound((c) => problemResponse(c, { status: 404, code: 'not_found', title: 'No such endpoint' }));
  app.onError((error, c) => {
    const problem = toProblem(error);
    if (problem.unexpected) deps.logger.error({ err: error, requestId: c.get('requestId') }, 'unexpected error');
    const { unexpected: _unexpected, ...body } = problem;
    return problemResponse(c, body);
  });
  return app;
}

export const openApiInfo = {
  openapi: '3.1.0',
  info: {
    title: 'Slotbase API',
    version: API_VERSION,
    description:
      'Multi-tenant appointment scheduling where PostgreSQL guarantees no double booking, no oversold seats and no cross-tenant reads. ' +
      'Every error is application/problem+json (RFC 9457) with a stable `code`.',
    license: { name: 'MIT', identifier: 'MIT' },
    contact: { name: 'Slotbase', url: 'https://github.com/slotbase/slotbase' },
  },
  servers: [{ url: '/', description: 'This server' }],
  tags: [
    { name: 'System', description: 'Health and readiness' },
    { name: 'Auth', description: 'Sign-up, login, token refresh' },
    { name: 'Public booking', description: 'What a business\'s customers use: no account needed' },
    { name: 'Bookings', description: 'Staff: the bookings of your tenant, their lifecycle and audit trail' },
    { name: 'Sessions', description: 'Staff: scheduled sessions of group services, with seats' },
    { name: 'Tenant', description: 'Staff: the business itself (name, time zone, locale, settings)' },
    { name: 'Catalog', description: 'Staff: locations, providers, resources, services and when they work' },
    { name: 'Members', description: 'Staff: who belongs to the tenant, with which role and location' },
    { name: 'Bans', description: 'Staff: who may not book (email, phone, email domain, device), and their attempts' },
    { name: 'Notifications', description: 'Staff: the log of emails and SMS sent to bookers and staff, and opt-outs' },
    { name: 'API keys', description: 'Owners and admins: keys for third-party integrations, scoped, revocable' },
    { name: 'Customers', description: 'Customer accounts on a business\'s booking page, and staff\'s view of who booked' },
    { name: 'Me', description: 'The signed-in user: profile, and their own bookings as a customer' },
    { name: 'Calendars', description: 'iCalendar: a booking as .ics, and per-provider subscription feeds for Google, Apple and Outlook calendars' },
    { name: 'Analytics', description: 'Owners and admins: bookings by day and status, utilization, no-show and cancellation rates' },
    { name: 'Waitlist', description: 'Staff: who waits for a freed time, in which order, and the times offered to them' },
    { name: 'Billing', description: 'Plans and their limits; owners and admins: the subscription (Stripe Checkout and portal); Stripe\'s webhook' },
  ],
};

/** The OpenAPI document of the app as code defines it (what `npm run openapi` writes). */
export function openApiDocument(app: OpenAPIHono<AppEnv>) {
  return documentStaffForbidden(app.getOpenAPI31Document(openApiInfo));
}
