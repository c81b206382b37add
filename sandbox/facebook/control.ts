/** In-process control surface of the sandbox (the HTTP control API maps 1:1 onto this). */
import { SandboxCdn } from './cdn';
import { GraphError, InjectableErrorKind, injectableError } from './errors';
import { EventGenerator } from './events';
import { CallRecord, SandboxState, SandboxToken, ThreadMessage } from './state';
import { ALL_WEBHOOK_FIELDS, DEFAULT_APP_FIELDS, RELAY_PERMISSIONS, ResolvedOptions, WebhookDeliveryOptions } from './types';
import { AppSubscription, DeliveryRecord, WebhookDispatcher } from './webhooks';

export interface InjectionInput {
  kind: InjectableErrorKind;
  /** How many matching calls get it (default 1). */
  times?: number;
  /** Apply to every matching call until cleared. */
  forever?: boolean;
  /** Substring of the unversioned path, e.g. '/messages'. */
  path?: string;
  /** Regular expression on the unversioned path. */
  pathRegex?: string;
  method?: string;
  /** Only calls about this page (page token or page id in the path). */
  pageId?: string;
  /** Answer this much later (kind 'delay' only waits; 'lost_answer' drops the connection this long after the call took effect; other kinds wait then fail). */
  delayMs?: number;
  /** kind 'custom' */
  code?: number;
  subcode?: number;
  message?: string;
  httpStatus?: number;
  /** kind 'down': drop the connection instead of answering 503. */
  refuse?: boolean;
}

export interface InjectionRule extends InjectionInput {
  id: number;
  remaining: number;
  hits: number;
}

export interface InjectionOutcome {
  rule: InjectionRule;
  delayMs: number;
  error?: GraphError;
  down?: boolean;
  refuse?: boolean;
  /** The call takes effect, then the connection drops (after `delayMs`) without an answer. */
  loseAnswer?: boolean;
}

export interface CallFilter {
  method?: string;
  path?: string;
  kind?: string;
  status?: number;
  sinceId?: number;
  limit?: number;
}

export interface TokenView {
  token: string;
  type: string;
  userId?: string;
  pageId?: string;
  longLived: boolean;
  issuedAt: string;
  expiresAt: string | null;
  revoked: boolean;
  valid: boolean;
  problem?: string;
}

export class SandboxControl {
  private rules: InjectionRule[] = [];
  private ruleSeq = 0;
  down = false;

  constructor(
    readonly state: SandboxState,
    readonly cdn: SandboxCdn,
    readonly webhooks: WebhookDispatcher,
    readonly events: EventGenerator,
    private readonly options: ResolvedOptions,
    private readonly baseUrl: () => string,
  ) {}

  // ---------- info ----------

  info() {
    return {
      url: this.baseUrl(),
      graphUrl: `${this.baseUrl()}/${this.options.graphVersion}`,
      dialogUrl: `${this.baseUrl()}/${this.options.graphVersion}/dialog/oauth`,
      appId: this.state.appId,
      appSecret: this.state.appSecret,
      appToken: `${this.state.appId}|${this.state.appSecret}`,
      graphVersion: this.options.graphVersion,
      autoApprove: this.options.autoApprove,
      cdnTtlMs: this.cdn.ttlMs,
      clockOffsetMs: this.state.clock.offsetMs,
      seed: this.state.seedInfo ?? null,
    };
  }

  /** Everything in the world, JSON-friendly. */
  snapshot() {
    const s = this.state;
    return {
      users: [...s.users.values()].map((u) => ({ id: u.id, name: u.name, email: u.email, appAuthorized: u.appAuthorized, permissions: Object.fromEntries(u.permissions) })),
      pages: [...s.pages.values()].map((p) => ({ id: p.id, name: p.name, category: p.category, roles: Object.fromEntries(p.roles), subscribedFields: p.subscribedFields })),
      customers: [...s.customers.values()].map((c) => ({ ...c, lastMessageAt: c.lastMessageAt === null ? null : new Date(c.lastMessageAt).toISOString() })),
      posts: [...s.posts.values()].map((p) => ({ ...p, createdAt: new Date(p.createdAt).toISOString() })),
      comments: [...s.comments.values()].map((c) => ({ ...c, createdAt: new Date(c.createdAt).toISOString() })),
      webhook: this.webhookStatus(),
    };
  }

