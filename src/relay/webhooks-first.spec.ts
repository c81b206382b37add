import { WebhooksFirst } from './webhooks-first';

const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* the event loop is held */ }
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Keeps the event loop busy in 4 ms slices (setImmediate between them, so timers and the test go on), as
 * a process answering webhooks flat out does; each slice is one POST of `events` events, answered `answerMs`
 * after its body. With 16, as many events wait for their answer as 16 one-event POSTs in flight would (the
 * bench's closed-loop ingest). With `holdsLoop` false each POST waits 4 ms without holding the loop, as
 * answers on MySQL wait for the inbox's commit.
 */
function webhookLoad(gate: WebhooksFirst, answerMs: number, events = 16, holdsLoop = true): { stop: () => Promise<void> } {
  let running = true;
  const done = (async () => {
    while (running) {
      gate.received();
      if (holdsLoop) busy(4);
      else await sleep(4);
      gate.answered(answerMs, events);
      await nextTurn();
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
    },
  };
}

async function until(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(5);
  }
}

describe('WebhooksFirst', () => {
  let gate: WebhooksFirst;
  beforeEach(() => {
    gate = new WebhooksFirst();
  });
  afterEach(() => gate.onApplicationShutdown());

  it('lets background work go at once while the event loop keeps up, POSTs in flight or not', async () => {
    gate.received();
    await sleep(200);
    expect(gate.underPressure).toBe(false);
    const started = performance.now();
    (await gate.turn())();
    expect(performance.now() - started).toBeLessThan(5);
    gate.answered(1, 1);
  });

  it('does not pace background work while the webhooks are answered fast, however busy the loop', async () => {
    const load = webhookLoad(gate, 1);
    await sleep(300);
    expect(gate.underPressure).toBe(false);
    await load.stop();
  });

  it('does not pace background work while few events wait for their answer, however slow and busy (a steady stream the relay keeps up with)', async () => {
    // One one-event POST at a time, each answered after 20 ms: 4-5 events waiting on average, fewer than 6.
    const load = webhookLoad(gate, 20, 1);
    let seen = false;
    const watch = setInterval(() => (seen ||= gate.underPressure), 5);
    await sleep(400);
    clearInterval(watch);
    await load.stop();
    expect(seen).toBe(false);
    // The same answers, with as many events waiting as 16 POSTs in flight, start it.
    const crowded = webhookLoad(gate, 20, 16);
    await until(() => gate.underPressure);
    await crowded.stop();
  });

  it('does not pace background work for a busy spell of less than four samples (a batch and its deliveries at a steady rate)', async () => {
    let seen = false;
    const watch = setInterval(() => (seen ||= gate.underPressure), 5);
    const load = webhookLoad(gate, 20);
    await sleep(140);
    await load.stop();
    await sleep(100);
    clearInterval(watch);
    expect(seen).toBe(false);
    // The same load, kept up, does start it.
    const longer = webhookLoad(gate, 20);
    await until(() => gate.underPressure);
    await longer.stop();
  });

  it('starts pacing when the loop is saturated and answers wait a few milliseconds (a fast machine)', async () => {
    const load = webhookLoad(gate, 3);
    await until(() => gate.underPressure);
    await load.stop();
  });

  it('starts pacing when many events wait for slow answers though the loop has room (MySQL: answers wait for the inbox\'s commit)', async () => {
    // Four events per POST, each answered 5 ms after its body, the loop idle meanwhile: about 4 waiting.
    let seen = false;
    const watch = setInterval(() => (seen ||= gate.underPressure), 5);
    const few = webhookLoad(gate, 5, 4, false);
    await sleep(400);
    clearInterval(watch);
    await few.stop();
    expect(seen).toBe(false);
    // As many as 16 one-event POSTs in flight: it starts.
    const crowded = webhookLoad(gate, 5, 16, false);
    try {
      await until(() => gate.underPressure);
    } finally {
      await crowded.stop();
    }
  });

  it('paces background work to a fifth of the loop while webhook answers wait, and lets it all go when the POSTs stop', async () => {
    const load = webhookLoad(gate, 20);
    await until(() => gate.underPressure);

    // Units of 4 ms: after each, the gate stays shut about four times as long.
    const admittedAt: number[] = [];
    await Promise.all([0, 1, 2, 3].map(async () => {
      const release = await gate.turn();
      admittedAt.push(performance.now());
      busy(4);
      release();
    }));
    const gaps = admittedAt.slice(1).map((at, i) => at - admittedAt[i]);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(4 + 15);

    // A waiting unit goes once the POSTs stop.
    const first = await gate.turn();
    const second = gate.turn();
    await load.stop();
    first();
    const started = performance.now();
    (await second)();
    // Pressure ends after two quiet samples of 50 ms.
    expect(performance.now() - started).toBeLessThan(200);
    await until(() => !gate.underPressure);
  });

  it('keeps pacing while many events still wait for their answer, though the loop has room (MySQL), and stops when few do', async () => {
    const saturating = webhookLoad(gate, 20);
    await until(() => gate.underPressure);
    await saturating.stop();
    // The loop now idles between POSTs, but as many events wait for their answer as 16 POSTs in flight.
    const waitingOnCommits = webhookLoad(gate, 5, 16, false);
    let ended = false;
    const watch = setInterval(() => (ended ||= !gate.underPressure), 5);
    await sleep(400);
    clearInterval(watch);
    await waitingOnCommits.stop();
    expect(ended).toBe(false);
    // A steady stream with one event waiting at a time does not keep it.
    const steady = webhookLoad(gate, 5, 1, false);
    await until(() => !gate.underPressure);
    await steady.stop();
  });

  it('lets the next unit start when one has waited (on the network, say) longer than 10 ms', async () => {
    const load = webhookLoad(gate, 20);
    await until(() => gate.underPressure);
    const slow = await gate.turn(); // never released during the test
    const started = performance.now();
    (await gate.turn())();
    // Counted as 10 ms: the next one is admitted about 10 + 40 ms later, not after the slow one ends.
    expect(performance.now() - started).toBeLessThan(200);
    await load.stop();
    slow();
  });

  it('lets every waiting unit go when the process shuts down', async () => {
    const load = webhookLoad(gate, 20);
    await until(() => gate.underPressure);
    const held = await gate.turn();
    const waiting = Promise.all([gate.turn(), gate.turn()]);
    await load.stop();
    gate.onApplicationShutdown();
    await expect(waiting).resolves.toHaveLength(2);
    held();
  });
});
