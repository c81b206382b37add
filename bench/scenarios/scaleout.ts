import { assertAllOk, BenchContext, Row, ScenarioResult, warmUp, webhookSpec } from '../context';
import { log, runLoad } from '../load';
import { cpuSeconds, machineCpuTicks } from '../processes';
import { now, round } from '../stats';
import { STORE_WAIT_MS } from '../world';

/**
 * Scale-out: an API process takes a backlog of N messages while no worker runs and stores them all,
 * then one (or two) worker processes deliver it to a contact center that takes 20 ms per notify.
 * Throughput is counted from the first delivery to the last (process boot excluded). One pair of runs per
 * DELIVERY_CONCURRENCY in --scaleout-concurrency: with few deliveries in flight per worker a worker is
 * bound by the contact center's 20 ms; with many, by the CPU the machine has left.
 */
export async function scaleoutScenario(ctx: BenchContext): Promise<ScenarioResult> {
  if (!ctx.options.redisUrl || !ctx.options.databaseUrl) {
    const why = 'skipped: needs REDIS_URL and DATABASE_URL (worker processes share the BullMQ queue and a server database; the embedded SQLite file is for one process)';
    return { rows: [{ scenario: 'scaleout', figure: 'two workers vs one', value: why, unit: '' }], details: { skipped: why } };
  }
  const cc = ctx.sandboxes.contactCenter;
  const relay = await ctx.relay('scaleout');
  const rows: Row[] = [];
  const details: Record<string, unknown> = {};
  try {
    await relay.start('api');
    const warmWorker = await relay.start('worker');
    await warmUp(ctx, relay);
    await relay.stopChild(warmWorker);
    cc.control.setFailures({ latencyMs: 20 });
    for (const concurrency of ctx.options.scaleoutConcurrency) {
      // One run with one worker, one with two.
      const runs: Array<{ rate: number; steady: number; workerMsPerMessage: number; machineBusy: number }> = [];
      for (const workers of [1, 2]) {
        ctx.collector.reset();
        const before = await relay.storedInbound();
        const load = await runLoad({ label: `scaleout backlog for ${workers}`, mode: 'closed', concurrency: 4, total: Math.ceil(ctx.options.scaleoutMessages / 100), durationMs: 600_000, request: webhookSpec(ctx, relay.url, 100) }, () => undefined);
        assertAllOk(load);
        // The backlog is all message rows before a worker starts: the API process's storing is not the workers' rate.
        const { stored, seconds: storedS } = await relay.waitForStored(before, load.events);
        if (stored < load.events) throw new Error(`scaleout: ${load.events} events answered 200, only ${stored} stored within ${STORE_WAIT_MS / 1000} s`);
        const started = now();
        const children = [];
        for (let i = 0; i < workers; i++) children.push(relay.start('worker', { DELIVERY_CONCURRENCY: String(concurrency) }));
        const running = await Promise.all(children);
        const progress = setInterval(() => log(`  scaleout ${workers} worker(s) × ${concurrency}: ${ctx.collector.received}/${load.events} delivered`), 5_000);
        // CPU from the first delivery on, as the rate: the workers' boot is not what a delivery costs.
        const delivering = await ctx.collector.waitFor(1, 600_000);
        // NaN once a worker has exited (its /proc entry is gone): the run then reports what it delivered, without a CPU figure.
        const workersCpu = () => running.reduce((sum, child) => sum + cpuSecondsOrNaN(child.pid), 0);
        const cpuFrom = { workers: workersCpu(), machine: machineCpuTicks(), received: ctx.collector.received };
        const all = delivering && (await ctx.collector.waitFor(load.events, 600_000));
        const machine = machineCpuTicks();
        clearInterval(progress);
        const seconds = (ctx.collector.lastAt - ctx.collector.firstAt) / 1000;
        const run = {
          rate: ctx.collector.received / seconds,
          steady: ctx.collector.rateBetween(0.1, 0.9),
          workerMsPerMessage: ((workersCpu() - cpuFrom.workers) * 1000) / Math.max(1, ctx.collector.received - cpuFrom.received),
          machineBusy: (machine.busy - cpuFrom.machine.busy) / Math.max(1, machine.total - cpuFrom.machine.total),
        };
        runs.push(run);
        details[`concurrency${concurrency}workers${workers}`] = { messages: load.events, storedS: round(storedS, 1), allDelivered: all, seconds: round(seconds, 2), rate: round(run.rate, 0), steadyRate: round(run.steady, 0), sinceStartS: round((ctx.collector.lastAt - started) / 1000, 1),
          workerCpuMsPerMessage: round(run.workerMsPerMessage, 3), machineBusy: round(run.machineBusy, 3) };
        log(`  scaleout ${workers} worker(s) × ${concurrency}: ${round(run.rate, 0)} msg/s (${round(run.steady, 0)} from 10 % to 90 % delivered)`);
        for (const child of running) await relay.stopChild(child);
      }
      const [one, two] = runs;
      const ratio = two.rate / one.rate;
      rows.push({
        scenario: 'scaleout', figure: `delivery rate, 1 worker → 2 workers (20 ms notify, DELIVERY_CONCURRENCY=${concurrency})`,
        value: `${round(one.rate, 0)} → ${round(two.rate, 0)}`, unit: 'msg/s', ratio: round(ratio, 2), target: '≥ 1.8×', met: ratio >= 1.8,
      });
      // The same runs without their first and last tenth: the workers' start (cold code, new connections) and the last conversations' tail.
      rows.push({
        scenario: 'scaleout', figure: `  the same, from 10 % to 90 % delivered (DELIVERY_CONCURRENCY=${concurrency})`,
        value: `${round(one.steady, 0)} → ${round(two.steady, 0)}`, unit: 'msg/s', ratio: round(two.steady / one.steady, 2),
      });
      // What bounds the pair: the workers' own CPU per message, and how busy the whole machine (database, Redis, bench) was.
      rows.push({
        scenario: 'scaleout', figure: `  workers' CPU per delivered message; machine busy (DELIVERY_CONCURRENCY=${concurrency})`,
        value: `${shown(one.workerMsPerMessage, 2)} → ${shown(two.workerMsPerMessage, 2)} ms; ${shown(one.machineBusy * 100, 0)} → ${shown(two.machineBusy * 100, 0)} %`, unit: '',
      });
    }
  } finally {
    await cc.control.clearFailures();
    await relay.close();
  }
  return { rows, details };
}

function cpuSecondsOrNaN(pid: number): number {
  try {
    return cpuSeconds(pid);
  } catch {
    return NaN;
  }
}

function shown(value: number, digits: number): string {
  return Number.isFinite(value) ? String(round(value, digits)) : 'n/a';
}
