import { ContactCenterSandbox, startContactCenterSandbox } from '../../sandbox/contact-center/server';
import { FacebookSandbox, startFacebookSandbox } from '../../sandbox/facebook/server';
import { Database } from '../../src/database/database';
import { Message } from '../../src/relay/message.entity';
import { hubSignature, messaging, metaJson, page, postWebhook, textEvent, feed } from '../relay/webhook-signing';
import { setUpPage, PageSetup } from '../replies/reply-harness';
import { backends } from '../support/backends';
import { createIntegration } from '../support/fixtures';
import { registerAndLogin, TenantClient, TEST_PASSWORD } from '../support/tenant-client';
import { TestApp } from '../support/test-app';
import { deeplyNested, FUZZ_SEED, mutate, prng, randomValue } from './fuzz';
import { call, leakedSecrets, routeTable, startLoggedRelay } from './support';

/**
 * Bad input: fuzzed webhook bodies and headers, fuzzed /api/reply bodies, fuzzed management API
 * input over the route table, oversized bodies. None may answer 5xx, crash the relay, lose a
 * message that came with it, or put a secret in a log line.
 */
const APP = { id: '7000000000000099', secret: 'fuzz-app-secret-0123456789abcdef', verifyToken: 'fuzz-verify' };
const CASES = Number(process.env.FUZZ_CASES ?? 150);
const NINE_MB = 9 * 1024 * 1024;

