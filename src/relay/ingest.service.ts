import { Injectable, Logger } from '@nestjs/common';
import { EntityManager, In } from 'typeorm';
import { newId } from '../common/ids';
import { enqueueAfterHours } from '../availability/after-hours.job';
import { afterHoursDecision } from '../availability/schedule';
import { Database } from '../database/database';
import { RawRows } from '../database/raw-rows';
import { Integration } from '../integrations/integration.entity';
import { JobQueue } from '../queue/job-queue';
import { InboundEvent, ParsedWebhook, ReceiptEvent } from '../webhooks/inbound-event';
import { deleteInboxRows } from '../webhooks/webhook-inbox';
import { Conversation } from './conversation.entity';
import { Message, MessageStatus } from './message.entity';
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
      return await this.database.transaction((manager) => this.store(manager, plans));
    } catch (error) {
      if (plans.length === 1) return [asError(error)];
      const outcomes: Array<Committed | Error> = [];
      for (const plan of plans) {
        try {
          const [result] = await this.database.transaction((manager) => this.store(manager, [plan]));
          outcomes.push(result);
        } catch (single) {
          outcomes.push(asError(single));
        }
      }
      return outcomes;
    }
  }

  /** One transaction for the POSTs of a batch; the new rows handed back to the POST that brought them. */
  private async store(manager: EntityManager, plans: Plan[]): Promise<Committed[]> {
    const planned = plans.flatMap((p) => p.planned);
    const receipts = plans.flatMap((p) => p.receipts);
    const stored = planned.filter((p) => p.status !== null);
    const conversations = await this.conversations(manager, stored.filter((p) => p.event.role !== 'page_authored'), receipts);
    const { rows } = await this.insertMessages(manager, stored, conversations);
    await this.updateConversations(manager, rows, stored, conversations);
    await this.applyStatusUpdates(manager, planned, receipts, conversations);
    await deleteInboxRows(manager, plans.flatMap((p) => (p.inboxId ? [p.inboxId] : [])));
    if (plans.length === 1) return [{ rows, duplicates: uniqueKeys(stored).size - rows.length }];
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

  /** Existing conversations for every (integration, customer, thread) in the batch; missing ones created. */
  private async conversations(
    manager: EntityManager,
    planned: Planned[],
    receipts: Array<{ receipt: ReceiptEvent; integration: Integration }>,
  ): Promise<Map<string, Conversation>> {
    const wanted = new Map<string, { integration: Integration; event?: InboundEvent; customerId: string; threadId: string }>();
    for (const { event, integration } of planned) {
      wanted.set(conversationKey(integration.id, event.customerId, event.threadId), { integration, event, customerId: event.customerId, threadId: event.threadId });
    }
    for (const { receipt, integration } of receipts) {
      const key = conversationKey(integration.id, receipt.customerId, '');
      if (!wanted.has(key)) wanted.set(key, { integration, customerId: receipt.customerId, threadId: '' });
    }
    const found = new Map<string, Conversation>();
    if (!wanted.size) return found;
    const { conversations } = this.rawTables();
    const load = async (keys: string[]) => {
      const entries = keys.map((key) => wanted.get(key)!);
      for (const slice of chunks(entries, CHUNK)) {
        const integrationIds = unique(slice.map((w) => w.integration.id));
        const customerIds = unique(slice.map((w) => w.customerId));
        const rows: Array<Record<string, unknown>> = await manager.query(
          `SELECT ${conversations.selectList} FROM ${conversations.table} WHERE ${conversations.column('integrationId')} IN (${marks(integrationIds)}) AND ${conversations.column('customerId')} IN (${marks(customerIds)})`,
          [...integrationIds, ...customerIds],
        );
        for (const raw of rows) {
          const row = conversations.read(raw);
          const key = conversationKey(row.integrationId, row.customerId, row.threadId);
          if (wanted.has(key)) found.set(key, row);
        }
      }
    };
    await load([...wanted.keys()]);
    const now = new Date();
    const missing = [...wanted.entries()].filter(([key, w]) => !found.has(key) && w.event); // receipts never create one
    if (missing.length) {
      const rows: Conversation[] = missing.map(([, w]) => ({
        id: newId(), tenantId: w.integration.tenantId, integrationId: w.integration.id, channel: w.event!.channel,
        customerId: w.customerId, threadId: w.threadId, customerName: w.event!.customerName ?? null,
        firstName: null, lastName: null, lastCustomerMessageAt: null, lastCustomerCommentId: null, createdAt: now, updatedAt: now,
      }));
      await insertIgnoringDuplicates(manager, conversations, rows);
      await load(missing.map(([key]) => key)); // picks up rows a concurrent request inserted first
    }
    return found;
  }

  private async insertMessages(manager: EntityManager, planned: Planned[], conversations: Map<string, Conversation>) {
    const now = new Date();
    const candidates: Message[] = [];
    const seen = new Set<string>();
    for (const { event, integration, status } of planned) {
      const conversation = event.role === 'page_authored' ? undefined : conversations.get(conversationKey(integration.id, event.customerId, event.threadId));
      for (const part of event.parts) {
        if (seen.has(part.dedupKey)) continue;
        seen.add(part.dedupKey);
        const payload: Record<string, unknown> = {};
        if (part.attachment) payload.attachment = part.attachment;
        if (Object.keys(event.context).length) payload.context = event.context;
        if (event.role === 'page_authored') payload.authorId = event.customerId;
        candidates.push({
          id: newId(), tenantId: integration.tenantId, integrationId: integration.id, conversationId: conversation?.id ?? null,
          direction: 'in', kind: part.kind, event: event.event, text: part.text,
          payload: Object.keys(payload).length ? JSON.stringify(payload) : null,
          status: status!, attempts: 0, lastError: null, nextAttemptAt: status === 'queued' ? now : null,
          dedupKey: part.dedupKey, externalId: event.externalId, remoteId: null, blobId: null,
          occurredAt: event.occurredAt, part: part.part, createdAt: now, updatedAt: now, deliveredAt: null,
        });
      }
    }
    if (!candidates.length) return { rows: [] as Message[], duplicates: 0 };
    const { messages } = this.rawTables();
    const existing = new Set<string>();
    for (const slice of chunks(candidates, CHUNK)) {
      const keys = slice.map((m) => m.dedupKey!);
      const rows: Array<{ dedup_key: string }> = await manager.query(`SELECT dedup_key FROM ${messages.table} WHERE dedup_key IN (${marks(keys)})`, keys);
      for (const row of rows) existing.add(row.dedup_key);
    }
    const rows = candidates.filter((m) => !existing.has(m.dedupKey!));
    await insertIgnoringDuplicates(manager, messages, rows);
    return { rows, duplicates: candidates.length - rows.length };
  }

  /** The 24-hour window, where public replies go, and the wall author's name: only from new rows. */
  private async updateConversations(manager: EntityManager, rows: Message[], planned: Planned[], conversations: Map<string, Conversation>) {
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
    if (this.database.isMysql && changes.size > 1) return this.upsertConversations(manager, changes, conversations, now);
    for (const [id, change] of changes) {
      const properties = Object.keys(change) as Array<keyof Conversation & string>;
      if (!properties.length) continue;
      properties.push('updatedAt');
      change.updatedAt = now;
      const values = table.values(change, properties);
      await manager.query(`UPDATE ${table.table} SET ${properties.map((p) => `${table.column(p)} = ?`).join(', ')} WHERE id = ?`, [...values, id]);
    }
  }

  /**
   * MySQL: the window updates of a batch as multi-row `INSERT … ON DUPLICATE KEY UPDATE` on rows that
   * exist (one round trip per 200 conversations instead of one each). Each row is named by its primary
   * key, so only those rows are locked, and in id order, the same order in every transaction. (An
   * `UPDATE … CASE … WHERE id IN (…)` made concurrent batches deadlock: InnoDB locked far more rows.)
   */
  private async upsertConversations(manager: EntityManager, changes: Map<string, Partial<Conversation>>, conversations: Map<string, Conversation>, now: Date) {
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
      await manager.query(
        `${table.insertManySql(properties, slice.length)} ON DUPLICATE KEY UPDATE ${updated.map((column) => `${column} = VALUES(${column})`).join(', ')}`,
        slice.flatMap((row) => table.values(row, properties)),
      );
    }
  }

  /** Own echoes confirm our sends; reactions, deliveries and reads move outbound messages forward. */
  private async applyStatusUpdates(
    manager: EntityManager,
    planned: Planned[],
    receipts: Array<{ receipt: ReceiptEvent; integration: Integration }>,
    conversations: Map<string, Conversation>,
  ) {
    const repo = manager.getRepository(Message);
    const now = new Date();
    const ownEchoesByIntegration = new Map<string, string[]>();
    for (const p of planned) {
      if (p.event.role !== 'own_echo' || !p.event.externalId) continue;
      ownEchoesByIntegration.set(p.integration.id, [...(ownEchoesByIntegration.get(p.integration.id) ?? []), p.event.externalId]);
    }
    for (const [integrationId, mids] of ownEchoesByIntegration) {
      for (const slice of chunks(mids, CHUNK)) {
        await repo.update({ integrationId, direction: 'out', status: 'sending', externalId: In(slice) }, { status: 'sent', updatedAt: now });
      }
    }
    for (const { event, integration } of planned) {
      if (event.role !== 'reaction' || !event.targetMid) continue;
      await repo.update(
        { integrationId: integration.id, direction: 'out', externalId: event.targetMid, status: In(['sending', 'sent', 'delivered']) },
        { status: 'read', updatedAt: now },
      );
    }
    for (const { receipt, integration } of receipts) {
      const conversation = conversations.get(conversationKey(integration.id, receipt.customerId, ''));
      const from: MessageStatus[] = receipt.status === 'read' ? ['sending', 'sent', 'delivered'] : ['sending', 'sent'];
      if (conversation) {
        await repo.createQueryBuilder().update(Message)
          .set({ status: receipt.status, updatedAt: now })
          .where(`conversation_id = :conversationId AND ${UNREAD_OUTBOUND} AND status IN (:...from) AND occurred_at <= :watermark`, {
            conversationId: conversation.id, from, watermark: receipt.watermark,
          })
          .execute();
      }
      if (receipt.mids.length) {
        await repo.update({ integrationId: integration.id, direction: 'out', externalId: In(receipt.mids), status: In(from) }, { status: receipt.status, updatedAt: now });
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

function uniqueKeys(planned: Planned[]): Set<string> {
  const keys = new Set<string>();
  for (const { event } of planned) for (const part of event.parts) keys.add(part.dedupKey);
  return keys;
}

/** Multi-row INSERTs of whole entities; rows whose unique key exists already are skipped. */
async function insertIgnoringDuplicates<T extends object>(manager: EntityManager, table: RawRows<T>, rows: T[]): Promise<void> {
  const properties = table.properties;
  for (const slice of chunks(rows, CHUNK)) {
    await manager.query(table.insertManySql(properties, slice.length, true), slice.flatMap((row) => table.values(row, properties)));
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
