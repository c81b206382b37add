import { postReply, type ReplyOptions, type ReplyResult } from './agent';
import type { SandboxContext } from './context';
import type { FailuresInput, FailuresSnapshot } from './failures';
import {
  attachmentMeta,
  SEED_ACCOUNT,
  type Account,
  type AccountInput,
  type Attachment,
  type AttachmentMeta,
  type Contact,
  type Interaction,
  type Message,
  type NotificationRecord,
} from './state';

export type DownMode = 'refuse' | 'reset';

export interface DownOptions {
  /**
   * `refuse` (default): close the listening socket (connections refused) and drop open connections;
   * `reset`: keep listening but destroy every request's connection except `/_control/...`.
   */
  mode?: DownMode;
  /** Come back up by itself after this many ms. */
  forMs?: number;
}

export interface DownState {
  mode: DownMode;
  since: string;
  until: string | null;
}

/** Hooks into the HTTP server the control object needs (down/up). */
export interface Lifecycle {
  down(options: DownOptions): Promise<void>;
  up(): Promise<void>;
  downState(): DownState | null;
}

export interface NotificationFilter {
  accountId?: number;
  /** only notifications answered 2xx */
  acceptedOnly?: boolean;
  deliveryId?: string;
  /** only records with seq greater than this */
  sinceSeq?: number;
}

export interface InteractionFilter {
  accountId?: number;
  contactFrom?: string;
  threadId?: string | null;
}

export interface InteractionView {
  id: number;
  accountId: number;
  threadId: string | null;
  externalUrl: string | null;
  closed: boolean;
  createdAt: string;
  contact: Contact;
  messages: Message[];
}

export interface ResetOptions {
  /** Keep the accounts (and their settings); drop contacts, interactions, notifications, attachments. */
  keepAccounts?: boolean;
}

/** The in-process control surface; `/_control/...` exposes the same operations over HTTP. */
export class SandboxControl {
  constructor(
    private readonly ctx: SandboxContext,
    private readonly lifecycle: Lifecycle,
    private readonly seed: boolean,
  ) {}

  get events() {
    return this.ctx.state.events;
  }

  // ---- accounts ----
  accounts(): Account[] {
    return [...this.ctx.state.accounts.values()].map((a) => ({ ...a }));
  }

  account(id: number): Account | undefined {
    const a = this.ctx.state.accounts.get(id);
    return a ? { ...a } : undefined;
  }

  createAccount(input: AccountInput = {}): Account {
    return { ...this.ctx.state.createAccount(input) };
  }

  updateAccount(id: number, patch: Omit<AccountInput, 'id'>): Account {
    return { ...this.ctx.state.updateAccount(id, patch) };
  }

  deleteAccount(id: number): boolean {
    return this.ctx.state.deleteAccount(id);
  }

  setReplyUrl(id: number, replyUrl: string | null): Account {
    return this.updateAccount(id, { replyUrl });
  }

  /** Delete the contact list the account is bound to: the account then answers 404. */
  deleteList(id: number): Account {
    const account = this.ctx.state.requireAccount(id);
    account.listDeleted = true;
    return { ...account };
  }

  /** Bring the list back (same contacts and interactions). */
  restoreList(id: number): Account {
    const account = this.ctx.state.requireAccount(id);
    account.listDeleted = false;
    return { ...account };
  }

  /** The Receive URL to paste into the relay, with `?apikey=` when the account has a key. */
  receiveUrl(id: number, endpoint: 'notify' | 'receive' = 'notify'): string {
    const account = this.ctx.state.requireAccount(id);
    const base = `${this.ctx.publicUrl()}/api/openchannel/accounts/${account.id}/${endpoint}`;
    return account.apiKey ? `${base}?apikey=${encodeURIComponent(account.apiKey)}` : base;
  }

  // ---- what arrived ----
  notifications(filter: NotificationFilter = {}): NotificationRecord[] {
    return this.ctx.state.notifications.filter((n) => matches(n, filter));
  }

  /** Delivery ids accepted (2xx) more than once. */
  duplicates(accountId?: number): { total: number; byDeliveryId: Record<string, number> } {
    return this.ctx.state.duplicates(accountId);
  }

