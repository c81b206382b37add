import { Injectable } from '@nestjs/common';

/** Facebook's Send API limits per page (facebook-platform.md §4.6). */
export const PAGE_LIMITS = { text: 300, media: 10 } as const;
export type SendKind = keyof typeof PAGE_LIMITS;

/** The longest a reply waits for its turn before the relay answers 429 itself. */
export const MAX_PACING_WAIT_MS = 3_000;

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * Token buckets per (page, kind), in memory: sends beyond a page's rate wait (bounded) for their
 * turn. With several API processes each paces its own share, so the page-wide rate can reach
 * the limit times the number of processes.
 */
@Injectable()
export class PagePacer {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly limits: Record<SendKind, number> = { ...PAGE_LIMITS }, private readonly maxWaitMs = MAX_PACING_WAIT_MS) {}

  /** Waits until the page may send one more of `kind`; false when that would take longer than the bound. */
  async acquire(pageId: string, kind: SendKind): Promise<boolean> {
    const rate = this.limits[kind];
    const key = `${pageId}:${kind}`;
    const now = Date.now();
    const bucket = this.buckets.get(key) ?? { tokens: rate, updatedAt: now };
    bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.updatedAt) / 1000) * rate);
    bucket.updatedAt = now;
    this.buckets.set(key, bucket);
    // Take the token now (possibly going negative): later callers queue behind this one.
    bucket.tokens -= 1;
    if (bucket.tokens >= 0) return true;
    const waitMs = Math.ceil((-bucket.tokens / rate) * 1000);
    if (waitMs > this.maxWaitMs) {
      bucket.tokens += 1;
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    this.prune(now);
    return true;
  }

  private prune(now: number): void {
    if (this.buckets.size < 10_000) return;
    for (const [key, bucket] of this.buckets) if (now - bucket.updatedAt > 60_000) this.buckets.delete(key);
  }
}
