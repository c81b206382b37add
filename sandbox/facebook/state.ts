/** In-memory world of the sandbox: users, pages, roles, customers, posts, tokens, sent messages, calls. */
import { IdGenerator, SandboxClock, randomToken } from './util';
import { Errors, GraphError } from './errors';
import { ALL_TASKS } from './types';

export type PermissionStatus = 'granted' | 'declined';

export interface SandboxUser {
  id: string;
  name: string;
  firstName: string;
  lastName: string;
  email: string;
  /** Permissions this user gave (or declined) to the app. */
  permissions: Map<string, PermissionStatus>;
  /** false after "remove app" in the user's settings. */
  appAuthorized: boolean;
}

export interface SandboxPage {
  id: string;
  name: string;
  category: string;
  categoryId: string;
  /** userId -> tasks */
  roles: Map<string, string[]>;
  /** Fields this app is subscribed to on the page; null = app not installed. */
  subscribedFields: string[] | null;
  /** Other apps shown by GET subscribed_apps. */
  nextPostLocal: number;
}

export interface SandboxCustomer {
  psid: string;
  pageId: string;
  firstName: string;
  lastName: string;
  /** false → profile API answers 100/2018218 */
  hasProfile: boolean;
  /** ms; null = never wrote in Messenger (commenter only). */
  lastMessageAt: number | null;
  /** Blocked the page / deactivated: sends fail with 551/1545041. */
  unavailable: boolean;
  locale: string;
}

export interface SandboxPost {
  id: string; // {page}_{local}
  pageId: string;
  localId: string;
  fromId: string;
  fromName: string;
  message?: string;
  item: 'status' | 'post' | 'photo';
  photoMediaId?: string;
  createdAt: number; // ms
  isHidden: boolean;
  removed: boolean;
  privateReplied: boolean;
}

export interface SandboxComment {
  id: string; // {postLocal}_{commentLocal}
  postId: string;
  parentId: string; // post id or comment id
  fromId: string;
  fromName: string;
  message?: string;
  photoMediaId?: string;
  createdAt: number; // ms
  isHidden: boolean;
  removed: boolean;
  privateReplied: boolean;
  byPage: boolean;
}

export type TokenType = 'USER' | 'PAGE' | 'APP';

export interface SandboxToken {
  token: string;
  type: TokenType;
  appId: string;
  userId?: string;
  pageId?: string;
  longLived: boolean;
  issuedAt: number; // ms
  /** ms; 0 = never */
  expiresAt: number;
  revoked: boolean;
  /** forced expiry by the control API */
  forcedExpiredAt?: number;
}

export interface AuthCode {
  code: string;
  clientId: string;
  redirectUri: string;
  userId: string;
  createdAt: number;
  used: boolean;
}

export interface SentAttachment {
  type: string;
  source: 'url' | 'upload' | 'attachment_id' | 'template';
  url?: string;
  contentType?: string;
  filename?: string;
  size?: number;
  mediaId?: string;
  payload?: unknown;
}

/** A message in a Messenger thread (customer→page or page→customer). */
export interface ThreadMessage {
  mid: string;
  pageId: string;
  psid: string;
  direction: 'inbound' | 'outbound';
  /** 'customer', 'app' (Send API), 'page_inbox' or another app id */
  origin: string;
  appId?: string;
  timestamp: number;
  text?: string;
  attachments?: SentAttachment[];
  metadata?: string;
  messagingType?: string;
  tag?: string;
  recipient?: Record<string, unknown>;
  raw?: unknown;
}

export interface CallRecord {
  id: number;
  at: string;
  kind: 'graph' | 'dialog' | 'cdn';
  method: string;
  path: string;
  query: Record<string, string>;
  body?: unknown;
  status: number;
  durationMs: number;
  errorCode?: number;
  errorSubcode?: number;
  injected?: boolean;
  tokenType?: TokenType;
  pageId?: string;
}

export interface SeedInfo {
  users: { ana: string; bruno: string };
  pages: { store: string; bakery: string; limited: string; brunoPage: string };
  customers: Record<string, string>;
  posts: Record<string, string>;
}

const SHORT_LIVED_MS = 2 * 3600_000;
const LONG_LIVED_MS = 60 * 24 * 3600_000;

