import { streamSSE } from 'hono/streaming';
import { withSession } from '#src/db/session.ts';
import type { AvailabilityEvent } from '#src/web/live-availability.ts';
import { createRouter } from '../../create-router.ts';
import { ProblemError } from '../../problem.ts';
import { availabilityEvents } from './live.routes.ts';

const HEARTBEAT_MS = 25_000;

export const liveRouter = createRouter().openapi(availabilityEvents, async (c) => {
  const { tenant: slug } = c.req.valid('param');
  const hub = c.var.deps.live;
  if (!hub) throw new ProblemError(503, 'live_updates_unavailable', 'Live updates are not available on this server; poll the slots endpoint');
  const [tenant] = await withSession(c.var.deps.sql, c.var.caller, (tx) => tx<{ id: string }[]>`select id from slotbase.public_tenant(${slug})`);
  if (!tenant) throw new ProblemError(404, 'not_found', 'Business not found');
  const lastEventId = c.req.header('last-event-id');

  return streamSSE(c, async (stream) => {
    const queue: AvailabilityEvent[] = [];
    let wake: (() => void) | undefined;
    let open = true;
    // Subscribe before replaying: both are synchronous, so nothing falls between them.
    const unsubscribe = hub.subscribe(tenant.id, (event) => {
      queue.push(event);
      wake?.();
    });
    stream.onAbort(() => {
      open = false;
      unsubscribe();
      wake?.();
    });
    const replay = lastEventId ? hub.since(tenant.id, lastEventId) : [];
    try {
      await stream.writeSSE({ event: 'ready', data: JSON.stringify({ tenant: slug }), retry: 2000 });
      if (replay === null) await stream.writeSSE({ event: 'reset', data: '{}' });
      for (const event of replay ?? []) await stream.writeSSE({ id: event.id, event: event.type, data: JSON.stringify(event.data) });
      while (open) {
        const event = queue.shift();
        if (event?.type === 'closing') break;
        if (event) {
          await stream.writeSSE({ id: event.id, event: event.type, data: JSON.stringify(event.data ?? {}) });
          continue;
        }
        const timedOut = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(true), HEARTBEAT_MS);
          wake = () => {
            clearTimeout(timer);
            resolve(false);
          };
        });
        wake = undefined;
        if (timedOut && open) await stream.write(': keep-alive\n\n');
      }
    } finally {
      unsubscribe();
    }
  });
});
