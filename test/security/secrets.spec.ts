import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ContactCenterSandbox, startContactCenterSandbox } from '../../sandbox/contact-center/server';
import { FacebookSandbox, startFacebookSandbox } from '../../sandbox/facebook/server';
import { Database } from '../../src/database/database';
import { DeliverySettings } from '../../src/relay/delivery.settings';
import { Message } from '../../src/relay/message.entity';
import { setUpPage } from '../replies/reply-harness';
import { backends } from '../support/backends';
import { cookieJar, registerAndLogin, TEST_PASSWORD } from '../support/tenant-client';
import { TestApp } from '../support/test-app';
import { call, leakedSecrets, startLoggedRelay } from './support';

/**
 * A full run through every feature that handles a secret (sign-up, login, API key and signing
 * secret changes, reply token rotation, inbound delivery with an API key and a signature, replies
 * with a page token and appsecret_proof, failures), then: the database dump and every log line
 * (debug level) must not contain any of those secrets in clear.
 */
const APP = { id: '7000000000000055', secret: 'secrets-app-secret-5f1e2d3c4b5a6978', verifyToken: 'secrets-verify-token-77' };

describe.each(backends())('secrets at rest and in logs on %s', (backend) => {
  let fb: FacebookSandbox;
  let cc: ContactCenterSandbox;
  let relay: TestApp;
  let logs: string[];
  beforeAll(async () => {
    fb = await startFacebookSandbox({ port: 0, appId: APP.id, appSecret: APP.secret, seed: false, webhook: { retryDelaysMs: [50, 100], flushDelayMs: 5 } as never });
    cc = await startContactCenterSandbox({ port: 0 });
    ({ relay, logs } = await startLoggedRelay(backend, {
      env: { FACEBOOK_APP_ID: APP.id, FACEBOOK_APP_SECRET: APP.secret, FACEBOOK_VERIFY_TOKEN: APP.verifyToken, FACEBOOK_GRAPH_URL: fb.url, FACEBOOK_DIALOG_URL: fb.url },
    }));
    Object.assign(relay.get(DeliverySettings), { retryDelaysMs: [200], jitter: 0 });
    await fb.control.configureWebhook({ callbackUrl: `${relay.url}/webhooks/facebook`, verifyToken: APP.verifyToken });
  });
  afterAll(async () => {
    await relay?.close();
    await cc?.close();
    await fb?.close();
  });

  async function dumpDatabase(): Promise<string> {
    const db = relay.get(Database);
    const tables: string[] = db.isMysql
      ? (await db.dataSource.query('SHOW TABLES')).map((row: Record<string, string>) => Object.values(row)[0])
      : (await db.dataSource.query("SELECT name FROM sqlite_master WHERE type = 'table'")).map((row: { name: string }) => row.name);
    const parts: string[] = [];
    for (const table of tables) {
      const rows = await db.dataSource.query(`SELECT * FROM ${db.isMysql ? `\`${table}\`` : `"${table}"`}`);
      parts.push(`-- ${table}\n${JSON.stringify(rows, (_, v) => (v && v.type === 'Buffer' && Array.isArray(v.data) ? Buffer.from(v.data).toString('latin1') : v))}`);
    }
    return parts.join('\n');
  }

  /** The SQLite files themselves (free pages and the WAL too), where deleted or overwritten values could linger. */
  function sqliteFiles(): string {
    if (relay.config.database.kind !== 'sqlite') return '';
    const dir = relay.config.dataDir;
    return existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith('relay.sqlite')).map((f) => readFileSync(join(dir, f)).toString('latin1')).join('') : '';
  }

  it('a full run leaves no clear token, key, password or session in the database or the logs', async () => {
    const client = await registerAndLogin(relay);
    const login = await fetch(`${relay.url}/api/v1/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '10.9.9.9' }, body: JSON.stringify({ email: client.email, password: TEST_PASSWORD }),
    });
    const jar = cookieJar(login.headers);
    const session = jar.get('relay_session')!;
    const xsrf = jar.get('XSRF-TOKEN')!;
    const api = (method: string, path: string, json?: unknown) =>
      call(`${relay.url}${path}`, { method, headers: { cookie: jar.header(), 'x-xsrf-token': xsrf }, json });

    const setup = await setUpPage({ relay, fb, cc, close: async () => undefined }, { tenantId: client.tenantId });
    const oldApiKey = cc.control.account(setup.account.id)!.apiKey!;
    const newApiKey = `cc-new-key-${Math.random().toString(36).slice(2)}`;
    const signingSecret = `whsec_${Buffer.from(`signing-${Math.random()}`).toString('base64')}`;
    cc.control.updateAccount(setup.account.id, { apiKey: newApiKey, signingSecret });
    const patched = await api('PATCH', `/api/v1/integrations/${setup.integration.id}`, { apiKey: newApiKey, signingSecret });
    expect(patched.status).toBe(200);
    expect(JSON.stringify(patched.body)).not.toContain(newApiKey);
    const rotated = await api('POST', `/api/v1/integrations/${setup.integration.id}/rotate-reply-token`);
    expect(rotated.status).toBe(200);
    const newReplyToken = new URL(rotated.body.replyUrl).searchParams.get('token')!;
    cc.control.setReplyUrl(setup.account.id, rotated.body.replyUrl);

    // Inbound through Facebook's webhook, one failed try (503 from the contact center) then delivered.
    await cc.control.setFailures({ errors: { status: 503, count: 1 } });
    fb.control.events.customerMessage({ psid: setup.customer.psid, text: 'secret-free hello' });
    await cc.control.waitForNotifications(1, { accountId: setup.account.id, acceptedOnly: true, timeoutMs: 15_000 } as never);
    // A reply (page token + appsecret_proof on the Graph call), an invalid-token reply, a listing.
    const reply = await cc.control.reply({ accountId: setup.account.id, contactFrom: setup.customer.psid, body: 'agent answer' });
    expect(reply.status).toBe(200);
    expect((await call(`${relay.url}/api/reply?token=${setup.replyToken}`, { method: 'POST', json: { body: 'x' } })).status).toBe(401);
    expect((await api('GET', `/api/v1/integrations/${setup.integration.id}/messages`)).status).toBe(200);
    expect((await api('GET', `/api/v1/integrations`)).status).toBe(200);
    const rows = await relay.get(Database).repo(Message).findBy({ integrationId: setup.integration.id });
    expect(rows.some((m) => m.direction === 'in' && m.status === 'delivered')).toBe(true);
    expect(rows.some((m) => m.direction === 'out' && m.status !== 'failed')).toBe(true);
    await api('POST', '/api/v1/auth/logout');

    const secrets: Record<string, string> = {
      'page token': setup.pageToken, 'API key (old)': oldApiKey, 'API key (new)': newApiKey, 'signing secret': signingSecret,
      'signing secret (decoded)': Buffer.from(signingSecret.slice(6), 'base64').toString('utf8'), 'reply token (old)': setup.replyToken,
      'reply token (new)': newReplyToken, 'session cookie': session, 'XSRF token': xsrf, password: TEST_PASSWORD, 'Facebook app secret': APP.secret,
      'verify token': APP.verifyToken, 'encryption key': relay.config.encryption.current.key.toString('base64'),
    };
    const dump = await dumpDatabase();
    const files = sqliteFiles();
    const logText = logs.join('\n');
    process.stdout.write(`[secrets/${backend}] ${Object.keys(secrets).length} secrets looked for in a ${Math.round(dump.length / 1024)} KB database dump${files ? `, ${Math.round(files.length / 1024)} KB of SQLite files` : ''} and ${logs.length} log lines (${Math.round(logText.length / 1024)} KB)\n`);
    expect(dump).toContain('enc1:'); // the dump is real: encrypted values are there
    expect(leakedSecrets(dump, secrets)).toEqual([]);
    expect(leakedSecrets(files, secrets)).toEqual([]);
    expect(leakedSecrets(logText, secrets)).toEqual([]);
  }, 60_000);
});
