import { Database, RunResult, Statement } from '../database/database';
import { RawRows } from '../database/raw-rows';
import { Integration } from '../integrations/integration.entity';
import { Conversation } from './conversation.entity';
import { AttemptOutcome } from './delivery-attempt.entity';
import { Message } from './message.entity';

/** What delivery needs of a conversation's integration: its switch and its encrypted target. */
export type DeliveryIntegration = Pick<Integration, 'id' | 'enabled' | 'pageTokenEnc' | 'openchannelUrlEnc' | 'apiKeyEnc' | 'signingSecretEnc'>;

export interface AttemptRow {
  id: string;
  tenantId: string;
  integrationId: string;
  messageId: string;
  attempt: number;
  startedAt: Date;
  durationMs: number;
  httpStatus: number | null;
  outcome: AttemptOutcome;
  error: string | null;
}

/** The message's state after an attempt, as of `at`. */
export type NewState = { at: Date } & (
  | { status: 'delivered'; remoteId: string | null; text: string | null }
  | { status: 'failed'; error: string | null }
  | { status: 'retry'; error: string | null; nextAttemptAt: Date }
);

type Row = Record<string, unknown>;

/** A conversation with what delivery needs of its integration; on MySQL also its head (null: none). */
export interface LoadedConversation {
  conversation: Conversation;
  integration: DeliveryIntegration;
  head?: Message | null;
}

const HEAD_WHERE = `WHERE conversation_id = ? AND direction = 'in' AND status = 'queued' ORDER BY occurred_at ASC, part ASC, id ASC LIMIT 1`;

/**
 * A conversation's oldest queued inbound message (its head), the one delivered next: `SELECT <columns> ${HEAD_OF_CONVERSATION}`
 * with the conversation id. The index ix_messages_queued_in_head holds these rows in this order, so the lookup
 * reads one index entry however many messages the conversation had before.
 */
export const HEAD_OF_CONVERSATION = `FROM messages ${HEAD_WHERE}`;

/**
 * MySQL's forms of the hot statements name their index. Without the hint MariaDB weighs every index that holds `status`
 * (index dives on each) for every statement, which was a fifth of a lease's server CPU and a ninth of a head lookup's
 * (docs/performance.md, round 15), and it has picked the status index for the head before (round 7). SQLite's planner
 * needs no hint.
 */
const MYSQL_HEAD_OF_CONVERSATION = `FROM messages FORCE INDEX (ix_messages_queued_in_head) ${HEAD_WHERE}`;

const FREE_AND_DUE = '(locked_until IS NULL OR locked_until < ?) AND (next_attempt_at IS NULL OR next_attempt_at <= ?)';

/**
 * The delivery hot path's statements as parameterised SQL (the query builder cost about a quarter
 * of the relay's CPU), for SQLite and MySQL alike. Column names are the migrations' snake_case ones.
 * Dates go in through Database.time and rows come back through RawRows (TypeORM's own conversions), so
 * they compare and read exactly as rows written through repositories.
 */
export class DeliveryStore {
  private rawTables?: { conversations: RawRows<Conversation>; messages: RawRows<Message> };

  constructor(private readonly database: Database) {}

  /** SQLite (3.35+) answers UPDATE … RETURNING, so the head is found and leased in one statement. */
  get claimsHeadInOneStatement(): boolean {
    return !this.database.isMysql;
  }

  /**
   * The conversation and its integration's delivery columns, in one statement. On MySQL, where leasing the
   * head takes a statement of its own, the same statement also reads the head (null: none), which saves a round
   * trip per job; on SQLite `claimHead` finds it.
   */
  async conversationForDelivery(conversationId: string): Promise<LoadedConversation | null> {
    return this.loaded(await this.select(...this.conversationStatement(conversationId)));
  }