export class SandboxState {
  readonly ids = new IdGenerator();
  users = new Map<string, SandboxUser>();
  pages = new Map<string, SandboxPage>();
  customers = new Map<string, SandboxCustomer>();
  posts = new Map<string, SandboxPost>();
  comments = new Map<string, SandboxComment>();
  tokens = new Map<string, SandboxToken>();
  codes = new Map<string, AuthCode>();
  messages: ThreadMessage[] = [];
  messagesByMid = new Map<string, ThreadMessage>();
  reusableAttachments = new Map<string, { pageId: string; attachment: SentAttachment; createdAt: number }>();
  calls: CallRecord[] = [];
  private callSeq = 0;
  seedInfo?: SeedInfo;

  constructor(
    readonly clock: SandboxClock,
    readonly appId: string,
    readonly appSecret: string,
  ) {}

  // ---- users & pages ----

  addUser(input: { name: string; email?: string; id?: string; permissions?: string[] }): SandboxUser {
    const [firstName, ...rest] = input.name.split(' ');
    const user: SandboxUser = {
      id: input.id ?? this.ids.next('user'),
      name: input.name,
      firstName,
      lastName: rest.join(' '),
      email: input.email ?? `${input.name.toLowerCase().replace(/[^a-z]+/g, '.')}@example.test`,
      permissions: new Map(),
      appAuthorized: true,
    };
    for (const p of input.permissions ?? []) user.permissions.set(p, 'granted');
    this.users.set(user.id, user);
    return user;
  }

  addPage(input: { name: string; category?: string; id?: string }): SandboxPage {
    const page: SandboxPage = {
      id: input.id ?? this.ids.next('page'),
      name: input.name,
      category: input.category ?? 'Shopping & Retail',
      categoryId: '200600219953504',
      roles: new Map(),
      subscribedFields: null,
      nextPostLocal: 0,
    };
    this.pages.set(page.id, page);
    return page;
  }

  setRole(pageId: string, userId: string, tasks: string[] = ALL_TASKS): void {
    this.requirePage(pageId).roles.set(userId, [...tasks]);
    this.requireUser(userId);
  }

  removeRole(pageId: string, userId: string): void {
    this.requirePage(pageId).roles.delete(userId);
  }

  addCustomer(input: {
    pageId: string;
    firstName?: string;
    lastName?: string;
    psid?: string;
    hasProfile?: boolean;
    lastMessageAt?: number | null;
    locale?: string;
  }): SandboxCustomer {
    this.requirePage(input.pageId);
    const customer: SandboxCustomer = {
      psid: input.psid ?? this.ids.next('psid'),
      pageId: input.pageId,
      firstName: input.firstName ?? 'Test',
      lastName: input.lastName ?? `Customer ${this.customers.size + 1}`,
      hasProfile: input.hasProfile ?? true,
      lastMessageAt: input.lastMessageAt ?? null,
      unavailable: false,
      locale: input.locale ?? 'en_US',
    };
    this.customers.set(customer.psid, customer);
    return customer;
  }

  addPost(input: { pageId: string; message?: string; fromId?: string; fromName?: string; item?: SandboxPost['item']; createdAt?: number; photoMediaId?: string }): SandboxPost {
    const page = this.requirePage(input.pageId);
    const localId = this.ids.next('post');
    const post: SandboxPost = {
      id: `${page.id}_${localId}`,
      pageId: page.id,
      localId,
      fromId: input.fromId ?? page.id,
      fromName: input.fromName ?? page.name,
      message: input.message,
      item: input.item ?? 'status',
      photoMediaId: input.photoMediaId,
      createdAt: input.createdAt ?? this.clock.now(),
      isHidden: false,
      removed: false,
      privateReplied: false,
    };
    this.posts.set(post.id, post);
    return post;
  }

  addComment(input: { parentId: string; fromId: string; fromName: string; message?: string; photoMediaId?: string; byPage: boolean; createdAt?: number }): SandboxComment {
    let postId: string;
    if (this.posts.has(input.parentId)) postId = input.parentId;
    else if (this.comments.has(input.parentId)) postId = this.comments.get(input.parentId)!.postId;
    else throw new Error(`unknown post or comment ${input.parentId}`);
    const post = this.posts.get(postId)!;
    const comment: SandboxComment = {
      id: `${post.localId}_${this.ids.next('comment')}`,
      postId,
      parentId: input.parentId,
      fromId: input.fromId,
      fromName: input.fromName,
      message: input.message,
      photoMediaId: input.photoMediaId,
      createdAt: input.createdAt ?? this.clock.now(),
      isHidden: false,
      removed: false,
      privateReplied: false,
      byPage: input.byPage,
    };
    this.comments.set(comment.id, comment);
    return comment;
  }