  // ---------- users, pages, customers ----------

  createUser(input: { name: string; email?: string; permissions?: string[] }) {
    const u = this.state.addUser(input);
    return { id: u.id, name: u.name, email: u.email };
  }

  createPage(input: { name: string; category?: string; roles?: Record<string, string[]> }) {
    const p = this.state.addPage(input);
    for (const [userId, tasks] of Object.entries(input.roles ?? {})) this.state.setRole(p.id, userId, tasks);
    return { id: p.id, name: p.name, category: p.category };
  }

  setPageRole(pageId: string, userId: string, tasks?: string[]) {
    this.state.setRole(pageId, userId, tasks);
    return { pageId, userId, tasks: this.state.requirePage(pageId).roles.get(userId) };
  }

  removePageRole(pageId: string, userId: string) {
    this.state.removeRole(pageId, userId);
    return { success: true };
  }

  createCustomer(input: { pageId: string; firstName?: string; lastName?: string; hasProfile?: boolean; lastMessageAgoMs?: number; locale?: string }) {
    const c = this.state.addCustomer({ ...input, lastMessageAt: input.lastMessageAgoMs === undefined ? null : this.state.clock.now() - input.lastMessageAgoMs });
    return c;
  }

  /** Move a customer's last message time (24 h / 7 day windows), mark unavailable, drop the profile. */
  updateCustomer(psid: string, patch: { lastMessageAgoMs?: number | null; lastMessageAt?: number | null; unavailable?: boolean; hasProfile?: boolean; firstName?: string; lastName?: string }) {
    const c = this.state.requireCustomer(psid);
    if (patch.lastMessageAgoMs !== undefined) c.lastMessageAt = patch.lastMessageAgoMs === null ? null : this.state.clock.now() - patch.lastMessageAgoMs;
    if (patch.lastMessageAt !== undefined) c.lastMessageAt = patch.lastMessageAt;
    if (patch.unavailable !== undefined) c.unavailable = patch.unavailable;
    if (patch.hasProfile !== undefined) c.hasProfile = patch.hasProfile;
    if (patch.firstName !== undefined) c.firstName = patch.firstName;
    if (patch.lastName !== undefined) c.lastName = patch.lastName;
    return c;
  }

  /** Move a comment's or post's creation time into the past (private-reply 7-day rule). */
  ageObject(id: string, agoMs: number) {
    const o = this.state.comments.get(id) ?? this.state.posts.get(id);
    if (!o) throw new Error(`unknown post or comment ${id}`);
    o.createdAt = this.state.clock.now() - agoMs;
    return { id, createdAt: new Date(o.createdAt).toISOString() };
  }

  /** The user removes one permission in their settings (applies to existing tokens). */
  removePermission(userId: string, permission: string) {
    this.state.requireUser(userId).permissions.set(permission, 'declined');
    return { success: true };
  }

  /** The user removes the app (tokens then fail with 190/458). */
  deauthorizeUser(userId: string) {
    this.state.requireUser(userId).appAuthorized = false;
    return { success: true };
  }

  // ---------- tokens ----------

  /** Mint tokens without the dialog: user token (long-lived by default) and, with pageId, that page's token. */
  issueToken(input: { userId: string; pageId?: string; longLived?: boolean; scopes?: string[] }) {
    const user = this.state.requireUser(input.userId);
    user.appAuthorized = true;
    for (const s of input.scopes ?? RELAY_PERMISSIONS) user.permissions.set(s, 'granted');
    const userToken = this.state.issueUserToken(user.id, input.longLived ?? true);
    let pageToken: SandboxToken | undefined;
    if (input.pageId) {
      const page = this.state.requirePage(input.pageId);
      if (!page.roles.has(user.id)) throw new Error(`user ${user.id} has no role on page ${page.id}`);
      pageToken = this.state.pageTokenFor(userToken, page.id);
    }
    return { userToken: userToken.token, pageToken: pageToken?.token, userId: user.id, pageId: input.pageId };
  }

