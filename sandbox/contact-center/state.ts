import { EventEmitter } from 'node:events';
import { redactUrl } from './http-util';

/** In-memory state of the contact-center sandbox. Everything is plain data; no I/O here. */

export interface Account {
  id: number;
  name: string;
  /** When set, every call to this account's endpoints must carry `?apikey=<apiKey>`. */
  apiKey: string | null;
  /** Where agent replies go (the relay's Reply URL, pasted by the tenant). */
  replyUrl: string | null;
  /** The contact field `from` is matched against; Motion's Facebook channel uses `facebook`. */
  mapKey: string;
  /** Standard Webhooks secret (`whsec_...` or raw); when set, signatures are checked and recorded. */
  signingSecret: string | null;
  /** With a signing secret: reject notifies whose signature is missing or wrong (401). */
  requireSignature: boolean;
  /** The contact list the account is bound to was deleted: the account answers 404. */
  listDeleted: boolean;
  listId: number;
  createdAt: string;
}

export interface AccountInput {
  id?: number;
  name?: string;
  apiKey?: string | null;
  replyUrl?: string | null;
  mapKey?: string;
  signingSecret?: string | null;
  requireSignature?: boolean;
}

export interface Contact {
  id: number;
  accountId: number;
  mapKey: string;
  /** The value of the mapKey field (the Facebook PSID / author id). */
  from: string;
  firstName: string | null;
  lastName: string | null;
  name: string | null;
  phone: string | null;
  description: string | null;
  createdAt: string;
}

export interface ReplyOutcome {
  url: string;
  status: number;
  ok: boolean;
  answer: unknown;
  error?: string;
  durationMs: number;
}

export interface Message {
  id: number;
  interactionId: number;
  direction: 'in' | 'out';
  body: string;
  attachmentId: number | string | null;
  at: string;
  /** inbound: the relay's delivery id and event headers */
  deliveryId?: string | null;
  event?: string | null;
  externalUrl?: string | null;
  /** outbound: what the relay answered */
  reply?: ReplyOutcome;
  /** outbound: the exact JSON body posted to the Reply URL */
  sentBody?: Record<string, unknown>;
}

export interface Interaction {
  id: number;
  accountId: number;
  contactId: number;
  threadId: string | null;
  externalUrl: string | null;
  closed: boolean;
  createdAt: string;
  messages: Message[];
}

export interface NotificationRecord {
  seq: number;
  accountId: number;
  endpoint: 'notify' | 'receive';
  /** epoch ms */
  receivedAt: number;
  /** the status the sandbox answered */
  status: number;
  /** the full query string as received, with `apikey` redacted to `***` */
  query: Record<string, string>;
  deliveryId: string | null;
  event: string | null;
  webhookId: string | null;
  webhookTimestamp: string | null;
  webhookSignature: string | null;
  /** null when the account has no signing secret */
  signatureValid: boolean | null;
  contentType: string | null;
  body: unknown;
  messageId: number | null;
  interactionId: number | null;
  contactId: number | null;
  /** an earlier accepted (2xx) notification had the same delivery id */
  duplicate: boolean;
  error: string | null;
}

export interface Attachment {
  id: number;
  name: string;
  type: string;
  size: number;
  data: Buffer;
  origin: 'upload' | 'agent';
  accountId: number | null;
  createdAt: string;
}

export type AttachmentMeta = Pick<Attachment, 'id' | 'name' | 'type' | 'size'>;

export interface NotifyFields {
  from: string;
  body: string;
  mapKey: string;
  firstName: string | null;
  lastName: string | null;
  name: string | null;
  phone: string | null;
  AttachmentId: number | string | null;
  threadId: string | null;
  externalUrl: string | null;
  description: string | null;
}

export interface StateEvents {
  notification: [NotificationRecord];
  reply: [Message];
}

export const SEED_ACCOUNT: Required<Pick<AccountInput, 'id' | 'name' | 'apiKey'>> = {
  id: 1,
  name: 'Demo Open Channel',
  apiKey: 'demo-key',
};

export class SandboxState {
  readonly accounts = new Map<number, Account>();
  readonly contacts = new Map<number, Contact>();
  /** accountId -> mapKey + '\u0000' + from -> contact */
  private readonly contactIndex = new Map<number, Map<string, Contact>>();
  readonly interactions = new Map<number, Interaction>();
  /** contactId + '\u0000' + threadId -> open interaction */
  private readonly openInteractions = new Map<string, Interaction>();
  readonly attachments = new Map<number, Attachment>();
  notifications: NotificationRecord[] = [];
  /** accountId -> deliveryId -> number of accepted (2xx) notifications */
  private readonly acceptedByDelivery = new Map<number, Map<string, number>>();
  readonly events = new EventEmitter();

