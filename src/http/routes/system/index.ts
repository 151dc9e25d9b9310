import { createRoute, z } from '@hono/zod-openapi';
import { createRouter } from '../../create-router.ts';
import { jsonContent, problems, withoutRateLimit } from '../../openapi.ts';
import { ProblemError, type Problem } from '../../problem.ts';
import { otherExamples } from '../../examples.ts';

const Health = z.object({ status: z.literal('ok') }).openapi('Health', { example: otherExamples.health });

const health = createRoute({
  method: 'get',
  path: '/health',
  operationId: 'getHealth',
  tags: ['System'],
  summary: 'Liveness: the process is up',
  responses: { 200: jsonContent(Health, 'The process is up'), ...withoutRateLimit(problems()) },
});

const ready = createRoute({
  method: 'get',
  path: '/ready',
  operationId: 'getReady',
  tags: ['System'],
  summary: 'Readiness: the database answers, every migration is applied, the in-process worker is up',
  description:
    'A 503 problem names what is not ready: `database_unavailable`, `migrations_pending` (the files are listed in `errors`), ' +
    '`worker_unavailable` (only when the worker runs in the API process) or `shutting_down`; with several, the code is `not_ready` ' +
    'and `errors` has one entry per check.',
  responses: { 200: jsonContent(Health, 'Ready to serve'), ...withoutRateLimit(problems(503)) },
});

type Failure = { code: string; title: string; field: string; message: string };

export const systemRouter = createRouter()
  .openapi(health, (c) => c.json({ status: 'ok' as const }, 200))
  .openapi(ready, async (c) => {
    const { sql, readiness } = c.var.deps;
    const failures: Failure[] = [];
    if (readiness?.shuttingDown?.()) {
      failures.push({ code: 'shutting_down', title: 'This process is shutting down', field: 'process', message: 'shutting down' });
    }
    let applied: string[] | undefined;
    try {
      if (readiness?.expectedMigrations) {
        applied = (await sql<{ name: string }[]>`select name from slotbase_private.applied_migrations() as name`).map((r) => r.name);
      } else {
        await sql`select 1`;
      }
    } catch {
      failures.push({ code: 'database_unavailable', title: 'The database is unavailable; try again shortly', field: 'database', message: 'unreachable' });
    }
    if (applied && readiness?.expectedMigrations) {
      const have = new Set(applied);
      const pending = readiness.expectedMigrations.filter((name) => !have.has(name));
      if (pending.length > 0) {
        failures.push({
          code: 'migrations_pending',
          title: 'The database lacks migrations this version needs; run `slotbase migrate`',
          field: 'migrations',
          message: `pending: ${pending.join(', ')}`,
        });
      }
    }
    const worker = readiness?.worker?.();
    if (worker && !worker.ok) {
      failures.push({ code: 'worker_unavailable', title: 'The worker in this process is not running', field: 'worker', message: worker.reason ?? 'not running' });
    }
    if (failures.length > 0) {
      const errors: Problem['errors'] = failures.map((f) => ({ field: f.field, message: f.message, code: f.code }));
      const [first] = failures;
      if (failures.length === 1) throw new ProblemError(503, first!.code, first!.title, undefined, errors);
      throw new ProblemError(503, 'not_ready', `Not ready: ${failures.map((f) => f.code).join(', ')}`, undefined, errors);
    }
    return c.json({ status: 'ok' as const }, 200);
  });
