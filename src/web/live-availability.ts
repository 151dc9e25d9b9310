import type postgres from 'postgres';
import type { Logger } from '#src/lib/logger.ts';

/** What changed, as booking pages receive it (Server-Sent Events `availability`). */
export interface AvailabilityChange {
  /** `claim`: a provider/resource became busy or free; `session`: seats changed; `schedule`: working hours changed. */
  kind: 'claim' | 'session' | 'schedule';
  /** The provider or resource (claim, schedule) or the session (session). */
  subject_id: string;
  /** The affected time; null for schedule changes (refetch what is shown). */
  from: string | null;
  to: string | null;
}

export interface AvailabilityEvent {
  /** `<process epoch>-<sequence>`: the SSE id a reconnecting page sends back as Last-Event-ID. */
  id: string;
  /**
   * `availability`, or `reset` when changes may have been missed (the page refetches everything).
   * `closing` is never sent to pages: the server is shutting down and ends their streams (they
   * reconnect elsewhere with Last-Event-ID).
   */
  type: 'availability' | 'reset' | 'closing';
  data: AvailabilityChange | null;
}

export type AvailabilityListener = (event: AvailabilityEvent) => void;

export interface AvailabilityHub {
  /** Listens to one tenant's changes; returns the unsubscribe function. */
  subscribe(tenantId: string, listener: AvailabilityListener): () => void;
  /**
   * The tenant's events after `lastEventId`, for a page that reconnects; null when they cannot be
   * replayed exactly (another process's id, or older than the buffer): the page must refetch.
   */
  since(tenantId: string, lastEventId: string): AvailabilityEvent[] | null;
  /** How many pages are connected (for /metrics and tests). */
  readonly listeners: number;
  close(): Promise<void>;
}

const CHANNEL = 'slotbase_availability';
const BUFFER = 2048;

interface Buffered {
  seq: number;
  tenantId: string;
  event: AvailabilityEvent;
}

/**
 * One LISTEN per process, fanned out to every connected page of the tenant. postgres.js keeps the
 * listening connection alive and re-issues LISTEN after a reconnect; anything announced while it
 * was down is unknown, so every page then gets a `reset` and refetches.
 */
export async function startAvailabilityHub(sql: postgres.Sql, logger: Logger): Promise<AvailabilityHub> {
  const epoch = Date.now().toString(36);
  let seq = 0;
  const buffer: Buffered[] = [];
  const byTenant = new Map<string, Set<AvailabilityListener>>();
  let listeners = 0;

  const emit = (tenantId: string | null, make: (id: string) => AvailabilityEvent) => {
    seq += 1;
    const event = make(`${epoch}-${seq}`);
    if (tenantId) {
      buffer.push({ seq, tenantId, event });
      if (buffer.length > BUFFER) buffer.shift();
    }
    const targets = tenantId ? [byTenant.get(tenantId) ?? new Set()] : [...byTenant.values()];
    for (const set of targets) {
      for (const listener of set) {
        try {
          listener(event);
        } catch (error) {
          logger.warn({ err: error }, 'an availability listener failed');
        }
      }
    }
  };

  let listened = false;
  const subscription = await sql.listen(
    CHANNEL,
    (payload) => {
      let parsed: { t: string; k: AvailabilityChange['kind']; s: string; f: string | null; u: string | null };
      try {
        parsed = JSON.parse(payload) as typeof parsed;
      } catch {
        logger.warn({ payload }, 'unreadable availability notification');
        return;
      }
      emit(parsed.t, (id) => ({
        id,
        type: 'availability',
        data: {
          kind: parsed.k,
          subject_id: parsed.s,
          from: parsed.f ? new Date(parsed.f).toISOString() : null,
          to: parsed.u ? new Date(parsed.u).toISOString() : null,
        },
      }));
    },
    () => {
      if (listened) {
        logger.warn('availability listener reconnected: pages are told to refetch');
        buffer.length = 0;
        emit(null, (id) => ({ id, type: 'reset', data: null }));
      }
      listened = true;
    },
  );

  return {
    subscribe(tenantId, listener) {
      let set = byTenant.get(tenantId);
      if (!set) byTenant.set(tenantId, (set = new Set()));
      set.add(listener);
      listeners += 1;
      return () => {
        if (set.delete(listener)) listeners -= 1;
        if (set.size === 0) byTenant.delete(tenantId);
      };
    },
    since(tenantId, lastEventId) {
      const match = /^([0-9a-z]+)-(\d+)$/.exec(lastEventId);
      if (!match || match[1] !== epoch) return null;
      const last = Number(match[2]);
      if (last > seq) return null;
      const oldest = buffer[0]?.seq ?? seq + 1;
      // Events after `last` were dropped from the buffer: not replayable.
      if (last + 1 < oldest && last < seq) return null;
      return buffer.filter((b) => b.seq > last && b.tenantId === tenantId).map((b) => b.event);
    },
    get listeners() {
      return listeners;
    },
    async close() {
      emit(null, (id) => ({ id, type: 'closing', data: null }));
      await subscription.unlisten();
    },
  };
}
