import { Logger } from '@nestjs/common';
import { Job, Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { EnqueueOptions, HandlerFn, JobData, JobDefinition, QueueCounts } from './job';
import { JobQueue } from './job-queue';

/** Redis-backed queue shared by every relay process: one BullMQ queue per job kind. */
export class BullMqDriver extends JobQueue {
  readonly driverName = 'bullmq';
  private readonly logger = new Logger('Queue');
  private readonly connection: IORedis;
  private readonly queues = new Map<string, Queue>();
  private readonly workers: Worker[] = [];
  /** BullMQ leaves connections it was given open; these are ours to close. */
  private readonly workerConnections: IORedis[] = [];
  /** Jobs of each kind this process ran that failed for good (BullMQ removes them, so their ids can be added again). */
  private readonly failedForGood = new Map<string, number>();

  constructor(redisUrl: string, private readonly prefix: string, jobs: JobDefinition[]) {
    super();
    // maxRetriesPerRequest null: BullMQ's blocking commands must wait out a Redis restart, not fail.
    this.connection = new IORedis(redisUrl, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
    this.connection.on('error', (error) => this.logger.warn(`Redis: ${error.message}`));
    for (const job of jobs) this.queueFor(job);
  }

  async add<T extends JobData>(job: JobDefinition<T>, data: T, options: EnqueueOptions = {}): Promise<void> {
    await this.queueFor(job).add(job.name, data, this.jobOptions(job, options));
  }

  async addBulk<T extends JobData>(job: JobDefinition<T>, items: Array<{ data: T } & EnqueueOptions>): Promise<void> {
    if (!items.length) return;
    await this.queueFor(job).addBulk(items.map((item) => ({ name: job.name, data: item.data, opts: this.jobOptions(job, item) })));
  }

  async counts(): Promise<Record<string, QueueCounts>> {
    const result: Record<string, QueueCounts> = {};
    for (const [name, queue] of this.queues) {
      const counts = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed');
      result[name] = {
        waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
        active: counts.active ?? 0,
        delayed: counts.delayed ?? 0,
        failed: this.failedForGood.get(name) ?? 0,
      };
    }
    return result;
  }

  async ping(): Promise<void> {
    await withTimeout(this.connection.ping(), 2000, 'Redis did not answer PING within 2 s');
  }

  async startWorkers(handlers: Map<string, { job: JobDefinition; run: HandlerFn }>): Promise<void> {
    for (const { job, run } of handlers.values()) {
      const connection = this.connection.duplicate({ maxRetriesPerRequest: null });
      connection.on('error', (error) => this.logger.warn(`Redis (worker ${job.name}): ${error.message}`));
      this.workerConnections.push(connection);
      const worker = new Worker(
        job.name,
        async (bullJob: Job) => {
          const attempt = bullJob.attemptsMade + 1;
          await run(bullJob.data as JobData, { jobId: bullJob.id ?? '', attempt, isFinalAttempt: attempt >= job.options.attempts });
        },
        // A job whose process died is handed to another worker after at most lock + check (~25 s);
        // a live worker renews its lock every 7.5 s however long the job runs.
        { connection, prefix: this.prefix, concurrency: job.options.concurrency, lockDuration: 15_000, stalledInterval: 10_000 },
      );
      worker.on('failed', (failed, error) => {
        if (failed && failed.attemptsMade >= job.options.attempts) {
          this.failedForGood.set(job.name, (this.failedForGood.get(job.name) ?? 0) + 1);
          this.logger.error(`Job ${job.name} ${failed.id} failed after ${failed.attemptsMade} attempts: ${error.message}`);
        }
      });
      worker.on('error', (error) => this.logger.warn(`Worker ${job.name}: ${error.message}`));
      this.workers.push(worker);
    }
  }

  async close(): Promise<void> {
    // A BullMQ queue or worker closed while its connection is still being set up has that set-up fail
    // afterwards, and BullMQ reports it as an 'error' event after close() removed every listener: an
    // unhandled "Connection is closed" (redis-connection.js, init().catch). So the set-up finishes first,
    // for at most 2 s (Redis may be down).
    const parts: Array<Queue | Worker> = [...this.workers, ...this.queues.values()];
    await Promise.all(parts.map((part) => withTimeout(Promise.resolve(part.waitUntilReady()), 2000, 'not ready').catch(() => undefined)));
    await Promise.all(this.workers.map((worker) => worker.close()));
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    for (const connection of [...this.workerConnections, this.connection]) {
      await connection.quit().catch(() => connection.disconnect());
    }
  }

  private queueFor(job: JobDefinition): Queue {
    let queue = this.queues.get(job.name);
    if (!queue) {
      queue = new Queue(job.name, { connection: this.connection, prefix: this.prefix });
      // Without a listener, a Redis error on the queue is an unhandled 'error' event: the process dies.
      queue.on('error', (error) => this.logger.warn(`Queue ${job.name}: ${error.message}`));
      this.queues.set(job.name, queue);
    }
    return queue;
  }

  private jobOptions(job: JobDefinition, options: EnqueueOptions) {
    return {
      jobId: options.jobId,
      delay: options.delayMs && options.delayMs > 0 ? options.delayMs : undefined,
      attempts: job.options.attempts,
      backoff: { type: 'exponential', delay: job.options.backoffMs },
      // Both kinds of end free the id: a job kept as failed would make BullMQ ignore the sweepers' re-enqueue under the
      // same id (the message would wait for the next one in its conversation). The log and `counts` keep the failures.
      removeOnComplete: true,
      removeOnFail: true,
    };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Error(message)), ms); }),
  ]);
}
