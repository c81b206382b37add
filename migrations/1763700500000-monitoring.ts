import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { col, index } from './helpers';

/** Monitoring: alert incidents (one e-mail per incident) and the tenant's audit log. */
export class Monitoring1763700500000 implements MigrationInterface {
  name = 'Monitoring1763700500000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(new Table({
      name: 'alert_incidents',
      columns: [col.id(), col.ref('tenant_id'), col.ref('integration_id'), col.string('kind', 32), col.string('open_key', 80, true),
        col.text('reason'), col.time('opened_at'), col.time('notified_at', true), col.time('closed_at', true)],
      indices: [index('alert_incidents', ['open_key'], true), index('alert_incidents', ['integration_id', 'opened_at'])],
    }));
    await queryRunner.createTable(new Table({
      name: 'audit_entries',
      columns: [col.id(), col.ref('tenant_id'), col.time('at'), col.string('actor', 254), col.string('action', 48),
        col.ref('integration_id', true), col.string('integration_name', 100, true), col.text('details')],
      indices: [index('audit_entries', ['tenant_id', 'at'])],
    }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('audit_entries', true);
    await queryRunner.dropTable('alert_incidents', true);
  }
}
