import { Injectable } from '@nestjs/common';
import { Database } from '../database/database';
import { Integration } from '../integrations/integration.entity';
import { Conversation } from '../relay/conversation.entity';
import { RawRows } from '../database/raw-rows';

/**
 * The two reads of every reply, as raw statements: the integration by its reply token, and the
 * conversation the reply answers. Nothing is cached: a rotated token, a disabled integration or a
 * newer customer message counts from the next reply on, in every process.
 */
@Injectable()
export class ReplyLookups {
  private statements?: { integrations: RawRows<Integration>; conversations: RawRows<Conversation>; integrationSql: string; conversationSql: string };

  constructor(private readonly database: Database) {}

  /** The integration a contact center's reply token (sha256 hex) belongs to. */
  async integrationByReplyTokenHash(hash: string): Promise<Integration | null> {
    const { integrations, integrationSql } = this.prepared();
    const rows: Array<Record<string, unknown>> = await this.database.dataSource.query(integrationSql, [hash]);
    return rows.length ? integrations.read(rows[0]) : null;
  }

  async conversation(where: { tenantId: string; integrationId: string; customerId: string; threadId: string }): Promise<Conversation | null> {
    const { conversations, conversationSql } = this.prepared();
    const rows: Array<Record<string, unknown>> = await this.database.dataSource.query(conversationSql, [where.tenantId, where.integrationId, where.customerId, where.threadId]);
    return rows.length ? conversations.read(rows[0]) : null;
  }

  /** Built on first use: the entity metadata exists once the data source is initialized. */
  private prepared(): NonNullable<ReplyLookups['statements']> {
    if (this.statements) return this.statements;
    const integrations = new RawRows(this.database.dataSource, Integration);
    const conversations = new RawRows(this.database.dataSource, Conversation);
    this.statements = {
      integrations,
      conversations,
      integrationSql: `SELECT ${integrations.selectList} FROM ${integrations.table} WHERE ${integrations.column('replyTokenHash')} = ? LIMIT 1`,
      conversationSql:
        `SELECT ${conversations.selectList} FROM ${conversations.table} ` +
        `WHERE ${conversations.column('tenantId')} = ? AND ${conversations.column('integrationId')} = ? AND ${conversations.column('customerId')} = ? AND ${conversations.column('threadId')} = ? LIMIT 1`,
    };
    return this.statements;
  }
}
