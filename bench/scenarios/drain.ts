import { assertAllOk, BenchContext, Row, ScenarioResult, warmUp, webhookSpec } from '../context';
import { log, runLoad } from '../load';
import { sleep } from '../processes';
import { now, round } from '../stats';

/**
 * Backlog drain: the contact center refuses connections while N messages arrive (100 per POST),
 * then comes back. Reports the time from "up" to the last delivery and the delivery rate once
 * deliveries flow (the first part of the wait is the retry backoff: 5 s ±20 % after the first failure).
 */
export async function drainScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const n = ctx.options.drainMessages;
  const relay = await ctx.relay('drain');
  const cc = ctx.sandboxes.contactCenter;
  try {
    await relay.start('all');
    await warmUp(ctx, relay);
    const before = await relay.storedInbound();
    await cc.control.down({ mode: 'refuse' });
    ctx.collector.reset();
    const load = await runLoad({ label: 'drain: arriving while down', mode: 'closed', concurrency: 4, total: Math.ceil(n / 100), durationMs: 600_000, request: webhookSpec(ctx, relay.url, 100) });
    assertAllOk(load);
    const stored = (await relay.storedInbound()) - before;
    log(`  drain: ${stored} messages stored while the contact center was down (${round(load.elapsedMs / 1000, 1)} s)`);
    await cc.control.up();
    const upAt = now();
    const progress = setInterval(() => log(`  drain: ${ctx.collector.received}/${load.events} delivered, ${((now() - upAt) / 1000).toFixed(0)} s after up`), 5_000);
    const all = await ctx.collector.waitFor(load.events, 900_000);
    clearInterval(progress);
    const doneAt = ctx.collector.lastAt || now();
    const flowSeconds = (ctx.collector.lastAt - ctx.collector.firstAt) / 1000;
    const untilAllS = round((doneAt - upAt) / 1000, 1);
    const rate = flowSeconds > 0 ? round(ctx.collector.received / flowSeconds, 0) : NaN;
    await sleep(100);
    const rows: Row[] = [
      { scenario: 'drain', figure: `${n} messages: time from up until all delivered`, value: all ? untilAllS : `incomplete (${ctx.collector.received})`, unit: 's' },
      { scenario: 'drain', figure: 'drain rate once deliveries flow', value: rate, unit: 'msg/s' },
    ];
    return {
      rows,
      details: { messages: n, stored, ingestSeconds: load.elapsedMs / 1000, allDelivered: all, untilAllS, firstDeliveryAfterUpS: round((ctx.collector.firstAt - upAt) / 1000, 1), flowSeconds, rate, duplicates: ctx.collector.duplicates },
    };
  } finally {
    await cc.control.up().catch(() => undefined);
    await relay.close();
  }
}