describe.each(backends())('bad input on %s', (backend) => {
  let fb: FacebookSandbox;
  let cc: ContactCenterSandbox;
  let relay: TestApp;
  let logs: string[];
  let setup: PageSetup;
  let client: TenantClient;
  const statuses = new Map<string, Map<number, number>>();

  function count(area: string, status: number): void {
    const byStatus = statuses.get(area) ?? new Map<number, number>();
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    statuses.set(area, byStatus);
  }

  beforeAll(async () => {
    fb = await startFacebookSandbox({ port: 0, appId: APP.id, appSecret: APP.secret, seed: false });
    cc = await startContactCenterSandbox({ port: 0 });
    ({ relay, logs } = await startLoggedRelay(backend, {
      env: { FACEBOOK_APP_ID: APP.id, FACEBOOK_APP_SECRET: APP.secret, FACEBOOK_VERIFY_TOKEN: APP.verifyToken, FACEBOOK_GRAPH_URL: fb.url, FACEBOOK_DIALOG_URL: fb.url },
    }));
    setup = await setUpPage({ relay, fb, cc, close: async () => undefined });
    client = await registerAndLogin(relay);
  }, 60_000);
  afterAll(async () => {
    const summary = [...statuses].map(([area, byStatus]) => `${area}: ${[...byStatus].sort(([x], [y]) => x - y).map(([s, n]) => `${s}×${n}`).join(' ')}`);
    process.stdout.write(`[bad-input/${backend}] seed ${FUZZ_SEED}\n  ${summary.join('\n  ')}\n`);
    await relay?.close();
    await cc?.close();
    await fb?.close();
  });

  async function alive(): Promise<void> {
    expect((await call(`${relay.url}/health/live`)).status).toBe(200);
  }

  function validWebhook(psid = setup.customer.psid) {
    const pageId = setup.page.id;
    return page(
      messaging(pageId, [
        textEvent(pageId, psid, 'héllo'),
        { sender: { id: psid }, recipient: { id: pageId }, timestamp: Date.now(), postback: { title: 'Go', payload: 'GO' } },
        { sender: { id: psid }, recipient: { id: pageId }, timestamp: Date.now(), message: { mid: `m_att_${Math.random()}`, attachments: [{ type: 'image', payload: { url: 'https://cdn.example.com/x.png' } }] } },
        { sender: { id: pageId }, recipient: { id: psid }, timestamp: Date.now(), delivery: { mids: ['m_1'], watermark: Date.now() } },
      ]),
      feed(pageId, [{ item: 'comment', verb: 'add', comment_id: `${pageId}_1_2`, post_id: `${pageId}_1`, parent_id: `${pageId}_1`, from: { id: psid, name: 'Ana' }, message: 'hi', created_time: Math.floor(Date.now() / 1000) }]),
    );
  }

  it('fuzzed webhook bodies (signed) never answer 5xx, and a valid event next to garbage is not lost', async () => {
    const rnd = prng(FUZZ_SEED);
    const bad: string[] = [];
    const bodies: string[] = [
      '', 'null', '[]', '"page"', '123', 'true', '{', '{"object":"page"}', '{"object":"page","entry":null}', '{"object":"page","entry":{}}',
      '{"object":"user","entry":[]}', '{"object":"page","entry":[null,1,"x",[]]}', '{"object":"page","entry":[{"id":{},"messaging":"x"}]}',
      '{"object":"page","entry":[{"id":"1","messaging":[null,{"sender":null},{"message":{"text":123}},{"timestamp":"soon"}]}]}',
      '{"object":"page","entry":[{"id":"1","changes":[{"field":"feed","value":null},{"field":"feed"},{"field":42}]}]}',
      '{"object":"page","entry":[{"id":"1","unknown_event":[{"x":1}]}]}', '{"__proto__":{"polluted":1},"object":"page","entry":[]}',
      deeplyNested(5_000), `{"object":"page","entry":[{"id":"1","messaging":[{"message":${deeplyNested(5_000)}}]}]}`,
      '['.repeat(50_000) + ']'.repeat(50_000), `{"object":"page","entry":[${Array(20_000).fill('{}').join(',')}]}`,
    ];
    for (let i = 0; i < CASES; i++) bodies.push(metaJson(mutate(validWebhook(), rnd)));
    for (const raw of bodies) {
      const res = await postWebhook(relay.url, APP.secret, undefined, { raw });
      count('webhook body', res.status);
      if (res.status >= 500 || ![200, 400].includes(res.status)) { bad.push(`${res.status} for ${raw.slice(0, 100)}`); if (process.env.FUZZ_DEBUG) process.stdout.write(`FULL ${raw}\n${logs.filter((l) => l.includes('Unhandled')).slice(-1)[0]?.slice(0, 3000)}\n`); }
    }
    expect(bad).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await alive();

    // Garbage events around one valid message in the same batch: the message is stored and delivered once.
    const text = `kept-${Date.now()}`;
    const valid = textEvent(setup.page.id, `mixed-${Date.now()}`, text); // a fresh conversation: fuzzed ones may wait on dead CDN links
    const mixed = page(messaging(setup.page.id, [null, { sender: 5 }, valid, { message: { mid: {} } }, 'x'] as object[]), { id: setup.page.id, changes: 'nope' });
    expect((await postWebhook(relay.url, APP.secret, mixed)).status).toBe(200);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !cc.control.notifications({ accountId: setup.account.id, acceptedOnly: true }).some((n) => (n.body as { body?: string }).body === text)) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const received = cc.control.notifications({ accountId: setup.account.id, acceptedOnly: true }).filter((n) => (n.body as { body?: string }).body === text);
    expect(received).toHaveLength(1);
  }, 120_000);

  it('wrong, missing and malformed signatures and odd headers answer 401/4xx, never 5xx, and store nothing', async () => {
    const raw = metaJson(page(messaging(setup.page.id, [textEvent(setup.page.id, 'sig-cust', 'should never be stored')])));
    const good = hubSignature(raw, APP.secret);
    const signatures: Array<string | null> = [
      null, '', 'sha256=', 'sha256', good.replace('sha256=', 'sha1='), good.slice(0, -1), `${good}0`,
      'sha256=' + 'g'.repeat(64), 'sha256=' + '0'.repeat(64), hubSignature(raw, 'wrong-secret'), hubSignature(raw + ' ', APP.secret),
      'sha256=' + 'a'.repeat(10_000), '\u00ff\u00fe', `sha256=${good.slice(7)},sha256=${good.slice(7)}`,
    ];
    for (const signature of signatures) {
      const res = await postWebhook(relay.url, APP.secret, undefined, { raw, signature });
      count('webhook signature', res.status);
      if (res.status !== 401) throw new Error(`signature ${JSON.stringify(signature)} answered ${res.status}`);
    }
    const odd: Array<Record<string, string>> = [
      { 'content-type': 'text/plain' }, { 'content-type': 'application/json; charset=utf-16' }, { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      { 'content-type': 'application/x-www-form-urlencoded' }, { 'content-type': 'multipart/form-data; boundary=x' }, { 'content-type': '' },
    ];
    for (const headers of odd) {
      const res = await call(`${relay.url}/webhooks/facebook`, { method: 'POST', headers: { ...headers, 'x-hub-signature-256': good }, body: raw });
      count('webhook headers', res.status);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    const verify = await call(`${relay.url}/webhooks/facebook?hub.mode=subscribe&hub.verify_token[]=x&hub.challenge=1`);
    expect(verify.status).toBe(403);
    const rows = await relay.get(Database).repo(Message).findBy({ text: 'should never be stored' });
    expect(rows).toHaveLength(0);
  });

  it('oversized bodies get 413 on every entry point', async () => {
    const huge = JSON.stringify({ object: 'page', entry: [], pad: 'x'.repeat(NINE_MB) });
    const targets: Array<[string, Record<string, string>]> = [
      ['/webhooks/facebook', { 'x-hub-signature-256': hubSignature(huge, APP.secret) }],
      ['/webhooks/facebook', {}],
      [`/api/reply?token=${setup.replyToken}`, {}],
      ['/api/v1/auth/login', {}],
    ];
    for (const [path, headers] of targets) {
      const res = await call(`${relay.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: huge });
      count('oversized', res.status);
      expect(res.status).toBe(413);
    }
    const form = await call(`${relay.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `a=${'x'.repeat(2 * 1024 * 1024)}` });
    expect(form.status).toBe(413);
    await alive();
  });

  it('fuzzed /api/reply bodies never answer 5xx (Facebook is up)', async () => {
    const rnd = prng(FUZZ_SEED + 1);
    const valid = { id: 1, body: 'Hello', AttachmentId: null, Contact: { facebook: setup.customer.psid }, Interaction: { id: 1, threadId: null } };
    const bodies: unknown[] = [null, [], 'text', 7, {}, { body: null }, { body: 123 }, { body: {} }, { body: 'x'.repeat(70_000), Contact: { facebook: setup.customer.psid } },
      { body: 'x', Contact: 'psid' }, { body: 'x', Contact: { facebook: {} } }, { body: 'x', to: [] }, { body: 'x', Interaction: { threadId: 5 } },
      { body: 'x', AttachmentId: {} }, { body: 'x', id: [] }, { body: 'x', privateReply: 'yes' }, JSON.parse(deeplyNested(3000, '{"body":"x"}')),
      { body: '', Contact: { facebook: setup.customer.psid } }, { body: 'x', Contact: { facebook: setup.customer.psid }, AttachmentId: 999999 },
      { body: 'x', Contact: { facebook: setup.customer.psid }, Interaction: { threadId: 'not-a-post' } }, { body: 'x', Contact: { facebook: setup.customer.psid }, privateReply: true }];
    for (let i = 0; i < CASES; i++) bodies.push(mutate(valid, rnd));
    const bad: string[] = [];
    for (const body of bodies) {
      const res = await call(`${relay.url}/api/reply?token=${setup.replyToken}`, { method: 'POST', json: body });
      count('reply body', res.status);
      if (res.status >= 500) bad.push(`${res.status} ${JSON.stringify(res.body).slice(0, 150)} for ${JSON.stringify(body).slice(0, 150)}`); if (res.status >= 500 && process.env.FUZZ_DEBUG) process.stdout.write(`${logs.filter((l) => l.includes("\"level\":50")).slice(-2)[0]?.slice(0, 1500)}\n`);
    }
    const headerCases: Array<Record<string, string>> = [
      { 'idempotency-key': '' }, { 'idempotency-key': 'k'.repeat(5000) }, { 'idempotency-key': '\u00ff' }, { authorization: 'Bearer' }, { authorization: 'Basic abc' },
      { authorization: `Bearer ${setup.replyToken} extra` }, { 'content-type': 'text/plain' },
    ];
    for (const headers of headerCases) {
      const res = await call(`${relay.url}/api/reply?token=${setup.replyToken}`, { method: 'POST', headers, body: JSON.stringify({ body: 'hi', Contact: { facebook: setup.customer.psid } }) });
      count('reply headers', res.status);
      if (res.status >= 500) bad.push(`${res.status} with headers ${JSON.stringify(headers).slice(0, 80)}`);
    }
    for (const query of ['?token=', '?token[]=a', `?token=${setup.replyToken}&token=${setup.replyToken}`, '?token=%00', `?token=${'t'.repeat(10_000)}`]) {
      const res = await call(`${relay.url}/api/reply${query}`, { method: 'POST', json: { body: 'hi' } });
      count('reply token', res.status);
      if (res.status >= 500 || res.status === 200) bad.push(`${res.status} for query ${query.slice(0, 60)}`);
    }
    expect(bad).toEqual([]);
    await alive();
  }, 120_000);

  it('fuzzed management API input over the route table never answers 5xx', async () => {
    const rnd = prng(FUZZ_SEED + 2);
    const { integration } = await createIntegration(relay, { tenantId: client.tenantId, openchannelUrl: cc.receiveUrl(cc.control.createAccount({}).id) });
    const routes = routeTable(relay).filter((r) => r.path.startsWith('/api/v1/') && !(r.method === 'POST' && r.path === '/api/v1/auth/logout'));
    const ids = ['', ' ', '..', '%00', '%2e%2e%2f', 'x'.repeat(3000), '💥', "1' OR '1'='1", '-1', '00000000-0000-0000-0000-000000000000'];
    const bad: string[] = [];
    const perRoute = Math.max(4, Math.round(CASES / 15));
    for (const route of routes) {
      for (let i = 0; i < perRoute; i++) {
        const ownId = route.method !== 'DELETE' && rnd() < 0.5;
        const path = route.path.replace(/:(\w+)/g, () => encodeURIComponent(ownId ? integration.id : ids[Math.floor(rnd() * ids.length)]));
        let res;
        if (route.method === 'GET') {
          const query = new URLSearchParams();
          for (const name of ['from', 'to', 'page', 'pageSize', 'q', 'status', 'direction', 'customer', 'rerequest', 'reactivate', 'x']) {
            if (rnd() < 0.4) query.set(name, String(randomValue(rnd)));
          }
          res = await client.request('GET', `${path}?${query}`);
        } else {
          const body = rnd() < 0.5 ? randomValue(rnd) : mutate({ name: 'n', email: 'a@b.c', password: 'not the password', code: '123456', pageId: '1', openchannelUrl: 'https://x.example/', apiKey: 'k', enabled: true, wallPosts: true, signingSecret: 's', currentPassword: 'no', newPassword: 'no' }, rnd);
          res = await client.request(route.method, path, body);
        }
        count('management', res.status);
        if (res.status >= 500) bad.push(`${route.method} ${path.slice(0, 80)} → ${res.status} ${JSON.stringify(res.body).slice(0, 150)}`);
      }
    }
    expect(bad).toEqual([]);
    // Still logged in and working.
    expect((await client.request('GET', '/api/v1/me')).status).toBe(200);
    await alive();
  }, 120_000);

  it('no secret reached a log line in all of the above', () => {
    const text = logs.join('\n');
    expect(logs.length).toBeGreaterThan(100);
    expect(leakedSecrets(text, {
      appSecret: APP.secret, replyToken: setup.replyToken, pageToken: setup.pageToken, apiKey: setup.integration.id && cc.control.account(setup.account.id)!.apiKey!,
      password: TEST_PASSWORD,
    })).toEqual([]);
    expect(text).not.toMatch(/relay_session=[A-Za-z0-9_-]{20}/);
  });
});
