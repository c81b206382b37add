import { Injectable } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { RelayHttpError } from '../common/errors/http-errors';
import { likePattern, rangeOf, SearchQuery } from '../common/search-query';
import { Database } from '../database/database';
import { Integration } from '../integrations/integration.entity';
import { Conversation } from './conversation.entity';
import { Message } from './message.entity';

export class MessageHistoryQuery extends SearchQuery {
  @ApiPropertyOptional({ enum: ['in', 'out'] }) @IsOptional() @IsIn(['in', 'out'], { message: 'direction must be in or out' })
  direction?: 'in' | 'out';

  @ApiPropertyOptional({ enum: ['queued', 'delivered', 'failed', 'skipped', 'held', 'sending', 'sent', 'read'] })
  @IsOptional() @IsIn(['queued', 'delivered', 'failed', 'skipped', 'held', 'sending', 'sent', 'read'], { message: 'status must be one of queued, delivered, failed, skipped, held, sending, sent, read' })
  status?: string;

  @ApiPropertyOptional({ default: 50, maximum: 200 }) @IsOptional() @Type(() => Number) @IsInt({ message: 'pageSize must be a whole number' })
  @Min(1, { message: 'pageSize must be between 1 and 200' }) @Max(200, { message: 'pageSize must be between 1 and 200' })
  pageSize?: number;
}

export interface MessageHistoryItem {
  id: string;
  direction: string;
  kind: string;
  text: string | null;
  status: string;
  customerId: string | null;
  customerName: string | null;
  threadId: string | null;
  createdAt: string;
  attempts: number;
  lastError: string | null;
}

/** The tenant's message history of one integration (both directions), newest first. */
@Injectable()
export class MessageHistory {
  constructor(private readonly database: Database) {}

  async integrationOf(tenantId: string, integrationId: string): Promise<Integration> {
    const integration = await this.database.repo(Integration).findOne({ where: { id: integrationId, tenantId } });
    if (!integration) throw new RelayHttpError(404, 'not_found', 'No integration with this id in your account');
    return integration;
  }

  async list(tenantId: string, integrationId: string, query: MessageHistoryQuery): Promise<{ items: MessageHistoryItem[]; total: number }> {
    await this.integrationOf(tenantId, integrationId);
    const page = query.page ?? 1;
    const pageSize = query.pageSize ?? 50;
    const qb = this.database.repo(Message).createQueryBuilder('m')
      .leftJoin(Conversation, 'c', 'c.id = m.conversation_id AND c.tenant_id = m.tenant_id')
      .where('m.tenant_id = :tenantId AND m.integration_id = :integrationId', { tenantId, integrationId })
      // The echo of the relay's own send is the outbound row again: keep it out of the thread.
      .andWhere("NOT (m.direction = 'in' AND m.kind = 'echo' AND m.status = 'skipped')");
    const { from, to } = rangeOf(query);
    if (from) qb.andWhere('m.created_at >= :from', { from });
    if (to) qb.andWhere('m.created_at < :to', { to });
    if (query.direction) qb.andWhere('m.direction = :direction', { direction: query.direction });
    if (query.status) qb.andWhere('m.status = :status', { status: query.status });
    if (query.customer) {
      qb.andWhere("(c.customer_id = :customer OR LOWER(c.customer_name) LIKE :customerLike ESCAPE '!')", { customer: query.customer, customerLike: likePattern(query.customer) });
    }
    if (query.q) qb.andWhere("LOWER(m.text) LIKE :q ESCAPE '!'", { q: likePattern(query.q) });
    const total = await qb.clone().getCount();
    const rows = await qb
      .select(['m.id AS id', 'm.direction AS direction', 'm.kind AS kind', 'm.text AS text', 'm.status AS status', 'm.created_at AS createdAt',
        'm.attempts AS attempts', 'm.last_error AS lastError', 'c.customer_id AS customerId', 'c.customer_name AS customerName',
        'c.first_name AS firstName', 'c.last_name AS lastName', 'c.thread_id AS threadId'])
      .orderBy('m.created_at', 'DESC').addOrderBy('m.id', 'DESC')
      .offset((page - 1) * pageSize).limit(pageSize)
      .getRawMany<Record<string, any>>();
    return {
      total,
      items: rows.map((row) => ({
        id: row.id, direction: row.direction, kind: row.kind, text: row.text, status: row.status,
        customerId: row.customerId ?? null,
        customerName: row.customerName ?? ([row.firstName, row.lastName].filter(Boolean).join(' ') || null),
        threadId: row.threadId ? row.threadId : null,
        createdAt: toIso(row.createdAt), attempts: Number(row.attempts), lastError: row.lastError ?? null,
      })),
    };
  }
}

/** SQLite hands back 'YYYY-MM-DD HH:MM:SS.mmm' in UTC, mysql2 a Date. */
function toIso(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  const text = String(value);
  return new Date(/Z|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.replace(' ', 'T')}Z`).toISOString();
}
