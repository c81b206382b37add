import { randomBytes } from 'node:crypto';
import { createConnection } from 'mysql2/promise';
import { parseMysqlUrl } from '../../src/config/mysql-url';

/**
 * A throw-away MySQL database per test app, so suites (and parallel jest workers) never share state.
 * Returns its URL (the base URL's server, credentials and socketPath, with the scratch database) and a drop function.
 */
export async function createScratchMysqlDatabase(baseUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `relay_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = await createConnection(parseMysqlUrl(baseUrl));
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const connection = await createConnection(parseMysqlUrl(baseUrl));
      await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await connection.end();
    },
  };
}
