import { Global, Logger, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { unusedMysqlUrlParameters } from '../config/mysql-url';
import { createDataSource } from './data-source';
import { Database } from './database';
import { runMigrations } from './migrate';
import { SqliteCheckpointer } from './sqlite-checkpointer';

/** Connects, brings the schema up to date, and offers Database (and the DataSource) to every module; on SQLite, checkpoints run on a thread of their own. */
@Global()
@Module({
  providers: [
    {
      provide: DataSource,
      inject: [AppConfig],
      useFactory: async (config: AppConfig) => {
        const unused = config.database.kind === 'mysql' ? unusedMysqlUrlParameters(config.database.url) : [];
        if (unused.length) {
          new Logger('Database').warn(`DATABASE_URL: the relay does not use ${unused.map((name) => `"${name}"`).join(', ')} (it sets the character set utf8mb4, the time zone UTC and its pools itself; of the query, only socketPath counts)`);
        }
        const dataSource = createDataSource(config);
        await dataSource.initialize();
        await runMigrations(dataSource);
        return dataSource;
      },
    },
    Database,
    SqliteCheckpointer,
  ],
  exports: [DataSource, Database],
})
export class DatabaseModule {}
