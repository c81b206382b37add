import { Injectable, Logger } from '@nestjs/common';
import { In } from 'typeorm';
import { newId } from '../common/ids';
import { enqueueAfterHours } from '../availability/after-hours.job';
import { afterHoursDecision } from '../availability/schedule';
import { BatchedStatements, Database, Statement } from '../database/database';
import { RawRows } from '../database/raw-rows';
import { Integration } from '../integrations/integration.entity';
import { JobQueue } from '../queue/job-queue';
import { InboundEvent, ParsedWebhook, ReceiptEvent } from '../webhooks/inbound-event';
import { deleteInboxRows } from '../webhooks/webhook-inbox';
import { Conversation } from './conversation.entity';
import { Message, MessageStatus } from './message.entity';
import { rowConfirmedByEcho } from './outbound-echo';
import { PageIntegrations } from './page-integrations';
import { RelayMetrics } from './relay-metrics';
import { DeliverConversation, deliveryJobId, FetchMedia } from './relay.jobs';

export interface IngestResult {
  stored: number;
  duplicates: number;
  dropped: number;
  ignored: number;
}

interface Planned {
  event: InboundEvent;
  integration: Integration;
  status: MessageStatus | null;
}

interface PlannedReceipt {
  receipt: ReceiptEvent;
  integration: Integration;
}

interface WantedConversation {
  integration: Integration;
  /** Absent for a receipt's conversation, which is never created. */
  event?: InboundEvent;
  customerId: string;
  threadId: string;
}

interface Committed {
  rows: Message[];
  duplicates: number;
}

/** One POST's events, decided before the transaction: what to store, with which status. */
interface Plan {
  planned: Planned[];
  receipts: PlannedReceipt[];
  afterHoursKeys: Set<string>;
  dropped: number;
  ignored: number;
  inboxId?: string;
}

export interface IngestItem {
  parsed: ParsedWebhook;
  /** The webhook-inbox row this POST was kept in: deleted in the transaction that stores its messages. */
  inboxId?: string;
}

export type IngestOutcome = { ok: true; result: IngestResult } | { ok: false; error: Error };

const CHUNK = 200;
const LAST_EVENT_WRITE_MS = 10_000;

/**
 * The outbound messages a receipt can still move (sent, not read yet): a receipt reads these alone, however long
 * the conversation, through ix_messages_out_unread on SQLite (the partial index has this filter, and SQLite uses it
 * only for a statement that repeats its terms as written) and through the head index, led by direction and status,
 * on MySQL.
 */
export const UNREAD_OUTBOUND = "direction = 'out' AND status IN ('sending', 'sent', 'delivered')";

/**
 * Turns parsed webhook POSTs into messages: one integration lookup for all of them, one transaction
 * (conversations, message rows deduplicated by key, receipts, and the inbox rows they came from),
 * then the delivery jobs in bulk.
 */
@Injectable()
export class IngestService {
  private readonly logger = new Logger('Ingest');
  private readonly lastEventWritten = new Map<string, number>();
  private tables?: { conversations: RawRows<Conversation>; messages: RawRows<Message> };

  constructor(
    private readonly database: Database,
    private readonly pages: PageIntegrations,
    private readonly queue: JobQueue,
    private readonly metrics: RelayMetrics,
  ) {}

  /**
   * Several POSTs in one transaction (the statements become multi-row). If that transaction fails,
   * each POST is stored alone, so one bad POST cannot fail the others; its outcome says why.
   */
  async ingestBatch(items: IngestItem[]): Promise<IngestOutcome[]> {
    const integrations = await this.pages.forPages(unique(items.flatMap((item) => item.parsed.pageIds)));
    const plans = items.map((item) => this.plan(item, integrations));
    const committed = await this.commit(plans);

    const outcomes: IngestOutcome[] = [];
    const rows: Message[] = [];
    const afterHours: Message[] = [];
    for (const [i, plan] of plans.entries()) {
      const result = committed[i];
      if (result instanceof Error) {
        outcomes.push({ ok: false, error: result });
        continue;
      }
      rows.push(...result.rows);
      if (plan.afterHoursKeys.size) afterHours.push(...result.rows.filter((row) => plan.afterHoursKeys.has(row.dedupKey!)));
      this.touchIntegrations(plan.planned.map((p) => p.integration));
      if (plan.ignored) this.metrics.events.inc({ outcome: 'ignored' }, plan.ignored);
      if (result.duplicates) this.metrics.events.inc({ outcome: 'duplicate' }, result.duplicates);
      outcomes.push({ ok: true, result: { stored: result.rows.length, duplicates: result.duplicates, dropped: plan.dropped, ignored: plan.ignored } });
    }
    await this.enqueue(rows);
    if (afterHours.length) {
      await enqueueAfterHours(this.queue, afterHours)
        .catch((error: Error) => this.logger.warn(`Could not enqueue after-hours messages: ${error.message}`));
    }
    if (rows.length) this.metrics.events.inc({ outcome: 'stored' }, rows.length);
    return outcomes;
  }

