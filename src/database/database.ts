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

  /** One raw statement (`?` placeholders, snake_case columns) outside any transaction: its rows, or how many it changed. */
  async run(sql: string, parameters: unknown[] = []): Promise<{ records: Array<Record<string, unknown>>; affected: number }> {
    const runner = this.dataSource.createQueryRunner();
    try {
      const result = await runner.query(sql, parameters, true);
      return { records: (result.records ?? []) as Array<Record<string, unknown>>, affected: result.affected ?? 0 };
    } finally {
      await runner.release();
    }
  }

  /**
   * One writing statement in autocommit that must not join a transaction in progress; resolves with
   * the number of rows it changed. On SQLite it waits its turn behind queued transactions: run
   * alongside one, it would become part of it.
   */
  statement(sql: string, parameters: unknown[] = []): Promise<number> {
    if (this.isMysql) return this.run(sql, parameters).then((result) => result.affected);
    const queued = this.sqliteQueue.then(() => this.run(sql, parameters)).then((result) => result.affected);
    this.sqliteQueue = queued.catch(() => undefined);
    return queued;
  }

  /** A timestamp as a raw statement's parameter: mysql2 binds Dates, SQLite stores TypeORM's UTC text ("YYYY-MM-DD HH:MM:SS.SSS"). */
  time(date: Date): Date | string {
    return this.isMysql ? date : date.toISOString().replace('T', ' ').slice(0, 23);
  }

  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.sqliteQueue.then(() => this.dataSource.destroy());
  }
}
