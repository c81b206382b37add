import { assertAllOk, BenchContext, loadFigures, Row, ScenarioResult, warmUp } from '../context';
import { runLoad } from '../load';
import { cpuSeconds } from '../processes';
import { round } from '../stats';

/**
 * Replies: closed-loop `POST /api/reply` (Motion 2 bodies with an id, so each is idempotent) to
 * customers who wrote in the last minutes; the Facebook sandbox answers at once. Baseline in the
 * same run: the same Send API call straight to the sandbox. First under load (half the ingest
 * connections: throughput, CPU per reply), then one reply at a time: the difference of the p50s there
 * is the relay's own overhead per reply, without the time replies spend queueing for the CPU.
 */
export async function repliesScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const relay = await ctx.relay('replies');
  try {
    const child = await relay.start('all');
    await warmUp(ctx, relay);
    const { pages, facebook } = ctx.sandboxes;
    const concurrency = Math.max(2, Math.round(ctx.options.concurrency / 2));
    const durationMs = ctx.options.durationS * 1000;
    const graphTargets = interleave(pages.map((p) => p.psids.map((psid) => ({ pageId: p.pageId, pageToken: p.pageToken, psid }))));
    const replyTargets = interleave(pages.map((p) => p.psids.map((psid) => ({ token: relay.replyTokens.get(p.pageId)!, psid }))));
    const direct = (connections: number, ms: number) => runLoad({
      label: `replies: Send API direct, ${connections} connection(s)`, mode: 'closed', concurrency: connections, durationMs: ms,
      request: { kind: 'graph', url: facebook.url, graphVersion: facebook.graphVersion, targets: graphTargets },
    });
    const viaRelay = (connections: number, ms: number) => runLoad({
      label: `replies: /api/reply, ${connections} connection(s)`, mode: 'closed', concurrency: connections, durationMs: ms,
      request: { kind: 'reply', url: `${relay.url}/api/reply`, tag: ctx.tag(), targets: replyTargets },
    });

    // Under load: throughput, and latency with replies queueing for the CPU.
    const loadedDirect = await direct(concurrency, durationMs);
    assertAllOk(loadedDirect);
    const cpu0 = cpuSeconds(child.pid);
    const loadedRelay = await viaRelay(concurrency, durationMs);
    const relayCpu = (cpuSeconds(child.pid) - cpu0) / (loadedRelay.elapsedMs / 1000);
    assertAllOk(loadedRelay);
    // One at a time: what the relay adds to a single reply, without queueing behind other replies.
    const singleDirect = await direct(1, durationMs / 2);
    assertAllOk(singleDirect);
    const singleRelay = await viaRelay(1, durationMs / 2);
    assertAllOk(singleRelay);

    const d = loadFigures(loadedDirect);
    const r = loadFigures(loadedRelay);
    const d1 = loadFigures(singleDirect);
    const r1 = loadFigures(singleRelay);
    const overheadP50 = round(r1.p50 - d1.p50);
    const cpuPerReplyMs = round((relayCpu * 1000) / r.requestsPerSecond, 2);
    const rows: Row[] = [
      { scenario: 'replies', figure: `/api/reply per second (${concurrency} connections)`, value: round(r.requestsPerSecond, 0), unit: 'replies/s', baseline: round(d.requestsPerSecond, 0), ratio: round(r.requestsPerSecond / d.requestsPerSecond, 3) },
      { scenario: 'replies', figure: `/api/reply p50 / p99 (${concurrency} connections)`, value: `${r.p50} / ${r.p99}`, unit: 'ms', baseline: `${d.p50} / ${d.p99}` },
      { scenario: 'replies', figure: 'relay CPU per reply', value: cpuPerReplyMs, unit: 'ms' },
      { scenario: 'replies', figure: '/api/reply p50 / p99, one at a time', value: `${r1.p50} / ${r1.p99}`, unit: 'ms', baseline: `${d1.p50} / ${d1.p99}` },
      { scenario: 'replies', figure: 'relay overhead per reply (p50 − direct p50, one at a time)', value: overheadP50, unit: 'ms', target: '< 3 ms', met: overheadP50 < 3 },
    ];
    return {
      rows,
      details: {
        concurrency, direct: d, relay: { ...r, relayCpu, cpuPerReplyMs }, single: { direct: d1, relay: r1 }, overheadP50,
        overheadP50UnderLoad: round(r.p50 - d.p50), overheadMean: round(summaryMean(singleRelay.latencies) - summaryMean(singleDirect.latencies)),
      },
    };
  } finally {
    await relay.close();
  }
}

function summaryMean(values: number[]): number {
  return values.length ? values.reduce((s, v) => s + v, 0) / values.length : NaN;
}

function interleave<T>(lists: T[][]): T[] {
  const out: T[] = [];
  const longest = Math.max(...lists.map((l) => l.length));
  for (let i = 0; i < longest; i++) for (const list of lists) if (i < list.length) out.push(list[i]);
  return out;
}
