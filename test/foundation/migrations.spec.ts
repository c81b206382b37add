import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, QueryFailedError, QueryRunner } from 'typeorm';
import { migrations } from '../../migrations';
import { createDataSource } from '../../src/database/data-source';
import { runMigrations } from '../../src/database/migrate';
import { AppConfig } from '../../src/config/app-config';
import { Database, driverErrorCode, TogetherResults, TogetherWork } from '../../src/database/database';
import { DeliveryStore, HEAD_OF_CONVERSATION } from '../../src/relay/delivery-store';
import { Message } from '../../src/relay/message.entity';
import { UNREAD_OUTBOUND } from '../../src/relay/ingest.service';
import { mysqlBackendAvailable } from '../support/backends';
import { createScratchMysqlDatabase } from '../support/test-database';

const databases: Array<[string, () => Promise<{ dataSource: DataSource; drop: () => Promise<void> }>]> = [
  ['sqlite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-migrate-'));
    return { dataSource: createDataSource({ database: { kind: 'sqlite', file: join(dir, 'relay.sqlite') } }), drop: async () => undefined };
  }],
];
if (mysqlBackendAvailable()) {
  databases.push(['mysql', async () => {
    const scratch = await createScratchMysqlDatabase(process.env.TEST_DATABASE_URL!);
    return { dataSource: createDataSource({ database: { kind: 'mysql', url: scratch.url } }), drop: scratch.drop };
  }]);
}

type MessageRow = [id: string, conversationId: string, direction: 'in' | 'out', status: string, at: number];

/** Message rows with just the columns the delivery and receipt statements look at (500 per INSERT). */
async function insertMessages(dataSource: DataSource, rows: MessageRow[]): Promise<void> {
  const columns = 'id, tenant_id, integration_id, conversation_id, direction, kind, event, status, attempts, occurred_at, part, created_at, updated_at';
  const values = rows.map(([id, conversation, direction, status, at]) =>
    [id, 't1', 'i1', conversation, direction, 'text', 'message', status, 1, 1_700_000_000_000 + at, 0, '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000']);
  for (let start = 0; start < values.length; start += 500) {
    const slice = values.slice(start, start + 500);
    await dataSource.query(`INSERT INTO messages (${columns}) VALUES ${slice.map((row) => `(${row.map(() => '?').join(', ')})`).join(', ')}`, slice.flat());
  }
}

