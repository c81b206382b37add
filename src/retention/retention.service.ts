import { Injectable, Logger } from '@nestjs/common';
import { In, IsNull, LessThan, Not } from 'typeorm';
import { Blob } from '../blobs/blob.entity';
import { BlobStore } from '../blobs/blob-store';
import { AppConfig } from '../config/app-config';
import { Database } from '../database/database';
import { Integration } from '../integrations/integration.entity';
import { defineJob, JobHandler } from '../queue/job';
import { DeliveryAttempt } from '../relay/delivery-attempt.entity';
import { Message } from '../relay/message.entity';


const DAY_MS = 24 * 3600_000;

/** Daily at 03:00 UTC, away from midnight's other batch work. */
export const RetentionJob = defineJob<{ slot: number }>('retention.daily', { attempts: 1, concurrency: 1, every: { intervalMs: DAY_MS, offsetMs: 3 * 3600_000 } });
const BATCH = 500;
/** Messages still on their way keep their bodies whatever their age (a held message may wait for weeks). */
const IN_FLIGHT = ['queued', 'held', 'sending'];

export interface RetentionResult {
  cutoff: string;
  messagesCleared: number;
  blobsDeleted: number;
  attemptsDeleted: number;
}

/**
 * RETENTION_DAYS: once a day, messages older than that lose their text, payload and attachment
 * bytes (the row stays with its status and times so counts and charts stay right), their delivery
 * attempts go, and expired blobs are removed. Work is done per integration through the
 * (tenant_id, integration_id, created_at/started_at) indexes, in batches, so no statement scans
 * or locks the whole table.
 */
@Injectable()
export class RetentionService {
  private readonly logger = new Logger('Retention');

  constructor(
    private readonly database: Database,
    private readonly blobs: BlobStore,
    private readonly config: AppConfig,
  ) {}

  @JobHandler(RetentionJob)
  async run(): Promise<void> {
    const result = await this.purge();
    this.logger.log(`Retention (${this.config.retentionDays} days): ${result.messagesCleared} message bodies cleared, ${result.blobsDeleted} files and ${result.attemptsDeleted} delivery attempts deleted`);
  }

  /** One pass with the given "now" (the job calls this; so can tests). */
  async purge(now = new Date()): Promise<RetentionResult> {
    const cutoff = new Date(now.getTime() - this.config.retentionDays * DAY_MS);
    const result: RetentionResult = { cutoff: cutoff.toISOString(), messagesCleared: 0, blobsDeleted: 0, attemptsDeleted: 0 };
    const integrations = await this.database.repo(Integration).find({ select: { id: true, tenantId: true } });
    for (const integration of integrations) {
      await this.clearMessages(integration, cutoff, result);
      await this.deleteAttempts(integration, cutoff, result);
    }
    result.blobsDeleted += await this.blobs.deleteExpired(now);
    return result;
  }

  private async clearMessages(integration: Pick<Integration, 'id' | 'tenantId'>, cutoff: Date, result: RetentionResult): Promise<void> {
    const repo = this.database.repo(Message);
    const scope = { tenantId: integration.tenantId, integrationId: integration.id, createdAt: LessThan(cutoff), status: Not(In(IN_FLIGHT)) };
    for (;;) {
      const rows = await repo.find({
        where: [{ ...scope, text: Not(IsNull()) }, { ...scope, payload: Not(IsNull()) }],
        select: { id: true, blobId: true },
        take: BATCH,
      });
      if (!rows.length) return;
      const blobIds = rows.map((row) => row.blobId).filter((id): id is string => Boolean(id));
      await this.database.transaction(async (manager) => {
        // blob_id stays: the attachment endpoint then answers 410 "no longer kept" instead of 404.
        await manager.update(Message, { id: In(rows.map((row) => row.id)) }, { text: null, payload: null });
        if (blobIds.length) {
          const deleted = await manager.delete(Blob, { tenantId: integration.tenantId, id: In(blobIds) });
          result.blobsDeleted += deleted.affected ?? 0;
        }
      });
      result.messagesCleared += rows.length;
      if (rows.length < BATCH) return;
    }
  }

  private async deleteAttempts(integration: Pick<Integration, 'id' | 'tenantId'>, cutoff: Date, result: RetentionResult): Promise<void> {
    const repo = this.database.repo(DeliveryAttempt);
    for (;;) {
      const rows = await repo.find({
        where: { tenantId: integration.tenantId, integrationId: integration.id, startedAt: LessThan(cutoff) },
        select: { id: true },
        take: BATCH,
      });
      if (!rows.length) return;
      await repo.delete({ id: In(rows.map((row) => row.id)) });
      result.attemptsDeleted += rows.length;
      if (rows.length < BATCH) return;
    }
  }

}
