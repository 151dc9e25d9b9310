import { createMiddleware } from 'hono/factory';
import type { AppEnv } from './env.ts';
import { ProblemError } from './problem.ts';

/** Long-lived by design: Server-Sent Events streams. */
const STREAMS = /^\/v1\/public\/[^/]+\/events\/?$/;

/**
 * A request not answered within `ms` gets 503 `request_timeout` (with Retry-After), so a slow query
 * or a stuck upstream never holds a client forever. The database side is bounded too: the API's
 * connections run with `statement_timeout` (src/server.ts), so the query itself is cancelled
 * (57014 → 503 `busy`) instead of running on after the client got its answer. Event streams are
 * exempt. `ms` ≤ 0 turns it off.
 */
export function requestTimeout(ms: number) {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (ms <= 0 || STREAMS.test(c.req.path)) return next();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        c.header('Retry-After', '1');
        reject(new ProblemError(503, 'request_timeout', 'The request took too long; try again shortly'));
      }, ms);
    });
    try {
      await Promise.race([next(), expired]);
    } finally {
      clearTimeout(timer);
    }
  });
}
