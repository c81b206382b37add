import { startTestApp, TestApp } from '../support/test-app';

const TOKEN = 'metrics-scrape-token-0123456789abcdef';

describe('GET /metrics with METRICS_TOKEN set', () => {
  let relay: TestApp;
  const logLines: string[] = [];
  beforeAll(async () => {
    relay = await startTestApp({ env: { METRICS_TOKEN: TOKEN }, logLines });
  });
  afterAll(() => relay?.close());

  const scrape = (authorization?: string) => fetch(`${relay.url}/metrics`, { headers: authorization ? { authorization } : {} });

  it('answers the right bearer token with the metrics', async () => {
    const res = await scrape(`Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('# TYPE relay_messages gauge');
  });

  it('answers 401 with what to do when the token is missing or wrong, and never shows the metrics', async () => {
    const missing = await scrape();
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
    const missingBody = (await missing.json()) as { error: string; message: string };
    expect(missingBody).toMatchObject({ statusCode: 401, error: 'missing_metrics_token' });
    expect(missingBody.message).toContain('Authorization: Bearer');

    for (const authorization of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`]) {
      const res = await scrape(authorization);
      expect(res.status).toBe(401);
      const text = await res.text();
      expect(text).not.toContain('relay_messages');
      expect(text).not.toContain(TOKEN);
    }
    expect(((await (await scrape(`Bearer ${TOKEN}x`)).json()) as { error: string }).error).toBe('invalid_metrics_token');
  });

  it('keeps the token out of the logs', async () => {
    await scrape(`Bearer ${TOKEN}`);
    await scrape('Bearer wrong-token-of-some-length');
    expect(logLines.join('\n')).not.toContain(TOKEN);
  });

  it('leaves the health checks open', async () => {
    expect((await fetch(`${relay.url}/health/live`)).status).toBe(200);
  });
});