  /** Built on first use: the entity metadata exists once the data source is initialized. */
  private rawTables(): NonNullable<IngestService['tables']> {
    this.tables ??= { conversations: new RawRows(this.database.dataSource, Conversation), messages: new RawRows(this.database.dataSource, Message) };
    return this.tables;
  }

  private plan(item: IngestItem, integrations: Map<string, Integration>): Plan {
    const plan: Plan = { planned: [], receipts: [], afterHoursKeys: new Set(), dropped: 0, ignored: item.parsed.ignored, inboxId: item.inboxId };
    for (const event of item.parsed.events) {
      const integration = integrations.get(event.pageId);
      if (!integration || integration.status === 'superseded') {
        plan.dropped++;
        this.metrics.dropped.inc({ reason: 'no_integration' });
        continue;
      }
      if (event.type === 'receipt') {
        plan.receipts.push({ receipt: event, integration });
        continue;
      }
      if (event.channel === 'wall' && !integration.wallPosts) {
        plan.dropped++;
        this.metrics.dropped.inc({ reason: 'wall_posts_off' });
        continue;
      }
      // Availability: pure in-memory check of the schedule on the cached integration row.
      const afterHours = afterHoursDecision(integration, event);
      if (afterHours) for (const part of event.parts) plan.afterHoursKeys.add(part.dedupKey);
      plan.planned.push({ event, integration, status: afterHours && !afterHours.forward ? 'skipped' : statusFor(event, integration) });
    }
    return plan;
  }

  private async commit(plans: Plan[]): Promise<Array<Committed | Error>> {
    try {
      return await this.storeAndCheck(plans);
    } catch (error) {
      if (plans.length === 1) return [asError(error)];
      const outcomes: Array<Committed | Error> = [];
      for (const plan of plans) {
        try {
          const [result] = await this.storeAndCheck([plan]);
          outcomes.push(result);
        } catch (single) {
          outcomes.push(asError(single));
        }
      }
      return outcomes;
    }
  }

  /**
   * `store` in one transaction, and then, in the rare case that the database skipped some of the new rows, the rows
   * really stored. Another process can store the same message key between this batch's read of the keys and its
   * INSERT (Facebook sent the event twice, to two processes): the row is skipped as a duplicate, and must not be
   * counted, fetched or answered after hours as if this batch had stored it.
   */
  private async storeAndCheck(plans: Plan[]): Promise<Committed[]> {
    const inserted = { rows: 0 };
    const committed = await this.database.batchedTransaction((statements) => this.store(statements, plans, inserted));
    const rows = committed.flatMap((result) => result.rows);
    if (inserted.rows >= rows.length) return committed;
    const kept = new Set<string>();
    for (const slice of chunks(rows.map((row) => row.id), CHUNK)) {
      for (const row of (await this.database.run(`SELECT id FROM ${this.rawTables().messages.table} WHERE id IN (${marks(slice)})`, slice)).records) kept.add(row.id as string);
    }
    return committed.map((result) => {
      const own = result.rows.filter((row) => kept.has(row.id));
      return { rows: own, duplicates: result.duplicates + result.rows.length - own.length };
    });
  }

