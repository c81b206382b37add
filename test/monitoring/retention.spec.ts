import { Blob } from '../../src/blobs/blob.entity';
import { BlobStore } from '../../src/blobs/blob-store';
import { Database } from '../../src/database/database';
import { IntegrationsService } from '../../src/integrations/integrations.service';
import { AlertIncident } from '../../src/monitoring/alert-incident.entity';
import { Alerts } from '../../src/monitoring/alerts';
import { Conversation } from '../../src/relay/conversation.entity';
import { DeliveryAttempt } from '../../src/relay/delivery-attempt.entity';
import { Message } from '../../src/relay/message.entity';
import { RetentionService } from '../../src/retention/retention.service';
import { backends } from '../support/backends';
import { createConversation, createIntegration, createTenant } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';
import { HOUR, insertAttempt, insertMessage } from './support';

const DAY = 24 * HOUR;

describe.each(backends())('data retention on %s', (backend) => {
  let relay: TestApp;
  beforeAll(async () => {
    relay = await startTestApp({ backend, env: { RETENTION_DAYS: '30' } });
  });
  afterAll(() => relay?.close());

  it('clears bodies, files and delivery attempts older than RETENTION_DAYS, keeps the rows\' facts and everything newer', async () => {
    const db = relay.get(Database);
    const blobs = relay.get(BlobStore);
    const { integration } = await createIntegration(relay, { openchannelUrl: 'http://127.0.0.1:9/none' });
    const now = new Date();
    const old = new Date(now.getTime() - 31 * DAY);
    const recent = new Date(now.getTime() - 29 * DAY);

    const oldFile = await blobs.put(integration.tenantId, { bytes: Buffer.from('old photo'), contentType: 'image/png', filename: 'old.png', integrationId: integration.id });
    const recentFile = await blobs.put(integration.tenantId, { bytes: Buffer.from('new photo'), contentType: 'image/png', filename: 'new.png', integrationId: integration.id });
    const expiredFile = await blobs.put(integration.tenantId, { bytes: Buffer.from('cdn copy'), contentType: 'image/png', filename: 'cdn.png', integrationId: integration.id, ttlMs: 1 });
    const oldDelivered = await insertMessage(relay, integration, { createdAt: old, deliveredAt: new Date(old.getTime() + 200), blobId: oldFile.id, kind: 'attachment' });
    const oldReply = await insertMessage(relay, integration, { createdAt: old, direction: 'out', status: 'read' });
    const oldHeld = await insertMessage(relay, integration, { createdAt: old, status: 'held', attempts: 0 });
    const recentOne = await insertMessage(relay, integration, { createdAt: recent, deliveredAt: recent, blobId: recentFile.id });
    await insertAttempt(relay, oldDelivered, old);
    await insertAttempt(relay, recentOne, recent);

    const purgeAt = new Date(now.getTime() + 1000); // the cached CDN copy has expired by then
    const result = await relay.get(RetentionService).purge(purgeAt);
    expect(result).toMatchObject({ messagesCleared: 2, blobsDeleted: 2, attemptsDeleted: 1 });
    expect(result.cutoff).toBe(new Date(purgeAt.getTime() - 30 * DAY).toISOString());

    const byId = async (id: string) => db.repo(Message).findOneByOrFail({ id });
    expect(await byId(oldDelivered.id)).toMatchObject({ text: null, payload: null, status: 'delivered', blobId: oldFile.id, deliveredAt: expect.any(Date) });
    expect(await byId(oldReply.id)).toMatchObject({ text: null, payload: null, status: 'read', direction: 'out' });
    expect((await byId(oldHeld.id)).text).toBe(oldHeld.text); // still on its way: kept whatever its age
    expect((await byId(recentOne.id)).text).toBe(recentOne.text);
    expect(await blobs.find(integration.tenantId, oldFile.id)).toBeNull();
    expect(await blobs.find(integration.tenantId, expiredFile.id)).toBeNull();
    expect(await blobs.find(integration.tenantId, recentFile.id)).not.toBeNull();
    expect((await db.repo(DeliveryAttempt).findBy({ integrationId: integration.id })).map((a) => a.messageId)).toEqual([recentOne.id]);

    // Counts stay right after the purge, and a second run has nothing left to do.
    expect(await db.repo(Message).count({ where: { integrationId: integration.id } })).toBe(4);
    expect(await relay.get(RetentionService).purge(purgeAt)).toMatchObject({ messagesCleared: 0, blobsDeleted: 0, attemptsDeleted: 0 });
  });

  it('clears in batches past one batch', async () => {
    const db = relay.get(Database);
    const { integration } = await createIntegration(relay, { openchannelUrl: 'http://127.0.0.1:9/none' });
    const old = new Date(Date.now() - 40 * DAY);
    const rows = Array.from({ length: 1203 }, (_, i) => ({ createdAt: old, text: `old ${i}` }));
    for (const row of rows) await insertMessage(relay, integration, row);
    expect((await relay.get(RetentionService).purge()).messagesCleared).toBeGreaterThanOrEqual(1203);
    expect(await db.repo(Message).count({ where: { integrationId: integration.id, status: 'delivered' } })).toBe(1203);
    expect(await db.repo(Message).createQueryBuilder('m').where('m.integration_id = :id AND m.text IS NOT NULL', { id: integration.id }).getCount()).toBe(0);
  }, 60_000);

  it('deleting an integration deletes its conversations, messages, attempts, files and incidents', async () => {
    const db = relay.get(Database);
    const tenant = await createTenant(relay);
    const { integration } = await createIntegration(relay, { tenantId: tenant.id, openchannelUrl: 'http://127.0.0.1:9/none' });
    const { integration: kept } = await createIntegration(relay, { tenantId: tenant.id, openchannelUrl: 'http://127.0.0.1:9/none' });
    for (const target of [integration, kept]) {
      const conversation = await createConversation(relay, target, { customerId: `c-${target.id}` });
      const file = await relay.get(BlobStore).put(tenant.id, { bytes: Buffer.from('x'), contentType: 'text/plain', filename: 'x.txt', integrationId: target.id });
      const message = await insertMessage(relay, target, { conversationId: conversation.id, createdAt: new Date(), blobId: file.id });
      await insertAttempt(relay, message, new Date(), 'failed');
      await relay.get(Alerts).open(target, 'delivery_failing', 'test', { subject: 'test', lines: ['test'] });
    }

    await relay.get(IntegrationsService).remove(tenant.id, integration.id, tenant.email);

    for (const entity of [Conversation, Message, DeliveryAttempt, Blob, AlertIncident] as const) {
      expect(await db.repo(entity as any).count({ where: { integrationId: integration.id } })).toBe(0);
      expect(await db.repo(entity as any).count({ where: { integrationId: kept.id } })).toBe(1);
    }
  });
});
