import { Database } from '../../src/database/database';
import { Integration } from '../../src/integrations/integration.entity';
import { MailService } from '../../src/mail/mail.service';
import { Conversation } from '../../src/relay/conversation.entity';
import { hashSecret } from '../../src/common/crypto/secret-box';
import { IntegrationsRepository } from '../../src/integrations/integrations.repository';
import { backends } from '../support/backends';
import { createConversation } from '../support/fixtures';
import { freePort } from '../support/test-app';
import { connectFacebook, createFacebookUser, openChannelAccount, startWorld, TenantBrowser, World } from './support';

describe.each(backends())('Integrations on %s', (backend) => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld(backend);
  });
  afterAll(() => world?.close());

  async function connectedTenant(pages = ['Page']) {
    const fbUser = createFacebookUser(world, `User ${Math.random().toString(36).slice(2, 8)}`, pages);
    const browser = await TenantBrowser.create(world.relay);
    await connectFacebook(world, browser, { userId: fbUser.userId });
    return { browser, ...fbUser };
  }

  it('binds a page: verifies the URL, subscribes the page with the relay\'s fields, stores secrets encrypted and answers the Reply URL', async () => {
    const { browser, pageIds } = await connectedTenant(['Bike Shop']);
    const cc = openChannelAccount(world, 'key-123');
    const res = await browser.request('POST', '/api/v1/integrations', { name: 'Bikes', pageId: pageIds[0], openchannelUrl: cc.url, apiKey: cc.apiKey });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: 'Bikes', pageId: pageIds[0], pageName: 'Bike Shop', openchannelUrl: cc.url, wallPosts: true, enabled: true,
      status: 'active', tokenActive: true, hasApiKey: true, hasSigningSecret: false, pageSubscribed: true,
    });
    expect(res.body.replyUrl).toMatch(new RegExp(`^${world.relay.url}/api/reply\\?token=[A-Za-z0-9_-]{40,}$`));
    expect(JSON.stringify(res.body)).not.toContain('key-123');

    const fields = world.fb.control.snapshot().pages.find((p) => p.id === pageIds[0])!.subscribedFields;
    expect(fields).toEqual(expect.arrayContaining(['messages', 'message_echoes', 'messaging_postbacks', 'message_reactions', 'messaging_referrals', 'standby', 'feed']));

    const row = await world.relay.get(Database).repo(Integration).findOneByOrFail({ id: res.body.id });
    for (const column of [row.pageTokenEnc, row.openchannelUrlEnc, row.apiKeyEnc, row.replyTokenEnc]) expect(column).toMatch(/^enc1:/);
    const token = new URL(res.body.replyUrl).searchParams.get('token')!;
    expect(row.replyTokenHash).toBe(hashSecret(token));
    expect(await world.relay.get(IntegrationsRepository).findByReplyTokenHash(hashSecret(token))).toMatchObject({ id: row.id });
    expect(await world.relay.get(IntegrationsRepository).findByBoundPageId(pageIds[0])).toMatchObject({ id: row.id });

    expect((await browser.get('/api/v1/integrations')).body.map((i: any) => i.id)).toEqual([res.body.id]);
    expect((await browser.get(`/api/v1/integrations/${res.body.id}`)).body).toMatchObject({ id: res.body.id, replyUrl: res.body.replyUrl });
  });

  it('subscribes without feed when wall posts are off, and accepts proxy URLs as they are (token masked in answers)', async () => {
    const { browser, pageIds } = await connectedTenant(['Quiet Page']);
    const account = world.cc.control.createAccount({ apiKey: null });
    const proxyUrl = `${world.cc.url}/api/openchannel/accounts/${account.id}/notify?token=proxy-secret-token`;
    const res = await browser.request('POST', '/api/v1/integrations', { name: 'Proxy', pageId: pageIds[0], openchannelUrl: proxyUrl, wallPosts: false });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ wallPosts: false, hasApiKey: false });
    expect(res.body.openchannelUrl).toBe(`${world.cc.url}/api/openchannel/accounts/${account.id}/notify?token=***`);
    const row = await world.relay.get(Database).repo(Integration).findOneByOrFail({ id: res.body.id });
    expect(row.openchannelUrlEnc).not.toContain('proxy-secret-token');
    const fields = world.fb.control.snapshot().pages.find((p) => p.id === pageIds[0])!.subscribedFields!;
    expect(fields).toContain('messages');
    expect(fields).not.toContain('feed');
  });

  it('answers 422 in plain words when the Openchannel URL does not verify (404 list, wrong key, unreachable)', async () => {
    const { browser, pageIds } = await connectedTenant(['Verify Page']);
    const cc = openChannelAccount(world, 'right-key');
    const create = (openchannelUrl: string, apiKey?: string) => browser.request('POST', '/api/v1/integrations', { name: 'X', pageId: pageIds[0], openchannelUrl, apiKey });

    world.cc.control.deleteList(cc.account.id);
    const gone = await create(cc.url, cc.apiKey);
    expect(gone.status).toBe(422);
    expect(gone.body.message).toBe('Error 404: the Open Channel account or its list no longer exists on the contact center');
    world.cc.control.restoreList(cc.account.id);

    const wrongKey = await create(cc.url, 'wrong-key');
    expect(wrongKey.status).toBe(422);
    expect(wrongKey.body.message).toMatch(/API key/);
    expect(wrongKey.body.message).not.toContain('wrong-key');

    const closedPort = await freePort();
    const unreachable = await create(`http://127.0.0.1:${closedPort}/api/openchannel/accounts/1/notify`, 'k');
    expect(unreachable.status).toBe(422);
    expect(unreachable.body.message).toMatch(/not reachable/);

    // Nothing was bound or subscribed by the failed attempts.
    expect((await browser.get('/api/v1/integrations')).body).toEqual([]);
    expect(world.fb.control.snapshot().pages.find((p) => p.id === pageIds[0])!.subscribedFields).toBeNull();
  });

  it('refuses bad input with 4xx and a message: URL scheme, credentials, long names, unknown and unavailable pages', async () => {
    const { browser, userId, pageIds } = await connectedTenant(['Input Page']);
    const cc = openChannelAccount(world);
    const create = (body: Record<string, unknown>) => browser.request('POST', '/api/v1/integrations', { name: 'X', pageId: pageIds[0], openchannelUrl: cc.url, apiKey: cc.apiKey, ...body });
    const cases: Array<[Record<string, unknown>, number, RegExp]> = [
      [{ openchannelUrl: 'ftp://cc.example.com/notify' }, 400, /https/],
      [{ openchannelUrl: 'not a url' }, 400, /not a valid address/],
      [{ openchannelUrl: `${cc.url.replace('http://', 'http://user:pass@')}` }, 400, /user name or password/],
      [{ name: 'n'.repeat(101) }, 400, /100 characters/],
      [{ name: '' }, 400, /name/],
      [{ pageId: 'abc' }, 400, /pageId/],
      [{ pageId: '999999999999' }, 400, /not among the pages/],
      [{ wallPosts: 'yes' }, 400, /wallPosts/],
    ];
    for (const [body, status, message] of cases) {
      const res = await create(body);
      expect({ body, status: res.status }).toEqual({ body, status });
      expect(res.body.message).toMatch(message);
    }
    const adsOnly = world.fb.control.createPage({ name: 'Ads only', roles: { [userId]: ['ANALYZE', 'ADVERTISE'] } }).id;
    const unavailable = await create({ pageId: adsOnly });
    expect(unavailable.status).toBe(422);
    expect(unavailable.body).toMatchObject({ error: 'page_unavailable' });
  });

  it('moves a page bound again to the newest integration; the previous owner is told by e-mail and sees "superseded"', async () => {
    const fbUser = createFacebookUser(world, 'Shared Admin', ['Shared Page']);
    const first = await TenantBrowser.create(world.relay);
    const second = await TenantBrowser.create(world.relay);
    await connectFacebook(world, first, { userId: fbUser.userId });
    await connectFacebook(world, second, { userId: fbUser.userId });
    const cc = openChannelAccount(world);
    const body = { name: 'Shared', pageId: fbUser.pageIds[0], openchannelUrl: cc.url, apiKey: cc.apiKey };
    const a = await first.request('POST', '/api/v1/integrations', body);
    expect(a.status).toBe(201);
    const b = await second.request('POST', '/api/v1/integrations', body);
    expect(b.status).toBe(201);

    const old = (await first.get(`/api/v1/integrations/${a.body.id}`)).body;
    expect(old).toMatchObject({ status: 'superseded', pageSubscribed: false });
    expect(old.statusReason).toMatch(/newer integration/);
    expect((await second.get(`/api/v1/integrations/${b.body.id}`)).body.status).toBe('active');
    expect(await world.relay.get(IntegrationsRepository).findByBoundPageId(fbUser.pageIds[0])).toMatchObject({ id: b.body.id });
    const mails = world.relay.get(MailService).sandboxOutbox(first.email);
    expect(mails[0].subject).toMatch(/replaced by a newer integration/);
    expect(world.relay.get(MailService).sandboxOutbox(second.email).some((m) => /replaced/.test(m.subject))).toBe(false);
  });

  it('edits settings, re-verifies a changed URL or key, keeps secrets write-only, and enables/disables without losing anything', async () => {
    const { browser, pageIds } = await connectedTenant(['Edit Page']);
    const cc = openChannelAccount(world, 'edit-key');
    const created = (await browser.request('POST', '/api/v1/integrations', { name: 'Edit', pageId: pageIds[0], openchannelUrl: cc.url, apiKey: cc.apiKey })).body;
    const path = `/api/v1/integrations/${created.id}`;

    const disabled = await browser.request('PATCH', path, { enabled: false });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ enabled: false, status: 'active', replyUrl: created.replyUrl, hasApiKey: true });

    const badKey = await browser.request('PATCH', path, { apiKey: 'nope' });
    expect(badKey.status).toBe(422);
    const badUrl = await browser.request('PATCH', path, { openchannelUrl: `${world.cc.url}/api/openchannel/accounts/9999/notify` });
    expect(badUrl.status).toBe(422);
    expect(badUrl.body.message).toMatch(/404/);
    expect((await browser.get(path)).body.openchannelUrl).toBe(cc.url);

    const other = openChannelAccount(world, 'other-key');
    const moved = await browser.request('PATCH', path, { openchannelUrl: other.url, apiKey: other.apiKey, name: 'Renamed', humanAgentTag: true, forwardReactions: true, forwardEdits: true, signingSecret: 's3cret-signing', enabled: true });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ name: 'Renamed', openchannelUrl: other.url, humanAgentTag: true, forwardReactions: true, forwardEdits: true, hasSigningSecret: true, enabled: true });
    expect(JSON.stringify(moved.body)).not.toMatch(/s3cret-signing|other-key/);

    // The masked URL sent back unchanged keeps the stored one (and its secret).
    const proxy = world.cc.control.createAccount({ apiKey: null });
    const proxyUrl = `${world.cc.url}/api/openchannel/accounts/${proxy.id}/notify?token=keep-me`;
    const toProxy = await browser.request('PATCH', path, { openchannelUrl: proxyUrl, apiKey: null });
    expect(toProxy.status).toBe(200);
    expect(toProxy.body.hasApiKey).toBe(false);
    const same = await browser.request('PATCH', path, { openchannelUrl: toProxy.body.openchannelUrl, name: 'Again' });
    expect(same.status).toBe(200);
    const row = await world.relay.get(Database).repo(Integration).findOneByOrFail({ id: created.id });
    expect(row.signingSecretEnc).toMatch(/^enc1:/);

    const noWall = await browser.request('PATCH', path, { wallPosts: false });
    expect(noWall.body.wallPosts).toBe(false);
    expect(world.fb.control.snapshot().pages.find((p) => p.id === pageIds[0])!.subscribedFields).not.toContain('feed');

    const tooLong = await browser.request('PATCH', path, { name: 'x'.repeat(200) });
    expect(tooLong.status).toBe(400);
    const badScheme = await browser.request('PATCH', path, { openchannelUrl: 'javascript:alert(1)' });
    expect(badScheme.status).toBe(400);
  });

  it('rotates the reply token: the old Reply URL stops matching at once', async () => {
    const { browser, pageIds } = await connectedTenant(['Rotate Page']);
    const cc = openChannelAccount(world);
    const created = (await browser.request('POST', '/api/v1/integrations', { name: 'Rotate', pageId: pageIds[0], openchannelUrl: cc.url, apiKey: cc.apiKey })).body;
    const rotated = await browser.request('POST', `/api/v1/integrations/${created.id}/rotate-reply-token`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.replyUrl).not.toBe(created.replyUrl);
    const repo = world.relay.get(IntegrationsRepository);
    expect(await repo.findByReplyTokenHash(hashSecret(new URL(created.replyUrl).searchParams.get('token')!))).toBeNull();
    expect(await repo.findByReplyTokenHash(hashSecret(new URL(rotated.body.replyUrl).searchParams.get('token')!))).toMatchObject({ id: created.id });
  });

  it('deletes: unsubscribes the page and removes the integration with its conversations', async () => {
    const { browser, pageIds } = await connectedTenant(['Delete Page']);
    const cc = openChannelAccount(world);
    const created = (await browser.request('POST', '/api/v1/integrations', { name: 'Delete', pageId: pageIds[0], openchannelUrl: cc.url, apiKey: cc.apiKey })).body;
    const row = await world.relay.get(Database).repo(Integration).findOneByOrFail({ id: created.id });
    await createConversation(world.relay, row, { customerId: 'psid-1' });
    const res = await browser.request('DELETE', `/api/v1/integrations/${created.id}`);
    expect(res.status).toBe(204);
    expect((await browser.get(`/api/v1/integrations/${created.id}`)).status).toBe(404);
    expect(world.fb.control.snapshot().pages.find((p) => p.id === pageIds[0])!.subscribedFields).toBeNull();
    expect(await world.relay.get(Database).repo(Integration).countBy({ id: created.id })).toBe(0);
    expect(await world.relay.get(Database).repo(Conversation).countBy({ integrationId: created.id })).toBe(0);
  });

  it('hides another tenant\'s integration (404) from every endpoint', async () => {
    const { browser, pageIds } = await connectedTenant(['Private Page']);
    const cc = openChannelAccount(world);
    const created = (await browser.request('POST', '/api/v1/integrations', { name: 'Mine', pageId: pageIds[0], openchannelUrl: cc.url, apiKey: cc.apiKey })).body;
    const stranger = await TenantBrowser.create(world.relay);
    const path = `/api/v1/integrations/${created.id}`;
    expect((await stranger.get(path)).status).toBe(404);
    expect((await stranger.request('PATCH', path, { name: 'hijack' })).status).toBe(404);
    expect((await stranger.request('DELETE', path)).status).toBe(404);
    expect((await stranger.request('POST', `${path}/rotate-reply-token`)).status).toBe(404);
    expect((await stranger.request('POST', `${path}/reactivate`)).status).toBe(404);
    expect((await stranger.get(`/api/v1/facebook/connect?reactivate=${created.id}`)).status).toBe(404);
    expect((await stranger.get('/api/v1/integrations')).body).toEqual([]);
    expect((await browser.get(path)).body.name).toBe('Mine');
  });

  it('needs the CSRF header on changes', async () => {
    const { browser } = await connectedTenant();
    const anonymous = await fetch(`${world.relay.url}/api/v1/integrations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(anonymous.status).toBe(401);
    const noToken = await fetch(`${world.relay.url}/api/v1/integrations`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: browser.cookieHeader() }, body: '{}' });
    expect(noToken.status).toBe(403);
    expect((await browser.get('/api/v1/integrations')).status).toBe(200);
  });
});

describe.each(backends())('Integrations with ALLOW_PRIVATE_TARGETS=false on %s', (backend) => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld(backend, { ALLOW_PRIVATE_TARGETS: 'false' });
  });
  afterAll(() => world?.close());

  it('refuses Openchannel URLs on private or local addresses', async () => {
    const fbUser = createFacebookUser(world, 'Private Admin', ['Private Target Page']);
    const browser = await TenantBrowser.create(world.relay);
    await connectFacebook(world, browser, { userId: fbUser.userId });
    for (const url of ['http://127.0.0.1:8080/api/openchannel/accounts/1/notify', 'https://10.1.2.3/notify', 'https://localhost/notify', 'https://[::1]/notify', 'https://169.254.169.254/latest']) {
      const res = await browser.request('POST', '/api/v1/integrations', { name: 'P', pageId: fbUser.pageIds[0], openchannelUrl: url });
      expect({ url, status: res.status }).toEqual({ url, status: 400 });
      expect(res.body.message).toMatch(/private or local/);
    }
  });
});
