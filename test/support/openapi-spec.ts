import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { OPENAPI_FILE } from '#src/cli/openapi.ts';

/**
 * The committed OpenAPI document (openapi/openapi.json), read as data: generic tests iterate its
 * operations instead of a hand-written list, so a new route is covered the day it lands.
 */

/** The part of JSON Schema 2020-12 (OpenAPI 3.1) that the generators below understand. */
export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  default?: unknown;
  example?: unknown;
  examples?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
}

/** An OpenAPI Example Object (the values of a media type's or parameter's `examples`). */
export interface ExampleObject {
  summary?: string;
  value?: unknown;
  $ref?: string;
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: JsonSchema;
  example?: unknown;
  examples?: Record<string, ExampleObject>;
}

export interface MediaType {
  schema?: JsonSchema;
  example?: unknown;
  examples?: Record<string, ExampleObject>;
}

export interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, MediaType> };
  responses: Record<string, { content?: Record<string, MediaType> }>;
  security?: Record<string, string[]>[];
}

export interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, JsonSchema> };
}

export interface SpecOperation {
  method: string;
  /** The path template, e.g. `/v1/services/{id}/providers/{provider_id}`. */
  path: string;
  op: Operation;
  /** `METHOD /path` for messages and test names. */
  label: string;
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace']);

export function loadSpec(): OpenApiDoc {
  return JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as OpenApiDoc;
}

export function operationsOf(spec: OpenApiDoc): SpecOperation[] {
  const out: SpecOperation[] = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.has(method)) continue;
      out.push({ method: method.toUpperCase(), path, op, label: `${method.toUpperCase()} ${path}` });
    }
  }
  return out;
}

export function pathParams(op: SpecOperation): Parameter[] {
  return (op.op.parameters ?? []).filter((p) => p.in === 'path');
}

/** Follows local `$ref`s (`#/components/schemas/X`). */
export function deref(spec: OpenApiDoc, schema: JsonSchema): JsonSchema {
  let s = schema;
  for (let hops = 0; s.$ref; hops++) {
    if (hops > 20) throw new Error(`$ref cycle at ${s.$ref}`);
    const parts = s.$ref.replace(/^#\//, '').split('/');
    let target: unknown = spec;
    for (const part of parts) target = (target as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    if (!target) throw new Error(`unresolvable $ref ${s.$ref}`);
    s = target as JsonSchema;
  }
  return s;
}

/** The JSON request body schema of an operation, if it takes one. */
export function requestSchema(spec: OpenApiDoc, op: SpecOperation): JsonSchema | undefined {
  const schema = op.op.requestBody?.content['application/json']?.schema;
  return schema ? deref(spec, schema) : undefined;
}

export interface SampleContext {
  /** The id to use for a property named `<something>_id` (tenant A's, in the cross-tenant test). */
  idFor?: (property: string) => string | undefined;
}

/**
 * A minimal valid value for a schema: required properties only (an object with none gets its
 * first property, since PATCH bodies must change something), an example when the schema has
 * one, otherwise the first enum value, a value of the format, or the shortest string allowed.
 */
export function sample(spec: OpenApiDoc, schema: JsonSchema, ctx: SampleContext = {}, name?: string): unknown {
  const s = deref(spec, schema);
  if (name?.endsWith('_id')) {
    const id = ctx.idFor?.(name);
    if (id) return id;
  }
  if (s.const !== undefined) return s.const;
  // A whole-object example (documentation) would bypass idFor: objects are built property by property.
  const composite = s.properties !== undefined || s.allOf !== undefined;
  if (!composite && s.examples?.length) return s.examples[0];
  if (!composite && s.example !== undefined) return s.example;
  if (s.enum?.length) return s.enum.find((v) => v !== null) ?? s.enum[0];
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) {
    const first = alternatives.map((a) => deref(spec, a)).find((a) => a.type !== 'null') ?? alternatives[0]!;
    return sample(spec, first, ctx, name);
  }
  if (s.allOf) return Object.assign({}, ...s.allOf.map((part) => sample(spec, part, ctx, name)));
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  const type = types.find((t) => t !== 'null') ?? (s.properties ? 'object' : 'null');
  switch (type) {
    case 'object': {
      const props = s.properties ?? {};
      const keys = s.required?.length ? s.required : Object.keys(props).slice(0, 1);
      return Object.fromEntries(keys.map((key) => [key, sample(spec, props[key] ?? {}, ctx, key)]));
    }
    case 'array':
      return Array.from({ length: s.minItems ?? 0 }, () => sample(spec, s.items ?? {}, ctx));
    case 'string':
      return sampleString(s);
    case 'integer':
    case 'number':
      return s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 1);
    case 'boolean':
      return false;
    default:
      return null;
  }
}