/** Integration i1 of tenant t1, and these conversations of it: what a delivery job reads with a conversation's head. */
async function insertConversations(dataSource: DataSource, conversationIds: string[]): Promise<void> {
  await dataSource.query(
    `INSERT INTO integrations (id, tenant_id, name, page_id, page_name, openchannel_url_enc, reply_token_hash, reply_token_enc, wall_posts, enabled, status,
       human_agent_tag, forward_reactions, forward_edits, page_subscribed, created_at, updated_at)
     VALUES ('i1', 't1', 'Shop', 'p1', 'Shop', 'url', 'hash', 'token', 0, 1, 'active', 0, 0, 0, 1, '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000')`,
  );
  const row = (id: string) => [id, 't1', 'i1', 'messenger', `psid-${id}`, '', '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000'];
  await dataSource.query(
    `INSERT INTO conversations (id, tenant_id, integration_id, channel, customer_id, thread_id, created_at, updated_at) VALUES ${conversationIds.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
    conversationIds.flatMap(row),
  );
}

/** MySQL: rows read past the first, in index order or by scanning. One connection, so its session counters count its own statements alone. */
const ROWS_READ = "SHOW SESSION STATUS WHERE Variable_name IN ('Handler_read_next', 'Handler_read_prev', 'Handler_read_rnd_next')";
const sumOfValues = (rows: Array<Record<string, unknown>>) => rows.reduce((sum, row) => sum + Number(row.Value), 0);
async function rowsRead(runner: QueryRunner): Promise<number> {
  return sumOfValues(await runner.query(ROWS_READ));
}

/** MySQL: a Database whose `runTogether` has a single connection, so that connection's session counters are its statements'. */
function oneDeliveryConnection(dataSource: DataSource): Database {
  return new Database(dataSource, { deliveryConcurrency: 1 } as AppConfig);
}

async function rowsReadOnDeliveryConnection(database: Database): Promise<number> {
  return sumOfValues((await database.runTogether([[ROWS_READ, []]]))[0].records);
}

const padded = (prefix: string, i: number) => `${prefix}${String(i).padStart(6, '0')}`;

describe.each(databases)('migrations on %s', (_name, open) => {
  let dataSource: DataSource;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    ({ dataSource, drop } = await open());
    await dataSource.initialize();
  });
  afterAll(async () => {
    await dataSource.destroy();
    await drop();
  });

  it('brings an empty database up to the latest schema, then does nothing on a second run', async () => {
    const applied = await runMigrations(dataSource);
    expect(applied).toEqual(migrations.map((m) => m.name));
    expect(await runMigrations(dataSource)).toEqual([]);
    for (const table of ['tenants', 'facebook_identities', 'integrations', 'conversations', 'messages', 'blobs']) {
      expect(await dataSource.createQueryRunner().hasTable(table)).toBe(true);
    }
  });

  it('keeps tenant ids on tenant-owned tables and a unique dedup key on messages', async () => {
    const runner = dataSource.createQueryRunner();
    for (const table of ['facebook_identities', 'integrations', 'conversations', 'messages', 'blobs']) {
      expect(await runner.hasColumn(table, 'tenant_id')).toBe(true);
    }
    const messages = await runner.getTable('messages');
    const dedup = messages!.indices.find((index) => index.columnNames.join() === 'dedup_key');
    expect(dedup?.isUnique).toBe(true);
    await runner.release();
  });

  it('stores megabyte blobs', async () => {
    const bytes = Buffer.alloc(3 * 1024 * 1024, 7);
    await dataSource.query(
      'INSERT INTO blobs (id, tenant_id, content_type, filename, size, sha256, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ['b1', 't1', 'image/png', 'a.png', bytes.length, 'x', bytes, '2026-01-01 00:00:00.000'],
    );
    const [row] = await dataSource.query('SELECT data FROM blobs WHERE id = ?', ['b1']);
    expect(Buffer.from(row.data).length).toBe(bytes.length);
  });

  it("finds a conversation's next message to deliver without reading the ones delivered before it, alone and with the conversation", async () => {
    // A conversation with a long delivered history, and a backlog queued in other conversations: through
    // the conversation's index or through the status index, the lookup read about 3,000 rows.
    const conversationId = 'c-long-history';
    const delivered = 3000;
    const rows: MessageRow[] = [];
    for (let i = 0; i < delivered; i++) rows.push([padded('m', i), conversationId, 'in', 'delivered', i]);
    rows.push(['m-head', conversationId, 'in', 'queued', delivered]);
    for (let i = 0; i < 3000; i++) rows.push([padded('o', i), `c-other-${i}`, 'in', 'queued', i]);
    await insertMessages(dataSource, rows);
    const runner = dataSource.createQueryRunner();
    try {
      if (dataSource.options.type === 'mysql') {
        const before = await rowsRead(runner);
        const [head] = await runner.query(`SELECT id ${HEAD_OF_CONVERSATION}`, [conversationId]);
        expect(head.id).toBe('m-head');
        expect((await rowsRead(runner)) - before).toBeLessThan(10);

        // A delivery job's first statement reads the head with the conversation and its integration, through the same index.
        await insertConversations(dataSource, [conversationId, 'c-none-queued']);
        // The store's statements go on the delivery connections: one here, so its session counters are the store's.
        const database = oneDeliveryConnection(dataSource);
        const store = new DeliveryStore(database);
        try {
          const beforeJob = await rowsReadOnDeliveryConnection(database);
          const loaded = await store.conversationForDelivery(conversationId);
          expect((await rowsReadOnDeliveryConnection(database)) - beforeJob).toBeLessThan(10);
          expect(loaded).toMatchObject({ conversation: { id: conversationId }, integration: { id: 'i1', enabled: true }, head: { id: 'm-head', status: 'queued', occurredAt: 1_700_000_003_000 } });
          expect((await store.conversationForDelivery('c-none-queued'))?.head).toBeNull();

          // A job's first work leases the head in the same round trip, through the same index and then its primary key.
          const now = new Date('2026-06-01T12:00:00.000Z');
          const lease = new Date('2026-06-01T12:05:00.123Z');
          const beforeLease = await rowsReadOnDeliveryConnection(database);
          const first = await store.leaseHeadWithConversation(conversationId, now, lease);
          expect((await rowsReadOnDeliveryConnection(database)) - beforeLease).toBeLessThan(10);
          expect(first.leased).toMatchObject({ id: 'm-head', lockedUntil: lease });
          expect(first.loaded).toMatchObject({ conversation: { id: conversationId }, integration: { id: 'i1' }, head: { id: 'm-head' } });
          // Held by that lease: another job reads the head but does not get it.
          const second = await store.leaseHeadWithConversation(conversationId, now, new Date(lease.getTime() + 1));
          expect(second).toMatchObject({ leased: null, loaded: { head: { id: 'm-head', lockedUntil: lease } } });
          // Nor does it wait for, or take, the held head's row lock: it answers while the job holding the head records it.
          const recording = dataSource.createQueryRunner();
          await recording.startTransaction();
          let timer: NodeJS.Timeout | undefined;
          try {
            await recording.query(`UPDATE messages SET updated_at = '2026-06-01 12:00:01.000' WHERE id = 'm-head'`);
            const answered = await Promise.race([
              store.leaseHeadWithConversation(conversationId, now, new Date(lease.getTime() + 2)),
              new Promise((resolve) => { timer = setTimeout(() => resolve('still waiting for the head row after 3 s'), 3000); }),
            ]);
            expect(answered).toMatchObject({ leased: null, loaded: { head: { id: 'm-head', lockedUntil: lease } } });
          } finally {
            clearTimeout(timer);
            await recording.rollbackTransaction();
            await recording.release();
          }
          expect(await store.leaseHeadWithConversation('c-none-queued', now, lease)).toMatchObject({ leased: null, loaded: { head: null } });

          // A job's later messages: the head alone and a lease by id, in their MySQL form (which names its index), each reading a row or two.
          const beforeLater = await rowsReadOnDeliveryConnection(database);
          expect(await store.head(conversationId)).toMatchObject({ id: 'm-head', lockedUntil: lease });
          expect(await store.claim('m-head', now, new Date(lease.getTime() + 1))).toBe(false);
          expect(await store.claim(padded('o', 7), now, lease)).toBe(true);
          expect((await rowsReadOnDeliveryConnection(database)) - beforeLater).toBeLessThan(10);

          // An earlier message stored in the same group, after the lease and before the read: the head read is not the one leased,
          // so the lease is given back and the job goes on from the head it read.
          await runner.query(`UPDATE messages SET locked_until = NULL WHERE id = 'm-head'`);
          // The lease, and in the same group a message `before` ms before the first one delivered.
          const leaseWhileStoring = async (id: string, before: number) => (await Promise.all([
            store.leaseHeadWithConversation(conversationId, now, lease),
            database.mysqlTogether({
              writes: [[`INSERT INTO messages (id, tenant_id, integration_id, conversation_id, direction, kind, event, status, attempts, occurred_at, part, created_at, updated_at)
                VALUES (?, 't1', 'i1', ?, 'in', 'text', 'message', 'queued', 0, ?, 0, '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000')`, [id, conversationId, 1_700_000_000_000 + delivered - before]]],
              reads: [],
            }),
          ]))[0];
          const raced = await leaseWhileStoring('m-earlier', 1);
          expect(raced).toMatchObject({ leased: null, loaded: { head: { id: 'm-earlier', lockedUntil: null } } });
          expect((await runner.query(`SELECT locked_until FROM messages WHERE id = 'm-head'`))[0].locked_until).toBeNull();

          // The same race, and before the give-back the earlier message's job delivers it (and stops, finding m-head leased):
          // the head is read again after the give-back, so this job goes on with m-head rather than stopping too.
          await runner.query(`UPDATE messages SET status = 'delivered' WHERE id = 'm-earlier'`);
          const mysqlTogether = database.mysqlTogether.bind(database);
          const giveBacks = jest.spyOn(database, 'mysqlTogether').mockImplementation(async (work) => {
            if (work.writes[0]?.[0].includes('SET locked_until = NULL')) {
              await mysqlTogether({ writes: [[`UPDATE messages SET status = 'delivered' WHERE id = 'm-earliest'`, []]], reads: [] });
            }
            return mysqlTogether(work);
          });
          try {
            expect(await leaseWhileStoring('m-earliest', 2)).toMatchObject({ leased: null, loaded: { conversation: { id: conversationId }, head: { id: 'm-head', lockedUntil: null } } });
          } finally {
            giveBacks.mockRestore();
          }
        } finally {
          await database.closeTogetherPool();
        }
      } else {
        const [head] = await runner.query(`SELECT id ${HEAD_OF_CONVERSATION}`, [conversationId]);
        expect(head.id).toBe('m-head');
        const plan = (await runner.query(`EXPLAIN QUERY PLAN SELECT id ${HEAD_OF_CONVERSATION}`, [conversationId])).map((step: { detail: string }) => step.detail).join('\n');
        expect(plan).toMatch(/USING (COVERING )?INDEX ix_messages_queued_in_head \(conversation_id=\?\)/);
        expect(plan).not.toContain('TEMP B-TREE'); // no sort: the index is in delivery order
      }
    } finally {
      await runner.release();
      await dataSource.query('DELETE FROM messages');
      await dataSource.query('DELETE FROM conversations');
      await dataSource.query('DELETE FROM integrations');
    }
  });

  it("marks the messages a read receipt covers without reading the conversation's history", async () => {
    // 3,000 messages each way already read or delivered, and three replies not read yet (one after the watermark);
    // through the conversation's index the receipt read all 6,000. SQLite has a partial index for it; on MySQL the
    // delivery head's index, led by direction and status, serves it.
    const conversationId = 'c-read-history';
    const rows: MessageRow[] = [];
    for (let i = 0; i < 3000; i++) rows.push([padded('in', i), conversationId, 'in', 'delivered', 2 * i], [padded('out', i), conversationId, 'out', 'read', 2 * i + 1]);
    rows.push(['r-sending', conversationId, 'out', 'sending', 6001], ['r-sent', conversationId, 'out', 'sent', 6002], ['r-later', conversationId, 'out', 'sent', 6010]);
    for (let i = 0; i < 1000; i++) rows.push([padded('x', i), `c-other-${i}`, 'out', 'sent', i]);
    await insertMessages(dataSource, rows);
    const receipt = `UPDATE messages SET status = 'read' WHERE conversation_id = ? AND ${UNREAD_OUTBOUND} AND status IN (?, ?, ?) AND occurred_at <= ?`;
    const parameters = [conversationId, 'sending', 'sent', 'delivered', 1_700_000_006_005];
    const runner = dataSource.createQueryRunner();
    try {
      if (dataSource.options.type === 'mysql') {
        const before = await rowsRead(runner);
        await runner.query(receipt, parameters);
        expect((await rowsRead(runner)) - before).toBeLessThan(10);
      } else {
        const plan = (await runner.query(`EXPLAIN QUERY PLAN ${receipt}`, parameters)).map((step: { detail: string }) => step.detail).join('\n');
        expect(plan).toMatch(/USING INDEX ix_messages_out_unread \(conversation_id=\? AND occurred_at<\?\)/);
        await runner.query(receipt, parameters);
      }
      const unread = await runner.query(`SELECT id FROM messages WHERE conversation_id = ? AND direction = 'out' AND status <> 'read'`, [conversationId]);
      expect(unread.map((row: { id: string }) => row.id)).toEqual(['r-later']);
    } finally {
      await runner.release();
      await dataSource.query('DELETE FROM messages');
    }
  });

  it('runs raw statements through Database.run: rows read, rows changed, and a failure as a QueryFailedError', async () => {
    const database = new Database(dataSource);
    await insertMessages(dataSource, [['run-1', 'c-run', 'in', 'queued', 1], ['run-2', 'c-run', 'in', 'queued', 2]]);
    try {
      const read = await database.run(`SELECT id FROM messages WHERE conversation_id = ? ORDER BY id`, ['c-run']);
      expect(read).toEqual({ records: [{ id: 'run-1' }, { id: 'run-2' }], affected: 0 });
      expect((await database.run(`UPDATE messages SET status = 'delivered' WHERE conversation_id = ?`, ['c-run'])).affected).toBe(2);
      const duplicate = database.run(`INSERT INTO messages (id, tenant_id, integration_id, conversation_id, direction, kind, event, status, attempts, occurred_at, part, created_at, updated_at)
        SELECT id, tenant_id, integration_id, conversation_id, direction, kind, event, status, attempts, occurred_at, part, created_at, updated_at FROM messages WHERE id = ?`, ['run-1']);
      await expect(duplicate).rejects.toBeInstanceOf(QueryFailedError);
    } finally {
      await dataSource.query('DELETE FROM messages');
    }
  });

  it('runs statements together in one round trip on MySQL, and rolls back a batch whose transaction failed', async () => {
    if (dataSource.options.type !== 'mysql') {
      await expect(new Database(dataSource).runTogether([['SELECT 1', []]])).rejects.toThrow('MySQL only');
      return;
    }
    const database = oneDeliveryConnection(dataSource);
    await insertMessages(dataSource, [['t-1', 'c-together', 'in', 'queued', 1], ['t-2', 'c-together', 'in', 'queued', 2]]);
    try {
      const results = await database.runTogether([
        ['START TRANSACTION', []],
        [`UPDATE messages SET status = 'delivered' WHERE id = ?`, ['t-1']],
        ['COMMIT', []],
        [`SELECT id FROM messages WHERE conversation_id = ? AND status = ? ORDER BY id`, ['c-together', 'queued']],
      ]);
      expect(results.map((result) => result.affected)).toEqual([0, 1, 0, 0]);
      expect(results[3].records).toEqual([{ id: 't-2' }]);
      expect(await database.runTogether([[`SELECT COUNT(*) AS n FROM messages WHERE conversation_id = ?`, ['c-together']]])).toEqual([{ records: [{ n: '2' }], affected: 0 }]);

      // The second statement fails (a duplicate id): the first is undone, the rest never run, and the connection is not left in the transaction.
      const failing = database.runTogether([
        ['START TRANSACTION', []],
        [`UPDATE messages SET status = 'failed' WHERE id = ?`, ['t-2']],
        [`UPDATE messages SET id = ? WHERE id = ?`, ['t-1', 't-2']],
        ['COMMIT', []],
      ]);
      await expect(failing).rejects.toBeInstanceOf(QueryFailedError);
      const [state] = await database.runTogether([[`SELECT @@in_transaction AS open, (SELECT status FROM messages WHERE id = ?) AS status`, ['t-2']]]);
      expect(state.records).toEqual([{ open: '0', status: 'queued' }]);
    } finally {
      await database.closeTogetherPool();
      await dataSource.query('DELETE FROM messages');
    }
  });

  it('shares one round trip and one commit among the works handed to mysqlTogether at once, and fails only the work that failed', async () => {
    if (dataSource.options.type !== 'mysql') {
      await expect(new Database(dataSource).mysqlTogether({ writes: [], reads: [['SELECT 1', []]] })).rejects.toThrow('MySQL only');
      return;
    }
    const database = oneDeliveryConnection(dataSource);
    await insertMessages(dataSource, [['g-1', 'c-group', 'in', 'queued', 1], ['g-2', 'c-group', 'in', 'queued', 2], ['g-3', 'c-group', 'in', 'queued', 3]]);
    const commits = async () => Number((await database.runTogether([["SHOW SESSION STATUS LIKE 'Com_commit'", []]]))[0].records[0].Value);
    const deliver = (id: string): TogetherWork => ({
      writes: [[`UPDATE messages SET status = 'delivered' WHERE id = ? AND status = 'queued'`, [id]]],
      reads: [[`SELECT id FROM messages WHERE conversation_id = ? AND status = 'queued' ORDER BY id`, ['c-group']]],
    });
    try {
      const before = await commits();
      const [first, second, read] = await Promise.all([
        database.mysqlTogether(deliver('g-1')),
        database.mysqlTogether(deliver('g-2')),
        database.mysqlTogether({ writes: [], reads: [[`SELECT COUNT(*) AS n FROM messages WHERE conversation_id = ?`, ['c-group']]] }),
      ]);
      expect((await commits()) - before).toBe(1);
      expect(first.writes.map((result) => result.affected)).toEqual([1]);
      expect(second.writes.map((result) => result.affected)).toEqual([1]);
      // Reads run after the shared commit: both see both writes.
      expect(first.reads[0].records).toEqual([{ id: 'g-3' }]);
      expect(second.reads[0].records).toEqual([{ id: 'g-3' }]);
      expect(read).toEqual({ writes: [], reads: [{ records: [{ n: '3' }], affected: 0 }] });

      // A work that fails (a duplicate id) rejects alone: the shared transaction is rolled back and each work runs again by itself.
      const [failed, delivered] = await Promise.allSettled([
        database.mysqlTogether({ writes: [[`UPDATE messages SET id = ? WHERE id = ?`, ['g-1', 'g-2']]], reads: [] }),
        database.mysqlTogether(deliver('g-3')),
      ]);
      expect(failed.status).toBe('rejected');
      expect((failed as PromiseRejectedResult).reason).toBeInstanceOf(QueryFailedError);
      // It ran twice, and says so: a write that changed nothing the second time may have been done by the first.
      expect(delivered).toEqual({ status: 'fulfilled', value: { writes: [{ records: [], affected: 1 }], reads: [{ records: [], affected: 0 }], repeated: true } });
      const rows = await dataSource.query(`SELECT id, status FROM messages WHERE conversation_id = ? ORDER BY id`, ['c-group']);
      expect(rows).toEqual([{ id: 'g-1', status: 'delivered' }, { id: 'g-2', status: 'delivered' }, { id: 'g-3', status: 'delivered' }]);

      // A failed group of 30 works: each runs again alone, within the 8 round trips in flight, not all 30 at once.
      const runTogether = database.runTogether.bind(database);
      let inFlight = 0;
      let most = 0;
      const counted = jest.spyOn(database, 'runTogether').mockImplementation(async (statements) => {
        most = Math.max(most, ++inFlight);
        try {
          return await runTogether(statements);
        } finally {
          inFlight--;
        }
      });
      try {
        const outcomes = await Promise.allSettled([
          database.mysqlTogether({ writes: [[`UPDATE messages SET id = ? WHERE id = ?`, ['g-1', 'g-2']]], reads: [] }),
          ...Array.from({ length: 29 }, (_, i) => database.mysqlTogether({ writes: [], reads: [[`SELECT ? AS n`, [i]]] })),
        ]);
        expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', ...Array(29).fill('fulfilled')]);
        expect(outcomes.slice(1).map((outcome) => Number((outcome as PromiseFulfilledResult<TogetherResults>).value.reads[0].records[0].n))).toEqual(Array.from({ length: 29 }, (_, i) => i));
        expect(counted).toHaveBeenCalledTimes(31);
        expect(most).toBeLessThanOrEqual(8);
      } finally {
        counted.mockRestore();
      }
    } finally {
      await database.closeTogetherPool();
      await dataSource.query('DELETE FROM messages');
    }
  });

  it('knows a lease as its own when the round trip that took it failed after the commit, and gives a lease back by its time', async () => {
    const mysql = dataSource.options.type === 'mysql';
    const database = oneDeliveryConnection(dataSource);
    const store = new DeliveryStore(database);
    const conversationId = 'c-lost-answer';
    await insertConversations(dataSource, [conversationId]);
    await insertMessages(dataSource, [['l-1', conversationId, 'in', 'queued', 1], ['l-2', conversationId, 'in', 'queued', 2], ['l-other', 'c-other', 'in', 'queued', 1]]);
    const lockedUntil = async (id: string) => (await dataSource.getRepository(Message).findOneByOrFail({ id })).lockedUntil;
    const now = new Date('2026-06-01T12:00:00.000Z');
    const lease = new Date('2026-06-01T12:05:00.321Z');
    try {
      if (mysql) {
        // The round trip that holds the lease runs, commits, and then its answer is lost (the connection dropped): the shared
        // group runs each work again alone, and the lease's second run finds the head held, by the first run.
        const runTogether = database.runTogether.bind(database);
        const answerLostOnce = (marker: string) => {
          let lost = false;
          return jest.spyOn(database, 'runTogether').mockImplementation(async (statements) => {
            const results = await runTogether(statements);
            if (!lost && statements.some(([sql]) => sql.includes(marker))) {
              lost = true;
              throw new Error('Connection lost: The server closed the connection.');
            }
            return results;
          });
        };
        const withAnotherWork = async <T>(work: Promise<T>): Promise<T> =>
          (await Promise.all([work, database.mysqlTogether({ writes: [[`UPDATE messages SET updated_at = updated_at WHERE id = 'l-other'`, []]], reads: [] })]))[0];
        let lost = answerLostOnce('@relay_free_head');
        try {
          const started = await withAnotherWork(store.leaseHeadWithConversation(conversationId, now, lease));
          expect(started.leased).toMatchObject({ id: 'l-1', lockedUntil: lease });
          expect(lost).toHaveBeenCalledTimes(3); // the group, then each work alone
        } finally {
          lost.mockRestore();
        }
        // Another job's lease is not taken for this call's on a repeat: its time is not this call's.
        lost = answerLostOnce('@relay_free_head');
        try {
          expect((await withAnotherWork(store.leaseHeadWithConversation(conversationId, now, new Date(lease.getTime() + 7)))).leased).toBeNull();
        } finally {
          lost.mockRestore();
        }
        expect(await lockedUntil('l-1')).toEqual(lease);

        // The same for a lease by id (a job's later messages).
        await dataSource.query(`UPDATE messages SET status = 'delivered', locked_until = NULL WHERE id = 'l-1'`);
        lost = answerLostOnce('FORCE INDEX (PRIMARY) SET locked_until');
        try {
          expect(await withAnotherWork(store.claim('l-2', now, lease))).toBe(true);
        } finally {
          lost.mockRestore();
        }
        lost = answerLostOnce('FORCE INDEX (PRIMARY) SET locked_until');
        try {
          expect(await withAnotherWork(store.claim('l-2', now, new Date(lease.getTime() + 7)))).toBe(false);
        } finally {
          lost.mockRestore();
        }
      } else {
        await dataSource.query(`UPDATE messages SET status = 'delivered' WHERE id = 'l-1'`);
        expect(await store.claim('l-2', now, lease)).toBe(true);
      }
      expect(await lockedUntil('l-2')).toEqual(lease);

      // Given back by its time only: another lease's time changes nothing, nor does a message recorded meanwhile; named
      // by its message, only that message's.
      expect(await store.releaseLease(conversationId, new Date(lease.getTime() + 7))).toBe(0);
      expect(await store.releaseLease(conversationId, lease, 'l-1')).toBe(0);
      expect(await lockedUntil('l-2')).toEqual(lease);
      expect(await store.releaseLease(conversationId, lease, 'l-2')).toBe(1);
      expect(await lockedUntil('l-2')).toBeNull();
      expect(await store.claim('l-2', now, lease)).toBe(true);
      expect(await store.releaseLease(conversationId, lease)).toBe(1);
      expect(await lockedUntil('l-2')).toBeNull();
      expect(await store.claim('l-2', now, lease)).toBe(true);
      await dataSource.query(`UPDATE messages SET status = 'delivered' WHERE id = 'l-2'`);
      expect(await store.releaseLease(conversationId, lease)).toBe(0);
      expect((await dataSource.query(`SELECT status FROM messages WHERE id = 'l-2'`))[0].status).toBe('delivered');
    } finally {
      if (mysql) await database.closeTogetherPool();
      await dataSource.query('DELETE FROM messages');
      await dataSource.query('DELETE FROM conversations');
      await dataSource.query('DELETE FROM integrations');
    }
  });

  it('runs a work again when InnoDB made it the victim of a deadlock, instead of failing it', async () => {
    if (dataSource.options.type !== 'mysql') return;
    const database = oneDeliveryConnection(dataSource);
    // The other transaction changes 19 rows first (all but `second`), so InnoDB rolls back the work's smaller transaction.
    const rows: MessageRow[] = Array.from({ length: 20 }, (_, i) => [padded('d', i), 'c-deadlock', 'in', 'queued', i]);
    await insertMessages(dataSource, rows);
    const [first, second] = [padded('d', 0), padded('d', 1)];
    const other = dataSource.createQueryRunner();
    const runTogether = database.runTogether.bind(database);
    const failures: string[] = [];
    const roundTrips = jest.spyOn(database, 'runTogether').mockImplementation(async (statements) => {
      try {
        return await runTogether(statements);
      } catch (error) {
        failures.push(driverErrorCode(error) ?? String(error));
        throw error;
      }
    });
    try {
      await database.mysqlTogether({ writes: [], reads: [['SELECT 1', []]] }); // the delivery connection is open
      await other.startTransaction();
      // One row at a time, by primary key: a statement over many rows of this small table may scan it and lock `second` too.
      for (const [id] of rows) if (id !== second) await other.query(`UPDATE messages SET attempts = 5 WHERE id = ?`, [id]);
      // The work locks `second`, then waits for `first`, which the other transaction holds...
      const work = database.mysqlTogether({
        writes: [[`UPDATE messages SET attempts = 2 WHERE id = ?`, [second]], [`UPDATE messages SET attempts = 2 WHERE id = ?`, [first]]],
        reads: [[`SELECT attempts FROM messages WHERE id = ?`, [first]]],
      });
      for (let waited = 0; waited < 5_000; waited += 20) {
        const [{ n }] = await dataSource.query(`SELECT COUNT(*) AS n FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'`);
        if (Number(n) > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      // ...which now wants `second`: a deadlock. The work's transaction is rolled back, and it runs again once the other commits.
      await other.query(`UPDATE messages SET attempts = 3 WHERE id = ?`, [second]);
      await other.commitTransaction();
      const result = await work;
      expect(failures).toEqual(['ER_LOCK_DEADLOCK']);
      expect(roundTrips).toHaveBeenCalledTimes(3); // the opening read, the deadlocked one, the one run again
      expect(result.writes.map((write) => write.affected)).toEqual([1, 1]);
      expect(result.reads[0].records).toEqual([{ attempts: 2 }]);
    } finally {
      roundTrips.mockRestore();
      if (other.isTransactionActive) await other.rollbackTransaction();
      await other.release();
      await database.closeTogetherPool();
      await dataSource.query('DELETE FROM messages');
    }
  });

  it('runs a batched transaction: writes go with the next read or the commit, and a failed write undoes the whole transaction', async () => {
    const mysql = dataSource.options.type === 'mysql';
    const database = oneDeliveryConnection(dataSource);
    await insertMessages(dataSource, [['b-1', 'c-batched', 'in', 'queued', 1], ['b-2', 'c-batched', 'in', 'queued', 2]]);
    const statusOf = async (id: string) => (await dataSource.query('SELECT status FROM messages WHERE id = ?', [id]))[0].status;
    try {
      const before = database.mysqlRoundTrips;
      const changed: number[] = [];
      const read = await database.batchedTransaction(async (statements) => {
        await statements.write(`UPDATE messages SET status = 'delivered' WHERE id = ?`, ['b-1'], (rows) => changed.push(rows));
        const [queued, all] = await statements.reads([
          [`SELECT id FROM messages WHERE conversation_id = ? AND status = 'queued'`, ['c-batched']],
          [`SELECT COUNT(*) AS n FROM messages WHERE conversation_id = ?`, ['c-batched']],
        ]);
        await statements.write(`UPDATE messages SET status = 'failed' WHERE conversation_id = ?`, ['c-none'], (rows) => changed.push(rows));
        await statements.write(`UPDATE messages SET status = 'failed' WHERE id = ?`, ['b-2']);
        return { queued, count: Number(all[0].n) };
      });
      expect(read).toEqual({ queued: [{ id: 'b-2' }], count: 2 });
      // Each write that asked is told how many rows it changed, by the time the transaction has committed.
      expect(changed).toEqual([1, 0]);
      expect([await statusOf('b-1'), await statusOf('b-2')]).toEqual(['delivered', 'failed']);
      // START TRANSACTION, the first write and both reads in one round trip; the last write with the COMMIT.
      if (mysql) expect(database.mysqlRoundTrips - before).toBe(2);

      // A write that fails (a duplicate id) fails the transaction when it is sent: nothing of it is kept, the connection is clean.
      const failing = database.batchedTransaction(async (statements) => {
        await statements.write(`UPDATE messages SET status = 'queued' WHERE id = ?`, ['b-1']);
        await statements.write(`UPDATE messages SET id = ? WHERE id = ?`, ['b-1', 'b-2']);
        await statements.reads([['SELECT 1 AS one', []]]);
      });
      await expect(failing).rejects.toBeInstanceOf(QueryFailedError);
      expect([await statusOf('b-1'), await statusOf('b-2')]).toEqual(['delivered', 'failed']);
      // So is a transaction whose work throws.
      await expect(database.batchedTransaction(async (statements) => {
        await statements.reads([[`UPDATE messages SET status = 'queued' WHERE id = ?`, ['b-1']]]);
        throw new Error('changed its mind');
      })).rejects.toThrow('changed its mind');
      expect(await statusOf('b-1')).toBe('delivered');
      if (mysql) {
        const [state] = await database.runTogether([['SELECT @@in_transaction AS open', []]]);
        expect(state.records).toEqual([{ open: '0' }]);
      }
    } finally {
      if (mysql) await database.closeTogetherPool();
      await dataSource.query('DELETE FROM messages');
    }
  });

  it('can be rolled back to empty and applied again', async () => {
    for (let i = 0; i < migrations.length; i++) await dataSource.undoLastMigration({ transaction: 'none' });
    expect(await dataSource.createQueryRunner().hasTable('messages')).toBe(false);
    expect((await runMigrations(dataSource)).length).toBe(migrations.length);
  });
});
