import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { performance } from 'node:perf_hooks';

/**
 * Pressure starts when, over four samples in a row (200 ms), the event loop was busy at least `from` of
 * the time (or EVENTS_WAITING_WITHOUT_BUSY events waited for their answer) and at least a tenth of the
 * webhook answers waited longer than SLOW_ANSWER_MS after their body had arrived, and over those four
 * samples at least EVENTS_WAITING_TO_START events waited for their answer on average. It lasts while POSTs
 * keep arriving and either the loop stays busy at least `until` of the time (lower, since pacing frees the
 * loop and would otherwise switch itself off at once) or at least EVENTS_WAITING_TO_LAST events still wait
 * for their answer, and ends after two samples in a row without that.
 *
 * Without slow answers there is no pressure, however busy the loop. A steady rate the process can serve
 * must keep its background at full speed: at 500 events/s the storing and delivering come in bursts of
 * 50-100 ms (a batch, then its deliveries) that make two samples slow now and then, and a delivery or a
 * batch that waits its turn then waits behind every unit queued before it (end-to-end p99 65-70 ms when
 * two samples started pressure, 54-56 ms with four). A saturating burst stays slow for seconds, so
 * starting 100 ms later costs it little. Ended on one quiet sample, pressure flickered off in 15-40 % of
 * the samples of such a burst, and each restart waited for slow samples again (1-event ingest 26-32 %
 * of the bare server, 38-41 % with two quiet samples to end).
 */
const BUSY_UTILIZATION = { from: 0.9, until: 0.85 };
const SLOW_SAMPLES_TO_START = 4;
const QUIET_SAMPLES_TO_END = 2;
/**
 * An idle relay answers in well under a millisecond. With 5 ms here, a fast machine never saw pressure in
 * a saturating 1-event burst: the loop was 99-100 % busy storing and delivering every message at once, yet
 * only 3-6 % of the answers took over 5 ms (p50 4.3 ms), and the relay answered a tenth of the bare server.
 */
const SLOW_ANSWER_MS = 2;
const SLOW_ANSWERS_SHARE = 0.1;
/**
 * Events waiting for their answer, on average over a sample: each answered POST's wait times its events,
 * summed, over the sample's length (Little's law). A sender held up by slow answers keeps many events in
 * flight (Facebook's batches for a busy Page; the bench's closed loop of 16 POSTs); a steady stream the
 * relay keeps up with has few even while answers take milliseconds (500 events/s answered in 5 ms: 2.5).
 * Without this, on MySQL (every answer waits for the inbox's commit) slow answers alone started pacing at
 * steady rates, and each spell left a backlog (docs/performance.md, rounds 8 and 9). Averaged over the four
 * samples because the closed loop on MySQL showed 6-11 waiting from one sample to the next.
 */
const EVENTS_WAITING_TO_START = 6;
/**
 * On MySQL an answer waits for the inbox's commit, not for the loop, so a paced loop has room and the busy
 * rule alone ended pressure within a few samples of a saturating burst, each restart waiting for four slow
 * samples unpaced (docs/performance.md, round 11). The sender still keeps many events waiting then; a
 * steady stream that pacing answers fast keeps one or two.
 */
const EVENTS_WAITING_TO_LAST = 4;
/**
 * On MySQL the loop can have room while answers are slow: each waits for the inbox's commit, and the
 * storing and delivering the process then does at full speed keep the database, and the cores it shares,
 * busy. In a closed-loop 1-event burst on MariaDB the busy rule alone never started pressure in some runs:
 * 1,739-4,409 POSTs/s instead of 6,300-7,400 (docs/performance.md, round 13). So this many events waiting
 * start it too: a steady stream the relay keeps up with has 2-3.
 */
const EVENTS_WAITING_WITHOUT_BUSY = 10;
const SAMPLE_EVERY_MS = 50;
/**
 * While webhooks are under pressure, background work gets at most this share of the event loop's time:
 * after each unit the gate stays shut (1 - share) / share times as long as the unit took.
 */
const BACKGROUND_SHARE_UNDER_PRESSURE = 0.2;
/**
 * A unit still running after this long is waiting (on the contact center, on a lock), not holding the
 * loop: it counts as this long, and the next unit may start, so one slow contact center cannot stop
 * the others' deliveries or the inbox.
 */
const UNIT_COUNTS_AT_MOST_MS = 10;

/** Ends a unit of background work (see WebhooksFirst.turn). */
export type Release = () => void;

/**
 * Webhook answers first. Messenger wants the 200 within 5 s, retries what fails, and unsubscribes the
 * app from a Page whose webhook keeps failing for an hour (facebook-platform.md §1.4). A POST is answered
 * as soon as its bytes are committed to the inbox; turning them into messages and delivering those can
 * wait, since they are safe in the database.
 *
 * So background work (an inbox batch, one message's delivery) asks for a turn before each unit. When the
 * event loop is busy and webhook POSTs are arriving (pressure), units go one after another, and after
 * each the gate stays shut long enough that background work gets at most a fifth of the loop: the
 * rest answers webhooks. What is not processed meanwhile waits in the inbox and the message table, and
 * goes at full speed as soon as the loop has room again. Without pressure every unit starts at once.
 */
