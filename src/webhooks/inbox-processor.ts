import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { IngestItem, IngestService } from '../relay/ingest.service';
import { WebhooksFirst } from '../relay/webhooks-first';
import { classifyWebhook } from './classify';
import { ParsedWebhook } from './inbound-event';
import { WebhookInbox } from './webhook-inbox';

interface Accepted {
  inboxId: string;
  parsed: ParsedWebhook;
  events: number;
}

/**
 * Events per ingest transaction. On SQLite a transaction runs without giving the event loop back, so
 * while webhook POSTs keep arriving batches stay small, and a larger POST goes in parts: answers wait
 * at most one of them (in the bench, 50 events held the loop for 4 ms on average, 100 for 11 ms).
 * Once the POSTs stop, batches grow, since sharing each statement's cost over more events is then what
 * counts. MySQL's statements do not hold the loop, and each is a round trip, so batches there stay at
 * 100 events while receiving.
 */
const EVENTS_PER_BATCH_WHILE_RECEIVING = { sqlite: 50, mysql: 100 };
const EVENTS_PER_BATCH_WHEN_QUIET = 500;
/** POSTs accepted this recently count as "receiving". */
const RECEIVING_WINDOW_MS = 200;
/** Parsed events kept in memory per process; beyond, POSTs wait in the table only (the burst is absorbed there). */
const MAX_EVENTS_IN_MEMORY = 5_000;
const BATCH_GATHER_MS = 5;
/** How long the receiving process holds its rows; past it, any process may take them (the receiver died). */
const RECEIVER_LEASE_MS = 60_000;
/**
 * Rows read (and parsed, in one go) per pass over the table: while POSTs arrive, few, because 100 rows of
 * 100-event POSTs held the event loop for tens of ms (100-event ingest answer p99 63-74 -> 53-57 ms with 10).
 */
const TABLE_BATCH_ROWS = 100;
const TABLE_BATCH_ROWS_WHILE_RECEIVING = 10;
const TABLE_LEASE_MS = 5 * 60_000;
const RECOVERY_INTERVAL_MS = 30_000;
const SHUTDOWN_DRAIN_MS = 10_000;
/** After a batch in memory failed as a whole (the database is unreachable): the first pause before trying it again, doubling up to the last. */
const MEMORY_RETRY_FIRST_MS = 250;
const MEMORY_RETRY_MAX_MS = 10_000;
const BOOT_PASS_MS = 10_000;
/**
 * A stored POST that could not be turned into messages is tried again after this pause, doubling up to an
 * hour. A body that cannot be read will not read better soon; a failed transaction (a deadlock, a lock
 * wait timeout, a busy database) usually goes through a moment later.
 */
const RETRY_FIRST_MS = { unreadable: 30_000, storing: 2_000 };
const RETRY_MAX_MS = 60 * 60_000;

/**
 * Turns webhook-inbox rows into messages, off the webhook's answer path.
 *
 * The process that received a POST keeps its parsed events in memory and works through them in
 * batches right after the commit. When more than MAX_EVENTS_IN_MEMORY wait, new POSTs are only
 * written to the table ("spilled"), and stay there until the ones before them are done: the table
 * is read oldest first, so the order of arrival holds. Rows that failed, rows of other processes'
 * bursts and rows whose process died are found in the table by the same reader every 30 s; at boot,
 * before the first webhook is answered, a process stores every row received before it started.
 *
 * A row is deleted in the transaction that stores its messages, and message keys are unique, so a row
 * processed twice (a lease that ran out mid-work) stores nothing twice.
 */
