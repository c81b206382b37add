import { startContactCenterSandbox, type ContactCenterSandbox } from './server';
import { getJson, postJson } from './test-helpers';

const MSG = { from: '24920318375', body: 'Hi', mapKey: 'facebook', AttachmentId: null };

async function errorCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? String(err);
  }
  throw new Error('expected the request to fail');
}

describe('contact-center sandbox: failure injection', () => {
  let cc: ContactCenterSandbox;
  let notifyUrl: string;
  beforeEach(async () => {
    cc = await startContactCenterSandbox({ seed: true });
    notifyUrl = cc.receiveUrl(1);
  });
  afterEach(() => cc.close());

  it('down refuses connections, then comes back up on the same port', async () => {
    expect((await postJson(notifyUrl, MSG)).status).toBe(200);
    await cc.control.down();
    expect(cc.control.isDown).toBe(true);
    expect(await errorCode(postJson(notifyUrl, MSG))).toBe('ECONNREFUSED');
    await cc.control.up();
    expect(cc.control.isDown).toBe(false);
    expect((await postJson(notifyUrl, MSG)).status).toBe(200);
    expect(notifyUrl.startsWith(cc.url)).toBe(true);
  });

  it('down over the control API comes back by itself after forMs', async () => {
    const res = await postJson(`${cc.url}/_control/down`, { forMs: 250 });
    expect(res.status).toBe(202);
    await new Promise((r) => setTimeout(r, 50));
    expect(await errorCode(postJson(notifyUrl, MSG))).toBe('ECONNREFUSED');
    await new Promise((r) => setTimeout(r, 350));
    expect((await postJson(notifyUrl, MSG)).status).toBe(200);
    // refuse without forMs would lock the control API out: rejected.
    expect((await postJson(`${cc.url}/_control/down`, {})).status).toBe(400);
  });

  it('down in "reset" mode drops connections but keeps the control API', async () => {
    expect((await postJson(`${cc.url}/_control/down`, { mode: 'reset' })).status).toBe(202);
    await new Promise((r) => setTimeout(r, 20));
    expect(await errorCode(postJson(notifyUrl, MSG))).toMatch(/SocketError|other side closed|ECONNRESET|UND_ERR/);
    expect((await getJson(`${cc.url}/_control/failures`)).json.down).toMatchObject({ mode: 'reset' });
    expect((await postJson(`${cc.url}/_control/up`, {})).status).toBe(200);
    expect((await postJson(notifyUrl, MSG)).status).toBe(200);
  });

  it('slow delays the answer (next N or all), latency applies to every notify', async () => {
    cc.control.setFailures({ slow: { ms: 300, count: 1 } });
    let t = Date.now();
    expect((await postJson(notifyUrl, MSG)).status).toBe(200);
    expect(Date.now() - t).toBeGreaterThanOrEqual(280);
    t = Date.now();
    await postJson(notifyUrl, MSG);
    expect(Date.now() - t).toBeLessThan(250);

    const fast = await startContactCenterSandbox({ seed: true, notifyLatencyMs: 40 });
    try {
      t = Date.now();
      expect((await postJson(fast.receiveUrl(1), MSG)).status).toBe(200);
      expect(Date.now() - t).toBeGreaterThanOrEqual(35);
      expect(fast.control.failures().latencyMs).toBe(40);
    } finally {
      await fast.close();
    }
  });

  it('answers the next N notifies with 500, then normally; "all until cleared" too', async () => {
    cc.control.setFailures({ errors: { status: 500, count: 2 } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await postJson(notifyUrl, MSG)).status);
    expect(statuses).toEqual([500, 500, 200]);
    expect(cc.control.notifications().map((n) => n.status)).toEqual([500, 500, 200]);
    expect(cc.control.interactions()[0].messages).toHaveLength(1);

    // Over HTTP, without a count: until cleared.
    expect((await postJson(`${cc.url}/_control/failures`, { errors: { status: 503 } })).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await postJson(notifyUrl, MSG)).status).toBe(503);
    // Only notify is affected by default.
    expect((await getJson(`${cc.url}/api/openchannel/accounts/1?apikey=demo-key`)).status).toBe(200);
    expect((await fetch(`${cc.url}/_control/failures`, { method: 'DELETE' })).status).toBe(200);
    expect((await postJson(notifyUrl, MSG)).status).toBe(200);
  });

  it('answers 429 with Retry-After', async () => {
    cc.control.setFailures({ rateLimit: { retryAfter: 7, count: 1 } });
    const limited = await postJson(notifyUrl, MSG);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(limited.json.message).toEqual(expect.any(String));
    expect((await postJson(notifyUrl, MSG)).status).toBe(200);

    await postJson(`${cc.url}/_control/failures`, { errors: [{ status: 429, retryAfter: 2, count: 1 }, { status: 500, count: 1 }] });
    const a = await postJson(notifyUrl, MSG);
    const b = await postJson(notifyUrl, MSG);
    expect([a.status, a.headers.get('retry-after'), b.status, b.headers.get('retry-after')]).toEqual([429, '2', 500, null]);
  });

  it('can target the account check and attachments too', async () => {
    cc.control.setFailures({ errors: { status: 502, count: 1, targets: ['account', 'attachments'] } });
    expect((await getJson(`${cc.url}/api/openchannel/accounts/1?apikey=demo-key`)).status).toBe(502);
    expect((await postJson(notifyUrl, MSG)).status).toBe(200);
  });

  it('reset clears state and failures and re-seeds', async () => {
    await postJson(notifyUrl, MSG);
    cc.control.setFailures({ errors: { status: 500 } });
    cc.control.createAccount({ id: 2, name: 'Extra' });
    const res = await postJson(`${cc.url}/_control/reset`, {});
    expect(res.status).toBe(200);
    expect(res.json.stats).toMatchObject({ accounts: 1, contacts: 0, interactions: 0, notifications: 0 });
    expect(cc.control.failures().errors).toEqual([]);
    expect((await postJson(notifyUrl, MSG)).status).toBe(200);
  });
});

