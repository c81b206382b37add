import { EnqueueOptions, HandlerFn, JobData, JobDefinition, QueueCounts } from './job';

/** The one queue interface; BullMqDriver and InProcessDriver implement it. Inject JobQueue. */
export abstract class JobQueue {
  abstract readonly driverName: 'bullmq' | 'in-process';

  abstract add<T extends JobData>(job: JobDefinition<T>, data: T, options?: EnqueueOptions): Promise<void>;

  abstract addBulk<T extends JobData>(job: JobDefinition<T>, items: Array<{ data: T } & EnqueueOptions>): Promise<void>;

  /** Per job name. */
  abstract counts(): Promise<Record<string, QueueCounts>>;

  abstract ping(): Promise<void>;

  /** Starts consuming with the given handlers (worker role). */
  abstract startWorkers(handlers: Map<string, { job: JobDefinition; run: HandlerFn }>): Promise<void>;

  /** Stops taking jobs and waits for running ones to finish, then disconnects. */
  abstract close(): Promise<void>;
}
