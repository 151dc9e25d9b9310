import { describe, expect, it } from 'vitest';
import { renderOpenApi } from '#src/cli/openapi.ts';
import { deref, operationsOf, schemaCompiler, type ExampleObject, type JsonSchema, type MediaType, type OpenApiDoc } from '../support/openapi-spec.ts';

/**
 * The examples of the OpenAPI document the code generates: every `example` / `examples` value —
 * on component schemas and their properties, on request and response media types, on parameters —
 * must validate against the schema it annotates (ajv, JSON Schema 2020-12 with formats), must not
 * use properties the schema does not declare, and every operation must show one: a request
 * example when it takes a body, a success example when it returns one, and per-status problem
 * examples for its error responses. It walks the document, so new routes are covered the day they land.
 */

const spec = JSON.parse(renderOpenApi()) as OpenApiDoc;
const compile = schemaCompiler(spec);
const operations = operationsOf(spec);

interface Example {
  where: string;
  schema: JsonSchema;
  value: unknown;
}

type SchemaNode = JsonSchema & { prefixItems?: JsonSchema[]; not?: JsonSchema; $defs?: Record<string, JsonSchema> };

/** Every example in a schema tree, with the (sub)schema it annotates. `$ref`s are not followed: components are walked on their own. */
function schemaExamples(schema: SchemaNode | undefined, where: string, out: Example[]): Example[] {
  if (!schema || typeof schema !== 'object') return out;
  if (schema.example !== undefined) out.push({ where: `${where} (example)`, schema, value: schema.example });
  (schema.examples ?? []).forEach((value, i) => out.push({ where: `${where} (examples[${i}])`, schema, value }));
  for (const [name, sub] of Object.entries(schema.properties ?? {})) schemaExamples(sub, `${where}.${name}`, out);
  if (schema.items) schemaExamples(schema.items, `${where}[]`, out);
  (schema.prefixItems ?? []).forEach((sub, i) => schemaExamples(sub, `${where}[${i}]`, out));
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') schemaExamples(schema.additionalProperties, `${where}{*}`, out);
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) (schema[key] ?? []).forEach((sub, i) => schemaExamples(sub, `${where}/${key}/${i}`, out));
  if (schema.not) schemaExamples(schema.not, `${where}/not`, out);
  for (const [name, sub] of Object.entries(schema.$defs ?? {})) schemaExamples(sub, `${where}/$defs/${name}`, out);
  return out;
}

/** An Example Object, or the one its `$ref` points to. */
const exampleValue = (example: ExampleObject): unknown => (example.$ref ? (deref(spec, example as JsonSchema) as ExampleObject).value : example.value);

function mediaExamples(media: MediaType, where: string, out: Example[]): void {
  if (!media.schema) return;
  schemaExamples(media.schema, `${where} schema`, out);
  if (media.example !== undefined) out.push({ where: `${where} example`, schema: media.schema, value: media.example });
  for (const [name, example] of Object.entries(media.examples ?? {})) out.push({ where: `${where} examples.${name}`, schema: media.schema, value: exampleValue(example) });
}

function allExamples(): Example[] {
  const out: Example[] = [];
  for (const [name, schema] of Object.entries(spec.components.schemas)) schemaExamples(schema, `#/components/schemas/${name}`, out);
  for (const { label, op } of operations) {
    for (const p of op.parameters ?? []) {
      const where = `${label} ${p.in} parameter ${p.name}`;
      schemaExamples(p.schema, `${where} schema`, out);
      if (p.schema && p.example !== undefined) out.push({ where: `${where} example`, schema: p.schema, value: p.example });
      for (const [name, example] of Object.entries(p.examples ?? {})) if (p.schema) out.push({ where: `${where} examples.${name}`, schema: p.schema, value: exampleValue(example) });
    }
    for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) mediaExamples(media, `${label} request ${type}`, out);
    for (const [status, response] of Object.entries(op.responses)) {
      for (const [type, media] of Object.entries(response.content ?? {})) mediaExamples(media, `${label} ${status} ${type}`, out);
    }
  }
  return out;
}

