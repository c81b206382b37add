/** Webhook sender: Meta-style serialisation, signing, app/page subscriptions, batching, retries, log. */
import { randomInt } from 'node:crypto';
import { hmacHex, sleep } from './util';
import { SandboxState } from './state';
import { WebhookDeliveryOptions } from './types';

/**
 * Serialise like Meta: compact JSON, every non-ASCII UTF-16 unit as \uXXXX (lowercase hex), '/' as '\/'
 * (and optionally '%' as \u0025). The result is pure ASCII, so its string and bytes are the same.
 */
export function metaJson(value: unknown, opts: { escapePercent?: boolean } = {}): string {
  let json = JSON.stringify(value);
  json = json.replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  json = json.replace(/\//g, '\\/');
  if (opts.escapePercent) json = json.replace(/%/g, '\\u0025');
  return json;
}

export function signatureHeaders(body: string | Buffer, appSecret: string): { 'x-hub-signature-256': string; 'x-hub-signature': string } {
  return {
    'x-hub-signature-256': 'sha256=' + hmacHex('sha256', appSecret, body),
    'x-hub-signature': 'sha1=' + hmacHex('sha1', appSecret, body),
  };
}

export interface AppSubscription {
  callbackUrl: string;
  verifyToken: string;
  fields: string[];
  active: boolean;
  lastVerification?: { at: string; status: number | null; body: string; ok: boolean; error?: string };
}

export interface WebhookEvent {
  pageId: string;
  field: string;
  entry: Record<string, unknown>;
}

export interface DeliveryAttempt {
  at: string;
  status: number | null;
  error?: string;
  durationMs: number;
}

export interface DeliveryRecord {
  id: number;
  createdAt: string;
  url: string;
  body: string;
  signature256: string;
  pageIds: string[];
  fields: string[];
  entryCount: number;
  status: 'pending' | 'retrying' | 'delivered' | 'failed' | 'dropped';
  attempts: DeliveryAttempt[];
  duplicateOf?: number;
}

export interface SkippedEvent {
  at: string;
  pageId: string;
  field: string;
  reason: string;
}

export class WebhookDispatcher {
  app: AppSubscription | null = null;
  deliveries: DeliveryRecord[] = [];
  skipped: SkippedEvent[] = [];
  /** page id → consecutive failed attempts */
  failures = new Map<string, number>();
  unsubscribedByFailure: { pageId: string; at: string }[] = [];

  private pending: WebhookEvent[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private ready: DeliveryRecord[] = [];
  private inFlight = 0;
  private retryTimers = new Set<NodeJS.Timeout>();
  private seq = 0;
  private closed = false;

  constructor(
    private readonly state: SandboxState,
    public options: WebhookDeliveryOptions,
    private readonly graphVersion: string,
    private readonly log: (line: string) => void,
  ) {}

  /** Like saving the callback in the App Dashboard: GET verification, activate only on an exact challenge echo. */
  async configure(input: { callbackUrl: string; verifyToken: string; fields?: string[]; skipVerification?: boolean }, defaultFields: string[]): Promise<AppSubscription> {
    const sub: AppSubscription = { callbackUrl: input.callbackUrl, verifyToken: input.verifyToken, fields: input.fields ?? defaultFields, active: false };
    if (input.skipVerification) {
      sub.active = true;
    } else {
      const challenge = String(randomInt(100000000, 2000000000));
      const url = new URL(input.callbackUrl);
      url.searchParams.set('hub.mode', 'subscribe');
      url.searchParams.set('hub.challenge', challenge);
      url.searchParams.set('hub.verify_token', input.verifyToken);
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(this.options.timeoutMs), headers: { 'user-agent': 'facebookplatform/1.0 (+http://developers.facebook.com)' } });
        const body = await res.text();
        const ok = res.status === 200 && body === challenge;
        sub.active = ok;
        sub.lastVerification = { at: new Date().toISOString(), status: res.status, body: body.slice(0, 200), ok };
      } catch (err) {
        sub.lastVerification = { at: new Date().toISOString(), status: null, body: '', ok: false, error: String((err as Error).message ?? err) };
      }
    }
    // A failed verification leaves a previously working subscription as it was (the dashboard refuses to save).
    if (sub.active || !this.app) this.app = sub;
    this.log(`webhook callback ${sub.callbackUrl} ${sub.active ? 'verified and active' : 'NOT verified'}`);
    return sub;
  }

  removeApp(): void {
    this.app = null;
  }

  /** Queue an event for delivery if both app-level and page-level subscriptions cover its field. */
  emit(event: WebhookEvent): boolean {
    const reason = this.whyNot(event);
    if (reason) {
      this.skipped.push({ at: new Date().toISOString(), pageId: event.pageId, field: event.field, reason });
      if (this.skipped.length > 5000) this.skipped.splice(0, this.skipped.length - 5000);
      return false;
    }
    this.pending.push(event);
    if (!this.flushTimer) {
      const delay = this.options.flushDelayMs > 0 ? this.options.flushDelayMs : this.options.batch ? 10 : 0;
      this.flushTimer = setTimeout(() => this.flush(), delay);
    }
    return true;
  }

  private whyNot(event: WebhookEvent): string | undefined {
    if (!this.app) return 'no app-level callback configured';
    if (!this.app.active) return 'app-level callback not verified';
    if (!this.app.fields.includes(event.field)) return `app not subscribed to field ${event.field}`;
    const page = this.state.pages.get(event.pageId);
    if (!page || page.subscribedFields === null) return 'app not installed on page (subscribed_apps)';
    if (!page.subscribedFields.includes(event.field)) return `page subscription lacks field ${event.field}`;
    return undefined;
  }

  /** Turn pending events into POST bodies now. */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (!this.app || this.pending.length === 0) return;
    const events = this.pending;
    this.pending = [];
    const groups: WebhookEvent[][] = [];
    if (this.options.batch) {
      for (let i = 0; i < events.length; i += Math.max(1, this.options.batchMax)) groups.push(events.slice(i, i + Math.max(1, this.options.batchMax)));
    } else {
      for (const e of events) groups.push([e]);
    }
    if (this.options.outOfOrder) groups.reverse();
    for (const group of groups) this.ready.push(this.makeDelivery(group));
    this.pump();
  }

  private makeDelivery(group: WebhookEvent[]): DeliveryRecord {
    const body = metaJson({ object: 'page', entry: group.map((e) => e.entry) }, { escapePercent: this.options.escapePercent });
    const rec: DeliveryRecord = {
      id: ++this.seq,
      createdAt: new Date().toISOString(),
      url: this.app!.callbackUrl,
      body,
      signature256: signatureHeaders(body, this.state.appSecret)['x-hub-signature-256'],
      pageIds: [...new Set(group.map((e) => e.pageId))],
      fields: [...new Set(group.map((e) => e.field))],
      entryCount: group.length,
      status: 'pending',
      attempts: [],
    };
    this.deliveries.push(rec);
    if (this.deliveries.length > 10000) this.deliveries.splice(0, this.deliveries.length - 10000);
    return rec;
  }

  private pump(): void {
    while (!this.closed && this.inFlight < Math.max(1, this.options.concurrency) && this.ready.length > 0) {
      const rec = this.ready.shift()!;
      this.inFlight++;
      void this.attempt(rec).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async attempt(rec: DeliveryRecord): Promise<void> {
    const started = Date.now();
    let status: number | null = null;
    let error: string | undefined;
    try {
      const res = await fetch(rec.url, {
        method: 'POST',
        body: rec.body,
        signal: AbortSignal.timeout(this.options.timeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'facebookexternalua',
          'facebook-api-version': this.graphVersion,
          ...signatureHeaders(rec.body, this.state.appSecret),
        },
      });
      status = res.status;
      await res.arrayBuffer().catch(() => undefined);
    } catch (err) {
      const e = err as Error;
      error = e.name === 'TimeoutError' ? `timeout after ${this.options.timeoutMs} ms` : String((e as { cause?: Error }).cause?.message ?? e.message);
    }
    rec.attempts.push({ at: new Date(started).toISOString(), status, error, durationMs: Date.now() - started });
    const ok = status !== null && status >= 200 && status < 300;
    if (ok) {
      rec.status = 'delivered';
      for (const p of rec.pageIds) this.failures.set(p, 0);
      if (this.options.duplicates && rec.duplicateOf === undefined) {
        const dup: DeliveryRecord = { ...rec, id: ++this.seq, createdAt: new Date().toISOString(), attempts: [], status: 'pending', duplicateOf: rec.id };
        this.deliveries.push(dup);
        this.ready.push(dup);
      }
      return;
    }
    for (const p of rec.pageIds) {
      const n = (this.failures.get(p) ?? 0) + 1;
      this.failures.set(p, n);
      const limit = this.options.autoUnsubscribeAfterFailures;
      const page = this.state.pages.get(p);
      if (limit > 0 && n >= limit && page && page.subscribedFields !== null) {
        page.subscribedFields = null;
        this.unsubscribedByFailure.push({ pageId: p, at: new Date().toISOString() });
        this.log(`webhooks disabled: app unsubscribed from page ${p} after ${n} failed deliveries`);
      }
    }
    if (rec.attempts.length >= this.options.maxAttempts || this.closed) {
      rec.status = 'failed';
      return;
    }
    rec.status = 'retrying';
    const delays = this.options.retryDelaysMs.length ? this.options.retryDelaysMs : [1000];
    const delay = delays[Math.min(rec.attempts.length - 1, delays.length - 1)];
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      this.ready.push(rec);
      this.pump();
    }, delay);
    this.retryTimers.add(timer);
  }

  /** True when nothing is queued, in flight or waiting for a retry. */
  isIdle(): boolean {
    return this.pending.length === 0 && !this.flushTimer && this.ready.length === 0 && this.inFlight === 0 && this.retryTimers.size === 0;
  }

  async idle(timeoutMs = 10000): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (!this.isIdle()) {
      if (Date.now() > until) return false;
      await sleep(5);
    }
    return true;
  }

  clearLog(): void {
    this.deliveries = [];
    this.skipped = [];
    this.unsubscribedByFailure = [];
  }

  close(): void {
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    for (const t of this.retryTimers) clearTimeout(t);
    this.retryTimers.clear();
    this.pending = [];
    this.ready = [];
  }
}
