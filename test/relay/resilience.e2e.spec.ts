import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { ContactCenterSandbox, startContactCenterSandbox } from '../../sandbox/contact-center/server';
import { FacebookSandbox, startFacebookSandbox } from '../../sandbox/facebook/server';
import { backends } from '../support/backends';
import { createIntegration } from '../support/fixtures';
import { createScratchMysqlDatabase } from '../support/test-database';
import { freePort, startTestApp, TestApp } from '../support/test-app';
import { fastDelivery, messagesOf, relayEnv, settledMessages, waitFor } from './inbound-harness';
import { messaging, page, postWebhook, textEvent } from './webhook-signing';

const FAST = { retryDelaysMs: [300, 600], maxAttempts: 20, jitter: 0, sweepIntervalMs: 300, sweepGraceMs: 800, leaseMs: 1_500 };

describe.each(backends())('nothing lost on %s', (backend) => {
  let fb: FacebookSandbox;
  let cc: ContactCenterSandbox;
  beforeAll(async () => {
    fb = await startFacebookSandbox({ port: 0, seed: false });
    cc = await startContactCenterSandbox({});
  });
  afterAll(async () => {
    await cc?.close();
    await fb?.close();
  });
  afterEach(() => cc.control.clearFailures());

  /** Per conversation, the bodies in the order the contact center first accepted them. */
  function acceptedOrder(accountId: number): Map<string, string[]> {
    const seen = new Set<string>();
    const byCustomer = new Map<string, string[]>();
    for (const note of cc.control.notifications({ accountId, acceptedOnly: true })) {
      if (seen.has(note.deliveryId!)) continue;
      seen.add(note.deliveryId!);
      const body = note.body as { from: string; body: string };
      byCustomer.set(body.from, [...(byCustomer.get(body.from) ?? []), body.body]);
    }
    return byCustomer;
  }

  async function postConversations(relayUrl: string, pageId: string, customers: number, each: number): Promise<void> {
    for (let i = 0; i < each; i++) {
      const events = [];
      for (let c = 0; c < customers; c++) events.push(textEvent(pageId, `cust${c}`, `c${c} #${i}`, {}, 1_700_000_000_000 + i * 10 + c));
      const answer = await postWebhook(relayUrl, fb.appSecret, page(messaging(pageId, events)));
      expect(answer.status).toBe(200);
    }
  }

  function expectInOrder(accountId: number, customers: number, each: number): void {
    const order = acceptedOrder(accountId);
    for (let c = 0; c < customers; c++) expect(order.get(`cust${c}`)).toEqual(Array.from({ length: each }, (_, i) => `c${c} #${i}`));
  }

  (backend.redisUrl ? it : it.skip)(`redelivers through the sweeper when Redis loses its jobs mid-flight${backend.redisUrl ? '' : ' (skipped: the in-process backend has no Redis to flush)'}`, async () => {
    const redisUrl = backend.redisUrl!.replace(/\/\d*$/, '') + '/5';
    const relay = await startTestApp({ backend, env: { ...relayEnv(fb), REDIS_URL: redisUrl } });
    try {
      fastDelivery(relay).retryDelaysMs = [3_000];
      const account = cc.control.createAccount({});
      const { integration } = await createIntegration(relay, { openchannelUrl: cc.receiveUrl(account.id), pageId: `77${Date.now() % 1e9}` });
      await cc.control.setFailures({ errors: { status: 503, count: null } });
      await postConversations(relay.url, integration.pageId, 2, 3);
      await waitFor('both heads tried once', async () => (await messagesOf(relay, integration.id)).filter((m) => m.attempts > 0).length === 2);
      const redis = new IORedis(redisUrl);
      await redis.flushdb(); // the delayed retry jobs are gone
      await redis.quit();
      await cc.control.clearFailures();
      const rows = await settledMessages(relay, integration.id, 15_000);
      expect(rows.map((m) => m.status)).toEqual(Array(6).fill('delivered'));
      expectInOrder(account.id, 2, 3);
      expect(cc.control.duplicates(account.id).total).toBe(0);
    } finally {
      await relay.close();
    }
  });

  it('a relay process killed mid-flight and a new one on the same database deliver everything, in order, once per delivery id', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'relay-kill-'));
    const scratch = backend.databaseUrl ? await createScratchMysqlDatabase(backend.databaseUrl) : undefined;
    const shared = {
      ...relayEnv(fb), DATA_DIR: dataDir, DATABASE_URL: scratch?.url, REDIS_URL: backend.redisUrl,
      QUEUE_PREFIX: `k${randomBytes(4).toString('hex')}`,
    };
    let child: ChildProcess | undefined;
    let second: TestApp | undefined;
    try {
      const first = await startTestApp({ backend, env: shared });
      const account = cc.control.createAccount({});
      const { integration } = await createIntegration(first, { openchannelUrl: cc.receiveUrl(account.id), pageId: `88${Date.now() % 1e9}` });
      await first.close();

      const port = await freePort();
      child = spawn(process.execPath, [join(__dirname, 'child/relay-process.js')], {
        env: { ...process.env, ...definedOnly(shared), NODE_ENV: 'test', PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, LOG_LEVEL: 'silent', CHILD_SETTINGS: JSON.stringify(FAST) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      await readyLine(child);
      await cc.control.setFailures({ slow: { ms: 250, count: null } });
      await postConversations(`http://127.0.0.1:${port}`, integration.pageId, 3, 6);
      await waitFor('some deliveries', () => cc.control.notifications({ accountId: account.id, acceptedOnly: true }).length >= 4, 15_000);
      child.kill('SIGKILL');
      await new Promise((resolve) => child!.once('exit', resolve));
      const beforeRestart = new Set(cc.control.notifications({ accountId: account.id, acceptedOnly: true }).map((n) => n.deliveryId));
      expect(beforeRestart.size).toBeLessThan(18);
      await cc.control.clearFailures();

      second = await startTestApp({ backend, env: shared });
      Object.assign(fastDelivery(second), FAST);
      const rows = await settledMessages(second, integration.id, 20_000);
      expect(rows).toHaveLength(18);
      expect(rows.every((m) => m.status === 'delivered')).toBe(true);
      const accepted = cc.control.notifications({ accountId: account.id, acceptedOnly: true });
      expect(new Set(accepted.map((n) => n.deliveryId))).toEqual(new Set(rows.map((m) => m.id)));
      expectInOrder(account.id, 3, 6);
      // Only what was on the wire when the process died can arrive twice, with the same delivery id.
      expect(cc.control.duplicates(account.id).total).toBeLessThanOrEqual(3);
    } finally {
      if (child && child.exitCode === null) child.kill('SIGKILL');
      await second?.close();
      await scratch?.drop().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined)) as Record<string, string>;
}

function readyLine(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let errors = '';
    const timer = setTimeout(() => reject(new Error(`The relay child did not start: ${errors}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('READY')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => { errors += chunk.toString(); });
    child.once('exit', (code) => reject(new Error(`The relay child exited with ${code}: ${errors}`)));
  });
}

