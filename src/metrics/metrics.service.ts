import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { Database } from '../database/database';
import { JobQueue } from '../queue/job-queue';

/**
 * Prometheus metrics. One registry per app instance (tests run several apps in one process).
 * Features get their counters through counter()/histogram() so names stay in one place.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  private readonly counters = new Map<string, Counter<string>>();
  private readonly histograms = new Map<string, Histogram<string>>();
  private messageCountsCache: { at: number; rows: Array<{ direction: string; status: string; count: number }> } | null = null;

  constructor(private readonly database: Database, private readonly queue: JobQueue) {
    collectDefaultMetrics({ register: this.registry, prefix: 'relay_process_' });
    this.httpDuration = new Histogram({
      name: 'relay_http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    const queue_ = this.queue;
    new Gauge({
      name: 'relay_queue_jobs',
      help: 'Jobs in the queue by job kind and state',
      labelNames: ['job', 'state'],
      registers: [this.registry],
      async collect() {
        this.reset();
        const counts = await queue_.counts().catch(() => ({}));
        for (const [job, byState] of Object.entries(counts)) {
          for (const [state, value] of Object.entries(byState)) this.set({ job, state }, value as number);
        }
      },
    });
    const self = this;
    new Gauge({
      name: 'relay_messages',
      help: 'Stored messages by direction and status',
      labelNames: ['direction', 'status'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const row of await self.messageCounts()) this.set({ direction: row.direction, status: row.status }, row.count);
      },
    });
  }

  counter(name: string, help: string, labelNames: string[] = []): Counter<string> {
    let counter = this.counters.get(name);
    if (!counter) {
      counter = new Counter({ name, help, labelNames, registers: [this.registry] });
      this.counters.set(name, counter);
    }
    return counter;
  }

  histogram(name: string, help: string, labelNames: string[] = [], buckets?: number[]): Histogram<string> {
    let histogram = this.histograms.get(name);
    if (!histogram) {
      histogram = new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
      this.histograms.set(name, histogram);
    }
    return histogram;
  }

  /** Grouped counts, cached for 10 s so frequent scrapes do not scan the messages table. */
  private async messageCounts() {
    if (this.messageCountsCache && Date.now() - this.messageCountsCache.at < 10_000) return this.messageCountsCache.rows;
    const raw: Array<{ direction: string; status: string; count: string | number }> = await this.database.dataSource
      .query('SELECT direction, status, COUNT(*) AS count FROM messages GROUP BY direction, status')
      .catch(() => []);
    const rows = raw.map((r) => ({ direction: r.direction, status: r.status, count: Number(r.count) }));
    this.messageCountsCache = { at: Date.now(), rows };
    return rows;
  }
}