  /**
   * MySQL only: leases the conversation's head if it is free and due, and reads the conversation, its integration
   * and its head, in one work of the shared round trips. `leased` is the head when this call leased it; when an
   * earlier message arrived between the lease and the read (so the head read is not the one leased), the lease
   * is given back, `leased` is null, as when the head is held by another worker or not due yet, and `loaded.head` is
   * the head as read after the give-back. When the round trip ran twice (`repeated`: the first one failed, maybe after
   * its commit), a head held until exactly `leaseUntil` was leased by the first run: it is this call's.
   */
  async leaseHeadWithConversation(conversationId: string, now: Date, leaseUntil: Date): Promise<{ loaded: LoadedConversation | null; leased: Message | null }> {
    const at = this.date(now);
    const lease = this.date(leaseUntil);
    const { writes, reads, repeated } = await this.database.mysqlTogether({
      // The head is found by a plain read and leased by its primary key only if that read saw it free and due, so a job that
      // finds the head held locks nothing. One UPDATE joined to the head's SELECT took shared next-key locks on the head
      // index, which held ingest's INSERTs into the conversation and made most of the deadlocks with deliveries recording
      // (docs/performance.md, round 16). The UPDATE checks again: the read may be a few milliseconds old (the transaction's
      // snapshot). A scalar subquery is NULL when there is no head, where SELECT … INTO from no row would keep the
      // connection's previous value.
      writes: [
        [`SELECT (SELECT IF(${FREE_AND_DUE}, id, NULL) ${MYSQL_HEAD_OF_CONVERSATION}) INTO @relay_free_head`, [at, at, conversationId]],
        [`UPDATE messages FORCE INDEX (PRIMARY) SET locked_until = ? WHERE id = @relay_free_head AND status = 'queued' AND ${FREE_AND_DUE}`, [lease, at, at]],
      ],
      reads: [this.conversationStatement(conversationId)],
    });
    const loaded = this.loaded(reads[0].records);
    if (writes[1].affected !== 1 && !repeated) return { loaded, leased: null };
    const head = loaded?.head ?? null;
    if (head && head.lockedUntil?.getTime() === leaseUntil.getTime()) return { loaded, leased: head };
    // Read again after the give-back: while this job held the later message, the earlier one's job may have delivered it and
    // stopped on finding the later one leased. From the head read before, this job would stop too, and the later message
    // would wait for the sweeper.
    const givenBack = await this.database.mysqlTogether({ writes: [this.releaseStatement(conversationId, leaseUntil)], reads: [this.headStatement(conversationId)] });
    return { loaded: loaded && { ...loaded, head: this.firstMessage(givenBack.reads[0]) }, leased: null };
  }

  private conversationStatement(conversationId: string): Statement {
    const withHead = !this.claimsHeadInOneStatement;
    return [
      `SELECT c.*, i.enabled AS i_enabled, i.page_token_enc AS i_page_token_enc, i.openchannel_url_enc AS i_openchannel_url_enc,
              i.api_key_enc AS i_api_key_enc, i.signing_secret_enc AS i_signing_secret_enc
              ${withHead ? `, ${this.tables().messages.prefixedSelectList('h', 'h_')}` : ''}
       FROM conversations c INNER JOIN integrations i ON i.id = c.integration_id
       ${withHead ? `LEFT JOIN messages h ON h.id = (SELECT id ${MYSQL_HEAD_OF_CONVERSATION})` : ''}
       WHERE c.id = ?`,
      withHead ? [conversationId, conversationId] : [conversationId],
    ];
  }

  private loaded(rows: Row[]): LoadedConversation | null {
    if (!rows.length) return null;
    const row = rows[0];
    return {
      conversation: this.tables().conversations.read(row),
      integration: {
        id: row.integration_id as string,
        enabled: Boolean(Number(row.i_enabled)),
        pageTokenEnc: row.i_page_token_enc as string | null,
        openchannelUrlEnc: row.i_openchannel_url_enc as string,
        apiKeyEnc: row.i_api_key_enc as string | null,
        signingSecretEnc: row.i_signing_secret_enc as string | null,
      },
      ...(!this.claimsHeadInOneStatement ? { head: row.h_id === null ? null : this.tables().messages.read(row, 'h_') } : {}),
    };
  }