@Injectable()
export class InboxProcessor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('WebhookInbox');
  private readonly backlog: Accepted[] = [];
  private eventsInMemory = 0;
  private spilling = false;
  private tableMayHaveWork = false;
  private working: Promise<void> | null = null;
  private readonly idleWaiters: Array<() => void> = [];
  private recoveryTimer: NodeJS.Timeout | null = null;
  private lastBatchStartedAt = 0;
  private lastBatchEndedAt = 0;
  private lastAcceptedAt = 0;
  private memoryRetryMs = 0;
  private stopped = false;

  constructor(
    private readonly inbox: WebhookInbox,
    private readonly ingest: IngestService,
    private readonly config: AppConfig,
    private readonly webhooksFirst: WebhooksFirst,
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

  /**
   * Before this process answers its first webhook: the rows received before it started, leased or not
   * (a process that died leaves its accepted POSTs leased to it), so they are stored before anything
   * newer of the same conversations. A very long backlog goes on in the background after 10 s.
   */
  async onApplicationBootstrap(): Promise<void> {
    const startedAt = new Date();
    const deadline = Date.now() + BOOT_PASS_MS;
    try {
      while (Date.now() < deadline && (await this.processFromTable(startedAt)) > 0);
    } catch (error) {
      this.logger.warn(`Could not read the webhook inbox at boot (next try in ${RECOVERY_INTERVAL_MS / 1000} s): ${(error as Error).message}`);
    }
    this.readTableSoon(0);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.recoveryTimer) clearTimeout(this.recoveryTimer);
    // What is not done by then stays in the table, for another process or the next boot.
    await Promise.race([this.working, new Promise((resolve) => setTimeout(resolve, SHUTDOWN_DRAIN_MS).unref())]);
  }

  /** Commits one verified POST to the inbox (resolves once it is durable) and queues it for processing. */
  async accept(body: Buffer, parsed: ParsedWebhook): Promise<void> {
    const events = Math.max(1, parsed.events.length);
    this.lastAcceptedAt = Date.now();
    if (this.spilling || this.eventsInMemory + events > MAX_EVENTS_IN_MEMORY) {
      this.spilling = true;
      await this.inbox.append(body, null);
      this.readTable();
      return;
    }
    this.eventsInMemory += events; // counted before the commit, so POSTs committing meanwhile see it
    let inboxId: string;
    try {
      inboxId = await this.inbox.append(body, new Date(Date.now() + RECEIVER_LEASE_MS));
    } catch (error) {
      this.eventsInMemory -= events;
      throw error;
    }
    this.backlog.push({ inboxId, parsed, events });
    this.kick();
  }

  /** Resolves when everything accepted so far, and everything free in the table, has been processed. */
  idle(): Promise<void> {
    if (!this.working && !this.backlog.length && !this.tableMayHaveWork) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Processes the free rows of the table now (tests; the timer does it every 30 s). */
  async recover(): Promise<void> {
    this.readTable();
    await this.idle();
  }

  /** Lets the worker loop read the table: now, or after the work in hand. */
  private readTable(): void {
    this.tableMayHaveWork = true;
    this.kick();
  }

  private kick(): void {
    if (this.working || this.stopped) return;
    this.working = this.work().finally(() => {
      this.working = null;
      // Work handed over between the loop's last check and now.
      if ((this.backlog.length || this.tableMayHaveWork) && !this.stopped) this.kick();
      else this.idleWaiters.splice(0).forEach((resolve) => resolve());
    });
  }

  private async work(): Promise<void> {
    for (;;) {
      if (this.backlog.length) {
        await this.gather();
        await this.processFromMemory();
      } else if (this.tableMayHaveWork && !this.stopped) {
        const taken = await this.processFromTable().catch((error: Error) => {
          this.logger.warn(`Could not read the webhook inbox (next try in ${RECOVERY_INTERVAL_MS / 1000} s): ${error.message}`);
          return 0;
        });
        if (!taken) {
          this.tableMayHaveWork = false;
          if (!this.backlog.length) this.spilling = false;
        }
      } else {
        return;
      }
      await this.yieldToWebhooks();
    }
  }

  private get receiving(): boolean {
    return Date.now() - this.lastAcceptedAt < RECEIVING_WINDOW_MS;
  }

  private get eventsPerBatch(): number {
    return this.receiving ? EVENTS_PER_BATCH_WHILE_RECEIVING[this.config.database.kind] : EVENTS_PER_BATCH_WHEN_QUIET;
  }

  /**
   * Between two batches the event loop serves what has arrived, and while POSTs keep coming, the processor
   * also pauses as long as its last batch took, so that the next batch gathers more events and answers keep
   * at least half of the loop. Under pressure, WebhooksFirst paces it further. Only on SQLite: there a
   * batch's time is the loop's time, while on MySQL it is mostly waiting for round trips, with the loop free
   * meanwhile (at 500 events/s on MariaDB, messages were rows 2 s after their POST with the pause, 0.2-0.4 s
   * without).
   */
  private async yieldToWebhooks(): Promise<void> {
    const lastBatchMs = Date.now() - this.lastBatchStartedAt;
    if (this.receiving && lastBatchMs > 1 && this.config.database.kind === 'sqlite') await new Promise((resolve) => setTimeout(resolve, Math.min(lastBatchMs, 100)));
    else await new Promise((resolve) => setImmediate(resolve));
  }

  /** One ingest transaction, as a unit of background work: under pressure it waits its turn behind webhook answers. */
  private ingestUnit(items: IngestItem[]) {
    return this.webhooksFirst.inTurn(() => {
      this.lastBatchStartedAt = Date.now();
      return this.ingest.ingestBatch(items);
    });
  }

  /**
   * Under steady traffic, a batch started as soon as the previous one ends would hold one or two POSTs,
   * and each transaction's fixed cost (BEGIN, COMMIT, the statements) would be paid per POST. A short
   * pause lets the next batch gather what arrives meanwhile; after a quiet spell a POST goes at once.
   */
  private async gather(): Promise<void> {
    const sinceLast = Date.now() - this.lastBatchEndedAt;
    if (sinceLast < BATCH_GATHER_MS && this.eventsInMemory < this.eventsPerBatch) {
      await new Promise((resolve) => setTimeout(resolve, BATCH_GATHER_MS - sinceLast));
    }
  }

  private async processFromMemory(): Promise<void> {
    const limit = this.eventsPerBatch;
    let events = 0;
    let take = 0;
    while (take < this.backlog.length && (take === 0 || events + this.backlog[take].events <= limit)) {
      events += this.backlog[take].events;
      take++;
    }
    const batch = this.backlog.splice(0, take);
    try {
      await this.process(batch.map(({ inboxId, parsed }) => ({ inboxId, parsed, attempts: 1 })));
      this.eventsInMemory -= events;
      this.memoryRetryMs = 0;
    } catch (error) {
      // Not even the failure could be recorded: the database is gone, perhaps restarting. The rows are leased to
      // this process for a minute, so it tries them again itself, first in line, soon and then less often; when
      // it is shutting down, they wait in the table for the next process.
      if (this.stopped) {
        this.eventsInMemory -= events;
        this.logger.error(`Could not process ${batch.length} stored webhook POSTs while shutting down (they stay in the inbox): ${(error as Error).message}`);
        return;
      }
      this.memoryRetryMs = Math.min(this.memoryRetryMs ? this.memoryRetryMs * 2 : MEMORY_RETRY_FIRST_MS, MEMORY_RETRY_MAX_MS);
      this.logger.error(`Could not process ${batch.length} stored webhook POSTs (they stay in the inbox; next try in ${this.memoryRetryMs} ms): ${(error as Error).message}`);
      this.backlog.unshift(...batch);
      await new Promise((resolve) => setTimeout(resolve, this.memoryRetryMs));
    } finally {
      this.lastBatchEndedAt = Date.now();
    }
  }

  /** One batch of free rows from the table (at boot, of rows received before it); answers how many rows it took. */
  private async processFromTable(evenLeasedBefore?: Date): Promise<number> {
    const now = new Date();
    const rowsPerPass = this.receiving ? TABLE_BATCH_ROWS_WHILE_RECEIVING : TABLE_BATCH_ROWS;
    const rows = await this.inbox.take(now, new Date(now.getTime() + TABLE_LEASE_MS), rowsPerPass, evenLeasedBefore);
    const items: Array<IngestItem & { attempts: number }> = [];
    for (const row of rows) {
      try {
        items.push({ inboxId: row.id, parsed: classifyWebhook(JSON.parse(row.body.toString('utf8')), this.config.facebook.appId), attempts: row.attempts });
      } catch (error) {
        await this.failed(row.id, row.attempts, `The stored body cannot be read: ${(error as Error).message}`, 'unreadable');
      }
    }
    const limit = this.eventsPerBatch;
    for (let start = 0; start < items.length;) {
      let events = 0;
      let end = start;
      while (end < items.length && (end === start || events + items[end].parsed.events.length <= limit)) events += items[end++].parsed.events.length;
      if (start > 0) await this.yieldToWebhooks();
      await this.process(items.slice(start, end));
      start = end;
    }
    return rows.length;
  }

  private async process(items: Array<IngestItem & { attempts: number }>): Promise<void> {
    if (items.length === 1 && items[0].parsed.events.length > this.eventsPerBatch) return this.processInParts(items[0]);
    const outcomes = await this.ingestUnit(items);
    for (const [i, outcome] of outcomes.entries()) {
      if (!outcome.ok) await this.failed(items[i].inboxId!, items[i].attempts, outcome.error.message, 'storing');
    }
  }

  /**
   * A POST with more events than a batch holds goes in parts, one transaction each, with webhook answers
   * served in between (see EVENTS_PER_BATCH_WHILE_RECEIVING). Only the last part deletes the inbox row.
   * When a part fails, or the process dies before the last one, the whole POST is tried again later, and
   * its parts stored already are duplicates, which store and deliver nothing twice.
   */
  private async processInParts(item: IngestItem & { attempts: number }): Promise<void> {
    const { events } = item.parsed;
    for (let start = 0; start < events.length;) {
      if (start > 0) await this.yieldToWebhooks();
      const end = Math.min(events.length, start + this.eventsPerBatch);
      const last = end === events.length;
      const part = { parsed: { ...item.parsed, events: events.slice(start, end), ignored: start === 0 ? item.parsed.ignored : 0 }, inboxId: last ? item.inboxId : undefined };
      const [outcome] = await this.ingestUnit([part]);
      if (!outcome.ok) return this.failed(item.inboxId!, item.attempts, outcome.error.message, 'storing');
      start = end;
    }
  }

  private async failed(inboxId: string, attempt: number, reason: string, why: keyof typeof RETRY_FIRST_MS): Promise<void> {
    const retryInMs = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS[why] * 2 ** Math.min(Math.max(attempt, 1) - 1, 11));
    this.logger.error(`Stored webhook POST ${inboxId} could not be turned into messages (try ${attempt}; next in ${Math.round(retryInMs / 1000)} s): ${reason}`);
    await this.inbox.recordFailure(inboxId, Math.max(attempt, 1), reason, new Date(Date.now() + retryInMs));
    // The recovery pass comes every 30 s; a sooner retry gets a pass of its own.
    if (retryInMs < RECOVERY_INTERVAL_MS) {
      setTimeout(() => this.readTable(), retryInMs + 50).unref();
    }
  }

  private readTableSoon(delayMs: number): void {
    if (this.stopped) return;
    this.recoveryTimer = setTimeout(() => {
      this.readTable();
      this.readTableSoon(RECOVERY_INTERVAL_MS);
    }, delayMs);
    this.recoveryTimer.unref();
  }
}
