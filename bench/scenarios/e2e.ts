import { BenchContext, loadFigures, Row, ScenarioResult, warmUp, webhookSpec } from '../context';
import { log, runLoad } from '../load';
import { round, summarize } from '../stats';

/**
 * End to end: a steady open-loop rate of 1-event webhook POSTs; each message is timed from the
 * POST to the contact center receiving it. Then steps the rate up to find the highest one whose
 * p99 stays under 1 s with everything delivered.
 */
export async function e2eScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const rows: Row[] = [];
  const steps: Array<Record<string, unknown>> = [];
  const relay = await ctx.relay('e2e');
  try {
    await relay.start('all');
    await warmUp(ctx, relay);
    const step = async (rate: number, durationMs: number) => {
      ctx.collector.reset();
      const result = await runLoad({
        label: `e2e ${rate}/s`, mode: 'open', rate, maxInFlight: 2_000, durationMs, request: webhookSpec(ctx, relay.url, 1),
      });
      const all = await ctx.collector.waitFor(result.events, 30_000);
      const latency = summarize(ctx.collector.takeLatencies());
      const figures = {
        rate, sent: result.requests, answered200: result.events, skipped: result.skipped, delivered: ctx.collector.received, allDelivered: all,
        duplicates: ctx.collector.duplicates, latency, ingest: loadFigures(result),
      };
      steps.push(figures);
      log(`  e2e ${rate}/s: delivered ${ctx.collector.received}/${result.events}, p50 ${latency.p50} ms, p99 ${latency.p99} ms, max ${latency.max} ms`);
      // Let a backlog drain before the next step.
      if (!all) await ctx.collector.waitFor(result.events, 120_000);
      return figures;
    };
    const durationMs = ctx.options.durationS * 1000;
    for (const rate of ctx.options.rates) {
      const f = await step(rate, durationMs);
      const ok = f.allDelivered && f.skipped === 0 && f.answered200 === f.sent;
      rows.push({
        scenario: 'e2e', figure: `${rate} events/s steady: p50 / p99 / max`, value: `${f.latency.p50} / ${f.latency.p99} / ${f.latency.max}`, unit: 'ms',
        target: rate === 500 ? 'p99 < 100 ms' : undefined, met: rate === 500 ? ok && f.latency.p99 < 100 : undefined,
      });
    }
    // Highest steady rate with p99 < 1 s: step up by 1.5× from the highest rate that passed.
    const passes = (f: Awaited<ReturnType<typeof step>>) => f.allDelivered && f.skipped === 0 && f.answered200 === f.sent && f.latency.p99 < 1000;
    let best = 0;
    for (const s of steps) if (passes(s as Awaited<ReturnType<typeof step>>)) best = Math.max(best, Number(s.rate));
    // Nothing passed yet: halve from the lowest listed rate (at most three times), then step up.
    let rate = best ? Math.round(best * 1.5) : Math.round(ctx.options.rates[0] / 2);
    let lowestFailed = best ? Infinity : Math.min(...ctx.options.rates);
    const searchMs = Math.max(10_000, durationMs / 2);
    for (let i = 0, down = 0; i < 8; i++) {
      const f = await step(rate, searchMs);
      if (passes(f)) {
        best = Math.max(best, rate);
        rate = Math.round(rate * 1.5);
        if (rate >= lowestFailed) break;
      } else {
        lowestFailed = Math.min(lowestFailed, rate);
        if (best || ++down > 3) break;
        rate = Math.round(rate / 2);
      }
    }
    rows.push({ scenario: 'e2e', figure: 'highest steady rate with p99 < 1 s', value: best || `< ${lowestFailed}`, unit: 'events/s' });
  } finally {
    await relay.close();
  }
  return { rows, details: { steps } };
}
