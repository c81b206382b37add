import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { In, IsNull, MoreThanOrEqual, Not, QueryFailedError } from 'typeorm';
import { newId } from '../common/ids';
import { Database, driverErrorCode } from '../database/database';
import { Message } from '../relay/message.entity';
import { parsePayload as inboundPayload } from '../relay/notification';
import { partConfirmedByEcho } from '../relay/outbound-echo';
import { RawRows } from '../database/raw-rows';
import { ReplyAnswer } from './reply-errors';

export type ReplyKind = 'text' | 'attachment' | 'comment' | 'private_reply';

/** What an outbound row remembers beyond its columns (stored as JSON in `payload`). */
export interface OutboundPayload {
  /** The contact center's message id or Idempotency-Key. */
  key?: string;
  /** The Facebook object answered: comment or post id (wall), comment id (private reply). */
  target?: string;
  attachmentId?: string;
  /** Message ids of the parts already sent (a long text goes in several messages). */
  parts?: string[];
  /** The answer given, replayed to a repeat of the same reply. */
  answer?: ReplyAnswer;
}

export type Claim = { claimed: true; message: Message; payload: OutboundPayload } | { claimed: false; message: Message; payload: OutboundPayload };

/** How much earlier than the reply's row Facebook's timestamp on an echo of it may be (their clock against ours). */
const ECHO_CLOCK_MARGIN_MS = 5 * 60_000;

/** A `sending` row this old is left over from a crashed process: a repeat may take it over. */
const STALE_SENDING_MS = 60_000;

/**
 * Outbound Message rows (direction 'out', event 'reply'). The unique dedup key decides which of
 * two identical replies sends: the one whose insert succeeds.
 */
@Injectable()
export class OutboundMessages {
  private statements?: { messages: RawRows<Message>; insertSql: string; finishSql: string };

  constructor(private readonly database: Database) {}

  static dedupKey(integrationId: string, key: string): string {
    const safe = key.length > 100 ? `sha256:${createHash('sha256').update(key).digest('hex')}` : key;
    return `reply:${integrationId}:${safe}`;
  }

  /** Inserts the reply's row in status `sending`; when its key exists already, answers that row. */
  async claim(row: { tenantId: string; integrationId: string; conversationId: string; kind: ReplyKind; text: string; dedupKey: string | null; payload: OutboundPayload }): Promise<Claim> {
    const now = new Date();
    const message: Message = {
      id: newId(),
      tenantId: row.tenantId,
      integrationId: row.integrationId,
      conversationId: row.conversationId,
      direction: 'out',
      kind: row.kind,
      event: 'reply',
      text: row.text,
      payload: JSON.stringify(row.payload),
      status: 'sending',
      attempts: 1,
      lastError: null,
      nextAttemptAt: null,
      dedupKey: row.dedupKey,
      externalId: null,
      remoteId: row.payload.key ?? null,
      blobId: null,
      occurredAt: now.getTime(),
      part: 0,
      createdAt: now,
      updatedAt: now,
      deliveredAt: null,
    };
    if (message.remoteId && message.remoteId.length > 64) message.remoteId = null;
    try {
      const { messages, insertSql } = this.prepared();
      await this.database.statement(insertSql, messages.values(message, INSERTED));
      return { claimed: true, message, payload: row.payload };
    } catch (error) {
      if (!row.dedupKey || !isUniqueViolation(error)) throw error;
    }
    const existing = await this.byDedupKey(row.tenantId, row.dedupKey);
    if (!existing) throw new Error('dedup key collided but no row holds it');
    return { claimed: false, message: existing, payload: parsePayload(existing) };
  }

  /**
   * Takes over an existing row to send again: a failure that may end differently now (Facebook
   * down, throttled, token since re-authorized), or a `sending` row abandoned by a crash.
   * The conditional update decides between concurrent repeats.
   */
  async reclaim(message: Message): Promise<boolean> {
    const now = new Date();
    const repo = this.database.repo(Message);
    const result =
      message.status === 'failed'
        ? await repo.update({ id: message.id, tenantId: message.tenantId, status: 'failed', attempts: message.attempts }, { status: 'sending', attempts: message.attempts + 1, updatedAt: now })
        : await repo.update({ id: message.id, tenantId: message.tenantId, status: 'sending', attempts: message.attempts }, { attempts: message.attempts + 1, updatedAt: now });
    if (!result.affected) return false;
    message.attempts += 1;
    message.status = 'sending';
    return true;
  }