  /** The oldest queued inbound message of the conversation, leased or not, due or not. */
  async head(conversationId: string): Promise<Message | null> {
    return this.firstMessage(await this.one(...this.headStatement(conversationId)));
  }

  /**
   * Leases the message if it is still queued, free and due. Due is checked in the same statement: a head
   * read before another worker recorded a retry time (after a 429 with Retry-After, say) must not be sent early.
   */
  async claim(messageId: string, now: Date, leaseUntil: Date): Promise<boolean> {
    const at = this.date(now);
    const statement: Statement = [
      `UPDATE messages${this.database.isMysql ? ' FORCE INDEX (PRIMARY)' : ''} SET locked_until = ? WHERE id = ? AND status = 'queued' AND ${FREE_AND_DUE}`,
      [this.date(leaseUntil), messageId, at, at],
    ];
    if (!this.database.isMysql) return (await this.database.run(...statement)).affected === 1;
    const { writes, repeated } = await this.database.mysqlTogether({ writes: [statement], reads: [] });
    if (writes[0].affected === 1) return true;
    if (!repeated) return false;
    // The first run may have leased it before its answer was lost: then the lease is this call's.
    const held = this.firstMessage(await this.one(`SELECT * FROM messages FORCE INDEX (PRIMARY) WHERE id = ? AND status = 'queued'`, [messageId]));
    return held?.lockedUntil?.getTime() === leaseUntil.getTime();
  }

  /**
   * Gives back the lease taken until `leaseUntil` on a queued message of the conversation (on `messageId` only, when
   * the step knows which message it leased), if it still has it. For a job that failed while holding a lease, or not
   * knowing whether it took one (its round trip failed after the commit, or its answer was lost): without this the
   * message would wait out the lease (`leaseMs`, 5 minutes). The lease's time is the token: each lease's is its own
   * (`DeliveryService.leaseUntil`), and a message that was recorded meanwhile is no longer queued, or has no lease.
   */
  async releaseLease(conversationId: string, leaseUntil: Date, messageId?: string): Promise<number> {
    const statement = this.releaseStatement(conversationId, leaseUntil, messageId);
    return this.database.isMysql ? (await this.database.mysqlTogether({ writes: [statement], reads: [] })).writes[0].affected : (await this.database.run(...statement)).affected;
  }

  private releaseStatement(conversationId: string, leaseUntil: Date, messageId?: string): Statement {
    if (messageId) {
      return [
        `UPDATE messages${this.database.isMysql ? ' FORCE INDEX (PRIMARY)' : ''} SET locked_until = NULL WHERE id = ? AND status = 'queued' AND locked_until = ?`,
        [messageId, this.date(leaseUntil)],
      ];
    }
    return [
      `UPDATE messages${this.database.isMysql ? ' FORCE INDEX (ix_messages_queued_in_head)' : ''} SET locked_until = NULL
       WHERE conversation_id = ? AND direction = 'in' AND status = 'queued' AND locked_until = ?`,
      [conversationId, this.date(leaseUntil)],
    ];
  }

  /**
   * SQLite only: leases the conversation's head if it is free and due, and answers it (as updated), in one
   * statement. Null when there is no head, or it is leased by another worker, or not due yet.
   */
  async claimHead(conversationId: string, now: Date, leaseUntil: Date): Promise<Message | null> {
    // Its commit is shared with the deliveries recording in the same turn (see `record`).
    return this.firstMessage(await this.database.sqliteTogether((run) => run(...this.claimHeadStatement(conversationId, now, leaseUntil))));
  }

