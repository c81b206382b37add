import { MigrationInterface, QueryRunner, TableColumn, TableIndex } from 'typeorm';
import { col, index } from './helpers';

/**
 * Availability (schedule + after-hours message as JSON on the integration, the last after-hours send
 * per conversation) and the indexes of the history and deliveries views.
 */
export class Availability1763700600000 implements MigrationInterface {
  name = 'Availability1763700600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn('integrations', new TableColumn(col.text('availability')));
    await queryRunner.addColumn('conversations', new TableColumn(col.time('after_hours_sent_at', true)));
    await queryRunner.createIndex('conversations', new TableIndex(index('conversations', ['integration_id', 'updated_at'])));
    await queryRunner.createIndex('messages', new TableIndex(index('messages', ['integration_id', 'status', 'direction'])));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('messages', index('messages', ['integration_id', 'status', 'direction']).name!);
    await queryRunner.dropIndex('conversations', index('conversations', ['integration_id', 'updated_at']).name!);
    await queryRunner.dropColumn('conversations', 'after_hours_sent_at');
    await queryRunner.dropColumn('integrations', 'availability');
  }
}
