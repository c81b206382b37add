import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { newId } from '../common/ids';
import { Database } from '../database/database';

/** A stored webhook POST, as the recovery pass reads it back. */
export interface InboxRow {
  id: string;
  body: Buffer;
  attempts: number;
}

interface PendingAppend {
  id: string;
  body: Buffer;
  resolve: (id: string) => void;
  reject: (error: unknown) => void;
}

/** Rows per INSERT, and bytes: MySQL's max_allowed_packet is 16 MB by default (a larger single POST still goes alone). */
const MAX_ROWS_PER_INSERT = 500;
const MAX_BYTES_PER_INSERT = 4 * 1024 * 1024;
const MYSQL_INSERTS_IN_FLIGHT = 4;
const DELETE_CHUNK = 500;

/**
 * The `webhook_inbox` table: the exact bytes of every verified webhook POST, written before Facebook
 * gets its 200 and deleted by the transaction that turns them into messages (IngestService).
 *
 * Appends are group-committed: POSTs that arrive while an INSERT runs go together into the next one,
 * and each POST's promise settles only when the statement holding its row has committed.
 */
@Injectable()
export class WebhookInbox {
  private readonly waiting: PendingAppend[] = [];
  private insertsInFlight = 0;
  private flushScheduled = false;

  constructor(private readonly database: Database) {}

  /** Stores one POST's body; resolves with its row id once committed. */
  append(body: Buffer): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      this.waiting.push({ id: newId(), body, resolve, reject });
      // POSTs whose bodies arrive in the same turn of the event loop share one INSERT.
      if (this.flushScheduled) return;
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.startInserts();
      });
    });
  }

  /** Rows received before `receivedBefore` that are not waiting for a retry, oldest first. */
  async oldest(receivedBefore: Date, now: Date, limit: number): Promise<InboxRow[]> {
    const rows: Array<{ id: string; body: Buffer | Uint8Array; attempts: number | string }> = await this.database.dataSource.query(
      'SELECT id, body, attempts FROM webhook_inbox WHERE received_at < ? AND (retry_at IS NULL OR retry_at <= ?) ORDER BY received_at, id LIMIT ?',
      [this.database.time(receivedBefore), this.database.time(now), limit],
    );
    return rows.map((row) => ({ id: row.id, body: Buffer.from(row.body), attempts: Number(row.attempts) }));
  }

  /**
   * Takes a row for one attempt, so two processes recovering at once do not both work on it: true
   * when this process got it. The lease (`retry_at`) also spaces out retries of a row that keeps failing.
   */
  async claim(row: InboxRow, now: Date, leaseUntil: Date): Promise<boolean> {
    const changed = await this.database.statement(
      'UPDATE webhook_inbox SET attempts = attempts + 1, retry_at = ? WHERE id = ? AND attempts = ?',
      [this.database.time(leaseUntil), row.id, row.attempts],
    );
    return changed === 1;
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
    const limit = this.database.isMysql ? MYSQL_INSERTS_IN_FLIGHT : 1;
    while (this.insertsInFlight < limit && this.waiting.length) {
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
    for (const row of batch) parameters.push(row.id, receivedAt, row.body);
    try {
      await this.database.statement(`INSERT INTO webhook_inbox (id, received_at, body, attempts) VALUES ${batch.map(() => '(?, ?, ?, 0)').join(', ')}`, parameters);
      for (const row of batch) row.resolve(row.id);
    } catch (error) {
      for (const row of batch) row.reject(error);
    }
  }
}

/** Part of the ingest transaction: the rows are gone exactly when their messages are stored. */
export async function deleteInboxRows(manager: EntityManager, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += DELETE_CHUNK) {
    const slice = ids.slice(i, i + DELETE_CHUNK);
    await manager.query(`DELETE FROM webhook_inbox WHERE id IN (${slice.map(() => '?').join(', ')})`, slice);
  }
}
