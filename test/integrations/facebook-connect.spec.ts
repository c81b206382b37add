import { Database } from '../../src/database/database';
import { FacebookIdentity } from '../../src/facebook/facebook-identity.entity';
import { backends } from '../support/backends';
import { APP, connectFacebook, createFacebookUser, openChannelAccount, runDialog, startWorld, TenantBrowser, World } from './support';

const ALL_SCOPES = ['pages_show_list', 'pages_manage_metadata', 'pages_messaging', 'pages_read_engagement', 'pages_read_user_content', 'pages_manage_engagement', 'business_management'];

describe.each(backends())('Connect Facebook on %s', (backend) => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld(backend);
  });
  afterAll(() => world?.close());

  it('needs a session', async () => {
    const res = await fetch(`${world.relay.url}/api/v1/facebook/connect`, { redirect: 'manual' });
    expect(res.status).toBe(401);
  });

  it('sends the browser to the Login dialog with the scopes, a state bound to the session and the callback', async () => {
    const browser = await TenantBrowser.create(world.relay);
    const start = await browser.get('/api/v1/facebook/connect');
    expect(start.status).toBe(302);
    const dialog = new URL(start.location!);
    expect(`${dialog.origin}${dialog.pathname}`).toBe(`${world.fb.url}/v24.0/dialog/oauth`);
    expect(dialog.searchParams.get('client_id')).toBe(APP.appId);
    expect(dialog.searchParams.get('redirect_uri')).toBe(`${world.relay.url}/api/v1/facebook/callback`);
    expect(dialog.searchParams.get('response_type')).toBe('code');
    expect(dialog.searchParams.get('scope')!.split(',')).toEqual(ALL_SCOPES);
    expect(dialog.searchParams.get('state')!.length).toBeGreaterThan(20);
    expect(browser.hasCookie('relay_fb_login')).toBe(true);
  });

  it('stores the long-lived token encrypted with the user id and name, and returns to the UI', async () => {
    const browser = await TenantBrowser.create(world.relay);
    const result = await connectFacebook(world, browser);
    expect(result.route.path).toBe('/integrations/new');
    expect(result.route.query.get('connected')).toBe('1');
    expect(result.route.query.get('error')).toBeNull();
    expect(browser.hasCookie('relay_fb_login')).toBe(false);

    const identity = await world.relay.get(Database).repo(FacebookIdentity).findOneByOrFail({ tenantId: browser.tenantId });
    expect(identity.facebookUserId).toBe(world.fb.seed!.users.ana);
    expect(identity.name).toBe('Ana Silva');
    expect(identity.userTokenEnc).toMatch(/^enc1:/);
    const tokens = world.fb.control.listTokens({ userId: world.fb.seed!.users.ana, type: 'USER' });
    const longLived = tokens.filter((t) => t.longLived).map((t) => t.token);
    expect(longLived.some((token) => identity.userTokenEnc.includes(token))).toBe(false);
    expect(identity.tokenExpiresAt!.getTime()).toBeGreaterThan(Date.now() + 50 * 24 * 3600_000);

    const status = await browser.get('/api/v1/facebook/status');
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ connected: true, user: { id: world.fb.seed!.users.ana, name: 'Ana Silva' }, missingScopes: [], tokenState: 'valid' });
    expect(status.body.grantedScopes).toEqual(expect.arrayContaining(ALL_SCOPES));
    // The exchange used the short token for a long-lived one, and the profile call carried appsecret_proof.
    expect(world.fb.control.calls({ path: '/oauth/access_token' }).some((c) => c.query.grant_type === 'fb_exchange_token')).toBe(true);
    expect(world.fb.control.calls({ path: '/me', method: 'GET' }).some((c) => c.query.appsecret_proof)).toBe(true);
  });

  it('comes back with a plain explanation when the person cancels the dialog', async () => {
    const browser = await TenantBrowser.create(world.relay);
    const result = await connectFacebook(world, browser, { dialog: { action: 'cancel' } });
    expect(result.callbackUrl.searchParams.get('error')).toBe('access_denied');
    expect(result.route.path).toBe('/integrations/new');
    expect(result.route.query.get('error')).toBe('denied');
    expect(result.route.query.get('message')).toMatch(/cancelled the Facebook login/);
    expect((await browser.get('/api/v1/facebook/status')).body.connected).toBe(false);
  });

  it('refuses a callback whose state does not match the login started in this browser', async () => {
    const browser = await TenantBrowser.create(world.relay);
    const start = await browser.get('/api/v1/facebook/connect');
    const callback = new URL(await runDialog(world, new URL(start.location!)));
    callback.hash = '';
    browser.dropCookie('relay_fb_login');
    const back = await browser.get(callback.toString());
    expect(back.status).toBe(302);
    const route = new URL(back.location!).hash;
    expect(route).toContain('error=state_mismatch');
    // Another tenant cannot finish someone else's login either.
    const other = await TenantBrowser.create(world.relay);
    const start2 = await browser.get('/api/v1/facebook/connect');
    const callback2 = new URL(await runDialog(world, new URL(start2.location!)));
    callback2.hash = '';
    const stolen = await other.get(callback2.toString());
    expect(new URL(stolen.location!).hash).toContain('error=state_mismatch');
  });

  it('explains a wrong app setup (Facebook refuses the app credentials)', async () => {
    const browser = await TenantBrowser.create(world.relay);
    world.fb.control.injectError({ kind: 'custom', code: 101, message: 'Error validating application. Invalid application ID.', path: '/oauth/access_token', httpStatus: 400 });
    const result = await connectFacebook(world, browser);
    world.fb.control.clearInjections();
    expect(result.route.query.get('error')).toBe('app_setup');
    expect(result.route.query.get('message')).toMatch(/app/);
  });

  it('names a declined permission, marks the pages unavailable, and asks again with auth_type=rerequest', async () => {
    const { userId, pageIds } = createFacebookUser(world, 'Dora Declines', ['Dora Deli']);
    const browser = await TenantBrowser.create(world.relay);
    const granted = ALL_SCOPES.filter((s) => s !== 'pages_messaging');
    const result = await connectFacebook(world, browser, { userId, dialog: { action: 'approve', grant: granted } });
    expect(result.route.query.get('connected')).toBe('1');
    expect(result.route.query.get('error')).toBe('missing_permissions');
    expect(result.route.query.get('missing')).toBe('pages_messaging');
    expect(result.route.query.get('message')).toMatch(/pages_messaging/);

    const status = await browser.get('/api/v1/facebook/status');
    expect(status.body.missingScopes).toEqual(['pages_messaging']);
    expect(status.body.declinedScopes).toContain('pages_messaging');
    expect(status.body.rerequestUrl).toBe('/api/v1/facebook/connect?rerequest=1');

    const pages = await browser.get('/api/v1/facebook/pages');
    expect(pages.status).toBe(200);
    const page = pages.body.find((p: any) => p.id === pageIds[0]);
    expect(page).toMatchObject({ available: false, bound: false });
    expect(page.unavailableReason).toMatch(/pages_messaging/);

    const cc = openChannelAccount(world);
    const create = await browser.request('POST', '/api/v1/integrations', { name: 'Deli', pageId: pageIds[0], openchannelUrl: cc.url, apiKey: cc.apiKey });
    expect(create.status).toBe(422);
    expect(create.body).toMatchObject({ error: 'missing_permission' });
    expect(create.body.message).toMatch(/pages_messaging/);

    const again = await connectFacebook(world, browser, { userId, query: '?rerequest=1' });
    expect(again.dialogUrl.searchParams.get('auth_type')).toBe('rerequest');
    expect(again.route.query.get('error')).toBeNull();
    const after = await browser.get('/api/v1/facebook/pages');
    expect(after.body.find((p: any) => p.id === pageIds[0])).toMatchObject({ available: true, unavailableReason: null });
  });

  it('lists every page the person manages (following paging) with bound and unavailable marks', async () => {
    const many = Array.from({ length: 105 }, (_, i) => `Shop ${i + 1}`);
    const { userId, pageIds } = createFacebookUser(world, 'Paula Pages', many);
    const limitedPage = world.fb.control.createPage({ name: 'Ads only', roles: { [userId]: ['ANALYZE', 'ADVERTISE'] } }).id;
    const browser = await TenantBrowser.create(world.relay);
    await connectFacebook(world, browser, { userId });

    const pages = await browser.get('/api/v1/facebook/pages');
    expect(pages.status).toBe(200);
    expect(pages.body).toHaveLength(106);
    expect(pages.body.map((p: any) => p.id)).toEqual(expect.arrayContaining([...pageIds, limitedPage]));
    const limited = pages.body.find((p: any) => p.id === limitedPage);
    expect(limited).toMatchObject({ available: false, bound: false });
    expect(limited.unavailableReason).toMatch(/Moderate/);
    expect(JSON.stringify(pages.body)).not.toMatch(/access_token|accessToken|EAAP/);

    const cc = openChannelAccount(world);
    const created = await browser.request('POST', '/api/v1/integrations', { name: 'Shop 1', pageId: pageIds[0], openchannelUrl: cc.url, apiKey: cc.apiKey });
    expect(created.status).toBe(201);
    const afterBind = await browser.get('/api/v1/facebook/pages');
    expect(afterBind.body.find((p: any) => p.id === pageIds[0])).toMatchObject({ bound: true, boundTo: 'this_account', integrationId: created.body.id, integrationName: 'Shop 1' });

    // Another account logged in as the same Facebook user sees the page as bound elsewhere, without details.
    const other = await TenantBrowser.create(world.relay);
    await connectFacebook(world, other, { userId });
    const seen = (await other.get('/api/v1/facebook/pages')).body.find((p: any) => p.id === pageIds[0]);
    expect(seen).toMatchObject({ bound: true, boundTo: 'another_account', integrationId: null, integrationName: null });
  });

  it('answers 409 for pages before Facebook is connected', async () => {
    const browser = await TenantBrowser.create(world.relay);
    const pages = await browser.get('/api/v1/facebook/pages');
    expect(pages.status).toBe(409);
    expect(pages.body).toMatchObject({ error: 'facebook_not_connected' });
  });
});
