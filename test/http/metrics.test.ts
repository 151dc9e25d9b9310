import { describe, expect, it } from 'vitest';
import { createMetrics } from '#src/http/metrics.ts';
import { useApi } from '../support/http.ts';

describe('GET /metrics (Prometheus)', () => {
  const metrics = createMetrics({ processMetrics: false });
  const api = useApi({ metrics });

  it('counts requests by method, route pattern and status — never by raw path, so ids do not become labels', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    expect((await api().request('GET', '/health')).status).toBe(200);
    expect((await api().request('GET', `/v1/public/no-such-business/services`)).status).toBe(404);
    expect((await api().request('GET', `/v1/bookings/${id}`)).status).toBe(401);
    expect((await api().request('GET', '/no/such/path')).status).toBe(404);
    const res = await api().request('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('slotbase_http_requests_total{method="GET",route="/health",status="200"} 1');
    expect(text).toContain('slotbase_http_requests_total{method="GET",route="/v1/public/:tenant/services",status="404"} 1');
    expect(text).toContain('route="/v1/bookings/:id",status="401"');
    expect(text).toContain('route="unmatched",status="404"');
    expect(text).not.toContain(id);
    expect(text).toMatch(/slotbase_http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/health",status="200"\} \d/);
    expect(text).toMatch(/slotbase_http_request_duration_seconds_count\{method="GET",route="\/v1\/bookings\/:id",status="401"\} 1/);
    expect(text).toContain('slotbase_bookings_created_total{source="public"} 0');
    expect(text).toContain('slotbase_bookings_cancelled_total{source="staff"} 0');
    expect(text).toContain('slotbase_http_requests_in_flight 1');
  });
});

describe('GET /metrics with METRICS_TOKEN', () => {
  const api = useApi({ metrics: createMetrics({ processMetrics: false, token: 'metrics-token-0123456789' }) });
  it('needs the token as a bearer; without it, a 401 problem', async () => {
    const denied = await api().request('GET', '/metrics');
    expect(denied.status).toBe(401);
    expect(denied.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const ok = await api().request('GET', '/metrics', { headers: { authorization: 'Bearer metrics-token-0123456789' } });
    expect(ok.status).toBe(200);
  });
});

describe('without metrics (e.g. an Edge Function)', () => {
  const api = useApi();
  it('there is no /metrics', async () => {
    expect((await api().request('GET', '/metrics')).status).toBe(404);
  });
});
