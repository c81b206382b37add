import { MigrationInterface, QueryRunner, TableIndex } from 'typeorm';
import { filteredIndex, isMysql } from './helpers';

/**
 * A read or delivery receipt (a watermark) marks the conversation's outbound messages sent before it. Through
 * ix_messages_conversation_id_occurred_at_part that statement read every message of the conversation up to the
 * watermark, inbound and already read ones included, so each receipt grew with the conversation's history.
 * On SQLite this partial index holds only the outbound messages not read yet, so a receipt reads those alone.
 * MySQL needs no index of its own: there ix_messages_queued_in_head is led by direction, status,
 * conversation_id, occurred_at (MySQL has no partial indexes), which bounds this statement the same way.
 */
export class UnreadOutboundIndex1763701000000 implements MigrationInterface {
  name = 'UnreadOutboundIndex1763701000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (isMysql(queryRunner)) return;
    await queryRunner.createIndex('messages', new TableIndex(unreadOutboundIndex(queryRunner)));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (isMysql(queryRunner)) return;
    await queryRunner.dropIndex('messages', unreadOutboundIndex(queryRunner).name!);
  }
}

function unreadOutboundIndex(queryRunner: QueryRunner) {
  return filteredIndex(queryRunner, 'ix_messages_out_unread', { direction: 'out', status: ['sending', 'sent', 'delivered'] }, ['conversation_id', 'occurred_at']);
}
