import { startTestApp, TestApp } from '../support/test-app';

describe('web UI files and API documentation', () => {
  let relay: TestApp;
  beforeAll(async () => {
    relay = await startTestApp();
  });
  afterAll(() => relay?.close());

  it('serves the single page at / with a strict Content-Security-Policy', async () => {
    const res = await fetch(`${relay.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await res.text()).toContain('<script type="module" src="/ui/app.js">');
  });

  it('serves the UI modules and stylesheet under /ui with the right types', async () => {
    const script = await fetch(`${relay.url}/ui/components/form.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${relay.url}/ui/styles.css`)).headers.get('content-type')).toContain('text/css');
  });

  it('answers 404 JSON for missing files and refuses paths leaving ui/', async () => {
    for (const path of ['/ui/nope.js', '/ui/..%2Fpackage.json', '/ui/%2e%2e/package.json', '/ui/.hidden']) {
      const res = await fetch(`${relay.url}${path}`);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ statusCode: 404 });
    }
  });

  it('leaves the API, health and sandbox paths alone', async () => {
    expect((await fetch(`${relay.url}/health/live`)).status).toBe(200);
    expect((await fetch(`${relay.url}/api/v1/me`)).status).toBe(401);
    expect((await fetch(`${relay.url}/sandbox/outbox`)).status).toBe(200);
  });

  it('documents the account endpoints in OpenAPI', async () => {
    const doc = (await (await fetch(`${relay.url}/api/docs/openapi.json`)).json()) as any;
    for (const path of ['/api/v1/auth/register', '/api/v1/auth/activate', '/api/v1/auth/resend-code', '/api/v1/auth/login',
      '/api/v1/auth/logout', '/api/v1/auth/password/forgot', '/api/v1/auth/password/reset', '/api/v1/me', '/api/v1/me/password']) {
      expect(doc.paths[path]).toBeDefined();
    }
    expect(doc.paths['/api/v1/me'].delete).toBeDefined();
    expect(doc.paths['/api/v1/auth/login'].post.responses['403']).toBeDefined();
    expect(doc.paths['/']).toBeUndefined();
  });
});