  private nextAccountId = 1;
  private nextContactId = 800;
  private nextInteractionId = 5500;
  private nextMessageId = 90000;
  private nextAttachmentId = 1;
  private nextSeq = 1;
  private nextListId = 1;

  constructor(readonly maxStoredNotifications = 200_000) {
    this.events.setMaxListeners(100);
  }

  now(): string {
    return new Date().toISOString();
  }

  // ---- accounts -------------------------------------------------------------------------

  createAccount(input: AccountInput = {}): Account {
    const id = input.id ?? this.nextAccountId;
    if (!Number.isInteger(id) || id <= 0) throw new Error('Account id must be a positive integer');
    if (this.accounts.has(id)) throw new Error(`Account ${id} already exists`);
    this.nextAccountId = Math.max(this.nextAccountId, id + 1);
    const account: Account = {
      id,
      name: input.name ?? `Open Channel ${id}`,
      apiKey: input.apiKey || null,
      replyUrl: input.replyUrl || null,
      mapKey: input.mapKey || 'facebook',
      signingSecret: input.signingSecret || null,
      requireSignature: input.requireSignature ?? false,
      listDeleted: false,
      listId: this.nextListId++,
      createdAt: this.now(),
    };
    this.accounts.set(id, account);
    return account;
  }

  updateAccount(id: number, patch: Omit<AccountInput, 'id'>): Account {
    const account = this.requireAccount(id);
    if (patch.name !== undefined) account.name = patch.name;
    if (patch.apiKey !== undefined) account.apiKey = patch.apiKey || null;
    if (patch.replyUrl !== undefined) account.replyUrl = patch.replyUrl || null;
    if (patch.mapKey !== undefined) account.mapKey = patch.mapKey || 'facebook';
    if (patch.signingSecret !== undefined) account.signingSecret = patch.signingSecret || null;
    if (patch.requireSignature !== undefined) account.requireSignature = patch.requireSignature;
    return account;
  }

  deleteAccount(id: number): boolean {
    return this.accounts.delete(id);
  }

  requireAccount(id: number): Account {
    const account = this.accounts.get(id);
    if (!account) throw new Error(`Account ${id} not found`);
    return account;
  }

  /** Any account's API key opens the attachment endpoints (Motion's keys are per user). */
  isKnownApiKey(key: string | null): boolean {
    if (!key) return false;
    for (const account of this.accounts.values()) if (account.apiKey === key) return true;
    return false;
  }

  anyApiKeyConfigured(): boolean {
    for (const account of this.accounts.values()) if (account.apiKey) return true;
    return false;
  }

  accountForKey(key: string | null): Account | null {
    if (!key) return null;
    for (const account of this.accounts.values()) if (account.apiKey === key) return account;
    return null;
  }

  // ---- contacts and interactions -------------------------------------------------------------

  findContact(accountId: number, mapKey: string, from: string): Contact | undefined {
    return this.contactIndex.get(accountId)?.get(mapKey + '\u0000' + from);
  }

  findOrCreateContact(account: Account, fields: Pick<NotifyFields, 'from' | 'mapKey'> & Partial<NotifyFields>): Contact {
    let index = this.contactIndex.get(account.id);
    if (!index) {
      index = new Map();
      this.contactIndex.set(account.id, index);
    }
    const key = fields.mapKey + '\u0000' + fields.from;
    let contact = index.get(key);
    if (!contact) {
      contact = {
        id: this.nextContactId++,
        accountId: account.id,
        mapKey: fields.mapKey,
        from: fields.from,
        firstName: fields.firstName ?? null,
        lastName: fields.lastName ?? null,
        name: fields.name ?? null,
        phone: fields.phone ?? null,
        description: fields.description ?? null,
        createdAt: this.now(),
      };
      index.set(key, contact);
      this.contacts.set(contact.id, contact);
    } else {
      // Names learned later (e.g. after a profile lookup) fill in blanks.
      if (!contact.firstName && fields.firstName) contact.firstName = fields.firstName;
      if (!contact.lastName && fields.lastName) contact.lastName = fields.lastName;
      if (!contact.name && fields.name) contact.name = fields.name;
    }
    return contact;
  }

  findOpenInteraction(contactId: number, threadId: string | null): Interaction | undefined {
    return this.openInteractions.get(contactId + '\u0000' + (threadId ?? ''));
  }

  findOrCreateInteraction(account: Account, contact: Contact, threadId: string | null, externalUrl: string | null): Interaction {
    const key = contact.id + '\u0000' + (threadId ?? '');
    let interaction = this.openInteractions.get(key);
    if (!interaction) {
      interaction = {
        id: this.nextInteractionId++,
        accountId: account.id,
        contactId: contact.id,
        threadId,
        externalUrl,
        closed: false,
        createdAt: this.now(),
        messages: [],
      };
      this.openInteractions.set(key, interaction);
      this.interactions.set(interaction.id, interaction);
    } else if (externalUrl && !interaction.externalUrl) {
      interaction.externalUrl = externalUrl;
    }
    return interaction;
  }

