import { JobDefinition, nextSlot } from './job';

const job = (every: JobDefinition['options']['every']): JobDefinition => ({ name: 'test.periodic', options: { attempts: 1, backoffMs: 1, concurrency: 1, every } });

describe('nextSlot', () => {
  it('waits until the next interval boundary and names the job by slot, the same in every process', () => {
    const minute = job({ intervalMs: 60_000 });
    expect(nextSlot(minute, 120_000 + 15_000)).toEqual({ slot: 3, delayMs: 45_000, jobId: 'test-periodic-3' });
    expect(nextSlot(minute, 180_000)).toEqual({ slot: 4, delayMs: 60_000, jobId: 'test-periodic-4' });
  });

  it('starts each slot at its offset (e.g. daily at 03:00 UTC)', () => {
    const daily = job({ intervalMs: 86_400_000, offsetMs: 3 * 3_600_000 });
    const at = Date.UTC(2026, 10, 21, 2, 0, 0);
    const next = nextSlot(daily, at);
    expect(new Date(at + next.delayMs).toISOString()).toBe('2026-11-21T03:00:00.000Z');
    const after = nextSlot(daily, Date.UTC(2026, 10, 21, 4, 0, 0));
    expect(new Date(Date.UTC(2026, 10, 21, 4, 0, 0) + after.delayMs).toISOString()).toBe('2026-11-22T03:00:00.000Z');
  });
});
