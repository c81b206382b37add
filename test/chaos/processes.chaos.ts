import { rmSync } from 'node:fs';
import type { ContactCenterSandbox } from '../../sandbox/contact-center/server';
import type { FacebookSandbox } from '../../sandbox/facebook/server';
import { createIntegration } from '../support/fixtures';
import { startTestApp } from '../support/test-app';
import { expectClean, postTraffic, settle, sleep } from '../reliability/traffic';
import { createDatabase, OwnServer, startOwnMariaDb, startOwnRedis } from './servers';
import { RelayProcess, sandboxes, sharedEnv, spawnRelay } from './world';

/**
 * Real relay processes on the suite's own MariaDB and Redis: one SIGKILLed under load and started
 * again; two API and two worker processes sharing the database and Redis.
 */
describe('relay processes under load', () => {
  let mariadb: OwnServer;
  let redis: OwnServer;
  let fb: FacebookSandbox;
  let cc: ContactCenterSandbox;
  let closeSandboxes: () => Promise<void>;
  const children: RelayProcess[] = [];
  const dataDirs: string[] = [];

  beforeAll(async () => {
    [mariadb, redis] = await Promise.all([startOwnMariaDb(), startOwnRedis()]);
    ({ fb, cc, close: closeSandboxes } = await sandboxes());
  }, 120_000);
  afterEach(async () => {
    await Promise.all(children.splice(0).map((child) => child.kill('SIGKILL')));
    cc.control.clearFailures();
  });
  afterAll(async () => {
    await closeSandboxes?.();
    await mariadb?.destroy();
    await redis?.destroy();
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  });

  /** Migrates the new database and binds a page to a fresh contact-center account (in this process, then closed). */
  async function prepare(name: string) {
    const env = sharedEnv(fb, await createDatabase(mariadb, `relay_${name}_${Date.now() % 1e6}`), redis.url);
    dataDirs.push(env.DATA_DIR);
    const setup = await startTestApp({ env });
    const account = cc.control.createAccount({});
    const pageId = String(700000000 + Math.floor(Math.random() * 2e8));
    await createIntegration(setup, { openchannelUrl: cc.receiveUrl(account.id), pageId });
    await setup.close();
    return { env, accountId: account.id, pageId };
  }

  async function spawn(env: Record<string, string>): Promise<RelayProcess> {
    const child = await spawnRelay(env);
    children.push(child);
    return child;
  }


  it('a relay SIGKILLed mid-load and started again: nothing lost, order kept, copies only of what was on the wire', async () => {
    const { env, accountId, pageId } = await prepare('kill');
    let relay = await spawn(env);
    const run = `kill${Date.now() % 1e6}`;
    const [customers, rounds] = [6, 20];
    await cc.control.setFailures({ latencyMs: 80 });
    let current = relay.url;
    const traffic = postTraffic(() => current, fb.appSecret, pageId, run, customers, rounds, { pauseMs: 100, retryUntilAccepted: true });
    await sleep(1_500);
    await relay.kill('SIGKILL');
    const killedAt = Date.now();
    relay = await spawn(env);
    current = relay.url;
    const upAt = Date.now();
    const { refused } = await traffic;
    const figures = await settle(cc, accountId, run, customers, rounds, 'relay process SIGKILLed mid-load, then restarted', 150_000);
    figures.recoverMs = Date.now() - upAt;
    figures.note = `restart took ${((upAt - killedAt) / 1000).toFixed(1)} s; ${refused} webhook POSTs got no answer and were re-sent`;
    // Conversations whose job was active in the dead process resume after BullMQ's stalled-job check
    // (30 s lock + 30 s check interval); the sweeper cannot re-add a job id BullMQ still holds.
    expectClean(figures, customers);
  }, 240_000);

  it('two API and two worker processes on one database and Redis: no duplicate, no loss, order per conversation', async () => {
    const { env, accountId, pageId } = await prepare('multi');
    const [api1, api2, worker1, worker2] = await Promise.all([
      spawn({ ...env, ROLE: 'api' }), spawn({ ...env, ROLE: 'api' }), spawn({ ...env, ROLE: 'worker' }), spawn({ ...env, ROLE: 'worker' }),
    ]);
    expect((await fetch(`${worker1.url}/webhooks/facebook`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${worker2.url}/health/live`)).status).toBe(200);
    await cc.control.setFailures({ latencyMs: 20, errors: { status: 503, count: 30 } });
    const run = `multi${Date.now() % 1e6}`;
    const [customers, rounds] = [10, 20];
    let turn = 0;
    const started = Date.now();
    await postTraffic(() => (turn++ % 2 ? api2.url : api1.url), fb.appSecret, pageId, run, customers, rounds, { pauseMs: 30, retryUntilAccepted: true });
    const figures = await settle(cc, accountId, run, customers, rounds, '2 API + 2 worker processes, webhooks alternating between the APIs, 30 × 503', 90_000);
    figures.recoverMs = Date.now() - started;
    figures.note = 'recovered = from first POST to last delivery';
    expectClean(figures, 0);
  }, 180_000);
});
