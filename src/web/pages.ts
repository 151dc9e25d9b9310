import { createHash } from 'node:crypto';
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
type AssetName = 'booking.js' | 'booking.css' | 'embed.js' | 'signup.js';
function asset(name: AssetName): { body: string; type: string } {
  let a = assets.get(name);
  if (!a) {
    a = { body: readFileSync(new URL(name, STATIC), 'utf8'), type: name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8' };
    assets.set(name, a);
  }
  return a;
}

const ORIGIN = /^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/i;

/**
 * CSP for a page that may be framed by the tenant's allowed origins (any when none are set; none
 * at all for `'none'`). `extra` allows the tenant's logo origin and its one inline brand style.
 */
function pageCsp(embedOrigins: string[] | null | 'none', extra: { imgOrigin?: string; styleHash?: string } = {}): string {
  const ancestors =
    embedOrigins === 'none' ? "'none'" : embedOrigins === null ? '*' : ["'self'", ...embedOrigins.filter((o) => ORIGIN.test(o))].join(' ');
  return [
    "default-src 'self'",
    "script-src 'self'",
    `style-src 'self'${extra.styleHash ? ` '${extra.styleHash}'` : ''}`,
    `img-src 'self' data:${extra.imgOrigin ? ` ${extra.imgOrigin}` : ''}`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${ancestors}`,
  ].join('; ');
}

const HEX_COLOR = /^#[0-9a-fA-F]{6}$/;

/** WCAG relative luminance of a #rrggbb colour. */
function luminance(hex: string): number {
  const channel = (i: number) => {
    const v = parseInt(hex.slice(i, i + 2), 16) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

export interface Branding {
  /** The inline style (`:root { --accent… }`) and its CSP hash, when the tenant set a valid colour. */
  style?: { css: string; hash: string };
  /** An https logo URL and its origin (for CSP img-src). */
  logo?: { url: string; origin: string };
}

/**
 * A tenant's brand for its page, validated strictly whatever the database holds: the colour only
 * as `#rrggbb` (its text colour, black or white, is whichever contrasts more), the logo only as
 * an https URL without credentials. Anything else falls back to the default look.
 */
export function branding(settings: { brand_color: string | null; logo_url: string | null } | undefined): Branding {
  const out: Branding = {};
  const color = settings?.brand_color;
  if (typeof color === 'string' && HEX_COLOR.test(color)) {
    const l = luminance(color);
    // Contrast with white is 1.05 / (l + 0.05); with black (l + 0.05) / 0.05: pick the larger.
    const onWhite = 1.05 / (l + 0.05);
    const fg = onWhite >= (l + 0.05) / 0.05 ? '#ffffff' : '#000000';
    // Links are text on the page background: the brand colour only where it stays readable (4.5:1).
    const link = onWhite >= 4.5 ? color.toLowerCase() : '#0b57d0';
    const css = `:root{--accent:${color.toLowerCase()};--accent-fg:${fg};--link:${link}}@media (prefers-color-scheme: dark){:root{--link:#8ab4ff}}`;
    out.style = { css, hash: `sha256-${createHash('sha256').update(css).digest('base64')}` };
  }
  const logo = settings?.logo_url;
  if (typeof logo === 'string' && logo.length <= 2000) {
    try {
      const url = new URL(logo);
      if (url.protocol === 'https:' && !url.username && !url.password && url.hostname) out.logo = { url: url.href, origin: url.origin };
    } catch {
      // not a URL: no logo
    }
  }
  return out;
}

function layout(options: { title: string; body: ReturnType<typeof html>; lang?: string; script?: 'booking.js' | 'signup.js'; style?: string }) {
  return html`<!doctype html>
<html lang="${options.lang ?? 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title}</title>
<link rel="stylesheet" href="/assets/booking.css">
${options.style ? html`<style>${raw(options.style)}</style>` : ''}
<script src="/assets/${options.script ?? 'booking.js'}" defer></script>
</head>
<body>
${options.body}
</body>
</html>`;
}

const notFoundPage = (what: string) =>
  layout({ title: `${what} not found`, body: html`<main class="page"><h1>${what} not found</h1><p>Check the link you were given.</p></main>` });

export const webRouter = new Hono<AppEnv>()
  .get('/assets/:name{booking\\.js|booking\\.css|embed\\.js|signup\\.js}', (c) => {
    const a = asset(c.req.param('name') as AssetName);
    return c.body(a.body, 200, { 'content-type': a.type, 'cache-control': 'public, max-age=300' });
  })
  .get('/embed.js', (c) => {
    const a = asset('embed.js');
    return c.body(a.body, 200, { 'content-type': a.type, 'cache-control': 'public, max-age=300', 'access-control-allow-origin': '*' });
  })
  .get('/signup', (c) => {
    // Sign-up and guided setup: the page holds the owner's tokens, so it is never framed.
    c.header('content-security-policy', pageCsp('none'));
    c.header('referrer-policy', 'no-referrer');
    c.header('cache-control', 'no-store');
    return c.html(
      layout({
        title: 'Create your booking page — Slotbase',
        script: 'signup.js',
        body: html`<main class="page onboarding" id="signup-app">
  <header><p class="business">Slotbase</p><h1>Create your booking page</h1></header>
  <p class="loading" role="status">Loading…</p>
  <noscript><p class="notice">This page needs JavaScript. You can also sign up through the API: POST /v1/signup.</p></noscript>
</main>`,
      }),
    );
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
      const [brand] = await tx<{ brand_color: string | null; logo_url: string | null }[]>`
        select brand_color, logo_url from slotbase.public_branding(${tenant.id})`;
      return { tenant, origins: origins?.origins ?? null, brand: branding(brand) };
    });
    if (!found) return c.html(notFoundPage('Business'), 404);
    const { tenant, brand } = found;
    // Who may frame the page is CSP frame-ancestors' call (app.ts leaves X-Frame-Options off for /b/).
    c.header('content-security-policy', pageCsp(found.origins, { imgOrigin: brand.logo?.origin, styleHash: brand.style?.hash }));
    const embedded = c.req.query('embed') === '1';
    return c.html(
      layout({
        title: `Book with ${tenant.name}`,
        lang: tenant.locale.split('-')[0],
        style: brand.style?.css,
        body: html`<main class="page${embedded ? ' embedded' : ''}" id="app" data-page="book" data-tenant="${slug}" data-service="${service}"${raw(embedded ? ' data-embed="1"' : '')}>
  <header${brand.logo ? raw(' class="branded"') : ''}>${brand.logo ? html`<img class="logo" src="${brand.logo.url}" alt="${tenant.name}">` : ''}<div><p class="business">${tenant.name}</p><h1>Book an appointment</h1></div></header>
  ${tenant.is_accepting_bookings ? html`<p class="loading" role="status">Loading…</p>` : html`<p class="notice" role="status">${tenant.name} is not taking online bookings right now. Please contact them directly.</p>`}
</main>`,
      }),
    );
  });
