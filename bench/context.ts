import { Collector } from './collector';
import { log, runLoad } from './load';
import type { LoadResult } from './load-types';
import { summarize } from './stats';
import { RelayUnderTest, Sandboxes, type BenchOptions } from './world';

export interface RunOptions extends BenchOptions {
  durationS: number;
  rates: number[];
  scenarios: string[];
  soakMinutes: number;
  drainMessages: number;
  scaleoutMessages: number;
  scaleoutConcurrency: number[];
  /** Events per POST of the ingest steps (1 and/or 100). */
  ingestEvents: number[];
  out: string;
  concurrency: number;
}

export interface Row {
  scenario: string;
  figure: string;
  value: number | string;
  unit: string;
  baseline?: number | string;
  ratio?: number;
  target?: string;
  met?: boolean;
}

export interface ScenarioResult {
  rows: Row[];
  details: Record<string, unknown>;
}

export interface BenchContext {
  options: RunOptions;
  sandboxes: Sandboxes;
  collector: Collector;
  /** A fresh relay database/queue for one scenario (closed by the caller through `using`). */
  relay(name: string): Promise<RelayUnderTest>;
  tag(): string;
}

/** One message from every customer (100 per POST), then waits until all are delivered: conversations and names exist. */
export async function warmUp(ctx: BenchContext, relay: RelayUnderTest): Promise<void> {
  const customers = ctx.sandboxes.pages.reduce((n, p) => n + p.psids.length, 0);
  ctx.collector.reset();
  const result = await runLoad({
    label: 'warm-up', mode: 'closed', concurrency: 2, total: Math.ceil(customers / 100), durationMs: 120_000,
    request: webhookSpec(ctx, relay.url, 100),
  }, () => undefined);
  assertAllOk(result);
  const delivered = await ctx.collector.waitFor(result.events, 120_000);
  if (!delivered) throw new Error(`warm-up: only ${ctx.collector.received} of ${result.events} messages reached the contact center in 120 s`);
  log(`  warm-up: ${customers} conversations created and delivered`);
}

export function webhookSpec(ctx: BenchContext, relayUrl: string, eventsPerPost: number) {
  return {
    kind: 'webhook' as const, url: `${relayUrl}/webhooks/facebook`, eventsPerPost,
    pages: ctx.sandboxes.pages.map((p) => ({ pageId: p.pageId, psids: p.psids })), appSecret: ctx.sandboxes.facebook.appSecret, tag: ctx.tag(),
  };
}

export function assertAllOk(result: LoadResult): void {
  if (result.failed > 0) {
    throw new Error(`${result.label}: ${result.failed} of ${result.requests} requests failed (${JSON.stringify(result.statuses)}) ${result.errors.join('; ')}`);
  }
}

/** The figures of one load run: throughput and answer times. */
export function loadFigures(result: LoadResult) {
  const s = summarize(result.latencies);
  return {
    requests: result.requests, ok: result.ok, failed: result.failed, skipped: result.skipped, statuses: result.statuses,
    requestsPerSecond: (result.ok * 1000) / result.elapsedMs, eventsPerSecond: (result.events * 1000) / result.elapsedMs,
    p50: s.p50, p99: s.p99, max: s.max, generatorBusy: result.generatorBusy,
  };
}
