import { startContactCenterSandbox, ContactCenterSandbox } from '../../sandbox/contact-center/server';
import { startFacebookSandbox, FacebookSandbox } from '../../sandbox/facebook/server';
import { Backend } from '../support/backends';
import { readBody } from '../support/http';
import { registerAndLogin, TEST_PASSWORD } from '../support/tenant-client';
import { startTestApp, TestApp } from '../support/test-app';

export const APP = { appId: '1234567890123456', appSecret: 'integrations-suite-app-secret', verifyToken: 'integrations-suite-verify' };

export interface World {
  fb: FacebookSandbox;
  cc: ContactCenterSandbox;
  relay: TestApp;
  close(): Promise<void>;
}

/** Both sandboxes in-process on free ports and a relay pointed at them. */
export async function startWorld(backend: Backend, env: Record<string, string> = {}): Promise<World> {
  const fb = await startFacebookSandbox({ port: 0, appId: APP.appId, appSecret: APP.appSecret, autoApprove: true });
  const cc = await startContactCenterSandbox({ port: 0 });
  const relay = await startTestApp({
    backend,
    env: {
      FACEBOOK_APP_ID: APP.appId,
      FACEBOOK_APP_SECRET: APP.appSecret,
      FACEBOOK_VERIFY_TOKEN: APP.verifyToken,
      FACEBOOK_GRAPH_URL: fb.url,
      FACEBOOK_DIALOG_URL: fb.url,
      ...env,
    },
  });
  return {
    fb,
    cc,
    relay,
    close: async () => {
      await relay.close();
      await fb.close();
      await cc.close();
    },
  };
}

export interface Answer {
  status: number;
  body: any;
  location: string | null;
  headers: Headers;
}

/**
 * A logged-in tenant's browser: keeps every cookie the relay sets (session, XSRF, the login
 * state cookie) and follows no redirect by itself.
 */
export class TenantBrowser {
  private readonly cookies = new Map<string, string>();

  constructor(readonly relay: TestApp, readonly email: string, readonly tenantId: string) {}

  static async create(relay: TestApp): Promise<TenantBrowser> {
    const client = await registerAndLogin(relay);
    const browser = new TenantBrowser(relay, client.email, client.tenantId);
    const login = await browser.request('POST', '/api/v1/auth/login', { email: client.email, password: TEST_PASSWORD });
    if (login.status !== 200) throw new Error(`login answered ${login.status}`);
    return browser;
  }

  async request(method: string, pathOrUrl: string, body?: unknown): Promise<Answer> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.relay.url}${pathOrUrl}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (!['GET', 'HEAD'].includes(method)) headers['x-xsrf-token'] = decodeURIComponent(this.cookies.get('XSRF-TOKEN') ?? '');
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (!value || attributes.some((a) => /max-age=0\b/i.test(a.trim()))) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.status, body: (await readBody(res)).body, location: res.headers.get('location'), headers: res.headers };
  }

  get(path: string) {
    return this.request('GET', path);
  }

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  hasCookie(name: string): boolean {
    return this.cookies.has(name);
  }

  dropCookie(name: string): void {
    this.cookies.delete(name);
  }
}

export interface ConnectOptions {
  /** Sandbox user to log in as (default: the seeded Ana). */
  userId?: string;
  /** Query for /connect, e.g. '?rerequest=1' or '?reactivate=<id>'. */
  query?: string;
  /** What the person does in the dialog: approve all (default), approve only some permissions, or cancel. */
  dialog?: { action: 'approve'; grant?: string[] } | { action: 'cancel' };
}

export interface ConnectResult {
  dialogUrl: URL;
  callbackUrl: URL;
  /** The UI route the relay sent the browser back to (after `#`), parsed. */
  route: { path: string; query: URLSearchParams };
}

