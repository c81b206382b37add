import { Injectable, Module } from '@nestjs/common';
import { defineJob, JobContext, JobHandler } from '../../src/queue/job';
import { JobQueue } from '../../src/queue/job-queue';
import { backends } from '../support/backends';
import { startTestApp, TestApp } from '../support/test-app';

const FlakyJob = defineJob<{ id: string; failTimes: number }>('test.flaky', { attempts: 3, backoffMs: 50, concurrency: 2 });
const DelayedJob = defineJob<{ id: string }>('test.delayed', { attempts: 1, backoffMs: 10, concurrency: 2 });

/** Records what ran, so both drivers can be compared on the same handler code. */
@Injectable()
class Recorder {
  runs: Array<{ id: string; attempt: number; final: boolean; at: number }> = [];
  delayed: Array<{ id: string; at: number }> = [];

  @JobHandler(FlakyJob)
  async flaky(data: { id: string; failTimes: number }, context: JobContext): Promise<void> {
    this.runs.push({ id: data.id, attempt: context.attempt, final: context.isFinalAttempt, at: Date.now() });
    if (context.attempt <= data.failTimes) throw new Error(`planned failure ${context.attempt}`);
  }

  @JobHandler(DelayedJob)
  async delayedRun(data: { id: string }): Promise<void> {
    this.delayed.push({ id: data.id, at: Date.now() });
  }
}

@Module({ providers: [Recorder] })
class RecorderModule {}

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.each(backends())('job queue on %s', (backend) => {
  let relay: TestApp;
  let queue: JobQueue;
  let recorder: Recorder;

  beforeAll(async () => {
    relay = await startTestApp({ backend, modules: [RecorderModule] });
    queue = relay.get(JobQueue);
    recorder = relay.get(Recorder);
  });
  afterAll(() => relay?.close());

  it('uses the driver the configuration asks for', () => {
    expect(queue.driverName).toBe(backend.redisUrl ? 'bullmq' : 'in-process');
  });

  it('runs a handler and retries a failing job with backoff until it succeeds', async () => {
    await queue.add(FlakyJob, { id: 'a', failTimes: 2 });
    await waitFor(() => recorder.runs.filter((r) => r.id === 'a').length === 3);
    const runs = recorder.runs.filter((r) => r.id === 'a');
    expect(runs.map((r) => r.attempt)).toEqual([1, 2, 3]);
    expect(runs.map((r) => r.final)).toEqual([false, false, true]);
    expect(runs[1].at - runs[0].at).toBeGreaterThanOrEqual(40); // 50 ms backoff
    expect(runs[2].at - runs[1].at).toBeGreaterThanOrEqual(90); // doubled
  });

  it('gives up after the configured attempts', async () => {
    await queue.add(FlakyJob, { id: 'b', failTimes: 10 });
    await waitFor(() => recorder.runs.filter((r) => r.id === 'b').length === 3);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(recorder.runs.filter((r) => r.id === 'b')).toHaveLength(3);
  });

  it('runs delayed jobs no earlier than asked', async () => {
    const enqueuedAt = Date.now();
    await queue.add(DelayedJob, { id: 'late' }, { delayMs: 300 });
    await queue.add(DelayedJob, { id: 'now' });
    await waitFor(() => recorder.delayed.some((d) => d.id === 'late'));
    const late = recorder.delayed.find((d) => d.id === 'late')!;
    const now = recorder.delayed.find((d) => d.id === 'now')!;
    expect(late.at - enqueuedAt).toBeGreaterThanOrEqual(280);
    expect(now.at).toBeLessThan(late.at);
  });

  it('de-duplicates by job id while the job is pending', async () => {
    await queue.addBulk(DelayedJob, [
      { data: { id: 'dup' }, jobId: 'dup-1', delayMs: 100 },
      { data: { id: 'dup' }, jobId: 'dup-1', delayMs: 100 },
    ]);
    await queue.add(DelayedJob, { id: 'dup' }, { jobId: 'dup-1', delayMs: 100 });
    await waitFor(() => recorder.delayed.some((d) => d.id === 'dup'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(recorder.delayed.filter((d) => d.id === 'dup')).toHaveLength(1);
  });

  it('takes a job id again once its job failed for good, and counts the failure', async () => {
    const failedBefore = (await queue.counts())['test.flaky'].failed;
    await queue.add(FlakyJob, { id: 'again', failTimes: 10 }, { jobId: 'again-1' });
    await waitFor(() => recorder.runs.filter((r) => r.id === 'again').length === 3);
    // The failure is counted once the last try's error is handled.
    for (let i = 0; i < 100 && (await queue.counts())['test.flaky'].failed === failedBefore; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await queue.counts())['test.flaky'].failed).toBe(failedBefore + 1);
    // A sweeper's re-enqueue uses the same id: it must run, not be ignored as a duplicate of the failed job.
    await queue.add(FlakyJob, { id: 'again', failTimes: 0 }, { jobId: 'again-1' });
    await waitFor(() => recorder.runs.filter((r) => r.id === 'again').length === 4);
    expect(recorder.runs.filter((r) => r.id === 'again').map((r) => r.attempt)).toEqual([1, 2, 3, 1]);
  });

  it('reports queue depth per job kind', async () => {
    await queue.add(DelayedJob, { id: 'counted' }, { delayMs: 60_000 });
    const counts = await queue.counts();
    expect(counts['test.delayed'].delayed).toBeGreaterThanOrEqual(1);
  });
});
