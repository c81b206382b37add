import { Database } from '../../src/database/database';
import { Integration } from '../../src/integrations/integration.entity';
import { Message } from '../../src/relay/message.entity';
import { backends } from '../support/backends';
import { TestApp } from '../support/test-app';
import { call, routeTable, startLoggedRelay, TenantWorld, tenantWorld } from './support';

/**
 * Tenant isolation, generated from the app's own route table (Express's router stack), so a route
 * added later is checked without anyone remembering to: every route must fall in a category below,
 * every session route answers 401 without a session, and every session route with ids in its path
 * answers 404 (or 401/403) to tenant A holding tenant B's ids. Unknown categories or id names fail
 * with a list.
 */

/** Routes anyone may call; what protects them is tested by their own suites (signature, throttling, ...). */
const PUBLIC: RegExp[] = [
  /^\/$/, /^\/ui\//, /^\/api\/docs/, /^\/health\//, /^\/metrics$/, /^\/webhooks\/facebook$/, /^\/api\/v1\/auth\//, /^\/sandbox\/outbox/,
];
/** Authenticated by a signed link (HMAC over id and expiry), not by a session. */
const SIGNED_LINK = new Set(['/files/:id']);
/** Authenticated by an integration's reply token. */
const REPLY_TOKEN = new Set(['/api/reply']);
/** Everything else under /api/v1 needs a session. */
const SESSION = /^\/api\/v1\//;

const ALLOWED_CROSS_TENANT = [401, 403, 404];

