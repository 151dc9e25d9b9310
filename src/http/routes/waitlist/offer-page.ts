import { Hono } from 'hono';
import { problemFromDatabaseError } from '#src/db/errors.ts';
import { withSession } from '#src/db/session.ts';
import type { AppEnv } from '../../env.ts';

/**
 * The page the waitlist offer email links to (`/b/waitlist/offers/<offer>?token=…`): shows the
 * offered time and two buttons, Accept and Decline, that POST back here. Opening the page changes
 * nothing (mail scanners follow links); only the form does. No script, no cookies: the token
 * travels in the form, so there is nothing for another site to forge.
 */

interface OfferJson {
  status: string;
  starts_at: string;
  ends_at: string;
  expires_at: string;
  booking: { code: string; manage_token: string } | null;
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function page(title: string, body: string, status: 200 | 404 | 409 = 200) {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title><meta name="robots" content="noindex"></head>
<body><main><h1>${escape(title)}</h1>
${body}
</main></body></html>
`;
  return { html, status };
}

function render(id: string, token: string, offer: OfferJson, note = '') {
  const when = `${new Date(offer.starts_at).toUTCString()} – ${new Date(offer.ends_at).toUTCString()}`;
  if (offer.status === 'accepted' && offer.booking) {
    const manage = `/b/manage/${encodeURIComponent(offer.booking.code)}?token=${encodeURIComponent(offer.booking.manage_token)}`;
    return page('Booked', `${note}<p>The time is yours: ${escape(when)}.</p><p>Booking code <strong>${escape(offer.booking.code)}</strong>. <a href="${escape(manage)}">View or manage the booking</a>.</p>`);
  }
  if (offer.status !== 'open') {
    return page('This offer has ended', `${note}<p>This time (${escape(when)}) is no longer held for you (${escape(offer.status)}). You keep your place on the waitlist for other times unless you left it.</p>`, 409);
  }
  const form = (action: string, label: string) =>
    `<form method="post" action="/b/waitlist/offers/${escape(id)}"><input type="hidden" name="token" value="${escape(token)}"><input type="hidden" name="action" value="${action}"><button type="submit">${label}</button></form>`;
  return page('A time is free for you', `${note}<p>${escape(when)}</p><p>Held for you until ${escape(new Date(offer.expires_at).toUTCString())}.</p>${form('accept', 'Accept this time')}${form('decline', 'Decline (keep my place for other times)')}`);
}

export const offerPageRouter = new Hono<AppEnv>()
  .get('/b/waitlist/offers/:id', async (c) => {
    const id = c.req.param('id');
    const token = c.req.query('token') ?? '';
    if (!UUID.test(id) || !token) return c.html(page('Offer not found', '<p>This link is not valid.</p>').html, 404);
    try {
      const [row] = await withSession(c.var.deps.sql, c.var.caller, (tx) => tx<{ r: OfferJson }[]>`select slotbase.find_waitlist_offer(${id}, ${token}) as r`);
      const p = render(id, token, row!.r);
      return c.html(p.html, p.status === 409 ? 200 : p.status);
    } catch (error) {
      if (problemFromDatabaseError(error)?.code === 'not_found') return c.html(page('Offer not found', '<p>This link is not valid.</p>').html, 404);
      throw error;
    }
  })
  .post('/b/waitlist/offers/:id', async (c) => {
    const id = c.req.param('id');
    const form = await c.req.parseBody();
    const token = typeof form.token === 'string' ? form.token : '';
    const action = form.action === 'decline' ? 'decline' : 'accept';
    if (!UUID.test(id) || !token) return c.html(page('Offer not found', '<p>This link is not valid.</p>').html, 404);
    try {
      const [row] = await withSession(c.var.deps.sql, c.var.caller, (tx) =>
        action === 'accept'
          ? tx<{ r: OfferJson }[]>`select slotbase.accept_waitlist_offer(${id}, ${token}) as r`
          : tx<{ r: OfferJson }[]>`select slotbase.decline_waitlist_offer(${id}, ${token}) as r`,
      );
      const p = render(id, token, row!.r, action === 'decline' ? '<p>You declined this time.</p>' : '');
      return c.html(p.html, p.status === 409 ? 200 : p.status);
    } catch (error) {
      const problem = problemFromDatabaseError(error);
      if (problem?.code === 'not_found') return c.html(page('Offer not found', '<p>This link is not valid.</p>').html, 404);
      if (problem?.code === 'offer_expired') {
        return c.html(page('Too late', '<p>Sorry, this offer has expired or was withdrawn. You keep your place on the waitlist for other times.</p>').html, 409);
      }
      throw error;
    }
  });
