import { Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
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