  requireUser(id: string): SandboxUser {
    const u = this.users.get(id);
    if (!u) throw new Error(`unknown user ${id}`);
    return u;
  }
  requirePage(id: string): SandboxPage {
    const p = this.pages.get(id);
    if (!p) throw new Error(`unknown page ${id}`);
    return p;
  }
  requireCustomer(psid: string): SandboxCustomer {
    const c = this.customers.get(psid);
    if (!c) throw new Error(`unknown customer ${psid}`);
    return c;
  }

  customerName(c: SandboxCustomer): string {
    return `${c.firstName} ${c.lastName}`.trim();
  }

  grantedPermissions(user: SandboxUser): string[] {
    return [...user.permissions].filter(([, s]) => s === 'granted').map(([p]) => p);
  }

  // ---- tokens ----

  issueUserToken(userId: string, longLived: boolean): SandboxToken {
    this.requireUser(userId);
    const now = this.clock.now();
    const t: SandboxToken = {
      token: randomToken(longLived ? 'EAAL' : 'EAAS', 180),
      type: 'USER',
      appId: this.appId,
      userId,
      longLived,
      issuedAt: now,
      expiresAt: now + (longLived ? LONG_LIVED_MS : SHORT_LIVED_MS),
      revoked: false,
    };
    this.tokens.set(t.token, t);
    return t;
  }

  /** Page token for (user, page): non-expiring if derived from a long-lived user token. Reused while valid. */
  pageTokenFor(userToken: SandboxToken, pageId: string): SandboxToken {
    for (const t of this.tokens.values()) {
      if (t.type === 'PAGE' && t.userId === userToken.userId && t.pageId === pageId && t.longLived === userToken.longLived && !t.revoked && !t.forcedExpiredAt && (t.expiresAt === 0 || t.expiresAt > this.clock.now())) {
        return t;
      }
    }
    const now = this.clock.now();
    const t: SandboxToken = {
      token: randomToken('EAAP', 200),
      type: 'PAGE',
      appId: this.appId,
      userId: userToken.userId,
      pageId,
      longLived: userToken.longLived,
      issuedAt: now,
      expiresAt: userToken.longLived ? 0 : now + 3600_000,
      revoked: false,
    };
    this.tokens.set(t.token, t);
    return t;
  }

  issueAppToken(): SandboxToken {
    const t: SandboxToken = { token: `${this.appId}|${randomToken('', 27)}`, type: 'APP', appId: this.appId, longLived: true, issuedAt: this.clock.now(), expiresAt: 0, revoked: false };
    this.tokens.set(t.token, t);
    return t;
  }

  lookupToken(token: string): SandboxToken | undefined {
    const known = this.tokens.get(token);
    if (known) return known;
    if (token === `${this.appId}|${this.appSecret}`) {
      return { token, type: 'APP', appId: this.appId, longLived: true, issuedAt: 0, expiresAt: 0, revoked: false };
    }
    return undefined;
  }

  /** Why a token can't be used right now, or undefined if it is fine. */
  tokenProblem(t: SandboxToken): GraphError | undefined {
    const now = this.clock.now();
    if (t.revoked) return Errors.tokenRevoked();
    if (t.forcedExpiredAt !== undefined) return Errors.tokenExpired(t.forcedExpiredAt, now);
    if (t.expiresAt !== 0 && t.expiresAt <= now) return Errors.tokenExpired(t.expiresAt, now);
    if (t.userId) {
      const user = this.users.get(t.userId);
      if (!user || !user.appAuthorized) return Errors.appNotAuthorized(t.userId, this.appId);
    }
    if (t.type === 'PAGE' && t.pageId && t.userId) {
      const page = this.pages.get(t.pageId);
      if (!page || !page.roles.has(t.userId)) return Errors.noPageRole();
    }
    return undefined;
  }

  /** Scopes a token carries now (user's current grants; permission removal applies to existing tokens). */
  tokenScopes(t: SandboxToken): string[] {
    if (!t.userId) return [];
    const user = this.users.get(t.userId);
    return user ? this.grantedPermissions(user) : [];
  }

  revokeToken(token: string): boolean {
    const t = this.tokens.get(token);
    if (!t) return false;
    t.revoked = true;
    return true;
  }

