import { Injectable } from '@nestjs/common';
import { In } from 'typeorm';
import { RelayHttpError } from '../common/errors/http-errors';
import { Database } from '../database/database';
import { Integration } from '../integrations/integration.entity';
import { JobQueue } from '../queue/job-queue';
import { DeliveryAttempt } from '../relay/delivery-attempt.entity';
import { Message } from '../relay/message.entity';
import { DeliverConversation, deliveryJobId } from '../relay/relay.jobs';

export interface AttemptItem {
  attempt: number;
  startedAt: string;
  durationMs: number;
  httpStatus: number | null;
  outcome: string;
  error: string | null;
}

const CHUNK = 200;

/** Delivery attempts of a message, and putting every failed inbound message of an integration back in line. */
@Injectable()
export class Deliveries {
  constructor(private readonly database: Database, private readonly queue: JobQueue) {}

  async integrationOf(tenantId: string, integrationId: string): Promise<Integration> {
    const integration = await this.database.repo(Integration).findOne({ where: { id: integrationId, tenantId }, select: { id: true, tenantId: true, name: true } });
    if (!integration) throw new RelayHttpError(404, 'not_found', 'No integration with this id in your account');
    return integration;
  }

  async attempts(tenantId: string, integrationId: string, messageId: string): Promise<AttemptItem[]> {
    await this.integrationOf(tenantId, integrationId);
    const message = await this.database.repo(Message).findOne({ where: { id: messageId, tenantId, integrationId }, select: { id: true } });
    if (!message) throw new RelayHttpError(404, 'not_found', 'No message with this id in this integration');
    const rows = await this.database.repo(DeliveryAttempt).find({ where: { tenantId, messageId }, order: { attempt: 'ASC', startedAt: 'ASC' } });
    return rows.map((a) => ({
      attempt: a.attempt, startedAt: new Date(a.startedAt).toISOString(), durationMs: a.durationMs,
      httpStatus: a.httpStatus, outcome: a.outcome, error: a.error,
    }));
  }

  /**
   * Every failed inbound message of the integration back to queued. The move is a conditional UPDATE
   * (status still 'failed'), so two clicks at once move each message once: a message is never
   * queued again after it was delivered. Answers how many moved.
   */
  async replayFailed(tenantId: string, integrationId: string): Promise<number> {
    await this.integrationOf(tenantId, integrationId);
    const repo = this.database.repo(Message);
    const failed = await repo.find({
      where: { tenantId, integrationId, direction: 'in', status: 'failed' },
      select: { id: true, conversationId: true, occurredAt: true, part: true },
      order: { occurredAt: 'ASC', part: 'ASC' },
    });
    if (!failed.length) return 0;
    const now = new Date();
    let moved = 0;
    for (let i = 0; i < failed.length; i += CHUNK) {
      const ids = failed.slice(i, i + CHUNK).map((m) => m.id);
      const result = await repo.createQueryBuilder().update(Message)
        .set({ status: 'queued', attempts: 0, nextAttemptAt: now, lockedUntil: null, updatedAt: now })
        .where({ id: In(ids), tenantId, status: 'failed', direction: 'in' })
        .execute();
      moved += result.affected ?? 0;
    }
    if (!moved) return 0;
    // One job per conversation; a conversation whose messages another click already moved finds
    // its head delivered or leased and does nothing.
    const firstByConversation = new Map<string, string>();
    for (const m of failed) if (m.conversationId && !firstByConversation.has(m.conversationId)) firstByConversation.set(m.conversationId, m.id);
    await this.queue.addBulk(DeliverConversation, [...firstByConversation].map(([conversationId, messageId]) => ({
      data: { conversationId }, jobId: `${deliveryJobId(conversationId, messageId, 0)}-replay-${now.getTime()}`,
    })));
    return moved;
  }
}
