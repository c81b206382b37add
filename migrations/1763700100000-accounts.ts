import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { col, index } from './helpers';

/** Sessions, e-mailed codes and throttle counters: in the database so every relay process shares them. */
export class Accounts1763700100000 implements MigrationInterface {
  name = 'Accounts1763700100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(new Table({
      name: 'sessions',
      columns: [col.id(), col.ref('tenant_id'), col.string('token_hash', 64), col.string('csrf_hash', 64),
        col.time('expires_at'), col.time('created_at'), col.time('last_seen_at')],
      indices: [index('sessions', ['token_hash'], true), index('sessions', ['tenant_id']), index('sessions', ['expires_at'])],
    }));
    await queryRunner.createTable(new Table({
      name: 'verification_codes',
      columns: [col.id(), col.ref('tenant_id'), col.string('purpose', 16), col.string('code_hash', 64),
        col.int('attempts'), col.time('expires_at'), col.time('created_at')],
      indices: [index('verification_codes', ['tenant_id', 'purpose'], true), index('verification_codes', ['expires_at'])],
    }));
    await queryRunner.createTable(new Table({
      name: 'throttle_counters',
      columns: [{ ...col.string('counter_key', 191), isPrimary: true }, col.int('hits'), col.time('resets_at')],
      indices: [index('throttle_counters', ['resets_at'])],
    }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('throttle_counters');
    await queryRunner.dropTable('verification_codes');
    await queryRunner.dropTable('sessions');
  }
}
