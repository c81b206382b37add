import { Database } from '../../src/database/database';
import { Integration } from '../../src/integrations/integration.entity';
import { DeliverySettings } from '../../src/relay/delivery.settings';
import { Message } from '../../src/relay/message.entity';
import { backends } from '../support/backends';
import { createIntegration } from '../support/fixtures';
import { registerAndLogin } from '../support/tenant-client';
import { Harness, messagesOf, newTenant, startHarness, waitFor } from '../relay/inbound-harness';
import { messaging, page, postWebhook, textEvent } from '../relay/webhook-signing';
import { HOUR, insertMessage } from './support';

describe.each(backends())('integration health figures on %s', (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(() => h?.close());

  it('reports token and page state, failures, backlog and per-hour in/out/failed/latency after real traffic', async () => {
    const tenant = await registerAndLogin(h.relay);
    // A real page token on the Facebook sandbox, so profile lookups do not mark the token revoked.
    const { integration, pageId, accountId } = await newTenant(h, { tenantId: tenant.tenantId });
    const account = { id: accountId };

    // Three customer messages delivered...
    const t0 = Date.now();
    const delivered = page(messaging(pageId, [1, 2, 3].map((i) => textEvent(pageId, `c${i}`, `Olá ${i}`, {}, t0 + i))));
    expect((await postWebhook(h.relay.url, h.fb.appSecret, delivered)).status).toBe(200);
    await waitFor('3 delivered', async () => (await messagesOf(h.relay, integration.id)).filter((m) => m.status === 'delivered').length === 3);
    // ...two refused for good (the account's list is gone: 404)...
    h.cc.control.deleteList(account.id);
    const refused = page(messaging(pageId, [4, 5].map((i) => textEvent(pageId, `c${i}`, `Olá ${i}`, {}, t0 + i))));
    expect((await postWebhook(h.relay.url, h.fb.appSecret, refused)).status).toBe(200);
    await waitFor('2 failed', async () => (await messagesOf(h.relay, integration.id)).filter((m) => m.status === 'failed').length === 2);
    // ...and two waiting for a retry: the contact center answers 503.
    h.cc.control.restoreList(account.id);
    h.cc.control.setFailures({ errors: { status: 503 } });
    const settings = h.relay.get(DeliverySettings);
    const retryDelaysMs = settings.retryDelaysMs;
    settings.retryDelaysMs = [60_000]; // they stay queued while the figures are read
    const waiting = page(messaging(pageId, [6, 7].map((i) => textEvent(pageId, 'c6', `Olá ${i}`, {}, t0 + i))));
    expect((await postWebhook(h.relay.url, h.fb.appSecret, waiting)).status).toBe(200);
    await waitFor('a 503 attempt', async () => (await messagesOf(h.relay, integration.id)).some((m) => m.status === 'queued' && m.attempts > 0));
    // One agent reply, written as the reply feature stores it.
    await insertMessage(h.relay, integration, { direction: 'out', kind: 'text', event: 'reply', status: 'sent', createdAt: new Date() });

    const res = await tenant.request('GET', `/api/v1/integrations/${integration.id}/health`);
    expect(res.status).toBe(200);
    const health = res.body;
    expect(health).toMatchObject({
      integrationId: integration.id, tokenState: 'active', pageSubscribed: true, status: 'active', enabled: true,
      backlog: 2, failing: false, window: '24h',
    });
    expect(health.failuresLastHour).toBeGreaterThanOrEqual(3); // two 404s and at least one 503
    expect(health.buckets).toHaveLength(24);
    const last = health.buckets[23];
    expect(Date.parse(last.start)).toBe(Math.floor(Date.now() / HOUR) * HOUR);
    const totals = health.buckets.reduce((sum: any, b: any) => ({ in: sum.in + b.in, out: sum.out + b.out, failed: sum.failed + b.failed }), { in: 0, out: 0, failed: 0 });
    expect(totals).toEqual({ in: 7, out: 1, failed: 2 });
    const withLatency = health.buckets.filter((b: any) => b.latencyP50Ms !== null);
    expect(withLatency.length).toBeGreaterThanOrEqual(1);
    for (const b of withLatency) {
      expect(b.latencyP50Ms).toBeGreaterThanOrEqual(0);
      expect(b.latencyP95Ms).toBeGreaterThanOrEqual(b.latencyP50Ms);
      expect(b.latencyP95Ms).toBeLessThan(10_000);
    }

    // The dashboard list carries the badges.
    const list = await tenant.request('GET', '/api/v1/integrations');
    expect(list.body.find((i: any) => i.id === integration.id)).toMatchObject({ failing: false, failedDeliveries: 2 });
    expect((await tenant.request('GET', `/api/v1/integrations/${integration.id}`)).body).toMatchObject({ failing: false, failedDeliveries: 2 });

    h.cc.control.clearFailures();
    settings.retryDelaysMs = retryDelaysMs;
  }, 30_000);

  it('places rows in hourly and six-hour buckets, computes latency percentiles, and answers 400/404 in words', async () => {
    const tenant = await registerAndLogin(h.relay);
    const { integration } = await createIntegration(h.relay, { tenantId: tenant.tenantId, openchannelUrl: 'http://127.0.0.1:9/none' });
    const now = Date.now();
    const hourStart = Math.floor(now / HOUR) * HOUR;
    const threeHoursAgo = new Date(hourStart - 3 * HOUR + 60_000);
    // Ten delivered messages three hours ago with latencies 100..1000 ms, one failed, two outbound.
    for (let i = 1; i <= 10; i++) {
      await insertMessage(h.relay, integration, { createdAt: threeHoursAgo, deliveredAt: new Date(threeHoursAgo.getTime() + i * 100) });
    }
    await insertMessage(h.relay, integration, { createdAt: threeHoursAgo, status: 'failed', attempts: 1, lastError: 'The contact center answered 404' });
    await insertMessage(h.relay, integration, { createdAt: threeHoursAgo, status: 'skipped', kind: 'echo' });
    await insertMessage(h.relay, integration, { createdAt: threeHoursAgo, direction: 'out', status: 'delivered' });
    await insertMessage(h.relay, integration, { createdAt: threeHoursAgo, direction: 'out', status: 'failed' });
    // Two days ago (only in the 7-day window) and ten days ago (in neither).
    await insertMessage(h.relay, integration, { createdAt: new Date(now - 2 * 24 * HOUR), deliveredAt: new Date(now - 2 * 24 * HOUR + 50) });
    await insertMessage(h.relay, integration, { createdAt: new Date(now - 10 * 24 * HOUR), deliveredAt: new Date(now - 10 * 24 * HOUR + 50) });

    const day = (await tenant.request('GET', `/api/v1/integrations/${integration.id}/health?window=24h`)).body;
    const bucket = day.buckets.find((b: any) => Date.parse(b.start) === hourStart - 3 * HOUR);
    expect(bucket).toEqual({ start: new Date(hourStart - 3 * HOUR).toISOString(), in: 11, out: 2, failed: 2, latencyP50Ms: 500, latencyP95Ms: 1000 });
    expect(day.buckets.reduce((n: number, b: any) => n + b.in, 0)).toBe(11);

    const week = (await tenant.request('GET', `/api/v1/integrations/${integration.id}/health?window=7d`)).body;
    expect(week.window).toBe('7d');
    expect(week.buckets).toHaveLength(28);
    const sixHours = 6 * HOUR;
    expect(Date.parse(week.buckets[27].start)).toBe(Math.floor(now / sixHours) * sixHours);
    expect(Date.parse(week.buckets[1].start) - Date.parse(week.buckets[0].start)).toBe(sixHours);
    expect(week.buckets.reduce((n: number, b: any) => n + b.in, 0)).toBe(12);
    const twoDaysAgo = week.buckets.find((b: any) => b.in === 1);
    expect(twoDaysAgo.latencyP50Ms).toBe(50);

    const wrong = await tenant.request('GET', `/api/v1/integrations/${integration.id}/health?window=1d`);
    expect(wrong.status).toBe(400);
    expect(JSON.stringify(wrong.body)).toContain('window must be 24h or 7d');
    const other = await registerAndLogin(h.relay);
    expect((await other.request('GET', `/api/v1/integrations/${integration.id}/health`)).status).toBe(404);
    expect((await tenant.request('GET', '/api/v1/integrations/nope/health')).status).toBe(404);
  });

  it('shows a revoked token, an unsubscribed page and a disabled integration\'s held backlog', async () => {
    const tenant = await registerAndLogin(h.relay);
    const { integration } = await createIntegration(h.relay, { tenantId: tenant.tenantId, openchannelUrl: 'http://127.0.0.1:9/none', enabled: false });
    await insertMessage(h.relay, integration, { createdAt: new Date(), status: 'held', attempts: 0 });
    const db = h.relay.get(Database);
    await db.repo(Integration).update({ id: integration.id }, { status: 'reauth_required', pageSubscribed: false });
    const health = (await tenant.request('GET', `/api/v1/integrations/${integration.id}/health`)).body;
    expect(health).toMatchObject({ tokenState: 'reauth_required', pageSubscribed: false, status: 'reauth_required', enabled: false, backlog: 1, failuresLastHour: 0 });
    expect(await db.repo(Message).count({ where: { integrationId: integration.id } })).toBe(1);
  });
});
