import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlockedDestinationError, createGuardedFetch, guardedFetch, isBlockedAddress } from '#src/lib/guarded-fetch.ts';

describe('guarded fetch for tenant-chosen URLs (webhooks)', () => {
  let server: Server;
  let port: number;
  const seen: { method: string; url: string; body: string; headers: IncomingMessage['headers'] }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, body, headers: req.headers });
        if (req.url === '/redirect') res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' }).end();
        else if (req.url === '/slow') setTimeout(() => res.writeHead(200).end('late'), 2_000);
        else res.writeHead(201, { 'x-answer': '42', 'content-type': 'text/plain' }).end('created');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('classifies loopback, private, link-local, CGNAT, reserved and IPv4-mapped addresses as blocked, public ones as not', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.20.0.5', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', 'not-an-ip']) {
      expect(isBlockedAddress(a), a).toBe(true);
    }
    for (const a of ['8.8.8.8', '1.1.1.1', '93.184.216.34', '2606:4700:4700::1111', '::ffff:8.8.8.8', '::ffff:808:808']) expect(isBlockedAddress(a), a).toBe(false);
  });

  it('refuses a literal private address and a name that resolves to one, before sending anything', async () => {
    const before = seen.length;
    await expect(guardedFetch(`http://127.0.0.1:${port}/hook`, { method: 'POST', body: '{}' })).rejects.toBeInstanceOf(BlockedDestinationError);
    await expect(guardedFetch(`http://localhost:${port}/hook`, { method: 'POST', body: '{}' })).rejects.toBeInstanceOf(BlockedDestinationError);
    await expect(guardedFetch(`http://[::ffff:127.0.0.1]:${port}/hook`)).rejects.toBeInstanceOf(BlockedDestinationError);
    expect(seen.length).toBe(before);
  });

  // Every address a test can reach is a blocked one: this fetch allows loopback only, to exercise the allowed path.
  const loopbackAllowed = createGuardedFetch((a) => a !== '127.0.0.1');

  it('an allowed destination gets the method, headers and body, and the answer reads like fetch\'s', async () => {
    const res = await loopbackAllowed(`http://127.0.0.1:${port}/hook`, { method: 'POST', headers: { 'content-type': 'application/json', 'webhook-id': 'msg_1' }, body: '{"a":1}' });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-answer')).toBe('42');
    expect(await res.text()).toBe('created');
    expect(seen.at(-1)).toMatchObject({ method: 'POST', url: '/hook', body: '{"a":1}' });
    expect(seen.at(-1)!.headers['webhook-id']).toBe('msg_1');
  });

  it('never follows a redirect (a 3xx is returned as it is) and honours an abort signal', async () => {
    const res = await loopbackAllowed(`http://127.0.0.1:${port}/redirect`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(302);
    await expect(loopbackAllowed(`http://127.0.0.1:${port}/slow`, { signal: AbortSignal.timeout(100) })).rejects.toMatchObject({ name: 'TimeoutError' });
  });
});
