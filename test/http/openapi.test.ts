import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import openapiTS, { astToString, COMMENT_HEADER, type OpenAPI3 } from 'openapi-typescript';
import { describe, expect, it } from 'vitest';
import { OPENAPI_FILE, renderOpenApi } from '#src/cli/openapi.ts';

const TYPES_FILE = fileURLToPath(new URL('../support/api-types.d.ts', import.meta.url));

describe('published OpenAPI document', () => {
  it('openapi/openapi.json is exactly what the code defines (run `npm run openapi` after changing routes)', async () => {
    expect(await readFile(OPENAPI_FILE, 'utf8')).toBe(renderOpenApi());
  });

  it('test/support/api-types.d.ts is exactly what openapi-typescript makes of openapi/openapi.json (run `npm run openapi`)', async () => {
    // The same input and options as the `openapi` script: defaults do not make request properties required.
    const spec = JSON.parse(await readFile(OPENAPI_FILE, 'utf8')) as OpenAPI3;
    const nodes = await openapiTS(spec, { defaultNonNullable: false, silent: true });
    expect(await readFile(TYPES_FILE, 'utf8')).toBe(`${COMMENT_HEADER}${astToString(nodes)}`);
  }, 30_000);

  it('every operation has an operationId, a summary, a tag, and documents its problem responses', () => {
    const doc = JSON.parse(renderOpenApi()) as {
      openapi: string;
      paths: Record<string, Record<string, { operationId?: string; summary?: string; tags?: string[]; responses: Record<string, { content?: Record<string, unknown> }> }>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    const ids = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(op.operationId, where).toBeTruthy();
        expect(ids.has(op.operationId!), `${where}: duplicate operationId`).toBe(false);
        ids.add(op.operationId!);
        expect(op.summary, where).toBeTruthy();
        expect(op.tags?.length, where).toBeGreaterThan(0);
        const errors = Object.entries(op.responses).filter(([status]) => Number(status) >= 400);
        expect(errors.length, `${where} documents no error response`).toBeGreaterThan(0);
        for (const [status, response] of errors) expect(Object.keys(response.content ?? {}), `${where} ${status}`).toEqual(['application/problem+json']);
      }
    }
  });

  it('passes the spectral:oas ruleset with no errors', async () => {
    const result = await promisify(execFile)(
      process.execPath,
      ['node_modules/@stoplight/spectral-cli/dist/index.js', 'lint', OPENAPI_FILE, '--ruleset', '.spectral.yaml', '--fail-severity', 'error', '--format', 'json', '--quiet'],
      { maxBuffer: 10 * 1024 * 1024 },
    ).catch((e: { stdout?: string; code?: number }) => ({ stdout: e.stdout ?? '', failed: e.code }));
    const findings = JSON.parse(result.stdout || '[]') as { severity: number; code: string; path: string[] }[];
    expect(findings.filter((f) => f.severity === 0).map((f) => `${f.code} at ${f.path.join('.')}`)).toEqual([]);
    expect('failed' in result ? result.failed : 0).toBe(0);
  }, 60_000);
});
