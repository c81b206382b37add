import { MigrationInterface, QueryRunner, TableIndex } from 'typeorm';
import { index } from './helpers';

/**
 * Every lookup of a message by Facebook's id also names its integration, which
 * ix_messages_integration_id_external_id covers: the index on external_id alone only made each
 * message insert and update write one more B-tree.
 */
export class LeanMessageIndexes1763700800000 implements MigrationInterface {
  name = 'LeanMessageIndexes1763700800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('messages', index('messages', ['external_id']).name!);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createIndex('messages', new TableIndex(index('messages', ['external_id'])));
  }
}
