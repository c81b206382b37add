import { backends } from '../support/backends';
import { startTestApp, TestApp } from '../support/test-app';

describe.each(backends())('boot, health and metrics on %s', (backend) => {
  let relay: TestApp;
  beforeAll(async () => {
    relay = await startTestApp({ backend });
  });
  afterAll(() => relay?.close());

  it('answers liveness', async () => {
    const res = await fetch(`${relay.url}/health/live`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers readiness with the database and the queue checked', async () => {
    const res = await fetch(`${relay.url}/health/ready`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.checks.database).toBe('ok');
    expect(body.checks.queue).toEqual({ driver: backend.redisUrl ? 'bullmq' : 'in-process', status: 'ok' });
  });

  it('exposes Prometheus metrics with HTTP latency, queue depth and messages by status', async () => {
    await fetch(`${relay.url}/health/ready`);
    const res = await fetch(`${relay.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('relay_http_request_duration_seconds_bucket');
    expect(text).toMatch(/relay_http_request_duration_seconds_count\{method="GET",route="\/health\/ready",status="200"\} \d+/);
    expect(text).toContain('# TYPE relay_queue_jobs gauge');
    expect(text).toContain('# TYPE relay_messages gauge');
  });

  it('serves the OpenAPI document', async () => {
    const res = await fetch(`${relay.url}/api/docs/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as any;
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.paths['/health/ready']).toBeDefined();
    expect((await fetch(`${relay.url}/api/docs`)).status).toBe(200);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await fetch(`${relay.url}/no/such/route`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ statusCode: 404 });
  });
});
