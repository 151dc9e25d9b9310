import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WorkerEvents } from 'graphile-worker';
import { serve, type ServerType } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import postgres from 'postgres';
import { createApp } from '#src/app.ts';
import type { Config } from '#src/config.ts';
import { readMigrations } from '#src/db/migrate.ts';
import type { Logger } from '#src/lib/logger.ts';
import { scryptHasher } from '#src/lib/passwords.ts';
import { supabaseFromConfig } from '#src/http/supabase-auth.ts';
import { createTokenService } from '#src/lib/tokens.ts';
import { stripeBillingFromConfig } from '#src/lib/stripe.ts';
import { startAvailabilityHub } from '#src/web/live-availability.ts';
import { createMetrics, instrumentPool } from '#src/http/metrics.ts';
import { loginProtectionOptions, memoryRateLimitStore, rateLimitBudgets } from '#src/http/rate-limit.ts';
import type { Readiness } from '#src/http/env.ts';

export interface RunningServer {
  url: string;
  /** Requests being answered right now. */
  inFlight(): number;
  /**
   * Graceful stop: stops accepting connections, ends live-availability streams, lets the requests
   * in flight finish for up to `timeoutMs` (default SHUTDOWN_TIMEOUT_MS), then cuts off what is
   * left and closes the pool. Resolves to the number of requests that were cut off. Idempotent.
   */
  close(options?: { timeoutMs?: number }): Promise<number>;
}

export const API_POOL_MAX = 20;

/** Serves the API on Node: one postgres.js pool as slotbase_api, the Hono app, graceful close. */
export async function startServer(options: {
  config: Config;
  logger: Logger;
  apiDatabaseUrl: string;
  jwtSecret: string;
  /** The worker running in this process (`slotbase start`): its health for /ready, its events for /metrics. */
  worker?: { health: NonNullable<Readiness['worker']>; events: WorkerEvents };
}): Promise<RunningServer> {
  const { config, logger } = options;
  const pool = instrumentPool(
    postgres(options.apiDatabaseUrl, {
      max: API_POOL_MAX,
      onnotice: () => {},
      // While PostgreSQL is down or restarting, requests must be answered 503 within seconds, not
      // queue behind a reconnect: postgres.js' default backoff grows to 20 s between attempts and
      // its connect timeout is 30 s. Retry at most every 0.5 s; give up on a connect after 5 s.
      backoff: (retries: number) => Math.min(0.05 * retries, 0.5),
      connect_timeout: 5,
      // A slow query is cancelled (57014 → 503 busy) rather than outliving its request (REQUEST_TIMEOUT_MS).
      connection: { application_name: 'slotbase-api', ...(config.REQUEST_TIMEOUT_MS > 0 ? { statement_timeout: config.REQUEST_TIMEOUT_MS } : {}) },
    }),
    API_POOL_MAX,
  );
  const sql = pool.sql;
  // One LISTEN per process feeds every booking page's live updates (its own connection).
  const live = await startAvailabilityHub(sql, logger);
  const inFlight = new Set<ServerResponse>();
  let closing = false;
  const readiness: Readiness = {
    expectedMigrations: (await readMigrations()).map((f) => f.name),
    worker: options.worker?.health,
    shuttingDown: () => closing,
  };
  const supabase = supabaseFromConfig(config);
  const metrics = createMetrics({ live, token: config.METRICS_TOKEN, pool });
  if (options.worker) metrics.observeWorker(options.worker.events);
  const app = createApp({
    sql,
    live,
    metrics,
    readiness,
    stripe: stripeBillingFromConfig(config),
    publicUrl: config.PUBLIC_URL,
    tokens: createTokenService({ secret: options.jwtSecret, ...supabase.tokenOptions }),
    supabase: supabase.project,
    passwords: scryptHasher,
    logger,
    bodyLimit: config.BODY_LIMIT_BYTES,
    rateLimit: {
      ...rateLimitBudgets(config),
      ...(config.RATE_LIMIT_STORE === 'memory' ? { store: memoryRateLimitStore() } : {}),
      trustProxy: config.TRUST_PROXY,
      clientAddress: (c) => getConnInfo(c).remote.address,
    },
    loginProtection: loginProtectionOptions(config),
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
  });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, () => resolve(s));
  });
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    inFlight.add(res);
    // Once shutdown began, a finished response also ends its keep-alive connection.
    if (closing) res.shouldKeepAlive = false;
    res.once('close', () => inFlight.delete(res));
  });
  const url = `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${config.PORT}`;
  logger.info({ url }, 'API listening');
  let closed: Promise<number> | undefined;
  return {
    url,
    inFlight: () => inFlight.size,
    close(closeOptions = {}) {
      return (closed ??= (async () => {
        closing = true;
        const timeoutMs = closeOptions.timeoutMs ?? config.SHUTDOWN_TIMEOUT_MS;
        const waiting = inFlight.size;
        if (waiting > 0) logger.info({ requests: waiting, timeoutMs }, 'finishing the requests in flight');
        for (const res of inFlight) res.shouldKeepAlive = false;
        // Stop accepting; idle keep-alive connections are closed now (Node >= 19), busy ones once answered.
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        if ('closeIdleConnections' in server) server.closeIdleConnections();
        // Open event streams would never finish on their own: the hub ends them first.
        await live.close();
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          stopped.then(() => false),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
        ]);
        clearTimeout(timer);
        let cutOff = 0;
        if (timedOut) {
          cutOff = inFlight.size;
          logger.warn({ requests: cutOff, timeoutMs }, 'shutdown timeout: cutting off the requests still in flight');
          if ('closeAllConnections' in server) server.closeAllConnections();
          await stopped;
        }
        // Queries of cut-off requests get up to 5 s more before their connections are closed.
        await sql.end({ timeout: 5 });
        logger.info({ cutOff }, 'API stopped');
        return cutOff;
      })());
    },
  };
}
