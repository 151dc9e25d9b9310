import { defineTask } from '#src/jobs/deps.ts';

/** Cron: expires every hold past its time, in case a hold_expiry job was lost or late. */
export default defineTask(({ sql, logger }) => async () => {
  const [row] = await sql<{ expired: number }[]>`select slotbase.expire_holds() as expired`;
  if (row && row.expired > 0) logger.info({ expired: row.expired }, 'expired holds swept');
});
