import { backends } from '../support/backends';
import { createIntegration } from '../support/fixtures';
import { registerAndLogin } from '../support/tenant-client';
import { Harness, messagesOf, postAndStore, settledMessages, startHarness, waitFor } from './inbound-harness';
import { messaging, page, textEvent } from './webhook-signing';

describe.each(backends())('message history, replay and large batches on %s', (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(() => h?.close());

  it('lists an integration\'s messages with filters and paging, and replays a failed one (202)', async () => {
    const tenant = await registerAndLogin(h.relay);
    const account = h.cc.control.createAccount({});
    const pageId = `55${Date.now() % 1e9}`;
    const { integration } = await createIntegration(h.relay, { tenantId: tenant.tenantId, openchannelUrl: h.cc.receiveUrl(account.id), pageId });
    h.cc.control.deleteList(account.id);
    const body = page(messaging(pageId, [textEvent(pageId, '3001', 'Onde está o meu pedido?', {}, 1_700_000_000_001), textEvent(pageId, '3002', 'Bom dia', {}, 1_700_000_000_002)]));
    expect((await postAndStore(h.relay, h.fb.appSecret, body)).status).toBe(200);
    await waitFor('both failed', async () => (await messagesOf(h.relay, integration.id)).every((m) => m.status === 'failed'));

    const all = await tenant.request('GET', `/api/v1/integrations/${integration.id}/messages`);
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(2);
    expect(all.body.items[0]).toMatchObject({ direction: 'in', kind: 'text', status: 'failed', customerId: expect.any(String), threadId: null, attempts: 1,
      lastError: 'The contact center answered 404: the Open Channel account or its list no longer exists' });
    const filtered = await tenant.request('GET', `/api/v1/integrations/${integration.id}/messages?q=pedido&customer=3001&direction=in&status=failed&page=1&pageSize=1`);
    expect(filtered.body.total).toBe(1);
    expect(filtered.body.items.map((m: any) => m.text)).toEqual(['Onde está o meu pedido?']);
    expect((await tenant.request('GET', `/api/v1/integrations/${integration.id}/messages?pageSize=500`)).status).toBe(400);
    expect((await tenant.request('GET', `/api/v1/integrations/${integration.id}/messages?from=yesterday`)).status).toBe(400);

    const other = await registerAndLogin(h.relay);
    expect((await other.request('GET', `/api/v1/integrations/${integration.id}/messages`)).status).toBe(404);
    const failedId = filtered.body.items[0].id;
    expect((await other.request('POST', `/api/v1/integrations/${integration.id}/messages/${failedId}/replay`)).status).toBe(404);

    h.cc.control.restoreList(account.id);
    const replay = await tenant.request('POST', `/api/v1/integrations/${integration.id}/messages/${failedId}/replay`);
    expect(replay.status).toBe(202);
    const [note] = await h.cc.control.waitForNotifications(1, { accountId: account.id, acceptedOnly: true });
    expect(note.deliveryId).toBe(failedId);
    await waitFor('delivered', async () => (await messagesOf(h.relay, integration.id)).find((m) => m.id === failedId)?.status === 'delivered');
    expect((await tenant.request('POST', `/api/v1/integrations/${integration.id}/messages/${failedId}/replay`)).status).toBe(409);
  });

  it('searches message text for %, _ and \\ literally on every backend', async () => {
    const tenant = await registerAndLogin(h.relay);
    const account = h.cc.control.createAccount({});
    const pageId = `57${Date.now() % 1e9}`;
    const { integration } = await createIntegration(h.relay, { tenantId: tenant.tenantId, openchannelUrl: h.cc.receiveUrl(account.id), pageId });
    const texts = ['Desconto de 50% hoje', 'Desconto de 500 hoje', 'codigo a_b', 'codigo axb', 'pasta C:\\temp'];
    const body = page(messaging(pageId, texts.map((text, i) => textEvent(pageId, `40${i}`, text, {}, 1_700_000_100_000 + i))));
    expect((await postAndStore(h.relay, h.fb.appSecret, body)).status).toBe(200);
    const search = async (q: string) => (await tenant.request('GET', `/api/v1/integrations/${integration.id}/messages?q=${encodeURIComponent(q)}`)).body.items.map((m: any) => m.text);
    expect(await search('50%')).toEqual(['Desconto de 50% hoje']);
    expect(await search('a_b')).toEqual(['codigo a_b']);
    expect(await search('c:\\t')).toEqual(['pasta C:\\temp']);
  });

  it('takes a full Facebook batch (1000 entries, two pages) in one POST within 5 s, stores all of it, and delivers it', async () => {
    const accounts = [h.cc.control.createAccount({}), h.cc.control.createAccount({})];
    const pages = [`61${Date.now() % 1e9}`, `62${Date.now() % 1e9}`];
    const integrations = await Promise.all(pages.map((pageId, i) => createIntegration(h.relay, { openchannelUrl: h.cc.receiveUrl(accounts[i].id), pageId })));
    const entries = Array.from({ length: 1000 }, (_, i) => messaging(pages[i % 2], [textEvent(pages[i % 2], `u${i % 50}`, `mensagem nº ${i}`, {}, 1_700_000_000_000 + i)]));
    const started = Date.now();
    expect((await postAndStore(h.relay, h.fb.appSecret, page(...entries))).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(5_000);
    for (const { integration } of integrations) expect((await messagesOf(h.relay, integration.id)).length).toBe(500);
    for (const { integration } of integrations) {
      const rows = await settledMessages(h.relay, integration.id, 30_000);
      expect(rows.every((m) => m.status === 'delivered')).toBe(true);
    }
  }, 60_000);
});
