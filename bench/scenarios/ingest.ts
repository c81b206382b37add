import { assertAllOk, BenchContext, loadFigures, Row, ScenarioResult, warmUp, webhookSpec } from '../context';
import { log, runLoad } from '../load';
import { cpuSeconds, startBaseline } from '../processes';
import { round } from '../stats';
import { STORE_WAIT_MS } from '../world';

/**
 * Ingest: closed-loop webhook POSTs (1 and 100 events each, or one of the two with --ingest-events)
 * against the bare signature-checking server (the ceiling), then against a fresh relay (contact center
 * up, deliveries running as in production). Every event answered 200 must be in the webhook inbox or
 * a message row at the end of the step, and a message row once the inbox has drained (the table shows
 * how long that took).
 */

export async function ingestScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const rows: Row[] = [];
  const details: Record<string, unknown> = {};
  const durationMs = ctx.options.durationS * 1000;
  for (const eventsPerPost of ctx.options.ingestEvents) {
    const concurrency = eventsPerPost === 1 ? ctx.options.concurrency : Math.max(2, Math.round(ctx.options.concurrency / 4));
    const baseline = await startBaseline(ctx.sandboxes.facebook.appSecret);
    let base;
    try {
      await runLoad({ label: 'baseline warm-up', mode: 'closed', concurrency, durationMs: 2_000, request: webhookSpec(ctx, baseline.url, eventsPerPost) }, () => undefined);
      const cpu0 = cpuSeconds(baseline.pid);
      const result = await runLoad({ label: `ingest ${eventsPerPost}/POST bare server`, mode: 'closed', concurrency, durationMs, request: webhookSpec(ctx, baseline.url, eventsPerPost) });
      assertAllOk(result);
      base = { ...loadFigures(result), serverCpu: (cpuSeconds(baseline.pid) - cpu0) / (result.elapsedMs / 1000) };
    } finally {
      await baseline.stop();
    }

    const relay = await ctx.relay(`ingest${eventsPerPost}`);
    let measured;
    try {
      const child = await relay.start('all');
      await warmUp(ctx, relay);
      const before = await relay.storedInbound();
      const cpu0 = cpuSeconds(child.pid);
      const result = await runLoad({ label: `ingest ${eventsPerPost}/POST relay`, mode: 'closed', concurrency, durationMs, request: webhookSpec(ctx, relay.url, eventsPerPost) });
      const relayCpu = (cpuSeconds(child.pid) - cpu0) / (result.elapsedMs / 1000);
      assertAllOk(result);
      // Right after the step: every event answered 200 is a message row or inside a POST kept in the inbox.
      const atEnd = await relay.storedAndInbox();
      const kept = atEnd.stored - before + atEnd.inboxRows * eventsPerPost;
      if (kept < result.events) throw new Error(`ingest ${eventsPerPost}/POST: ${result.events} events answered 200 but only ${kept} stored or in the inbox`);
      // Then until every event is a message row (at most 3 minutes; what is left must still be in the inbox).
      const { stored, seconds: storedAfterS } = await relay.waitForStored(before, result.events);
      const left = await relay.storedAndInbox();
      if (left.stored - before + left.inboxRows * eventsPerPost < result.events) throw new Error(`ingest ${eventsPerPost}/POST: events answered 200 are neither stored nor in the inbox`);
      const storedAll = stored >= result.events;
      measured = { ...loadFigures(result), relayCpu, stored, answered: result.events, storedAfterS, storedAll };
      log(`  ingest ${eventsPerPost}/POST: ${result.events} events answered 200, all kept at once; ${stored} message rows ${storedAfterS.toFixed(1)} s after the step${storedAll ? '' : ' (the rest still in the inbox)'}`);
    } finally {
      await relay.close();
    }

    details[`${eventsPerPost}PerPost`] = { concurrency, baseline: base, relay: measured };
    const ratio = measured.requestsPerSecond / base.requestsPerSecond;
    if (eventsPerPost === 1) {
      rows.push({ scenario: 'ingest', figure: '1 event/POST: POSTs/s (all kept before the 200)', value: round(measured.requestsPerSecond, 0), unit: 'POST/s', baseline: round(base.requestsPerSecond, 0), ratio: round(ratio, 3), target: '≥ 40 % of bare', met: ratio >= 0.4 });
    } else {
      rows.push({ scenario: 'ingest', figure: '100 events/POST: events/s (all kept before the 200)', value: round(measured.eventsPerSecond, 0), unit: 'events/s', baseline: round(base.eventsPerSecond, 0), ratio: round(ratio, 3), target: '≥ 20,000 events/s', met: measured.eventsPerSecond >= 20_000 });
    }
    rows.push({
      scenario: 'ingest', figure: `${eventsPerPost} event${eventsPerPost > 1 ? 's' : ''}/POST: all stored as messages, s after the step`, unit: 's',
      value: measured.storedAll ? round(measured.storedAfterS, 1) : `> ${STORE_WAIT_MS / 1000} (${Math.round((100 * measured.stored) / measured.answered)} % stored by then)`,
    });
    // CPU per POST moves less with the machine's other load than POSTs per second do: the figure to compare builds by.
    rows.push({
      scenario: 'ingest', figure: `${eventsPerPost} event${eventsPerPost > 1 ? 's' : ''}/POST: process CPU per POST during the step`, unit: 'µs',
      value: round((measured.relayCpu * 1e6) / measured.requestsPerSecond, 0), baseline: round((base.serverCpu * 1e6) / base.requestsPerSecond, 0),
    });
    rows.push({ scenario: 'ingest', figure: `${eventsPerPost} event${eventsPerPost > 1 ? 's' : ''}/POST: answer p50 / p99`, value: `${measured.p50} / ${measured.p99}`, unit: 'ms', baseline: `${base.p50} / ${base.p99}`, target: 'p99 < 50 ms', met: measured.p99 < 50 });
  }
  return { rows, details };
}
