import { defineTask } from '#src/jobs/deps.ts';
import { BookingPayload } from '#src/jobs/payloads.ts';

/**
 * A hold's own job, due at hold_expires_at (job_key hold:<booking>). Expires the tenant's holds
 * that are past their time; a hold confirmed or cancelled meanwhile is no longer `held` and is
 * left alone, and one whose expiry moved is not yet due.
 */
export default defineTask(({ sql }) => async (payload) => {
  const { tenant_id } = BookingPayload.parse(payload);
  await sql`select slotbase.expire_holds(${tenant_id}::uuid)`;
});
