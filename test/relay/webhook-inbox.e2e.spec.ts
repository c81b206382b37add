import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from '../../src/database/database';
import { Conversation } from '../../src/relay/conversation.entity';
import { IngestService } from '../../src/relay/ingest.service';
import { InboxProcessor } from '../../src/webhooks/inbox-processor';
import { WebhookInbox } from '../../src/webhooks/webhook-inbox';
import { backends } from '../support/backends';
import { createIntegration } from '../support/fixtures';
import { startTestApp } from '../support/test-app';
import { createScratchMysqlDatabase } from '../support/test-database';
import { Harness, messagesOf, newTenant, postAndStore, relayEnv, startHarness } from './inbound-harness';
import { messaging, metaJson, page, postWebhook, textEvent } from './webhook-signing';

interface InboxRowState {
  id: string;
  attempts: number | string;
  last_error: string | null;
  retry_at: unknown;
}

const inboxRows = (database: Database): Promise<InboxRowState[]> =>
  database.dataSource.query('SELECT id, attempts, last_error, retry_at FROM webhook_inbox ORDER BY received_at, id');

describe.each(backends())('the webhook inbox on %s', (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(() => h?.close());

  const database = () => h.relay.get(Database);
  const inbox = () => h.relay.get(WebhookInbox);
  const processor = () => h.relay.get(InboxProcessor);

  it('answers 200 once the body is in the inbox, then turns it into messages and deletes the row in the same step', async () => {
    const t = await newTenant(h);
    const answer = await postWebhook(h.relay.url, h.fb.appSecret, page(messaging(t.pageId, [textEvent(t.pageId, 'inbox-1', 'Olá')])));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ ok: true });
    expect(answer.headers['x-request-id']).toEqual(expect.any(String));
    await processor().idle();
    expect(await messagesOf(h.relay, t.integration.id)).toHaveLength(1);
    expect(await inboxRows(database())).toEqual([]);
    await h.cc.control.waitForNotifications(1, { accountId: t.accountId, acceptedOnly: true });
  });

  it('keeps the exact bytes of POSTs appended together, their arrival time, and their lease', async () => {
    // On MySQL POSTs of one turn go in one multi-row INSERT: every byte value, and a body of 1 MB.
    const everyByte = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
    const large = Buffer.alloc(1024 * 1024, '{"object":"page"}');
    const before = Date.now();
    const leaseUntil = new Date(before + 60_000);
    const ids = await Promise.all([inbox().append(everyByte, leaseUntil), inbox().append(large, leaseUntil), inbox().append(Buffer.from('{}'), leaseUntil)]);
    try {
      const stored: Array<{ id: string; received_at: Date | string }> = await database().dataSource.query(
        `SELECT id, received_at FROM webhook_inbox WHERE id IN (?, ?, ?) ORDER BY id`, ids);
      expect(stored.map((row) => row.id)).toEqual([...ids].sort());
      for (const row of stored) {
        // SQLite keeps UTC text; mysql2 reads DATETIME in UTC (timezone 'Z'), as it must have written it.
        const receivedAt = row.received_at instanceof Date ? row.received_at.getTime() : Date.parse(`${row.received_at.replace(' ', 'T')}Z`);
        expect(Math.abs(receivedAt - before)).toBeLessThan(5_000);
      }
      // Not free before their lease ends (a lease written in another time zone than the reads' would be off by hours).
      const now = new Date();
      expect(await inbox().take(now, new Date(now.getTime() + 1_000), 10)).toEqual([]);
      const later = new Date(before + 61_000);
      const taken = await inbox().take(later, new Date(later.getTime() + 60_000), 10);
      expect(taken.map((row) => row.id).sort()).toEqual([...ids].sort());
      expect(taken.find((row) => row.id === ids[0])!.body.equals(everyByte)).toBe(true);
      expect(taken.find((row) => row.id === ids[1])!.body.equals(large)).toBe(true);
    } finally {
      await database().dataSource.query('DELETE FROM webhook_inbox WHERE id IN (?, ?, ?)', ids);
    }
  });

  it('stores a POST that its process never got to (a crash between the commit and the processing) in the recovery pass, once', async () => {
    const t = await newTenant(h);
    const body = Buffer.from(metaJson(page(messaging(t.pageId, [textEvent(t.pageId, 'inbox-2', 'Ficou no inbox')]))));
    const first = await inbox().append(body, null);
    const second = await inbox().append(body, null); // Facebook sent it twice
    expect((await inboxRows(database())).map((row) => row.id)).toEqual([first, second]);
    expect(await messagesOf(h.relay, t.integration.id)).toHaveLength(0);

    await processor().recover();
    expect(await inboxRows(database())).toEqual([]);
    const [row] = await messagesOf(h.relay, t.integration.id);
    expect(row).toMatchObject({ text: 'Ficou no inbox', direction: 'in' });
    const [note] = await h.cc.control.waitForNotifications(1, { accountId: t.accountId, acceptedOnly: true });
    expect(note.deliveryId).toBe(row.id);
  });

  it('tries a POST again within a second when the database failed while storing it, without waiting for its lease to end', async () => {
    const t = await newTenant(h);
    const ingest = h.relay.get(IngestService);
    const ingestBatch = jest.spyOn(ingest, 'ingestBatch')
      .mockRejectedValueOnce(new Error('Connection lost: The server closed the connection.'))
      .mockRejectedValueOnce(new Error('connect ECONNREFUSED 127.0.0.1:3306'));
    try {
      const started = Date.now();
      const answer = await postAndStore(h.relay, h.fb.appSecret, page(messaging(t.pageId, [textEvent(t.pageId, 'inbox-db-blip', 'Depois do restart')])));
      expect(answer.status).toBe(200);
      expect(ingestBatch).toHaveBeenCalledTimes(3);
      expect(Date.now() - started).toBeLessThan(5_000); // 250 ms, then 500 ms; the lease is a minute
      const [row] = await messagesOf(h.relay, t.integration.id);
      expect(row).toMatchObject({ text: 'Depois do restart' });
      expect(await inboxRows(database())).toEqual([]);
    } finally {
      ingestBatch.mockRestore();
    }
  });

  it('records why storing a POST failed, and tries it again after 2 s rather than at the next 30-second pass', async () => {
    const t = await newTenant(h);
    const ingest = h.relay.get(IngestService);
    const ingestBatch = jest.spyOn(ingest, 'ingestBatch')
      .mockResolvedValueOnce([{ ok: false, error: new Error('Deadlock found when trying to get lock; try restarting transaction') }]);
    try {
      const answer = await postAndStore(h.relay, h.fb.appSecret, page(messaging(t.pageId, [textEvent(t.pageId, 'inbox-deadlock', 'Outra vez')])));
      expect(answer.status).toBe(200);
      const [row] = await inboxRows(database());
      expect(row).toMatchObject({ last_error: expect.stringContaining('Deadlock found') });
      expect(Number(row.attempts)).toBe(1);
      const failedAt = Date.now();
      while (!(await messagesOf(h.relay, t.integration.id)).length && Date.now() - failedAt < 10_000) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(Date.now() - failedAt).toBeGreaterThan(1_500);
      expect(Date.now() - failedAt).toBeLessThan(5_000);
      expect(await messagesOf(h.relay, t.integration.id)).toEqual([expect.objectContaining({ text: 'Outra vez' })]);
      await processor().idle();
      expect(await inboxRows(database())).toEqual([]);
    } finally {
      ingestBatch.mockRestore();
    }
  });

  it('stores a POST with more events than a batch in parts, and after a part failed, all of it once', async () => {
    const t = await newTenant(h);
    const ingest = h.relay.get(IngestService);
    const original = ingest.ingestBatch.bind(ingest);
    const parts: number[] = [];
    // 700 events: more than a transaction takes (500 at most); the second part fails the first time.
    const ingestBatch = jest.spyOn(ingest, 'ingestBatch').mockImplementation(async (items) => {
      parts.push(items.reduce((n, item) => n + item.parsed.events.length, 0));
      if (parts.length === 2) throw new Error('Connection lost: The server closed the connection.');
      return original(items);
    });
    try {
      const base = 1_700_200_000_000;
      const body = page(...Array.from({ length: 700 }, (_, i) => messaging(t.pageId, [textEvent(t.pageId, `parts-${i % 7}`, `p${i}`, {}, base + i)])));
      const answer = await postAndStore(h.relay, h.fb.appSecret, body);
      expect(answer.status).toBe(200);
      // In parts (50 events while POSTs arrive, 500 once they stop), tried again as a whole after the failed part:
      // the parts stored before it are duplicates then.
      expect(parts.length).toBeGreaterThan(3);
      expect(Math.max(...parts)).toBeLessThanOrEqual(500);
      expect(parts.slice(2).reduce((sum, n) => sum + n, 0)).toBe(700);
    } finally {
      ingestBatch.mockRestore();
    }
    const rows = await messagesOf(h.relay, t.integration.id);
    expect(rows).toHaveLength(700);
    expect(await inboxRows(database())).toEqual([]);
    const notes = await h.cc.control.waitForNotifications(700, { accountId: t.accountId, acceptedOnly: true, timeoutMs: 60_000 });
    expect(new Set(notes.map((note) => note.deliveryId)).size).toBe(700);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(h.cc.control.notifications({ accountId: t.accountId, acceptedOnly: true })).toHaveLength(700);
  }, 60_000);

  it('keeps a body it cannot process, with the reason, and tries it again only after a pause', async () => {
    const id = await inbox().append(Buffer.from('{"object":"page","entry":['), null); // cannot happen through the intake (it answers 400)
    await processor().recover();
    const [row] = await inboxRows(database());
    expect(row).toMatchObject({ id, last_error: expect.stringContaining('The stored body cannot be read') });
    expect(Number(row.attempts)).toBe(1);
    expect(new Date(`${String(row.retry_at instanceof Date ? row.retry_at.toISOString() : `${row.retry_at}Z`)}`).getTime()).toBeGreaterThan(Date.now() + 20_000);

    await processor().recover();
    expect(Number((await inboxRows(database()))[0].attempts)).toBe(1); // not retried in a loop
    await database().dataSource.query('DELETE FROM webhook_inbox WHERE id = ?', [id]);
  });

  it('absorbs a burst larger than it keeps in memory in the table, and stores all of it, each customer\'s messages in order', async () => {
    const t = await newTenant(h);
    const base = 1_700_100_000_000;
    // 6 POSTs of 1000 events at once: more than the 5,000 events a process keeps in memory.
    const bodies = Array.from({ length: 6 }, (_, n) => page(...Array.from({ length: 1000 }, (_, i) =>
      messaging(t.pageId, [textEvent(t.pageId, `burst-${i % 20}`, `n${n * 1000 + i}`, {}, base + n * 1000 + i)]))));
    const answers = await Promise.all(bodies.map((body) => postWebhook(h.relay.url, h.fb.appSecret, body)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    await processor().idle();
    const rows = await messagesOf(h.relay, t.integration.id);
    expect(rows).toHaveLength(6000);
    expect(await inboxRows(database())).toEqual([]);
    const notes = await h.cc.control.waitForNotifications(6000, { accountId: t.accountId, acceptedOnly: true, timeoutMs: 60_000 });
    const byCustomer = new Map<string, number[]>();
    for (const note of notes) {
      const body = note.body as { from: string; body: string };
      byCustomer.set(body.from, [...(byCustomer.get(body.from) ?? []), Number(body.body.slice(1))]);
    }
    for (const sequence of byCustomer.values()) expect(sequence).toEqual([...sequence].sort((a, b) => a - b));
    // Each conversation's 24-hour window starts at its customer's newest message (batched updates on MySQL).
    const newest = new Map<string, number>();
    for (const row of rows) newest.set(row.conversationId!, Math.max(newest.get(row.conversationId!) ?? 0, row.occurredAt));
    const windows = await database().repo(Conversation).findBy({ integrationId: t.integration.id });
    expect(windows).toHaveLength(20);
    for (const conversation of windows) expect(conversation.lastCustomerMessageAt?.getTime()).toBe(newest.get(conversation.id));
  }, 120_000);

  it('does not store or keep webhooks it refuses, nor ones with nothing the relay handles', async () => {
    const t = await newTenant(h);
    const refused = await postWebhook(h.relay.url, 'wrong-secret', page(messaging(t.pageId, [textEvent(t.pageId, 'inbox-3', 'x')])));
    expect(refused.status).toBe(401);
    const optin = await postWebhook(h.relay.url, h.fb.appSecret, page(messaging(t.pageId, [{ sender: { id: '9' }, recipient: { id: t.pageId }, timestamp: 1, optin: { ref: 'x' } }])));
    expect(optin.status).toBe(200);
    const text = await postWebhook(h.relay.url, h.fb.appSecret, undefined, { raw: metaJson(page(messaging(t.pageId, []))), headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
    expect(JSON.parse(text.body).message).toContain('application/json');
    await processor().idle();
    expect(await inboxRows(database())).toEqual([]);
  });
});

describe.each(backends())('the webhook inbox across a restart on %s', (backend) => {
  it('stores, before answering any new webhook, the POSTs a process had accepted but not processed when it died', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'relay-inbox-'));
    const scratch = backend.databaseUrl ? await createScratchMysqlDatabase(backend.databaseUrl) : undefined;
    const h = await startHarness(backends()[0]);
    try {
      // The same database for both lives of the relay (the data directory holds the SQLite file and the key).
      const env = { ...relayEnv(h.fb), DATA_DIR: dataDir, ...(scratch ? { DATABASE_URL: scratch.url } : {}) };
      const before = await startTestApp({ backend, env });
      const pageId = `71${Date.now() % 1e9}`;
      const account = h.cc.control.createAccount({});
      const { integration } = await createIntegration(before, { openchannelUrl: h.cc.receiveUrl(account.id), pageId });
      // Leased to this process for a minute, as a POST it had answered 200 and not processed yet.
      const older = textEvent(pageId, 'inbox-4', 'Antes do reinício', {}, Date.now() - 1_000);
      await before.get(WebhookInbox).append(Buffer.from(metaJson(page(messaging(pageId, [older])))), new Date(Date.now() + 60_000));
      await before.close();

      const after = await startTestApp({ backend, env });
      try {
        // Right away, not once the dead process's lease ran out: the boot pass ran before the app listened.
        expect((await messagesOf(after, integration.id)).map((m) => m.text)).toEqual(['Antes do reinício']);
        expect(await inboxRows(after.get(Database))).toEqual([]);
        await postAndStore(after, h.fb.appSecret, page(messaging(pageId, [textEvent(pageId, 'inbox-4', 'Depois do reinício')])));
        const notes = await h.cc.control.waitForNotifications(2, { accountId: account.id, acceptedOnly: true });
        expect(notes.map((n) => (n.body as { body: string }).body)).toEqual(['Antes do reinício', 'Depois do reinício']);
      } finally {
        await after.close();
      }
    } finally {
      await h.close();
      await scratch?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
