import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** Event-loop delay (p90 over the last sample) above which the process counts as saturated. */
const SATURATED_LAG_MS = 15;
const SAMPLE_EVERY_MS = 100;
const BACKGROUND_PAUSE_MS = 10;

/**
 * Webhook answers first. Facebook measures how fast the relay answers, and a webhook POST is
 * answered as soon as its bytes are committed; deliveries can wait, since their messages are safe in
 * the database. So while webhook POSTs are waiting for an answer and the event loop is saturated,
 * each delivery pauses briefly before its next message, which leaves the loop to the POSTs. Under
 * ordinary load (the loop keeps up) nothing waits.
 */
@Injectable()
export class WebhooksFirst implements OnApplicationShutdown {
  private postsInFlight = 0;
  private saturated = false;
  private readonly delay = monitorEventLoopDelay({ resolution: 10 });
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.delay.enable();
    this.timer = setInterval(() => {
      this.saturated = this.delay.percentile(90) / 1e6 > SATURATED_LAG_MS;
      this.delay.reset();
    }, SAMPLE_EVERY_MS);
    this.timer.unref();
  }

  /** A webhook POST started (its body is being read). */
  received(): void {
    this.postsInFlight++;
  }

  /** It was answered. */
  answered(): void {
    this.postsInFlight--;
  }

  /** Background work calls this before each unit of work: at once, or after a pause while webhooks wait. */
  async turn(): Promise<void> {
    if (this.saturated && this.postsInFlight > 0) await new Promise((resolve) => setTimeout(resolve, BACKGROUND_PAUSE_MS));
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    this.delay.disable();
  }
}
