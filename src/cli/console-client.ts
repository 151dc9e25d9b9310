import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Writes src/web/console/api-client.js from openapi/openapi.json: one exported function per
 * operationId, with JSDoc types derived from the schemas (the file starts with `// @ts-check`, so an
 * editor type-checks the staff console against the published contract). Plain browser JavaScript,
 * no dependencies: the console loads it as an ES module. Run by `npm run openapi`; a test fails
 * when the committed file differs from what this renders.
 */
const OPENAPI_FILE = fileURLToPath(new URL('../../openapi/openapi.json', import.meta.url));
export const CONSOLE_CLIENT_FILE = fileURLToPath(new URL('../web/console/api-client.js', import.meta.url));

interface Schema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  allOf?: Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  description?: string;
  format?: string;
}
interface Parameter { name: string; in: 'path' | 'query' | 'header' | 'cookie'; required?: boolean; description?: string; schema?: Schema }
interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  deprecated?: boolean;
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: Schema }> }>;
}
interface Spec {
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const key = (name: string) => (IDENT.test(name) ? name : JSON.stringify(name));
/** Text safe inside a JSDoc block comment, on one line. */
const doc = (text: string | undefined) => (text ?? '').replace(/\*\//g, '*\\/').replace(/\s*\n\s*/g, ' ').trim();
const refName = (ref: string) => ref.replace(/^#\/components\/schemas\//, '');

/** The TypeScript (JSDoc) type of a JSON schema, inline. */
function typeOf(schema: Schema | undefined): string {
  if (!schema) return 'unknown';
  if (schema.$ref) return refName(schema.$ref);
  if (schema.allOf) return schema.allOf.map((s) => wrap(typeOf(s))).join(' & ');
  if (schema.anyOf ?? schema.oneOf) return (schema.anyOf ?? schema.oneOf)!.map((s) => wrap(typeOf(s))).join(' | ');
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.length === 0) return schema.properties ? objectType(schema) : 'unknown';
  return types.map((t) => {
    switch (t) {
      case 'string': return 'string';
      case 'integer':
      case 'number': return 'number';
      case 'boolean': return 'boolean';
      case 'null': return 'null';
      case 'array': return `Array<${typeOf(schema.items)}>`;
      case 'object': return objectType(schema);
      default: return 'unknown';
    }
  }).join(' | ');
}
const wrap = (t: string) => (/[|&]/.test(t) && !/^\{.*\}$/.test(t) ? `(${t})` : t);

function objectType(schema: Schema): string {
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(schema.properties ?? {}).map(([name, s]) => `${key(name)}${required.has(name) ? '' : '?'}: ${typeOf(s)}`);
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') fields.push(`[key: string]: ${typeOf(schema.additionalProperties)}`);
  if (fields.length === 0) return schema.additionalProperties === false ? 'Record<string, never>' : 'Record<string, unknown>';
  return `{ ${fields.join(', ')} }`;
}

/** A named schema as a typedef: objects list their properties with descriptions (editor hovers). */
function typedef(name: string, schema: Schema): string {
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  const plainObject = schema.properties && types.length === 1 && types[0] === 'object' && !schema.allOf;
  const lines = ['/**'];
  if (schema.description) lines.push(` * ${doc(schema.description)}`);
  if (!plainObject) {
    lines.push(` * @typedef {${typeOf(schema)}} ${name}`, ' */');
    return lines.join('\n');
  }
  lines.push(` * @typedef {Object} ${name}`);
  const required = new Set(schema.required ?? []);
  for (const [prop, s] of Object.entries(schema.properties ?? {})) {
    const label = required.has(prop) ? prop : `[${prop}]`;
    lines.push(` * @property {${typeOf(s)}} ${label}${s.description ? ` ${doc(s.description)}` : ''}`);
  }
  lines.push(' */');
  return lines.join('\n');
}

function paramsType(params: Parameter[]): string {
  return `{ ${params.map((p) => `${key(p.name)}${p.required ? '' : '?'}: ${typeOf(p.schema)}`).join(', ')} }`;
}

/** The 2xx answer of an operation: its JSON body type, or how the client hands other bodies over. */
function successOf(op: Operation): { type: string; read: 'json' | 'text' | 'none' | 'stream' } {
  const ok = Object.entries(op.responses ?? {}).filter(([status]) => /^2\d\d$/.test(status)).sort(([a], [b]) => a.localeCompare(b));
  const types: string[] = [];
  let read: 'json' | 'text' | 'none' | 'stream' = 'none';
  for (const [, response] of ok) {
    const content = response.content ?? {};
    const json = content['application/json'];
    if (json) {
      types.push(typeOf(json.schema));
      read = 'json';
    } else if (content['text/event-stream']) {
      types.push('null');
      read = 'stream';
    } else if (Object.keys(content).length > 0) {
      types.push('string');
      read = 'text';
    } else types.push('null');
  }
  return { type: [...new Set(types)].join(' | ') || 'null', read };
}

export function renderConsoleClient(spec: Spec): string {
  const out: string[] = [];
  out.push(`// @ts-check
// GENERATED by src/cli/console-client.ts from openapi/openapi.json (${doc(spec.info.title)} ${doc(spec.info.version)}).
// Do not edit: run \`npm run openapi\`. A test fails when this file and the spec disagree.
//
// One function per operationId. Every function takes one argument object:
//   { path?, query?, headers?, body?, token?, signal? }   (path/query/headers/body typed per operation)
// and resolves to { ok: true, status, data, response } or { ok: false, status, problem, response },
// where \`problem\` is the RFC 9457 problem+json body (a stable \`code\`). Network failures reject.

/** Where the API lives; '' = the page's own origin. */
let baseUrl = '';
/** @param {string} url */
export function setBaseUrl(url) { baseUrl = url.replace(/\\/$/, ''); }

/**
 * @template T
 * @typedef {{ ok: true, status: number, data: T, response: Response } | { ok: false, status: number, problem: Problem, response: Response }} ApiResult
 */

/**
 * @typedef {Object} CallOptions
 * @property {string} [token] Bearer token (an access token or an API key)
 * @property {AbortSignal} [signal]
 */

/**
 * @param {string} method
 * @param {string} template
 * @param {'json' | 'text' | 'none' | 'stream'} read
 * @param {{ path?: Record<string, unknown>, query?: Record<string, unknown>, headers?: Record<string, unknown>, body?: unknown, token?: string, signal?: AbortSignal }} args
 * @returns {Promise<ApiResult<any>>}
 */
async function call(method, template, read, args) {
  const path = template.replace(/\\{([^}]+)\\}/g, (_, name) => encodeURIComponent(String(args.path?.[name] ?? '')));
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(args.query ?? {})) {
    if (value === undefined || value === null) continue;
    for (const v of Array.isArray(value) ? value : [value]) query.append(name, String(v));
  }
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json, application/problem+json' };
  for (const [name, value] of Object.entries(args.headers ?? {})) if (value !== undefined && value !== null) headers[name] = String(value);
  if (args.token) headers.authorization = \`Bearer \${args.token}\`;
  if (args.body !== undefined) headers['content-type'] = 'application/json';
  const qs = query.toString();
  const response = await fetch(\`\${baseUrl}\${path}\${qs ? \`?\${qs}\` : ''}\`, {
    method,
    headers,
    body: args.body === undefined ? undefined : JSON.stringify(args.body),
    signal: args.signal,
  });
  const type = response.headers.get('content-type') ?? '';
  if (!response.ok) {
    /** @type {Problem} */
    let problem = { type: 'about:blank', title: response.statusText || \`HTTP \${response.status}\`, status: response.status, code: \`http_\${response.status}\` };
    if (/json/.test(type)) {
      try { problem = { ...problem, ...(await response.json()) }; } catch { /* keep the generic problem */ }
    }
    return { ok: false, status: response.status, problem, response };
  }
  let data = null;
  if (read === 'json' && /json/.test(type)) data = await response.json();
  else if (read === 'text') data = await response.text();
  return { ok: true, status: response.status, data, response };
}
`);

  out.push('// ---------- schemas (components/schemas) ----------\n');
  for (const [name, schema] of Object.entries(spec.components?.schemas ?? {}).sort(([a], [b]) => a.localeCompare(b))) out.push(typedef(name, schema), '');

  out.push('// ---------- operations ----------\n');
  const operations: { id: string; method: string; path: string; op: Operation }[] = [];
  for (const [path, ops] of Object.entries(spec.paths)) {
    for (const method of METHODS) {
      const op = ops[method];
      if (!op?.operationId) continue;
      operations.push({ id: op.operationId, method: method.toUpperCase(), path, op });
    }
  }
  operations.sort((a, b) => a.id.localeCompare(b.id));
  for (const { id, method, path, op } of operations) {
    const params = op.parameters ?? [];
    const byIn = (where: Parameter['in']) => params.filter((p) => p.in === where);
    const fields: string[] = [];
    let argsRequired = false;
    for (const [where, list] of [['path', byIn('path')], ['query', byIn('query')], ['headers', byIn('header')]] as const) {
      if (list.length === 0) continue;
      const required = list.some((p) => p.required);
      argsRequired ||= required;
      fields.push(`${where}${required ? '' : '?'}: ${paramsType(list)}`);
    }
    const json = op.requestBody?.content?.['application/json'];
    if (json) {
      const required = op.requestBody?.required === true;
      argsRequired ||= required;
      fields.push(`body${required ? '' : '?'}: ${typeOf(json.schema)}`);
    }
    const success = successOf(op);
    const lines = ['/**'];
    if (op.summary) lines.push(` * ${doc(op.summary)}`);
    if (op.description) lines.push(' *', ` * ${doc(op.description)}`);
    lines.push(' *', ` * \`${method} ${path}\`${op.security?.length ? ' (needs a bearer token)' : ''}`);
    if (op.deprecated) lines.push(' * @deprecated');
    const argType = fields.length ? `{ ${fields.join(', ')} } & CallOptions` : 'CallOptions';
    lines.push(` * @param {${argType}} ${argsRequired ? 'args' : '[args]'}`);
    lines.push(` * @returns {Promise<ApiResult<${success.type}>>}`);
    lines.push(' */');
    out.push(lines.join('\n'));
    out.push(`export function ${id}(args${argsRequired ? '' : ' = {}'}) {\n  return call(${JSON.stringify(method)}, ${JSON.stringify(path)}, ${JSON.stringify(success.read)}, args);\n}\n`);
  }
  return `${out.join('\n').trimEnd()}\n`;
}

export async function writeConsoleClient(file: string = CONSOLE_CLIENT_FILE): Promise<string> {
  const spec = JSON.parse(await readFile(OPENAPI_FILE, 'utf8')) as Spec;
  await writeFile(file, renderConsoleClient(spec));
  return file;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`wrote ${await writeConsoleClient()}`);
}
