import { Blob } from '../../src/blobs/blob.entity';
import { newId } from '../../src/common/ids';
import { Database } from '../../src/database/database';
import { Message } from '../../src/relay/message.entity';
import { DeliverySettings } from '../../src/relay/delivery.settings';
import { backends } from '../support/backends';
import { bindStorePage, openChannelAccount, startWorld, TenantBrowser, World } from '../integrations/support';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

/** History (conversation list and thread, files) and deliveries (attempts, replay one / all failed) over the public API. */
describe.each(backends())('conversations and deliveries on %s', (backend) => {
  let world: World;
  let browser: TenantBrowser;
  let integrationId: string;
  let account: ReturnType<typeof openChannelAccount>;
  let store: string;

  beforeAll(async () => {
    world = await startWorld(backend);
    world.relay.get(DeliverySettings).retryDelaysMs = [300];
    browser = await TenantBrowser.create(world.relay);
    ({ integrationId, account, store } = await bindStorePage(world, browser));
  });
  afterAll(() => world?.close());

  const customer = (firstName: string, lastName: string) => world.fb.control.createCustomer({ pageId: store, firstName, lastName }).psid;
  const delivered = (n: number) => world.cc.control.waitForNotifications(n, { accountId: account.account.id, acceptedOnly: true, timeoutMs: 15_000 });

  it('lists conversations newest first with filters and paging, and shows a thread with its file', async () => {
    const ana = customer('Ana', 'Lindqvist');
    const bob = customer('Bob', 'Okafor');
    world.fb.control.events.customerMessage({ psid: ana, text: 'My brakes squeak' });
    await delivered(1);
    world.fb.control.events.customerMessage({ psid: ana, attachments: [{ type: 'image', filename: 'brakes.png', contentType: 'image/png', dataBase64: PNG.toString('base64') }] });
    await delivered(2);
    const reply = await world.cc.control.reply({ accountId: account.account.id, contactFrom: ana, body: 'Bring it in on Tuesday 50% off' });
    expect(reply.status).toBe(200);
    await new Promise((r) => setTimeout(r, 20));
    world.fb.control.events.customerMessage({ psid: bob, text: 'Do you sell helmets?' });
    await delivered(3);

    const all = await browser.get(`/api/v1/conversations?integrationId=${integrationId}`);
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(2);
    expect(all.body.items[0]).toEqual({
      id: expect.any(String), integrationId, integrationName: 'Bike store', channel: 'messenger', customerId: bob,
      customerName: 'Bob Okafor', threadId: null, lastMessageAt: expect.any(String), messageCount: 1, lastText: 'Do you sell helmets?',
    });
    expect(all.body.items[1]).toMatchObject({ customerId: ana, customerName: 'Ana Lindqvist', messageCount: 3, lastText: 'Bring it in on Tuesday 50% off' });

    const byName = await browser.get('/api/v1/conversations?customer=lindq');
    expect(byName.body.items.map((c: { customerId: string }) => c.customerId)).toEqual([ana]);
    const byId = await browser.get(`/api/v1/conversations?customer=${bob}`);
    expect(byId.body.items.map((c: { customerId: string }) => c.customerId)).toEqual([bob]);
    const byText = await browser.get(`/api/v1/conversations?q=${encodeURIComponent('HELMETS')}`);
    expect(byText.body.items.map((c: { customerId: string }) => c.customerId)).toEqual([bob]);
    const agentText = await browser.get(`/api/v1/conversations?q=${encodeURIComponent('50%')}`);
    expect(agentText.body.items.map((c: { customerId: string }) => c.customerId)).toEqual([ana]);
    expect((await browser.get(`/api/v1/conversations?q=${encodeURIComponent('5_%')}`)).body.total).toBe(0);
    expect((await browser.get('/api/v1/conversations?q=nothing-like-this')).body).toEqual({ items: [], total: 0 });

    const today = new Date().toISOString().slice(0, 10);
    expect((await browser.get(`/api/v1/conversations?from=${today}&to=${today}`)).body.total).toBe(2);
    expect((await browser.get('/api/v1/conversations?to=2020-01-01')).body.total).toBe(0);
    expect((await browser.get(`/api/v1/conversations?from=${new Date(Date.now() + 3600_000).toISOString()}`)).body.total).toBe(0);

    const page1 = await browser.get('/api/v1/conversations?pageSize=1&page=1');
    const page2 = await browser.get('/api/v1/conversations?pageSize=1&page=2');
    const page3 = await browser.get('/api/v1/conversations?pageSize=1&page=3');
    expect([page1.body.total, page2.body.total]).toEqual([2, 2]);
    expect([page1.body.items[0].customerId, page2.body.items[0].customerId]).toEqual([bob, ana]);
    expect(page3.body.items).toEqual([]);

    const bad = await browser.get('/api/v1/conversations?pageSize=0&from=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/pageSize must be between 1 and 100/);
    expect(bad.body.message).toMatch(/from must be an ISO date/);

    // The thread as customer and agent saw it, in order, with the file.
    const conversationId = all.body.items[1].id;
    const view = await browser.get(`/api/v1/conversations/${conversationId}`);
    expect(view.status).toBe(200);
    expect(view.body.conversation).toMatchObject({ id: conversationId, customerId: ana, messageCount: 3 });
    expect(view.body.messages.map((m: { direction: string; kind: string }) => `${m.direction}:${m.kind}`)).toEqual(['in:text', 'in:attachment', 'out:text']);
    const [first, file, answer] = view.body.messages;
    expect(first).toMatchObject({ text: 'My brakes squeak', status: 'delivered', event: 'message', attempts: 1, lastError: null, attachment: null });
    expect(first.createdAt).toMatch(/Z$/);
    expect(first.occurredAt).toMatch(/Z$/);
    expect(answer).toMatchObject({ direction: 'out', text: 'Bring it in on Tuesday 50% off', status: expect.stringMatching(/sent|delivered|read/) });
    expect(file.attachment).toEqual({ url: `/api/v1/messages/${file.id}/attachment`, filename: 'brakes.png', contentType: 'image/png', size: PNG.length });

    const download = await fetch(`${world.relay.url}${file.attachment.url}`, { headers: { cookie: browser.cookieHeader() } });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('image/png');
    expect(download.headers.get('content-disposition')).toMatch(/^inline; filename="brakes.png"/);
    expect(Buffer.from(await download.arrayBuffer()).equals(PNG)).toBe(true);

    // Another tenant sees nothing of it.
    const other = await TenantBrowser.create(world.relay);
    expect((await other.get('/api/v1/conversations')).body).toEqual({ items: [], total: 0 });
    expect((await other.get(`/api/v1/conversations/${conversationId}`)).status).toBe(404);
    expect((await other.get(file.attachment.url)).status).toBe(404);
    expect((await other.get(`/api/v1/integrations/${integrationId}/messages/${first.id}/attempts`)).status).toBe(404);
    expect((await browser.get('/api/v1/conversations/nope')).status).toBe(404);
    expect((await fetch(`${world.relay.url}/api/v1/conversations`)).status).toBe(401);

    // Past its keeping time the file answers 410 in words.
    const blobs = world.relay.get(Database).repo(Blob);
    const [stored] = await blobs.find({ where: { tenantId: browser.tenantId }, select: { id: true } });
    await blobs.update({ id: stored.id }, { expiresAt: new Date(Date.now() - 1000) });
    const gone = await browser.get(file.attachment.url);
    expect(gone.status).toBe(410);
    expect(gone.body.message).toMatch(/no longer kept/);
  });

  it('pages a thread from its latest messages back, each page oldest first, with `earlier` naming the page before', async () => {
    const fay = customer('Fay', 'Ortega');
    const before = world.cc.control.notifications({ accountId: account.account.id, acceptedOnly: true }).length;
    for (let i = 1; i <= 5; i++) {
      world.fb.control.events.customerMessage({ psid: fay, text: `question ${i}` });
      await delivered(before + i);
    }
    const listed = await browser.get(`/api/v1/conversations?customer=${fay}`);
    const conversationId = listed.body.items[0].id;

    const whole = await browser.get(`/api/v1/conversations/${conversationId}?limit=500`);
    expect(whole.body.earlier).toBeNull();
    expect(whole.body.messages.map((m: { text: string }) => m.text)).toEqual(['question 1', 'question 2', 'question 3', 'question 4', 'question 5']);
    expect((await browser.get(`/api/v1/conversations/${conversationId}`)).body).toMatchObject({ earlier: null, messages: whole.body.messages });

    const pages: string[][] = [];
    let query = '?limit=2';
    for (;;) {
      const page = await browser.get(`/api/v1/conversations/${conversationId}${query}`);
      expect(page.status).toBe(200);
      expect(page.body.conversation).toMatchObject({ id: conversationId, messageCount: 5 });
      pages.unshift(page.body.messages.map((m: { text: string }) => m.text));
      if (!page.body.earlier) break;
      expect(page.body.earlier).toBe(page.body.messages[0].id);
      query = `?limit=2&before=${page.body.earlier}`;
    }
    expect(pages).toEqual([['question 1'], ['question 2', 'question 3'], ['question 4', 'question 5']]);

    // Ties in time are paged in the thread's order too: part, then the time stored, then the id.
    const repo = world.relay.get(Database).repo(Message);
    const last = await repo.findOneByOrFail({ id: whole.body.messages[4].id });
    const stored = new Date();
    const tie = (part: number, text: string): Message => ({
      ...last, id: newId(), part, text, dedupKey: null, externalId: null, remoteId: null, createdAt: stored, updatedAt: stored,
    });
    await repo.insert([tie(1, 'tie a'), tie(0, 'tie b'), tie(1, 'tie c'), tie(2, 'tie d')]);
    const ordered = (await browser.get(`/api/v1/conversations/${conversationId}?limit=500`)).body.messages.map((m: { id: string }) => m.id);
    expect(ordered).toHaveLength(9);
    const oneByOne: string[] = [];
    let cursor = '';
    for (;;) {
      const page = await browser.get(`/api/v1/conversations/${conversationId}?limit=1${cursor}`);
      oneByOne.unshift(...page.body.messages.map((m: { id: string }) => m.id));
      if (!page.body.earlier) break;
      cursor = `&before=${page.body.earlier}`;
    }
    expect(oneByOne).toEqual(ordered);

    const elsewhere = (await browser.get(`/api/v1/conversations?customer=lindq`)).body.items[0].id;
    const otherMessage = (await browser.get(`/api/v1/conversations/${elsewhere}`)).body.messages[0].id;
    const wrongBefore = await browser.get(`/api/v1/conversations/${conversationId}?before=${otherMessage}`);
    expect(wrongBefore.status).toBe(400);
    expect(wrongBefore.body.message).toMatch(/before must be the id of a message of this conversation/);
    for (const limit of ['0', '501', 'many']) {
      const bad = await browser.get(`/api/v1/conversations/${conversationId}?limit=${limit}`);
      expect(bad.status).toBe(400);
      expect(bad.body.message).toMatch(/limit must be/);
    }
  });

  it('lists attempts, replays all failed messages once even when clicked twice, and audits it', async () => {
    const carla = customer('Carla', 'Duarte');
    const dev = customer('Dev', 'Patel');
    // First try 500 (a retry), then 404: the Open Channel list is gone, final.
    world.cc.control.setFailures({ errors: [{ status: 500, count: 1 }, { status: 404 }] });
    world.fb.control.events.customerMessage({ psid: carla, text: 'failed one' });
    world.fb.control.events.customerMessage({ psid: carla, text: 'failed two' });
    world.fb.control.events.customerMessage({ psid: dev, text: 'failed three' });
    const failed = await waitFor(async () => {
      const res = await browser.get(`/api/v1/integrations/${integrationId}/messages?status=failed`);
      return res.body.items.length === 3 ? res.body.items : null;
    });
    const one = failed.find((m: { text: string }) => m.text === 'failed one');
    expect(one.lastError).toMatch(/no longer exists/);

    const attempts = await browser.get(`/api/v1/integrations/${integrationId}/messages/${one.id}/attempts`);
    expect(attempts.status).toBe(200);
    const outcomes = attempts.body.map((a: { outcome: string; httpStatus: number }) => `${a.outcome}:${a.httpStatus}`);
    expect(outcomes[outcomes.length - 1]).toBe('failed:404');
    expect(attempts.body[0]).toEqual({ attempt: 1, startedAt: expect.stringMatching(/Z$/), durationMs: expect.any(Number), httpStatus: expect.any(Number), outcome: expect.any(String), error: expect.any(String) });
    expect((await browser.get(`/api/v1/integrations/${integrationId}/messages/nope/attempts`)).status).toBe(404);

    world.cc.control.clearFailures();
    const before = world.cc.control.notifications({ accountId: account.account.id, acceptedOnly: true }).length;
    const [a, b] = await Promise.all([
      browser.request('POST', `/api/v1/integrations/${integrationId}/messages/replay-failed`),
      browser.request('POST', `/api/v1/integrations/${integrationId}/messages/replay-failed`),
    ]);
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(a.body.count + b.body.count).toBe(3);
    const notes = await delivered(before + 3);
    await new Promise((r) => setTimeout(r, 800));
    const replayed = world.cc.control.notifications({ accountId: account.account.id, acceptedOnly: true }).slice(before);
    expect(replayed.map((n) => (n.body as { body: string }).body).sort()).toEqual(['failed one', 'failed three', 'failed two']);
    expect(notes.length).toBe(before + 3);
    expect(world.cc.control.duplicates(account.account.id).total).toBe(0);
    // Carla's two arrive in order.
    expect(replayed.map((n) => (n.body as { body: string }).body).filter((t) => t !== 'failed three')).toEqual(['failed one', 'failed two']);

    const again = await browser.request('POST', `/api/v1/integrations/${integrationId}/messages/replay-failed`);
    expect(again).toMatchObject({ status: 202, body: { count: 0 } });
    expect((await browser.request('POST', '/api/v1/integrations/nope/messages/replay-failed')).status).toBe(404);

    const audit = await browser.get('/api/v1/audit');
    expect(audit.status).toBe(200);
    expect(audit.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'messages.replayed_bulk', integrationId, details: { count: a.body.count || b.body.count } })]));
  });

  it('replays a single failed message once when clicked twice', async () => {
    const eva = customer('Eva', 'Novak');
    world.cc.control.setFailures({ errors: [{ status: 404, count: 1 }] });
    world.fb.control.events.customerMessage({ psid: eva, text: 'replay me' });
    const message = await waitFor(async () => {
      const res = await browser.get(`/api/v1/integrations/${integrationId}/messages?status=failed&q=replay%20me`);
      return res.body.items[0] ?? null;
    });
    world.cc.control.clearFailures();
    const [a, b] = await Promise.all([
      browser.request('POST', `/api/v1/integrations/${integrationId}/messages/${message.id}/replay`),
      browser.request('POST', `/api/v1/integrations/${integrationId}/messages/${message.id}/replay`),
    ]);
    expect([a.status, b.status].sort()).toEqual([202, 409]);
    await world.cc.control.waitForNotifications(1, { accountId: account.account.id, acceptedOnly: true, deliveryId: message.id, timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 500));
    expect(world.cc.control.notifications({ accountId: account.account.id, acceptedOnly: true, deliveryId: message.id })).toHaveLength(1);
    const audit = await browser.get('/api/v1/audit');
    expect(audit.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'message.replayed', integrationId, details: { messageId: message.id } })]));
  });
});

async function waitFor<T>(probe: () => Promise<T | null>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
