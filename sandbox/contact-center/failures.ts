/** Failure injection for the notify path (and optionally the account and attachment endpoints). */

export type FailureTarget = 'notify' | 'account' | 'attachments';

export interface ErrorRuleInput {
  /** HTTP status to answer, e.g. 500, 503, 429, 408. */
  status: number;
  /** How many matching requests get it; null/undefined = all until cleared. */
  count?: number | null;
  /** Seconds for a `Retry-After` header (defaults to 1 for 429). */
  retryAfter?: number | string | null;
  message?: string;
  /** Which endpoints it applies to; default `['notify']`. */
  targets?: FailureTarget[];
}

export interface SlowInput {
  /** Delay before answering, in ms. */
  ms: number;
  /** How many matching requests are delayed; null/undefined = all until cleared. */
  count?: number | null;
  targets?: FailureTarget[];
}

export interface FailuresInput {
  /** Fixed latency added to every notify (for benchmarks), ms. */
  latencyMs?: number;
  /** Delay answers; a number means `{ms}`; null clears. */
  slow?: SlowInput | number | null;
  /** Replace the error rules (a queue: the first rule matching a request is used). null clears. */
  errors?: ErrorRuleInput | ErrorRuleInput[] | null;
  /** Shorthand for an error rule with status 429 and `Retry-After`. */
  rateLimit?: { retryAfter?: number; count?: number | null; targets?: FailureTarget[] } | null;
}

interface ErrorRule {
  status: number;
  remaining: number | null;
  retryAfter: string | null;
  message: string;
  targets: FailureTarget[];
}

interface SlowRule {
  ms: number;
  remaining: number | null;
  targets: FailureTarget[];
}

export interface InjectedError {
  status: number;
  headers: Record<string, string>;
  body: { message: string };
}

export interface FailuresSnapshot {
  latencyMs: number;
  slow: { ms: number; remaining: number | null; targets: FailureTarget[] } | null;
  errors: Array<{ status: number; remaining: number | null; retryAfter: string | null; message: string; targets: FailureTarget[] }>;
}

const DEFAULT_TARGETS: FailureTarget[] = ['notify'];

export class Failures {
  latencyMs: number;
  private slow: SlowRule | null = null;
  private errors: ErrorRule[] = [];

  /** @param initialLatencyMs the startup `notifyLatencyMs`; `clear()` goes back to it. */
  constructor(private readonly initialLatencyMs = 0) {
    this.latencyMs = initialLatencyMs;
  }

  /** True when nothing is injected for this target (the fast path skips everything). */
  idle(target: FailureTarget): boolean {
    return (target !== 'notify' || this.latencyMs === 0) && this.slow === null && this.errors.length === 0;
  }

  /** Delay (ms) to apply before answering this request; consumes one use of a counted slow rule. */
  takeDelay(target: FailureTarget): number {
    let delay = target === 'notify' ? this.latencyMs : 0;
    const slow = this.slow;
    if (slow && slow.targets.includes(target)) {
      delay += slow.ms;
      if (slow.remaining !== null && --slow.remaining <= 0) this.slow = null;
    }
    return delay;
  }

  /** The injected error for this request, if any; consumes one use of a counted rule. */
  takeError(target: FailureTarget): InjectedError | null {
    const index = this.errors.findIndex((rule) => rule.targets.includes(target));
    if (index < 0) return null;
    const rule = this.errors[index];
    if (rule.remaining !== null && --rule.remaining <= 0) this.errors.splice(index, 1);
    const headers: Record<string, string> = {};
    if (rule.retryAfter !== null) headers['retry-after'] = rule.retryAfter;
    return { status: rule.status, headers, body: { message: rule.message } };
  }

  set(input: FailuresInput): void {
    if (input.latencyMs !== undefined) this.latencyMs = nonNegative(input.latencyMs, 'latencyMs');
    if (input.slow !== undefined) {
      if (input.slow === null) this.slow = null;
      else {
        const slow = typeof input.slow === 'number' ? { ms: input.slow } : input.slow;
        this.slow = {
          ms: nonNegative(slow.ms, 'slow.ms'),
          remaining: countOf(slow.count),
          targets: targetsOf(slow.targets),
        };
        if (this.slow.ms === 0) this.slow = null;
      }
    }
    if (input.errors !== undefined) {
      this.errors = [];
      if (input.errors !== null) for (const rule of Array.isArray(input.errors) ? input.errors : [input.errors]) this.addError(rule);
    }
    if (input.rateLimit !== undefined && input.rateLimit !== null) {
      this.addError({
        status: 429,
        retryAfter: input.rateLimit.retryAfter ?? 1,
        count: input.rateLimit.count,
        targets: input.rateLimit.targets,
      });
    }
  }

  addError(input: ErrorRuleInput): void {
    const status = Number(input.status);
    if (!Number.isInteger(status) || status < 400 || status > 599) throw new Error('errors.status must be an HTTP error status (400-599)');
    let retryAfter = input.retryAfter === undefined || input.retryAfter === null ? null : String(input.retryAfter);
    if (status === 429 && retryAfter === null) retryAfter = '1';
    this.errors.push({
      status,
      remaining: countOf(input.count),
      retryAfter,
      message: input.message ?? (status === 429 ? 'Too many requests (injected by the sandbox)' : `Injected failure ${status}`),
      targets: targetsOf(input.targets),
    });
  }

  /** Drop slow and error rules; the latency goes back to its startup value. */
  clear(): void {
    this.slow = null;
    this.errors = [];
    this.latencyMs = this.initialLatencyMs;
  }

  snapshot(): FailuresSnapshot {
    return {
      latencyMs: this.latencyMs,
      slow: this.slow ? { ...this.slow, targets: [...this.slow.targets] } : null,
      errors: this.errors.map((rule) => ({ ...rule, targets: [...rule.targets] })),
    };
  }
}

function nonNegative(value: unknown, name: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number`);
  return n;
}

function countOf(value: number | null | undefined): number | null {
  if (value === undefined || value === null) return null;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error('count must be a positive integer (or null for "until cleared")');
  return n;
}

function targetsOf(value: FailureTarget[] | undefined): FailureTarget[] {
  if (!value || value.length === 0) return DEFAULT_TARGETS;
  for (const t of value) if (t !== 'notify' && t !== 'account' && t !== 'attachments') throw new Error(`Unknown failure target ${String(t)}`);
  return [...value];
}
