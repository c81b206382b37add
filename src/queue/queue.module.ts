import { BeforeApplicationShutdown, Global, Inject, Injectable, Logger, Module, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, MetadataScanner } from '@nestjs/core';
import { AppConfig } from '../config/app-config';
import { BullMqDriver } from './bullmq.driver';
import { InProcessDriver } from './in-process.driver';
import { declaredJobs, HandlerFn, JOB_HANDLER, JobDefinition, nextSlot } from './job';
import { JobQueue } from './job-queue';

export class JobRegistrationError extends Error {}

/**
 * Finds every @JobHandler, refuses to boot when a declared job has no handler or two,
 * and starts the workers when this process's ROLE runs them.
 */
@Injectable()
export class JobWorkers implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Queue');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    @Inject(JobQueue) private readonly queue: JobQueue,
    private readonly config: AppConfig,
  ) {}

  collectHandlers(): Map<string, { job: JobDefinition; run: HandlerFn }> {
    const handlers = new Map<string, { job: JobDefinition; run: HandlerFn }>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || wrapper.isNotMetatype) continue;
      const prototype = Object.getPrototypeOf(instance);
      if (!prototype) continue;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const job = Reflect.getMetadata(JOB_HANDLER, prototype[method]) as JobDefinition | undefined;
        if (!job) continue;
        if (handlers.has(job.name)) {
          throw new JobRegistrationError(`Job "${job.name}" has two handlers (${wrapper.name}.${method} and another): keep one`);
        }
        handlers.set(job.name, { job, run: (prototype[method] as HandlerFn).bind(instance) });
      }
    }
    const missing = declaredJobs().filter((job) => !handlers.has(job.name)).map((job) => job.name);
    if (missing.length) {
      throw new JobRegistrationError(`No handler for job ${missing.map((n) => `"${n}"`).join(', ')}: add a @JobHandler or remove the job`);
    }
    return handlers;
  }

  async onApplicationBootstrap(): Promise<void> {
    const handlers = this.collectHandlers();
    if (!this.config.runsWorkers) return;
    for (const entry of handlers.values()) {
      if (entry.job.options.every) entry.run = this.periodic(entry.job, entry.run);
      const configured = entry.job.options.concurrencyFromConfig?.(this.config);
      if (configured) entry.job = { ...entry.job, options: { ...entry.job.options, concurrency: configured } };
    }
    await this.queue.startWorkers(handlers);
    for (const { job } of handlers.values()) if (job.options.every) await this.scheduleNextSlot(job);
    this.logger.log(`Workers started on the ${this.queue.driverName} queue for ${handlers.size} job kinds`);
  }

  /** A periodic handler schedules its next slot whatever happens in this one. */
  private periodic(job: JobDefinition, run: HandlerFn): HandlerFn {
    return async (data, context) => {
      try {
        await run(data, context);
      } catch (error) {
        this.logger.warn(`Periodic job ${job.name} did not finish: ${(error as Error).message}`);
      } finally {
        await this.scheduleNextSlot(job).catch((error: Error) => this.logger.error(`Could not schedule ${job.name}: ${error.message}`));
      }
    };
  }

  private async scheduleNextSlot(job: JobDefinition): Promise<void> {
    const { slot, delayMs, jobId } = nextSlot(job);
    await this.queue.add(job, { slot }, { delayMs, jobId });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}

@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: JobQueue,
      inject: [AppConfig],
      useFactory: (config: AppConfig): JobQueue =>
        config.redisUrl ? new BullMqDriver(config.redisUrl, config.queuePrefix, declaredJobs()) : new InProcessDriver(),
    },
    JobWorkers,
  ],
  exports: [JobQueue],
})
export class QueueModule {}
