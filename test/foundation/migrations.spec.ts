import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { migrations } from '../../migrations';
import { createDataSource } from '../../src/database/data-source';
import { runMigrations } from '../../src/database/migrate';
import { Database } from '../../src/database/database';
import { DeliveryStore, HEAD_OF_CONVERSATION } from '../../src/relay/delivery-store';
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

  it("finds a conversation's next message to deliver without reading the ones delivered before it, alone and with the conversation", async () => {
    // A conversation with a long delivered history, and a backlog queued in other conversations: through
    // the conversation's index or through the status index, the lookup read about 3,000 rows.
    const conversationId = 'c-long-history';
    const delivered = 3000;
    const rows: unknown[][] = [];
    const message = (id: string, conversation: string, status: string, at: number) =>
      [id, 't1', 'i1', conversation, 'in', 'text', 'message', status, 1, 1_700_000_000_000 + at, 0, '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000'];
    for (let i = 0; i < delivered; i++) rows.push(message(`m${String(i).padStart(6, '0')}`, conversationId, 'delivered', i));
    rows.push(message('m-head', conversationId, 'queued', delivered));
    for (let i = 0; i < 3000; i++) rows.push(message(`o${String(i).padStart(6, '0')}`, `c-other-${i}`, 'queued', i));
    const columns = 'id, tenant_id, integration_id, conversation_id, direction, kind, event, status, attempts, occurred_at, part, created_at, updated_at';
    for (let start = 0; start < rows.length; start += 500) {
      const slice = rows.slice(start, start + 500);
      await dataSource.query(`INSERT INTO messages (${columns}) VALUES ${slice.map((row) => `(${row.map(() => '?').join(', ')})`).join(', ')}`, slice.flat());
    }
    const runner = dataSource.createQueryRunner();
    try {
      if (dataSource.options.type === 'mysql') {
        // Rows read past the first, in index order or by scanning; one connection, so its session counters count this statement alone.
        const readNext = async () => (await runner.query("SHOW SESSION STATUS WHERE Variable_name IN ('Handler_read_next', 'Handler_read_prev', 'Handler_read_rnd_next')"))
          .reduce((sum: number, row: { Value: string }) => sum + Number(row.Value), 0);
        const before = await readNext();
        const [head] = await runner.query(`SELECT id ${HEAD_OF_CONVERSATION}`, [conversationId]);
        expect(head.id).toBe('m-head');
        expect((await readNext()) - before).toBeLessThan(10);

        // A delivery job's first statement reads the head with the conversation and its integration, through the same index.
        await runner.query(
          `INSERT INTO integrations (id, tenant_id, name, page_id, page_name, openchannel_url_enc, reply_token_hash, reply_token_enc, wall_posts, enabled, status,
             human_agent_tag, forward_reactions, forward_edits, page_subscribed, created_at, updated_at)
           VALUES ('i1', 't1', 'Shop', 'p1', 'Shop', 'url', 'hash', 'token', 0, 1, 'active', 0, 0, 0, 1, '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000')`,
        );
        const conversationRow = (id: string) => [id, 't1', 'i1', 'messenger', `psid-${id}`, '', '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000'];
        await runner.query(
          `INSERT INTO conversations (id, tenant_id, integration_id, channel, customer_id, thread_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?, ?)`,
          [...conversationRow(conversationId), ...conversationRow('c-none-queued')],
        );
        const store = new DeliveryStore(new Database(dataSource));
        const beforeJob = await readNext();
        const loaded = await store.conversationForDelivery(conversationId);
        expect((await readNext()) - beforeJob).toBeLessThan(10);
        expect(loaded).toMatchObject({ conversation: { id: conversationId }, integration: { id: 'i1', enabled: true }, head: { id: 'm-head', status: 'queued', occurredAt: 1_700_000_003_000 } });
        expect((await store.conversationForDelivery('c-none-queued'))?.head).toBeNull();
      } else {
        const [head] = await runner.query(`SELECT id ${HEAD_OF_CONVERSATION}`, [conversationId]);
        expect(head.id).toBe('m-head');
        const plan = (await runner.query(`EXPLAIN QUERY PLAN SELECT id ${HEAD_OF_CONVERSATION}`, [conversationId])).map((step: { detail: string }) => step.detail).join('\n');
        expect(plan).toMatch(/USING (COVERING )?INDEX ix_messages_queued_in_head \(conversation_id=\?\)/);
        expect(plan).not.toContain('TEMP B-TREE'); // no sort: the index is in delivery order
      }
    } finally {
      await runner.release();
      await dataSource.query('DELETE FROM messages');
      await dataSource.query('DELETE FROM conversations');
      await dataSource.query('DELETE FROM integrations');
    }
  });

  it('can be rolled back to empty and applied again', async () => {
    for (let i = 0; i < migrations.length; i++) await dataSource.undoLastMigration({ transaction: 'none' });
    expect(await dataSource.createQueryRunner().hasTable('messages')).toBe(false);
    expect((await runMigrations(dataSource)).length).toBe(migrations.length);
  });
});
