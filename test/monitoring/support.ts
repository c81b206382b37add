import { newId } from '../../src/common/ids';
import { Database } from '../../src/database/database';
import { Integration } from '../../src/integrations/integration.entity';
import { DeliveryAttempt } from '../../src/relay/delivery-attempt.entity';
import { Message } from '../../src/relay/message.entity';
import { TestApp } from '../support/test-app';

/** A message row as ingestion or a reply leaves it, at a chosen time (for windows and retention). */
export async function insertMessage(relay: TestApp, integration: Integration, fields: Partial<Message> & { createdAt: Date }): Promise<Message> {
  const id = newId();
  const row: Message = {
    id,
    tenantId: integration.tenantId,
    integrationId: integration.id,
    conversationId: null,
    direction: 'in',
    kind: 'text',
    event: 'message',
    text: `text ${id}`,
    payload: '{"names":{}}',
    status: 'delivered',
    attempts: 1,
    lastError: null,
    nextAttemptAt: null,
    dedupKey: `test:${id}`,
    externalId: null,
    remoteId: null,
    blobId: null,
    occurredAt: fields.createdAt.getTime(),
    part: 0,
    updatedAt: fields.createdAt,
    deliveredAt: null,
    ...fields,
  };
  await relay.get(Database).repo(Message).insert(row);
  return row;
}

export async function insertAttempt(relay: TestApp, message: Message, startedAt: Date, outcome: DeliveryAttempt['outcome'] = 'delivered'): Promise<void> {
  await relay.get(Database).repo(DeliveryAttempt).insert({
    id: newId(), tenantId: message.tenantId, integrationId: message.integrationId, messageId: message.id, attempt: 1,
    startedAt, durationMs: 12, httpStatus: outcome === 'delivered' ? 200 : 503, outcome, error: outcome === 'delivered' ? null : 'The contact center answered 503',
  });
}

export const HOUR = 3600_000;
