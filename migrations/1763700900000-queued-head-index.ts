import { MigrationInterface, QueryRunner, TableIndex } from 'typeorm';
import { filteredIndex } from './helpers';

/**
 * Before each delivery the relay looks up the conversation's oldest queued inbound message (the head).
 * Through ix_messages_conversation_id_occurred_at_part that lookup read the conversation's messages from
 * its first one on, delivered ones included, so it grew with the conversation's history (SQLite, 5,000
 * delivered messages before the head: 0.36 ms a lookup; 50: 0.01 ms). This index holds the queued inbound
 * messages in delivery order, so the head is its first entry whatever came before. MySQL's delivery statements
 * name it (`FORCE INDEX`, src/relay/delivery-store.ts): a later migration that renames or drops it must change them.
 */
export class QueuedHeadIndex1763700900000 implements MigrationInterface {
  name = 'QueuedHeadIndex1763700900000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createIndex('messages', new TableIndex(queuedHeadIndex(queryRunner)));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('messages', queuedHeadIndex(queryRunner).name!);
  }
}

function queuedHeadIndex(queryRunner: QueryRunner) {
  return filteredIndex(queryRunner, 'ix_messages_queued_in_head', { direction: 'in', status: 'queued' }, ['conversation_id', 'occurred_at', 'part', 'id']);
}
