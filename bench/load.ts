import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LoadJob, LoadProgress, LoadResult } from './load-types';

/** Runs one load job in a fresh worker thread; progress lines go to `onProgress`. */
export function runLoad(job: LoadJob, onProgress: (p: LoadProgress) => void = printProgress): Promise<LoadResult> {
  const worker = new Worker(join(__dirname, 'load-worker.js'));
  return new Promise<LoadResult>((resolve, reject) => {
    worker.on('message', (message: LoadProgress | { type: 'result'; result: LoadResult } | { type: 'error'; message: string }) => {
      if (message.type === 'progress') onProgress(message);
      else if (message.type === 'result') resolve(message.result);
      else reject(new Error(message.message));
    });
    worker.on('error', reject);
    worker.postMessage(job);
  }).finally(() => void worker.terminate());
}

export function printProgress(p: LoadProgress): void {
  log(`  ${p.label}: ${(p.elapsedMs / 1000).toFixed(0)} s, ${p.ok} ok${p.failed ? `, ${p.failed} failed` : ''}, ${p.ratePerSecond.toFixed(0)}/s`);
}

export function log(line: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
}
