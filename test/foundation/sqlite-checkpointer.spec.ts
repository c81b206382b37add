import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../src/config/app-config';
import { Database } from '../../src/database/database';
import { SqliteCheckpointer } from '../../src/database/sqlite-checkpointer';

/** The WAL is copied into the database file by a thread of its own, with a fallback when it stops. */
describe('SQLite checkpoint thread', () => {
  let dir: string;
  let file: string;
  let dataSource: DataSource;
  let checkpointer: SqliteCheckpointer;

  const autocheckpoint = (): number => (dataSource.driver as unknown as { databaseConnection: { pragma(sql: string, options: { simple: true }): number } })
    .databaseConnection.pragma('wal_autocheckpoint', { simple: true });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'relay-checkpoint-'));
    file = join(dir, 'relay.sqlite');
    dataSource = new DataSource({ type: 'better-sqlite3', database: file, enableWAL: true });
    await dataSource.initialize();
    await dataSource.query('CREATE TABLE pages (id INTEGER PRIMARY KEY, bytes BLOB NOT NULL)');
    checkpointer = new SqliteCheckpointer({ database: { kind: 'sqlite', file } } as AppConfig, new Database(dataSource));
    checkpointer.onModuleInit();
  });

  afterEach(async () => {
    await checkpointer.onApplicationShutdown();
    await dataSource.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies committed pages from the WAL into the database file, while the relay\'s connection only checkpoints past 20,000 pages', async () => {
    expect(checkpointer.running).toBe(true);
    expect(autocheckpoint()).toBe(20_000);
    const before = statSync(file).size;
    const rows = Array.from({ length: 200 }, () => Buffer.alloc(16_384, 7)); // about 800 pages, 3 MB
    for (const bytes of rows) await dataSource.query('INSERT INTO pages (bytes) VALUES (?)', [bytes]);

    const deadline = Date.now() + 5_000;
    while (statSync(file).size < before + 3_000_000 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(statSync(file).size).toBeGreaterThan(before + 3_000_000);
    const [{ count }] = await dataSource.query('SELECT COUNT(*) AS count FROM pages');
    expect(count).toBe(200);
  });

  it('hands checkpoints back to the relay\'s connection when the thread dies', async () => {
    await (checkpointer as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    const deadline = Date.now() + 2_000;
    while (checkpointer.running && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(checkpointer.running).toBe(false);
    expect(autocheckpoint()).toBe(1000);
  });

  it('does not keep the process alive by itself (one whose relay failed to start must still end)', async () => {
    // getActiveResourcesInfo lists what keeps the event loop alive; the thread and its message port must not.
    const threadHandles = () => process.getActiveResourcesInfo().filter((type) => type === 'MessagePort' || type === 'Worker').length;
    const second = new SqliteCheckpointer({ database: { kind: 'sqlite', file } } as AppConfig, new Database(dataSource));
    const before = threadHandles();
    second.onModuleInit();
    const running = threadHandles();
    await second.onApplicationShutdown();
    expect(running).toBe(before);
  });

  it('does nothing on MySQL', () => {
    const onMysql = new SqliteCheckpointer({ database: { kind: 'mysql', url: 'mysql://x' } } as AppConfig, new Database(dataSource));
    onMysql.onModuleInit();
    expect(onMysql.running).toBe(false);
  });
});
