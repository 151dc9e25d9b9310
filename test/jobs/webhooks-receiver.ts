import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

const CATALOGUE = ['booking.created', 'booking.confirmed', 'booking.rescheduled', 'booking.cancelled', 'booking.rejected', 'booking.completed', 'booking.no_show', 'booking.expired', 'webhook.test'];

/** One request a receiver got, and whether the independent standardwebhooks package accepted it. */
export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** The parsed body when Webhook(secret).verify accepted it; undefined otherwise. */
  event: { type: string; timestamp: string; data: Record<string, unknown> } | undefined;
  verifyError: string | undefined;
}

/** What to answer the n-th request (0-based): a status (and body), or 'hang' (never answer). */
export type Answer = { status: number; body?: string; headers?: Record<string, string> } | 'hang';

export interface Receiver {
  url: string;
  /** The endpoint's current secret; set it after creating the endpoint (and after rotating). */
  secret: string | undefined;
  received: Received[];
  /**
   * Events that verified, in the order they happened: by `timestamp`, then by catalogue order for
   * events of one transaction (booking.created before booking.confirmed). Arrival order is not
   * promised (a worker runs jobs concurrently; retries reorder).
   */
  events(): NonNullable<Received['event']>[];
  close(): Promise<void>;
}

/**
 * A real HTTP receiver on 127.0.0.1 that verifies EVERY request with `standardwebhooks`
 * (Webhook(secret).verify(body, headers)) before answering.
 */
export async function startReceiver(answer: (n: number) => Answer = () => ({ status: 204 })): Promise<Receiver> {
  const hanging = new Set<ServerResponse>();
  const receiver: Receiver = {
    url: '',
    secret: undefined,
    received: [],
    events: () =>
      receiver.received
        .flatMap((r) => (r.event ? [r.event] : []))
        .sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp) || CATALOGUE.indexOf(a.type) - CATALOGUE.indexOf(b.type)),
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let event: Received['event'];
      let verifyError: string | undefined;
      try {
        if (!receiver.secret) throw new Error('the receiver has no secret yet');
        event = new Webhook(receiver.secret).verify(body, req.headers as Record<string, string>) as Received['event'];
      } catch (e) {
        verifyError = (e as Error).message;
      }
      const n = receiver.received.length;
      receiver.received.push({ headers: req.headers, body, event, verifyError });
      const a = answer(n);
      if (a === 'hang') {
        hanging.add(res);
        return;
      }
      res.writeHead(a.status, { 'content-type': 'text/plain', ...a.headers });
      res.end(a.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/slotbase`;
  return receiver;
}

/** Polls until `condition` holds (waiting on another process: the worker), failing after `timeoutMs`. */
export async function waitFor(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
