import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { In } from 'typeorm';
import { Database } from '../database/database';
import { Integration } from '../integrations/integration.entity';
import { JobQueue } from '../queue/job-queue';
import { DeliverySettings } from './delivery.settings';
import { Message } from './message.entity';
import { DeliverConversation, deliveryJobId } from './relay.jobs';

const BATCH = 500;

/**
 * "Nothing lost": finds queued inbound messages that were due a while ago and that no worker holds
 * (Redis lost its jobs, a process died mid-delivery, an enqueue failed) and enqueues their
 * conversations again. Job ids are the same ones the normal path uses, so a job that still exists
 * is not doubled. Runs on a timer in every worker process, not as a queued job: it must survive the
 * queue losing its data.
 */
@Injectable()
export class DeliverySweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Sweeper');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private stopped = false;

  constructor(
    private readonly database: Database,
    private readonly queue: JobQueue,
    private readonly settings: DeliverySettings,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.runsWorkers) this.schedule(Math.min(2_000, this.settings.sweepIntervalMs));
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass; returns how many conversations were enqueued again. */
  async sweep(now = new Date()): Promise<number> {
    const due = new Date(now.getTime() - this.settings.sweepGraceMs);
    await this.releaseStrandedHeld(now, due);
    const rows = await this.database.repo(Message).createQueryBuilder('m')
      .select(['m.id', 'm.conversationId', 'm.attempts', 'm.occurredAt', 'm.part'])
      .where('m.status = :queued AND m.direction = :in AND m.conversation_id IS NOT NULL', { queued: 'queued', in: 'in' })
      .andWhere('m.next_attempt_at <= :due', { due })
      .andWhere('(m.locked_until IS NULL OR m.locked_until < :now)', { now })
      .orderBy('m.next_attempt_at', 'ASC')
      .limit(BATCH)
      .getMany();
    const heads = new Map<string, Message>();
    for (const row of rows) {
      const head = heads.get(row.conversationId!);
      if (!head || row.occurredAt < head.occurredAt || (row.occurredAt === head.occurredAt && row.part < head.part)) heads.set(row.conversationId!, row);
    }
    if (!heads.size) return 0;
    await this.queue.addBulk(DeliverConversation, [...heads.values()].map((head) => ({
      data: { conversationId: head.conversationId! },
      jobId: deliveryJobId(head.conversationId!, head.id, head.attempts),
    })));
    this.logger.log(`Re-enqueued ${heads.size} conversations with queued messages no job was delivering`);
    return heads.size;
  }

  /**
   * Held messages of an integration that is enabled again: stored 'held' from a stale view of the
   * integration (another process's 5 s cache, or an ingest or delivery racing the PATCH that enabled
   * it) after releaseHeld had already run. Without this they would stay held for good.
   */
  private async releaseStrandedHeld(now: Date, due: Date): Promise<void> {
    const rows = await this.database.repo(Message).createQueryBuilder('m')
      .innerJoin(Integration, 'i', 'i.id = m.integration_id AND i.tenant_id = m.tenant_id')
      .select(['m.id'])
      .where('m.status = :held AND m.direction = :in', { held: 'held', in: 'in' })
      .andWhere('i.enabled = :enabled', { enabled: 1 })
      .andWhere('m.updated_at <= :due', { due })
      .limit(BATCH)
      .getMany();
    if (!rows.length) return;
    // Due in the past, so the pass below enqueues their conversations right away.
    const result = await this.database.repo(Message).update(
      { id: In(rows.map((row) => row.id)), status: 'held', direction: 'in' },
      { status: 'queued', nextAttemptAt: due, lockedUntil: null, updatedAt: now },
    );
    if (result.affected) this.logger.log(`Released ${result.affected} held messages of enabled integrations`);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.sweep().catch((error: Error) => {
        this.logger.warn(`Sweep failed (next one in ${this.settings.sweepIntervalMs} ms): ${error.message}`);
        return 0;
      });
      void this.running.finally(() => this.schedule(this.settings.sweepIntervalMs));
    }, delayMs);
    this.timer.unref();
  }
}
