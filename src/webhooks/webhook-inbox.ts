import { Injectable } from '@nestjs/common';
import { newId } from '../common/ids';
import { BatchedStatements, Database } from '../database/database';

/** A stored webhook POST, as the processor reads it back from the table. */
export interface InboxRow {
  id: string;
  body: Buffer;
  /** Tries so far, this one included. */
  attempts: number;
}

interface PendingAppend {
  id: string;
  body: Buffer;
  leaseUntil: Date | null;
  resolve: (id: string) => void;
  reject: (error: unknown) => void;
}

/** Rows per INSERT, and bytes: MySQL's max_allowed_packet is 16 MB by default (a larger single POST still goes alone). */
const MAX_ROWS_PER_INSERT = 500;
const MAX_BYTES_PER_INSERT = 4 * 1024 * 1024;
const MYSQL_INSERTS_IN_FLIGHT = 4;
const DELETE_CHUNK = 500;
const INSERT_ONE = 'INSERT INTO webhook_inbox (id, received_at, body, attempts, retry_at) VALUES (?, ?, ?, 0, ?)';

/**
 * The `webhook_inbox` table: the exact bytes of every verified webhook POST, written before Facebook
 * gets its 200 and deleted by the transaction that turns them into messages (IngestService).
 *
 * `retry_at` is a lease: a row is free for any process once it is NULL or past. The process that
 * received a POST and works on it from memory writes it leased; a row that keeps failing is leased
 * until its next try.
 *
 * Appends are group-committed, and each POST's promise settles only when its row has committed. On
 * MySQL, POSTs whose bodies arrive in the same turn of the event loop, or while an INSERT runs, go
 * together into the next multi-row INSERT. On SQLite each row is one prepared INSERT in the commit
 * that everything written in the same turn shares (`Database.sqliteTogether`).
 */
@Injectable()
export class WebhookInbox {
  private readonly waiting: PendingAppend[] = [];
  private insertsInFlight = 0;
  private flushScheduled = false;

  constructor(private readonly database: Database) {}

  /** Stores one POST's body, leased to this process until `leaseUntil` (null: free for any process); resolves with its id once committed. */
  append(body: Buffer, leaseUntil: Date | null): Promise<string> {
    if (!this.database.isMysql) {
      // One prepared INSERT per row, in the commit the process shares per event-loop turn (deliveries' records too).
      const row = [newId(), this.database.time(new Date()), body, leaseUntil && this.database.time(leaseUntil)];
      return this.database.sqliteTogether((run) => {
        run(INSERT_ONE, row);
        return row[0] as string;
      });
    }
    return new Promise<string>((resolve, reject) => {
      this.waiting.push({ id: newId(), body, leaseUntil, resolve, reject });
      if (this.flushScheduled) return;
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.startInserts();
      });
    });
  }

  /**
   * Takes up to `limit` free rows, oldest first, leasing them until `leaseUntil`. With `evenLeasedBefore`
   * (a process starting up), also rows received before that time whatever their lease: POSTs a process
   * that died had accepted, to be stored before anything this process receives. A row that another
   * process still holds may be stored twice then, which stores nothing twice.
   * When another process took some of the same rows first, only the ones this call leased are answered.
   */
  async take(now: Date, leaseUntil: Date, limit: number, evenLeasedBefore?: Date): Promise<InboxRow[]> {
    const boot = evenLeasedBefore !== undefined;
    const rows: Array<{ id: string; body: Buffer | Uint8Array; attempts: number | string }> = await this.database.dataSource.query(
      // At boot a row waiting for its retry after a failure still waits (its lease is not a dead process's).
      `SELECT id, body, attempts FROM webhook_inbox WHERE ${boot ? 'received_at < ? AND (last_error IS NULL OR retry_at <= ?)' : 'retry_at IS NULL OR retry_at <= ?'} ORDER BY received_at, id LIMIT ?`,
      boot ? [this.database.time(evenLeasedBefore), this.database.time(now), limit] : [this.database.time(now), limit],
    );
    if (!rows.length) return [];
    const ids = rows.map((row) => row.id);
    // A lease time of its own (to the millisecond) tells this call's rows apart if another process raced it.
    const lease = this.database.time(new Date(leaseUntil.getTime() + Math.floor(Math.random() * 1000)));
    const placeholders = ids.map(() => '?').join(', ');
    const taken = await this.database.statement(
      `UPDATE webhook_inbox SET attempts = attempts + 1, retry_at = ? WHERE id IN (${placeholders})${boot ? '' : ' AND (retry_at IS NULL OR retry_at <= ?)'}`,
      boot ? [lease, ...ids] : [lease, ...ids, this.database.time(now)],
    );
    let ours = rows;
    if (taken < rows.length) {
      const mine: Array<{ id: string }> = await this.database.dataSource.query(`SELECT id FROM webhook_inbox WHERE id IN (${placeholders}) AND retry_at = ?`, [...ids, lease]);
      const set = new Set(mine.map((row) => row.id));
      ours = rows.filter((row) => set.has(row.id));
    }
    return ours.map((row) => ({ id: row.id, body: Buffer.from(row.body), attempts: Number(row.attempts) + 1 }));
  }

  /** Why a row could not be turned into messages yet, and when to try again. The row stays. */
  async recordFailure(id: string, attempts: number, reason: string, retryAt: Date): Promise<void> {
    await this.database.statement(
      'UPDATE webhook_inbox SET attempts = ?, last_error = ?, retry_at = ? WHERE id = ?',
      [attempts, reason.slice(0, 500), this.database.time(retryAt), id],
    );
  }

  async count(): Promise<number> {
    const [row] = await this.database.dataSource.query('SELECT COUNT(*) AS count FROM webhook_inbox');
    return Number(row.count);
  }

  private startInserts(): void {
    while (this.insertsInFlight < MYSQL_INSERTS_IN_FLIGHT && this.waiting.length) {
      let take = 0;
      let bytes = 0;
      while (take < this.waiting.length && take < MAX_ROWS_PER_INSERT && (take === 0 || bytes + this.waiting[take].body.length <= MAX_BYTES_PER_INSERT)) {
        bytes += this.waiting[take].body.length;
        take++;
      }
      const batch = this.waiting.splice(0, take);
      this.insertsInFlight++;
      void this.insert(batch).finally(() => {
        this.insertsInFlight--;
        this.startInserts();
      });
    }
  }

  private async insert(batch: PendingAppend[]): Promise<void> {
    const receivedAt = this.database.time(new Date());
    const parameters: unknown[] = [];
    for (const row of batch) parameters.push(row.id, receivedAt, row.body, row.leaseUntil && this.database.time(row.leaseUntil));
    try {
      await this.database.statement(`INSERT INTO webhook_inbox (id, received_at, body, attempts, retry_at) VALUES ${batch.map(() => '(?, ?, ?, 0, ?)').join(', ')}`, parameters);
      for (const row of batch) row.resolve(row.id);
    } catch (error) {
      for (const row of batch) row.reject(error);
    }
  }
}

/** Part of the ingest transaction: the rows are gone exactly when their messages are stored. */
export async function deleteInboxRows(statements: BatchedStatements, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += DELETE_CHUNK) {
    const slice = ids.slice(i, i + DELETE_CHUNK);
    await statements.write(`DELETE FROM webhook_inbox WHERE id IN (${slice.map(() => '?').join(', ')})`, slice);
  }
}
