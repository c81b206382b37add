import { Injectable } from '@nestjs/common';
import { Brackets, In, SelectQueryBuilder } from 'typeorm';
import { Blob } from '../blobs/blob.entity';
import { RelayHttpError } from '../common/errors/http-errors';
import { Database } from '../database/database';
import { Integration } from '../integrations/integration.entity';
import { Conversation } from '../relay/conversation.entity';
import { Message } from '../relay/message.entity';
import { likePattern, rangeOf } from '../common/search-query';
import { ConversationQuery, THREAD_PAGE_SIZE, ThreadQuery } from './conversation-query.dto';

export interface ConversationItem {
  id: string;
  integrationId: string;
  integrationName: string | null;
  channel: 'messenger' | 'wall';
  customerId: string;
  customerName: string | null;
  threadId: string | null;
  lastMessageAt: string | null;
  messageCount: number;
  lastText: string | null;
}

export interface ThreadMessage {
  id: string;
  direction: string;
  kind: string;
  event: string;
  text: string | null;
  status: string;
  createdAt: string;
  occurredAt: string;
  attempts: number;
  lastError: string | null;
  attachment: { url: string; filename: string; contentType: string | null; size: number | null } | null;
}

/** The echo of the relay's own send is the outbound row again: kept out of every thread. */
const NOT_OWN_ECHO = "NOT (m.direction = 'in' AND m.kind = 'echo' AND m.status = 'skipped')";

/** The tenant's conversations (uContact "recordings"), newest activity first, and one thread at a time. */
@Injectable()
export class ConversationHistory {
  constructor(private readonly database: Database) {}

  async list(tenantId: string, query: ConversationQuery): Promise<{ items: ConversationItem[]; total: number }> {
    const page = query.page ?? 1;
    const pageSize = query.pageSize ?? 25;
    const { from, to } = rangeOf(query);
    const qb = this.database.repo(Conversation).createQueryBuilder('c').where('c.tenant_id = :tenantId', { tenantId });
    if (query.integrationId) qb.andWhere('c.integration_id = :integrationId', { integrationId: query.integrationId });
    // Active during the range: last activity after `from`, started before `to`.
    if (from) qb.andWhere('c.updated_at >= :from', { from });
    if (to) qb.andWhere('c.created_at < :to', { to });
    if (query.customer) {
      const like = likePattern(query.customer);
      qb.andWhere(new Brackets((w) => w.where('c.customer_id = :customer', { customer: query.customer })
        .orWhere("LOWER(c.customer_name) LIKE :customerLike ESCAPE '!'", { customerLike: like })
        .orWhere("LOWER(c.first_name) LIKE :customerLike ESCAPE '!'")
        .orWhere("LOWER(c.last_name) LIKE :customerLike ESCAPE '!'")));
    }
    if (query.q) this.whereSomeMessageContains(qb, query.q, { from, to, integrationId: query.integrationId });
    const total = await qb.clone().getCount();
    const rows = await qb.orderBy('c.updated_at', 'DESC').addOrderBy('c.id', 'DESC').skip((page - 1) * pageSize).take(pageSize).getMany();
    return { items: await this.items(tenantId, rows), total };
  }

  /**
   * One page of a thread: the latest `limit` messages (before the message `before`, when given), in the
   * order Facebook had them. `earlier` is the `before` of the page ahead of this one, null at the start.
   */
  async thread(tenantId: string, conversationId: string, query: ThreadQuery = {}): Promise<{ conversation: ConversationItem; messages: ThreadMessage[]; earlier: string | null }> {
    const conversation = await this.database.repo(Conversation).findOne({ where: { id: conversationId, tenantId } });
    if (!conversation) throw new RelayHttpError(404, 'not_found', 'No conversation with this id in your account');
    const [item] = await this.items(tenantId, [conversation]);
    const limit = query.limit ?? THREAD_PAGE_SIZE;
    const qb = this.database.repo(Message).createQueryBuilder('m')
      .where('m.tenant_id = :tenantId AND m.conversation_id = :conversationId', { tenantId, conversationId })
      .andWhere(NOT_OWN_ECHO);
    if (query.before) {
      const anchor = await this.database.repo(Message).findOne({ where: { id: query.before, tenantId, conversationId }, select: { id: true, occurredAt: true, part: true, createdAt: true } });
      if (!anchor) throw new RelayHttpError(400, 'invalid_before', 'before must be the id of a message of this conversation: use the "earlier" value of the previous answer.');
      // Strictly before the anchor in the thread's order (occurred_at, part, created_at, id).
      const at = { o: anchor.occurredAt, p: anchor.part, c: anchor.createdAt, i: anchor.id };
      qb.andWhere(new Brackets((w) => w
        .where('m.occurred_at < :o', at)
        .orWhere('m.occurred_at = :o AND m.part < :p', at)
        .orWhere('m.occurred_at = :o AND m.part = :p AND m.created_at < :c', at)
        .orWhere('m.occurred_at = :o AND m.part = :p AND m.created_at = :c AND m.id < :i', at)));
    }
    const newestFirst = await qb
      .orderBy('m.occurred_at', 'DESC').addOrderBy('m.part', 'DESC').addOrderBy('m.created_at', 'DESC').addOrderBy('m.id', 'DESC')
      .limit(limit + 1)
      .getMany();
    const messages = newestFirst.slice(0, limit).reverse();
    const earlier = newestFirst.length > limit ? messages[0].id : null;
    const blobIds = [...new Set(messages.map((m) => m.blobId).filter((id): id is string => Boolean(id)))];
    const blobs = new Map<string, Blob>();
    for (let i = 0; i < blobIds.length; i += 200) {
      const found = await this.database.repo(Blob).find({
        where: { tenantId, id: In(blobIds.slice(i, i + 200)) },
        select: { id: true, filename: true, contentType: true, size: true, expiresAt: true },
      });
      for (const blob of found) blobs.set(blob.id, blob);
    }
    return { conversation: item, messages: messages.map((m) => toThreadMessage(m, blobs)), earlier };
  }

