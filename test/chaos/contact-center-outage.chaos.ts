import type { ContactCenterSandbox } from '../../sandbox/contact-center/server';
import type { FacebookSandbox } from '../../sandbox/facebook/server';
import { DeliverySettings } from '../../src/relay/delivery.settings';
import { TestApp } from '../support/test-app';
import { postTraffic, report, settle, sleep } from '../reliability/traffic';
import { OwnServer, startOwnMariaDb, startOwnRedis } from './servers';
import { inProcessRelay, integrationFor, sandboxes } from './world';

/**
 * A long, mixed contact-center outage under continuous traffic (MariaDB + BullMQ): down (connection
 * refused) for 20 s, then 500s for 8 s, then 429s with Retry-After, then answers slower than the
 * notify timeout. Backoff is production's shape, scaled down (0.5 s … 4 s instead of 5 s … 1 h).
 */
describe('long contact-center outage', () => {
  let mariadb: OwnServer;
  let redis: OwnServer;
  let fb: FacebookSandbox;
  let cc: ContactCenterSandbox;
  let closeSandboxes: () => Promise<void>;
  let relay: TestApp;

  beforeAll(async () => {
    [mariadb, redis] = await Promise.all([startOwnMariaDb(), startOwnRedis()]);
    ({ fb, cc, close: closeSandboxes } = await sandboxes());
    relay = await inProcessRelay(fb, mariadb.url, redis.url);
    Object.assign(relay.get(DeliverySettings), { retryDelaysMs: [500, 1_000, 2_000, 4_000], maxAttempts: 30, notifyTimeoutMs: 1_000 });
  }, 120_000);
  afterAll(async () => {
    await relay?.close();
    await closeSandboxes?.();
    await mariadb?.destroy();
    await redis?.destroy();
  });

  it('down 20 s, then 500s, 429s and timeouts: every message delivered, in order, copies only after timeouts', async () => {
    const { accountId, pageId } = await integrationFor(relay, cc);
    const run = `out${Date.now() % 1e6}`;
    const [customers, rounds] = [8, 40];
    const traffic = postTraffic(relay.url, fb.appSecret, pageId, run, customers, rounds, { pauseMs: 800 });
    const phases: string[] = [];
    const phase = async (label: string, ms: number, apply: () => Promise<unknown> | unknown) => {
      await apply();
      phases.push(label);
      await sleep(ms);
    };
    await phase('down 20 s', 20_000, () => cc.control.down({ mode: 'refuse' }));
    await cc.control.up();
    await phase('500 for 8 s', 8_000, () => cc.control.setFailures({ errors: { status: 500, message: 'maintenance' } }));
    await phase('429 Retry-After 2 s ×20', 4_000, () => { cc.control.clearFailures(); return cc.control.setFailures({ rateLimit: { retryAfter: 2, count: 20 } }); });
    await phase('slower than the 1 s timeout ×8', 3_000, () => { cc.control.clearFailures(); return cc.control.setFailures({ slow: { ms: 1_500, count: 8 } }); });
    const faultsEndedAt = Date.now();
    await traffic;
    const figures = await settle(cc, accountId, run, customers, rounds, `contact center ${phases.join(', then ')}`, 60_000);
    figures.recoverMs = Date.now() - faultsEndedAt;
    figures.note = 'recovered = from the end of the faults to the last delivery, traffic still flowing meanwhile';
    cc.control.clearFailures();
    report(figures);
    expect(figures.lost).toBe(0);
    expect(figures.received).toBe(figures.sent);
    expect(figures.outOfOrder).toBe(0);
    expect(figures.duplicates).toBeLessThanOrEqual(8);
  }, 180_000);
});
