import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/**
 * The offline demo as `npm start` runs it: the compiled relay with no Facebook app configured starts
 * the Facebook and contact-center sandboxes as processes of their own, and the whole flow works over
 * HTTP the way a person clicks through it.
 */
describe('offline demo (npm start without a Facebook app)', () => {
  let relay: ChildProcess;
  let output = '';
  let port: number;
  let dataDir: string;
  // The relay as its PUBLIC_URL names it (localhost); the sandboxes listen on 127.0.0.1.
  const url = (path: string, offset = 0) => (offset === 0 ? `http://localhost:${port}${path}` : `http://127.0.0.1:${port + offset}${path}`);

  beforeAll(async () => {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'pipe' });
    port = await threeFreePorts();
    dataDir = mkdtempSync(join(tmpdir(), 'relay-demo-'));
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn', NODE_ENV: 'development' };
    for (const name of Object.keys(env)) if (/^(FACEBOOK_|DATABASE_URL|REDIS_URL|PUBLIC_URL|SMTP_URL|SANDBOX|ROLE)/.test(name)) delete env[name];
    relay = spawn(process.execPath, [join(ROOT, 'dist/src/main.js')], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    relay.stdout!.on('data', (chunk) => { output += chunk; });
    relay.stderr!.on('data', (chunk) => { output += chunk; });
    await waitUntil(() => output.includes('Try the whole flow'), 30_000, () => output);
  }, 90_000);

  afterAll(async () => {
    if (relay && relay.exitCode === null) {
      relay.kill('SIGTERM');
      await new Promise((resolve) => relay.once('exit', resolve));
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints where to open it and the steps to try', () => {
    expect(output).toContain(`Open Channel Relay is running: open http://localhost:${port}`);
    expect(output).toContain('/sandbox/outbox');
    expect(output).toContain(`/api/openchannel/accounts/1/notify`);
  });

  it('runs the whole flow: sign up, activate, connect Facebook, bind a page, message in, reply out', async () => {
    const jar = new Map<string, string>();
    const call = async (method: string, target: string, body?: unknown, form?: URLSearchParams) => {
      const headers: Record<string, string> = {};
      if (target.startsWith(url(''))) {
        if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
        if (method !== 'GET' && jar.has('XSRF-TOKEN')) headers['x-xsrf-token'] = decodeURIComponent(jar.get('XSRF-TOKEN')!);
      }
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
      const res = await fetch(target, { method, headers, body: form ? form.toString() : body === undefined ? undefined : JSON.stringify(body), redirect: 'manual' });
      if (target.startsWith(url(''))) {
        for (const line of res.headers.getSetCookie()) {
          const [pair] = line.split(';');
          const eq = pair.indexOf('=');
          jar.set(pair.slice(0, eq), pair.slice(eq + 1));
        }
      }
      const text = await res.text();
      let json: any;
      try { json = JSON.parse(text); } catch { json = undefined; }
      return { status: res.status, json, text, location: res.headers.get('location') };
    };

    // 1-2. Sign up, read the code from the sandbox outbox, activate, log in.
    const email = 'demo.person@example.com';
    const password = 'a long demo password 42';
    expect((await call('POST', url('/api/v1/auth/register'), { email, password })).status).toBe(201);
    const outbox = await call('GET', url(`/sandbox/outbox/messages?to=${encodeURIComponent(email)}`));
    const code = /\b(\d{6})\b/.exec(outbox.json[0].text)![1];
    expect((await call('POST', url('/api/v1/auth/activate'), { email, code })).status).toBe(200);
    expect((await call('POST', url('/api/v1/auth/login'), { email, password })).status).toBe(200);

    // 3. Connect Facebook: the sandbox's login page, approved as Ana with every permission asked.
    const facebook = (await call('GET', url('/_control/info', 1))).json;
    const connect = await call('GET', url('/api/v1/facebook/connect'));
    expect(connect.status).toBe(302);
    const dialog = new URL(connect.location!);
    expect(dialog.port).toBe(String(port + 1));
    const page = await call('GET', dialog.toString());
    expect(page.status).toBe(200);
    expect(page.text).toContain('Ana Silva');
    const approve = new URLSearchParams();
    for (const key of ['client_id', 'redirect_uri', 'state', 'scope', 'response_type']) approve.set(key, dialog.searchParams.get(key) ?? '');
    approve.set('action', 'approve');
    approve.set('user_id', facebook.seed.users.ana);
    for (const scope of ['public_profile', ...dialog.searchParams.get('scope')!.split(',')]) approve.set(`perm_${scope}`, '1');
    const approved = await call('POST', `${dialog.origin}${dialog.pathname}`, undefined, approve);
    expect(approved.status).toBe(302);
    const callback = new URL(approved.location!);
    callback.hash = '';
    const back = await call('GET', callback.toString());
    expect(back.status).toBe(302);
    expect(back.location).toContain('connected=1');

    // 4. Bind "Ana's Bike Store" to the sandbox contact center's account 1.
    const pages = (await call('GET', url('/api/v1/facebook/pages'))).json;
    const store = pages.find((p: { id: string }) => p.id === facebook.seed.pages.store);
    expect(store).toMatchObject({ bound: false, available: true });
    const created = await call('POST', url('/api/v1/integrations'), {
      name: 'Bike store', pageId: store.id, openchannelUrl: `http://localhost:${port + 2}/api/openchannel/accounts/1/notify`, apiKey: 'demo-key',
    });
    expect(created.status).toBe(201);

    // 5. Paste the Reply URL into the contact center's account.
    expect((await call('PUT', url('/_control/accounts/1/reply-url', 2), { replyUrl: created.json.replyUrl })).status).toBe(200);

    // 6. The customer writes in the sandbox's Messenger simulator; the contact center receives it.
    const maria = facebook.seed.customers.maria;
    const sent = await call('POST', url('/simulator/send', 1), undefined, new URLSearchParams({ customer: maria, text: 'Olá! Is my bike ready?' }));
    expect(sent.status).toBe(303);
    const notifications = await waitForJson(url('/_control/notifications?accountId=1&acceptedOnly=1', 2), (list: unknown[]) => list.length >= 1);
    expect(notifications[0].body).toMatchObject({ from: maria, body: 'Olá! Is my bike ready?', mapKey: 'facebook' });

    // 7. The agent replies from the contact center; the customer gets it on Messenger.
    const reply = await call('POST', url('/_control/reply', 2), { accountId: 1, contactFrom: maria, body: 'Yes, come by today!' });
    expect(reply.json).toMatchObject({ status: 200, ok: true });
    const thread = await waitForJson(url(`/_control/messages?psid=${maria}&origin=app`, 1), (list: Array<{ text?: string }>) => list.some((m) => m.text === 'Yes, come by today!'));
    expect(thread.length).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('stops cleanly on SIGTERM', async () => {
    relay.kill('SIGTERM');
    const code = await new Promise((resolve) => relay.once('exit', resolve));
    expect(code).toBe(0);
  });
});

async function waitUntil(check: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out; output so far:\n${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function waitForJson(target: string, done: (value: any) => boolean, timeoutMs = 10_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await (await fetch(target)).json();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${target} never matched: ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A port p with p+1 and p+2 free too: the demo puts its sandboxes there. */
async function threeFreePorts(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    if ((await Promise.all([0, 1, 2].map((o) => isFree(base + o)))).every(Boolean)) return base;
  }
  throw new Error('no three consecutive free ports');
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
