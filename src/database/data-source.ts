import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, DataSourceOptions } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { parseMysqlUrl } from '../config/mysql-url';
import { migrations } from '../../migrations';
import { entities } from './entities';

/** The MySQL pool of everything but the ingest's and the delivery store's statements (see dataSourceOptions). */
const MYSQL_POOL_CONNECTIONS = 16;

/**
 * SQLite file when DATABASE_URL is unset, MySQL/MariaDB through mysql2 otherwise (over TCP, or the server's Unix
 * socket when the URL names one: `?socketPath=/run/mysqld/mysqld.sock`). On MySQL the ingest's
 * and the delivery store's statements have up to 9 connections of their own, which take several statements
 * per round trip (`Database.runTogether`, `mysqlTogether`, `batchedTransaction`).
 */
export function dataSourceOptions(config: Pick<AppConfig, 'database'>): DataSourceOptions {
  const common = { entities, migrations, migrationsTableName: 'schema_migrations', logging: false as const };
  if (config.database.kind === 'mysql') {
    // Not TypeORM's `url`: its parser drops the query, so a socketPath would be lost (and `?` without a database breaks it).
    const server = parseMysqlUrl(config.database.url);
    return {
      ...common,
      type: 'mysql',
      connectorPackage: 'mysql2',
      host: server.host,
      port: server.port,
      username: server.user,
      password: server.password,
      database: server.database,
      socketPath: server.socketPath,
      charset: 'utf8mb4_unicode_ci',
      timezone: 'Z',
      supportBigNumbers: true,
      bigNumberStrings: true,
      poolSize: MYSQL_POOL_CONNECTIONS,
      extra: { connectionLimit: MYSQL_POOL_CONNECTIONS, enableKeepAlive: true, connectTimeout: 5000 },
    };
  }
  mkdirSync(dirname(config.database.file), { recursive: true });
  return {
    ...common,
    type: 'better-sqlite3',
    database: config.database.file,
    enableWAL: true,
    prepareDatabase: (db: { pragma(sql: string): unknown }) => {
      db.pragma('busy_timeout = 5000');
      db.pragma('synchronous = NORMAL');
    },
  };
}

export function createDataSource(config: Parameters<typeof dataSourceOptions>[0]): DataSource {
  return new DataSource(dataSourceOptions(config));
}
