import { Injectable, OnApplicationShutdown, Optional } from '@nestjs/common';
import { DataSource, EntityManager, EntityTarget, ObjectLiteral, QueryFailedError, Repository } from 'typeorm';
import { AppConfig, DEFAULT_DELIVERY_CONCURRENCY } from '../config/app-config';

/** One parameterised statement (`?` placeholders). */
export type Statement = [sql: string, parameters: unknown[]];

/** A statement's rows (a SELECT), or how many rows it changed. */
export interface RunResult {
  records: Array<Record<string, unknown>>;
  affected: number;
}

/** What `sqliteAtomically` hands its work: one statement, run at once. */
export type SqliteRun = (sql: string, parameters: unknown[]) => RunResult;

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
 * `mysqlTogether`: round trips in flight at once, and works per round trip. While the round trips in flight
 * are at the limit, new works wait and go together in the next one, so a busier process sends fewer, larger
 * round trips. 8 delivered a backlog 15-20 % faster than 4 on MariaDB, with the same end-to-end latency at
 * 500 events/s; 16 was no better (docs/performance.md, round 13).
 */
const MYSQL_TOGETHER_IN_FLIGHT = 8;
const MYSQL_TOGETHER_MAX_WORKS = 64;
/**
 * How often a work runs again after InnoDB chose its transaction as a deadlock's victim, or it waited too long for a
 * lock. Both roll the transaction back (this code rolls back after a lock wait timeout), so running it again is what
 * MySQL advises. Many deliveries and an ingest on the same conversations deadlock now and then; a delivery's record that
 * failed that way would leave its message leased for the lease's 5 minutes, and sent again after that.
 */
const MYSQL_TOGETHER_LOCK_RETRIES = 5;
const TRANSIENT_LOCK_ERRORS = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);

/** What `mysqlTogether` runs for one caller: writes inside the shared transaction, reads after its commit. */
export interface TogetherWork {
  writes: Statement[];
  reads: Statement[];
}

export interface TogetherResults {
  writes: RunResult[];
  reads: RunResult[];
  /**
   * The work ran again after a round trip that failed. That failure may have come after the commit (a read, or the
   * connection dropping before the answer), so the work's writes may already have taken effect once: a conditional
   * write that changed nothing now may be the work's own earlier run.
   */
  repeated?: true;
}

/**
 * The statements of one `batchedTransaction`. On MySQL, writes wait and go with the next read, or with
 * the COMMIT, in one round trip, so a transaction of several statements costs as many round trips as it has
 * reads that depend on one another, plus one.
 */
export interface BatchedStatements {
  /** Statements whose rows are needed now, and the writes waiting before them, in one round trip; each one's rows. */
  reads(statements: Statement[]): Promise<Array<Array<Record<string, unknown>>>>;
  /**
   * A statement whose result is not needed now. A failure shows at the next read or at the commit, and fails the
   * transaction. `changed`, if given, is told how many rows it changed once it has run (on MySQL with the next read
   * or the COMMIT, so possibly only after the work has returned).
   */
  write(sql: string, parameters: unknown[], changed?: (rows: number) => void): Promise<void>;
}

interface WaitingWork {
  work: TogetherWork;
  resolve: (results: TogetherResults) => void;
  reject: (error: unknown) => void;
  /** Runs in a round trip of its own: its group failed, and its own outcome is wanted. */
  alone?: boolean;
  /** Times it has run again alone after a deadlock or a lock wait timeout. */
  lockRetries?: number;
}

/** The part of mysql2's callback API that `runTogether` uses. */
interface MysqlPoolConnection {
  query(sql: string, values: unknown[], callback: (error: Error | null, results: unknown) => void): void;
  release(): void;
  destroy(): void;
}

interface MysqlPool {
  getConnection(callback: (error: Error | null, connection: MysqlPoolConnection) => void): void;
  end(callback: (error: Error | null) => void): void;
}

