import { assertAllOk, BenchContext, loadFigures, Row, ScenarioResult, warmUp } from '../context';
import { runLoad } from '../load';
import { cpuSeconds } from '../processes';
import { round } from '../stats';

/**
 * Replies: closed-loop `POST /api/reply` (Motion 2 bodies with an id, so each is idempotent) to
 * customers who wrote in the last minutes; the Facebook sandbox answers at once. Baseline in the
 * same run: the same Send API call straight to the sandbox; the difference is the relay's overhead.
 */
export async function repliesScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const relay = await ctx.relay('replies');
  try {
    const child = await relay.start('all');
    await warmUp(ctx, relay);
    const { pages, facebook } = ctx.sandboxes;
    const concurrency = Math.max(2, Math.round(ctx.options.concurrency / 2));
    const durationMs = ctx.options.durationS * 1000;
    const direct = await runLoad({
      label: 'replies: Send API direct', mode: 'closed', concurrency, durationMs,
      request: { kind: 'graph', url: facebook.url, graphVersion: facebook.graphVersion, targets: interleave(pages.map((p) => p.psids.map((psid) => ({ pageId: p.pageId, pageToken: p.pageToken, psid })))) },
    });
    assertAllOk(direct);
    const cpu0 = cpuSeconds(child.pid);
    const viaRelay = await runLoad({
      label: 'replies: /api/reply', mode: 'closed', concurrency, durationMs,
      request: { kind: 'reply', url: `${relay.url}/api/reply`, tag: ctx.tag(), targets: interleave(pages.map((p) => p.psids.map((psid) => ({ token: relay.replyTokens.get(p.pageId)!, psid })))) },
    });
    const relayCpu = (cpuSeconds(child.pid) - cpu0) / (viaRelay.elapsedMs / 1000);
    assertAllOk(viaRelay);
    const d = loadFigures(direct);
    const r = loadFigures(viaRelay);
    const overheadP50 = round(r.p50 - d.p50);
    const rows: Row[] = [
      { scenario: 'replies', figure: '/api/reply per second', value: round(r.requestsPerSecond, 0), unit: 'replies/s', baseline: round(d.requestsPerSecond, 0), ratio: round(r.requestsPerSecond / d.requestsPerSecond, 3) },
      { scenario: 'replies', figure: '/api/reply p50 / p99', value: `${r.p50} / ${r.p99}`, unit: 'ms', baseline: `${d.p50} / ${d.p99}` },
      { scenario: 'replies', figure: 'relay overhead per reply (p50 − direct p50)', value: overheadP50, unit: 'ms', target: '< 3 ms', met: overheadP50 < 3 },
    ];
    return { rows, details: { concurrency, direct: d, relay: { ...r, relayCpu }, overheadP50, overheadMean: round(summaryMean(viaRelay.latencies) - summaryMean(direct.latencies)) } };
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