function sampleString(s: JsonSchema): string {
  switch (s.format) {
    case 'uuid':
      return randomUUID();
    case 'date-time':
      return new Date(Date.now() + 7 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    case 'date':
      return new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);
    case 'email':
      return 'someone@example.test';
  }
  if (s.pattern) throw new Error(`cannot generate a string for pattern ${s.pattern}: give the property an example`);
  return 'x'.repeat(Math.max(s.minLength ?? 1, 1));
}

/** `/v1/x/{id}` → a RegExp matching concrete paths, with the template's parameter names in order. */
function templateMatcher(template: string): RegExp {
  const source = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+');
  return new RegExp(`^${source}$`);
}

/**
 * The operation a concrete request hits. Literal segments win over parameters
 * (`/v1/sessions/generate` before `/v1/sessions/{id}`), as in the router.
 */
export function matchOperation(spec: OpenApiDoc, method: string, url: string): SpecOperation | undefined {
  const pathname = new URL(url, 'http://x').pathname;
  const candidates = operationsOf(spec).filter((o) => o.method === method.toUpperCase() && templateMatcher(o.path).test(pathname));
  const literalScore = (p: string) => p.split('/').filter((seg) => seg && !seg.startsWith('{')).length;
  return candidates.sort((a, b) => literalScore(b.path) - literalScore(a.path))[0];
}

/**
 * Ajv (JSON Schema 2020-12, as OpenAPI 3.1 uses) with every component schema registered under
 * `components#/$defs/<Name>`, so an operation's schema can be compiled with its `$ref`s intact.
 */
export function schemaCompiler(spec: OpenApiDoc): (schema: JsonSchema) => ValidateFunction {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictTuples: false });
  // ajv-formats is CommonJS: under NodeNext its default import is module.exports, whose `default` is the plugin.
  addFormatsModule.default(ajv);
  ajv.addVocabulary(['example', 'xml', 'externalDocs', 'discriminator']);
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? v.replace('#/components/schemas/', 'components#/$defs/') : rewrite(v)]),
      );
    }
    return value;
  };
  ajv.addSchema({ $id: 'components', $defs: rewrite(spec.components.schemas) as Record<string, unknown> });
  const cache = new Map<string, ValidateFunction>();
  return (schema) => {
    const key = JSON.stringify(schema);
    let validate = cache.get(key);
    if (!validate) {
      validate = ajv.compile(rewrite(schema) as object);
      cache.set(key, validate);
    }
    return validate;
  };
}

/** The validator of the body an operation documents for (status, content type), or why there is none. */
export function responseValidator(spec: OpenApiDoc): (op: SpecOperation, status: number, contentType: string) => ValidateFunction | 'undocumented-status' | 'undocumented-content-type' | 'no-content' {
  const compile = schemaCompiler(spec);
  return (op, status, contentType) => {
    const response = op.op.responses[String(status)] ?? op.op.responses[`${String(status)[0]}XX`] ?? op.op.responses.default;
    if (!response) return 'undocumented-status';
    if (!response.content) return 'no-content';
    const media = response.content[contentType];
    if (!media?.schema) return 'undocumented-content-type';
    return compile(media.schema);
  };
}