/** TypeORM's MySQL driver builds its pool's options and the pool this way (protected methods, same package version). */
interface MysqlDriverInternals {
  options: object;
  createConnectionOptions(options: object, credentials: object): object | Promise<object>;
  createPool(options: object): Promise<MysqlPool>;
}

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
  private togetherPool?: Promise<MysqlPool>;
  private readonly togetherConnections: number;
  private readonly mysqlWaiting: WaitingWork[] = [];
  private mysqlRoundTripsInFlight = 0;
  private mysqlStartScheduled = false;
  private roundTripsSent = 0;

  constructor(readonly dataSource: DataSource, @Optional() config?: AppConfig) {
    // At most MYSQL_TOGETHER_IN_FLIGHT round trips of deliveries and one ingest transaction use them at once.
    this.togetherConnections = Math.min(config?.deliveryConcurrency ?? DEFAULT_DELIVERY_CONCURRENCY, MYSQL_TOGETHER_IN_FLIGHT + 1);
  }

  /** Round trips sent on the connections of `runTogether`, `mysqlTogether` and `batchedTransaction` (MySQL): how tests and probes count them. */
  get mysqlRoundTrips(): number {
    return this.roundTripsSent;
  }

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
  async run(sql: string, parameters: unknown[] = []): Promise<RunResult> {
    const runner = this.dataSource.createQueryRunner();
    try {
      const result = await runner.query(sql, parameters, true);
      return { records: (result.records ?? []) as Array<Record<string, unknown>>, affected: result.affected ?? 0 };
    } finally {
      await runner.release();
    }
  }

  /**
   * MySQL only: the statements in one round trip, each one's result in order, so that a transaction's
   * START and COMMIT cost no round trip of their own. A batch that starts a transaction must also end it:
   * when a statement fails, the rest are not run, the transaction is rolled back, and the error is thrown.
   *
   * They go on connections of their own (at most MYSQL_TOGETHER_IN_FLIGHT + 1, and no more than deliveries
   * run at once), the only ones that accept several statements per query, so only the relay's fixed
   * statements can ever run that way.
   */
  async runTogether(statements: Statement[]): Promise<RunResult[]> {
    const sql = statements.map(([text]) => text).join(';\n');
    const parameters = statements.flatMap(([, values]) => values);
    const connection = await this.togetherConnection();
    let results: unknown;
    try {
      this.roundTripsSent++;
      results = await queryOn(connection, sql, parameters);
    } catch (error) {
      if (/^\s*START TRANSACTION/i.test(statements[0][0])) {
        // Not released with its transaction open: the next batch on it would join that transaction.
        await queryOn(connection, 'ROLLBACK', []).then(() => connection.release(), () => connection.destroy());
      } else {
        connection.release();
      }
      throw new QueryFailedError(sql, parameters, error as Error);
    }
    connection.release();
    return runResults(statements.length === 1 ? [results] : (results as unknown[]));
  }

  /**
   * One transaction whose statements are sent in as few round trips as their dependencies allow (see
   * BatchedStatements). On MySQL it runs on the connections of `runTogether`; on SQLite it is a queued
   * TypeORM transaction like `transaction`, one statement at a time. Rolled back when the work or a
   * statement throws; the statement's error is thrown as a QueryFailedError.
   */
  async batchedTransaction<T>(work: (statements: BatchedStatements) => Promise<T>): Promise<T> {
    if (!this.isMysql) {
      return this.transaction(async (manager) => work({
        reads: async (statements) => {
          const rows: Array<Array<Record<string, unknown>>> = [];
          for (const [sql, parameters] of statements) rows.push(await manager.query(sql, parameters));
          return rows;
        },
        write: async (sql, parameters, changed) => {
          const result = await manager.queryRunner!.query(sql, parameters, true);
          changed?.(result.affected ?? 0);
        },
      }));
    }
    const connection = await this.togetherConnection();
    // Writes waiting for the next round trip, each with whoever wants its changed-row count.
    let waiting: Array<[sql: string, parameters: unknown[], changed?: (rows: number) => void]> = [['START TRANSACTION', []]];
    let opened = false;
    const send = async (statements: Statement[]): Promise<RunResult[]> => {
      const told = waiting;
      const batch = [...waiting, ...statements];
      waiting = [];
      opened = true;
      const sql = batch.map(([text]) => text).join(';\n');
      const parameters = batch.flatMap(([, values]) => values);
      let results: unknown;
      try {
        this.roundTripsSent++;
        results = await queryOn(connection, sql, parameters);
      } catch (error) {
        throw new QueryFailedError(sql, parameters, error as Error);
      }
      const all = runResults(batch.length === 1 ? [results] : (results as unknown[]));
      told.forEach(([, , changed], i) => changed?.(all[i].affected));
      return all.slice(batch.length - statements.length);
    };
    try {
      const value = await work({
        reads: async (statements) => (await send(statements)).map((result) => result.records),
        write: async (sql, parameters, changed) => {
          waiting.push([sql, parameters, changed]);
        },
      });
      await send([['COMMIT', []]]);
      connection.release();
      return value;
    } catch (error) {
      if (!opened) connection.release();
      // Not released with its transaction open: the next user of the connection would join it.
      else await queryOn(connection, 'ROLLBACK', []).then(() => connection.release(), () => connection.destroy());
      throw error;
    }
  }

  /**
   * MySQL only: group commit for many callers. The work's writes join one transaction with the writes of
   * the other works handed in during this turn of the event loop, or while earlier round trips were in
   * flight, and its reads run after that transaction's commit, all in one round trip (`runTogether`):
   * one commit and one wake-up of the server for many deliveries instead of one or two each. Resolves with
   * each of the work's statements' results, in order, once committed.
   *
   * When the shared round trip fails (a deadlock, a bad value), it is rolled back and each work is run
   * again alone (first in line, within the round trips in flight), so one work's failure rejects that work
   * only. A work that fails alone because of a deadlock or a lock wait timeout runs again, up to
   * MYSQL_TOGETHER_LOCK_RETRIES times. A failure after the commit (only a read can fail there, or the
   * connection) runs the works' writes a second time: callers' writes must then fail or change nothing (a
   * lease already held, an attempt row's id already there), as the delivery's do, and such an answer says
   * `repeated`, so a caller can tell "held by someone else" from "held since my own first run".
   */
  mysqlTogether(work: TogetherWork): Promise<TogetherResults> {
    if (!this.isMysql) return Promise.reject(new Error('mysqlTogether is for MySQL only'));
    return new Promise<TogetherResults>((resolve, reject) => {
      this.mysqlWaiting.push({ work, resolve, reject });
      this.scheduleMysqlRoundTrips();
    });
  }

  private scheduleMysqlRoundTrips(): void {
    if (this.mysqlStartScheduled || this.mysqlRoundTripsInFlight >= MYSQL_TOGETHER_IN_FLIGHT || !this.mysqlWaiting.length) return;
    this.mysqlStartScheduled = true;
    setImmediate(() => {
      this.mysqlStartScheduled = false;
      while (this.mysqlRoundTripsInFlight < MYSQL_TOGETHER_IN_FLIGHT && this.mysqlWaiting.length) {
        // Works that must run alone are only ever put first in line, so the rest of the line has none.
        const batch = this.mysqlWaiting.splice(0, this.mysqlWaiting[0].alone ? 1 : MYSQL_TOGETHER_MAX_WORKS);
        this.mysqlRoundTripsInFlight++;
        void this.runWorksTogether(batch).finally(() => {
          this.mysqlRoundTripsInFlight--;
          this.scheduleMysqlRoundTrips();
        });
      }
    });
  }

  private async runWorksTogether(batch: WaitingWork[]): Promise<void> {
    const writes = batch.flatMap(({ work }) => work.writes);
    const reads = batch.flatMap(({ work }) => work.reads);
    const statements: Statement[] = writes.length ? [['START TRANSACTION', []], ...writes, ['COMMIT', []], ...reads] : reads;
    if (!statements.length) return batch.forEach(({ resolve }) => resolve({ writes: [], reads: [] }));
    let results: RunResult[];
    try {
      results = await this.runTogether(statements);
    } catch (error) {
      if (batch.length === 1) {
        const [only] = batch;
        const retries = only.lockRetries ?? 0;
        if (!isTransientLockError(error) || retries >= MYSQL_TOGETHER_LOCK_RETRIES) return only.reject(error);
        this.mysqlWaiting.unshift({ ...only, alone: true, lockRetries: retries + 1 });
        return;
      }
      // Each work again by itself, first in line and within the round trips in flight, so a failed group of 64 does not
      // become 64 round trips at once on the pool's few connections.
      this.mysqlWaiting.unshift(...batch.map((waiting) => ({ ...waiting, alone: true })));
      return;
    }
    let write = writes.length ? 1 : 0;
    let read = writes.length ? writes.length + 2 : 0;
    for (const { work, resolve, alone } of batch) {
      const answer: TogetherResults = { writes: results.slice(write, write + work.writes.length), reads: results.slice(read, read + work.reads.length) };
      resolve(alone ? { ...answer, repeated: true } : answer);
      write += work.writes.length;
      read += work.reads.length;
    }
  }

  private async togetherConnection(): Promise<MysqlPoolConnection> {
    if (!this.isMysql) throw new Error('runTogether is for MySQL only');
    this.togetherPool ??= (async () => {
      const driver = this.dataSource.driver as unknown as MysqlDriverInternals;
      const options = await driver.createConnectionOptions(driver.options, driver.options);
      return driver.createPool({ ...options, multipleStatements: true, connectionLimit: this.togetherConnections });
    })();
    const pool = await this.togetherPool.catch((error: Error) => {
      this.togetherPool = undefined;
      throw error;
    });
    return new Promise((resolve, reject) => pool.getConnection((error, connection) => (error ? reject(error) : resolve(connection))));
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
    await this.closeTogetherPool();
    if (this.dataSource.isInitialized) await this.sqliteQueue.then(() => this.dataSource.destroy());
  }

  /** Closes the connections of `runTogether` (the DataSource's own pool is closed with it). */
  async closeTogetherPool(): Promise<void> {
    const pool = await this.togetherPool?.catch(() => undefined);
    this.togetherPool = undefined;
    if (pool) await new Promise<void>((resolve) => pool.end(() => resolve()));
  }
}

function runResults(results: unknown[]): RunResult[] {
  return results.map((result) =>
    Array.isArray(result) ? { records: result as Array<Record<string, unknown>>, affected: 0 } : { records: [], affected: (result as { affectedRows?: number }).affectedRows ?? 0 });
}

/** The database driver's error code of a failed statement (`ER_DUP_ENTRY`, `SQLITE_CONSTRAINT_UNIQUE`, …), if it has one. */
export function driverErrorCode(error: unknown): string | undefined {
  return error instanceof QueryFailedError ? (error.driverError as { code?: string } | undefined)?.code : undefined;
}

/** A deadlock or a lock wait timeout: the transaction was rolled back and may run again. */
function isTransientLockError(error: unknown): boolean {
  return TRANSIENT_LOCK_ERRORS.has(driverErrorCode(error) ?? '');
}

function queryOn(connection: MysqlPoolConnection, sql: string, parameters: unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) => connection.query(sql, parameters, (error, results) => (error ? reject(error) : resolve(results))));
}
