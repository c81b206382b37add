import { Injectable } from '@nestjs/common';
import { Database } from '../database/database';
import { Conversation } from '../relay/conversation.entity';
import { RawRows } from '../database/raw-rows';

/**
 * The conversation a reply answers, as a raw statement (read on every reply). Not cached: a newer
 * customer message counts from the next reply on, in every process. The integration comes from
 * IntegrationsRepository.findByReplyTokenHash.
 */
@Injectable()
export class ReplyLookups {
  private statements?: { conversations: RawRows<Conversation>; conversationSql: string };

  constructor(private readonly database: Database) {}

  async conversation(where: { tenantId: string; integrationId: string; customerId: string; threadId: string }): Promise<Conversation | null> {
    const { conversations, conversationSql } = this.prepared();
    const rows: Array<Record<string, unknown>> = await this.database.dataSource.query(conversationSql, [where.tenantId, where.integrationId, where.customerId, where.threadId]);
    return rows.length ? conversations.read(rows[0]) : null;
  }

  /** Built on first use: the entity metadata exists once the data source is initialized. */
  private prepared(): NonNullable<ReplyLookups['statements']> {
    if (this.statements) return this.statements;
    const conversations = new RawRows(this.database.dataSource, Conversation);
    this.statements = {
      conversations,
      conversationSql:
        `SELECT ${conversations.selectList} FROM ${conversations.table} ` +
        `WHERE ${conversations.column('tenantId')} = ? AND ${conversations.column('integrationId')} = ? AND ${conversations.column('customerId')} = ? AND ${conversations.column('threadId')} = ? LIMIT 1`,
    };
    return this.statements;
  }
}