/** The schema and the parts it is made of (allOf, transitively), each dereferenced. */
function parts(schema: JsonSchema): JsonSchema[] {
  const s = deref(spec, schema);
  return [s, ...(s.allOf ?? []).flatMap(parts)];
}

/**
 * Keys of an example that its schema does not declare (response schemas are open, so ajv alone
 * would accept a misspelt property). Free-form objects (no `properties`) are not checked.
 */
function undeclaredKeys(schema: JsonSchema, value: unknown, path: string): string[] {
  if (value === null || typeof value !== 'object') return [];
  const s = deref(spec, schema);
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) {
    const match = alternatives.find((a) => compile(a)(value));
    return match ? undeclaredKeys(match, value, path) : [];
  }
  if (Array.isArray(value)) return s.items ? value.flatMap((v, i) => undeclaredKeys(s.items!, v, `${path}[${i}]`)) : [];
  const all = parts(s);
  if (!all.some((p) => p.properties)) return [];
  const properties: Record<string, JsonSchema> = Object.assign({}, ...all.map((p) => p.properties ?? {}));
  const rest = all.map((p) => p.additionalProperties).find((a): a is JsonSchema => typeof a === 'object');
  return Object.entries(value).flatMap(([key, v]) => {
    const sub = properties[key] ?? rest;
    return sub ? undeclaredKeys(sub, v, `${path}.${key}`) : [`${path}.${key}`];
  });
}

/** Whether a media type shows an example: its own, or its schema's. */
function hasExample(media: MediaType): boolean {
  if (media.example !== undefined || Object.keys(media.examples ?? {}).length > 0) return true;
  if (!media.schema) return false;
  const s = deref(spec, media.schema);
  return s.example !== undefined || (s.examples?.length ?? 0) > 0;
}

describe('OpenAPI examples', () => {
  const examples = allExamples();

  it('every example validates against the schema it annotates', () => {
    expect(examples.length).toBeGreaterThan(200);
    const invalid = examples.flatMap(({ where, schema, value }) => {
      const validate = compile(schema);
      return validate(value) ? [] : [`${where}: ${JSON.stringify(value)} → ${JSON.stringify(validate.errors)}`];
    });
    expect(invalid).toEqual([]);
  });

  it('no example uses a property its schema does not declare', () => {
    expect(examples.flatMap(({ where, schema, value }) => undeclaredKeys(schema, value, where))).toEqual([]);
  });

  it('every operation shows a request example (when it takes a body) and a success example (when it returns one)', () => {
    const missing: string[] = [];
    for (const { label, op } of operations) {
      for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) {
        if (!hasExample(media)) missing.push(`${label}: request ${type}`);
      }
      const successes = Object.entries(op.responses).filter(([status]) => /^2/.test(status));
      if (successes.length === 0) missing.push(`${label}: no success response`);
      // A bodiless success (204) has nothing to show; every success with a body must.
      for (const [status, response] of successes) {
        for (const [type, media] of Object.entries(response.content ?? {})) if (!hasExample(media)) missing.push(`${label}: ${status} ${type}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('every error response shows representative problems of its own status', () => {
    const wrong: string[] = [];
    for (const { label, op } of operations) {
      for (const [status, response] of Object.entries(op.responses).filter(([s]) => Number(s) >= 400)) {
        const media = response.content?.['application/problem+json'];
        const shown = Object.entries(media?.examples ?? {});
        if (shown.length === 0) wrong.push(`${label} ${status}: no problem examples`);
        for (const [name, example] of shown) {
          const problem = exampleValue(example) as { status?: number; code?: string; type?: string };
          if (problem.status !== Number(status)) wrong.push(`${label} ${status} examples.${name}: status ${problem.status}`);
          if (problem.type !== `https://slotbase.dev/problems/${problem.code}`) wrong.push(`${label} ${status} examples.${name}: type ${problem.type} does not name code ${problem.code}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('every parameter shows an example', () => {
    const missing = operations.flatMap(({ label, op }) =>
      (op.parameters ?? [])
        .filter((p) => p.example === undefined && Object.keys(p.examples ?? {}).length === 0 && (!p.schema || deref(spec, p.schema).example === undefined))
        .map((p) => `${label}: ${p.in} ${p.name}`));
    expect(missing).toEqual([]);
  });
});
