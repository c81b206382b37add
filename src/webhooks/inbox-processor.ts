import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { IngestItem, IngestService } from '../relay/ingest.service';
import { classifyWebhook } from './classify';
import { ParsedWebhook } from './inbound-event';
import { WebhookInbox } from './webhook-inbox';

interface Accepted {
  inboxId: string;
  parsed: ParsedWebhook;
  events: number;
}

/** Events per ingest transaction: big enough to amortise statements, small enough not to hold the database long. */
const MAX_EVENTS_PER_BATCH = 1_000;
/** Events accepted but not yet turned into messages, per process, before new POSTs wait for room. */
const MAX_BACKLOG_EVENTS = 20_000;
const BATCH_GATHER_MS = 5;
const RECOVERY_INTERVAL_MS = 30_000;
/** A row this old was not taken by the process that received it (it died, or lost it): any process may. */
const ORPHAN_AGE_MS = 60_000;
const RECOVERY_BATCH = 100;
const RECOVERY_LEASE_MS = 5 * 60_000;
const SHUTDOWN_DRAIN_MS = 10_000;

/**
 * Turns inbox rows into messages, off the webhook's answer path. The process that received a POST
 * hands it over in memory right after the commit and works through them in batches. Rows left
 * behind (a crash, a failed transaction) are found again by a recovery pass, at boot and every 30 s.
 * A row is deleted in the same transaction that stores its messages, and message keys are unique, so
 * taking a row twice stores nothing twice.
 */
