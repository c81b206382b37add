import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { migrations } from '../../migrations';
import { createDataSource } from '../../src/database/data-source';
import { runMigrations } from '../../src/database/migrate';
import { mysqlBackendAvailable } from '../support/backends';
import { createScratchMysqlDatabase } from '../support/test-database';

const databases: Array<[string, () => Promise<{ dataSource: DataSource; drop: () => Promise<void> }>]> = [
  ['sqlite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-migrate-'));
    return { dataSource: createDataSource({ database: { kind: 'sqlite', file: join(dir, 'relay.sqlite') } }), drop: async () => undefined };
  }],
];
if (mysqlBackendAvailable()) {
  databases.push(['mysql', async () => {
    const scratch = await createScratchMysqlDatabase(process.env.TEST_DATABASE_URL!);
    return { dataSource: createDataSource({ database: { kind: 'mysql', url: scratch.url } }), drop: scratch.drop };
  }]);
}

describe.each(databases)('migrations on %s', (_name, open) => {
  let dataSource: DataSource;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    ({ dataSource, drop } = await open());
    await dataSource.initialize();
  });
  afterAll(async () => {
    await dataSource.destroy();
    await drop();
  });

  it('brings an empty database up to the latest schema, then does nothing on a second run', async () => {
    const applied = await runMigrations(dataSource);
    expect(applied).toEqual(migrations.map((m) => m.name));
    expect(await runMigrations(dataSource)).toEqual([]);
    for (const table of ['tenants', 'facebook_identities', 'integrations', 'conversations', 'messages', 'blobs']) {
      expect(await dataSource.createQueryRunner().hasTable(table)).toBe(true);
    }
  });

  it('keeps tenant ids on tenant-owned tables and a unique dedup key on messages', async () => {
    const runner = dataSource.createQueryRunner();
    for (const table of ['facebook_identities', 'integrations', 'conversations', 'messages', 'blobs']) {
      expect(await runner.hasColumn(table, 'tenant_id')).toBe(true);
    }
    const messages = await runner.getTable('messages');
    const dedup = messages!.indices.find((index) => index.columnNames.join() === 'dedup_key');
    expect(dedup?.isUnique).toBe(true);
    await runner.release();
  });

  it('stores megabyte blobs', async () => {
    const bytes = Buffer.alloc(3 * 1024 * 1024, 7);
    await dataSource.query(
      'INSERT INTO blobs (id, tenant_id, content_type, filename, size, sha256, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ['b1', 't1', 'image/png', 'a.png', bytes.length, 'x', bytes, '2026-01-01 00:00:00.000'],
    );
    const [row] = await dataSource.query('SELECT data FROM blobs WHERE id = ?', ['b1']);
    expect(Buffer.from(row.data).length).toBe(bytes.length);
  });

  it('can be rolled back to empty and applied again', async () => {
    for (let i = 0; i < migrations.length; i++) await dataSource.undoLastMigration({ transaction: 'none' });
    expect(await dataSource.createQueryRunner().hasTable('messages')).toBe(false);
    expect((await runMigrations(dataSource)).length).toBe(migrations.length);
  });
});
