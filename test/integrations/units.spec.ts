import type { Request, Response } from 'express';
import { describeLoginError } from '../../src/facebook/facebook-login';
import { pageUnavailableReason, subscribedFields } from '../../src/facebook/facebook-pages';
import { LOGIN_STATE_COOKIE, SignedCookieStateStore } from '../../src/facebook/login-state';
import { describeMissing, missingScopes } from '../../src/facebook/permissions';
import { openchannelUrlProblem } from '../../src/integrations/openchannel-url';
import { replyUrlFor } from '../../src/integrations/integration-view';

describe('openchannelUrlProblem', () => {
  it.each([
    ['https://motion.example.com/api/openchannel/accounts/7/notify?apikey=abc'],
    ['http://motion.example.com:8080/api/openchannel/accounts/7/receive'],
    ['https://proxy.example.com/api/openchannel/accounts/12/notify?token=T0K3N'],
  ])('accepts %s', (url) => {
    expect(openchannelUrlProblem(url, false)).toBeNull();
  });

  it.each([
    ['ftp://motion.example.com/x', /https/],
    ['javascript:alert(1)', /https/],
    ['https://user:pw@motion.example.com/x', /user name or password/],
    ['not a url', /not a valid address/],
    [`https://motion.example.com/${'a'.repeat(2100)}`, /longer than/],
    ['https://127.0.0.1/x', /private or local/],
    ['https://10.0.0.8/x', /private or local/],
    ['https://192.168.1.1/x', /private or local/],
    ['https://169.254.169.254/latest/meta-data', /private or local/],
    ['https://[::1]/x', /private or local/],
    ['https://[::ffff:127.0.0.1]/x', /private or local/],
    ['https://localhost/x', /private or local/],
    ['https://cc.localhost/x', /private or local/],
  ])('refuses %s', (url, message) => {
    expect(openchannelUrlProblem(url, false)).toMatch(message);
  });

  it('allows private addresses when ALLOW_PRIVATE_TARGETS is true', () => {
    expect(openchannelUrlProblem('http://127.0.0.1:3002/api/openchannel/accounts/1/notify', true)).toBeNull();
    expect(openchannelUrlProblem('https://user:pw@127.0.0.1/x', true)).toMatch(/password/);
  });
});

describe('permissions and pages', () => {
  it('names missing scopes with the reason', () => {
    expect(missingScopes(['pages_show_list'], ['pages_show_list', 'pages_messaging'])).toEqual(['pages_messaging']);
    expect(describeMissing(['pages_messaging'])).toMatch(/pages_messaging \(to receive and answer Messenger conversations\)/);
  });

  it('explains why a page cannot be bound', () => {
    expect(pageUnavailableReason({ tasks: ['MODERATE', 'MESSAGING'] })).toBeNull();
    expect(pageUnavailableReason({ tasks: ['ANALYZE', 'ADVERTISE'] })).toMatch(/Moderate/);
  });

  it('subscribes feed only with wall posts', () => {
    expect(subscribedFields(true)).toContain('feed');
    expect(subscribedFields(false)).not.toContain('feed');
    expect(subscribedFields(false)).toEqual(expect.arrayContaining(['messages', 'message_echoes', 'messaging_postbacks', 'message_reactions', 'messaging_referrals', 'standby']));
  });

  it('builds the Reply URL', () => {
    expect(replyUrlFor('https://relay.example.com', 'abc_-1')).toBe('https://relay.example.com/api/reply?token=abc_-1');
  });
});

describe('describeLoginError', () => {
  it.each([
    [{ name: 'FacebookAuthorizationError', code: 200, message: 'Permissions error' }, 'app_setup'],
    [{ name: 'FacebookTokenError', code: 100, subcode: 36008 }, 'app_setup'],
    [{ name: 'FacebookTokenError', code: 101 }, 'app_setup'],
    [{ name: 'FacebookTokenError', code: 100, subcode: 36009 }, 'facebook_error'],
    [{ name: 'InternalOAuthError', message: 'connect ECONNREFUSED' }, 'facebook_error'],
  ])('%j → %s', (error, code) => {
    const outcome = describeLoginError(error);
    expect(outcome).toMatchObject({ kind: 'failure', code });
    if (outcome.kind === 'failure') expect(outcome.message.length).toBeGreaterThan(20);
  });
});

describe('SignedCookieStateStore', () => {
  const store = new SignedCookieStateStore(Buffer.alloc(32, 7), true);

  function started(tenantId: string) {
    const headers: Record<string, string[]> = {};
    const res = { getHeader: (n: string) => headers[n], setHeader: (n: string, v: string[]) => (headers[n] = v) } as unknown as Response;
    const req = { res, headers: {}, relayLogin: { tenantId, reactivate: 'int-1' } } as unknown as Request;
    let state = '';
    store.store(req, {}, (error, value) => {
      expect(error).toBeNull();
      state = value!;
    });
    const cookie = headers['Set-Cookie'][0];
    expect(cookie).toMatch(/HttpOnly; SameSite=Lax; Max-Age=600; Secure$/);
    return { state, cookie: cookie.split(';')[0] };
  }

  function verify(cookie: string, state: string, tenantId: string) {
    const req = { headers: { cookie }, relayTenantId: tenantId } as unknown as Request;
    let result: { ok?: boolean | string; info?: unknown } = {};
    store.verify(req, state, {}, (_e, ok, info) => (result = { ok, info }));
    return result;
  }

  it('accepts the state it issued, for the same tenant, and carries the reactivation target', () => {
    const { state, cookie } = started('tenant-a');
    expect(verify(cookie, state, 'tenant-a')).toEqual({ ok: true, info: { reactivate: 'int-1' } });
  });

  it('refuses another state, another tenant, a forged cookie, or no cookie', () => {
    const { state, cookie } = started('tenant-a');
    expect(verify(cookie, 'other', 'tenant-a').ok).toBe(false);
    expect(verify(cookie, state, 'tenant-b').ok).toBe(false);
    const [name, value] = [cookie.slice(0, cookie.indexOf('=')), cookie.slice(cookie.indexOf('=') + 1)];
    const payload = JSON.parse(Buffer.from(value.split('.')[0], 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...payload, tenantId: 'tenant-b' })).toString('base64url');
    expect(verify(`${name}=${forged}.${value.split('.')[1]}`, state, 'tenant-b').ok).toBe(false);
    expect(verify('', state, 'tenant-a').ok).toBe(false);
    expect(name).toBe(LOGIN_STATE_COOKIE);
  });
});
