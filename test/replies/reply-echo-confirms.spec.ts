import { Database } from '../../src/database/database';
import { Conversation } from '../../src/relay/conversation.entity';
import { Message } from '../../src/relay/message.entity';
import { OutboundMessages } from '../../src/replies/outbound-messages';
import { backends } from '../support/backends';
import { graphCalls, outboundRows, PageSetup, ReplyWorld, setUpPage, setUpWallThread, startReplyWorld } from './reply-harness';
import { waitFor } from '../relay/inbound-harness';

/**
 * Facebook's echo of a reply names its row (`relay:outbound:<id>`): it proves the send when the relay never
 * saw Facebook's answer, so a repeat of the reply is answered with the message id instead of sending it twice.
 */
describe.each(backends())('replies confirmed by their echo on %s', (backend) => {
  let world: ReplyWorld;
  beforeAll(async () => {
    world = await startReplyWorld(backend, { webhooks: true });
  });
  afterAll(() => world?.close());
  afterEach(async () => {
    jest.restoreAllMocks();
    world.fb.control.clearInjections();
    world.fb.control.setWebhookOptions({ flushDelayMs: 0 });
    await world.fb.control.waitForWebhooks();
  });

  const firstRow = async (integrationId: string) => (await outboundRows(world.relay, integrationId))[0];

  /** The row holds the id of Facebook's one message, and a repeat of the reply is answered with it, sending nothing. */
  async function expectConfirmedOnce(setup: PageSetup, reply: { id: number; body: string }) {
    const [sent] = world.fb.control.sentMessages({ pageId: setup.page.id });
    const row = await firstRow(setup.integration.id);
    expect(row).toMatchObject({ externalId: sent.mid, lastError: null });
    // Sent, and maybe delivered already: Facebook's delivery receipt follows the echo.
    expect(['sent', 'delivered']).toContain(row.status);
    const repeat = await setup.reply(reply);
    expect(repeat.status).toBe(200);
    expect(repeat.answer).toEqual({ id: sent.mid });
    expect(world.fb.control.sentMessages({ pageId: setup.page.id })).toHaveLength(1);
    return sent;
  }

  it('answers a repeat with the id Facebook sent the reply under when its answer was lost, without sending again', async () => {
    const setup = await setUpPage(world);
    // The echo comes a second after the send, when the relay has answered the failure.
    world.fb.control.setWebhookOptions({ flushDelayMs: 1_000 });
    world.fb.control.injectError({ kind: 'lost_answer', path: '/messages', pageId: setup.page.id });

    const first = await setup.reply({ id: 8101, body: 'Your order shipped' });
    expect(first.status).toBe(502);
    expect(first.answer).toMatchObject({ error: 'facebook_unavailable' });
    expect(await firstRow(setup.integration.id)).toMatchObject({ status: 'failed', externalId: null });

    await waitFor('the echo', async () => (await firstRow(setup.integration.id)).externalId);
    await expectConfirmedOnce(setup, { id: 8101, body: 'Your order shipped' });
  });

  it('answers 200 when the echo came while the relay waited for an answer that never came, and keeps the row sent', async () => {
    const setup = await setUpPage(world);
    world.fb.control.injectError({ kind: 'lost_answer', path: '/messages', pageId: setup.page.id, delayMs: 1_500 });

    const pending = setup.reply({ id: 8102, body: 'On its way' });
    const confirmed = await waitFor('the echo before the answer fails', async () => {
      const current = await firstRow(setup.integration.id);
      return current?.externalId ? current : null;
    });
    const first = await pending;
    // The connection dropped, but Facebook's echo says it sent the reply: that is the answer, and the row keeps it.
    const sent = await expectConfirmedOnce(setup, { id: 8102, body: 'On its way' });
    expect(first.status).toBe(200);
    expect(first.answer).toEqual({ id: sent.mid });
    expect(confirmed.externalId).toBe(sent.mid);
  });

  it('answers a repeat at once after a crash between Facebook’s answer and the record, without sending again', async () => {
    const setup = await setUpPage(world);
    jest.spyOn(world.relay.get(OutboundMessages), 'finish').mockRejectedValueOnce(new Error('the process died here'));

    const first = await setup.reply({ id: 8103, body: 'Crash right after' });
    expect(first.status).toBe(500);
    const [sent] = world.fb.control.sentMessages({ pageId: setup.page.id });
    await waitFor('the echo', async () => (await firstRow(setup.integration.id)).externalId === sent.mid);

    const started = Date.now();
    await expectConfirmedOnce(setup, { id: 8103, body: 'Crash right after' });
    // Without the echo it would wait 25 s for the 'sending' row, then answer 409.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('does not take the echo of one part of a split text for the whole reply: a repeat sends the parts still missing', async () => {
    const setup = await setUpPage(world);
    const text = `${'a'.repeat(1500)} ${'b'.repeat(1500)}`;
    // The first part goes; the second fails, and the process dies before it records the failure.
    world.fb.control.injectDelay(1, { path: '/messages', pageId: setup.page.id });
    world.fb.control.injectError({ kind: 'transient', path: '/messages', pageId: setup.page.id });
    jest.spyOn(world.relay.get(OutboundMessages), 'finish').mockRejectedValueOnce(new Error('the process died here'));

    const first = await setup.reply({ id: 8104, body: text });
    expect(first.status).toBe(500);
    const [part0] = world.fb.control.sentMessages({ pageId: setup.page.id });
    const row = await firstRow(setup.integration.id);
    expect(part0.metadata).toBe(`relay:outbound:${row.id}#0`);
    // The echo of the first part is stored; the row still waits for the rest.
    const database = world.relay.get(Database);
    await waitFor('the echo of part 1', () => database.repo(Message).findOne({ where: { integrationId: setup.integration.id, direction: 'in', externalId: part0.mid } }));
    await world.fb.control.waitForWebhooks();
    expect(await firstRow(setup.integration.id)).toMatchObject({ status: 'sending', externalId: null });

    // Later than a crashed send is waited for: the repeat takes the row over and resumes.
    await database.repo(Message).update({ id: row.id }, { updatedAt: new Date(Date.now() - 2 * 60_000) });
    const repeat = await setup.reply({ id: 8104, body: text });
    expect(repeat.status).toBe(200);
    const sent = world.fb.control.sentMessages({ pageId: setup.page.id });
    expect(sent.map((m) => m.text)).toEqual(['a'.repeat(1500), 'b'.repeat(1500)]);
    expect(sent[1].metadata).toBe(`relay:outbound:${row.id}#1`);
    expect(repeat.answer).toEqual({ id: part0.mid, ids: [part0.mid, sent[1].mid] });
  });

  it.each([
    ['the first of two', 2, 0],
    ['the second of three', 3, 1],
  ])('does not send %s parts again when its answer was lost: a repeat finds its echo and sends only the rest', async (_which, count, lostPart) => {
    const setup = await setUpPage(world);
    const texts = ['a', 'b', 'c'].slice(0, count).map((letter) => letter.repeat(1500));
    // The parts before go through; Facebook sends the lost part, and the connection drops before its answer.
    for (let i = 0; i < lostPart; i++) world.fb.control.injectDelay(1, { path: '/messages', pageId: setup.page.id });
    world.fb.control.injectError({ kind: 'lost_answer', path: '/messages', pageId: setup.page.id });

    const reply = { id: 8105 + lostPart, body: texts.join(' ') };
    const first = await setup.reply(reply);
    expect(first.status).toBe(502);
    const sentFirst = world.fb.control.sentMessages({ pageId: setup.page.id });
    expect(sentFirst).toHaveLength(lostPart + 1);
    const row = await firstRow(setup.integration.id);
    expect(sentFirst[lostPart].metadata).toBe(`relay:outbound:${row.id}#${lostPart}`);
    const database = world.relay.get(Database);
    await waitFor('the echo of the lost part', () => database.repo(Message).findOne({ where: { integrationId: setup.integration.id, direction: 'in', externalId: sentFirst[lostPart].mid } }));

    const repeat = await setup.reply(reply);
    expect(repeat.status).toBe(200);
    const sent = world.fb.control.sentMessages({ pageId: setup.page.id });
    expect(sent.map((m) => m.text)).toEqual(texts);
    expect(repeat.answer).toEqual({ id: sent[0].mid, ids: sent.map((m) => m.mid) });
    // One row per part, each with its Facebook id.
    const rows = await outboundRows(world.relay, setup.integration.id);
    expect(rows.map((r) => [r.part, r.externalId])).toEqual(sent.map((m, part) => [part, m.mid]));
  });

  it('does not send a part again whose row was written before a crash, even without its echo', async () => {
    const setup = await setUpPage(world);
    const texts = ['a', 'b', 'c'].map((letter) => letter.repeat(1500));
    // Part 1 goes and its row is written; the process dies before the reply's progress records it.
    const outbound = world.relay.get(OutboundMessages);
    const saveProgress = outbound.saveProgress.bind(outbound);
    jest.spyOn(outbound, 'saveProgress').mockImplementationOnce(saveProgress).mockRejectedValueOnce(new Error('the process died here'));
    jest.spyOn(outbound, 'finish').mockRejectedValueOnce(new Error('the process died here'));
    const reply = { id: 8120, body: texts.join(' ') };
    expect((await setup.reply(reply)).status).toBe(500);
    const before = world.fb.control.sentMessages({ pageId: setup.page.id });
    expect(before.map((m) => m.text)).toEqual(texts.slice(0, 2));
    // Without the echoes: the part's row alone says it went.
    await world.fb.control.waitForWebhooks();
    const database = world.relay.get(Database);
    await database.repo(Message).delete({ integrationId: setup.integration.id, direction: 'in' });
    const row = await firstRow(setup.integration.id);
    expect(row.status).toBe('sending');
    await database.repo(Message).update({ id: row.id }, { updatedAt: new Date(Date.now() - 2 * 60_000) });

    const repeat = await setup.reply(reply);
    expect(repeat.status).toBe(200);
    const sent = world.fb.control.sentMessages({ pageId: setup.page.id });
    expect(sent.map((m) => m.text)).toEqual(texts);
    expect(repeat.answer).toEqual({ id: sent[0].mid, ids: sent.map((m) => m.mid) });
  });

  describe('public comments, which have no echo: read back from Facebook', () => {
    const pageComments = (parentId: string) =>
      [...world.fb.control.state.comments.values()].filter((c) => c.byPage && c.parentId === parentId && !c.removed);

    /** A wall thread, and a public comment's first attempt that fails with `fault` (answered 502), then its repeat. */
    async function failedThenRepeated(fault: 'lost_answer' | 'down', id: number, body: string, commentsAfterFailure: number) {
      const setup = await setUpPage(world);
      const thread = await setUpWallThread(world, setup);
      world.fb.control.injectError({ kind: fault, path: '/comments', pageId: setup.page.id });
      const reply = { id, threadId: thread.post.id, body };
      expect((await setup.reply(reply)).status).toBe(502);
      expect(pageComments(thread.commentId!)).toHaveLength(commentsAfterFailure);
      return { setup, thread, repeat: await setup.reply(reply) };
    }

    it('answers a repeat with the id of the comment that went up when its answer was lost, without posting it again', async () => {
      const { setup, thread, repeat } = await failedThenRepeated('lost_answer', 8110, 'Yes, from size 12!', 1);
      expect(repeat.status).toBe(200);
      const [posted] = pageComments(thread.commentId!);
      expect(repeat.answer).toEqual({ id: posted.id });
      expect(pageComments(thread.commentId!)).toHaveLength(1);
      expect(await firstRow(setup.integration.id)).toMatchObject({ status: 'sent', externalId: posted.id, lastError: null });
    });

    it('finds the comment behind more newer comments than a page holds', async () => {
      const setup = await setUpPage(world);
      const thread = await setUpWallThread(world, setup);
      world.fb.control.injectError({ kind: 'lost_answer', path: '/comments', pageId: setup.page.id });
      const reply = { id: 8116, threadId: thread.post.id, body: 'Our shop opens at 9' };
      expect((await setup.reply(reply)).status).toBe(502);
      const [posted] = pageComments(thread.commentId!);
      for (let i = 0; i < 120; i++) {
        world.fb.control.state.addComment({ parentId: thread.post.id, fromId: setup.customer.psid, fromName: 'Ana Silva', message: `Me too ${i}`, byPage: false, createdAt: Date.now() + 1_000 + i });
      }
      const repeat = await setup.reply(reply);
      expect(repeat.status).toBe(200);
      expect(repeat.answer).toEqual({ id: posted.id });
      expect(pageComments(thread.commentId!)).toHaveLength(1);
      // Three pages of 50, newest first; the third reaches the page's comment.
      expect(graphCalls(world.fb, setup.page.id, '/comments').filter((call) => call.method === 'GET')).toHaveLength(3);
    });

    it('keeps replies with the same text apart: a repeat takes neither the comment another reply recorded nor one an unrecorded reply may own', async () => {
      const setup = await setUpPage(world);
      const thread = await setUpWallThread(world, setup);
      const under = { threadId: thread.post.id, body: 'Thank you!' };
      const recorded = await setup.reply({ id: 8111, ...under });
      expect(recorded.status).toBe(200);
      // A: Facebook posts it and the answer is lost. B: Facebook is down, nothing posted.
      world.fb.control.injectError({ kind: 'lost_answer', path: '/comments', pageId: setup.page.id });
      expect((await setup.reply({ id: 8112, ...under })).status).toBe(502);
      world.fb.control.injectError({ kind: 'down', path: '/comments', pageId: setup.page.id });
      expect((await setup.reply({ id: 8113, ...under })).status).toBe(502);
      expect(pageComments(thread.commentId!)).toHaveLength(2);

      // B's repeat cannot tell A's comment from its own: it posts its own.
      const b = await setup.reply({ id: 8113, ...under });
      expect(b.status).toBe(200);
      // A's repeat finds its comment, between the one recorded before it and B's.
      const a = await setup.reply({ id: 8112, ...under });
      expect(a.status).toBe(200);
      const posted = pageComments(thread.commentId!);
      expect(posted.map((c) => c.message)).toEqual(['Thank you!', 'Thank you!', 'Thank you!']);
      expect([recorded.answer, a.answer, b.answer]).toEqual(posted.map((c) => ({ id: c.id })));
    });

    it('answers a throttled read-back with the throttling, without posting again; the next repeat finds the comment', async () => {
      const setup = await setUpPage(world);
      const thread = await setUpWallThread(world, setup);
      world.fb.control.injectError({ kind: 'lost_answer', path: '/comments', pageId: setup.page.id });
      world.fb.control.injectError({ kind: 'rate_limit_page', path: '/comments', method: 'GET', pageId: setup.page.id });
      const reply = { id: 8114, threadId: thread.post.id, body: 'See you soon' };
      expect((await setup.reply(reply)).status).toBe(502);
      const throttled = await setup.reply(reply);
      expect(throttled.status).toBe(429);
      expect(pageComments(thread.commentId!)).toHaveLength(1);
      const repeat = await setup.reply(reply);
      expect(repeat.status).toBe(200);
      const [posted] = pageComments(thread.commentId!);
      expect(repeat.answer).toEqual({ id: posted.id });
      expect(pageComments(thread.commentId!)).toHaveLength(1);
    });

    it('finds the comment Facebook filed under the customer’s own parent comment when the answer went to a reply', async () => {
      const setup = await setUpPage(world);
      const thread = await setUpWallThread(world, setup);
      // The customer answered under their comment; the relay answers that reply, and Facebook files the page's answer
      // under the top-level comment (the sandbox does so when told here).
      const nested = world.fb.control.state.addComment({ parentId: thread.commentId!, fromId: setup.customer.psid, fromName: 'Ana Silva', message: 'And size 10?', byPage: false, createdAt: Date.now() - 60_000 });
      await world.relay.get(Database).repo(Conversation).update({ id: thread.conversation.id }, { lastCustomerCommentId: nested.id });
      world.fb.control.injectError({ kind: 'lost_answer', path: `/${nested.id}/comments`, pageId: setup.page.id });
      const reply = { id: 8115, threadId: thread.post.id, body: 'Size 10 too' };
      expect((await setup.reply(reply)).status).toBe(502);
      const [answer] = [...world.fb.control.state.comments.values()].filter((c) => c.byPage && c.parentId === nested.id);
      answer.parentId = thread.commentId!;

      const repeat = await setup.reply(reply);
      expect(repeat.status).toBe(200);
      expect(repeat.answer).toEqual({ id: answer.id });
      expect([...world.fb.control.state.comments.values()].filter((c) => c.byPage && c.postId === thread.post.id)).toHaveLength(1);
    });

    it('posts the comment on a repeat when the first attempt never reached Facebook', async () => {
      const { setup, thread, repeat } = await failedThenRepeated('down', 8113, 'We ship on Monday', 0);
      expect(repeat.status).toBe(200);
      const posted = pageComments(thread.commentId!);
      expect(posted.map((c) => c.message)).toEqual(['We ship on Monday']);
      expect(repeat.answer).toEqual({ id: posted[0].id });
      // The repeat read the comments back first, then posted.
      expect(graphCalls(world.fb, setup.page.id, '/comments').map((call) => call.method)).toEqual(['POST', 'GET', 'POST']);
    });
  });

  it('names the row in an attachment’s metadata too', async () => {
    const setup = await setUpPage(world);
    const attachment = world.cc.control.addAttachment({ data: '%PDF-1.4 invoice', name: 'invoice.pdf', type: 'application/pdf' });
    const result = await setup.reply({ attachmentId: attachment.id });
    expect(result.status).toBe(200);
    const [sent] = world.fb.control.sentMessages({ pageId: setup.page.id });
    expect(sent.metadata).toBe(`relay:outbound:${(await firstRow(setup.integration.id)).id}`);
  });
});