  /**
   * One transaction for the POSTs of a batch; the new rows handed back to the POST that brought them, and the
   * number the database inserted added to `inserted` once known (on MySQL, at the commit). On MySQL it takes two
   * round trips (three when it creates conversations): the existing conversations and message keys are read
   * together, and every write goes with the COMMIT.
   */
  private async store(statements: BatchedStatements, plans: Plan[], inserted: { rows: number }): Promise<Committed[]> {
    const planned = plans.flatMap((p) => p.planned);
    const receipts = plans.flatMap((p) => p.receipts);
    const stored = planned.filter((p) => p.status !== null);
    const wanted = this.wantedConversations(stored.filter((p) => p.event.role !== 'page_authored'), receipts);
    const keys = [...uniqueKeys(stored)];
    const lookups = [...this.conversationLookups(wanted, [...wanted.keys()]), ...this.keyLookups(keys)];
    const results = lookups.length ? await statements.reads(lookups) : [];
    const conversations = this.foundConversations(wanted, results.slice(0, results.length - chunkCount(keys)));
    const existing = new Set<string>();
    for (const rows of results.slice(results.length - chunkCount(keys))) for (const row of rows) existing.add(row.dedup_key as string);
    await this.createConversations(statements, wanted, conversations);
    const rows = await this.insertMessages(statements, stored, conversations, existing, inserted);
    await this.updateConversations(statements, rows, stored, conversations);
    await this.applyStatusUpdates(statements, planned, receipts, conversations);
    await deleteInboxRows(statements, plans.flatMap((p) => (p.inboxId ? [p.inboxId] : [])));
    if (plans.length === 1) return [{ rows, duplicates: keys.length - rows.length }];
    const fresh = new Map(rows.map((row) => [row.dedupKey!, row]));
    return plans.map((plan) => {
      const keys = uniqueKeys(plan.planned.filter((p) => p.status !== null));
      const own: Message[] = [];
      for (const key of keys) {
        const row = fresh.get(key);
        if (!row) continue;
        fresh.delete(key); // a key twice in the batch: the first POST stored it, the later one is a duplicate
        own.push(row);
      }
      return { rows: own, duplicates: keys.size - own.length };
    });
  }

  /** Every (integration, customer, thread) of the batch, by conversationKey; receipts never create a conversation. */
  private wantedConversations(planned: Planned[], receipts: PlannedReceipt[]): Map<string, WantedConversation> {
    const wanted = new Map<string, WantedConversation>();
    for (const { event, integration } of planned) {
      wanted.set(conversationKey(integration.id, event.customerId, event.threadId), { integration, event, customerId: event.customerId, threadId: event.threadId });
    }
    for (const { receipt, integration } of receipts) {
      const key = conversationKey(integration.id, receipt.customerId, '');
      if (!wanted.has(key)) wanted.set(key, { integration, customerId: receipt.customerId, threadId: '' });
    }
    return wanted;
  }

  /**
   * SELECTs of the conversations with these keys (and of others of the same integrations and customers), 200 keys each.
   * `latest`: on MySQL a locking read, which sees rows committed after this transaction's first read (a plain read
   * keeps REPEATABLE READ's snapshot, so a conversation another process created meanwhile would stay invisible).
   */
  private conversationLookups(wanted: Map<string, WantedConversation>, keys: string[], latest = false): Statement[] {
    const locking = latest && this.database.isMysql ? ' LOCK IN SHARE MODE' : '';
    const { conversations } = this.rawTables();
    return chunks(keys.map((key) => wanted.get(key)!), CHUNK).map((slice) => {
      const integrationIds = unique(slice.map((w) => w.integration.id));
      const customerIds = unique(slice.map((w) => w.customerId));
      return [
        `SELECT ${conversations.selectList} FROM ${conversations.table} WHERE ${conversations.column('integrationId')} IN (${marks(integrationIds)}) AND ${conversations.column('customerId')} IN (${marks(customerIds)})${locking}`,
        [...integrationIds, ...customerIds],
      ];
    });
  }

  /** SELECTs of the message keys among these that are stored already, 200 each. */
  private keyLookups(keys: string[]): Statement[] {
    return chunks(keys, CHUNK).map((slice) => [`SELECT dedup_key FROM ${this.rawTables().messages.table} WHERE dedup_key IN (${marks(slice)})`, slice]);
  }

  private foundConversations(wanted: Map<string, WantedConversation>, results: Array<Array<Record<string, unknown>>>, into = new Map<string, Conversation>()): Map<string, Conversation> {
    const { conversations } = this.rawTables();
    for (const rows of results) {
      for (const raw of rows) {
        const row = conversations.read(raw);
        const key = conversationKey(row.integrationId, row.customerId, row.threadId);
        if (wanted.has(key)) into.set(key, row);
      }
    }
    return into;
  }

