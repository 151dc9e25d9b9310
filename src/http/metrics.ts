import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AvailabilityHub } from '#src/web/live-availability.ts';
import type { AppEnv } from './env.ts';

/** Prometheus metrics of one API process (prom-client), served at GET /metrics. */
export interface Metrics {
  registry: Registry;
  /** Counts and times every request by method, route pattern (never the raw path) and status. */
  middleware: MiddlewareHandler<AppEnv>;
  /** When set, /metrics needs `Authorization: Bearer <token>`. */
  token?: string;
}

export function createMetrics(options: { live?: AvailabilityHub; token?: string; processMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'slotbase_' });
  const requests = new Counter({
    name: 'slotbase_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'slotbase_http_request_duration_seconds',
    help: 'Time to the response headers, by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const live = options.live;
  if (live) {
    new Gauge({
      name: 'slotbase_live_listeners',
      help: 'Booking pages connected to the live availability stream of this process',
      registers: [registry],
      collect() {
        this.set(live.listeners);
      },
    });
  }
  const middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      // The pattern of the handler that answered ('/v1/bookings/:id'), so ids never become labels.
      const pattern = routePath(c, -1);
      const route = pattern === '*' || pattern === '/*' ? 'unmatched' : pattern;
      const method = c.req.method;
      requests.inc({ method, route, status: String(c.res.status) });
      duration.observe({ method, route }, (performance.now() - started) / 1000);
    }
  };
  return { registry, middleware, token: options.token };
}
