import postgres from 'postgres';
import { afterAll, beforeAll, inject } from 'vitest';
import { createApp } from '#src/app.ts';
import type { AppDeps } from '#src/http/env.ts';
import { createLogger } from '#src/lib/logger.ts';
import { scryptHasher } from '#src/lib/passwords.ts';
import { createTokenService, type TokenService } from '#src/lib/tokens.ts';
import { useTestDb, type TestDb } from './db.ts';

export const TEST_JWT_SECRET = 'test-secret-for-slotbase-access-tokens-0123456789';
export const TEST_SUPABASE_JWT_SECRET = 'test-supabase-project-jwt-secret-0123456789abcdef';

export interface TestApi {
  db: TestDb;
  tokens: TokenService;
  /** `app.request` with JSON conveniences. */
  request(method: string, path: string, options?: { body?: unknown; token?: string; headers?: Record<string, string> }): Promise<Response>;
  json<T = Record<string, unknown>>(method: string, path: string, options?: { body?: unknown; token?: string; headers?: Record<string, string> }): Promise<{ status: number; body: T; headers: Headers }>;
}

/**
 * The app against this file's database, connected as the API's own login role (slotbase_api),
 * exactly as in production: never superuser, never BYPASSRLS. `overrides` may be a function, called
 * in beforeAll (after earlier-registered hooks, e.g. a stand-in server, have started).
 */
export function useApi(overrides: Partial<AppDeps> | (() => Partial<AppDeps>) = {}): () => TestApi {
  const getDb = useTestDb();
  let api: TestApi | undefined;
  let sql: postgres.Sql | undefined;
  beforeAll(async () => {
    const url = new URL(getDb().url!);
    url.username = 'slotbase_api';
    url.password = inject('apiPassword');
    sql = postgres(url.toString(), { max: 8, onnotice: () => {} });
    const tokens = createTokenService({ secret: TEST_JWT_SECRET, supabaseJwtSecret: TEST_SUPABASE_JWT_SECRET });
    const app = createApp({ sql, tokens, passwords: scryptHasher, logger: createLogger('silent'), bodyLimit: 64 * 1024, ...(typeof overrides === 'function' ? overrides() : overrides) });
    const request: TestApi['request'] = async (method, path, options = {}) =>
      app.request(path, {
        method,
        headers: {
          ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...options.headers,
        },
        body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
      });
    api = {
      db: getDb(),
      tokens,
      request,
      async json(method, path, options) {
        const res = await request(method, path, options);
        const text = await res.text();
        return { status: res.status, body: (text ? JSON.parse(text) : null) as never, headers: res.headers };
      },
    };
  });
  afterAll(async () => {
    await sql?.end({ timeout: 5 });
  });
  return () => {
    if (!api) throw new Error('the API is created in beforeAll');
    return api;
  };
}
