import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { bytes, col, index } from './helpers';

/**
 * The webhook inbox: each verified webhook POST's exact bytes, committed before Facebook gets its 200
 * and deleted in the same transaction that turns it into messages.
 */
export class WebhookInbox1763700700000 implements MigrationInterface {
  name = 'WebhookInbox1763700700000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(new Table({
      name: 'webhook_inbox',
      columns: [
        col.id(),
        col.time('received_at'),
        bytes(queryRunner, 'body'),
        col.int('attempts'),
        col.string('last_error', 500, true),
        col.time('retry_at', true),
      ],
      indices: [index('webhook_inbox', ['received_at'])],
    }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('webhook_inbox');
  }
}
