import { randomBytes } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { ContactCenterSandbox, startContactCenterSandbox } from '../../sandbox/contact-center/server';
import { OutboundHttp, OutboundHttpError } from '../../src/common/http/outbound-http';
import { loadConfig } from '../../src/config/app-config';
import { Database } from '../../src/database/database';
import { Message } from '../../src/relay/message.entity';
import { messaging, page, postWebhook, textEvent } from '../relay/webhook-signing';
import { backends } from '../support/backends';
import { createIntegration } from '../support/fixtures';
import { registerAndLogin } from '../support/tenant-client';
import { TestApp } from '../support/test-app';
import { startLoggedRelay } from './support';

/**
 * There is no public address on a test machine, so 127.0.0.2 plays "the internet" here: the guard
 * treats it as public and everything else as it really is. Every refusal below is of a real
 * private/loopback/link-local target, and the allowed 127.0.0.2 shows the guard lets public ones through.
 */
const PUBLIC_STAND_IN = '127.0.0.2';
jest.mock('../../src/common/http/private-addresses', () => {
  const actual = jest.requireActual('../../src/common/http/private-addresses');
  return { ...actual, isPrivateAddress: (address: string) => (address === '127.0.0.2' || address === '::ffff:127.0.0.2' ? false : actual.isPrivateAddress(address)) };
});

const PRODUCTION_ENV = {
  NODE_ENV: 'production',
  ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  FACEBOOK_APP_ID: '1000000000000777',
  FACEBOOK_APP_SECRET: `secret-${randomBytes(8).toString('hex')}`,
  FACEBOOK_VERIFY_TOKEN: 'verify-ssrf',
};

