import { SecretBox } from '../../src/common/crypto/secret-box';
import { Database, Statement } from '../../src/database/database';
import { DeliveryStore } from '../../src/relay/delivery-store';
import { DeliverySettings } from '../../src/relay/delivery.settings';
import { DeliveryService } from '../../src/relay/delivery.service';
import { DeliverConversation } from '../../src/relay/relay.jobs';
import { JobQueue } from '../../src/queue/job-queue';
import { backends } from '../support/backends';
import { Harness, newTenant, postAndStore, settledMessages, startHarness } from './inbound-harness';
import { messaging, page, textEvent } from './webhook-signing';

/**
 * A delivery step that fails while it holds a message's lease (the database restarted, the connection dropped) gives
 * the lease back, so the job's retry, seconds later, delivers the message; a lease left behind would hold the message
 * (and the conversation after it) for the lease's 5 minutes.
 */
describe.each(backends())('delivery leases after a failed step on %s', (backend) => {
  let h: Harness;
  let settings: DeliverySettings;
  let testLeaseMs: number;
  beforeAll(async () => {
    h = await startHarness(backend);
    settings = h.relay.get(DeliverySettings);
    testLeaseMs = settings.leaseMs;
    settings.leaseMs = 5 * 60_000; // production's: a lease left behind would outlast the test
  });
  afterAll(async () => {
    if (settings) settings.leaseMs = testLeaseMs;
    await h?.close();
  });

  const connectionLost = () => new Error('Connection lost: The server closed the connection.');

  /** Two messages in one conversation, and the contact center's notifications of them (accepted ones, in order). */
  async function deliverTwo(label: string): Promise<{ bodies: string[]; deliveryIds: string[]; statuses: string[]; seconds: number }> {
    const t = await newTenant(h);
    const started = Date.now();
    const psid = '77';
    await postAndStore(h.relay, h.fb.appSecret, page(messaging(t.pageId, [
      textEvent(t.pageId, psid, `${label} 1`, {}, 1_700_000_000_001), textEvent(t.pageId, psid, `${label} 2`, {}, 1_700_000_000_002),
    ])));
    const rows = await settledMessages(h.relay, t.integration.id, 20_000);
    const notes = h.cc.control.notifications({ accountId: t.accountId, acceptedOnly: true });
    return {
      bodies: notes.map((note) => (note.body as { body: string }).body),
      deliveryIds: notes.map((note) => note.deliveryId!),
      statuses: rows.map((row) => `${row.text}: ${row.status}, ${row.attempts}`),
      seconds: (Date.now() - started) / 1000,
    };
  }

  it('a record that fails gives its lease back: the message is delivered again seconds later, under the same delivery id', async () => {
    const record = jest.spyOn(DeliveryStore.prototype, 'record').mockRejectedValueOnce(connectionLost());
    let delivered;
    try {
      delivered = await deliverTwo('record fails');
    } finally {
      record.mockRestore();
    }
    // The contact center got the first message, its record failed, and the job's retry sent it again.
    expect(delivered.bodies).toEqual(['record fails 1', 'record fails 1', 'record fails 2']);
    expect(delivered.deliveryIds[0]).toBe(delivered.deliveryIds[1]);
    expect(delivered.statuses).toEqual(['record fails 1: delivered, 1', 'record fails 2: delivered, 1']);
    expect(delivered.seconds).toBeLessThan(20);
  });

  it('a lease the database refused to take back (it was down) is given back once it answers, and its conversation enqueued again', async () => {
    // Production's sweeper, whose query would find the message only a minute after it was due.
    const sweeper = { sweepIntervalMs: settings.sweepIntervalMs, sweepGraceMs: settings.sweepGraceMs };
    Object.assign(settings, { sweepIntervalMs: 30_000, sweepGraceMs: 60_000 });
    const record = jest.spyOn(DeliveryStore.prototype, 'record').mockRejectedValueOnce(connectionLost());
    const release = jest.spyOn(DeliveryStore.prototype, 'releaseLease').mockRejectedValueOnce(connectionLost());
    const enqueued = jest.spyOn(h.relay.get(JobQueue), 'add');
    let delivered;
    try {
      delivered = await deliverTwo('database down');
      expect(release.mock.calls.length).toBeGreaterThanOrEqual(2); // refused, then given back
      // A job of its own: the conversation's job may have failed for good while the database was away.
      expect(enqueued.mock.calls.some(([job, , options]) => job === DeliverConversation && /-lease-\d+$/.test(options?.jobId ?? ''))).toBe(true);
    } finally {
      record.mockRestore();
      release.mockRestore();
      enqueued.mockRestore();
      Object.assign(settings, sweeper);
    }
    expect(delivered.bodies).toEqual(['database down 1', 'database down 1', 'database down 2']);
    expect(delivered.statuses).toEqual(['database down 1: delivered, 1', 'database down 2: delivered, 1']);
    expect(delivered.seconds).toBeLessThan(20);
    expect(await h.relay.get(DeliveryService).giveBackKeptLeases()).toBe(0);
  });

  it("a contact center's address that cannot be decrypted once (after the job leased the head) does not hold the conversation back", async () => {
    const decrypt = jest.spyOn(SecretBox.prototype, 'decrypt').mockImplementationOnce(() => {
      throw new Error('Unsupported state or unable to authenticate data');
    });
    let delivered;
    try {
      delivered = await deliverTwo('decrypt fails');
      expect(decrypt).toHaveBeenCalled();
    } finally {
      decrypt.mockRestore();
    }
    expect(delivered.bodies).toEqual(['decrypt fails 1', 'decrypt fails 2']);
    expect(delivered.statuses).toEqual(['decrypt fails 1: delivered, 1', 'decrypt fails 2: delivered, 1']);
    expect(delivered.seconds).toBeLessThan(20);
  });

  // The round trip commits and then its answer is lost: the step cannot know whether it took the lease (or recorded).
  const answerLost: Array<[string, (sql: string) => boolean]> = [
    ["the job's first lease, read with the conversation", (sql) => sql.includes('@relay_free_head')],
    ["a later message's lease by its id", (sql) => sql.includes('SET locked_until = ? WHERE id = ? AND')],
    ["an attempt's record", (sql) => sql.startsWith('INSERT INTO delivery_attempts')],
  ];
  (backend.databaseUrl ? it.each(answerLost) : it.skip.each(answerLost))(
    `the answer to %s lost after the commit: everything delivered once, in seconds${backend.databaseUrl ? '' : ' (skipped: only MySQL round trips can fail after their commit)'}`,
    async (_step, matches) => {
      const database = h.relay.get(Database);
      const runTogether = database.runTogether.bind(database);
      let lost = 0;
      const spy = jest.spyOn(database, 'runTogether').mockImplementation(async (statements: Statement[]) => {
        const results = await runTogether(statements);
        if (!lost && statements.some(([sql]) => matches(sql.trim()))) {
          lost++;
          throw connectionLost();
        }
        return results;
      });
      let delivered;
      try {
        delivered = await deliverTwo('answer lost');
      } finally {
        spy.mockRestore();
      }
      expect(lost).toBe(1);
      expect(delivered.bodies).toEqual(['answer lost 1', 'answer lost 2']);
      expect(delivered.statuses).toEqual(['answer lost 1: delivered, 1', 'answer lost 2: delivered, 1']);
      expect(delivered.seconds).toBeLessThan(20);
    },
  );
});