  /** Creates the batch's missing conversations, then reads them back: a concurrent batch (of this or another process) may have created one first. */
  private async createConversations(statements: BatchedStatements, wanted: Map<string, WantedConversation>, found: Map<string, Conversation>): Promise<void> {
    const missing = [...wanted.entries()].filter(([key, w]) => !found.has(key) && w.event); // receipts never create one
    if (!missing.length) return;
    const now = new Date();
    const rows: Conversation[] = missing.map(([, w]) => ({
      id: newId(), tenantId: w.integration.tenantId, integrationId: w.integration.id, channel: w.event!.channel,
      customerId: w.customerId, threadId: w.threadId, customerName: w.event!.customerName ?? null,
      firstName: null, lastName: null, lastCustomerMessageAt: null, lastCustomerCommentId: null, createdAt: now, updatedAt: now,
    }));
    await insertIgnoringDuplicates(statements, this.rawTables().conversations, rows);
    this.foundConversations(wanted, await statements.reads(this.conversationLookups(wanted, missing.map(([key]) => key), true)), found);
    const lost = missing.filter(([key]) => !found.has(key));
    // Never stored without its conversation (no job would ever deliver it): the batch fails, and its POSTs are tried again.
    if (lost.length) throw new Error(`${lost.length} new conversation(s) not found after creating them; the batch is tried again`);
  }

  private async insertMessages(statements: BatchedStatements, planned: Planned[], conversations: Map<string, Conversation>, existing: Set<string>, inserted: { rows: number }): Promise<Message[]> {
    const now = new Date();
    const rows: Message[] = [];
    const seen = new Set<string>();
    for (const { event, integration, status } of planned) {
      const conversation = event.role === 'page_authored' ? undefined : conversations.get(conversationKey(integration.id, event.customerId, event.threadId));
      for (const part of event.parts) {
        if (seen.has(part.dedupKey) || existing.has(part.dedupKey)) continue;
        seen.add(part.dedupKey);
        const payload: Record<string, unknown> = {};
        if (part.attachment) payload.attachment = part.attachment;
        if (Object.keys(event.context).length) payload.context = event.context;
        if (event.role === 'page_authored') payload.authorId = event.customerId;
        rows.push({
          id: newId(), tenantId: integration.tenantId, integrationId: integration.id, conversationId: conversation?.id ?? null,
          direction: 'in', kind: part.kind, event: event.event, text: part.text,
          payload: Object.keys(payload).length ? JSON.stringify(payload) : null,
          status: status!, attempts: 0, lastError: null, nextAttemptAt: status === 'queued' ? now : null,
          dedupKey: part.dedupKey, externalId: event.externalId, remoteId: null, blobId: null,
          occurredAt: event.occurredAt, part: part.part, createdAt: now, updatedAt: now, deliveredAt: null,
        });
      }
    }
    await insertIgnoringDuplicates(statements, this.rawTables().messages, rows, inserted);
    return rows;
  }

  /** The 24-hour window, where public replies go, and the wall author's name: only from new rows. */
  private async updateConversations(statements: BatchedStatements, rows: Message[], planned: Planned[], conversations: Map<string, Conversation>) {
    const fresh = new Set(rows.map((r) => r.dedupKey));
    const changes = new Map<string, Partial<Conversation>>();
    for (const { event, integration } of planned) {
      if (!event.parts.some((p) => fresh.has(p.dedupKey))) continue;
      if (event.role !== 'customer' && event.role !== 'reaction') continue;
      const conversation = conversations.get(conversationKey(integration.id, event.customerId, event.threadId));
      if (!conversation) continue;
      const change = changes.get(conversation.id) ?? {};
      const at = new Date(event.occurredAt);
      const current = change.lastCustomerMessageAt ?? conversation.lastCustomerMessageAt;
      if (!current || current.getTime() <= at.getTime()) {
        change.lastCustomerMessageAt = at;
        if (event.channel === 'wall' && event.event === 'comment' && event.externalId) change.lastCustomerCommentId = event.externalId;
      }
      if (event.customerName && event.customerName !== conversation.customerName) change.customerName = event.customerName.slice(0, 255);
      changes.set(conversation.id, change);
    }
    const now = new Date();
    const table = this.rawTables().conversations;
    if (this.database.isMysql && changes.size > 1) return this.upsertConversations(statements, changes, conversations, now);
    for (const [id, change] of changes) {
      const properties = Object.keys(change) as Array<keyof Conversation & string>;
      if (!properties.length) continue;
      properties.push('updatedAt');
      change.updatedAt = now;
      const values = table.values(change, properties);
      await statements.write(`UPDATE ${table.table} SET ${properties.map((p) => `${table.column(p)} = ?`).join(', ')} WHERE id = ?`, [...values, id]);
    }
  }

