import { Database } from '../../src/database/database';
import { newId } from '../../src/common/ids';
import { DeliveryAttempt } from '../../src/relay/delivery-attempt.entity';
import { DeliverySettings } from '../../src/relay/delivery.settings';
import { DeliveryService } from '../../src/relay/delivery.service';
import { DeliverConversation } from '../../src/relay/relay.jobs';
import { JobQueue } from '../../src/queue/job-queue';
import { Message } from '../../src/relay/message.entity';
import { Integration } from '../../src/integrations/integration.entity';
import { IngestService } from '../../src/relay/ingest.service';
import { Conversation } from '../../src/relay/conversation.entity';
import { backends } from '../support/backends';
import { createConversation } from '../support/fixtures';
import { Harness, messagesOf, newTenant, postAndStore, settledMessages, startHarness, VERIFY_TOKEN, waitFor } from './inbound-harness';
import { feed, messaging, page, postWebhook, textEvent } from './webhook-signing';

describe.each(backends())('inbound webhooks to the contact center on %s', (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(() => h?.close());

  const notifications = (accountId: number) => h.cc.control.notifications({ accountId, acceptedOnly: true });
  const waitNotified = (accountId: number, count: number, timeoutMs = 10_000) => h.cc.control.waitForNotifications(count, { accountId, acceptedOnly: true, timeoutMs });
  const post = (payload: unknown, options?: Parameters<typeof postWebhook>[3]) => postAndStore(h.relay, h.fb.appSecret, payload, options);

  describe('the endpoint', () => {
    it('echoes the challenge only for the right verify token', async () => {
      const ok = await fetch(`${h.relay.url}/webhooks/facebook?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=${VERIFY_TOKEN}`);
      expect(ok.status).toBe(200);
      expect(await ok.text()).toBe('1158201444');
      const wrong = await fetch(`${h.relay.url}/webhooks/facebook?hub.mode=subscribe&hub.challenge=1&hub.verify_token=nope`);
      expect(wrong.status).toBe(403);
    });

    it('refuses missing or wrong signatures (401, nothing stored), malformed bodies (400), and accepts unknown event kinds', async () => {
      const t = await newTenant(h);
      const body = page(messaging(t.pageId, [textEvent(t.pageId, '555', 'hello')]));
      expect((await post(body, { signature: null })).status).toBe(401);
      expect((await post(body, { signature: 'sha256=' + 'a'.repeat(64) })).status).toBe(401);
      const wrongSecret = await postWebhook(h.relay.url, 'not-the-app-secret', body);
      expect(wrongSecret.status).toBe(401);
      expect(JSON.parse(wrongSecret.body).message).toContain('X-Hub-Signature-256');
      expect(await messagesOf(h.relay, t.integration.id)).toHaveLength(0);

      expect((await post(null, { raw: '{"object":"page","entry":[' })).status).toBe(400);
      const instagram = await post({ object: 'instagram', entry: [] });
      expect(instagram.status).toBe(400);
      expect(JSON.parse(instagram.body).message).toContain('instagram');
      expect((await post(page(messaging(t.pageId, [{ sender: { id: '555' }, recipient: { id: t.pageId }, timestamp: 1, optin: { ref: 'x' } }])))).status).toBe(200);
      expect(await messagesOf(h.relay, t.integration.id)).toHaveLength(0);
    });
  });

  // Before any delivery starts in this app: the delivery statements share the same connections and their count.
  (backend.databaseUrl ? it : it.skip)(`stores a batch in two round trips on MySQL, three when it creates conversations${backend.databaseUrl ? '' : ' (skipped: SQLite has no round trips)'}`, async () => {
    const t = await newTenant(h, { enabled: false }); // held: nothing is delivered, so only the ingest counts
    const database = h.relay.get(Database);
    const batch = (text: string) => page(...['701', '702', '703'].map((psid, i) => messaging(t.pageId, [textEvent(t.pageId, psid, `${text} ${i}`)])));
    let before = database.mysqlRoundTrips;
    expect((await post(batch('first'))).status).toBe(200);
    expect(database.mysqlRoundTrips - before).toBe(3);
    before = database.mysqlRoundTrips;
    expect((await post(batch('second'))).status).toBe(200);
    expect(database.mysqlRoundTrips - before).toBe(2);
    const stored = await messagesOf(h.relay, t.integration.id);
    expect(stored.map((m) => [m.text, m.status])).toEqual([
      ['first 0', 'held'], ['first 1', 'held'], ['first 2', 'held'], ['second 0', 'held'], ['second 1', 'held'], ['second 2', 'held'],
    ]);
    expect(new Set(stored.map((m) => m.conversationId)).size).toBe(3);
  });

  it('stores a message whose new conversation another process created while the batch was being stored', async () => {
    const t = await newTenant(h, { enabled: false });
    const database = h.relay.get(Database);
    const batchedTransaction = database.batchedTransaction.bind(database);
    let created: Conversation | undefined;
    const spy = jest.spyOn(database, 'batchedTransaction').mockImplementation((work) => batchedTransaction((statements) => work({
      write: statements.write,
      reads: async (lookups) => {
        const rows = await statements.reads(lookups);
        // Right after the batch's first read, which found no conversation: another process creates it and commits.
        created ??= await createConversation(h.relay, t.integration, { customerId: '901' });
        return rows;
      },
    })));
    try {
      expect((await post(page(messaging(t.pageId, [textEvent(t.pageId, '901', 'meanwhile')])))).status).toBe(200);
    } finally {
      spy.mockRestore();
    }
    const stored = await messagesOf(h.relay, t.integration.id);
    expect(stored.map((m) => [m.text, m.status, m.conversationId])).toEqual([['meanwhile', 'held', created!.id]]);
  });

  it('counts a message another process stored while the batch was being stored as a duplicate, not as its own', async () => {
    const t = await newTenant(h, { enabled: false });
    const conversation = await createConversation(h.relay, t.integration, { customerId: '902' });
    const database = h.relay.get(Database);
    const ingest = h.relay.get(IngestService);
    const mid = `m_twice_${newId()}`;
    const now = new Date();
    const theirs: Message = {
      id: newId(), tenantId: t.integration.tenantId, integrationId: t.integration.id, conversationId: conversation.id, direction: 'in', kind: 'text',
      event: 'message', text: 'twice', payload: null, status: 'held', attempts: 0, lastError: null, nextAttemptAt: null, dedupKey: `${t.pageId}:m:${mid}:0`,
      externalId: mid, remoteId: null, blobId: null, occurredAt: now.getTime(), part: 0, createdAt: now, updatedAt: now, deliveredAt: null,
    };
    const batchedTransaction = database.batchedTransaction.bind(database);
    let stored = false;
    const spy = jest.spyOn(database, 'batchedTransaction').mockImplementation((work) => batchedTransaction((statements) => work({
      write: statements.write,
      reads: async (lookups) => {
        const rows = await statements.reads(lookups);
        // Right after the batch's read of the message keys, which did not find this one: another process stores it and commits.
        if (!stored) await database.repo(Message).insert(theirs);
        stored = true;
        return rows;
      },
    })));
    const outcomes = jest.spyOn(ingest, 'ingestBatch');
    try {
      expect((await post(page(messaging(t.pageId, [textEvent(t.pageId, '902', 'twice', { mid }, now.getTime())])))).status).toBe(200);
      expect(await outcomes.mock.results[0].value).toEqual([{ ok: true, result: { stored: 0, duplicates: 1, dropped: 0, ignored: 0 } }]);
    } finally {
      spy.mockRestore();
      outcomes.mockRestore();
    }
    expect((await messagesOf(h.relay, t.integration.id)).map((m) => m.id)).toEqual([theirs.id]);
  });

  (backend.databaseUrl ? it : it.skip)(`delivers a conversation in two round trips per message on MySQL${backend.databaseUrl ? '' : ' (skipped: SQLite has no round trips)'}`, async () => {
    const t = await newTenant(h, { enabled: false });
    const psid = t.customer();
    for (let i = 0; i < 4; i++) expect((await post(page(messaging(t.pageId, [textEvent(t.pageId, psid, `in turn ${i}`, {}, 1_700_000_200_000 + i)])))).status).toBe(200);
    const database = h.relay.get(Database);
    await database.repo(Integration).update({ id: t.integration.id }, { enabled: true });
    const before = database.mysqlRoundTrips;
    expect(await h.relay.get(DeliveryService).releaseHeld(t.integration.id)).toBe(4);
    const notes = await waitNotified(t.accountId, 4);
    expect(notes.map((n) => (n.body as any).body)).toEqual(['in turn 0', 'in turn 1', 'in turn 2', 'in turn 3']);
    expect((await settledMessages(h.relay, t.integration.id)).map((m) => m.status)).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
    // The job's first lease with its conversation; each attempt's record with the read of the next head; the next head's lease.
    // Leasing it in the record's round trip instead cost MariaDB more than the round trip saved (docs/performance.md, round 14).
    expect(database.mysqlRoundTrips - before).toBe(8);
  });

  it('forwards a Messenger text with the customer\'s names, delivery id and event headers (sent by the Facebook sandbox)', async () => {
    const t = await newTenant(h);
    const psid = t.customer('Maria', 'Gonçalves');
    const sent = h.fb.control.events.customerMessage({ psid, text: 'Olá! Não recebi a encomenda 📦 / 100%' });
    const [note] = await waitNotified(t.accountId, 1);
    expect(note.body).toMatchObject({
      from: psid, body: 'Olá! Não recebi a encomenda 📦 / 100%', mapKey: 'facebook', firstName: 'Maria', lastName: 'Gonçalves',
      name: 'Maria Gonçalves', phone: 'none', AttachmentId: null,
    });
    const [row] = await settledMessages(h.relay, t.integration.id);
    expect(row).toMatchObject({ status: 'delivered', externalId: sent.mid, dedupKey: `${t.pageId}:m:${sent.mid}:0`, attempts: 1 });
    expect(note.deliveryId).toBe(row.id);
    expect(note.event).toBe('message');
    const conversation = await h.relay.get(Database).repo(Conversation).findOneByOrFail({ id: row.conversationId! });
    expect(conversation.lastCustomerMessageAt?.getTime()).toBe(sent.timestamp);
  });

  it('copies attachments, uploads them and sends one notify each, in order after the text', async () => {
    const t = await newTenant(h);
    const psid = t.customer();
    h.fb.control.events.customerMessage({
      psid, text: 'Fotos e fatura',
      attachments: [{ type: 'image', filename: 'foto.png' }, { type: 'file', filename: 'fatura.pdf', contentType: 'application/pdf', dataBase64: Buffer.from('%PDF-1.4 test').toString('base64') }],
    } as never);
    const notes = await waitNotified(t.accountId, 3);
    expect(notes.map((n) => (n.body as any).body)).toEqual(['Fotos e fatura', 'foto.png', 'fatura.pdf']);
    expect((notes[0].body as any).AttachmentId).toBeNull();
    const uploaded = h.cc.control.attachment(Number((notes[2].body as any).AttachmentId));
    expect(uploaded?.name).toBe('fatura.pdf');
    expect(Buffer.from(uploaded!.data).toString()).toBe('%PDF-1.4 test');
    const rows = await settledMessages(h.relay, t.integration.id);
    expect(rows.map((r) => [r.kind, r.part, r.status, Boolean(r.blobId)])).toEqual([['text', 0, 'delivered', false], ['attachment', 1, 'delivered', true], ['attachment', 2, 'delivered', true]]);
  });

  it('handles postbacks, referrals, stickers, locations, shared links and reply_to, with names missing when the profile is not available', async () => {
    const t = await newTenant(h);
    const psid = t.customer('', '', false);
    h.fb.control.events.postback({ psid, title: 'Começar', payload: 'GET_STARTED', referral: { ref: 'verao', source: 'SHORTLINK', type: 'OPEN_THREAD' } });
    await waitNotified(t.accountId, 1);
    const first = h.fb.control.events.customerMessage({ psid, sticker: { stickerId: 369239263222822, style: 'both' } });
    await waitNotified(t.accountId, 2);
    h.fb.control.events.customerMessage({ psid, location: { lat: 38.72, long: -9.14, title: 'Casa' } });
    await waitNotified(t.accountId, 3);
    h.fb.control.events.customerMessage({ psid, fallback: { url: 'https://example.com/produto', title: 'Produto' }, replyToMid: first.mid });
    const notes = await waitNotified(t.accountId, 4);
    expect(notes.map((n) => [n.event, (n.body as any).body])).toEqual([
      ['postback', 'Começar'], ['message', '👍'], ['message', 'Casa: https://maps.google.com/?q=38.72,-9.14'], ['message', 'Produto: https://example.com/produto'],
    ]);
    expect((notes[0].body as any).referral).toMatchObject({ ref: 'verao', source: 'SHORTLINK' });
    expect((notes[3].body as any).replyTo).toBe(first.mid);
    for (const note of notes) expect(note.body).not.toHaveProperty('firstName');
  });

  it('stores a duplicate webhook once and forwards it once', async () => {
    const t = await newTenant(h);
    const body = page(messaging(t.pageId, [textEvent(t.pageId, '901', 'só uma vez')]));
    expect((await post(body)).status).toBe(200);
    expect((await post(body)).status).toBe(200);
    await waitNotified(t.accountId, 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(notifications(t.accountId)).toHaveLength(1);
    expect(await messagesOf(h.relay, t.integration.id)).toHaveLength(1);
  });

  it('splits one batch across two tenants, and drops (and counts) pages without an active integration', async () => {
    const a = await newTenant(h);
    const b = await newTenant(h);
    const superseded = await newTenant(h, { status: 'superseded' });
    const entries = [];
    for (let i = 0; i < 20; i++) entries.push(messaging(i % 2 ? b.pageId : a.pageId, [textEvent(i % 2 ? b.pageId : a.pageId, `c${i % 4}`, `n${i}`, {}, 1_700_000_000_000 + i)]));
    entries.push(messaging('999000999', [textEvent('999000999', 'x', 'nobody')]), messaging(superseded.pageId, [textEvent(superseded.pageId, 'x', 'old')]));
    expect((await post(page(...entries))).status).toBe(200);
    const [toA, toB] = await Promise.all([waitNotified(a.accountId, 10), waitNotified(b.accountId, 10)]);
    expect(toA.filter((n) => (n.body as any).from === 'c0').map((n) => (n.body as any).body)).toEqual(['n0', 'n4', 'n8', 'n12', 'n16']);
    expect(toB.filter((n) => (n.body as any).from === 'c3').map((n) => (n.body as any).body)).toEqual(['n3', 'n7', 'n11', 'n15', 'n19']);
    expect(await messagesOf(h.relay, superseded.integration.id)).toHaveLength(0);
    const metrics = await (await fetch(`${h.relay.url}/metrics`)).text();
    expect(metrics).toMatch(/relay_webhook_events_dropped_total\{reason="no_integration"\} [1-9]/);
  });

  it('matches echoes of its own sends without forwarding them, and forwards Page Inbox replies as the page\'s', async () => {
    const t = await newTenant(h);
    const psid = t.customer();
    const conversation = await createConversation(h.relay, t.integration, { customerId: psid });
    const outboundMid = `m_out_${newId()}`;
    // A reply whose send Facebook did but whose answer the relay never recorded: the echo names its row.
    const reply = { ...outbound(t.integration, conversation.id, outboundMid, 'sending', Date.now() - 1000), externalId: null };
    await h.relay.get(Database).repo(Message).insert(reply);
    const echo = (mid: string, metadata: string) => ({ sender: { id: t.pageId }, recipient: { id: psid }, timestamp: Date.now(), message: { is_echo: true, app_id: Number(h.fb.appId), mid, text: 'agent reply', metadata } });
    // The echo of one part of a split text confirms nothing; the echo of a whole reply confirms it.
    const partMid = `m_part_${newId()}`;
    expect((await post(page(messaging(t.pageId, [echo(partMid, `relay:outbound:${reply.id}#0`)])))).status).toBe(200);
    expect((await h.relay.get(Database).repo(Message).findOneByOrFail({ id: reply.id })).status).toBe('sending');
    expect((await post(page(messaging(t.pageId, [echo(outboundMid, `relay:outbound:${reply.id}`)])))).status).toBe(200);
    h.fb.control.events.pageInboxReply({ psid, text: 'Respondi pelo Inbox' });
    const [note] = await waitNotified(t.accountId, 1);
    expect(note.event).toBe('echo');
    expect(note.body).toMatchObject({ from: psid, body: '[Sent from Facebook by the page] Respondi pelo Inbox', sentByPage: true });
    const rows = await messagesOf(h.relay, t.integration.id);
    expect(rows.find((r) => r.externalId === outboundMid && r.direction === 'out')?.status).toBe('sent');
    expect(rows.find((r) => r.externalId === outboundMid && r.direction === 'in')?.status).toBe('skipped');
    expect(notifications(t.accountId)).toHaveLength(1);
    const conv = await h.relay.get(Database).repo(Conversation).findOneByOrFail({ id: conversation.id });
    expect(conv.lastCustomerMessageAt?.getTime()).toBe(conversation.lastCustomerMessageAt?.getTime());
  });

  it('moves outbound messages to delivered and read, and forwards reactions only when the tenant wants them', async () => {
    const t = await newTenant(h, { forwardReactions: true });
    const psid = t.customer();
    const conversation = await createConversation(h.relay, t.integration, { customerId: psid });
    const repo = h.relay.get(Database).repo(Message);
    const base = Date.now() - 60_000;
    await repo.insert([outbound(t.integration, conversation.id, 'm_o1', 'sent', base), outbound(t.integration, conversation.id, 'm_o2', 'sent', base + 1000), outbound(t.integration, conversation.id, 'm_o3', 'sent', base + 50_000)]);
    const frame = (body: object) => ({ sender: { id: psid }, recipient: { id: t.pageId }, timestamp: Date.now(), ...body });
    await post(page(messaging(t.pageId, [frame({ delivery: { watermark: base + 1000 } }), frame({ read: { watermark: base } })])));
    const statuses = async () => Object.fromEntries((await messagesOf(h.relay, t.integration.id)).filter((m) => m.direction === 'out').map((m) => [m.externalId, m.status]));
    expect(await statuses()).toEqual({ m_o1: 'read', m_o2: 'delivered', m_o3: 'sent' });
    await post(page(messaging(t.pageId, [frame({ reaction: { reaction: 'love', emoji: '❤️', action: 'react', mid: 'm_o3' } })])));
    const [note] = await waitNotified(t.accountId, 1);
    expect(note.event).toBe('reaction');
    expect((note.body as any).body).toBe('Reacted ❤️ to a message');
    expect((await statuses()).m_o3).toBe('read');
    expect((await messagesOf(h.relay, t.integration.id)).filter((m) => m.direction === 'in')).toHaveLength(1);

    const quiet = await newTenant(h);
    await post(page(messaging(quiet.pageId, [frame({ sender: { id: psid }, reaction: { reaction: 'like', action: 'react', mid: 'x' } })])));
    expect(await messagesOf(h.relay, quiet.integration.id)).toHaveLength(0);
  });

  it('forwards wall posts, comments and replies with photos to the post\'s thread, skips the page\'s own, notes edits when asked', async () => {
    const t = await newTenant(h, { forwardEdits: true });
    const psid = t.customer('Jane', 'Doe');
    const pagePost = h.fb.control.events.pagePost({ pageId: t.pageId, message: 'Novidades da loja' });
    const visitor = h.fb.control.events.visitorPost({ psid, message: 'Vocês abrem no domingo?' });
    await waitNotified(t.accountId, 1);
    const comment = h.fb.control.events.comment({ psid, parentId: pagePost.postId!, message: 'Tem tamanho M?' });
    await waitNotified(t.accountId, 2);
    const pageReply = h.fb.control.events.pageComment({ parentId: comment.commentId!, message: 'Temos sim!' });
    h.fb.control.events.comment({ psid, parentId: pageReply.commentId!, photo: true });
    await waitNotified(t.accountId, 3);
    h.fb.control.events.editComment({ commentId: comment.commentId!, message: 'Tem tamanho L?' });
    const notes = await waitNotified(t.accountId, 4);
    expect(notes.map((n) => [n.event, (n.body as any).threadId])).toEqual([
      ['post', visitor.postId], ['comment', pagePost.postId], ['comment', pagePost.postId], ['edit', pagePost.postId],
    ]);
    expect(notes[1].body).toMatchObject({ from: psid, body: 'Tem tamanho M?', name: 'Jane Doe', firstName: 'Jane', lastName: 'Doe' });
    expect((notes[1].body as any).externalUrl).toMatch(/^https?:\/\//);
    expect((notes[2].body as any).AttachmentId).not.toBeNull();
    expect((notes[3].body as any).body).toBe('Edited their comment: Tem tamanho L?');
    const rows = await messagesOf(h.relay, t.integration.id);
    expect(rows.filter((r) => r.status === 'skipped').map((r) => r.externalId).sort()).toEqual([pagePost.postId, pageReply.commentId].sort());
    const thread = await h.relay.get(Database).repo(Conversation).findOneByOrFail({ integrationId: t.integration.id, customerId: psid, threadId: pagePost.postId! });
    expect(thread.lastCustomerCommentId).not.toBe(comment.commentId); // the later reply with a photo is the latest comment
  });

  it('ignores wall events when wall posts are off, and holds events of a disabled integration', async () => {
    const off = await newTenant(h, { wallPosts: false });
    const psid = off.customer();
    h.fb.control.events.visitorPost({ psid, message: 'hello?' });
    const disabled = await newTenant(h, { enabled: false });
    const body = page(messaging(disabled.pageId, [textEvent(disabled.pageId, '42', 'held')]));
    expect((await post(body)).status).toBe(200);
    await h.fb.control.waitForWebhooks(5000);
    expect(await messagesOf(h.relay, off.integration.id)).toHaveLength(0);
    expect((await messagesOf(h.relay, disabled.integration.id)).map((m) => m.status)).toEqual(['held']);
    expect(notifications(disabled.accountId)).toHaveLength(0);
  });

  it('delivers a message stored held after the integration was enabled again (stale cache, another process)', async () => {
    const t = await newTenant(h, { enabled: false });
    const body = page(messaging(t.pageId, [textEvent(t.pageId, '43', 'held by a stale view')]));
    expect((await post(body)).status).toBe(200);
    expect((await messagesOf(h.relay, t.integration.id)).map((m) => m.status)).toEqual(['held']);
    // Another API process took the PATCH: the row is enabled and its releaseHeld ran before this row existed.
    await h.relay.get(Database).repo(Integration).update({ id: t.integration.id }, { enabled: true });
    const [note] = await waitNotified(t.accountId, 1);
    expect((note.body as any).body).toBe('held by a stale view');
    expect((await settledMessages(h.relay, t.integration.id)).map((m) => m.status)).toEqual(['delivered']);
  });

  it('hands a long conversation over to a new job every batchPerJob messages, in order, leaving nothing leased', async () => {
    const t = await newTenant(h, { enabled: false });
    const psid = t.customer();
    for (let i = 0; i < 7; i++) expect((await post(page(messaging(t.pageId, [textEvent(t.pageId, psid, `part ${i}`, {}, 1_700_000_300_000 + i)])))).status).toBe(200);
    const settings = h.relay.get(DeliverySettings);
    const batchPerJob = settings.batchPerJob;
    settings.batchPerJob = 3;
    const queue = h.relay.get(JobQueue);
    const added = jest.spyOn(queue, 'add');
    try {
      await h.relay.get(Database).repo(Integration).update({ id: t.integration.id }, { enabled: true });
      expect(await h.relay.get(DeliveryService).releaseHeld(t.integration.id)).toBe(7);
      const notes = await waitNotified(t.accountId, 7);
      expect(notes.map((n) => (n.body as any).body)).toEqual(Array.from({ length: 7 }, (_, i) => `part ${i}`));
      const rows = await settledMessages(h.relay, t.integration.id);
      expect(rows.map((m) => [m.status, m.attempts, m.lockedUntil ?? null])).toEqual(Array(7).fill(['delivered', 1, null]));
      expect(h.cc.control.duplicates(t.accountId).total).toBe(0);
      // Handed over after messages 3 and 6 (a job added with its due time, now).
      const handovers = added.mock.calls.filter(([job, data, options]) => job === DeliverConversation && options?.delayMs === 0
        && (data as { conversationId: string }).conversationId === rows[0].conversationId);
      expect(handovers).toHaveLength(2);
    } finally {
      settings.batchPerJob = batchPerJob;
      added.mockRestore();
    }
  });

  it('keeps order when the contact center is down, then delivers everything once when it is back', async () => {
    const t = await newTenant(h);
    const other = await newTenant(h);
    const psid = t.customer();
    await h.cc.control.setFailures({ errors: { status: 503, count: null } });
    for (let i = 0; i < 5; i++) await post(page(messaging(t.pageId, [textEvent(t.pageId, psid, `msg ${i}`, {}, 1_700_000_100_000 + i)])));
    await waitFor('a failed attempt', async () => (await messagesOf(h.relay, t.integration.id)).some((m) => m.attempts > 0));
    await h.cc.control.clearFailures();
    await post(page(messaging(other.pageId, [textEvent(other.pageId, '7', 'not held up')])));
    await waitNotified(other.accountId, 1);
    const notes = await waitNotified(t.accountId, 5);
    expect(notes.map((n) => (n.body as any).body)).toEqual(['msg 0', 'msg 1', 'msg 2', 'msg 3', 'msg 4']);
    expect(h.cc.control.duplicates(t.accountId).total).toBe(0);
    const rows = await settledMessages(h.relay, t.integration.id);
    expect(new Set(notes.map((n) => n.deliveryId))).toEqual(new Set(rows.map((r) => r.id)));
    const attempts = await h.relay.get(Database).repo(DeliveryAttempt).find({ where: { messageId: rows[0].id } });
    expect(attempts.some((a) => a.httpStatus === 503 && a.outcome === 'retry')).toBe(true);
    expect(attempts.some((a) => a.outcome === 'delivered')).toBe(true);
  });

  it('waits as long as a 429 Retry-After says', async () => {
    const t = await newTenant(h);
    await h.cc.control.setFailures({ rateLimit: { retryAfter: 2, count: 1 } });
    const started = Date.now();
    await post(page(messaging(t.pageId, [textEvent(t.pageId, '77', 'rate limited')])));
    await waitNotified(t.accountId, 1, 8_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    const [row] = await settledMessages(h.relay, t.integration.id);
    expect(row).toMatchObject({ status: 'delivered', attempts: 2 });
  });

  it('goes on with the conversation\'s next message once the last retry of one gives up, without leaving it leased', async () => {
    const t = await newTenant(h);
    const settings = h.relay.get(DeliverySettings);
    const leaseMs = settings.leaseMs;
    settings.leaseMs = 30_000; // a lease left behind would hold the next message back this long
    try {
      await h.cc.control.setFailures({ errors: { status: 503, count: settings.maxAttempts } });
      await post(page(messaging(t.pageId, [textEvent(t.pageId, '89', 'given up', {}, 1_700_000_000_001), textEvent(t.pageId, '89', 'after it', {}, 1_700_000_000_002)])));
      const [first] = await waitFor('the first message given up', async () => {
        const all = await messagesOf(h.relay, t.integration.id);
        return all[0]?.status === 'failed' && all;
      }, 15_000);
      expect(first.lastError).toMatch(/^Gave up after 6 attempts/);
      const notes = await waitNotified(t.accountId, 1, 10_000);
      expect(notes.map((n) => (n.body as any).body)).toEqual(['after it']);
      const rows = await settledMessages(h.relay, t.integration.id);
      expect(rows[1].deliveredAt!.getTime() - first.updatedAt.getTime()).toBeLessThan(10_000);
    } finally {
      settings.leaseMs = leaseMs;
    }
  });

  it('marks a message failed on a permanent 404 with the reason in words, without holding up the rest', async () => {
    const t = await newTenant(h);
    h.cc.control.deleteList(t.accountId);
    await post(page(messaging(t.pageId, [textEvent(t.pageId, '88', 'lost?', {}, 1_700_000_000_001), textEvent(t.pageId, '88', 'next', {}, 1_700_000_000_002)])));
    const rows = await waitFor('both failed', async () => {
      const all = await messagesOf(h.relay, t.integration.id);
      return all.every((m) => m.status === 'failed') && all;
    });
    expect(rows[0].lastError).toBe('The contact center answered 404: the Open Channel account or its list no longer exists');
    expect(rows[0].attempts).toBe(1);
  });

  it('copies attachments at once, so a link that expires while the contact center is down still arrives; an already dead link becomes a note', async () => {
    const t = await newTenant(h);
    const psid = t.customer();
    await h.cc.control.setFailures({ errors: { status: 503, count: null } });
    h.fb.control.setCdnTtl(400);
    h.fb.control.events.customerMessage({ psid, attachments: [{ type: 'image', filename: 'recibo.png' }] } as never);
    await waitFor('the file copied', async () => (await messagesOf(h.relay, t.integration.id)).some((m) => m.blobId));
    await new Promise((resolve) => setTimeout(resolve, 600)); // the CDN link has expired now
    h.fb.control.setCdnTtl(3600_000);
    await h.cc.control.clearFailures();
    const [note] = await waitNotified(t.accountId, 1);
    expect((note.body as any).body).toBe('recibo.png');
    expect((note.body as any).AttachmentId).not.toBeNull();

    const dead = h.fb.control.mediaUrl(h.fb.control.events.storeMedia({ type: 'image' } as never).mediaId, 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await post(page(messaging(t.pageId, [textEvent(t.pageId, psid, '', {}, Date.now())].map((e: any) => ({ ...e, message: { mid: `m_dead_${newId()}`, attachments: [{ type: 'image', payload: { url: dead } }] } })))));
    const notes = await waitNotified(t.accountId, 2);
    expect((notes[1].body as any).body).toBe('The customer sent an image that the relay could not pass on: Facebook\'s link to it had expired before the relay could copy it.');
  });

  it('sends a text notify instead of a file the contact center finds too large, and signs notifications when a secret is set', async () => {
    const t = await newTenant(h, { signingSecret: 'whsec_' + Buffer.from('a-very-secret-signing-key').toString('base64') });
    h.cc.control.updateAccount(t.accountId, { signingSecret: 'whsec_' + Buffer.from('a-very-secret-signing-key').toString('base64') });
    await h.cc.control.setFailures({ errors: { status: 413, count: 1, targets: ['attachments'] } });
    const psid = t.customer();
    h.fb.control.events.customerMessage({ psid, attachments: [{ type: 'file', filename: 'grande.pdf' }] } as never);
    const [note] = await waitNotified(t.accountId, 1);
    expect((note.body as any).body).toMatch(/^The customer sent the file "grande.pdf" \(0.0 MB\), which is too large for the contact center.$/);
    expect((note.body as any).AttachmentId).toBeNull();
    expect(note.signatureValid).toBe(true);
    expect(note.webhookId).toBe(note.deliveryId);
    await h.cc.control.clearFailures();
  });
});

function outbound(integration: { id: string; tenantId: string }, conversationId: string, externalId: string, status: Message['status'], occurredAt: number): Message {
  const now = new Date();
  return {
    id: newId(), tenantId: integration.tenantId, integrationId: integration.id, conversationId, direction: 'out', kind: 'text', event: 'reply',
    text: 'agent', payload: null, status, attempts: 1, lastError: null, nextAttemptAt: null, dedupKey: `reply:${integration.id}:${externalId}`,
    externalId, remoteId: null, blobId: null, occurredAt, part: 0, createdAt: now, updatedAt: now, deliveredAt: null,
  };
}
