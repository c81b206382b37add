import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { Database } from '../database/database';
import { Message } from '../relay/message.entity';

export interface ListFigures {
  failing: boolean;
  /** Inbound messages that ended failed, created in the last 24 hours. */
  failedDeliveries: number;
}

export interface FailingIntegration {
  integrationId: string;
  tenantId: string;
  /** Creation time of the oldest message still waiting for a successful retry. */
  since: Date;
}

const DAY_MS = 24 * 3600_000;

/**
 * The delivery figures the dashboard and the alert detector share. Every query is bounded: queued
 * messages go through the (status, next_attempt_at) index (the backlog only), per-integration
 * counts through (tenant_id, integration_id, created_at) with a time range.
 */
@Injectable()
export class DeliveryFigures {
  constructor(private readonly database: Database, private readonly config: AppConfig) {}

  /**
   * "Deliveries failing": an inbound message that has been tried (attempts > 0), is still queued
   * for a retry, and arrived more than ALERT_FAILING_MINUTES ago. Delivery is in order per
   * conversation, so such a message holds up everything behind it.
   */
  async failing(now = new Date(), tenantId?: string, integrationId?: string): Promise<FailingIntegration[]> {
    const cutoff = new Date(now.getTime() - this.config.alertFailingMinutes * 60_000);
    const query = this.database.repo(Message).createQueryBuilder('m')
      .select('m.integration_id', 'integrationId')
      .addSelect('m.tenant_id', 'tenantId')
      .addSelect('MIN(m.created_at)', 'since')
      .where('m.status = :status', { status: 'queued' })
      .andWhere('m.direction = :direction', { direction: 'in' })
      .andWhere('m.attempts > 0')
      .andWhere('m.created_at <= :cutoff', { cutoff })
      .groupBy('m.integration_id')
      .addGroupBy('m.tenant_id');
    if (tenantId) query.andWhere('m.tenant_id = :tenantId', { tenantId });
    if (integrationId) query.andWhere('m.integration_id = :integrationId', { integrationId });
    const rows = await query.getRawMany<{ integrationId: string; tenantId: string; since: string | Date }>();
    return rows.map((row) => ({ integrationId: row.integrationId, tenantId: row.tenantId, since: toDate(row.since) }));
  }

  /** `failing` and `failedDeliveries` for the integration list (one query each for all of them). */
  async forList(tenantId: string, integrationIds: string[], now = new Date()): Promise<Map<string, ListFigures>> {
    const figures = new Map<string, ListFigures>(integrationIds.map((id) => [id, { failing: false, failedDeliveries: 0 }]));
    if (!integrationIds.length) return figures;
    for (const row of await this.failing(now, tenantId, integrationIds.length === 1 ? integrationIds[0] : undefined)) {
      const entry = figures.get(row.integrationId);
      if (entry) entry.failing = true;
    }
    const failed = await this.database.repo(Message).createQueryBuilder('m')
      .select('m.integration_id', 'integrationId')
      .addSelect('COUNT(*)', 'count')
      .where('m.tenant_id = :tenantId', { tenantId })
      .andWhere('m.integration_id IN (:...integrationIds)', { integrationIds })
      .andWhere('m.created_at >= :since', { since: new Date(now.getTime() - DAY_MS) })
      .andWhere('m.direction = :direction', { direction: 'in' })
      .andWhere('m.status = :status', { status: 'failed' })
      .groupBy('m.integration_id')
      .getRawMany<{ integrationId: string; count: string | number }>();
    for (const row of failed) {
      const entry = figures.get(row.integrationId);
      if (entry) entry.failedDeliveries = Number(row.count);
    }
    return figures;
  }
}

/** Raw MIN()/SUBSTR() results: MySQL gives Date objects (timezone 'Z'), SQLite 'YYYY-MM-DD HH:MM:SS.SSS' in UTC. */
export function toDate(value: string | Date): Date {
  if (value instanceof Date) return value;
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`);
}