  listTokens(filter: { userId?: string; pageId?: string; type?: string } = {}): TokenView[] {
    return [...this.state.tokens.values()]
      .filter((t) => (!filter.userId || t.userId === filter.userId) && (!filter.pageId || t.pageId === filter.pageId) && (!filter.type || t.type === filter.type))
      .map((t) => {
        const problem = this.state.tokenProblem(t);
        return {
          token: t.token,
          type: t.type,
          userId: t.userId,
          pageId: t.pageId,
          longLived: t.longLived,
          issuedAt: new Date(t.issuedAt).toISOString(),
          expiresAt: t.expiresAt ? new Date(t.expiresAt).toISOString() : null,
          revoked: t.revoked,
          valid: !problem,
          problem: problem ? `${problem.code}/${problem.subcode ?? ''} ${problem.message}` : undefined,
        };
      });
  }

  /** Invalidate a token (→ 190/460), or every token of a user. */
  revokeToken(input: { token?: string; userId?: string }) {
    if (input.userId) return { revoked: this.state.revokeUserTokens(input.userId) };
    if (!input.token || !this.state.revokeToken(input.token)) throw new Error('unknown token');
    return { revoked: 1 };
  }

  /** Make a token expired (→ 190/463). */
  expireToken(input: { token: string }) {
    if (!this.state.expireToken(input.token)) throw new Error('unknown token');
    return { expired: 1 };
  }

  // ---------- webhooks ----------

  /** App Dashboard → Webhooks: set callback URL + verify token (+ fields); verifies with a GET challenge. */
  async configureWebhook(input: { callbackUrl: string; verifyToken: string; fields?: string[]; skipVerification?: boolean }): Promise<AppSubscription> {
    for (const f of input.fields ?? []) if (!ALL_WEBHOOK_FIELDS.includes(f)) throw new Error(`unknown webhook field ${f}`);
    return this.webhooks.configure(input, DEFAULT_APP_FIELDS);
  }

  removeWebhook() {
    this.webhooks.removeApp();
    return { success: true };
  }

  webhookStatus() {
    return {
      app: this.webhooks.app,
      options: this.webhooks.options,
      pages: [...this.state.pages.values()].map((p) => ({ id: p.id, subscribedFields: p.subscribedFields, consecutiveFailures: this.webhooks.failures.get(p.id) ?? 0 })),
      unsubscribedByFailure: this.webhooks.unsubscribedByFailure,
      idle: this.webhooks.isIdle(),
    };
  }

  setWebhookOptions(patch: Partial<WebhookDeliveryOptions>): WebhookDeliveryOptions {
    Object.assign(this.webhooks.options, patch);
    return this.webhooks.options;
  }

  /** Page-level install without a token (as if the relay had already called subscribed_apps). */
  subscribePage(pageId: string, fields: string[] = DEFAULT_APP_FIELDS) {
    this.state.requirePage(pageId).subscribedFields = [...fields];
    return { success: true };
  }

  /** Facebook disables webhooks for the page ("failing for 1 hour" rule): the app is unsubscribed. */
  unsubscribePage(pageId: string) {
    this.state.requirePage(pageId).subscribedFields = null;
    return { success: true };
  }

  deliveries(filter: { status?: string; pageId?: string; sinceId?: number; limit?: number } = {}): DeliveryRecord[] {
    let list = this.webhooks.deliveries.filter(
      (d) => (!filter.status || d.status === filter.status) && (!filter.pageId || d.pageIds.includes(filter.pageId)) && (!filter.sinceId || d.id > filter.sinceId),
    );
    if (filter.limit) list = list.slice(-filter.limit);
    return list;
  }

  skippedEvents() {
    return this.webhooks.skipped;
  }

  clearDeliveries() {
    this.webhooks.clearLog();
    return { success: true };
  }

  /** Resolves when no webhook is queued, in flight or waiting for a retry. */
  waitForWebhooks(timeoutMs = 10000): Promise<boolean> {
    return this.webhooks.idle(timeoutMs);
  }

  // ---------- error injection ----------

  injectError(input: InjectionInput): InjectionRule {
    const rule: InjectionRule = { ...input, id: ++this.ruleSeq, remaining: input.forever ? Infinity : input.times ?? 1, hits: 0 };
    this.rules.push(rule);
    return rule;
  }

  /** Shortcut: the next N calls answer slowly. */
  injectDelay(delayMs: number, opts: Omit<InjectionInput, 'kind' | 'delayMs'> = {}): InjectionRule {
    return this.injectError({ ...opts, kind: 'delay', delayMs });
  }

  listInjections(): InjectionRule[] {
    return this.rules;
  }