  closeInteraction(id: number): Interaction {
    const interaction = this.interactions.get(id);
    if (!interaction) throw new Error(`Interaction ${id} not found`);
    interaction.closed = true;
    const key = interaction.contactId + '\u0000' + (interaction.threadId ?? '');
    if (this.openInteractions.get(key) === interaction) this.openInteractions.delete(key);
    return interaction;
  }

  newMessageId(): number {
    return this.nextMessageId++;
  }

  /** The notify fast path: contact, interaction, message. */
  receive(account: Account, fields: NotifyFields, deliveryId: string | null, event: string | null): { contact: Contact; interaction: Interaction; message: Message } {
    const contact = this.findOrCreateContact(account, fields);
    const interaction = this.findOrCreateInteraction(account, contact, fields.threadId, fields.externalUrl);
    const message: Message = {
      id: this.nextMessageId++,
      interactionId: interaction.id,
      direction: 'in',
      body: fields.body,
      attachmentId: fields.AttachmentId,
      at: this.now(),
      deliveryId,
      event,
      externalUrl: fields.externalUrl,
    };
    interaction.messages.push(message);
    return { contact, interaction, message };
  }

  // ---- notifications --------------------------------------------------------------------------

  recordNotification(record: Omit<NotificationRecord, 'seq' | 'duplicate'>): NotificationRecord {
    let duplicate = false;
    if (record.deliveryId && record.status >= 200 && record.status < 300) {
      let byDelivery = this.acceptedByDelivery.get(record.accountId);
      if (!byDelivery) {
        byDelivery = new Map();
        this.acceptedByDelivery.set(record.accountId, byDelivery);
      }
      const seen = byDelivery.get(record.deliveryId) ?? 0;
      duplicate = seen > 0;
      byDelivery.set(record.deliveryId, seen + 1);
    }
    const full: NotificationRecord = { seq: this.nextSeq++, duplicate, ...record };
    this.notifications.push(full);
    if (this.notifications.length > this.maxStoredNotifications) {
      this.notifications = this.notifications.slice(-Math.floor(this.maxStoredNotifications / 2));
    }
    if (this.events.listenerCount('notification') > 0) this.events.emit('notification', full);
    return full;
  }

  /** Delivery ids accepted more than once: `{ total: extra deliveries, byDeliveryId: {id: times accepted} }`. */
  duplicates(accountId?: number): { total: number; byDeliveryId: Record<string, number> } {
    const byDeliveryId: Record<string, number> = {};
    let total = 0;
    for (const [id, map] of this.acceptedByDelivery) {
      if (accountId !== undefined && id !== accountId) continue;
      for (const [deliveryId, count] of map) {
        if (count > 1) {
          byDeliveryId[deliveryId] = (byDeliveryId[deliveryId] ?? 0) + count;
          total += count - 1;
        }
      }
    }
    return { total, byDeliveryId };
  }

  // ---- attachments ------------------------------------------------------------------------------

  addAttachment(input: { name: string; type?: string; data: Buffer; origin: Attachment['origin']; accountId?: number | null }): Attachment {
    const attachment: Attachment = {
      id: this.nextAttachmentId++,
      name: input.name,
      type: input.type || 'application/octet-stream',
      size: input.data.length,
      data: input.data,
      origin: input.origin,
      accountId: input.accountId ?? null,
      createdAt: this.now(),
    };
    this.attachments.set(attachment.id, attachment);
    return attachment;
  }

  getAttachment(id: number | string | null | undefined): Attachment | undefined {
    if (id === null || id === undefined || id === '') return undefined;
    const n = typeof id === 'number' ? id : Number(id);
    return Number.isInteger(n) ? this.attachments.get(n) : undefined;
  }

  // ---- reset ---------------------------------------------------------------------------------

  clear(keepAccounts = false): void {
    if (!keepAccounts) {
      this.accounts.clear();
      this.nextAccountId = 1;
    }
    this.contacts.clear();
    this.contactIndex.clear();
    this.interactions.clear();
    this.openInteractions.clear();
    this.attachments.clear();
    this.notifications = [];
    this.acceptedByDelivery.clear();
  }
}

export function attachmentMeta(a: Attachment): AttachmentMeta {
  return { id: a.id, name: a.name, type: a.type, size: a.size };
}

/** Account as the public API shows it: no API key, no signing secret, reply token redacted. */
export function publicAccount(a: Account): Record<string, unknown> {
  return {
    id: a.id,
    name: a.name,
    description: null,
    ListId: a.listId,
    mapKey: a.mapKey,
    replyUrl: a.replyUrl ? redactUrl(a.replyUrl) : null,
    createdAt: a.createdAt,
  };
}