/** connect → Facebook dialog → callback, over real HTTP with redirects followed by hand. */
export async function connectFacebook(world: World, browser: TenantBrowser, options: ConnectOptions = {}): Promise<ConnectResult> {
  const start = await browser.get(`/api/v1/facebook/connect${options.query ?? ''}`);
  if (start.status !== 302 || !start.location) throw new Error(`connect answered ${start.status}: ${JSON.stringify(start.body)}`);
  const dialogUrl = new URL(start.location);
  const callbackUrl = new URL(await runDialog(world, dialogUrl, options));
  callbackUrl.hash = '';
  const back = await browser.get(callbackUrl.toString());
  if (back.status !== 302 || !back.location) throw new Error(`callback answered ${back.status}: ${JSON.stringify(back.body)}`);
  return { dialogUrl, callbackUrl, route: parseRoute(back.location) };
}

/** Plays the person in the Login dialog; answers where Facebook redirects the browser. */
export async function runDialog(world: World, dialogUrl: URL, options: ConnectOptions = {}): Promise<string> {
  const url = new URL(dialogUrl);
  const userId = options.userId ?? world.fb.seed!.users.ana;
  const dialog = options.dialog ?? { action: 'approve' };
  if (dialog.action === 'approve' && !dialog.grant) {
    url.searchParams.set('sandbox_user', userId);
    const res = await fetch(url, { redirect: 'manual' });
    if (res.status !== 302) throw new Error(`dialog answered ${res.status}: ${await res.text()}`);
    return res.headers.get('location')!;
  }
  // The person sees the form: submit it like the browser would.
  const form = new URLSearchParams();
  for (const key of ['client_id', 'redirect_uri', 'state', 'scope', 'response_type', 'auth_type']) {
    const value = url.searchParams.get(key);
    if (value !== null) form.set(key, value);
  }
  form.set('action', dialog.action);
  form.set('user_id', userId);
  if (dialog.action === 'approve') for (const scope of ['public_profile', ...(dialog.grant ?? [])]) form.set(`perm_${scope}`, '1');
  const res = await fetch(`${url.origin}${url.pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
    redirect: 'manual',
  });
  if (res.status !== 302) throw new Error(`dialog form answered ${res.status}: ${await res.text()}`);
  return res.headers.get('location')!;
}

export function parseRoute(location: string): { path: string; query: URLSearchParams } {
  const hash = new URL(location).hash.replace(/^#/, '');
  const [path, query = ''] = hash.split('?');
  return { path, query: new URLSearchParams(query) };
}

/** A Facebook user with pages of their own (tests that revoke tokens do not disturb the seeded ones). */
export function createFacebookUser(world: World, name: string, pages: string[] = ['Page']): { userId: string; pageIds: string[] } {
  const user = world.fb.control.createUser({ name });
  const pageIds = pages.map((pageName) => world.fb.control.createPage({ name: pageName, roles: { [user.id]: ['ANALYZE', 'CREATE_CONTENT', 'MESSAGING', 'MODERATE', 'MANAGE'] } }).id);
  return { userId: user.id, pageIds };
}

/** An Open Channel account and its Receive URL (without the key: the key goes in its own field). */
export function openChannelAccount(world: World, apiKey = 'cc-key') {
  const account = world.cc.control.createAccount({ apiKey });
  return { account, url: `${world.cc.url}/api/openchannel/accounts/${account.id}/notify`, apiKey };
}

/**
 * The usual starting point of a feature suite: webhooks of the Facebook sandbox go to the relay, the
 * tenant is connected as Ana, and her bike store page is bound to a fresh contact-center account
 * whose Reply URL is the new integration's.
 */
export async function bindStorePage(world: World, browser: TenantBrowser) {
  await world.fb.control.configureWebhook({ callbackUrl: `${world.relay.url}/webhooks/facebook`, verifyToken: APP.verifyToken });
  await connectFacebook(world, browser);
  const store = world.fb.seed!.pages.store;
  const account = openChannelAccount(world);
  const created = await browser.request('POST', '/api/v1/integrations', { name: 'Bike store', pageId: store, openchannelUrl: account.url, apiKey: account.apiKey });
  if (created.status !== 201) throw new Error(`binding the store page answered ${created.status}: ${JSON.stringify(created.body)}`);
  world.cc.control.setReplyUrl(account.account.id, created.body.replyUrl);
  return { integrationId: created.body.id as string, account, store };
}
