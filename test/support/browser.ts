import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { chromium, type Browser } from 'playwright-core';
import postgres from 'postgres';
import { afterAll, beforeAll, inject } from 'vitest';
import { createApp } from '#src/app.ts';
import type { AppDeps } from '#src/http/env.ts';
import type { StripeBilling } from '#src/lib/stripe-billing.ts';
import { createLogger } from '#src/lib/logger.ts';
import { scryptHasher } from '#src/lib/passwords.ts';
import { createTokenService } from '#src/lib/tokens.ts';
import { startAvailabilityHub, type AvailabilityHub } from '#src/web/live-availability.ts';
import { useTestDb, type TestDb } from './db.ts';
import { TEST_JWT_SECRET } from './http.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface E2e {
  db: TestDb;
  /** The API and pages, served over real HTTP on 127.0.0.1 (as `slotbase serve` would). */
  baseUrl: string;
  browser: Browser;
}

/**
 * A real server (the app as slotbase_api, with its live-availability hub) and Debian's Chromium
 * driven by playwright-core, for this test file.
 */
export function useE2e(options: { stripe?: StripeBilling; deps?: () => Partial<AppDeps> } = {}): () => E2e {
  const getDb = useTestDb();
  let sql: postgres.Sql | undefined;
  let hub: AvailabilityHub | undefined;
  let server: ServerType | undefined;
  let browser: Browser | undefined;
  let env: E2e | undefined;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
    const url = new URL(getDb().url!);
    url.username = 'slotbase_api';
    url.password = inject('apiPassword');
    sql = postgres(url.toString(), { max: 8, onnotice: () => {} });
    hub = await startAvailabilityHub(sql, createLogger('silent'));
    const app = createApp({
      sql,
      live: hub,
      tokens: createTokenService({ secret: TEST_JWT_SECRET }),
      passwords: scryptHasher,
      logger: createLogger('silent'),
      rateLimit: false,
      ...(options.stripe ? { stripe: options.stripe } : {}),
      // Called in beforeAll, after hooks registered earlier (a stand-in server) have run.
      ...options.deps?.(),
    });
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    const { port } = server.address() as AddressInfo;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    env = { db: getDb(), baseUrl: `http://127.0.0.1:${port}`, browser };
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
    if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
    await sql?.end({ timeout: 5 });
  });
  return () => {
    if (!env) throw new Error('the e2e environment is created in beforeAll');
    return env;
  };
}

/** A plain page on another origin (a business's own website) serving `html`. */
export async function hostPage(html: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  // "localhost" and "127.0.0.1" are different origins: the host page is cross-origin to the app.
  return { url: `http://localhost:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
