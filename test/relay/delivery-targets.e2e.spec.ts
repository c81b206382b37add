import { SecretBox } from '../../src/common/crypto/secret-box';
import { Database } from '../../src/database/database';
import { Integration } from '../../src/integrations/integration.entity';
import { DeliveryAttempt } from '../../src/relay/delivery-attempt.entity';
import { backends } from '../support/backends';
import { Harness, messagesOf, newTenant, postAndStore, settledMessages, startHarness } from './inbound-harness';
import { messaging, page, textEvent } from './webhook-signing';

/**
 * Delivery keeps decrypted targets a while per process and reads its rows with its own SQL: an integration
 * edited or switched off in the database (by another API process, so no in-process invalidation) must be
 * seen by the next delivery, and the rows it writes must read back the same through the entities.
 */
describe.each(backends())('delivery targets and rows on %s', (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(() => h?.close());

  const post = (payload: unknown) => postAndStore(h.relay, h.fb.appSecret, payload);
  const waitNotified = (accountId: number, count: number) => h.cc.control.waitForNotifications(count, { accountId, acceptedOnly: true, timeoutMs: 10_000 });

  it('sends to the new Openchannel URL and key as soon as the integration row changes', async () => {
    const t = await newTenant(h);
    await post(page(messaging(t.pageId, [textEvent(t.pageId, '501', 'to the first account', {}, 1_700_000_200_000)])));
    await waitNotified(t.accountId, 1);
    await settledMessages(h.relay, t.integration.id);

    const moved = h.cc.control.createAccount({ apiKey: `key-moved-${t.pageId}` });
    const box = h.relay.get(SecretBox);
    await h.relay.get(Database).repo(Integration).update({ id: t.integration.id }, {
      openchannelUrlEnc: box.encrypt(h.cc.receiveUrl(moved.id).replace(/[?&]apikey=[^&]*/, '')), apiKeyEnc: box.encrypt(`key-moved-${t.pageId}`),
    });
    await post(page(messaging(t.pageId, [textEvent(t.pageId, '501', 'to the new account', {}, 1_700_000_200_001)])));
    const [note] = await waitNotified(moved.id, 1);
    expect((note.body as { body: string }).body).toBe('to the new account');
    expect(h.cc.control.notifications({ accountId: t.accountId, acceptedOnly: true })).toHaveLength(1);
  });

  it('holds instead of delivering once the integration is switched off in the database', async () => {
    const t = await newTenant(h);
    await post(page(messaging(t.pageId, [textEvent(t.pageId, '502', 'before', {}, 1_700_000_300_000)])));
    await waitNotified(t.accountId, 1);
    await settledMessages(h.relay, t.integration.id);

    await h.relay.get(Database).repo(Integration).update({ id: t.integration.id }, { enabled: false });
    await post(page(messaging(t.pageId, [textEvent(t.pageId, '502', 'after', {}, 1_700_000_300_001)])));
    const rows = await settledMessages(h.relay, t.integration.id);
    expect(rows.map((m) => [m.text, m.status])).toEqual([['before', 'delivered'], ['after', 'held']]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.cc.control.notifications({ accountId: t.accountId, acceptedOnly: true })).toHaveLength(1);
  });

  it('writes delivered messages and attempt rows that read back through the entities', async () => {
    const t = await newTenant(h);
    const before = Date.now();
    await post(page(messaging(t.pageId, [textEvent(t.pageId, '503', 'one', {}, 1_700_000_400_000), textEvent(t.pageId, '503', 'two', {}, 1_700_000_400_001)])));
    const notes = await waitNotified(t.accountId, 2);
    expect(notes.map((n) => (n.body as { body: string }).body)).toEqual(['one', 'two']);
    const rows = await settledMessages(h.relay, t.integration.id);
    const after = Date.now() + 1;
    for (const row of rows) {
      expect(row).toMatchObject({ status: 'delivered', attempts: 1, lastError: null, nextAttemptAt: null, lockedUntil: null });
      expect(row.deliveredAt!.getTime()).toBeGreaterThanOrEqual(before - 5);
      expect(row.deliveredAt!.getTime()).toBeLessThanOrEqual(after);
      const [attempt] = await h.relay.get(Database).repo(DeliveryAttempt).find({ where: { messageId: row.id } });
      expect(attempt).toMatchObject({ attempt: 1, outcome: 'delivered', httpStatus: 200, error: null, tenantId: row.tenantId, integrationId: t.integration.id });
      expect(attempt.startedAt.getTime()).toBeGreaterThanOrEqual(before - 5);
      expect(attempt.startedAt.getTime()).toBeLessThanOrEqual(row.deliveredAt!.getTime());
    }
    expect((await messagesOf(h.relay, t.integration.id)).map((m) => m.id)).toEqual(rows.map((m) => m.id));
  });
});