describe('contact-center sandbox: control API accounts', () => {
  it('creates, reads, updates and deletes accounts', async () => {
    const cc = await startContactCenterSandbox();
    try {
      const created = await postJson(`${cc.url}/_control/accounts`, { id: 42, name: 'Support', apiKey: 'k42', replyUrl: 'http://127.0.0.1:1/api/reply?token=t' });
      expect(created.status).toBe(201);
      expect(created.json).toMatchObject({ id: 42, name: 'Support', apiKey: 'k42', receiveUrl: `${cc.url}/api/openchannel/accounts/42/notify?apikey=k42` });
      expect((await postJson(`${cc.url}/_control/accounts`, { id: 42 })).status).toBe(409);
      const patched = await fetch(`${cc.url}/_control/accounts/42`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Sales' }) });
      expect(((await patched.json()) as any).name).toBe('Sales');
      const put = await fetch(`${cc.url}/_control/accounts/42/reply-url`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ replyUrl: 'http://x/api/reply?token=2' }) });
      expect(((await put.json()) as any).replyUrl).toBe('http://x/api/reply?token=2');
      const publicView = await getJson(`${cc.url}/api/openchannel/accounts/42?apikey=k42`);
      expect(publicView.json.replyUrl).toBe('http://x/api/reply?token=***');
      expect((await getJson(`${cc.url}/_control/accounts`)).json).toHaveLength(1);
      expect((await fetch(`${cc.url}/_control/accounts/42`, { method: 'DELETE' })).status).toBe(200);
      expect((await getJson(`${cc.url}/_control/accounts/42`)).status).toBe(404);
      expect((await getJson(`${cc.url}/_control/nope`)).status).toBe(404);
    } finally {
      await cc.close();
    }
  });
});
