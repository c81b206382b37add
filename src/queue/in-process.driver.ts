import { Logger } from '@nestjs/common';
import { EnqueueOptions, HandlerFn, JobData, JobDefinition, QueueCounts } from './job';
import { JobQueue } from './job-queue';

interface PendingJob {
  id: string;
  data: JobData;
  attempt: number;
  coalesceKey?: string;
}

interface Lane {
  job: JobDefinition;
  run?: HandlerFn;
  ready: PendingJob[];
  active: number;
  delayed: Map<string, NodeJS.Timeout>;
  /** ids waiting, delayed or running, for jobId de-duplication */
  known: Set<string>;
  /** How many ready jobs (not started yet) have each coalesce key. */
  readyByKey: Map<string, number>;
  failed: number;
}

let sequence = 0;

/**
 * The embedded queue: jobs live in this process's memory. Not durable by itself: after a restart the
 * database sweepers enqueue again whatever is still pending, which is why jobs carry ids only.
 */
export class InProcessDriver extends JobQueue {
  readonly driverName = 'in-process';
  private readonly logger = new Logger('Queue');
  private readonly lanes = new Map<string, Lane>();
  private running = false;
  private closing = false;
  private idleWaiters: Array<() => void> = [];

  async add<T extends JobData>(job: JobDefinition<T>, data: T, options: EnqueueOptions = {}): Promise<void> {
    if (this.closing) throw new Error('Queue is shutting down');
    const lane = this.lane(job);
    const id = options.jobId ?? `job-${++sequence}`;
    const delayMs = options.delayMs ?? 0;
    if (lane.known.has(id)) return;
    if (options.coalesceKey && delayMs <= 0 && lane.readyByKey.has(options.coalesceKey)) return;
    lane.known.add(id);
    this.schedule(lane, { id, data, attempt: 1, coalesceKey: options.coalesceKey }, delayMs);
  }

  async addBulk<T extends JobData>(job: JobDefinition<T>, items: Array<{ data: T } & EnqueueOptions>): Promise<void> {
    for (const item of items) await this.add(job, item.data, item);
  }

  async counts(): Promise<Record<string, QueueCounts>> {
    const result: Record<string, QueueCounts> = {};
    for (const [name, lane] of this.lanes) {
      result[name] = { waiting: lane.ready.length, active: lane.active, delayed: lane.delayed.size, failed: lane.failed };
    }
    return result;
  }

  async ping(): Promise<void> {}

  async startWorkers(handlers: Map<string, { job: JobDefinition; run: HandlerFn }>): Promise<void> {
    for (const { job, run } of handlers.values()) Object.assign(this.lane(job), { job, run });
    this.running = true;
    for (const lane of this.lanes.values()) this.pump(lane);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.running = false;
    for (const lane of this.lanes.values()) {
      for (const timer of lane.delayed.values()) clearTimeout(timer);
      lane.delayed.clear();
    }
    if ([...this.lanes.values()].some((lane) => lane.active > 0)) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
  }

  private lane(job: JobDefinition): Lane {
    let lane = this.lanes.get(job.name);
    if (!lane) {
      lane = { job, ready: [], active: 0, delayed: new Map(), known: new Set(), readyByKey: new Map(), failed: 0 };
      this.lanes.set(job.name, lane);
    }
    return lane;
  }

  private schedule(lane: Lane, pending: PendingJob, delayMs: number): void {
    if (delayMs <= 0) {
      this.makeReady(lane, pending);
      return;
    }
    const timer = setTimeout(() => {
      lane.delayed.delete(pending.id);
      this.makeReady(lane, pending);
    }, delayMs);
    timer.unref();
    lane.delayed.set(pending.id, timer);
  }

  private makeReady(lane: Lane, pending: PendingJob): void {
    lane.ready.push(pending);
    if (pending.coalesceKey) lane.readyByKey.set(pending.coalesceKey, (lane.readyByKey.get(pending.coalesceKey) ?? 0) + 1);
    this.pump(lane);
  }

  private pump(lane: Lane): void {
    if (!this.running || !lane.run) return;
    while (lane.active < lane.job.options.concurrency && lane.ready.length) {
      const pending = lane.ready.shift()!;
      if (pending.coalesceKey) {
        const left = lane.readyByKey.get(pending.coalesceKey)! - 1;
        if (left) lane.readyByKey.set(pending.coalesceKey, left);
        else lane.readyByKey.delete(pending.coalesceKey);
      }
      lane.active++;
      void this.execute(lane, pending);
    }
  }

  private async execute(lane: Lane, pending: PendingJob): Promise<void> {
    const { attempts, backoffMs } = lane.job.options;
    let retryIn: number | null = null;
    try {
      await lane.run!(pending.data, { jobId: pending.id, attempt: pending.attempt, isFinalAttempt: pending.attempt >= attempts });
    } catch (error) {
      if (pending.attempt < attempts && !this.closing) {
        retryIn = backoffMs * 2 ** (pending.attempt - 1);
      } else {
        lane.failed++;
        this.logger.error(`Job ${lane.job.name} ${pending.id} failed after ${pending.attempt} attempts: ${(error as Error).message}`);
      }
    } finally {
      lane.active--;
      if (retryIn !== null) this.schedule(lane, { ...pending, attempt: pending.attempt + 1 }, retryIn);
      else lane.known.delete(pending.id);
      this.pump(lane);
      if (this.closing && [...this.lanes.values()].every((l) => l.active === 0)) {
        this.idleWaiters.splice(0).forEach((resolve) => resolve());
      }
    }
  }
}
