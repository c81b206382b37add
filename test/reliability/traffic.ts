import type { ContactCenterSandbox } from '../../sandbox/contact-center/server';
import { messaging, page, postWebhook, textEvent } from '../relay/webhook-signing';
import { createIntegration } from '../support/fixtures';
import type { TestApp } from '../support/test-app';

/**
 * Scripted inbound traffic and the count of what the contact center received, shared by the fast
 * reliability specs and the chaos suite. Message texts are "<customer> #<n>"; timestamps grow with n
 * so Facebook's order is known.
 */
export interface Figures {
  scenario: string;
  sent: number;
  /** Distinct delivery ids the contact center accepted (2xx). */
  received: number;
  /** Accepted copies beyond the first, per delivery id (at-least-once: only after a timeout or a kill). */
  duplicates: number;
  /** Messages accepted before an earlier message of the same conversation. */
  outOfOrder: number;
  /** Sent messages never accepted. */
  lost: number;
  /** Notify attempts the contact center saw (any status). */
  attempts: number;
  recoverMs?: number;
  note?: string;
}

export const BASE_TIME = 1_700_000_000_000;

/** Delivery timings for fault scenarios: quick retries, sweeper and leases (production waits seconds to hours). */
export const FAST_DELIVERY = {
  retryDelaysMs: [200, 400], maxAttempts: 40, jitter: 0, sweepIntervalMs: 300, sweepGraceMs: 800, leaseMs: 3_000, notifyTimeoutMs: 2_000,
};

export function customerName(run: string, c: number): string {
  return `${run}-cust${c}`;
}

/** Posts `rounds` webhooks, each carrying the next message of every customer (one batch per round). */
export async function postTraffic(
  relayUrl: string | (() => string),
  appSecret: string,
  pageId: string,
  run: string,
  customers: number,
  rounds: number,
  options: { fromRound?: number; pauseMs?: number; accept?: (status: number) => boolean; retryUntilAccepted?: boolean } = {},
): Promise<{ posted: number; refused: number }> {
  let refused = 0;
  let posted = 0;
  for (let i = options.fromRound ?? 0; i < rounds; i++) {
    const events = [];
    for (let c = 0; c < customers; c++) events.push({ ...textEvent(pageId, customerName(run, c), `${customerName(run, c)} #${i}`, {}, BASE_TIME + i * 1000 + c), message: { mid: `mid.${run}.${c}.${i}`, text: `${customerName(run, c)} #${i}` } });
    const body = page(messaging(pageId, events));
    // Like Facebook: a refused or failed POST is sent again until the relay takes it.
    for (;;) {
      const url = typeof relayUrl === 'string' ? relayUrl : relayUrl();
      const answer = await postWebhook(url, appSecret, body).catch(() => ({ status: 0, body: '' }));
      if (answer.status === 200) break;
      refused++;
      if (!options.retryUntilAccepted) throw new Error(`webhook answered ${answer.status}: ${answer.body.slice(0, 200)}`);
      await sleep(200);
    }
    posted += customers;
    if (options.pauseMs) await sleep(options.pauseMs);
  }
  return { posted, refused };
}

export function count(cc: ContactCenterSandbox, accountId: number, run: string, customers: number, rounds: number, scenario: string): Figures {
  const all = cc.control.notifications({ accountId });
  const accepted = all.filter((n) => n.status !== undefined && n.status >= 200 && n.status < 300);
  const seen = new Map<string, number>();
  const lastIndex = new Map<string, number>();
  let outOfOrder = 0;
  const texts = new Set<string>();
  for (const note of accepted) {
    const id = note.deliveryId ?? '';
    seen.set(id, (seen.get(id) ?? 0) + 1);
    if (seen.get(id)! > 1) continue;
    const body = note.body as { from: string; body: string };
    texts.add(body.body);
    const n = Number(/#(\d+)$/.exec(body.body)?.[1]);
    if (n < (lastIndex.get(body.from) ?? -1)) outOfOrder++;
    lastIndex.set(body.from, Math.max(n, lastIndex.get(body.from) ?? -1));
  }
  let lost = 0;
  for (let c = 0; c < customers; c++) for (let i = 0; i < rounds; i++) if (!texts.has(`${customerName(run, c)} #${i}`)) lost++;
  return {
    scenario, sent: customers * rounds, received: seen.size, duplicates: [...seen.values()].reduce((sum, k) => sum + k - 1, 0),
    outOfOrder, lost, attempts: all.length,
  };
}

/** Waits until every sent message was accepted (or the time is up), returning the figures. */
export async function settle(cc: ContactCenterSandbox, accountId: number, run: string, customers: number, rounds: number, scenario: string, timeoutMs: number): Promise<Figures> {
  const deadline = Date.now() + timeoutMs;
  let figures = count(cc, accountId, run, customers, rounds, scenario);
  while (figures.lost > 0 && Date.now() < deadline) {
    await sleep(100);
    figures = count(cc, accountId, run, customers, rounds, scenario);
  }
  return figures;
}

export function report(figures: Figures): void {
  const recover = figures.recoverMs === undefined ? '' : `, recovered in ${(figures.recoverMs / 1000).toFixed(1)} s`;
  process.stdout.write(
    `[figures] ${figures.scenario}: sent ${figures.sent}, received ${figures.received}, duplicates ${figures.duplicates}, ` +
      `out-of-order ${figures.outOfOrder}, lost ${figures.lost}, notify attempts ${figures.attempts}${recover}${figures.note ? ` (${figures.note})` : ''}\n`,
  );
}

/** Prints the figures, then asserts: nothing lost, nothing out of order, copies only within the allowance. */
export function expectClean(figures: Figures, maxDuplicates = 0): void {
  report(figures);
  expect(figures.lost).toBe(0);
  expect(figures.received).toBe(figures.sent);
  expect(figures.outOfOrder).toBe(0);
  expect(figures.duplicates).toBeLessThanOrEqual(maxDuplicates);
}

/** A fresh contact-center account and an integration of a random page delivering to it. */
export async function integrationFor(relay: TestApp, cc: ContactCenterSandbox): Promise<{ accountId: number; pageId: string }> {
  const account = cc.control.createAccount({});
  const pageId = String(500000000 + Math.floor(Math.random() * 4e8));
  await createIntegration(relay, { openchannelUrl: cc.receiveUrl(account.id), pageId });
  return { accountId: account.id, pageId };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
