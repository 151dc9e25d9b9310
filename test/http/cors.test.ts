import { describe, expect, it } from 'vitest';
import { uniq } from '../support/factories.ts';
import { useApi } from '../support/http.ts';

const ALLOWED = 'https://clinic.example';
const OTHER = 'https://elsewhere.example';

describe('CORS of the public API, per tenant', () => {
  const api = useApi({ rateLimit: false });

  /** A business, with `embed_origins` set when given (before anything asked for its origins). */
  async function business(embedOrigins?: string[]) {
    const res = await api().json<{ access_token: string; tenant: { slug: string } }>('POST', '/v1/signup', {
      body: { email: `${uniq('owner-')}@example.test`, password: 'correct horse battery staple', tenant: { slug: uniq('clinic-'), name: 'Clinic', time_zone: 'Europe/Berlin' } },
    });
    expect(res.status).toBe(201);
    if (embedOrigins) {
      const patched = await api().json('PATCH', '/v1/tenant', { token: res.body.access_token, body: { settings: { embed_origins: embedOrigins } } });
      expect(patched.status).toBe(200);
    }
    return res.body.tenant.slug;
  }

  const get = (path: string, origin?: string) => api().request('GET', path, { headers: origin ? { origin } : {} });
  const preflight = (path: string, origin: string, method = 'POST') =>
    api().request('OPTIONS', path, { headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'content-type, idempotency-key' } });

  it('a business without embed_origins is open to any origin, as before', async () => {
    const slug = await business();
    const res = await get(`/v1/public/${slug}/services`, OTHER);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-expose-headers')).toContain('RateLimit-Remaining');
    const pre = await preflight(`/v1/public/${slug}/bookings`, OTHER);
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
  });

  it('with embed_origins set, a listed origin gets CORS headers for itself and another origin gets none', async () => {
    const slug = await business([ALLOWED, 'http://localhost:8080']);
    const allowed = await get(`/v1/public/${slug}/services`, ALLOWED);
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(allowed.headers.get('vary')).toMatch(/origin/i);
    const other = await get(`/v1/public/${slug}/services`, OTHER);
    // The server still answers (CORS is the browser's to enforce); without the header no page on OTHER can read it.
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(other.headers.get('vary')).toMatch(/origin/i);
    // Origins compare case-insensitively in scheme and host.
    expect((await get(`/v1/public/${slug}/services`, 'HTTPS://Clinic.Example')).headers.get('access-control-allow-origin')).toBe('HTTPS://Clinic.Example');
  });

  it('the preflight of a booking is granted to a listed origin and not to another, so the browser never sends the booking', async () => {
    const slug = await business([ALLOWED]);
    const ok = await preflight(`/v1/public/${slug}/bookings`, ALLOWED);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(ok.headers.get('access-control-allow-methods')).toContain('POST');
    expect(ok.headers.get('access-control-allow-headers')).toBe('content-type,idempotency-key');
    expect(ok.headers.get('access-control-max-age')).toBe('600');
    const refused = await preflight(`/v1/public/${slug}/bookings`, OTHER);
    expect(refused.status).toBe(204);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    expect(refused.headers.get('access-control-allow-methods')).toBeNull();
  });

  it('error responses of a restricted business carry the header for a listed origin too (the page can read the problem)', async () => {
    const slug = await business([ALLOWED]);
    const res = await api().request('POST', `/v1/public/${slug}/bookings`, { headers: { origin: ALLOWED, 'content-type': 'application/json' }, body: '{' });
    expect(res.status).toBe(400);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
  });

  it('the manage endpoints by booking code name no tenant and stay open to any origin (they need the secret manage token)', async () => {
    await business([ALLOWED]);
    const res = await get('/v1/public/bookings/BK-AAAAAA?token=nope', OTHER);
    expect(res.status).toBe(404);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect((await preflight('/v1/public/bookings/BK-AAAAAA', OTHER, 'PATCH')).headers.get('access-control-allow-origin')).toBe('*');
  });

  it('requests without an Origin (servers, the booking page itself) get no CORS headers and are answered as usual', async () => {
    const slug = await business([ALLOWED]);
    const res = await get(`/v1/public/${slug}/services`);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('staff endpoints get no CORS headers at all', async () => {
    const res = await get('/v1/tenant', OTHER);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});
