import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { Logger } from '#src/lib/logger.ts';
import type { AppEnv } from './env.ts';

/** Probes and scrapes: logged at debug, so they do not drown the requests people make. */
const QUIET_ROUTES = new Set(['/health', '/ready', '/metrics']);

/**
 * One JSON line per request (pino), after it was answered:
 * `{"msg":"request","req_id":…,"method":"POST","route":"/v1/public/:tenant/bookings","status":201,"duration_ms":12.3,"tenant":"demo","tenant_id":…}`.
 *
 * What is deliberately never logged: the raw path and query string (manage tokens travel as
 * `?token=`, calendar feed tokens in the path), headers (Authorization, API keys, cookies), bodies
 * (contacts, passwords), client addresses and user agents. The route pattern says what was called;
 * the request id (also the `X-Request-Id` response header) ties a line to what a caller reports.
 */
export function requestLog(logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const pattern = routePath(c, -1);
      const route = pattern === '*' || pattern === '/*' ? 'unmatched' : pattern;
      const status = c.res.status;
      const caller = c.get('caller');
      const fields: Record<string, unknown> = {
        req_id: c.get('requestId'),
        method: c.req.method,
        route,
        status,
        duration_ms: Math.round((performance.now() - started) * 10) / 10,
      };
      // Public routes name their business by slug; a member or API key acts in a tenant id.
      if (route.includes(':tenant')) {
        const slug = /^\/v1\/public\/([a-z0-9-]{1,63})\//.exec(c.req.path)?.[1];
        if (slug) fields.tenant = slug;
      }
      if (caller && 'tenantId' in caller && caller.tenantId) fields.tenant_id = caller.tenantId;
      if (caller && 'userId' in caller && caller.userId) fields.user_id = caller.userId;
      const level = status >= 500 ? 'error' : QUIET_ROUTES.has(route) ? 'debug' : 'info';
      logger[level](fields, 'request');
    }
  };
}
