import { readFileSync } from 'node:fs';
import { Hono } from 'hono';
import { html, raw } from 'hono/html';
import { withSession } from '#src/db/session.ts';
import type { AppEnv } from '#src/http/env.ts';

/**
 * The booking page, the manage page and the embed script: server-rendered shells plus one small
 * script (src/web/static/booking.js, no framework) that talks to the public API and listens to
 * live availability. Not part of the OpenAPI document: these are pages, not API.
 */
const STATIC = new URL('./static/', import.meta.url);
const assets = new Map<string, { body: string; type: string }>();
/** Read on first use (the Edge Function never serves pages and needs no file access). */
function asset(name: 'booking.js' | 'booking.css' | 'embed.js'): { body: string; type: string } {
  let a = assets.get(name);
  if (!a) {
    a = { body: readFileSync(new URL(name, STATIC), 'utf8'), type: name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8' };
    assets.set(name, a);
  }
  return a;
}

const ORIGIN = /^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/i;

/** CSP for a page that may be framed by the tenant's allowed origins (any when none are set). */
function pageCsp(embedOrigins: string[] | null): string {
  const ancestors = embedOrigins === null ? '*' : ["'self'", ...embedOrigins.filter((o) => ORIGIN.test(o))].join(' ');
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${ancestors}`,
  ].join('; ');
}

function layout(options: { title: string; body: ReturnType<typeof html>; lang?: string }) {
  return html`<!doctype html>
<html lang="${options.lang ?? 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title}</title>
<link rel="stylesheet" href="/assets/booking.css">
<script src="/assets/booking.js" defer></script>
</head>
<body>
${options.body}
</body>
</html>`;
}

const notFoundPage = (what: string) =>
  layout({ title: `${what} not found`, body: html`<main class="page"><h1>${what} not found</h1><p>Check the link you were given.</p></main>` });

export const webRouter = new Hono<AppEnv>()
  .get('/assets/:name{booking\\.js|booking\\.css|embed\\.js}', (c) => {
    const a = asset(c.req.param('name') as 'booking.js');
    return c.body(a.body, 200, { 'content-type': a.type, 'cache-control': 'public, max-age=300' });
  })
  .get('/embed.js', (c) => {
    const a = asset('embed.js');
    return c.body(a.body, 200, { 'content-type': a.type, 'cache-control': 'public, max-age=300', 'access-control-allow-origin': '*' });
  })
  .get('/b/manage/:code', async (c) => {
    const code = c.req.param('code');
    const token = c.req.query('token') ?? '';
    // A wrong code or token raises SBNF1: the page answers 404 either way (same as the API).
    const context = await withSession(c.var.deps.sql, c.var.caller, async (tx) => {
      const rows = await tx<{ tenant_slug: string; tenant_name: string; location_time_zone: string }[]>`
        select tenant_slug, tenant_name, location_time_zone from slotbase.public_booking_context(${code}, ${token})`;
      return rows[0];
    }).catch((error: unknown) => {
      if ((error as { code?: string }).code === 'SBNF1') return undefined;
      throw error;
    });
    c.header('content-security-policy', pageCsp([])); // never framed elsewhere: it carries the token
    c.header('referrer-policy', 'no-referrer'); // the token is in the URL
    c.header('cache-control', 'no-store');
    if (!context) return c.html(notFoundPage('Booking'), 404);
    return c.html(
      layout({
        title: `Your booking — ${context.tenant_name}`,
        body: html`<main class="page" id="app" data-page="manage" data-tenant="${context.tenant_slug}" data-code="${code}" data-zone="${context.location_time_zone}">
  <header><p class="business">${context.tenant_name}</p><h1>Your booking</h1></header>
  <p class="loading" role="status">Loading…</p>
</main>`,
      }),
    );
  })
  .get('/b/:tenant/:service?', async (c) => {
    const slug = c.req.param('tenant');
    const service = c.req.param('service') ?? '';
    const found = await withSession(c.var.deps.sql, c.var.caller, async (tx) => {
      const [tenant] = await tx<{ id: string; name: string; locale: string; is_accepting_bookings: boolean }[]>`
        select id, name, locale, is_accepting_bookings from slotbase.public_tenant(${slug})`;
      if (!tenant) return undefined;
      const [origins] = await tx<{ origins: string[] | null }[]>`select slotbase.public_embed_origins(${tenant.id}) as origins`;
      return { tenant, origins: origins?.origins ?? null };
    });
    if (!found) return c.html(notFoundPage('Business'), 404);
    const { tenant } = found;
    // Who may frame the page is CSP frame-ancestors' call (app.ts leaves X-Frame-Options off for /b/).
    c.header('content-security-policy', pageCsp(found.origins));
    const embedded = c.req.query('embed') === '1';
    return c.html(
      layout({
        title: `Book with ${tenant.name}`,
        lang: tenant.locale.split('-')[0],
        body: html`<main class="page${embedded ? ' embedded' : ''}" id="app" data-page="book" data-tenant="${slug}" data-service="${service}"${raw(embedded ? ' data-embed="1"' : '')}>
  <header><p class="business">${tenant.name}</p><h1>Book an appointment</h1></header>
  ${tenant.is_accepting_bookings ? html`<p class="loading" role="status">Loading…</p>` : html`<p class="notice" role="status">${tenant.name} is not taking online bookings right now. Please contact them directly.</p>`}
</main>`,
      }),
    );
  });