  private whereSomeMessageContains(qb: SelectQueryBuilder<Conversation>, text: string, bounds: { from?: Date; to?: Date; integrationId?: string }): void {
    const sub = qb.subQuery().select('1').from(Message, 'm')
      .where('m.conversation_id = c.id AND m.tenant_id = c.tenant_id')
      .andWhere("LOWER(m.text) LIKE :q ESCAPE '!'");
    if (bounds.integrationId) sub.andWhere('m.integration_id = :integrationId');
    if (bounds.from) sub.andWhere('m.created_at >= :from');
    if (bounds.to) sub.andWhere('m.created_at < :to');
    qb.andWhere(`EXISTS ${sub.getQuery()}`, { q: likePattern(text) });
  }

  /** Names, counts and the latest message for one page of conversations (a few indexed queries). */
  private async items(tenantId: string, rows: Conversation[]): Promise<ConversationItem[]> {
    if (!rows.length) return [];
    const ids = rows.map((r) => r.id);
    const integrationIds = [...new Set(rows.map((r) => r.integrationId))];
    const integrations = await this.database.repo(Integration).find({ where: { tenantId, id: In(integrationIds) }, select: { id: true, name: true } });
    const names = new Map(integrations.map((i) => [i.id, i.name]));
    const counts = await this.database.repo(Message).createQueryBuilder('m')
      .select('m.conversation_id', 'conversationId').addSelect('COUNT(*)', 'count')
      .where('m.tenant_id = :tenantId AND m.conversation_id IN (:...ids)', { tenantId, ids })
      .andWhere(NOT_OWN_ECHO)
      .groupBy('m.conversation_id')
      .getRawMany<{ conversationId: string; count: string | number }>();
    const countOf = new Map(counts.map((c) => [c.conversationId, Number(c.count)]));
    const lasts = new Map<string, Message>();
    for (const id of ids) {
      const last = await this.database.repo(Message).createQueryBuilder('m')
        .where('m.conversation_id = :id AND m.tenant_id = :tenantId', { id, tenantId })
        .andWhere(NOT_OWN_ECHO)
        .orderBy('m.occurred_at', 'DESC').addOrderBy('m.part', 'DESC').addOrderBy('m.created_at', 'DESC')
        .limit(1).getOne();
      if (last) lasts.set(id, last);
    }
    return rows.map((c) => {
      const last = lasts.get(c.id);
      return {
        id: c.id,
        integrationId: c.integrationId,
        integrationName: names.get(c.integrationId) ?? null,
        channel: c.channel,
        customerId: c.customerId,
        customerName: c.customerName ?? ([c.firstName, c.lastName].filter(Boolean).join(' ') || null),
        threadId: c.threadId || null,
        lastMessageAt: last ? new Date(last.occurredAt).toISOString() : new Date(c.updatedAt).toISOString(),
        messageCount: countOf.get(c.id) ?? 0,
        lastText: last ? summary(last) : null,
      };
    });
  }
}

function summary(message: Message): string | null {
  if (message.text) return message.text.length > 200 ? `${message.text.slice(0, 199)}…` : message.text;
  if (message.kind === 'attachment') return '[attachment]';
  return null;
}

function toThreadMessage(m: Message, blobs: Map<string, Blob>): ThreadMessage {
  return {
    id: m.id,
    direction: m.direction,
    kind: m.kind,
    event: m.event,
    text: m.text,
    status: m.status,
    createdAt: new Date(m.createdAt).toISOString(),
    occurredAt: new Date(m.occurredAt).toISOString(),
    attempts: m.attempts,
    lastError: m.lastError,
    attachment: attachmentOf(m, blobs),
  };
}

function attachmentOf(m: Message, blobs: Map<string, Blob>): ThreadMessage['attachment'] {
  const url = `/api/v1/messages/${m.id}/attachment`;
  const blob = m.blobId ? blobs.get(m.blobId) : undefined;
  if (blob) return { url, filename: blob.filename, contentType: blob.contentType, size: blob.size };
  if (m.kind !== 'attachment' && !m.blobId) return null;
  // Announced but no longer kept (expired, or never copied): the link answers 410.
  const described = payloadAttachment(m.payload);
  return { url, filename: described?.filename ?? described?.type ?? 'attachment', contentType: null, size: null };
}

function payloadAttachment(payload: string | null): { type?: string; filename?: string } | null {
  if (!payload) return null;
  try {
    const value = JSON.parse(payload) as { attachment?: { type?: string; filename?: string } };
    return value.attachment ?? null;
  } catch {
    return null;
  }
}
