import { Database } from '../../src/database/database';
import { Integration } from '../../src/integrations/integration.entity';
import { backends } from '../support/backends';
import { createConversation } from '../support/fixtures';
import { connectFacebook, createFacebookUser, openChannelAccount, startWorld, TenantBrowser, World } from '../integrations/support';
import { insertMessage } from './support';

describe.each(backends())('audit log on %s', (backend) => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld(backend);
  });
  afterAll(() => world?.close());

  it('records who did what and when for every integration action and replay, never a secret, newest first, paged', async () => {
    const fbUser = createFacebookUser(world, `Audit ${Math.random().toString(36).slice(2, 8)}`, ['Audit Page']);
    const browser = await TenantBrowser.create(world.relay);
    await connectFacebook(world, browser, { userId: fbUser.userId });
    const cc = openChannelAccount(world, 'audit-key-1');

    const created = await browser.request('POST', '/api/v1/integrations', { name: 'Audited', pageId: fbUser.pageIds[0], openchannelUrl: cc.url, apiKey: cc.apiKey });
    expect(created.status).toBe(201);
    const id = created.body.id;
    world.cc.control.updateAccount(cc.account.id, { apiKey: 'audit-key-2' });
    expect((await browser.request('PATCH', `/api/v1/integrations/${id}`, { name: 'Audited 2', apiKey: 'audit-key-2', signingSecret: 'whsec_c2VjcmV0LXNpZ25pbmcta2V5', enabled: false })).status).toBe(200);
    // A refused change (wrong key) changes nothing and records nothing.
    expect((await browser.request('PATCH', `/api/v1/integrations/${id}`, { apiKey: 'wrong-key' })).status).toBe(422);
    expect((await browser.request('POST', `/api/v1/integrations/${id}/rotate-reply-token`)).status).toBe(200);
    await world.relay.get(Database).repo(Integration).update({ id }, { status: 'reauth_required' });
    expect((await browser.request('POST', `/api/v1/integrations/${id}/reactivate`)).status).toBe(200);

    const integration = await world.relay.get(Database).repo(Integration).findOneByOrFail({ id });
    const conversation = await createConversation(world.relay, integration, { customerId: 'audit-customer' });
    const one = await insertMessage(world.relay, integration, { conversationId: conversation.id, status: 'failed', createdAt: new Date(), lastError: 'The contact center answered 404' });
    expect((await browser.request('POST', `/api/v1/integrations/${id}/messages/${one.id}/replay`)).status).toBe(202);
    await insertMessage(world.relay, integration, { conversationId: conversation.id, status: 'failed', createdAt: new Date(), occurredAt: Date.now() + 1 });
    const bulk = await browser.request('POST', `/api/v1/integrations/${id}/messages/replay-failed`);
    expect(bulk.status).toBe(202);

    expect((await browser.request('DELETE', `/api/v1/integrations/${id}`)).status).toBe(204);

    const log = await browser.get('/api/v1/audit');
    expect(log.status).toBe(200);
    expect(log.body.total).toBe(7);
    expect(log.body.items.map((item: any) => item.action)).toEqual([
      'integration.deleted', 'messages.replayed_bulk', 'message.replayed', 'integration.reauthorized',
      'integration.reply_token_rotated', 'integration.changed', 'integration.created',
    ]);
    for (const item of log.body.items) {
      expect(item).toMatchObject({ id: expect.any(String), actor: browser.email, integrationId: id });
      expect(Date.parse(item.at)).toBeGreaterThan(Date.now() - 60_000);
    }
    const byAction = Object.fromEntries(log.body.items.map((item: any) => [item.action, item]));
    expect(byAction['integration.created'].integrationName).toBe('Audited');
    expect(byAction['integration.created'].details).toMatchObject({ pageId: fbUser.pageIds[0], pageName: 'Audit Page' });
    expect(byAction['integration.changed'].details.fields.sort()).toEqual(['apiKey', 'enabled', 'name', 'signingSecret']);
    expect(byAction['integration.reauthorized'].details).toEqual({ previousStatus: 'reauth_required' });
    expect(byAction['message.replayed'].details).toEqual({ messageId: one.id });
    expect(byAction['messages.replayed_bulk'].details).toEqual({ count: 1 });
    expect(byAction['integration.deleted'].integrationName).toBe('Audited 2');
    const text = JSON.stringify(log.body);
    for (const secret of ['audit-key-1', 'audit-key-2', 'wrong-key', 'c2VjcmV0LXNpZ25pbmcta2V5']) expect(text).not.toContain(secret);

    const paged = await browser.get('/api/v1/audit?page=2&pageSize=3');
    expect(paged.body.total).toBe(7);
    expect(paged.body.items.map((item: any) => item.action)).toEqual(['integration.reauthorized', 'integration.reply_token_rotated', 'integration.changed']);
    expect((await browser.get('/api/v1/audit?pageSize=500')).status).toBe(400);
    expect((await browser.get('/api/v1/audit?page=0')).status).toBe(400);

    // Another account sees only its own log; without a session there is none.
    const other = await TenantBrowser.create(world.relay);
    expect((await other.get('/api/v1/audit')).body).toEqual({ items: [], total: 0 });
    expect((await fetch(`${world.relay.url}/api/v1/audit`)).status).toBe(401);
  }, 30_000);
});
