import { Injectable } from '@nestjs/common';
import { Database } from '../database/database';
import { RawRows } from '../database/raw-rows';
import { Integration } from '../integrations/integration.entity';
import { Conversation } from '../relay/conversation.entity';
import type { ReplyRecipient } from './reply.dto';

/** The conversation read with the integration, for the recipient it was read for. */
export interface PrefetchedConversation extends ReplyRecipient {
  conversation: Conversation | null;
}

/**
 * The rows a reply reads, as raw statements (read on every reply). Not cached: a rotated token, a
 * disabled integration or a newer customer message counts from the next reply on, in every process.
 */
@Injectable()
export class ReplyLookups {
  private statements?: { integrations: RawRows<Integration>; conversations: RawRows<Conversation>; conversationSql: string; integrationWithConversationSql: string };

  constructor(private readonly database: Database) {}

  async conversation(where: { tenantId: string; integrationId: string } & ReplyRecipient): Promise<Conversation | null> {
    const { conversations, conversationSql } = this.prepared();
    const rows: Array<Record<string, unknown>> = await this.database.dataSource.query(conversationSql, [where.tenantId, where.integrationId, where.customerId, where.threadId]);
    return rows.length ? conversations.read(rows[0]) : null;
  }

  /**
   * The integration of a reply token (sha256 hex) and its conversation with the recipient, in one
   * statement: a round trip less per reply than reading them one after the other.
   */
  async integrationWithConversation(tokenHash: string, recipient: ReplyRecipient): Promise<{ integration: Integration; prefetched: PrefetchedConversation } | null> {
    const { integrations, conversations, integrationWithConversationSql } = this.prepared();
    const rows: Array<Record<string, unknown>> = await this.database.dataSource.query(integrationWithConversationSql, [recipient.customerId, recipient.threadId, tokenHash]);
    if (!rows.length) return null;
    // Without a conversation, the LEFT JOIN's columns are all NULL, its primary key too.
    const joined = conversations.read(rows[0], 'c_');
    return { integration: integrations.read(rows[0], 'i_'), prefetched: { ...recipient, conversation: joined.id ? joined : null } };
  }

  /** Built on first use: the entity metadata exists once the data source is initialized. */
  private prepared(): NonNullable<ReplyLookups['statements']> {
    if (this.statements) return this.statements;
    const integrations = new RawRows(this.database.dataSource, Integration);
    const conversations = new RawRows(this.database.dataSource, Conversation);
    const i = (property: keyof Integration & string) => `i.${integrations.column(property)}`;
    const c = (property: keyof Conversation & string) => `c.${conversations.column(property)}`;
    this.statements = {
      integrations,
      conversations,
      conversationSql:
        `SELECT ${conversations.selectList} FROM ${conversations.table} ` +
        `WHERE ${conversations.column('tenantId')} = ? AND ${conversations.column('integrationId')} = ? AND ${conversations.column('customerId')} = ? AND ${conversations.column('threadId')} = ? LIMIT 1`,
      integrationWithConversationSql:
        `SELECT ${integrations.prefixedSelectList('i', 'i_')}, ${conversations.prefixedSelectList('c', 'c_')} FROM ${integrations.table} i ` +
        `LEFT JOIN ${conversations.table} c ON ${c('integrationId')} = ${i('id')} AND ${c('tenantId')} = ${i('tenantId')} ` +
        `AND ${c('customerId')} = ? AND ${c('threadId')} = ? ` +
        `WHERE ${i('replyTokenHash')} = ? LIMIT 1`,
    };
    return this.statements;
  }
}
