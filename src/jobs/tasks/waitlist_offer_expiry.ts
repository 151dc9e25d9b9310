import { z } from 'zod';
import { defineTask } from '#src/jobs/deps.ts';

export const WaitlistOfferPayload = z.object({ tenant_id: z.uuid(), offer_id: z.uuid() });

/**
 * An offer's own job, due at its expiry (job_key waitlist-offer:<offer>): an offer still open and
 * past its time expires; its held booking is released, the entry waits again, and the bookings
 * trigger offers the time to the next entry. An offer answered meanwhile is left alone.
 */
export default defineTask(({ sql }) => async (payload, helpers) => {
  const { tenant_id, offer_id } = WaitlistOfferPayload.parse(payload);
  const [row] = await sql<{ expired: boolean }[]>`select slotbase_private.expire_waitlist_offer(${tenant_id}::uuid, ${offer_id}::uuid) as expired`;
  if (!row?.expired) helpers.logger.info(`waitlist offer ${offer_id} was answered or is not due; nothing to expire`);
});
