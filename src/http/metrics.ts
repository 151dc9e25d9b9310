import type { WorkerEvents } from 'graphile-worker';
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type postgres from 'postgres';
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
  /** Counts the runs of a worker in this process (`slotbase start`) by task and outcome. */
  observeWorker(events: WorkerEvents): void;
}

/** A postgres.js pool that knows how many of its connections are held right now (postgres.js does not tell). */
export interface InstrumentedPool {
  sql: postgres.Sql;
  max: number;
  /** Connections held by open transactions (`sql.begin`) and reservations (`sql.reserve`): every request's work runs in one. */
  inUse(): number;
}

/**
 * Wraps `sql` so `begin` and `reserve` are counted while they hold a connection. Single queries
 * outside a transaction (API-key lookup, /ready) are short and not counted.
 */
export function instrumentPool(sql: postgres.Sql, max: number): InstrumentedPool {
  let held = 0;
  const wrapped = new Proxy(sql, {
    get(target, property, receiver) {
      if (property === 'begin') {
        return (...args: unknown[]) => {
          held++;
          const run = (target.begin as (...a: unknown[]) => Promise<unknown>)(...args);
          return run.finally(() => held--);
        };
      }
      if (property === 'reserve') {
        return async () => {
          const reserved = await target.reserve();
          held++;
          let released = false;
          const release = reserved.release.bind(reserved);
          reserved.release = () => {
            if (!released) held--;
            released = true;
            release();
          };
          return reserved;
        };
      }
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
  return { sql: wrapped, max, inUse: () => held };
}

/** Bookings this process created or cancelled, recognised by the operation that answered (route pattern + success status). */
const BOOKING_OUTCOMES: Record<string, { counter: 'created' | 'cancelled'; source: string; status: number }> = {
  'POST /v1/public/:tenant/bookings': { counter: 'created', source: 'public', status: 201 },
  'POST /v1/bookings': { counter: 'created', source: 'staff', status: 201 },
  'DELETE /v1/public/bookings/:code': { counter: 'cancelled', source: 'public', status: 200 },
  'POST /v1/bookings/:id/cancel': { counter: 'cancelled', source: 'staff', status: 200 },
};

export function createMetrics(
  options: {
    live?: AvailabilityHub;
    token?: string;
    processMetrics?: boolean;
    /** The API's pool: its size and connections held (slotbase_db_pool_*). */
    pool?: InstrumentedPool;
    /** How long a scrape waits for the job-queue query before reporting without it. Default 2 s. */
    jobStatsTimeoutMs?: number;
  } = {},
): Metrics {
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
    help: 'Time to the response headers, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const bookings = {
    created: new Counter({
      name: 'slotbase_bookings_created_total',
      help: 'Bookings this process created (201 from POST /v1/public/{tenant}/bookings = public, POST /v1/bookings = staff); an idempotent replay counts again',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    cancelled: new Counter({
      name: 'slotbase_bookings_cancelled_total',
      help: 'Bookings this process cancelled (200 from DELETE /v1/public/bookings/{code} = public, POST /v1/bookings/{id}/cancel = staff)',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
  };
  for (const source of ['public', 'staff']) {
    bookings.created.inc({ source }, 0);
    bookings.cancelled.inc({ source }, 0);
  }
  let inFlight = 0;
  new Gauge({
    name: 'slotbase_http_requests_in_flight',
    help: 'Requests this process is answering right now',
    registers: [registry],
    collect() {
      this.set(inFlight);
    },
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
  const pool = options.pool;
  if (pool) {
    new Gauge({
      name: 'slotbase_db_pool_max',
      help: 'Connections the API pool of this process may open',
      registers: [registry],
      collect() {
        this.set(pool.max);
      },
    });
    new Gauge({
      name: 'slotbase_db_pool_in_use',
      help: 'Connections of the API pool held right now by transactions (every request runs in one); at slotbase_db_pool_max, requests queue',
      registers: [registry],
      collect() {
        this.set(pool.inUse());
      },
    });
    // One query per scrape, shared by the two gauges below (a second scrape within a second reuses it).
    const timeoutMs = options.jobStatsTimeoutMs ?? 2_000;
    let last: { at: number; rows: Promise<{ task: string; state: string; jobs: string }[] | undefined> } | undefined;
    const jobStats = () => {
      if (!last || performance.now() - last.at > 1_000) {
        let timer: NodeJS.Timeout | undefined;
        const query = pool.sql<{ task: string; state: string; jobs: string }[]>`select task, state, jobs from slotbase_private.job_queue_stats()`;
        const rows = Promise.race([
          query,
          new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('job stats timed out')), timeoutMs))),
        ]).then(
          (r) => [...r],
          () => undefined,
        );
        void rows.finally(() => clearTimeout(timer));
        last = { at: performance.now(), rows };
      }
      return last.rows;
    };
    new Gauge({
      name: 'slotbase_jobs',
      help: 'Unfinished jobs in the queue (all processes), by task and state: ready (due), scheduled (later), retrying (failed, will run again), running, failed (out of attempts)',
      labelNames: ['task', 'state'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const row of (await jobStats()) ?? []) this.set({ task: row.task, state: row.state }, Number(row.jobs));
      },
    });
    new Gauge({
      name: 'slotbase_jobs_up',
      help: '1 if this scrape could read the job queue (within 2 s), else 0 (slotbase_jobs is then empty)',
      registers: [registry],
      async collect() {
        this.set((await jobStats()) ? 1 : 0);
      },
    });
  }
  const jobRuns = new Counter({
    name: 'slotbase_job_runs_total',
    help: 'Job runs of the worker in this process (slotbase start), by task and outcome (success, error = will be retried or failed for good)',
    labelNames: ['task', 'outcome'] as const,
    registers: [registry],
  });
  const middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
    const started = performance.now();
    inFlight++;
    try {
      await next();
    } finally {
      inFlight--;
      // The pattern of the handler that answered ('/v1/bookings/:id'), so ids never become labels.
      const pattern = routePath(c, -1);
      const route = pattern === '*' || pattern === '/*' ? 'unmatched' : pattern;
      const method = c.req.method;
      const status = c.res.status;
      requests.inc({ method, route, status: String(status) });
      duration.observe({ method, route, status: String(status) }, (performance.now() - started) / 1000);
      const outcome = BOOKING_OUTCOMES[`${method} ${route}`];
      if (outcome && outcome.status === status) bookings[outcome.counter].inc({ source: outcome.source });
    }
  };
  return {
    registry,
    middleware,
    token: options.token,
    observeWorker(events) {
      events.on('job:success', ({ job }) => jobRuns.inc({ task: job.task_identifier, outcome: 'success' }));
      events.on('job:error', ({ job }) => jobRuns.inc({ task: job.task_identifier, outcome: 'error' }));
    },
  };
}
