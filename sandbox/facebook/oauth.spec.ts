import { createHmac } from 'node:crypto';
import { FacebookSandbox, startFacebookSandbox } from './server';
import { graph } from './spec-helpers';

const REDIRECT = 'http://127.0.0.1:9/auth/facebook/callback';
const SCOPES = 'pages_show_list,pages_messaging,pages_manage_metadata,pages_read_engagement,pages_manage_engagement,email';

describe('facebook sandbox: login, tokens, pages', () => {
  let fb: FacebookSandbox;
  beforeAll(async () => {
    fb = await startFacebookSandbox();
  });
  afterAll(() => fb.close());

  function dialogUrl(extra: Record<string, string> = {}) {
    const q = new URLSearchParams({ client_id: fb.appId, redirect_uri: REDIRECT, state: 'st-123', scope: SCOPES, response_type: 'code', ...extra });
    return `${fb.url}/v24.0/dialog/oauth?${q}`;
  }

  async function loginAs(userId: string, uncheck: string[] = []): Promise<string> {
    const form = new URLSearchParams({ client_id: fb.appId, redirect_uri: REDIRECT, state: 'st-123', scope: SCOPES, response_type: 'code', user_id: userId, action: 'approve' });
    for (const s of SCOPES.split(',')) if (!uncheck.includes(s)) form.set(`perm_${s}`, '1');
    const res = await fetch(`${fb.url}/v24.0/dialog/oauth`, { method: 'POST', body: form, redirect: 'manual' });
    expect(res.status).toBe(302);
    const loc = new URL(res.headers.get('location')!);
    expect(loc.origin + loc.pathname).toBe(REDIRECT);
    expect(loc.searchParams.get('state')).toBe('st-123');
    return loc.searchParams.get('code')!;
  }

  async function exchange(code: string, redirectUri = REDIRECT) {
    return graph(fb.url, '/v24.0/oauth/access_token', { form: { grant_type: 'authorization_code', client_id: fb.appId, client_secret: fb.appSecret, redirect_uri: redirectUri, code } });
  }

  it('renders the dialog with test users and permission checkboxes; rejects an unknown client_id', async () => {
    const page = await fetch(dialogUrl());
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('Ana Silva');
    expect(html).toContain('name="perm_pages_messaging" value="1" checked');
    expect(html).toContain('value="approve"');
    const bad = await fetch(dialogUrl({ client_id: '42' }));
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('Invalid App ID');
  });

  it('cancel redirects with the documented error parameters', async () => {
    const form = new URLSearchParams({ client_id: fb.appId, redirect_uri: REDIRECT, state: 'st-9', scope: SCOPES, action: 'cancel' });
    const res = await fetch(`${fb.url}/v24.0/dialog/oauth`, { method: 'POST', body: form, redirect: 'manual' });
    expect(res.status).toBe(302);
    const loc = res.headers.get('location')!;
    expect(loc).toContain('?error_reason=user_denied&error=access_denied&error_description=The+user+denied+your+request.&state=st-9');
  });

  it('exchanges a code once (36009 on reuse), checks redirect_uri (36008) and the secret', async () => {
    const ana = fb.seed!.users.ana;
    const code = await loginAs(ana);
    const mismatch = await exchange(code, REDIRECT + '/other');
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.error).toMatchObject({ code: 100, error_subcode: 36008, type: 'OAuthException' });
    expect(mismatch.body.error.fbtrace_id).toBe(mismatch.headers.get('x-fb-trace-id'));
    const wrongSecret = await graph(fb.url, '/oauth/access_token', { params: { client_id: fb.appId, client_secret: 'nope', redirect_uri: REDIRECT, code } });
    expect(wrongSecret.body.error.message).toBe('Error validating client secret.');
    const ok = await exchange(code);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ token_type: 'bearer' });
    expect(ok.body.expires_in).toBeGreaterThan(3000);
    const reuse = await exchange(code);
    expect(reuse.body.error).toMatchObject({ code: 100, error_subcode: 36009 });

    // /me honours fields, token via Bearer header, appsecret_proof verified
    const me = await graph(fb.url, '/v24.0/me', { params: { fields: 'id,name,email' }, headers: { authorization: `Bearer ${ok.body.access_token}` } });
    expect(me.body).toEqual({ id: ana, name: 'Ana Silva', email: 'ana.silva@example.test' });
    const proof = createHmac('sha256', fb.appSecret).update(ok.body.access_token).digest('hex');
    expect((await graph(fb.url, '/me', { params: { access_token: ok.body.access_token, appsecret_proof: proof } })).body).toEqual({ id: ana, name: 'Ana Silva' });
    expect((await graph(fb.url, '/me', { params: { access_token: ok.body.access_token, appsecret_proof: 'bad' } })).body.error.code).toBe(100);

    // long-lived exchange
    const long = await graph(fb.url, '/v24.0/oauth/access_token', {
      params: { grant_type: 'fb_exchange_token', client_id: fb.appId, client_secret: fb.appSecret, fb_exchange_token: ok.body.access_token },
    });
    expect(long.body.expires_in).toBeGreaterThan(50 * 24 * 3600);
    const perms = await graph(fb.url, '/me/permissions', { params: { access_token: long.body.access_token } });
    expect(perms.body.data).toEqual(expect.arrayContaining([{ permission: 'pages_messaging', status: 'granted' }]));

    // accounts with paging (Ana has 3 pages)
    const first = await graph(fb.url, '/v24.0/me/accounts', { params: { access_token: long.body.access_token, limit: '2' } });
    expect(first.body.data).toHaveLength(2);
    expect(first.body.data[0]).toEqual(expect.objectContaining({ id: fb.seed!.pages.store, tasks: expect.arrayContaining(['MESSAGING', 'MODERATE']), category: 'Bicycle Shop' }));
    expect(first.body.data[0].access_token).toMatch(/^EAA/);
    expect(first.body.paging.next.startsWith(`${fb.url}/v24.0/me/accounts?`)).toBe(true);
    const second = await graph(first.body.paging.next, '');
    expect(second.body.data.map((p: { id: string }) => p.id)).toEqual([fb.seed!.pages.limited]);
    expect(second.body.data[0].tasks).not.toContain('MESSAGING');
    expect(second.body.paging.next).toBeUndefined();

    // page token: no expiry (from long-lived), debug_token valid
    const pageToken = first.body.data[0].access_token;
    const single = await graph(fb.url, `/v24.0/${fb.seed!.pages.store}`, { params: { fields: 'access_token,name', access_token: long.body.access_token } });
    expect(single.body).toEqual({ access_token: pageToken, name: 'Ana’s Bike Store', id: fb.seed!.pages.store });
    const appToken = `${fb.appId}|${fb.appSecret}`;
    const dbg = await graph(fb.url, '/v24.0/debug_token', { params: { input_token: pageToken, access_token: appToken } });
    expect(dbg.body.data).toMatchObject({ is_valid: true, type: 'PAGE', app_id: fb.appId, user_id: ana, profile_id: fb.seed!.pages.store, expires_at: 0 });
    expect(dbg.body.data.scopes).toContain('pages_messaging');

    fb.control.revokeToken({ token: pageToken });
    const revoked = await graph(fb.url, '/v24.0/debug_token', { params: { input_token: pageToken, access_token: appToken } });
    expect(revoked.body.data).toMatchObject({ is_valid: false, error: { code: 190, subcode: 460 } });
    const use = await graph(fb.url, `/v24.0/${fb.seed!.pages.store}/subscribed_apps`, { params: { access_token: pageToken } });
    expect(use.body.error).toMatchObject({ code: 190, error_subcode: 460 });

    fb.control.expireToken({ token: long.body.access_token });
    const expired = await graph(fb.url, '/me', { params: { access_token: long.body.access_token } });
    expect(expired.body.error).toMatchObject({ code: 190, error_subcode: 463 });
  });

  it('unchecked permissions are declined; removing a permission applies to existing tokens', async () => {
    const bruno = fb.seed!.users.bruno;
    const code = await loginAs(bruno, ['pages_messaging']);
    const tok = (await exchange(code)).body.access_token;
    const perms = await graph(fb.url, '/me/permissions', { params: { access_token: tok } });
    expect(perms.body.data).toEqual(expect.arrayContaining([{ permission: 'pages_messaging', status: 'declined' }, { permission: 'pages_show_list', status: 'granted' }]));
    fb.control.removePermission(bruno, 'pages_show_list');
    const accounts = await graph(fb.url, '/me/accounts', { params: { access_token: tok } });
    expect(accounts.body.data).toEqual([]);
  });

  it('auto-approve mode redirects at once with a code', async () => {
    const auto = await startFacebookSandbox({ autoApprove: true });
    try {
      const q = new URLSearchParams({ client_id: auto.appId, redirect_uri: REDIRECT, state: 'abc', scope: SCOPES });
      const res = await fetch(`${auto.url}/v24.0/dialog/oauth?${q}`, { redirect: 'manual' });
      expect(res.status).toBe(302);
      const loc = new URL(res.headers.get('location')!);
      expect(loc.searchParams.get('state')).toBe('abc');
      expect(loc.searchParams.get('code')).toBeTruthy();
    } finally {
      await auto.close();
    }
  });

  it('subscribed_apps: validates fields and tasks, round-trips GET/POST/DELETE', async () => {
    const { pages, users } = fb.seed!;
    const t = fb.control.issueToken({ userId: users.ana, pageId: pages.store });
    const path = `/v24.0/${pages.store}/subscribed_apps`;
    const bad = await graph(fb.url, path, { method: 'POST', params: { access_token: t.pageToken!, subscribed_fields: 'messages,bogus' } });
    expect(bad.body.error.code).toBe(100);
    const missing = await graph(fb.url, path, { method: 'POST', params: { access_token: t.pageToken! } });
    expect(missing.body.error.code).toBe(100);
    const withUserToken = await graph(fb.url, path, { method: 'POST', params: { access_token: t.userToken, subscribed_fields: 'messages' } });
    expect(withUserToken.body.error.code).toBe(210);
    const ok = await graph(fb.url, path, { method: 'POST', params: { access_token: t.pageToken!, subscribed_fields: 'messages,message_echoes,feed' } });
    expect(ok.body).toEqual({ success: true });
    const get = await graph(fb.url, path, { params: { access_token: t.pageToken! } });
    expect(get.body.data).toEqual([expect.objectContaining({ id: fb.appId, subscribed_fields: ['messages', 'message_echoes', 'feed'] })]);
    expect((await graph(fb.url, path, { method: 'DELETE', params: { access_token: t.pageToken! } })).body).toEqual({ success: true });
    expect((await graph(fb.url, path, { params: { access_token: t.pageToken! } })).body).toEqual({ data: [] });

    const limited = fb.control.issueToken({ userId: users.ana, pageId: pages.limited });
    const denied = await graph(fb.url, `/v24.0/${pages.limited}/subscribed_apps`, { method: 'POST', params: { access_token: limited.pageToken!, subscribed_fields: 'messages' } });
    expect(denied.body.error.code).toBe(200);

    fb.control.removePageRole(pages.store, users.ana);
    const noRole = await graph(fb.url, path, { params: { access_token: t.pageToken! } });
    expect(noRole.body.error).toMatchObject({ code: 190, error_subcode: 492 });
    fb.control.setPageRole(pages.store, users.ana);
  });

  it('profile lookup with a page token, and 100/2018218 for a customer without profile', async () => {
    const { pages, users, customers } = fb.seed!;
    const t = fb.control.issueToken({ userId: users.ana, pageId: pages.store });
    const prof = await graph(fb.url, `/v24.0/${customers.maria}`, { params: { access_token: t.pageToken!, fields: 'first_name,last_name,profile_pic,name' } });
    expect(prof.body).toMatchObject({ id: customers.maria, first_name: 'María', last_name: 'Müller', name: 'María Müller' });
    expect((await fetch(prof.body.profile_pic)).status).toBe(200);
    const none = await graph(fb.url, `/v24.0/${customers.noProfile}`, { params: { access_token: t.pageToken! } });
    expect(none.status).toBe(400);
    expect(none.body.error).toMatchObject({ code: 100, error_subcode: 2018218, message: 'No profile available for this user.' });
    const otherPage = fb.control.issueToken({ userId: users.bruno, pageId: pages.brunoPage });
    const hidden = await graph(fb.url, `/v24.0/${customers.maria}`, { params: { access_token: otherPage.pageToken! } });
    expect(hidden.body.error).toMatchObject({ code: 100, error_subcode: 33 });
  });
});