@Injectable()
export class InboxProcessor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('WebhookInbox');
  private readonly backlog: Accepted[] = [];
  private readonly inMemory = new Set<string>();
  private backlogEvents = 0;
  private readonly roomWaiters: Array<() => void> = [];
  private readonly idleWaiters: Array<() => void> = [];
  private working: Promise<void> | null = null;
  private recovering: Promise<void> | null = null;
  private recoveryTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private lastBatchEndedAt = 0;

  constructor(
    private readonly inbox: WebhookInbox,
    private readonly ingest: IngestService,
    private readonly config: AppConfig,
    metrics: MetricsService,
  ) {
    new Gauge({
      name: 'relay_webhook_inbox_rows',
      help: 'Webhook POSTs answered 200 and kept in the inbox, not yet turned into messages (all processes)',
      registers: [metrics.registry],
      async collect() {
        this.set(await inbox.count().catch(() => 0));
      },
    });
  }

  onApplicationBootstrap(): void {
    // Embedded SQLite has one process: every row at boot is left over from the last run.
    this.scheduleRecovery(0, this.config.database.kind === 'sqlite' ? 0 : ORPHAN_AGE_MS);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.recoveryTimer) clearTimeout(this.recoveryTimer);
    const drained = Promise.all([this.idle(), this.recovering?.catch(() => undefined)]);
    // What is not done by then stays in the table for the next boot's recovery pass.
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, SHUTDOWN_DRAIN_MS).unref())]);
  }

  /** Waits while this process already holds MAX_BACKLOG_EVENTS unprocessed events (the POST answers later instead). */
  room(): Promise<void> {
    if (this.backlogEvents < MAX_BACKLOG_EVENTS) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** A committed inbox row, handed over with its parsed events so they are not parsed again. */
  submit(inboxId: string, parsed: ParsedWebhook): void {
    const events = Math.max(1, parsed.events.length);
    this.backlog.push({ inboxId, parsed, events });
    this.inMemory.add(inboxId);
    this.backlogEvents += events;
    this.kick();
  }

  /** Resolves when every POST handed over so far has been processed (tests and shutdown). */
  idle(): Promise<void> {
    if (!this.working && !this.backlog.length) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get pendingEvents(): number {
    return this.backlogEvents;
  }

  /** One pass over rows no process is working on; returns how many were stored. */
  async recover(receivedBefore = new Date(Date.now() - ORPHAN_AGE_MS)): Promise<number> {
    let stored = 0;
    for (;;) {
      const now = new Date();
      const rows = (await this.inbox.oldest(receivedBefore, now, RECOVERY_BATCH)).filter((row) => !this.inMemory.has(row.id));
      if (!rows.length) return stored;
      const items: IngestItem[] = [];
      for (const row of rows) {
        if (!(await this.inbox.claim(row, now, new Date(now.getTime() + RECOVERY_LEASE_MS)))) continue;
        try {
          items.push({ inboxId: row.id, parsed: classifyWebhook(JSON.parse(row.body.toString('utf8')), this.config.facebook.appId) });
        } catch (error) {
          await this.failed(row.id, row.attempts + 1, `The stored body cannot be read: ${(error as Error).message}`);
        }
      }
      if (items.length) stored += await this.process(items, (item) => rows.find((row) => row.id === item.inboxId)!.attempts + 1);
      if (rows.length < RECOVERY_BATCH || this.stopped) return stored;
    }
  }

  private kick(): void {
    if (this.working) return;
    this.working = this.work().finally(() => {
      this.working = null;
      // A POST handed over between the loop's last check and now.
      if (this.backlog.length) this.kick();
      else this.idleWaiters.splice(0).forEach((resolve) => resolve());
    });
  }

  /**
   * Under steady traffic, a batch started as soon as the previous one ends would hold one or two POSTs:
   * each transaction's fixed cost (BEGIN, COMMIT, the statements) would then be paid per POST. A short
   * pause lets the next batch gather what arrives meanwhile. A POST arriving after a quiet spell goes at once.
   */
  private async gather(): Promise<void> {
    const sinceLast = Date.now() - this.lastBatchEndedAt;
    if (sinceLast < BATCH_GATHER_MS && this.backlogEvents < MAX_EVENTS_PER_BATCH) {
      await new Promise((resolve) => setTimeout(resolve, BATCH_GATHER_MS - sinceLast));
    }
  }

  private async work(): Promise<void> {
    while (this.backlog.length) {
      await this.gather();
      let events = 0;
      let take = 0;
      while (take < this.backlog.length && (take === 0 || events + this.backlog[take].events <= MAX_EVENTS_PER_BATCH)) {
        events += this.backlog[take].events;
        take++;
      }
      const batch = this.backlog.slice(0, take);
      try {
        await this.process(batch.map(({ inboxId, parsed }) => ({ inboxId, parsed })), () => 1);
      } catch (error) {
        // Not even the failures could be recorded (database gone): the rows stay for the recovery pass.
        this.logger.error(`Could not process ${batch.length} stored webhook POSTs (they stay in the inbox): ${(error as Error).message}`);
      }
      this.lastBatchEndedAt = Date.now();
      this.backlog.splice(0, take);
      for (const accepted of batch) this.inMemory.delete(accepted.inboxId);
      this.backlogEvents -= events;
      while (this.backlogEvents < MAX_BACKLOG_EVENTS && this.roomWaiters.length) this.roomWaiters.shift()!();
    }
  }

  private async process(items: IngestItem[], attemptOf: (item: IngestItem) => number): Promise<number> {
    const outcomes = await this.ingest.ingestBatch(items);
    let stored = 0;
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.ok) {
        stored += outcome.result.stored;
        continue;
      }
      await this.failed(items[i].inboxId!, attemptOf(items[i]), outcome.error.message);
    }
    return stored;
  }

  private async failed(inboxId: string, attempt: number, reason: string): Promise<void> {
    const retryInMs = Math.min(60 * 60_000, 30_000 * 2 ** Math.min(attempt - 1, 7));
    this.logger.error(`Stored webhook POST ${inboxId} could not be turned into messages (attempt ${attempt}; next try in ${Math.round(retryInMs / 1000)} s): ${reason}`);
    await this.inbox.recordFailure(inboxId, attempt, reason, new Date(Date.now() + retryInMs));
  }

  private scheduleRecovery(delayMs: number, orphanAgeMs: number): void {
    if (this.stopped) return;
    this.recoveryTimer = setTimeout(() => {
      this.recovering = this.recover(new Date(Date.now() - orphanAgeMs))
        .then((stored) => {
          if (stored) this.logger.log(`Recovered ${stored} messages from webhook POSTs left in the inbox`);
        })
        .catch((error: Error) => this.logger.warn(`Inbox recovery failed (next one in ${RECOVERY_INTERVAL_MS / 1000} s): ${error.message}`))
        .finally(() => this.scheduleRecovery(RECOVERY_INTERVAL_MS, ORPHAN_AGE_MS));
    }, delayMs);
    this.recoveryTimer.unref();
  }
}
