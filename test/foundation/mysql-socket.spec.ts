import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/app-config';
import { createDataSource } from '../../src/database/data-source';
import { Database } from '../../src/database/database';
import { runMigrations } from '../../src/database/migrate';
import { testMysqlSocket } from '../support/backends';
import { createScratchMysqlDatabase } from '../support/test-database';

const SOCKET = testMysqlSocket();
const baseUrl = process.env.TEST_DATABASE_URL;
const skipped = !baseUrl ? 'TEST_DATABASE_URL not set' : !existsSync(SOCKET) ? `no MySQL/MariaDB socket at ${SOCKET} (TEST_MYSQL_SOCKET names another)` : undefined;

/** TEST_DATABASE_URL's credentials and database, through the socket instead of TCP. */
function throughSocket(url: string, socketPath: string): string {
  const socketUrl = new URL(url);
  socketUrl.hostname = 'localhost';
  socketUrl.port = '';
  socketUrl.searchParams.set('socketPath', socketPath);
  return socketUrl.toString();
}

/** The client's address as the server sees it: `localhost` through the socket, `host:port` over TCP. */
const CLIENT_HOST = 'SELECT HOST AS host, DATABASE() AS db FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()';

const name = 'DATABASE_URL naming a Unix socket';
if (skipped) process.stdout.write(`[mysql socket] skipped "${name}": ${skipped}\n`);

(skipped ? describe.skip : describe)(skipped ? `${name} (skipped: ${skipped})` : name, () => {
  let scratch: { url: string; drop: () => Promise<void> };
  let dataSource: DataSource;
  let database: Database | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'relay-socket-'));

  beforeAll(async () => {
    scratch = await createScratchMysqlDatabase(throughSocket(baseUrl!, SOCKET));
  });

  afterAll(async () => {
    await database?.closeTogetherPool();
    if (dataSource?.isInitialized) await dataSource.destroy();
    await scratch?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('migrates and queries through the socket, on the main pool and on the pool of several statements per round trip', async () => {
    expect(new URL(scratch.url).searchParams.get('socketPath')).toBe(SOCKET);
    const config = loadConfig({ DATABASE_URL: scratch.url, DATA_DIR: dataDir, ENCRYPTION_KEY: randomBytes(32).toString('base64'), PORT: '1' });
    dataSource = createDataSource(config);
    await dataSource.initialize();
    await runMigrations(dataSource);
    const db = new URL(scratch.url).pathname.slice(1);

    const [main] = await dataSource.query(CLIENT_HOST);
    expect(main).toEqual({ host: 'localhost', db });
    database = new Database(dataSource, config);
    const [together] = (await database.runTogether([[CLIENT_HOST, []]]))[0].records;
    expect(together).toEqual({ host: 'localhost', db });
    expect(await dataSource.query('SELECT COUNT(*) AS applied FROM schema_migrations')).toEqual([{ applied: expect.anything() }]);
  });

  it('fails on a socket that is not there rather than falling back to TCP', async () => {
    const url = new URL(scratch.url);
    url.hostname = '127.0.0.1';
    url.searchParams.set('socketPath', join(dataDir, 'missing.sock'));
    const missing = createDataSource({ database: { kind: 'mysql', url: url.toString() } });
    try {
      await expect(missing.initialize()).rejects.toThrow(/ENOENT.*missing\.sock/);
    } finally {
      if (missing.isInitialized) await missing.destroy();
    }
  });
});
