import { z } from 'zod';
import { defineTask } from '#src/jobs/deps.ts';

/** What tg_bookings__waitlist enqueues when an appointment's time is released (job_key waitlist-slot:<tenant>:<provider>:<start epoch>). */
export const WaitlistSlotPayload = z.object({
  tenant_id: z.uuid(),
  service_id: z.uuid(),
  provider_id: z.uuid(),
  location_id: z.uuid(),
  starts_at: z.iso.datetime({ offset: true }),
});

/**
 * A time was freed (cancelled, rejected, an expired hold, moved away): offer it to the next entry
 * of the service's waitlist that wants it. slotbase_private.offer_waitlist_slot books it as a held
 * booking through create_booking (the exclusion constraint decides; a time someone booked
 * meanwhile is offered to nobody) and enqueues the notice and the expiry in the same transaction.
 */
export default defineTask(({ sql }) => async (payload, helpers) => {
  const p = WaitlistSlotPayload.parse(payload);
  const [row] = await sql<{ offer_id: string | null }[]>`
    select slotbase_private.offer_waitlist_slot(${p.tenant_id}::uuid, ${p.service_id}::uuid, ${p.provider_id}::uuid,
                                                ${p.location_id}::uuid, ${p.starts_at}::timestamptz) as offer_id`;
  helpers.logger.info(row?.offer_id ? `offered ${p.starts_at} as waitlist offer ${row.offer_id}` : `nobody on the waitlist could take ${p.starts_at}`);
});
