import { SetMetadata } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';

/** Jobs carry ids only: the database holds the state. */
export type JobData = Record<string, string | number | boolean | null>;

export interface JobOptions {
  /** Tries in all, the first included. */
  attempts: number;
  /** Exponential backoff base: the n-th retry waits backoffMs * 2^(n-1). */
  backoffMs: number;
  /** Jobs of this kind a worker process runs at once. */
  concurrency: number;
  /** When set, the configured value replaces `concurrency` in worker processes. */
  concurrencyFromConfig?: (config: AppConfig) => number;
  /**
   * Periodic jobs: run once per slot of `intervalMs` (starting `offsetMs` into each slot) across all
   * relay processes. The queue schedules the next slot itself; the slot number is the job id.
   */
  every?: { intervalMs: number; offsetMs?: number };
}

export interface JobDefinition<T extends JobData = JobData> {
  readonly name: string;
  readonly options: JobOptions;
  /** Phantom field carrying the data type. */
  readonly __data?: T;
}

export interface JobContext {
  jobId: string;
  /** 1 on the first try. */
  attempt: number;
  isFinalAttempt: boolean;
}

export interface EnqueueOptions {
  delayMs?: number;
  /**
   * While a job with this id is waiting, delayed or running, adding it again does nothing. Once it completed or failed
   * for good, the id can be added again: a sweeper re-enqueues work the database still holds under the same ids.
   */
  jobId?: string;
  /**
   * In-process queue only: while a job of this kind with the same key waits to start (not delayed, not
   * running), adding another does nothing, since the waiting one will do the same work. BullMQ adds it
   * (another process may have started the waiting one already).
   */
  coalesceKey?: string;
}

const definitions = new Map<string, JobDefinition>();

/** Declares a job kind. Every declared kind needs exactly one @JobHandler or the process refuses to boot. */
export function defineJob<T extends JobData>(name: string, options: Partial<JobOptions> = {}): JobDefinition<T> {
  if (!/^[a-z0-9][a-z0-9.-]*$/.test(name)) throw new Error(`Job name "${name}" must be lowercase letters, digits, dots and dashes`);
  if (definitions.has(name)) throw new Error(`Job "${name}" is declared twice`);
  const definition: JobDefinition<T> = { name, options: { attempts: 5, backoffMs: 1000, concurrency: 4, ...options } };
  definitions.set(name, definition as JobDefinition);
  return definition;
}

export function declaredJobs(): JobDefinition[] {
  return [...definitions.values()];
}

export const JOB_HANDLER = Symbol('job-handler');

/** Marks a provider method as the handler of a job kind: `@JobHandler(DeliverMessage) async run(data, ctx) {}`. */
export const JobHandler = (job: JobDefinition<any>): MethodDecorator => SetMetadata(JOB_HANDLER, job);

export type HandlerFn = (data: JobData, context: JobContext) => Promise<void>;

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  /** Jobs this process ran that failed for good, since it started (both drivers). */
  failed: number;
}

/** When the next slot of a periodic job starts, and its id (the same in every process). */
export function nextSlot(job: JobDefinition, now = Date.now()): { slot: number; delayMs: number; jobId: string } {
  const { intervalMs, offsetMs = 0 } = job.options.every!;
  const slot = Math.floor((now - offsetMs) / intervalMs) + 1;
  return { slot, delayMs: Math.max(0, slot * intervalMs + offsetMs - now), jobId: `${job.name.replace(/\./g, '-')}-${slot}` };
}
