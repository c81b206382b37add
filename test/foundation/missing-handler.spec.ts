import { defineJob } from '../../src/queue/job';
import { startTestApp } from '../support/test-app';

// Declared in this file only (jest isolates modules per file): no provider handles it.
defineJob<{ id: string }>('test.orphan');

describe('boot with a job nobody handles', () => {
  it('refuses to start and names the job', async () => {
    await expect(startTestApp()).rejects.toThrow('No handler for job "test.orphan"');
  });
});
