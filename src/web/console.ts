import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '#src/http/env.ts';
import type { SupabaseProject } from '#src/http/supabase-auth.ts';

/**
 * The staff console at /console: one server-rendered shell plus plain ES modules
 * (src/web/console/console.js and the client generated from openapi/openapi.json,
 * api-client.js). It has no server-side logic of its own: everything it shows or changes goes
 * through the published API with the signed-in member's bearer token, so row-level security
 * decides what each member sees. Not part of the OpenAPI document: a page, not API.
 */
const ASSETS = new URL('./console/', import.meta.url);
type AssetName = 'console.js' | 'console.css' | 'api-client.js' | 'supabase.js';
const cache = new Map<AssetName, string>();
/**
 * Read on first use (the Edge Function never serves the console and needs no file access).
 * supabase.js is @supabase/supabase-js' own browser bundle (dist/umd: one self-contained file that
 * defines the global `supabase`), served from node_modules: the console loads nothing from a CDN.
 */
function asset(name: AssetName): string {
  let body = cache.get(name);
  if (body === undefined) {
    const file = name === 'supabase.js'
      ? createRequire(import.meta.url).resolve('@supabase/supabase-js/dist/umd/supabase.js')
      : new URL(name, ASSETS);
    body = readFileSync(file, 'utf8');
    cache.set(name, body);
  }
  return body;
}

/**
 * The console is never framed and loads nothing from elsewhere. It talks to this origin only, and,
 * when staff sign in through Supabase Auth, to that project's Auth API.
 */
const csp = (supabase: SupabaseProject | undefined) => [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  `connect-src 'self'${supabase ? ` ${new URL(supabase.url).origin}` : ''}`,
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The page. With a Supabase project configured, it names the project (URL and public anon key,
 * both meant for browsers) in meta tags and loads supabase-js first: console.js then signs staff
 * in through Supabase Auth instead of POST /v1/auth/login.
 */
const shell = (supabase: SupabaseProject | undefined) => html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
${supabase ? html`<meta name="slotbase-supabase-url" content="${supabase.url}">
<meta name="slotbase-supabase-anon-key" content="${supabase.anonKey}">
<script src="/console/assets/supabase.js"></script>
` : ''}<title>Slotbase console</title>
<link rel="stylesheet" href="/console/assets/console.css">
<script type="module" src="/console/assets/console.js"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top" id="top"><p class="brand">Slotbase console</p></header>
<main id="main" tabindex="-1"><p class="loading" role="status">Loading…</p>
<noscript><p class="error">The console needs JavaScript. Everything it does is also available through the <a href="/docs">API</a>.</p></noscript>
</main>
<p id="live" class="visually-hidden" aria-live="polite"></p>
</body>
</html>`;

export const consoleRouter = new Hono<AppEnv>()
  .get('/console/assets/:name{console\\.js|console\\.css|api-client\\.js|supabase\\.js}', (c) => {
    const name = c.req.param('name') as AssetName;
    const type = name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8';
    return c.body(asset(name), 200, { 'content-type': type, 'cache-control': 'no-cache' });
  })
  .get('/console', async (c) => {
    const supabase = c.var.deps.supabase;
    c.header('content-security-policy', csp(supabase));
    c.header('cache-control', 'no-store');
    return c.html(shell(supabase));
  });
