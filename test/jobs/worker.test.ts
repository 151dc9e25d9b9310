import { describe, expect, it } from 'vitest';
import { useTestDb } from '../support/db.ts';
import { drainJobs, jobsOf, startTestWorker } from '../support/worker.ts';

const db = useTestDb();

describe('worker runtime', () => {
  it('a running worker registers its process and every worker id, and unregisters on stop', async () => {
    const worker = await startTestWorker(db());
    try {
      const [row] = await db().query<{ worker_ids: string[]; pid: number }>(`select worker_ids, pid from slotbase_private.worker_processes`);
      expect(row?.pid).toBe(process.pid);
      expect(row?.worker_ids).toHaveLength(4);
    } finally {
      await worker.stop();
    }
    expect(await db().query(`select 1 from slotbase_private.worker_processes`)).toEqual([]);
  });

  it('runDueJobs runs every due job and leaves none behind', async () => {
    await db().query(`select graphile_worker.add_job('expire_holds', '{}'::json)`);
    await drainJobs(db());
    expect(await jobsOf(db(), 'expire_holds')).toEqual([]);
  });
});
