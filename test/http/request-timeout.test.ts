import { Hono } from 'hono';
import postgres from 'postgres';
import { describe, expect, inject, it } from 'vitest';
import { ANON, withSession } from '#src/db/session.ts';
import type { AppEnv } from '#src/http/env.ts';
import { problemResponse, toProblem } from '#src/http/problem.ts';
import { requestTimeout } from '#src/http/request-timeout.ts';
import { useTestDb } from '../support/db.ts';
import { asApiRole } from '../support/processes.ts';

describe('request timeouts', () => {
  const db = useTestDb();

  /** The timeout in front of a handler that never answers (and one for an event stream). */
  function app(ms: number) {
    const app = new Hono<AppEnv>();
    app.use(requestTimeout(ms));
    app.get('/stuck', () => new Promise<Response>(() => {}));
    app.get('/v1/public/acme/events', async (c) => {
      await new Promise((resolve) => setTimeout(resolve, 60));
      return c.text('stream');
    });
    app.onError((error, c) => problemResponse(c, toProblem(error)));
    return app;
  }

  it('a request that is not answered in time gets 503 request_timeout with Retry-After, not a hang', async () => {
    const res = await app(20).request('/stuck');
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(((await res.json()) as { code: string }).code).toBe('request_timeout');
    expect(res.headers.get('retry-after')).toBe('1');
  });

  it('event streams are exempt', async () => {
    const res = await app(20).request('/v1/public/acme/events');
    expect(res.status).toBe(200);
  });

  it('the API connections\' statement_timeout cancels a slow query: 57014, answered 503 busy', async () => {
    // The pool as src/server.ts opens it: statement_timeout is a startup parameter of every connection.
    // (fetch_types off: postgres.js' own type query on connect would be cut off by so short a timeout on a busy machine.)
    const sql = postgres(asApiRole(db().url!, inject('apiPassword')), { max: 1, onnotice: () => {}, fetch_types: false, connection: { statement_timeout: 100 } });
    try {
      const error = await withSession(sql, ANON, (tx) => tx`select pg_sleep(5)`).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: '57014' });
      expect(toProblem(error)).toMatchObject({ status: 503, code: 'busy' });
      // The connection is usable again right away.
      expect(await withSession(sql, ANON, (tx) => tx`select 1 as one`)).toEqual([{ one: 1 }]);
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
});
