import { readFileSync } from 'node:fs';
import { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '#src/http/env.ts';

/**
 * /invite?token=…: where the link of a staff invitation email leads. A server-rendered shell and
 * one small script (src/web/invite/invite.js) that shows what the invitation offers
 * (GET /v1/auth/accept-invite), asks for a name and a password, accepts it
 * (POST /v1/auth/accept-invite) and opens the staff console signed in. Not part of the OpenAPI
 * document: a page, not API.
 */
let script: string | undefined;

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Accept your invitation — Slotbase</title>
<link rel="stylesheet" href="/assets/booking.css">
<script src="/invite/invite.js" defer></script>
</head>
<body>
<main class="page onboarding" id="invite-app">
  <header><p class="business">Slotbase</p><h1>Accept your invitation</h1></header>
  <p class="loading" role="status">Loading…</p>
  <noscript><p class="notice">This page needs JavaScript. You can also accept through the API: POST /v1/auth/accept-invite.</p></noscript>
</main>
</body>
</html>`;

export const inviteRouter = new Hono<AppEnv>()
  .get('/invite/invite.js', (c) => {
    // Read on first use (the Edge Function never serves pages and needs no file access).
    script ??= readFileSync(new URL('./invite/invite.js', import.meta.url), 'utf8');
    return c.body(script, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=300' });
  })
  .get('/invite', (c) => {
    // The token is in the URL: never framed, never cached, never sent on as a referrer.
    c.header('content-security-policy', CSP);
    c.header('referrer-policy', 'no-referrer');
    c.header('cache-control', 'no-store');
    return c.html(page);
  });
