import { parentPort } from 'node:worker_threads';
import { Pool } from 'undici';
import type { LoadJob, LoadProgress, LoadResult, RequestSpec } from './load-types';
import { now } from './stats';
import { WebhookBuilder } from './webhook-payload';

/**
 * The load generator, in a worker thread of its own so its event loop is not the bench's.
 * Keep-alive connections through an undici Pool.
 */
interface Prepared {
  path: string;
  headers: Record<string, string>;
  body: string;
  events: number;
}

function preparer(spec: RequestSpec): { origin: string; next: () => Prepared } {
  const url = new URL(spec.url);
  if (spec.kind === 'webhook') {
    const builder = new WebhookBuilder(spec.pages, spec.appSecret, spec.tag);
    return {
      origin: url.origin,
      next: () => {
        const { body, signature } = builder.build(spec.eventsPerPost, now());
        return { path: url.pathname, body, events: spec.eventsPerPost, headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature } };
      },
    };
  }
  if (spec.kind === 'reply') {
    let i = 0;
    return {
      origin: url.origin,
      next: () => {
        const target = spec.targets[i % spec.targets.length];
        const id = `${spec.tag}-${i++}`;
        const body = JSON.stringify({
          id, body: `Agent answer ${id}`, AttachmentId: null, OpenchannelAccountId: 1, OpenchannelInteractionId: 1, UserId: 17,
          Contact: { id: 1, firstName: 'Bench', lastName: 'Customer', phone: 'none', facebook: target.psid },
          Interaction: { id: 1, threadId: null, closed: false },
        });
        return { path: `${url.pathname}?token=${encodeURIComponent(target.token)}`, body, events: 1, headers: { 'content-type': 'application/json' } };
      },
    };
  }
  let i = 0;
  return {
    origin: url.origin,
    next: () => {
      const target = spec.targets[i++ % spec.targets.length];
      const body = JSON.stringify({ recipient: { id: target.psid }, messaging_type: 'RESPONSE', message: { text: `Direct ${i}`, metadata: 'bench' } });
      return { path: `/${spec.graphVersion}/${target.pageId}/messages?access_token=${encodeURIComponent(target.pageToken)}`, body, events: 1, headers: { 'content-type': 'application/json' } };
    },
  };
}

async function run(job: LoadJob): Promise<LoadResult> {
  const { origin, next } = preparer(job.request);
  const connections = job.mode === 'closed' ? job.concurrency : Math.min(256, job.maxInFlight);
  const pool = new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 60_000, bodyTimeout: 60_000 });
  const result: LoadResult = {
    label: job.label, requests: 0, ok: 0, failed: 0, skipped: 0, events: 0, statuses: {}, errors: [], elapsedMs: 0, latencies: [], generatorBusy: 0,
  };
  const eluStart = performance.eventLoopUtilization();
  const started = now();
  const deadline = started + job.durationMs;
  let inFlight = 0;

  const one = async (): Promise<void> => {
    const request = next();
    result.requests++;
    inFlight++;
    const sentAt = now();
    try {
      const answer = await pool.request({ path: request.path, method: 'POST', headers: request.headers, body: request.body });
      await answer.body.text();
      const status = String(answer.statusCode);
      result.statuses[status] = (result.statuses[status] ?? 0) + 1;
      if (answer.statusCode >= 200 && answer.statusCode < 300) {
        result.ok++;
        result.events += request.events;
        result.latencies.push(now() - sentAt);
      } else {
        result.failed++;
      }
    } catch (error) {
      result.failed++;
      result.statuses.error = (result.statuses.error ?? 0) + 1;
      if (result.errors.length < 5) result.errors.push((error as Error).message);
    } finally {
      inFlight--;
    }
  };

  let lastOk = 0;
  let lastAt = started;
  const progress = setInterval(() => {
    const t = now();
    const message: LoadProgress = {
      type: 'progress', label: job.label, elapsedMs: t - started, requests: result.requests, ok: result.ok, failed: result.failed,
      ratePerSecond: ((result.ok - lastOk) * 1000) / (t - lastAt),
    };
    lastOk = result.ok;
    lastAt = t;
    parentPort!.postMessage(message);
  }, 2_000);

  if (job.mode === 'closed') {
    const total = job.total ?? Infinity;
    const lane = async () => {
      while (now() < deadline && result.requests < total) await one();
    };
    await Promise.all(Array.from({ length: job.concurrency }, lane));
  } else {
    const waiting = new Set<Promise<void>>();
    let due = 0;
    while (now() < deadline) {
      const target = Math.floor(((now() - started) / 1000) * job.rate);
      while (due < target) {
        due++;
        if (inFlight >= job.maxInFlight) {
          result.skipped++;
          continue;
        }
        const p = one();
        waiting.add(p);
        void p.finally(() => waiting.delete(p));
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all([...waiting]);
  }
  clearInterval(progress);
  result.elapsedMs = now() - started;
  result.generatorBusy = performance.eventLoopUtilization(eluStart).utilization;
  await pool.close();
  return result;
}

parentPort!.on('message', (job: LoadJob) => {
  run(job).then(
    (result) => parentPort!.postMessage({ type: 'result', result }),
    (error: Error) => parentPort!.postMessage({ type: 'error', message: error.stack ?? error.message }),
  );
});
