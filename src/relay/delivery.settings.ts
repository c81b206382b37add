import { Injectable } from '@nestjs/common';

/**
 * Timings of inbound delivery. Defaults are the production ones; tests shorten them on the injected
 * instance (`relay.get(DeliverySettings).retryDelaysMs = [...]`).
 */
@Injectable()
export class DeliverySettings {
  /** Wait before retry n (1-based); the last value repeats until maxAttempts. 5 s … 1 h, then hourly: ~29 h in all. */
  retryDelaysMs = [5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000];
  /** Tries in all, the first included; then the message is marked failed (replayable). */
  maxAttempts = 30;
  /** ±share of random jitter on each retry delay. */
  jitter = 0.2;
  /** Longest Retry-After honoured from a 429 or 503. */
  maxRetryAfterMs = 3_600_000;
  notifyTimeoutMs = 10_000;
  /** How long one worker owns a message it is delivering; a crashed worker's messages are free again after it. */
  leaseMs = 5 * 60_000;
  /** The sweeper looks for queued messages nobody works on this often... */
  sweepIntervalMs = 30_000;
  /** ...that were due at least this long ago. */
  sweepGraceMs = 60_000;
  /** Messages one job delivers before it hands the conversation to a fresh job (fairness). */
  batchPerJob = 200;
  /** Attachments larger than this are not copied; the agent gets a note instead. */
  maxAttachmentBytes = 25 * 1024 * 1024;
  /** Copied files are kept this long in the blob store. */
  blobTtlMs = 7 * 24 * 3600_000;
  /** A failed or empty profile lookup is tried again after this. */
  profileRetryMs = 6 * 3600_000;
  profileTimeoutMs = 3_000;

  retryDelay(attempt: number): number {
    const base = this.retryDelaysMs[Math.min(attempt - 1, this.retryDelaysMs.length - 1)];
    return Math.round(base * (1 + (Math.random() * 2 - 1) * this.jitter));
  }
}
