import { InProcessDriver } from './in-process.driver';
import { HandlerFn, JobData, JobDefinition } from './job';

const Deliver: JobDefinition<{ run: string }> = { name: 'test.coalesce', options: { attempts: 1, backoffMs: 1, concurrency: 1 } };

describe('InProcessDriver coalescing', () => {
  let queue: InProcessDriver;
  let ran: string[];
  let unblock: () => void;

  beforeEach(async () => {
    queue = new InProcessDriver();
    ran = [];
    const blocked = new Promise<void>((resolve) => (unblock = resolve));
    const run: HandlerFn = async (data: JobData) => {
      ran.push(String(data.run));
      if (data.run === 'running') await blocked;
    };
    await queue.startWorkers(new Map([[Deliver.name, { job: Deliver, run }]]));
  });
  afterEach(() => queue.close());

  const idle = async () => {
    for (;;) {
      const { active, waiting, delayed } = (await queue.counts())[Deliver.name];
      if (!active && !waiting && !delayed) return;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };

  it('drops a job whose key already has one waiting to start, and only then', async () => {
    await queue.add(Deliver, { run: 'running' }, { jobId: 'a', coalesceKey: 'conversation-1' });
    await queue.add(Deliver, { run: 'waiting' }, { jobId: 'b', coalesceKey: 'conversation-1' }); // the running one does not count
    await queue.add(Deliver, { run: 'dropped' }, { jobId: 'c', coalesceKey: 'conversation-1' }); // "waiting" will do its work
    await queue.add(Deliver, { run: 'other key' }, { jobId: 'd', coalesceKey: 'conversation-2' });
    await queue.add(Deliver, { run: 'delayed' }, { jobId: 'e', coalesceKey: 'conversation-1', delayMs: 20 }); // a retry's time is its own
    expect((await queue.counts())[Deliver.name]).toMatchObject({ active: 1, waiting: 2, delayed: 1 });
    unblock();
    await new Promise((resolve) => setTimeout(resolve, 40));
    await idle();
    expect(ran).toEqual(['running', 'waiting', 'other key', 'delayed']);

    // Once the waiting one has started, the key is free again.
    await queue.add(Deliver, { run: 'later' }, { jobId: 'f', coalesceKey: 'conversation-1' });
    await idle();
    expect(ran).toContain('later');
  });
});
