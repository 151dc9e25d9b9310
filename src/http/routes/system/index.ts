import { createRoute, z } from '@hono/zod-openapi';
import { createRouter } from '../../create-router.ts';
import { jsonContent, problems, withoutRateLimit } from '../../openapi.ts';
import { ProblemError } from '../../problem.ts';
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
  summary: 'Readiness: the database answers',
  responses: { 200: jsonContent(Health, 'Ready to serve'), ...withoutRateLimit(problems(503)) },
});

export const systemRouter = createRouter()
  .openapi(health, (c) => c.json({ status: 'ok' as const }, 200))
  .openapi(ready, async (c) => {
    try {
      await c.var.deps.sql`select 1`;
    } catch {
      throw new ProblemError(503, 'database_unavailable', 'The database is unavailable; try again shortly');
    }
    return c.json({ status: 'ok' as const }, 200);
  });
