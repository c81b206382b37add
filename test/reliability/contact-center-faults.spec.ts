import { ContactCenterSandbox, startContactCenterSandbox } from '../../sandbox/contact-center/server';
import { FacebookSandbox, startFacebookSandbox } from '../../sandbox/facebook/server';
import { DeliverySettings } from '../../src/relay/delivery.settings';
import { relayEnv, VERIFY_TOKEN } from '../relay/inbound-harness';
import { metaJson, hubSignature, messaging, page, textEvent } from '../relay/webhook-signing';
import { backends } from '../support/backends';
import { createIntegration } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';
import { count, customerName, expectClean as expectAllDelivered, FAST_DELIVERY, Figures, integrationFor, postTraffic, settle, sleep } from './traffic';

/**
 * Short faults, on both backends (npm test): the contact center answering 500s and 429s, too slow
 * (timeouts), down for a moment; Facebook re-sending webhooks and sending them out of order. Each
 * scenario sends scripted traffic and counts what the contact-center sandbox accepted.
 */

describe.each(backends())('contact-center and Facebook faults on %s', (backend) => {
  let fb: FacebookSandbox;
  let cc: ContactCenterSandbox;
  let relay: TestApp;
  const all: Figures[] = [];

  beforeAll(async () => {
    fb = await startFacebookSandbox({ port: 0, seed: false, webhook: { retryDelaysMs: [100, 200, 400], flushDelayMs: 20 } as never });
    cc = await startContactCenterSandbox({});
    relay = await startTestApp({ backend, env: relayEnv(fb) });
    Object.assign(relay.get(DeliverySettings), FAST_DELIVERY);
  });
  afterEach(() => cc.control.clearFailures());
  afterAll(async () => {
    process.stdout.write(`[reliability/${backend}] ${all.length} scenarios\n`);
    await relay?.close();
    await cc?.close();
    await fb?.close();
  });

  async function world(run: string) {
    const { accountId, pageId } = await integrationFor(relay, cc);
    return { account: { id: accountId }, pageId, run: `${run}${Math.random().toString(36).slice(2, 6)}` };
  }

  function expectClean(figures: Figures, maxDuplicates = 0): void {
    all.push(figures);
    expectAllDelivered(figures, maxDuplicates);
  }

  it('contact center answering 500s: everything delivered once, in order', async () => {
    const { account, pageId, run } = await world('e500');
    await cc.control.setFailures({ errors: { status: 500, count: 15, message: 'database is down' } });
    const started = Date.now();
    await postTraffic(relay.url, fb.appSecret, pageId, run, 4, 6);
    const figures = await settle(cc, account.id, run, 4, 6, `contact center 500 ×15 (${backend})`, 20_000);
    figures.recoverMs = Date.now() - started;
    expectClean(figures);
  });

  it('contact center answering 429 with Retry-After: everything delivered once, in order', async () => {
    const { account, pageId, run } = await world('e429');
    await cc.control.setFailures({ rateLimit: { retryAfter: 1, count: 6 } });
    const started = Date.now();
    await postTraffic(relay.url, fb.appSecret, pageId, run, 3, 5);
    const figures = await settle(cc, account.id, run, 3, 5, `contact center 429 ×6, Retry-After 1 s (${backend})`, 20_000);
    figures.recoverMs = Date.now() - started;
    expectClean(figures);
    // Every retry of a message that got a 429 came no earlier than its Retry-After (1 s; 50 ms for timer slack).
    const byDelivery = new Map<string, Array<{ at: number; status: number }>>();
    for (const n of cc.control.notifications({ accountId: account.id })) {
      if (!n.deliveryId) continue;
      byDelivery.set(n.deliveryId, [...(byDelivery.get(n.deliveryId) ?? []), { at: n.receivedAt, status: n.status }]);
    }
    const gaps: number[] = [];
    for (const tries of byDelivery.values()) {
      for (let i = 1; i < tries.length; i++) if (tries[i - 1].status === 429) gaps.push(tries[i].at - tries[i - 1].at);
    }
    expect(gaps.length).toBeGreaterThan(0);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(950);
  });

  it('contact center too slow (timeouts): everything delivered, re-sent copies carry the same delivery id', async () => {
    const { account, pageId, run } = await world('slow');
    relay.get(DeliverySettings).notifyTimeoutMs = 300;
    await cc.control.setFailures({ slow: { ms: 700, count: 5 } });
    try {
      await postTraffic(relay.url, fb.appSecret, pageId, run, 3, 4);
      const figures = await settle(cc, account.id, run, 3, 4, `contact center slower than the 300 ms timeout ×5 (${backend})`, 20_000);
      figures.note = 'a timed-out notify the contact center still processed comes again with the same delivery id';
      expectClean(figures, 5);
    } finally {
      relay.get(DeliverySettings).notifyTimeoutMs = FAST_DELIVERY.notifyTimeoutMs;
    }
  });

  it('contact center down (connection refused) during traffic, then back: nothing lost, in order', async () => {
    const { account, pageId, run } = await world('down');
    await cc.control.down({ mode: 'refuse' });
    const downAt = Date.now();
    await postTraffic(relay.url, fb.appSecret, pageId, run, 4, 5, { pauseMs: 100 });
    await sleep(Math.max(0, 2_000 - (Date.now() - downAt)));
    expect(count(cc, account.id, run, 4, 5, '').received).toBe(0);
    await cc.control.up();
    const upAt = Date.now();
    const figures = await settle(cc, account.id, run, 4, 5, `contact center down ${((upAt - downAt) / 1000).toFixed(1)} s (${backend})`, 20_000);
    figures.recoverMs = Date.now() - upAt;
    expectClean(figures);
  });

  it('Facebook sending the same webhook again (sequentially and concurrently): stored and delivered once', async () => {
    const { account, pageId, run } = await world('dup');
    const events = [0, 1, 2].map((i) => ({ ...textEvent(pageId, customerName(run, 0), `${customerName(run, 0)} #${i}`, {}, 1_700_000_000_000 + i), message: { mid: `mid.${run}.${i}`, text: `${customerName(run, 0)} #${i}` } }));
    const raw = metaJson(page(messaging(pageId, events)));
    const post = () => fetch(`${relay.url}/webhooks/facebook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': hubSignature(raw, fb.appSecret) }, body: raw }).then((r) => r.status);
    const statuses = [...(await Promise.all([post(), post(), post(), post()])), await post(), await post()];
    expect(statuses).toEqual(Array(6).fill(200));
    // The same events re-batched differently (Facebook does that too).
    for (const event of events) {
      const single = metaJson(page(messaging(pageId, [event])));
      await fetch(`${relay.url}/webhooks/facebook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': hubSignature(single, fb.appSecret) }, body: single });
    }
    const figures = await settle(cc, account.id, run, 1, 3, `same webhook posted 6× (4 at once) + re-batched (${backend})`, 10_000);
    await sleep(500);
    expectClean(count(cc, account.id, run, 1, 3, figures.scenario));
  });

  it('Facebook re-sending every webhook and sending them out of order: each message once, in Facebook order', async () => {
    const account = cc.control.createAccount({});
    const created = fb.control.createPage({ name: `Dup page ${Math.random().toString(36).slice(2, 6)}` });
    fb.control.subscribePage(created.id);
    await createIntegration(relay, { openchannelUrl: cc.receiveUrl(account.id), pageId: created.id });
    await fb.control.configureWebhook({ callbackUrl: `${relay.url}/webhooks/facebook`, verifyToken: VERIFY_TOKEN });
    fb.control.setWebhookOptions({ duplicates: true, outOfOrder: true, flushDelayMs: 300 } as never);
    const customers = [0, 1, 2].map((i) => (fb.control.createCustomer({ pageId: created.id, firstName: `C${i}` }) as { psid: string }).psid);
    // The contact center is paused while the burst arrives, so order can only come from Facebook's timestamps.
    await cc.control.down({ mode: 'refuse' });
    const rounds = 5;
    for (let i = 0; i < rounds; i++) {
      for (const psid of customers) {
        fb.control.events.customerMessage({ psid, text: `${psid} #${i}` });
        await sleep(3); // distinct Facebook timestamps
      }
    }
    await fb.control.waitForWebhooks({ timeoutMs: 10_000 } as never);
    await sleep(400);
    const resent = fb.control.deliveries({}).filter((d: { duplicateOf?: number }) => d.duplicateOf !== undefined).length;
    await cc.control.up();
    const started = Date.now();
    const deadline = Date.now() + 15_000;
    let accepted: Array<{ deliveryId: string | null; body: unknown }> = [];
    while (Date.now() < deadline) {
      accepted = cc.control.notifications({ accountId: account.id, acceptedOnly: true });
      if (new Set(accepted.map((n) => n.deliveryId)).size >= customers.length * rounds) break;
      await sleep(100);
    }
    await sleep(300);
    fb.control.setWebhookOptions({ duplicates: false, outOfOrder: false, flushDelayMs: 20 } as never);
    // Count per customer: psid is the conversation, "#n" the Facebook order.
    const ids = new Map<string, number>();
    const last = new Map<string, number>();
    let outOfOrder = 0;
    const texts = new Set<string>();
    for (const note of cc.control.notifications({ accountId: account.id, acceptedOnly: true })) {
      ids.set(note.deliveryId!, (ids.get(note.deliveryId!) ?? 0) + 1);
      if (ids.get(note.deliveryId!)! > 1) continue;
      const body = note.body as { from: string; body: string };
      texts.add(body.body);
      const n = Number(/#(\d+)$/.exec(body.body)?.[1]);
      if (n < (last.get(body.from) ?? -1)) outOfOrder++;
      last.set(body.from, Math.max(n, last.get(body.from) ?? -1));
    }
    const figures: Figures = {
      scenario: `Facebook duplicates every webhook (${resent} re-sent) + reversed order (${backend})`, sent: customers.length * rounds, received: ids.size,
      duplicates: [...ids.values()].reduce((s, k) => s + k - 1, 0), outOfOrder, lost: customers.length * rounds - texts.size,
      attempts: cc.control.notifications({ accountId: account.id }).length, recoverMs: Date.now() - started,
    };
    expect(resent).toBeGreaterThan(0);
    expectClean(figures);
  }, 40_000);
});
