import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type postgres from 'postgres';
import { createApp, openApiDocument } from '#src/app.ts';
import { createLogger } from '#src/lib/logger.ts';
import { scryptHasher } from '#src/lib/passwords.ts';
import { createTokenService } from '#src/lib/tokens.ts';

export const OPENAPI_FILE = fileURLToPath(new URL('../../openapi/openapi.json', import.meta.url));

/** The OpenAPI document as the code defines it, serialized exactly as it is committed. */
export function renderOpenApi(): string {
  // Building the document touches no dependency: the pool is never queried.
  const app = createApp({
    sql: undefined as unknown as postgres.Sql,
    tokens: createTokenService({ secret: 'x'.repeat(32) }),
    passwords: scryptHasher,
    logger: createLogger('silent'),
  });
  return `${JSON.stringify(openApiDocument(app), null, 2)}\n`;
}

export async function writeOpenApiFile(file: string = OPENAPI_FILE): Promise<string> {
  await writeFile(file, renderOpenApi());
  return file;
}
