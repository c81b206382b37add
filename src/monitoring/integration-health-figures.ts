import { Injectable } from '@nestjs/common';
import { In } from 'typeorm';
import { Database } from '../database/database';
import { Integration } from '../integrations/integration.entity';
import { DeliveryAttempt } from '../relay/delivery-attempt.entity';
import { Message } from '../relay/message.entity';
import { DeliveryFigures, toDate } from './delivery-figures';

export type HealthWindow = '24h' | '7d';

export interface HealthBucket {
  start: string;
  in: number;
  out: number;
  failed: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
}

export interface IntegrationHealthReport {
  integrationId: string;
  tokenState: 'active' | 'reauth_required';
  pageSubscribed: boolean;
  status: string;
  enabled: boolean;
  lastEventAt: string | null;
  lastDeliveryAt: string | null;
  failuresLastHour: number;
  backlog: number;
  failing: boolean;
  window: HealthWindow;
  buckets: HealthBucket[];
}

const HOUR_MS = 3600_000;
const WINDOWS: Record<HealthWindow, { buckets: number; bucketMs: number }> = {
  '24h': { buckets: 24, bucketMs: HOUR_MS },
  '7d': { buckets: 28, bucketMs: 6 * HOUR_MS },
};
/** Delivered rows read for the latency percentiles of one request; above it each bucket is sampled. */
export const LATENCY_ROW_CAP = 20_000;

/**
 * The figures of one integration's health page. Every query is bounded by the window through the
 * (tenant_id, integration_id, created_at) index; counts are grouped in SQL by the hour
 * (`SUBSTR(created_at, 1, 13)` reads 'YYYY-MM-DD HH' on both SQLite and MySQL, both storing UTC).
 */
@Injectable()
export class IntegrationHealthFigures {
  constructor(private readonly database: Database, private readonly figures: DeliveryFigures) {}

  async report(integration: Integration, window: HealthWindow, now = new Date()): Promise<IntegrationHealthReport> {
    const { buckets: count, bucketMs } = WINDOWS[window];
    // Buckets end with the one holding "now"; their starts are aligned to whole hours / 6-hour blocks (UTC).
    const lastStart = Math.floor(now.getTime() / bucketMs) * bucketMs;
    const since = lastStart - (count - 1) * bucketMs;
    const buckets: HealthBucket[] = Array.from({ length: count }, (_, i) => ({
      start: new Date(since + i * bucketMs).toISOString(), in: 0, out: 0, failed: 0, latencyP50Ms: null, latencyP95Ms: null,
    }));
    const bucketOf = (time: number) => Math.floor((time - since) / bucketMs);

    const scope = { tenantId: integration.tenantId, integrationId: integration.id, since: new Date(since) };
    const counts = await this.database.repo(Message).createQueryBuilder('m')
      .select('SUBSTR(m.created_at, 1, 13)', 'hour')
      .addSelect('m.direction', 'direction')
      .addSelect('m.status', 'status')
      .addSelect('COUNT(*)', 'count')
      .where('m.tenant_id = :tenantId AND m.integration_id = :integrationId AND m.created_at >= :since', scope)
      .groupBy('SUBSTR(m.created_at, 1, 13)')
      .addGroupBy('m.direction')
      .addGroupBy('m.status')
      .getRawMany<{ hour: string; direction: string; status: string; count: string | number }>();
    let delivered = 0;
    for (const row of counts) {
      const bucket = buckets[bucketOf(toDate(`${row.hour}:00:00`).getTime())];
      if (!bucket) continue;
      const n = Number(row.count);
      // "in" is what the contact center should get: own echoes and the page's own posts (skipped) are not counted.
      if (row.direction === 'in' && row.status !== 'skipped') bucket.in += n;
      if (row.direction === 'out') bucket.out += n;
      if (row.status === 'failed') bucket.failed += n;
      if (row.direction === 'in' && row.status === 'delivered') delivered += n;
    }

    await this.addLatencies(buckets, scope, delivered, bucketMs, bucketOf);

    const [failuresLastHour, backlog, failing] = await Promise.all([
      this.database.repo(DeliveryAttempt).createQueryBuilder('a')
        .where('a.tenant_id = :tenantId AND a.integration_id = :integrationId AND a.started_at >= :since',
          { ...scope, since: new Date(now.getTime() - HOUR_MS) })
        .andWhere('a.outcome <> :delivered', { delivered: 'delivered' })
        .getCount(),
      // Through the (status, next_attempt_at) index: reads the deployment's backlog, not the integration's history.
      this.database.repo(Message).count({ where: { integrationId: integration.id, status: In(['queued', 'held']), direction: 'in' } }),
      this.figures.failing(now, integration.tenantId, integration.id),
    ]);

    const iso = (date: Date | null) => (date ? new Date(date).toISOString() : null);
    return {
      integrationId: integration.id,
      tokenState: integration.status === 'reauth_required' ? 'reauth_required' : 'active',
      pageSubscribed: integration.pageSubscribed,
      status: integration.status,
      enabled: integration.enabled,
      lastEventAt: iso(integration.lastEventAt),
      lastDeliveryAt: iso(integration.lastDeliveryAt),
      failuresLastHour,
      backlog,
      failing: failing.length > 0,
      window,
      buckets,
    };
  }

  /**
   * p50/p95 of webhook receipt (created_at) → delivered_at per bucket, computed here from the
   * delivered rows of the window. Past LATENCY_ROW_CAP rows, each bucket is read separately with
   * its share of the cap, so a busy week still costs a bounded read and every bucket gets a sample.
   */
  private async addLatencies(
    buckets: HealthBucket[],
    scope: { tenantId: string; integrationId: string; since: Date },
    delivered: number,
    bucketMs: number,
    bucketOf: (time: number) => number,
  ): Promise<void> {
    if (!delivered) return;
    const read = (from: Date, to: Date | null, limit: number) => {
      const query = this.database.repo(Message).createQueryBuilder('m')
        .select('m.created_at', 'createdAt')
        .addSelect('m.delivered_at', 'deliveredAt')
        .where('m.tenant_id = :tenantId AND m.integration_id = :integrationId AND m.created_at >= :from', { ...scope, from })
        .andWhere('m.direction = :direction AND m.status = :status', { direction: 'in', status: 'delivered' })
        .andWhere('m.delivered_at IS NOT NULL')
        .limit(limit);
      if (to) query.andWhere('m.created_at < :to', { to });
      return query.getRawMany<{ createdAt: string | Date; deliveredAt: string | Date }>();
    };
    const rows = delivered <= LATENCY_ROW_CAP
      ? await read(scope.since, null, LATENCY_ROW_CAP)
      : (await Promise.all(buckets.map((bucket) => {
        const from = new Date(bucket.start);
        return read(from, new Date(from.getTime() + bucketMs), Math.ceil(LATENCY_ROW_CAP / buckets.length));
      }))).flat();

    const samples: number[][] = buckets.map(() => []);
    for (const row of rows) {
      const created = toDate(row.createdAt).getTime();
      const index = bucketOf(created);
      if (samples[index]) samples[index].push(Math.max(0, toDate(row.deliveredAt).getTime() - created));
    }
    samples.forEach((values, index) => {
      if (!values.length) return;
      values.sort((a, b) => a - b);
      buckets[index].latencyP50Ms = percentile(values, 0.5);
      buckets[index].latencyP95Ms = percentile(values, 0.95);
    });
  }
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}
