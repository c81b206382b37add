import type { ContactCenterSandbox } from '../sandbox/contact-center/server';
import { now } from './stats';
import { markerOf } from './webhook-payload';

/**
 * Listens to the contact-center sandbox's accepted notifications and times each bench message
 * from its send time (in its text) to its arrival. Each message counts once (a retried delivery
 * that arrives twice is counted as a duplicate).
 */
export class Collector {
  private readonly seen = new Set<string>();
  private latencies: number[] = [];
  /** When each message of the window arrived, in order. */
  private arrivals: number[] = [];
  duplicates = 0;
  private waiters: Array<{ n: number; resolve: () => void }> = [];
  private readonly listener = (record: { status: number; body: unknown }) => {
    if (record.status < 200 || record.status >= 300) return;
    const marker = markerOf((record.body as { body?: unknown } | null)?.body);
    if (!marker) return;
    const at = now();
    if (this.seen.has(marker.id)) {
      this.duplicates++;
      return;
    }
    this.seen.add(marker.id);
    this.latencies.push(at - marker.sentAt);
    this.arrivals.push(at);
    if (this.waiters.length) {
      this.waiters = this.waiters.filter((w) => {
        if (this.received < w.n) return true;
        w.resolve();
        return false;
      });
    }
  };

  constructor(private readonly contactCenter: ContactCenterSandbox) {
    contactCenter.control.events.on('notification', this.listener);
  }

  /** Starts a new measurement window (counts and latencies from zero; ids seen stay seen). */
  reset(): void {
    this.latencies = [];
    this.arrivals = [];
    this.duplicates = 0;
  }

  /** Messages arrived in this window. */
  get received(): number {
    return this.arrivals.length;
  }

  /** When the window's first and last messages arrived (0: none yet). */
  get firstAt(): number {
    return this.arrivals[0] ?? 0;
  }

  get lastAt(): number {
    return this.arrivals[this.arrivals.length - 1] ?? 0;
  }

  takeLatencies(): number[] {
    return this.latencies;
  }

  /** Messages per second between the arrival of the `from` share of the window's messages and that of the `to` share. */
  rateBetween(from: number, to: number): number {
    const first = Math.floor(this.arrivals.length * from);
    const last = Math.min(this.arrivals.length - 1, Math.ceil(this.arrivals.length * to) - 1);
    const seconds = (this.arrivals[last] - this.arrivals[first]) / 1000;
    return seconds > 0 ? (last - first) / seconds : 0;
  }

  /** Resolves true once `n` messages arrived in this window, false after `timeoutMs`. */
  waitFor(n: number, timeoutMs: number): Promise<boolean> {
    if (this.received >= n) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      const waiter = { n, resolve: () => { clearTimeout(timer); resolve(true); } };
      this.waiters.push(waiter);
    });
  }

  close(): void {
    this.contactCenter.control.events.off('notification', this.listener);
  }
}
