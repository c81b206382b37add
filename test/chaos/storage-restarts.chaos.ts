import IORedis from 'ioredis';
import type { ContactCenterSandbox } from '../../sandbox/contact-center/server';
import type { FacebookSandbox } from '../../sandbox/facebook/server';
import { DeliverySettings } from '../../src/relay/delivery.settings';
import { TestApp } from '../support/test-app';
import { expectClean, postTraffic, settle, sleep } from '../reliability/traffic';
import { OwnServer, startOwnMariaDb, startOwnRedis } from './servers';
import { inProcessRelay, integrationFor, sandboxes } from './world';

/**
 * MariaDB restarted and Redis restarted or flushed while traffic flows, on the suite's own servers.
 * While the database is down the relay answers Facebook with an error (Facebook retries, as the
 * traffic script does); once it is back the relay recovers by itself: nothing lost, nothing doubled
 * beyond what was on the wire, order kept per conversation.
 */
describe('storage restarts under load', () => {
  let mariadb: OwnServer;
  let redis: OwnServer;
  let fb: FacebookSandbox;
  let cc: ContactCenterSandbox;
  let closeSandboxes: () => Promise<void>;
  let relay: TestApp | undefined;

  beforeAll(async () => {
    [mariadb, redis] = await Promise.all([startOwnMariaDb(), startOwnRedis()]);
    ({ fb, cc, close: closeSandboxes } = await sandboxes());
  }, 120_000);
  afterEach(async () => {
    cc?.control.setFailures({ latencyMs: 0 });
    await relay?.close().catch(() => undefined);
    relay = undefined;
  });
  afterAll(async () => {
    await closeSandboxes?.();
    await mariadb?.destroy();
    await redis?.destroy();
  });


  it('MariaDB killed and restarted mid-load: webhooks refused while it is down, then everything delivered by itself', async () => {
    relay = await inProcessRelay(fb, mariadb.url, redis.url);
    // Production's lease and sweeper: the deliveries cut off by the kill give their leases back, at once or as soon as the
    // database answers again, and go on by themselves, rather than holding their conversations for 5 minutes or waiting
    // for a sweep.
    Object.assign(relay.get(DeliverySettings), { leaseMs: 5 * 60_000, sweepIntervalMs: 30_000, sweepGraceMs: 60_000 });
    // A contact center that takes 300 ms per notify, so the kill cuts deliveries off between their notify and record.
    cc.control.setFailures({ latencyMs: 300 });
    const { accountId, pageId } = await integrationFor(relay, cc);
    const run = `mdb${Date.now() % 1e6}`;
    const [customers, rounds] = [5, 24];
    const traffic = postTraffic(relay.url, fb.appSecret, pageId, run, customers, rounds, { pauseMs: 120, retryUntilAccepted: true });
    await sleep(1_000);
    await mariadb.stop('SIGKILL');
    const downAt = Date.now();
    await sleep(4_000);
    await mariadb.start();
    const upAt = Date.now();
    const { refused } = await traffic;
    const figures = await settle(cc, accountId, run, customers, rounds, 'MariaDB SIGKILLed for 4 s mid-load', 60_000);
    figures.recoverMs = Date.now() - upAt;
    figures.note = `database down ${((upAt - downAt) / 1000).toFixed(1)} s (restart included); ${refused} webhook POSTs answered with an error and re-sent`;
    expectClean(figures, customers);
    expect(refused).toBeGreaterThan(0);
    expect((await fetch(`${relay.url}/health/ready`)).status).toBe(200);
  }, 150_000);

  it('Redis killed and restarted empty mid-load: the sweeper re-enqueues, everything delivered', async () => {
    relay = await inProcessRelay(fb, mariadb.url, redis.url);
    const { accountId, pageId } = await integrationFor(relay, cc);
    const run = `rds${Date.now() % 1e6}`;
    const [customers, rounds] = [5, 24];
    // Some 503s so retries sit in Redis as delayed jobs when it dies.
    await cc.control.setFailures({ errors: { status: 503, count: 20 } });
    const traffic = postTraffic(relay.url, fb.appSecret, pageId, run, customers, rounds, { pauseMs: 120, retryUntilAccepted: true });
    await sleep(1_000);
    await redis.stop('SIGKILL');
    const downAt = Date.now();
    await sleep(3_000);
    await redis.start();
    const upAt = Date.now();
    const { refused } = await traffic;
    const figures = await settle(cc, accountId, run, customers, rounds, 'Redis SIGKILLed for 3 s and restarted empty mid-load', 60_000);
    figures.recoverMs = Date.now() - upAt;
    figures.note = `Redis down ${((upAt - downAt) / 1000).toFixed(1)} s; ${refused} webhook POSTs answered with an error and re-sent`;
    cc.control.clearFailures();
    expectClean(figures, customers);
  }, 150_000);

  it('Redis flushed (FLUSHALL) mid-load: everything delivered', async () => {
    relay = await inProcessRelay(fb, mariadb.url, redis.url);
    const { accountId, pageId } = await integrationFor(relay, cc);
    const run = `fl${Date.now() % 1e6}`;
    const [customers, rounds] = [5, 20];
    await cc.control.setFailures({ errors: { status: 503, count: 25 } });
    const traffic = postTraffic(relay.url, fb.appSecret, pageId, run, customers, rounds, { pauseMs: 100, retryUntilAccepted: true });
    let flushes = 0;
    const client = new IORedis(redis.url);
    for (let i = 0; i < 3; i++) {
      await sleep(600);
      await client.flushall();
      flushes++;
    }
    await client.quit();
    const flushedAt = Date.now();
    await traffic;
    const figures = await settle(cc, accountId, run, customers, rounds, `Redis FLUSHALL ×${flushes} mid-load`, 60_000);
    figures.recoverMs = Date.now() - flushedAt;
    cc.control.clearFailures();
    expectClean(figures, 0);
  }, 120_000);
});