  /**
   * MySQL: the window updates of a batch as multi-row `INSERT … ON DUPLICATE KEY UPDATE` on rows that
   * exist (one statement per 200 conversations instead of one each). Each row is named by its primary
   * key, so only those rows are locked, and in id order, the same order in every transaction. (An
   * `UPDATE … CASE … WHERE id IN (…)` made concurrent batches deadlock: InnoDB locked far more rows.)
   */
  private async upsertConversations(statements: BatchedStatements, changes: Map<string, Partial<Conversation>>, conversations: Map<string, Conversation>, now: Date) {
    const table = this.rawTables().conversations;
    const byId = new Map([...conversations.values()].map((c) => [c.id, c]));
    const rows = [...changes.entries()]
      .filter(([, change]) => Object.keys(change).length)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([id, change]) => ({ ...byId.get(id)!, ...change, updatedAt: now }));
    const properties: Array<keyof Conversation & string> = [
      'id', 'tenantId', 'integrationId', 'channel', 'customerId', 'threadId', 'customerName', 'lastCustomerMessageAt', 'lastCustomerCommentId', 'createdAt', 'updatedAt',
    ];
    const updated = (['customerName', 'lastCustomerMessageAt', 'lastCustomerCommentId', 'updatedAt'] as const).map((p) => table.column(p));
    for (const slice of chunks(rows, CHUNK)) {
      await statements.write(
        `${table.insertManySql(properties, slice.length)} ON DUPLICATE KEY UPDATE ${updated.map((column) => `${column} = VALUES(${column})`).join(', ')}`,
        slice.flatMap((row) => table.values(row, properties)),
      );
    }
  }

  /** Own echoes confirm our sends; reactions, deliveries and reads move outbound messages forward. */
  private async applyStatusUpdates(
    statements: BatchedStatements,
    planned: Planned[],
    receipts: Array<{ receipt: ReceiptEvent; integration: Integration }>,
    conversations: Map<string, Conversation>,
  ) {
    const now = this.database.time(new Date());
    for (const { event, integration } of planned) {
      const rowId = event.role === 'own_echo' && event.externalId ? rowConfirmedByEcho(event.context.metadata) : null;
      if (!rowId) continue;
      // Facebook sent this reply: the row takes its id even when the relay never saw the answer (a crash, a lost
      // connection, a timeout), so a repeat of the reply is answered with it instead of sending it again.
      await statements.write(
        `UPDATE messages SET status = CASE WHEN status IN ('sending', 'failed') THEN 'sent' ELSE status END, last_error = NULL, external_id = ?, updated_at = ? ` +
          `WHERE id = ? AND integration_id = ? AND direction = 'out' AND event = 'reply' AND external_id IS NULL`,
        [event.externalId, now, rowId, integration.id],
      );
    }
    for (const { event, integration } of planned) {
      if (event.role !== 'reaction' || !event.targetMid) continue;
      await statements.write(
        `UPDATE messages SET status = 'read', updated_at = ? WHERE integration_id = ? AND direction = 'out' AND external_id = ? AND status IN ('sending', 'sent', 'delivered')`,
        [now, integration.id, event.targetMid],
      );
    }
    for (const { receipt, integration } of receipts) {
      const conversation = conversations.get(conversationKey(integration.id, receipt.customerId, ''));
      // A row still 'sending' is left alone: its send may not have happened, or be one part of a split text.
      // Once Facebook sent it, its echo (which Facebook sends before the receipts) has made it 'sent'.
      const from: MessageStatus[] = receipt.status === 'read' ? ['sent', 'delivered'] : ['sent'];
      if (conversation) {
        await statements.write(
          `UPDATE messages SET status = ?, updated_at = ? WHERE conversation_id = ? AND ${UNREAD_OUTBOUND} AND status IN (${marks(from)}) AND occurred_at <= ?`,
          [receipt.status, now, conversation.id, ...from, receipt.watermark],
        );
      }
      for (const slice of chunks(receipt.mids, CHUNK)) {
        await statements.write(
          `UPDATE messages SET status = ?, updated_at = ? WHERE integration_id = ? AND direction = 'out' AND external_id IN (${marks(slice)}) AND status IN (${marks(from)})`,
          [receipt.status, now, integration.id, ...slice, ...from],
        );
      }
    }
  }

  private async enqueue(rows: Message[]): Promise<void> {
    const queued = rows.filter((r) => r.status === 'queued' && r.conversationId);
    if (!queued.length) return;
    const firstByConversation = new Map<string, Message>();
    for (const row of queued) {
      const first = firstByConversation.get(row.conversationId!);
      if (!first || row.occurredAt < first.occurredAt || (row.occurredAt === first.occurredAt && row.part < first.part)) {
        firstByConversation.set(row.conversationId!, row);
      }
    }
    const media = queued.filter((r) => r.kind === 'attachment');
    try {
      if (media.length) {
        await this.queue.addBulk(FetchMedia, media.map((m) => ({ data: { messageId: m.id }, jobId: `m-${m.id}` })));
      }
      await this.queue.addBulk(DeliverConversation, [...firstByConversation.values()].map((m) => ({
        data: { conversationId: m.conversationId! },
        jobId: deliveryJobId(m.conversationId!, m.id, 0),
        // A job for the conversation that has not started yet will deliver these messages too.
        coalesceKey: m.conversationId!,
      })));
    } catch (error) {
      // The rows are committed: the sweeper enqueues them once the queue is back. Facebook still gets its 200.
      this.logger.warn(`Could not enqueue ${queued.length} stored messages (the sweeper will): ${(error as Error).message}`);
    }
  }

  /** lastEventAt at most every 10 s per integration, off the transaction. */
  private touchIntegrations(integrations: Integration[]): void {
    const now = Date.now();
    const ids = unique(integrations.map((i) => i.id)).filter((id) => now - (this.lastEventWritten.get(id) ?? 0) > LAST_EVENT_WRITE_MS);
    if (!ids.length) return;
    for (const id of ids) this.lastEventWritten.set(id, now);
    this.database.repo(Integration).update({ id: In(ids) }, { lastEventAt: new Date(now) })
      .catch((error: Error) => this.logger.warn(`Could not record lastEventAt: ${error.message}`));
  }
}