@Injectable()
export class WebhooksFirst implements OnApplicationShutdown {
  private postsInFlight = 0;
  private receivedSinceSample = 0;
  private answeredSinceSample = 0;
  private slowSinceSample = 0;
  private eventWaitMsSinceSample = 0;
  private sampledAt = performance.now();
  private pressure = false;
  /** Of the slow samples in a row so far (the last SLOW_SAMPLES_TO_START of them): the events waiting for their answer in each, on average. */
  private readonly slowSamplesInARow: number[] = [];
  private quietSamplesInARow = 0;
  private lastUtilization = performance.eventLoopUtilization();
  private readonly sampler: NodeJS.Timeout;
  private readonly waiting: Array<(release: Release) => void> = [];
  /** A unit admitted under pressure that has not yet ended or counted as waiting. */
  private holding = false;
  private shutUntil = 0;
  private opener: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor() {
    this.sampler = setInterval(() => this.sample(), SAMPLE_EVERY_MS);
    this.sampler.unref();
  }

  /** A webhook POST started (its body is being read). */
  received(): void {
    this.postsInFlight++;
    this.receivedSinceSample++;
  }

  /** It was answered, `waitedMs` after its body had arrived (the whole time, if it was refused before that); it carried `events` events (0 if refused). */
  answered(waitedMs: number, events: number): void {
    this.postsInFlight--;
    this.answeredSinceSample++;
    if (waitedMs > SLOW_ANSWER_MS) this.slowSinceSample++;
    this.eventWaitMsSinceSample += waitedMs * events;
  }

  /** Whether background work is being paced now (tests). */
  get underPressure(): boolean {
    return this.pressure;
  }

  /** Runs one unit of background work in its turn. */
  async inTurn<T>(unit: () => Promise<T>): Promise<T> {
    const release = await this.turn();
    try {
      return await unit();
    } finally {
      release();
    }
  }

  /** A unit's turn: resolves when it may start, with the function to call when it ends (inTurn does both). */
  turn(): Promise<Release> {
    if (!this.pressure || this.stopped) return Promise.resolve(noop);
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.admitNext();
    });
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearInterval(this.sampler);
    this.openAll();
  }

  private sample(): void {
    const utilization = performance.eventLoopUtilization(this.lastUtilization).utilization;
    this.lastUtilization = performance.eventLoopUtilization();
    const now = performance.now();
    const eventsWaiting = this.eventWaitMsSinceSample / Math.max(1, now - this.sampledAt);
    this.sampledAt = now;
    const arriving = this.postsInFlight > 0 || this.receivedSinceSample > 0;
    const slow = arriving && (utilization >= BUSY_UTILIZATION.from || eventsWaiting >= EVENTS_WAITING_WITHOUT_BUSY) && this.slowSinceSample > 0 && this.slowSinceSample >= SLOW_ANSWERS_SHARE * this.answeredSinceSample;
    if (!slow) this.slowSamplesInARow.length = 0;
    else if (this.slowSamplesInARow.push(eventsWaiting) > SLOW_SAMPLES_TO_START) this.slowSamplesInARow.shift();
    const crowded = this.slowSamplesInARow.reduce((sum, waiting) => sum + waiting, 0) >= EVENTS_WAITING_TO_START * SLOW_SAMPLES_TO_START;
    const stillPressing = arriving && (utilization >= BUSY_UTILIZATION.until || eventsWaiting >= EVENTS_WAITING_TO_LAST);
    this.quietSamplesInARow = stillPressing ? 0 : this.quietSamplesInARow + 1;
    this.pressure = this.pressure ? this.quietSamplesInARow < QUIET_SAMPLES_TO_END : this.slowSamplesInARow.length === SLOW_SAMPLES_TO_START && crowded;
    this.receivedSinceSample = 0;
    this.answeredSinceSample = 0;
    this.slowSinceSample = 0;
    this.eventWaitMsSinceSample = 0;
    if (!this.pressure) this.openAll();
  }

  private admitNext(): void {
    if (this.holding || this.opener || !this.waiting.length) return;
    const wait = this.shutUntil - Date.now();
    if (wait > 0) {
      this.opener = setTimeout(() => {
        this.opener = null;
        this.admitNext();
      }, wait);
      return;
    }
    const admit = this.waiting.shift()!;
    this.holding = true;
    const started = performance.now();
    let counted = false;
    const count = (tookMs: number) => {
      if (counted) return;
      counted = true;
      clearTimeout(waitingTimer);
      this.holding = false;
      this.shutUntil = Date.now() + (tookMs * (1 - BACKGROUND_SHARE_UNDER_PRESSURE)) / BACKGROUND_SHARE_UNDER_PRESSURE;
      if (this.pressure) this.admitNext();
      else this.openAll();
    };
    const waitingTimer = setTimeout(() => count(UNIT_COUNTS_AT_MOST_MS), UNIT_COUNTS_AT_MOST_MS);
    admit(() => count(performance.now() - started));
  }

  /** No pressure (or shutting down): every waiting unit goes now. */
  private openAll(): void {
    if (this.opener) clearTimeout(this.opener);
    this.opener = null;
    this.shutUntil = 0;
    for (const resolve of this.waiting.splice(0)) resolve(noop);
  }
}

function noop(): void {}