describe.each(backends())('SSRF guard in production mode on %s', (backend) => {
  let relay: TestApp;
  let cc: ContactCenterSandbox;
  let publicServer: Server;
  let publicUrl: string;
  let redirectTo = '';

  beforeAll(async () => {
    cc = await startContactCenterSandbox({});
    publicServer = createServer((req, res) => {
      if (req.url?.startsWith('/redirect')) {
        res.writeHead(302, { location: redirectTo }).end();
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"public":true}');
      }
    });
    await new Promise<void>((resolve) => publicServer.listen(0, PUBLIC_STAND_IN, resolve));
    publicUrl = `http://${PUBLIC_STAND_IN}:${(publicServer.address() as { port: number }).port}`;
    ({ relay } = await startLoggedRelay(backend, { env: PRODUCTION_ENV }));
  });
  afterAll(async () => {
    await relay?.close();
    await cc?.close();
    await new Promise((resolve) => publicServer?.close(resolve));
  });

  it('production refuses private targets unless explicitly allowed', () => {
    expect(relay.config.isProduction).toBe(true);
    expect(relay.config.allowPrivateTargets).toBe(false);
    const base = { ...PRODUCTION_ENV, PUBLIC_URL: 'https://relay.example.com' };
    expect(loadConfig(base as NodeJS.ProcessEnv).allowPrivateTargets).toBe(false);
    expect(loadConfig({ ...base, ALLOW_PRIVATE_TARGETS: 'true' } as NodeJS.ProcessEnv).allowPrivateTargets).toBe(true);
  });

  async function outcome(url: string): Promise<string> {
    try {
      const res = await relay.get(OutboundHttp).send(url, { timeoutMs: 3_000, maxRedirects: 5, trust: 'tenant' });
      return `reached (${res.status})`;
    } catch (error) {
      return error instanceof OutboundHttpError ? error.kind : `error ${(error as Error).message}`;
    }
  }

  it('refuses loopback, private, link-local and metadata addresses, literally, by DNS name and through redirects', async () => {
    const ccPort = new URL(cc.url).port;
    const machineName = hostname();
    const machineAddress = (await lookup(machineName).catch(() => ({ address: '' }))).address;
    const targets: string[] = [
      `http://127.0.0.1:${ccPort}/`, `http://127.1:${ccPort}/`, `http://2130706433:${ccPort}/`, `http://0x7f000001:${ccPort}/`,
      `http://0.0.0.0:${ccPort}/`, `http://[::1]:${ccPort}/`, `http://[::ffff:127.0.0.1]:${ccPort}/`, `http://localhost:${ccPort}/`,
      `http://sub.localhost:${ccPort}/`, `http://localhost.:${ccPort}/`,
      'http://10.0.0.1/', 'http://172.16.5.4/', 'http://192.168.1.1/', 'http://100.64.0.1/', 'http://192.0.2.2/',
      'http://169.254.169.254/latest/meta-data/', 'http://[fe80::1]/', 'http://[fd00::1]/', 'http://[fd00:ec2::254]/',
    ];
    // A DNS name (here the machine's own name, from /etc/hosts) that resolves to a private address.
    if (machineAddress && machineAddress !== PUBLIC_STAND_IN) targets.push(`http://${machineName}:${ccPort}/`);
    const redirects = [`http://127.0.0.1:${ccPort}/`, `http://localhost:${ccPort}/`, 'http://169.254.169.254/latest/meta-data/', 'http://[::1]/', 'http://10.1.2.3/'];
    if (machineAddress && machineAddress !== PUBLIC_STAND_IN) redirects.push(`http://${machineName}:${ccPort}/`);

    const lines: string[] = [];
    for (const url of targets) lines.push(`${url} → ${await outcome(url)}`);
    for (const target of redirects) {
      redirectTo = target;
      lines.push(`${publicUrl}/redirect → ${target} → ${await outcome(`${publicUrl}/redirect`)}`);
    }
    const notBlocked = lines.filter((line) => !line.endsWith('→ blocked'));
    process.stdout.write(`[ssrf/${backend}] ${lines.length - notBlocked.length}/${lines.length} private targets refused (${targets.length} direct incl. DNS name "${machineName}" → ${machineAddress}, ${redirects.length} via redirect)\n`);
    expect(notBlocked).toEqual([]);
    // The stand-in for a public address is reached: the refusals above are the guard, not a broken client.
    expect(await outcome(`${publicUrl}/ok`)).toBe('reached (200)');
    expect(cc.control.notifications({}).length).toBe(0);
  });

  it('a stored Openchannel URL pointing inside is never called: the message fails with a reason, nothing reaches it', async () => {
    const account = cc.control.createAccount({});
    const pageId = String(400000000 + Math.floor(Math.random() * 1e8));
    const { integration } = await createIntegration(relay, { pageId, openchannelUrl: cc.receiveUrl(account.id) });
    const posted = await postWebhook(relay.url, PRODUCTION_ENV.FACEBOOK_APP_SECRET, page(messaging(pageId, [textEvent(pageId, 'cust-ssrf', 'hello')])));
    expect(posted.status).toBe(200);
    const deadline = Date.now() + 10_000;
    let row: Message | null = null;
    while (Date.now() < deadline) {
      row = await relay.get(Database).repo(Message).findOneBy({ integrationId: integration.id });
      if (row && row.status !== 'queued') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(row?.status).toBe('failed');
    expect(row?.lastError).toMatch(/private or local address/);
    expect(cc.control.notifications({ accountId: account.id }).length).toBe(0);
  });

  it('the management API refuses to store internal Openchannel URLs', async () => {
    const client = await registerAndLogin(relay);
    const { integration } = await createIntegration(relay, { tenantId: client.tenantId, openchannelUrl: `${publicUrl}/notify` });
    const ccPort = new URL(cc.url).port;
    const refused: string[] = [];
    for (const url of [`http://127.0.0.1:${ccPort}/api/openchannel/accounts/1/notify`, 'http://169.254.169.254/latest/meta-data/', `http://localhost:${ccPort}/x`, 'http://[::1]/x', 'http://10.0.0.5/x']) {
      const res = await client.request('PATCH', `/api/v1/integrations/${integration.id}`, { openchannelUrl: url });
      if (res.status === 400 || res.status === 422) refused.push(url);
      else throw new Error(`PATCH openchannelUrl=${url} answered ${res.status}: ${JSON.stringify(res.body)}`);
    }
    expect(refused).toHaveLength(5);
  });
});