function statusFor(event: InboundEvent, integration: Integration): MessageStatus | null {
  const forward: MessageStatus = integration.enabled ? 'queued' : 'held';
  switch (event.role) {
    case 'customer':
    case 'page_echo':
      return forward;
    case 'own_echo':
    case 'page_authored':
      return 'skipped';
    case 'reaction':
      return integration.forwardReactions ? forward : null;
    case 'edit':
      return integration.forwardEdits ? forward : 'skipped';
  }
}

export function conversationKey(integrationId: string, customerId: string, threadId: string): string {
  return `${integrationId}|${customerId}|${threadId}`;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function chunkCount(items: unknown[]): number {
  return Math.ceil(items.length / CHUNK);
}

function uniqueKeys(planned: Planned[]): Set<string> {
  const keys = new Set<string>();
  for (const { event } of planned) for (const part of event.parts) keys.add(part.dedupKey);
  return keys;
}

/**
 * Multi-row INSERTs of whole entities; rows whose unique key exists already are skipped. `inserted`, if given, counts
 * the rows the database inserted, once known.
 */
async function insertIgnoringDuplicates<T extends object>(statements: BatchedStatements, table: RawRows<T>, rows: T[], inserted?: { rows: number }): Promise<void> {
  const properties = table.properties;
  const counted = inserted && ((changed: number) => (inserted.rows += changed));
  for (const slice of chunks(rows, CHUNK)) {
    await statements.write(table.insertManySql(properties, slice.length, true), slice.flatMap((row) => table.values(row, properties)), counted);
  }
}

function marks(values: unknown[]): string {
  return values.map(() => '?').join(', ');
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}
