import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { DataSource, EntityManager, EntityTarget, ObjectLiteral, Repository } from 'typeorm';

/** What `sqliteAtomically` hands its work: one statement, run at once. */
export type SqliteRun = (sql: string, parameters: unknown[]) => { records: Array<Record<string, unknown>>; affected: number };

interface NativeStatement {
  reader: boolean;
  all(...parameters: unknown[]): Array<Record<string, unknown>>;
  run(...parameters: unknown[]): { changes: number };
}

interface NativeSqlite {
  readonly inTransaction: boolean;
  prepare(sql: string): NativeStatement;
  pragma(sql: string): unknown;
  transaction<A extends unknown[], R>(work: (...args: A) => R): (...args: A) => R;
}

const NATIVE_STATEMENTS_MAX = 200;

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
  private together: Array<{ work: (run: SqliteRun) => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void }> = [];
  private native?: { connection: NativeSqlite; inTransaction: <T>(work: (run: SqliteRun) => T) => T };

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

  /**
   * SQLite only: the work's statements in one transaction on the native better-sqlite3 connection,
   * synchronously, so one commit (one write to the WAL) covers them all and nothing else runs in
   * between. Like `run`, it becomes part of a TypeORM transaction that is open at that moment
   * (better-sqlite3 nests it as a savepoint). Throws what the statement threw; nothing is kept then.
   */
  sqliteAtomically<T>(work: (run: SqliteRun) => T): T {
    const connection = this.nativeConnection();
    if (this.native?.connection !== connection) this.native = this.nativeSqlite(connection);
    return this.native.inTransaction(work);
  }

  /** SQLite only: a PRAGMA on the relay's connection (e.g. `wal_autocheckpoint = 1000`). */
  sqlitePragma(pragma: string): unknown {
    return this.nativeConnection().pragma(pragma);
  }

  private nativeConnection(): NativeSqlite {
    if (this.isMysql) throw new Error('The native SQLite connection is for SQLite only');
    return (this.dataSource.driver as unknown as { databaseConnection: NativeSqlite }).databaseConnection;
  }

  /**
   * SQLite only: like `sqliteAtomically`, but the work shares one transaction, and so one commit, with
   * the other work handed in during this turn of the event loop (group commit). Each work runs in a
   * savepoint of its own, so one that throws undoes only itself. Resolves once the commit is done, and
   * never inside a TypeORM transaction: while one is open, the commit waits for it to end (so a
   * transaction's own work must not await it).
   */
  sqliteTogether<T>(work: (run: SqliteRun) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (!this.together.length) setImmediate(() => this.commitTogether());
      this.together.push({ work, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  private commitTogether(): void {
    // A TypeORM transaction open across turns (one that awaits more than its statements) would take this work
    // in, and could roll it back after its promises resolved: it goes in the turn after that one ends.
    if (this.nativeConnection().inTransaction) {
      setImmediate(() => this.commitTogether());
      return;
    }
    const batch = this.together.splice(0);
    const outcomes: Array<{ value?: unknown; error?: unknown }> = [];
    try {
      this.sqliteAtomically(() => {
        for (const { work } of batch) {
          try {
            outcomes.push({ value: this.sqliteAtomically(work) });
          } catch (error) {
            outcomes.push({ error: error ?? new Error('failed') });
          }
        }
      });
    } catch (error) {
      for (const { reject } of batch) reject(error);
      return;
    }
    batch.forEach(({ resolve, reject }, i) => (outcomes[i].error !== undefined ? reject(outcomes[i].error) : resolve(outcomes[i].value)));
  }

  /** Prepared statements are kept per SQL text, as TypeORM's driver does. */
  private nativeSqlite(connection: NativeSqlite): NonNullable<Database['native']> {
    const statements = new Map<string, NativeStatement>();
    const run: SqliteRun = (sql, parameters) => {
      let statement = statements.get(sql);
      if (!statement) {
        if (statements.size >= NATIVE_STATEMENTS_MAX) statements.clear();
        statement = connection.prepare(sql);
        statements.set(sql, statement);
      }
      return statement.reader ? { records: statement.all(...parameters), affected: 0 } : { records: [], affected: statement.run(...parameters).changes };
    };
    const transaction = connection.transaction((work: (run: SqliteRun) => unknown) => work(run));
    return { connection, inTransaction: <T>(work: (run: SqliteRun) => T) => transaction(work) as T };
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
