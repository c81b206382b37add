import { Database } from '../../src/database/database';
import { TenantLifecycle } from '../../src/accounts/tenant-lifecycle';
import { FacebookIdentity } from '../../src/facebook/facebook-identity.entity';
import { GraphError } from '../../src/facebook/graph-errors';
import { Integration } from '../../src/integrations/integration.entity';
import { IntegrationHealth } from '../../src/integrations/integration-health';
import { TokenHealthCheck } from '../../src/integrations/token-health-check';
import { MailService } from '../../src/mail/mail.service';
import { Conversation } from '../../src/relay/conversation.entity';
import { backends } from '../support/backends';
import { createConversation } from '../support/fixtures';
import { connectFacebook, createFacebookUser, openChannelAccount, startWorld, TenantBrowser, World } from './support';

describe.each(backends())('Token health and re-activation on %s', (backend) => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld(backend);
  });
  afterAll(() => world?.close());

  async function boundIntegration(name: string) {
    const fbUser = createFacebookUser(world, `${name} Admin`, [`${name} Page`]);
    const browser = await TenantBrowser.create(world.relay);
    await connectFacebook(world, browser, { userId: fbUser.userId });
    const cc = openChannelAccount(world);
    const res = await browser.request('POST', '/api/v1/integrations', { name, pageId: fbUser.pageIds[0], openchannelUrl: cc.url, apiKey: cc.apiKey });
    expect(res.status).toBe(201);
    return { browser, fbUser, integration: res.body };
  }

  const mailsTo = (email: string, pattern: RegExp) => world.relay.get(MailService).sandboxOutbox(email).filter((m) => pattern.test(m.subject));

  it('a revoked token marks the integration "needs re-authorization" once; re-activating with Facebook restores the same integration with its history', async () => {
    const { browser, fbUser, integration } = await boundIntegration('Revoked');
    const row = await world.relay.get(Database).repo(Integration).findOneByOrFail({ id: integration.id });
    const conversation = await createConversation(world.relay, row, { customerId: 'psid-history' });
    expect((await world.relay.get(TokenHealthCheck).checkAll())[integration.id]).toBe('ok');

    world.fb.control.revokeToken({ userId: fbUser.userId });
    const outcomes = await world.relay.get(TokenHealthCheck).checkAll();
    expect(outcomes[integration.id]).toBe('reauth_required');
    const marked = (await browser.get(`/api/v1/integrations/${integration.id}`)).body;
    expect(marked).toMatchObject({ status: 'reauth_required', tokenActive: false, enabled: true });
    expect(marked.statusReason).toMatch(/190/);
    expect(marked.lastCheckedAt).not.toBeNull();
    expect(mailsTo(browser.email, /re-activate/)).toHaveLength(1);

    // Later reports of the same incident (the check again, a failed send) do not e-mail again.
    await world.relay.get(TokenHealthCheck).checkAll();
    await world.relay.get(IntegrationHealth).reportGraphError(integration.id, new GraphError(400, 190, 460, 'session invalidated'));
    expect(mailsTo(browser.email, /re-activate/)).toHaveLength(1);

    // The stored login is dead too: the API re-activation says so; the login flow fixes it.
    const direct = await browser.request('POST', `/api/v1/integrations/${integration.id}/reactivate`);
    expect(direct.status).toBe(409);
    expect(direct.body.message).toMatch(/connect Facebook again/);

    world.fb.control.unsubscribePage(fbUser.pageIds[0]);
    const result = await connectFacebook(world, browser, { userId: fbUser.userId, query: `?reactivate=${integration.id}` });
    expect(result.dialogUrl.searchParams.get('auth_type')).toBe('rerequest');
    expect(result.route.path).toBe(`/integrations/${integration.id}`);
    expect(result.route.query.get('reactivated')).toBe('1');
    const restored = (await browser.get(`/api/v1/integrations/${integration.id}`)).body;
    expect(restored).toMatchObject({ id: integration.id, status: 'active', tokenActive: true, statusReason: null, replyUrl: integration.replyUrl, pageSubscribed: true });
    expect(world.fb.control.snapshot().pages.find((p) => p.id === fbUser.pageIds[0])!.subscribedFields).toContain('messages');
    expect(await world.relay.get(Database).repo(Conversation).countBy({ id: conversation.id })).toBe(1);
    expect((await world.relay.get(TokenHealthCheck).checkAll())[integration.id]).toBe('ok');

    // A new incident after recovery e-mails again.
    world.fb.control.revokeToken({ userId: fbUser.userId });
    await world.relay.get(TokenHealthCheck).checkAll();
    expect(mailsTo(browser.email, /re-activate/)).toHaveLength(2);
  });

  it('reportGraphError: the 190 family marks re-authorization, other errors leave the state alone', async () => {
    const { browser, integration } = await boundIntegration('Reported');
    const health = world.relay.get(IntegrationHealth);
    await health.reportGraphError(integration.id, new GraphError(400, 551, 1545041, 'This person isn\'t available right now.'));
    await health.reportGraphError(integration.id, new GraphError(400, 4, undefined, 'rate limit'));
    expect((await browser.get(`/api/v1/integrations/${integration.id}`)).body.status).toBe('active');
    await health.reportGraphError(integration.id, new GraphError(400, 190, 463, 'Session has expired'));
    expect((await browser.get(`/api/v1/integrations/${integration.id}`)).body).toMatchObject({ status: 'reauth_required', tokenActive: false });
    expect(mailsTo(browser.email, /re-activate/)).toHaveLength(1);

    // With a still-valid login (here: a fresh one), POST /reactivate restores it without the dialog.
    const fresh = await browser.request('POST', `/api/v1/integrations/${integration.id}/reactivate`);
    expect(fresh.status).toBe(200);
    expect(fresh.body).toMatchObject({ status: 'active', tokenActive: true });
  });

  it('re-subscribes a page Facebook unsubscribed, and records it', async () => {
    const { browser, fbUser, integration } = await boundIntegration('Unsubscribed');
    world.fb.control.unsubscribePage(fbUser.pageIds[0]);
    const outcomes = await world.relay.get(TokenHealthCheck).checkAll();
    expect(outcomes[integration.id]).toBe('resubscribed');
    expect(world.fb.control.snapshot().pages.find((p) => p.id === fbUser.pageIds[0])!.subscribedFields).toEqual(expect.arrayContaining(['messages', 'feed']));
    const after = (await browser.get(`/api/v1/integrations/${integration.id}`)).body;
    expect(after).toMatchObject({ status: 'active', pageSubscribed: true });
    expect(after.statusReason).toMatch(/subscribed again automatically/);
    expect((await world.relay.get(TokenHealthCheck).checkAll())[integration.id]).toBe('ok');
  });

  it('marks "unsubscribed" (one e-mail) when Facebook refuses the re-subscription, and recovers on a later check', async () => {
    const { browser, fbUser, integration } = await boundIntegration('Refused');
    world.fb.control.unsubscribePage(fbUser.pageIds[0]);
    world.fb.control.injectError({ kind: 'custom', code: 200, message: '(#200) Permissions error', path: '/subscribed_apps', method: 'POST', times: 2, httpStatus: 403 });
    expect((await world.relay.get(TokenHealthCheck).checkAll())[integration.id]).toBe('unsubscribed');
    expect((await browser.get(`/api/v1/integrations/${integration.id}`)).body).toMatchObject({ status: 'unsubscribed', pageSubscribed: false, tokenActive: true });
    expect((await world.relay.get(TokenHealthCheck).checkAll())[integration.id]).toBe('unsubscribed');
    expect(mailsTo(browser.email, /no longer receives/)).toHaveLength(1);
    expect((await world.relay.get(TokenHealthCheck).checkAll())[integration.id]).toBe('resubscribed');
    expect((await browser.get(`/api/v1/integrations/${integration.id}`)).body.status).toBe('active');
  });

  it('deleting the tenant unsubscribes its pages and removes its integrations and Facebook logins', async () => {
    const { browser, fbUser, integration } = await boundIntegration('Leaving');
    await world.relay.get(TenantLifecycle).runTenantDeleted(browser.tenantId);
    const db = world.relay.get(Database);
    expect(await db.repo(Integration).countBy({ tenantId: browser.tenantId })).toBe(0);
    expect(await db.repo(FacebookIdentity).countBy({ tenantId: browser.tenantId })).toBe(0);
    expect(world.fb.control.snapshot().pages.find((p) => p.id === fbUser.pageIds[0])!.subscribedFields).toBeNull();
    expect(integration.id).toBeDefined();
  });
});
