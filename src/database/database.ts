import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { DataSource, EntityManager, EntityTarget, ObjectLiteral, Repository } from 'typeorm';

/**
 * The relay's handle on the database. Feature repositories use `repo()` for single statements and
 * `transaction()` for several that must commit together.
 *
 * SQLite runs on one connection: TypeORM does not stop two async transactions from interleaving
 * on it ("cannot start a transaction within a transaction"), so transactions are queued here.
 */
@Injectable()
export class Database implements OnApplicationShutdown {
  private sqliteQueue: Promise<unknown> = Promise.resolve();

  constructor(readonly dataSource: DataSource) {}

  get isMysql(): boolean {
    return this.dataSource.options.type === 'mysql';
  }

  repo<T extends ObjectLiteral>(entity: EntityTarget<T>): Repository<T> {
    return this.dataSource.getRepository(entity);
  }

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (this.isMysql) return this.dataSource.transaction(work);
    const run = this.sqliteQueue.then(() => this.dataSource.transaction(work));
    this.sqliteQueue = run.catch(() => undefined);
    return run;
  }

  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.sqliteQueue.then(() => this.dataSource.destroy());
  }
}
