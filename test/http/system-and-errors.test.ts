import { describe, expect, it } from 'vitest';
import { useApi } from '../support/http.ts';

describe('HTTP basics: every non-2xx is problem+json', () => {
  const api = useApi();

  it('GET /health and /ready answer 200 with a request id', async () => {
    const health = await api().json('GET', '/health');
    expect(health).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(health.headers.get('x-request-id')).toMatch(/.+/);
    expect((await api().json('GET', '/ready')).status).toBe(200);
  });

  it('an unknown path is a 404 problem', async () => {
    const res = await api().json<{ code: string; status: number }>('GET', '/v1/nope');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('a wrong method is a 405 problem with Allow', async () => {
    const res = await api().json<{ code: string }>('DELETE', '/health');
    expect(res.status).toBe(405);
    expect(res.body.code).toBe('method_not_allowed');
    expect(res.headers.get('allow')).toContain('GET');
  });

  it('malformed JSON is a 400 problem', async () => {
    const res = await api().json<{ code: string }>('POST', '/v1/auth/login', { body: '{"email": ' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('a body that is not JSON is a 415 problem', async () => {
    const res = await api().json<{ code: string }>('POST', '/v1/auth/login', { body: 'email=a', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res).toMatchObject({ status: 415, body: { code: 'unsupported_media_type' } });
  });

  it('a huge body is a 413 problem', async () => {
    const res = await api().json<{ code: string }>('POST', '/v1/auth/login', { body: { email: 'a@b.co', password: 'x'.repeat(200_000) } });
    expect(res).toMatchObject({ status: 413, body: { code: 'payload_too_large' } });
  });

  it('wrong types and unknown fields are a 422 problem naming each field', async () => {
    const res = await api().json<{ code: string; errors: { field: string }[] }>('POST', '/v1/auth/login', {
      body: { email: 42, password: 'x', sneaky: true },
    });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.errors.map((e) => e.field).sort()).toEqual(['(body)', 'email'].sort());
  });

  it('a malformed or forged bearer token is a 401 problem', async () => {
    expect((await api().json('GET', '/v1/public/x/services', { token: 'not-a-jwt' })).status).toBe(401);
    expect((await api().json('GET', '/v1/public/x/services', { headers: { authorization: 'Basic abc' } })).status).toBe(401);
  });
});

describe('method checks come before body checks', () => {
  const api = useApi();
  it('PUT on a GET-only path is 405 even with a non-JSON body', async () => {
    const res = await api().json<{ code: string }>('PUT', '/health', { body: 'x', headers: { 'content-type': 'text/plain' } });
    expect(res).toMatchObject({ status: 405, body: { code: 'method_not_allowed' } });
  });
});
