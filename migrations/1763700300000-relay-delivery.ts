import { MigrationInterface, QueryRunner, Table, TableColumn, TableIndex } from 'typeorm';
import { col, index } from './helpers';

/** Inbound delivery: per-message lease and uploaded attachment id, the profile cache stamp, delivery attempts. */
export class RelayDelivery1763700300000 implements MigrationInterface {
  name = 'RelayDelivery1763700300000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn('messages', new TableColumn(col.time('locked_until', true)));
    await queryRunner.addColumn('messages', new TableColumn(col.string('cc_attachment_id', 64, true)));
    await queryRunner.addColumn('conversations', new TableColumn(col.time('profile_checked_at', true)));
    await queryRunner.createIndex('messages', new TableIndex(index('messages', ['integration_id', 'external_id'])));
    await queryRunner.createTable(new Table({
      name: 'delivery_attempts',
      columns: [col.id(), col.ref('tenant_id'), col.ref('integration_id'), col.ref('message_id'), col.int('attempt'),
        col.time('started_at'), col.int('duration_ms'), { name: 'http_status', type: 'int', isNullable: true },
        col.string('outcome', 16), col.text('error')],
      indices: [index('delivery_attempts', ['message_id']), index('delivery_attempts', ['tenant_id', 'integration_id', 'started_at'])],
    }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('delivery_attempts', true);
    await queryRunner.dropIndex('messages', index('messages', ['integration_id', 'external_id']).name!);
    await queryRunner.dropColumn('conversations', 'profile_checked_at');
    await queryRunner.dropColumn('messages', 'cc_attachment_id');
    await queryRunner.dropColumn('messages', 'locked_until');
  }
}
