import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './env.ts';
import { ProblemError } from './problem.ts';

/** Every router shares one validation hook: a zod failure becomes a 422 problem with field errors. */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw new ProblemError(
          422,
          'validation_failed',
          'The request is not valid',
          undefined,
          result.error.issues.map((i) => ({
            field: i.path.join('.') || '(body)',
            message: i.message,
            code: i.code,
          })),
        );
      }
    },
  });
}
