import { randomInt } from 'node:crypto';
import { backends } from '../support/backends';
import { cookieJar, latestCode, registerAndLogin, TEST_PASSWORD } from '../support/tenant-client';
import { TestApp } from '../support/test-app';
import { call, startLoggedRelay } from './support';

/** Sessions, CSRF, login throttling and verification-code guessing, seen from outside over HTTP. */
describe.each(backends())('sessions, CSRF and guessing limits on %s', (backend) => {
  let relay: TestApp;
  beforeAll(async () => {
    ({ relay } = await startLoggedRelay(backend));
  });
  afterAll(async () => {
    await relay?.close();
  });

  const fakeIp = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
  const post = (path: string, body: unknown, ip: string, headers: Record<string, string> = {}) =>
    call(`${relay.url}${path}`, { method: 'POST', headers: { 'x-forwarded-for': ip, ...headers }, json: body });

  async function login(email: string, ip = fakeIp()) {
    const res = await fetch(`${relay.url}/api/v1/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': ip }, body: JSON.stringify({ email, password: TEST_PASSWORD }),
    });
    return { status: res.status, setCookies: res.headers.getSetCookie(), jar: cookieJar(res.headers) };
  }

  it('session cookie is httpOnly and SameSite; the CSRF cookie is readable by the page', async () => {
    const client = await registerAndLogin(relay);
    const { setCookies, status } = await login(client.email);
    expect(status).toBe(200);
    const session = setCookies.find((c) => c.startsWith('relay_session='))!;
    const xsrf = setCookies.find((c) => c.startsWith('XSRF-TOKEN='))!;
    expect(session).toMatch(/HttpOnly/i);
    expect(session).toMatch(/SameSite=Lax/i);
    expect(xsrf).not.toMatch(/HttpOnly/i);
  });

  it('state-changing calls need the CSRF token of this very session', async () => {
    const victim = await registerAndLogin(relay);
    const other = await registerAndLogin(relay);
    const v = await login(victim.email);
    const o = await login(other.email);
    const session = `relay_session=${encodeURIComponent(v.jar.get('relay_session')!)}`;
    const path = `${relay.url}/api/v1/integrations`;
    const body = { name: 'x', pageId: '1', openchannelUrl: 'https://example.com/' };
    const attempts: Array<[string, Record<string, string>]> = [
      ['no header, no cookie', { cookie: session }],
      ['cookie but no header', { cookie: `${session}; XSRF-TOKEN=${v.jar.get('XSRF-TOKEN')}` }],
      ['planted cookie = header', { cookie: `${session}; XSRF-TOKEN=planted`, 'x-xsrf-token': 'planted' }],
      ["another session's token", { cookie: `${session}; XSRF-TOKEN=${o.jar.get('XSRF-TOKEN')}`, 'x-xsrf-token': o.jar.get('XSRF-TOKEN')! }],
    ];
    const results: string[] = [];
    for (const [label, headers] of attempts) {
      for (const [method, url] of [['POST', path], ['DELETE', `${relay.url}/api/v1/me`], ['POST', `${relay.url}/api/v1/auth/logout`]] as const) {
        const res = await call(url, { method, headers, json: method === 'DELETE' ? { password: TEST_PASSWORD } : body });
        results.push(`${label} ${method} ${url.replace(relay.url, '')} → ${res.status}${res.status === 403 ? '' : ' (expected 403)'}`);
        expect(res.status).toBe(403);
      }
    }
    // The session is still alive after all that, and the right token works.
    const me = await call(`${relay.url}/api/v1/me`, { headers: { cookie: session } });
    expect(me.status).toBe(200);
    process.stdout.write(`[csrf/${backend}] ${results.length} forged state-changing requests, all 403\n`);
  });

  it('forged, ended and other-process sessions are refused', async () => {
    const client = await registerAndLogin(relay);
    const v = await login(client.email);
    const cookie = `relay_session=${encodeURIComponent(v.jar.get('relay_session')!)}; XSRF-TOKEN=${v.jar.get('XSRF-TOKEN')}`;
    expect((await call(`${relay.url}/api/v1/me`, { headers: { cookie: 'relay_session=' + 'A'.repeat(43) } })).status).toBe(401);
    expect((await call(`${relay.url}/api/v1/me`, { headers: { cookie: 'relay_session=' } })).status).toBe(401);
    expect((await call(`${relay.url}/api/v1/me`, { headers: { cookie } })).status).toBe(200);
    const out = await call(`${relay.url}/api/v1/auth/logout`, { method: 'POST', headers: { cookie, 'x-xsrf-token': v.jar.get('XSRF-TOKEN')! } });
    expect(out.status).toBe(204);
    expect((await call(`${relay.url}/api/v1/me`, { headers: { cookie } })).status).toBe(401);
  });

  it('login is throttled per address and per IP, and the lock holds for the right password too', async () => {
    const client = await registerAndLogin(relay);
    const ip = fakeIp();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await post('/api/v1/auth/login', { email: client.email, password: `wrong password ${i}` }, ip)).status);
    const first429 = statuses.indexOf(429);
    // 10 logins per address per 15 min, the successful one of registerAndLogin included.
    expect(first429).toBe(9);
    expect(statuses.slice(0, first429).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(first429).every((s) => s === 429)).toBe(true);
    const right = await post('/api/v1/auth/login', { email: client.email, password: TEST_PASSWORD }, fakeIp());
    expect(right.status).toBe(429);
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(right.text).not.toContain(TEST_PASSWORD);

    // One IP spraying many addresses.
    const sprayIp = fakeIp();
    let sprayed = 0;
    let blockedAt = -1;
    for (let i = 0; i < 55 && blockedAt < 0; i++) {
      const res = await post('/api/v1/auth/login', { email: `nobody-${i}-${Date.now()}@example.com`, password: 'wrong password here' }, sprayIp);
      sprayed++;
      if (res.status === 429) blockedAt = i;
      else expect(res.status).toBe(401);
    }
    expect(blockedAt).toBe(50);
    process.stdout.write(`[throttle/${backend}] login: address locked after ${first429} failures + 1 login (then 429, Retry-After ${right.headers.get('retry-after')} s); IP locked after ${blockedAt} addresses (${sprayed} tries)\n`);
  }, 60_000);

  it('a verification code cannot be guessed: 5 tries, then even the right code is refused', async () => {
    const ip = fakeIp();
    const email = `guess-${Date.now()}@example.com`;
    expect((await post('/api/v1/auth/register', { email, password: TEST_PASSWORD }, ip)).status).toBe(201);
    const code = latestCode(relay, email);
    const wrong = (n: number) => String((Number(code) + n) % 1_000_000).padStart(6, '0');
    const answers: string[] = [];
    for (let i = 1; i <= 6; i++) {
      const res = await post('/api/v1/auth/activate', { email, code: wrong(i) }, ip);
      answers.push(`${res.status} ${res.body.error}`);
    }
    expect(answers.slice(0, 4)).toEqual(Array(4).fill('400 invalid_code'));
    expect(answers[4]).toBe('400 code_exhausted'); // the 5th try uses the code up
    expect(answers[5]).toBe('400 invalid_code'); // gone: nothing left to guess
    const right = await post('/api/v1/auth/activate', { email, code }, ip);
    expect(right.status).toBe(400);
    expect((await post('/api/v1/auth/login', { email, password: TEST_PASSWORD }, ip)).status).toBe(403);
    process.stdout.write(`[codes/${backend}] 6 guesses: ${answers.join(', ')}; right code afterwards → ${right.status} ${right.body.error}\n`);
  });
});