  isStale(message: Message, now = Date.now()): boolean {
    return message.status === 'sending' && now - message.updatedAt.getTime() > STALE_SENDING_MS;
  }

  /** Waits until another request finishes sending this row; null when it takes longer than `timeoutMs`. */
  async waitSettled(message: Message, timeoutMs: number): Promise<Message | null> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const row = await this.database.repo(Message).findOne({ where: { id: message.id, tenantId: message.tenantId } });
      if (row && row.status !== 'sending') return row;
    }
    return null;
  }

  async saveProgress(message: Message, payload: OutboundPayload, fields: Partial<Pick<Message, 'externalId' | 'blobId'>> = {}): Promise<void> {
    Object.assign(message, fields);
    await this.database.repo(Message).update({ id: message.id, tenantId: message.tenantId }, { ...fields, payload: JSON.stringify(payload), updatedAt: new Date() });
  }

  /**
   * Final state of the reply's row: sent with Facebook's id, or failed with the reason. A receipt
   * may have moved a sent row on to delivered/read already: that status is kept. So is a row that
   * Facebook's echo confirmed while the relay waited for an answer that then failed (a timeout).
   */
  async finish(message: Message, payload: OutboundPayload, answer: ReplyAnswer, externalId: string | null): Promise<void> {
    const ok = answer.status === 200;
    const { messages, finishSql } = this.prepared();
    await this.database.statement(finishSql, [
      messages.value('lastError', ok ? null : String(answer.body.message ?? '').slice(0, 2000)),
      ok ? 'sent' : 'failed',
      ok ? 0 : 1,
      messages.value('externalId', externalId),
      messages.value('payload', JSON.stringify({ ...payload, answer })),
      messages.value('updatedAt', new Date()),
      message.id,
      message.tenantId,
    ]);
  }

  /** Facebook's id of a reply whose echo confirmed it (a row not failed that has one), or null. */
  async confirmedBySend(message: Message): Promise<string | null> {
    const row = await this.database.repo(Message).findOne({ where: { id: message.id, tenantId: message.tenantId }, select: { status: true, externalId: true } });
    return row && row.status !== 'failed' && row.externalId ? row.externalId : null;
  }

  /**
   * Facebook's id of part `part` of a split text sent by an earlier request without being recorded in the reply's
   * payload, or null. The request may have written the part's row and then crashed before recording its progress; or
   * the part went out without its answer reaching the relay (the answer lost, or a crash before the record), and its
   * echo names it. Echoes are stored as rows of the conversation: this reads the conversation's echoes since the reply
   * began (the index on conversation_id and occurred_at), with a margin for Facebook's clock.
   */
  async sentPart(reply: Message, part: number): Promise<string | null> {
    if (part > 0 && reply.dedupKey) {
      const row = await this.byDedupKey(reply.tenantId, `${reply.dedupKey}#${part}`);
      if (row?.externalId) return row.externalId;
    }
    if (!reply.conversationId) return null;
    const echoes = await this.database.repo(Message).find({
      where: { tenantId: reply.tenantId, conversationId: reply.conversationId, direction: 'in', event: 'echo', occurredAt: MoreThanOrEqual(reply.occurredAt - ECHO_CLOCK_MARGIN_MS) },
      select: { externalId: true, payload: true },
    });
    for (const echo of echoes) {
      const named = partConfirmedByEcho(inboundPayload(echo).context?.metadata);
      if (named?.rowId === reply.id && named.part === part && echo.externalId) return echo.externalId;
    }
    return null;
  }

  /**
   * One more row for part `part` (> 0) of a long text, already sent. A resumed reply that sent the part again (its
   * row and its echo were not found) may find the row written meanwhile: that row stays.
   */
  async insertSentPart(first: Message, part: number, text: string, externalId: string): Promise<void> {
    const now = new Date();
    await this.database.repo(Message).insert({
      ...first,
      id: newId(),
      text,
      payload: null,
      status: 'sent',
      attempts: 1,
      lastError: null,
      dedupKey: first.dedupKey ? `${first.dedupKey}#${part}` : null,
      externalId,
      occurredAt: now.getTime(),
      part,
      createdAt: now,
      updatedAt: now,
    }).catch((error: unknown) => {
      if (!first.dedupKey || !isUniqueViolation(error)) throw error;
    });
  }

  /** Whether another reply of the integration recorded this Facebook id (the index on integration_id and external_id). */
  async isAnotherReplysId(reply: Message, externalId: string): Promise<boolean> {
    return this.database.repo(Message).exists({
      where: { tenantId: reply.tenantId, integrationId: reply.integrationId, externalId, direction: 'out', event: 'reply', id: Not(reply.id) },
    });
  }

  /**
   * Whether another public comment of the conversation with this text, to this target, has no Facebook id yet: being
   * sent, or failed. Its comment may be the one a read-back finds.
   */
  async unrecordedCommentsLike(reply: Message, target: string, text: string): Promise<boolean> {
    const rows = await this.database.repo(Message).find({
      where: { tenantId: reply.tenantId, conversationId: reply.conversationId!, direction: 'out', kind: 'comment', status: In(['sending', 'failed']), externalId: IsNull(), id: Not(reply.id) },
      select: { id: true, text: true, payload: true },
    });
    return rows.some((row) => (row.text ?? '').trim() === text && parsePayload(row).target === target);
  }

  /** Whether a private reply to this comment (or visitor post) was sent or is being sent. */
  async privateReplySent(tenantId: string, conversationId: string, target: string, exceptId: string): Promise<boolean> {
    const rows = await this.database.repo(Message).find({
      where: { tenantId, conversationId, direction: 'out', kind: 'private_reply', status: In(['sending', 'sent', 'delivered', 'read']) },
      select: { id: true, payload: true },
    });
    return rows.some((row) => row.id !== exceptId && parsePayload(row).target === target);
  }

  private byDedupKey(tenantId: string, dedupKey: string): Promise<Message | null> {
    return this.database.repo(Message).findOne({ where: { tenantId, dedupKey } });
  }

  /** Built on first use: the entity metadata exists once the data source is initialized. */
  private prepared(): NonNullable<OutboundMessages['statements']> {
    if (this.statements) return this.statements;
    const messages = new RawRows(this.database.dataSource, Message);
    const c = (property: keyof Message & string) => messages.column(property);
    this.statements = {
      messages,
      insertSql: messages.insertSql(INSERTED),
      // A row still 'sending' takes the outcome. Otherwise a receipt moved it on to delivered/read, or
      // the echo of the send set its Facebook id: that state is kept, even over a failure (the third
      // parameter), which ends only a row without a Facebook id. A Facebook id is set before the
      // finish by an echo only: parts of a split text record theirs in the payload.
      // MySQL assigns left to right, each term seeing the ones before: last_error and status read the
      // row's status and Facebook id as they were, so they come first and in this order.
      finishSql:
        `UPDATE ${messages.table} SET ` +
        `${c('lastError')} = CASE WHEN ${c('status')} = 'sending' OR ${c('externalId')} IS NULL THEN ? ELSE ${c('lastError')} END, ` +
        `${c('status')} = CASE WHEN ${c('status')} = 'sending' THEN ? WHEN ? = 1 AND ${c('externalId')} IS NULL THEN 'failed' ELSE ${c('status')} END, ` +
        `${c('externalId')} = COALESCE(?, ${c('externalId')}), ${c('payload')} = ?, ${c('updatedAt')} = ? WHERE ${c('id')} = ? AND ${c('tenantId')} = ?`,
    };
    return this.statements;
  }
}

/** The columns a reply's row is inserted with (the others keep their defaults). */
const INSERTED: Array<keyof Message & string> = [
  'id', 'tenantId', 'integrationId', 'conversationId', 'direction', 'kind', 'event', 'text', 'payload', 'status', 'attempts', 'lastError',
  'nextAttemptAt', 'dedupKey', 'externalId', 'remoteId', 'blobId', 'occurredAt', 'part', 'createdAt', 'updatedAt', 'deliveredAt',
];

export function parsePayload(message: Pick<Message, 'payload'>): OutboundPayload {
  try {
    return message.payload ? (JSON.parse(message.payload) as OutboundPayload) : {};
  } catch {
    return {};
  }
}

function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const code = driverErrorCode(error) ?? '';
  return code === 'ER_DUP_ENTRY' || code.startsWith('SQLITE_CONSTRAINT') || /UNIQUE constraint failed|Duplicate entry/i.test(error.message);
}