  /** Resolves once `count` matching notifications were recorded (accepted ones by default). */
  waitForNotifications(count: number, filter: NotificationFilter & { timeoutMs?: number } = {}): Promise<NotificationRecord[]> {
    const f: NotificationFilter = { acceptedOnly: true, ...filter };
    let seen = this.notifications(f).length;
    if (seen >= count) return Promise.resolve(this.notifications(f));
    return new Promise((resolve, reject) => {
      // Counts incrementally: a benchmark may wait for tens of thousands of notifications.
      const onNotification = (n: NotificationRecord): void => {
        if (!matches(n, f) || ++seen < count) return;
        cleanup();
        resolve(this.notifications(f));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`Timed out waiting for ${count} notifications (got ${this.notifications(f).length})`));
      }, filter.timeoutMs ?? 5000);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.ctx.state.events.off('notification', onNotification);
      };
      this.ctx.state.events.on('notification', onNotification);
    });
  }

  contacts(accountId?: number): Contact[] {
    return [...this.ctx.state.contacts.values()].filter((c) => accountId === undefined || c.accountId === accountId);
  }

  interactions(filter: InteractionFilter = {}): InteractionView[] {
    const out: InteractionView[] = [];
    for (const i of this.ctx.state.interactions.values()) {
      if (filter.accountId !== undefined && i.accountId !== filter.accountId) continue;
      const contact = this.ctx.state.contacts.get(i.contactId)!;
      if (filter.contactFrom !== undefined && contact.from !== String(filter.contactFrom)) continue;
      if (filter.threadId !== undefined && i.threadId !== (filter.threadId ?? null)) continue;
      out.push(view(i, contact));
    }
    return out;
  }

  interaction(id: number): InteractionView | undefined {
    const i = this.ctx.state.interactions.get(id);
    return i ? view(i, this.ctx.state.contacts.get(i.contactId)!) : undefined;
  }

  /** Close an interaction: the next notify for that contact/thread opens a new one. */
  closeInteraction(id: number): InteractionView {
    const i = this.ctx.state.closeInteraction(id);
    return view(i, this.ctx.state.contacts.get(i.contactId)!);
  }

  // ---- agent ----
  /** POST a Motion-shaped agent reply to the account's Reply URL; resolves with the relay's answer. */
  reply(options: ReplyOptions): Promise<ReplyResult> {
    return postReply(this.ctx, options);
  }

  /** Store an agent attachment (as if the agent uploaded it in Motion); use its id in `reply`. */
  addAttachment(input: { data: Buffer | string; name: string; type?: string }): AttachmentMeta {
    const data = typeof input.data === 'string' ? Buffer.from(input.data) : input.data;
    return attachmentMeta(this.ctx.state.addAttachment({ name: input.name, type: input.type, data, origin: 'agent' }));
  }

  attachment(id: number): Attachment | undefined {
    return this.ctx.state.getAttachment(id);
  }

  attachments(): AttachmentMeta[] {
    return [...this.ctx.state.attachments.values()].map(attachmentMeta);
  }

  // ---- failures ----
  setFailures(input: FailuresInput): FailuresSnapshot & { down: DownState | null } {
    this.ctx.failures.set(input);
    return this.failures();
  }

  failures(): FailuresSnapshot & { down: DownState | null } {
    return { ...this.ctx.failures.snapshot(), down: this.lifecycle.downState() };
  }

  /** Clear slow/errors (latency back to its startup value) and come back up if down. */
  async clearFailures(): Promise<void> {
    this.ctx.failures.clear();
    await this.lifecycle.up();
  }

  down(options: DownOptions = {}): Promise<void> {
    return this.lifecycle.down(options);
  }

  up(): Promise<void> {
    return this.lifecycle.up();
  }

  get isDown(): boolean {
    return this.lifecycle.downState() !== null;
  }

  // ---- reset ----
  async reset(options: ResetOptions = {}): Promise<void> {
    this.ctx.state.clear(options.keepAccounts);
    this.ctx.failures.clear();
    await this.lifecycle.up();
    if (this.seed && !options.keepAccounts) this.ctx.state.createAccount({ ...SEED_ACCOUNT });
  }

  stats(): { accounts: number; contacts: number; interactions: number; notifications: number; attachments: number } {
    const s = this.ctx.state;
    return {
      accounts: s.accounts.size,
      contacts: s.contacts.size,
      interactions: s.interactions.size,
      notifications: s.notifications.length,
      attachments: s.attachments.size,
    };
  }
}

function matches(n: NotificationRecord, filter: NotificationFilter): boolean {
  return (
    (filter.accountId === undefined || n.accountId === filter.accountId) &&
    (!filter.acceptedOnly || (n.status >= 200 && n.status < 300)) &&
    (filter.deliveryId === undefined || n.deliveryId === filter.deliveryId) &&
    (filter.sinceSeq === undefined || n.seq > filter.sinceSeq)
  );
}

function view(i: Interaction, contact: Contact): InteractionView {
  return {
    id: i.id,
    accountId: i.accountId,
    threadId: i.threadId,
    externalUrl: i.externalUrl,
    closed: i.closed,
    createdAt: i.createdAt,
    contact,
    messages: i.messages,
  };
}
