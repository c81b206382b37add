import { BenchContext, loadFigures, Row, ScenarioResult, warmUp, webhookSpec } from '../context';
import { log, runLoad } from '../load';
import { rssMb, sleep } from '../processes';
import { round, slope, summarize } from '../stats';

/**
 * Memory: the relay's RSS at idle (after boot), then while a steady 500 events/s runs for the
 * soak (1-event POSTs, delivered to the contact center), sampled every 5 s. Growth = least-squares
 * slope over the second half of the soak.
 */
export async function memoryScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const relay = await ctx.relay('memory');
  try {
    const child = await relay.start('all');
    await sleep(5_000);
    const idle = round(rssMb(child.pid), 1);
    await warmUp(ctx, relay);
    const soakMs = ctx.options.soakMinutes * 60_000;
    const samples: Array<[number, number]> = [];
    const started = Date.now();
    const sampler = setInterval(() => samples.push([(Date.now() - started) / 60_000, rssMb(child.pid)]), 5_000);
    ctx.collector.reset();
    const load = await runLoad({ label: 'memory soak 500/s', mode: 'open', rate: 500, maxInFlight: 2_000, durationMs: soakMs, request: webhookSpec(ctx, relay.url, 1) });
    clearInterval(sampler);
    await ctx.collector.waitFor(load.events, 30_000);
    const steady = samples.filter(([m]) => m >= Math.min(0.5, ctx.options.soakMinutes / 4) && m <= Math.min(2, ctx.options.soakMinutes / 2)).map(([, mb]) => mb);
    const steadyMb = round(steady.length ? summarize(steady).p50 : samples[0]?.[1] ?? NaN, 1);
    const end = round(samples[samples.length - 1]?.[1] ?? NaN, 1);
    const secondHalf = samples.filter(([m]) => m >= ctx.options.soakMinutes / 2);
    const growthPerMin = round(slope(secondHalf), 2);
    const max = round(Math.max(...samples.map(([, mb]) => mb)), 1);
    const latency = summarize(ctx.collector.takeLatencies());
    log(`  memory: idle ${idle} MB, steady ${steadyMb} MB, end ${end} MB, max ${max} MB, ${growthPerMin} MB/min in the second half`);
    // "No growth": the second half's trend would add less than 5 % of the steady RSS over another soak.
    const noGrowth = growthPerMin * ctx.options.soakMinutes < 0.05 * steadyMb;
    const rows: Row[] = [
      { scenario: 'memory', figure: 'RSS at idle', value: idle, unit: 'MB' },
      { scenario: 'memory', figure: 'RSS at steady 500 events/s', value: steadyMb, unit: 'MB', target: '< 200 MB', met: steadyMb < 200 && max < 200 },
      { scenario: 'memory', figure: `RSS after ${ctx.options.soakMinutes} min soak (max)`, value: `${end} (${max})`, unit: 'MB' },
      { scenario: 'memory', figure: 'RSS trend, second half of soak', value: growthPerMin, unit: 'MB/min', target: 'no growth', met: noGrowth },
    ];
    return { rows, details: { idle, steadyMb, end, max, growthPerMin, samples: samples.map(([m, mb]) => [round(m, 3), round(mb, 1)]), soakLatency: latency, delivered: ctx.collector.received, load: loadFigures(load) } };
  } finally {
    await relay.close();
  }
}
