import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Readable } from 'node:stream';

/**
 * Addresses a tenant-supplied URL must never reach: this host, private networks, link-local
 * (cloud metadata at 169.254.169.254), carrier-grade NAT, multicast and reserved ranges, and their
 * IPv4-mapped IPv6 forms. A webhook's response excerpt is shown to the tenant, so without this an
 * admin could read internal services through Slotbase (server-side request forgery).
 */
const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) BLOCKED.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['100::', 64], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8],
] as const) BLOCKED.addSubnet(net, prefix, 'ipv6');

export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return BLOCKED.check(address, 'ipv4');
  if (family !== 6) return true;
  // IPv4-mapped IPv6, dotted (::ffff:127.0.0.1) or as URLs normalise it (::ffff:7f00:1): judged as the IPv4 address.
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (dotted) return BLOCKED.check(dotted[1]!, 'ipv4');
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hex) {
    const hi = parseInt(hex[1]!, 16);
    const lo = parseInt(hex[2]!, 16);
    return BLOCKED.check(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, 'ipv4');
  }
  return BLOCKED.check(address, 'ipv6');
}

export class BlockedDestinationError extends Error {
  override name = 'BlockedDestinationError';
}

/** dns.lookup that refuses blocked addresses: the check happens on the address actually connected to (no DNS rebinding window). */
const guardedLookup = (isBlocked: (address: string) => boolean): LookupFunction => (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return (callback as (e: Error | null, a: LookupAddress[]) => void)(error, []);
    const list = addresses as unknown as LookupAddress[];
    const allowed = list.filter((a) => !isBlocked(a.address));
    if (allowed.length === 0) {
      return (callback as (e: Error | null, a: LookupAddress[]) => void)(new BlockedDestinationError(`${hostname} resolves only to addresses webhooks may not reach (private, loopback, link-local or reserved)`), []);
    }
    if ((options as { all?: boolean }).all) return (callback as (e: null, a: LookupAddress[]) => void)(null, allowed);
    return (callback as (e: null, a: string, f: number) => void)(null, allowed[0]!.address, allowed[0]!.family);
  });
};

/**
 * A `fetch` for URLs that tenants choose (webhook endpoints): node:http(s) with the guarded
 * lookup above, literal IPs checked too, never following redirects. Same signature as fetch, for
 * the parts webhook delivery uses (method, headers, string body, signal). `isBlocked` is
 * replaceable for tests only (every address they can reach is a blocked one).
 */
export const createGuardedFetch = (isBlocked: (address: string) => boolean = isBlockedAddress): typeof fetch => async (input, init = {}) => {
  const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`unsupported protocol ${url.protocol}`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && isBlocked(host)) throw new BlockedDestinationError(`${host} is an address webhooks may not reach (private, loopback, link-local or reserved)`);
  const headers = new Headers(init.headers);
  const body = init.body === undefined || init.body === null ? undefined : String(init.body);
  if (body !== undefined && !headers.has('content-length')) headers.set('content-length', String(Buffer.byteLength(body)));
  const signal = init.signal ?? undefined;
  return new Promise<Response>((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      url,
      { method: init.method ?? 'GET', headers: Object.fromEntries(headers), lookup: guardedLookup(isBlocked), signal },
      (res: IncomingMessage) => {
        const responseHeaders = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) responseHeaders.set(k, Array.isArray(v) ? v.join(', ') : v);
        const status = res.statusCode ?? 502;
        const nullBody = status === 204 || status === 304 || (init.method ?? 'GET') === 'HEAD';
        if (nullBody) res.resume();
        resolve(new Response(nullBody ? null : (Readable.toWeb(res) as ReadableStream), { status, headers: responseHeaders }));
      },
    );
    req.on('error', (error) => reject(signal?.aborted ? (signal.reason ?? error) : error));
    req.end(body);
  });
};

export const guardedFetch = createGuardedFetch();