  revokeUserTokens(userId: string): number {
    let n = 0;
    for (const t of this.tokens.values()) if (t.userId === userId && !t.revoked) {
      t.revoked = true;
      n++;
    }
    return n;
  }

  expireToken(token: string): boolean {
    const t = this.tokens.get(token);
    if (!t) return false;
    t.forcedExpiredAt = this.clock.now() - 1000;
    return true;
  }

  // ---- messages ----

  recordMessage(m: ThreadMessage): ThreadMessage {
    this.messages.push(m);
    this.messagesByMid.set(m.mid, m);
    return m;
  }

  // ---- calls ----

  recordCall(c: Omit<CallRecord, 'id'>): CallRecord {
    const rec = { id: ++this.callSeq, ...c };
    this.calls.push(rec);
    if (this.calls.length > 20000) this.calls.splice(0, this.calls.length - 20000);
    return rec;
  }

  // ---- seed ----

  seed(): SeedInfo {
    const now = this.clock.now();
    const ana = this.addUser({ name: 'Ana Silva', email: 'ana.silva@example.test' });
    const bruno = this.addUser({ name: 'Bruno Costa', email: 'bruno.costa@example.test' });
    const store = this.addPage({ name: 'Ana’s Bike Store', category: 'Bicycle Shop' });
    const bakery = this.addPage({ name: 'Padaria Silva', category: 'Bakery' });
    const limited = this.addPage({ name: 'Silva Family Blog', category: 'Personal Blog' });
    const brunoPage = this.addPage({ name: 'Costa Surf School', category: 'Sports & Recreation' });
    this.setRole(store.id, ana.id, ['ADVERTISE', 'ANALYZE', 'CREATE_CONTENT', 'MESSAGING', 'MODERATE', 'MANAGE']);
    this.setRole(bakery.id, ana.id, ['ANALYZE', 'CREATE_CONTENT', 'MESSAGING', 'MODERATE']);
    this.setRole(limited.id, ana.id, ['ANALYZE', 'ADVERTISE']);
    this.setRole(brunoPage.id, bruno.id, ALL_TASKS);
    this.setRole(store.id, bruno.id, ['ANALYZE', 'MESSAGING']);

    const customers: Record<string, string> = {};
    customers.maria = this.addCustomer({ pageId: store.id, firstName: 'María', lastName: 'Müller', lastMessageAt: now - 3600_000, locale: 'de_DE' }).psid;
    customers.joao = this.addCustomer({ pageId: store.id, firstName: 'João', lastName: 'Pereira', lastMessageAt: now - 3 * 24 * 3600_000, locale: 'pt_BR' }).psid;
    customers.noProfile = this.addCustomer({ pageId: store.id, firstName: '', lastName: '', hasProfile: false, lastMessageAt: now - 600_000 }).psid;
    customers.commenter = this.addCustomer({ pageId: store.id, firstName: 'Chen', lastName: 'Wei', lastMessageAt: null, locale: 'zh_CN' }).psid;
    customers.bakeryMaria = this.addCustomer({ pageId: bakery.id, firstName: 'María', lastName: 'Müller', lastMessageAt: now - 2 * 3600_000 }).psid;
    customers.surfer = this.addCustomer({ pageId: brunoPage.id, firstName: 'Kai', lastName: 'Nakamura', lastMessageAt: now - 60_000 }).psid;

    const posts: Record<string, string> = {};
    posts.storeWelcome = this.addPost({ pageId: store.id, message: 'Spring sale: 20% off all city bikes this week! 🚲', createdAt: now - 2 * 24 * 3600_000 }).id;
    posts.storeNews = this.addPost({ pageId: store.id, message: 'New helmets in stock.', createdAt: now - 5 * 3600_000 }).id;
    posts.bakeryMenu = this.addPost({ pageId: bakery.id, message: 'Pão de queijo fresquinho todas as manhãs.', createdAt: now - 24 * 3600_000 }).id;
    const chen = this.customers.get(customers.commenter)!;
    this.addComment({ parentId: posts.storeWelcome, fromId: chen.psid, fromName: this.customerName(chen), message: 'Do you have kids bikes too?', byPage: false, createdAt: now - 24 * 3600_000 });

    this.seedInfo = {
      users: { ana: ana.id, bruno: bruno.id },
      pages: { store: store.id, bakery: bakery.id, limited: limited.id, brunoPage: brunoPage.id },
      customers,
      posts,
    };
    return this.seedInfo;
  }
}
