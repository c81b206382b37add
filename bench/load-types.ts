import type { PageLoad } from './webhook-payload';

export type RequestSpec =
  | { kind: 'webhook'; url: string; eventsPerPost: number; pages: PageLoad[]; appSecret: string; tag: string }
  /** POST /api/reply as a Motion contact center does, round robin over (token, psid). */
  | { kind: 'reply'; url: string; targets: Array<{ token: string; psid: string }>; tag: string }
  /** The same Send API call straight to the Facebook sandbox: the baseline of the reply overhead. */
  | { kind: 'graph'; url: string; graphVersion: string; targets: Array<{ pageId: string; pageToken: string; psid: string }> };

export type LoadJob = {
  request: RequestSpec;
  /** Label for progress lines. */
  label: string;
  /** Longest run. */
  durationMs: number;
} & (
  /** As fast as `concurrency` connections allow (closed loop). Stops at durationMs or after `total` requests. */
  | { mode: 'closed'; concurrency: number; total?: number }
  /** A steady `rate` requests per second whatever the answers take (open loop), at most `maxInFlight` waiting. */
  | { mode: 'open'; rate: number; maxInFlight: number }
);

export interface LoadResult {
  label: string;
  requests: number;
  ok: number;
  failed: number;
  /** Requests the open loop could not start because maxInFlight were waiting (the target was too slow). */
  skipped: number;
  events: number;
  statuses: Record<string, number>;
  errors: string[];
  elapsedMs: number;
  /** Answer times of the 2xx requests, ms. */
  latencies: number[];
  /** Share of the generator thread's time spent busy (near 1 = the generator itself limits the figures). */
  generatorBusy: number;
}

export interface LoadProgress {
  type: 'progress';
  label: string;
  elapsedMs: number;
  requests: number;
  ok: number;
  failed: number;
  ratePerSecond: number;
}
