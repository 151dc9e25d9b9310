import { defineTask } from '#src/jobs/deps.ts';
import { formatStart } from '#src/jobs/messages/index.ts';
import { deliverAll, deliverEmail, loadBookingContext, messageFieldsOf } from '#src/jobs/notify.ts';
import { renderEmail } from '#src/jobs/messages/index.ts';
import { WaitlistOfferPayload } from './waitlist_offer_expiry.ts';

/** The page where the customer accepts or declines an offer (src/http/routes/waitlist/offer-page.ts). */
export function offerPageUrl(publicUrl: string, offerId: string, token: string): string {
  return `${publicUrl}/b/waitlist/offers/${offerId}?token=${encodeURIComponent(token)}`;
}

/**
 * Tells a waitlist entry that a time is held for them (job_key waitlist-offer-notice:<offer>):
 * one email with the time, until when it is held, and the link to accept or decline. Sent only
 * while the offer is open; at most once per offer and address (dedupe key).
 */
export default defineTask((deps) => async (payload, helpers) => {
  const { tenant_id, offer_id } = WaitlistOfferPayload.parse(payload);
  const [offer] = await deps.sql<{ booking_id: string; status: string; expires_at: Date; token: string }[]>`
    select booking_id, status, expires_at, token from slotbase_private.waitlist_offer_context(${tenant_id}::uuid, ${offer_id}::uuid)`;
  if (!offer || offer.status !== 'open') {
    helpers.logger.info(`waitlist offer notice ${offer_id} skipped: the offer is ${offer?.status ?? 'gone'}`);
    return;
  }
  const ctx = await loadBookingContext(deps.sql, tenant_id, offer.booking_id);
  if (!ctx?.contact_email) {
    helpers.logger.info(`waitlist offer notice ${offer_id} skipped: no email address`);
    return;
  }
  const to = ctx.contact_email.trim().toLowerCase();
  const { catalog, fields } = messageFieldsOf(deps, ctx, { withManageLink: false });
  const message = renderEmail(catalog, 'waitlist_offer', {
    ...fields,
    offerUrl: offerPageUrl(deps.publicUrl, offer_id, offer.token),
    offerExpires: formatStart(offer.expires_at, ctx.time_zone, catalog.intl),
  });
  await deliverAll([
    () =>
      deliverEmail(deps, {
        tenantId: tenant_id,
        bookingId: ctx.booking_id,
        template: 'waitlist_offer',
        to,
        dedupeKey: `waitlist-offer:${offer_id}:email:${to}`,
        build: () => message,
      }),
  ]);
});