  clearInjections() {
    this.rules = [];
    this.down = false;
    return { success: true };
  }

  /** Graph answers 503 to everything (true) or works again (false). */
  setDown(down: boolean) {
    this.down = down;
    return { down };
  }

  /** Used by the server for each Graph call. */
  takeInjection(method: string, path: string, pageId: string | undefined): InjectionOutcome | undefined {
    const idx = this.rules.findIndex(
      (r) =>
        r.remaining > 0 &&
        (!r.method || r.method.toUpperCase() === method) &&
        (!r.path || path.includes(r.path)) &&
        (!r.pathRegex || new RegExp(r.pathRegex).test(path)) &&
        (!r.pageId || r.pageId === pageId),
    );
    if (idx === -1) return undefined;
    const rule = this.rules[idx];
    rule.remaining--;
    rule.hits++;
    if (rule.remaining <= 0) this.rules.splice(idx, 1);
    if (rule.kind === 'delay') return { rule, delayMs: rule.delayMs ?? 1000 };
    if (rule.kind === 'lost_answer') return { rule, delayMs: rule.delayMs ?? 0, loseAnswer: true };
    if (rule.kind === 'down') return { rule, delayMs: rule.delayMs ?? 0, down: true, refuse: rule.refuse };
    return { rule, delayMs: rule.delayMs ?? 0, error: injectableError(rule.kind, { ...rule, pageId: pageId ?? rule.pageId }) };
  }

  // ---------- call log ----------

  calls(filter: CallFilter = {}): CallRecord[] {
    let list = this.state.calls.filter(
      (c) =>
        (!filter.method || c.method === filter.method.toUpperCase()) &&
        (!filter.path || c.path.includes(filter.path)) &&
        (!filter.kind || c.kind === filter.kind) &&
        (filter.status === undefined || c.status === filter.status) &&
        (!filter.sinceId || c.id > filter.sinceId),
    );
    if (filter.limit) list = list.slice(-filter.limit);
    return list;
  }

  clearCalls() {
    this.state.calls = [];
    return { success: true };
  }

  // ---------- messages & media ----------

  /** Thread messages: what customers sent and what the page sent (Send API, Page Inbox). */
  messages(filter: { pageId?: string; psid?: string; direction?: 'inbound' | 'outbound'; origin?: string } = {}): ThreadMessage[] {
    return this.state.messages.filter(
      (m) => (!filter.pageId || m.pageId === filter.pageId) && (!filter.psid || m.psid === filter.psid) && (!filter.direction || m.direction === filter.direction) && (!filter.origin || m.origin === filter.origin),
    );
  }

  /** Messages the relay sent through the Send API. */
  sentMessages(filter: { pageId?: string; psid?: string } = {}): ThreadMessage[] {
    return this.messages({ ...filter, direction: 'outbound', origin: 'app' });
  }

  media(mediaId: string) {
    return this.cdn.get(mediaId);
  }

  /** A fresh CDN URL for stored media (optionally with its own TTL). */
  mediaUrl(mediaId: string, ttlMs?: number): string {
    return this.cdn.url(mediaId, ttlMs);
  }

  setCdnTtl(ms: number) {
    this.cdn.ttlMs = ms;
    return { cdnTtlMs: ms };
  }

  // ---------- clock ----------

  advanceClock(ms: number) {
    this.state.clock.advance(ms);
    return { now: new Date(this.state.clock.now()).toISOString(), offsetMs: this.state.clock.offsetMs };
  }

  now(): number {
    return this.state.clock.now();
  }

  // ---------- reset ----------

  /** Forget everything (calls, deliveries, injections, world) and re-seed if asked. Webhook app config is kept. */
  reset(input: { seed?: boolean } = {}) {
    const s = this.state;
    s.users.clear();
    s.pages.clear();
    s.customers.clear();
    s.posts.clear();
    s.comments.clear();
    s.tokens.clear();
    s.codes.clear();
    s.messages = [];
    s.messagesByMid.clear();
    s.reusableAttachments.clear();
    s.calls = [];
    s.seedInfo = undefined;
    s.clock.offsetMs = 0;
    this.rules = [];
    this.down = false;
    this.webhooks.clearLog();
    this.webhooks.failures.clear();
    if (input.seed ?? this.options.seed) s.seed();
    return this.info();
  }
}
