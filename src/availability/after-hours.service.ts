import { Injectable, Logger } from '@nestjs/common';
import { SecretBox } from '../common/crypto/secret-box';
import { newId } from '../common/ids';
import { Database } from '../database/database';
import { GraphClient } from '../facebook/graph-client';
import { GraphError, GraphUnavailableError } from '../facebook/graph-errors';
import { Integration } from '../integrations/integration.entity';
import { IntegrationHealth } from '../integrations/integration-health';
import { JobHandler } from '../queue/job';
import { Conversation } from '../relay/conversation.entity';
import { Message } from '../relay/message.entity';
import { SendAfterHoursMessage } from './after-hours.job';
import { parseAvailability } from './schedule';

const WINDOW_MS = 24 * 3600_000;
const SEND_TIMEOUT_MS = 8_000;

export type AfterHoursOutcome = 'sent' | 'failed' | 'not_configured' | 'inactive' | 'window_closed' | 'interval';

/**
 * The automatic "after hours" answer (uContact's After Hours message) by Messenger, RESPONSE type,
 * at most once per conversation per interval. The outbound row it leaves is what the history shows
 * and what the echo of the send is matched against.
 */
@Injectable()
export class AfterHoursService {
  private readonly logger = new Logger('AfterHours');

  constructor(
    private readonly database: Database,
    private readonly graph: GraphClient,
    private readonly box: SecretBox,
    private readonly health: IntegrationHealth,
  ) {}

  @JobHandler(SendAfterHoursMessage)
  async run(data: { conversationId: string; messageId: string }): Promise<void> {
    await this.send(data.conversationId);
  }

  async send(conversationId: string, now = new Date()): Promise<AfterHoursOutcome> {
    const conversation = await this.database.repo(Conversation).findOne({ where: { id: conversationId } });
    if (!conversation || conversation.channel !== 'messenger') return 'inactive';
    const integration = await this.database.repo(Integration).findOne({ where: { id: conversation.integrationId, tenantId: conversation.tenantId } });
    if (!integration) return 'inactive';
    const availability = parseAvailability(integration.availability);
    const text = availability.afterHoursMessage.trim();
    if (!availability.enabled || !text) return 'not_configured';
    if (!integration.enabled || integration.status !== 'active' || !integration.boundPageId || !integration.pageTokenEnc) return 'inactive';
    const last = conversation.lastCustomerMessageAt ? new Date(conversation.lastCustomerMessageAt).getTime() : 0;
    if (now.getTime() - last >= WINDOW_MS) return 'window_closed';

    const previous = conversation.afterHoursSentAt ?? null;
    if (!(await this.claim(conversation.id, now, availability.afterHoursIntervalHours))) return 'interval';

    const row: Message = {
      id: newId(), tenantId: integration.tenantId, integrationId: integration.id, conversationId: conversation.id,
      direction: 'out', kind: 'after_hours', event: 'auto_reply', text, payload: null, status: 'sending', attempts: 1,
      lastError: null, nextAttemptAt: null, dedupKey: null, externalId: null, remoteId: null, blobId: null,
      occurredAt: now.getTime(), part: 0, createdAt: now, updatedAt: now, deliveredAt: null,
    };
    await this.database.repo(Message).insert(row);
    try {
      const answer = await this.graph.post<{ message_id: string }>(`${integration.pageId}/messages`, {
        token: this.box.decrypt(integration.pageTokenEnc),
        json: { recipient: { id: conversation.customerId }, messaging_type: 'RESPONSE', message: { text, metadata: `relay:outbound:${row.id}` } },
        timeoutMs: SEND_TIMEOUT_MS,
      });
      const repo = this.database.repo(Message);
      await repo.update({ id: row.id }, { externalId: answer.message_id ?? null, updatedAt: new Date() });
      // A receipt may already have moved it further; only 'sending' becomes 'sent'.
      await repo.update({ id: row.id, status: 'sending' }, { status: 'sent' });
      return 'sent';
    } catch (error) {
      const reason = error instanceof GraphError ? error.explanation
        : error instanceof GraphUnavailableError ? error.message
          : 'The relay could not send the after-hours message';
      if (!(error instanceof GraphError) && !(error instanceof GraphUnavailableError)) this.logger.error(`After-hours send broke: ${(error as Error).stack ?? error}`);
      await this.database.repo(Message).update({ id: row.id }, { status: 'failed', lastError: reason, updatedAt: new Date() });
      // Nothing reached the customer: the next message after hours may try again.
      await this.database.repo(Conversation).createQueryBuilder().update(Conversation)
        .set({ afterHoursSentAt: previous })
        .where('id = :id AND after_hours_sent_at = :stamp', { id: conversation.id, stamp: now })
        .execute();
      if (error instanceof GraphError && error.classification === 'reauth') await this.health.reportGraphError(integration.id, error);
      this.logger.warn(`After-hours message for conversation ${conversation.id} failed: ${reason}`);
      return 'failed';
    }
  }

  /** One conditional UPDATE: of two messages arriving together, only one wins the interval. */
  private async claim(conversationId: string, now: Date, intervalHours: number): Promise<boolean> {
    const before = new Date(now.getTime() - intervalHours * 3600_000);
    const result = await this.database.repo(Conversation).createQueryBuilder().update(Conversation)
      .set({ afterHoursSentAt: now })
      .where('id = :id AND (after_hours_sent_at IS NULL OR after_hours_sent_at <= :before)', { id: conversationId, before })
      .execute();
    return result.affected === 1;
  }
}
