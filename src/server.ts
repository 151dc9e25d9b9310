import { serve, type ServerType } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import postgres from 'postgres';
import { createApp } from '#src/app.ts';
import type { Config } from '#src/config.ts';
import type { Logger } from '#src/lib/logger.ts';
import { scryptHasher } from '#src/lib/passwords.ts';
import { createTokenService } from '#src/lib/tokens.ts';
import { stripeBillingFromConfig } from '#src/lib/stripe.ts';
import { startAvailabilityHub } from '#src/web/live-availability.ts';
import { createMetrics } from '#src/http/metrics.ts';

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Serves the API on Node: one postgres.js pool as slotbase_api, the Hono app, graceful close. */
export async function startServer(options: {
  config: Config;
  logger: Logger;
  apiDatabaseUrl: string;
  jwtSecret: string;
}): Promise<RunningServer> {
  const { config, logger } = options;
  const sql = postgres(options.apiDatabaseUrl, {
    max: 20,
    onnotice: () => {},
    // While PostgreSQL is down or restarting, requests must be answered 503 within seconds, not
    // queue behind a reconnect: postgres.js' default backoff grows to 20 s between attempts and
    // its connect timeout is 30 s. Retry at most every 0.5 s; give up on a connect after 5 s.
    backoff: (retries: number) => Math.min(0.05 * retries, 0.5),
    connect_timeout: 5,
    connection: { application_name: 'slotbase-api' },
  });
  // One LISTEN per process feeds every booking page's live updates (its own connection).
  const live = await startAvailabilityHub(sql, logger);
  const app = createApp({
    sql,
    live,
    metrics: createMetrics({ live, token: config.METRICS_TOKEN }),
    stripe: stripeBillingFromConfig(config),
    publicUrl: config.PUBLIC_URL,
    tokens: createTokenService({ secret: options.jwtSecret, supabaseJwtSecret: config.SUPABASE_JWT_SECRET }),
    passwords: scryptHasher,
    logger,
    bodyLimit: config.BODY_LIMIT_BYTES,
    rateLimit: {
      public: { limit: config.RATE_LIMIT_PUBLIC_PER_MINUTE, windowSeconds: 60 },
      authenticated: { limit: config.RATE_LIMIT_AUTHENTICATED_PER_MINUTE, windowSeconds: 60 },
      trustProxy: config.TRUST_PROXY,
      clientAddress: (c) => getConnInfo(c).remote.address,
    },
  });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, () => resolve(s));
  });
  const url = `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${config.PORT}`;
  logger.info({ url }, 'API listening');
  return {
    url,
    async close() {
      // Open event streams would keep close() waiting: the hub ends them first.
      await live.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await sql.end({ timeout: 5 });
    },
  };
}