  /**
   * The attempt row and the message's new state, committed together, and then the conversation's next
   * head, which the job goes on to (`next`; omit it after a retry, when the job stops).
   *
   * On SQLite the commit is shared with the other deliveries that record in the same turn of the event
   * loop (`sqliteTogether`), and it also leases the next head (answered as `claimHead` would): a delivered
   * message cost three commits before, one each. On MySQL the transaction and the read of the next head
   * (not leased: `claim` does that) go in one round trip (`runTogether`); they were four.
   */
  async record(attempt: AttemptRow, state: NewState, next?: { conversationId: string; now: Date; leaseUntil: Date }): Promise<Message | null | undefined> {
    const statements = [this.attemptStatement(attempt), this.stateStatement(attempt.messageId, attempt.attempt, state)];
    if (this.database.isMysql) {
      const { reads } = await this.database.mysqlTogether({ writes: statements, reads: next ? [this.headStatement(next.conversationId)] : [] });
      return next ? this.firstMessage(reads[0]) : undefined;
    }
    return this.database.sqliteTogether((run) => {
      for (const [sql, parameters] of statements) run(sql, parameters);
      return next ? this.firstMessage(run(...this.claimHeadStatement(next.conversationId, next.now, next.leaseUntil))) : undefined;
    });
  }

  private headStatement(conversationId: string): Statement {
    return [`SELECT * ${this.database.isMysql ? MYSQL_HEAD_OF_CONVERSATION : HEAD_OF_CONVERSATION}`, [conversationId]];
  }

  private attemptStatement(attempt: AttemptRow): Statement {
    return [
      `INSERT INTO delivery_attempts (id, tenant_id, integration_id, message_id, attempt, started_at, duration_ms, http_status, outcome, error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [attempt.id, attempt.tenantId, attempt.integrationId, attempt.messageId, attempt.attempt, this.date(attempt.startedAt),
        attempt.durationMs, attempt.httpStatus, attempt.outcome, attempt.error],
    ];
  }

  private stateStatement(messageId: string, attempts: number, state: NewState): Statement {
    const now = this.date(state.at);
    switch (state.status) {
      case 'delivered':
        return [
          `UPDATE messages SET status = 'delivered', attempts = ?, delivered_at = ?, remote_id = ?, last_error = NULL, next_attempt_at = NULL,
                  locked_until = NULL, updated_at = ?, text = ? WHERE id = ?`,
          [attempts, now, state.remoteId, now, state.text, messageId],
        ];
      case 'failed':
        return [
          `UPDATE messages SET status = 'failed', attempts = ?, last_error = ?, next_attempt_at = NULL, locked_until = NULL, updated_at = ? WHERE id = ?`,
          [attempts, state.error, now, messageId],
        ];
      case 'retry':
        return [
          `UPDATE messages SET attempts = ?, last_error = ?, next_attempt_at = ?, locked_until = NULL, updated_at = ? WHERE id = ?`,
          [attempts, state.error, this.date(state.nextAttemptAt), now, messageId],
        ];
    }
  }

  private claimHeadStatement(conversationId: string, now: Date, leaseUntil: Date): Statement {
    const at = this.date(now);
    return [
      `UPDATE messages SET locked_until = ? WHERE id = (SELECT id ${HEAD_OF_CONVERSATION}) AND status = 'queued' AND ${FREE_AND_DUE} RETURNING *`,
      [this.date(leaseUntil), conversationId, at, at],
    ];
  }

  /** Built on first use: the entity metadata exists once the data source is initialized. */
  private tables(): { conversations: RawRows<Conversation>; messages: RawRows<Message> } {
    this.rawTables ??= { conversations: new RawRows(this.database.dataSource, Conversation), messages: new RawRows(this.database.dataSource, Message) };
    return this.rawTables;
  }

  private date(value: Date): Date | string {
    return this.database.time(value);
  }

  private firstMessage(result: RunResult): Message | null {
    return result.records.length ? this.tables().messages.read(result.records[0]) : null;
  }

  /**
   * On MySQL in the round trips deliveries share (`Database.mysqlTogether`, on the delivery connections, so
   * deliveries never wait for the main pool): a read after the shared commit.
   */
  private async one(sql: string, parameters: unknown[]): Promise<RunResult> {
    return this.database.isMysql ? (await this.database.mysqlTogether({ writes: [], reads: [[sql, parameters]] })).reads[0] : this.database.run(sql, parameters);
  }

  private async select(sql: string, parameters: unknown[]): Promise<Row[]> {
    return (await this.one(sql, parameters)).records;
  }
}
