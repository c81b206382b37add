import { WebhooksFirst } from './webhooks-first';

const busy = (ms: number) => {
  const until = Date.now() + ms;
  while (Date.now() < until) { /* a saturated event loop */ }
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const timed = async (work: () => Promise<void>) => {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e6;
};

describe('WebhooksFirst', () => {
  let gate: WebhooksFirst;
  beforeEach(() => {
    gate = new WebhooksFirst();
  });
  afterEach(() => gate.onApplicationShutdown());

  it('lets background work go at once while the event loop keeps up, POSTs in flight or not', async () => {
    gate.received();
    await sleep(250);
    expect(await timed(() => gate.turn())).toBeLessThan(5);
    gate.answered();
  });

  it('pauses background work while the loop is saturated and a webhook POST waits for its answer', async () => {
    // Long blocks for several 100 ms samples: their p90 delay is far above the threshold.
    for (let i = 0; i < 8; i++) {
      busy(40);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await timed(() => gate.turn())).toBeLessThan(5); // no POST waiting: nothing to make room for
    gate.received();
    expect(await timed(() => gate.turn())).toBeGreaterThanOrEqual(9);
    gate.answered();
    expect(await timed(() => gate.turn())).toBeLessThan(5);
  });
});
