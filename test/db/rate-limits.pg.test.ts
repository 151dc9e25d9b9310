import { createHash } from 'node:crypto';
import postgres from 'postgres';
import { describe, expect, inject, it } from 'vitest';
import { useTestDb } from '../support/db.ts';
import { uniq } from '../support/factories.ts';
import { asApiRole } from '../support/processes.ts';

const db = useTestDb();

describe('rate-limit buckets under concurrency (real PostgreSQL)', () => {
  it('32 connections racing for one bucket of 20 as slotbase_api: exactly 20 are admitted, none waits on another lock, no error', async () => {
    const CONNECTIONS = 32;
    const key = createHash('sha256').update(uniq('race-')).digest();
    const pools = Array.from({ length: 4 }, () => postgres(asApiRole(db().url!, inject('apiPassword')), { max: CONNECTIONS / 4, onnotice: () => {} }));
    try {
      // Open every connection first, so the calls below really run at once.
      await Promise.all(pools.flatMap((sql) => Array.from({ length: CONNECTIONS / 4 }, () => sql`select 1`)));
      const results = await Promise.allSettled(
        Array.from({ length: CONNECTIONS }, (_, i) =>
          pools[i % pools.length]!<{ allowed: boolean }[]>`select allowed from slotbase_private.take_rate_limit(${key}, 20, 3600, null)`.then((r) => r[0]!.allowed),
        ),
      );
      const errors = results.filter((r) => r.status === 'rejected');
      expect(errors).toEqual([]);
      const admitted = results.filter((r) => r.status === 'fulfilled' && r.value).length;
      expect(admitted).toBe(20);
      // The bucket agrees: it is empty.
      const [after] = await pools[0]!<{ allowed: boolean; remaining: number }[]>`select allowed, remaining from slotbase_private.take_rate_limit(${key}, 20, 3600, null)`;
      expect(after).toEqual({ allowed: false, remaining: 0 });
    } finally {
      await Promise.all(pools.map((sql) => sql.end({ timeout: 5 })));
    }
  });
});