describe.each(backends())('tenant isolation over the route table on %s', (backend) => {
  let relay: TestApp;
  let a: TenantWorld;
  let b: TenantWorld;

  beforeAll(async () => {
    ({ relay } = await startLoggedRelay(backend));
    a = await tenantWorld(relay, 'tenant-a');
    b = await tenantWorld(relay, 'tenant-b');
  }, 60_000);
  afterAll(async () => {
    await relay?.close();
  });

  function categorise() {
    const routes = routeTable(relay);
    const uncategorised = routes.filter(({ path }) =>
      !PUBLIC.some((re) => re.test(path)) && !SIGNED_LINK.has(path) && !REPLY_TOKEN.has(path) && !SESSION.test(path));
    const session = routes.filter(({ path }) => SESSION.test(path) && !PUBLIC.some((re) => re.test(path)));
    return { routes, uncategorised, session };
  }

  /** Concrete paths for a pattern: each `:param` filled with the other tenant's (or a mix of) ids. */
  function fill(path: string, ids: Record<string, string>): string | { unknown: string[] } {
    const unknown: string[] = [];
    const filled = path.replace(/:(\w+)/g, (_, name: string) => {
      if (!(name in ids)) unknown.push(name);
      return encodeURIComponent(ids[name] ?? '');
    });
    return unknown.length ? { unknown } : filled;
  }

  it('every route of the app falls in a known category', () => {
    const { routes, uncategorised, session } = categorise();
    process.stdout.write(`[isolation/${backend}] ${routes.length} routes: ${session.length} session, ${routes.length - session.length} public/token/link\n`);
    expect(uncategorised.map((r) => `${r.method} ${r.path}`)).toEqual([]);
    expect(session.length).toBeGreaterThanOrEqual(10);
  });

  it('every session route answers 401 without a session', async () => {
    const wrong: string[] = [];
    for (const route of categorise().session) {
      const path = fill(route.path, { id: b.integration.id, messageId: b.messageId });
      if (typeof path !== 'string') continue; // reported by the cross-tenant test
      const res = await call(`${relay.url}${path}`, { method: route.method, json: route.method === 'GET' ? undefined : {} });
      if (res.status !== 401) wrong.push(`${route.method} ${route.path} → ${res.status}`);
    }
    expect(wrong).toEqual([]);
  });

  it("tenant A's session against tenant B's ids answers 404/401 on every route with ids, and B's objects are untouched", async () => {
    const { session } = categorise();
    const withIds = session.filter((r) => r.path.includes(':'));
    const combos: Array<Record<string, string>> = [
      { id: b.integration.id, messageId: b.messageId },
      { id: a.integration.id, messageId: b.messageId }, // A's integration, B's message
      { id: b.integration.id, messageId: a.messageId }, // B's integration, A's message
    ];
    const problems: string[] = [];
    let calls = 0;
    // Safe methods first, then the state-changing ones (a leak there would show in B's row below).
    const ordered = [...withIds].sort((x, y) => Number(x.method !== 'GET') - Number(y.method !== 'GET'));
    for (const route of ordered) {
      for (const ids of combos) {
        const path = fill(route.path, ids);
        if (typeof path !== 'string') {
          problems.push(`${route.method} ${route.path}: no tenant-B object known for :${path.unknown.join(', :')} (add it to this test)`);
          break;
        }
        if (!route.path.includes(':messageId') && ids !== combos[0]) continue;
        const body = route.method === 'PATCH' ? { name: 'hijacked', enabled: false } : route.method === 'GET' ? undefined : {};
        const res = await a.client.request(route.method, path, body);
        calls++;
        if (!ALLOWED_CROSS_TENANT.includes(res.status)) problems.push(`${route.method} ${path} as tenant A → ${res.status} ${JSON.stringify(res.body).slice(0, 120)}`);
      }
    }
    // Ids passed in the query string.
    const connect = await a.client.request('GET', `/api/v1/facebook/connect?reactivate=${b.integration.id}`);
    calls++;
    if (!ALLOWED_CROSS_TENANT.includes(connect.status)) problems.push(`GET /api/v1/facebook/connect?reactivate=<B's id> → ${connect.status}`);
    // Lists never show another tenant's objects.
    const list = await a.client.request('GET', '/api/v1/integrations');
    calls++;
    if (JSON.stringify(list.body).includes(b.integration.id)) problems.push("GET /api/v1/integrations as A lists B's integration");

    process.stdout.write(`[isolation/${backend}] ${withIds.length} routes with ids, ${calls} cross-tenant calls, ${problems.length} problems\n`);
    expect(problems).toEqual([]);

    const after = await relay.get(Database).repo(Integration).findOneByOrFail({ id: b.integration.id });
    expect({ name: after.name, enabled: after.enabled, replyTokenHash: after.replyTokenHash, status: after.status })
      .toEqual({ name: b.integration.name, enabled: true, replyTokenHash: b.integration.replyTokenHash, status: 'active' });
    expect((await relay.get(Database).repo(Message).findOneByOrFail({ id: b.messageId })).status).toBe('failed');

    // The ids are real: B itself reaches them (so the 404s above are isolation, not typos).
    expect((await b.client.request('GET', `/api/v1/integrations/${b.integration.id}`)).status).toBe(200);
    const history = await b.client.request('GET', `/api/v1/integrations/${b.integration.id}/messages`);
    expect(history.body.items.map((m: { id: string }) => m.id)).toContain(b.messageId);
  });

  it("/api/reply with tenant A's token cannot reach tenant B's customer", async () => {
    const reply = (token: string, customer: string) =>
      call(`${relay.url}/api/reply?token=${token}`, { method: 'POST', json: { id: `x-${Math.random()}`, body: 'hi', Contact: { facebook: customer } } });
    const cross = await reply(a.replyToken, b.customerId);
    expect(cross.status).toBe(404);
    expect(cross.body.error).toBe('unknown_recipient');
    const bearer = await call(`${relay.url}/api/reply`, {
      method: 'POST', headers: { authorization: `Bearer ${a.replyToken}` }, json: { body: 'hi', Contact: { facebook: b.customerId } },
    });
    expect(bearer.status).toBe(404);
    expect((await reply('not-a-token', b.customerId)).status).toBe(401);
    expect((await call(`${relay.url}/api/reply`, { method: 'POST', json: { body: 'hi' } })).status).toBe(401);
    // A session cookie is no reply token.
    expect((await a.client.request('POST', '/api/reply', { body: 'hi', Contact: { facebook: a.customerId } })).status).toBe(401);
  });

  it('signed file links refuse unsigned and forged requests', async () => {
    expect((await call(`${relay.url}/files/${b.messageId}`)).status).toBe(403);
    const expires = Math.floor(Date.now() / 1000) + 3600;
    expect((await call(`${relay.url}/files/${b.messageId}?expires=${expires}&signature=${'0'.repeat(64)}`)).status).toBe(403);
  });
});
