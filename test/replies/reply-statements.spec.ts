import { hashSecret } from '../../src/common/crypto/secret-box';
import { Database } from '../../src/database/database';
import { Integration } from '../../src/integrations/integration.entity';
import { Conversation } from '../../src/relay/conversation.entity';
import { Message } from '../../src/relay/message.entity';
import { OutboundMessages } from '../../src/replies/outbound-messages';
import { successAnswer, errorAnswer } from '../../src/replies/reply-errors';
import { ReplyLookups } from '../../src/replies/reply-lookups';
import { ReplyDto } from '../../src/replies/reply.dto';
import { ReplyService } from '../../src/replies/reply.service';
import { IntegrationsRepository } from '../../src/integrations/integrations.repository';
import { backends } from '../support/backends';
import { outboundRows, postReply, ReplyWorld, setUpPage, startReplyWorld } from './reply-harness';

/** The reply's raw statements write and read rows exactly as the repositories do. */
describe.each(backends())('reply statements on %s', (backend) => {
  let world: ReplyWorld;
  beforeAll(async () => {
    world = await startReplyWorld(backend);
  });
  afterAll(() => world?.close());

  it('reads the integration and the conversation as the repositories do', async () => {
    const setup = await setUpPage(world);
    const database = world.relay.get(Database);
    const lookups = world.relay.get(ReplyLookups);
    const integration = await world.relay.get(IntegrationsRepository).findByReplyTokenHash(hashSecret(setup.replyToken));
    expect(integration).toEqual({ ...(await database.repo(Integration).findOneByOrFail({ id: setup.integration.id })) });
    expect(integration!.enabled).toBe(true);
    expect(integration!.createdAt).toBeInstanceOf(Date);
    const where = { tenantId: setup.integration.tenantId, integrationId: setup.integration.id, customerId: setup.customer.psid, threadId: '' };
    const conversation = await lookups.conversation(where);
    expect(conversation).toEqual({ ...(await database.repo(Conversation).findOneByOrFail({ id: setup.conversation.id })) });
    expect(conversation!.lastCustomerMessageAt!.getTime()).toBe(setup.conversation.lastCustomerMessageAt!.getTime());
    expect(await world.relay.get(IntegrationsRepository).findByReplyTokenHash(hashSecret('no-such-token'))).toBeNull();
    expect(await lookups.conversation({ ...where, customerId: 'nobody' })).toBeNull();

    // The guard's one statement reads both rows the same way.
    const both = await lookups.integrationWithConversation(hashSecret(setup.replyToken), { customerId: setup.customer.psid, threadId: '' });
    expect(both).toEqual({ integration, prefetched: { customerId: setup.customer.psid, threadId: '', conversation } });
    const stranger = await lookups.integrationWithConversation(hashSecret(setup.replyToken), { customerId: 'nobody', threadId: '' });
    expect(stranger).toEqual({ integration, prefetched: { customerId: 'nobody', threadId: '', conversation: null } });
    expect((await lookups.integrationWithConversation(hashSecret(setup.replyToken), { customerId: setup.customer.psid, threadId: 'post_1' }))!.prefetched.conversation).toBeNull();
    expect(await lookups.integrationWithConversation(hashSecret('no-such-token'), { customerId: setup.customer.psid, threadId: '' })).toBeNull();
  });

  it("never reads another integration's conversation: the token's integration bounds the join", async () => {
    const first = await setUpPage(world);
    const second = await setUpPage(world, { tenantId: first.integration.tenantId });
    const both = await world.relay.get(ReplyLookups).integrationWithConversation(hashSecret(second.replyToken), { customerId: first.customer.psid, threadId: '' });
    expect(both!.integration.id).toBe(second.integration.id);
    expect(both!.prefetched.conversation).toBeNull();
    const reply = await postReply(world.relay, `?token=${encodeURIComponent(second.replyToken)}`, { body: 'x', Contact: { facebook: first.customer.psid } });
    expect(reply).toMatchObject({ status: 404, body: { error: 'unknown_recipient' } });
  });

  it("reads a plain reply's conversation with the integration, and any other body's after its validation", async () => {
    const setup = await setUpPage(world);
    const conversationReads = jest.spyOn(world.relay.get(ReplyLookups), 'conversation');
    try {
      const query = `?token=${encodeURIComponent(setup.replyToken)}`;
      expect((await postReply(world.relay, query, { body: 'plain', Contact: { facebook: setup.customer.psid } })).status).toBe(200);
      expect(conversationReads).not.toHaveBeenCalled();
      // A prototype key sends the body through the ValidationPipe, which drops the key.
      const validated = await postReply(world.relay, query, { body: 'validated', Contact: { facebook: setup.customer.psid, constructor: 'x' } });
      expect(validated.status).toBe(200);
      expect(conversationReads).toHaveBeenCalledTimes(1);
    } finally {
      conversationReads.mockRestore();
    }
  });

  it('uses a prefetched conversation only for the recipient it was read for', async () => {
    const setup = await setUpPage(world);
    const replies = world.relay.get(ReplyService);
    const prefetched = { customerId: setup.customer.psid, threadId: '', conversation: setup.conversation };
    const toSomeoneElse = Object.assign(new ReplyDto(), { body: 'x', Contact: { facebook: 'someone-else' } });
    await expect(replies.handle(setup.integration, toSomeoneElse, undefined, prefetched)).rejects.toMatchObject({ code: 'unknown_recipient' });
    const onAThread = Object.assign(new ReplyDto(), { body: 'x', Contact: { facebook: setup.customer.psid }, Interaction: { threadId: 'post_1' } });
    await expect(replies.handle(setup.integration, onAThread, undefined, prefetched)).rejects.toMatchObject({ code: 'unknown_recipient' });
  });

  it('records a sent reply in one row: Facebook id, parts and answer, times as the repository reads them', async () => {
    const setup = await setUpPage(world);
    const before = Date.now();
    const result = await setup.reply({ body: 'Your order shipped' });
    expect(result.status).toBe(200);
    const [row] = await outboundRows(world.relay, setup.integration.id);
    const id = (result.answer as { id: string }).id;
    expect(row).toMatchObject({ status: 'sent', externalId: id, text: 'Your order shipped', attempts: 1, lastError: null, part: 0, conversationId: setup.conversation.id });
    expect(JSON.parse(row.payload!)).toMatchObject({ parts: [id], answer: { status: 200, body: { id } } });
    for (const time of [row.createdAt, row.updatedAt]) {
      expect(time).toBeInstanceOf(Date);
      expect(Math.abs(time.getTime() - before)).toBeLessThan(60_000);
    }
    expect(typeof row.occurredAt).toBe('number');
  });

  it('keeps a status a receipt set before the answer was recorded; a failure replaces any status', async () => {
    const setup = await setUpPage(world);
    const outbound = world.relay.get(OutboundMessages);
    const repo = world.relay.get(Database).repo(Message);
    const row = { tenantId: setup.integration.tenantId, integrationId: setup.integration.id, conversationId: setup.conversation.id, kind: 'text' as const, text: 'hi', payload: {} };

    const delivered = await outbound.claim({ ...row, dedupKey: OutboundMessages.dedupKey(setup.integration.id, 'early-receipt') });
    await repo.update({ id: delivered.message.id }, { status: 'delivered' });
    await outbound.finish(delivered.message, delivered.payload, successAnswer({ id: 'm_1' }), 'm_1');
    expect(await repo.findOneByOrFail({ id: delivered.message.id })).toMatchObject({ status: 'delivered', externalId: 'm_1' });

    const sent = await outbound.claim({ ...row, dedupKey: OutboundMessages.dedupKey(setup.integration.id, 'plain') });
    await outbound.finish(sent.message, sent.payload, successAnswer({ id: 'm_2' }), 'm_2');
    expect(await repo.findOneByOrFail({ id: sent.message.id })).toMatchObject({ status: 'sent', externalId: 'm_2', lastError: null });

    const failed = await outbound.claim({ ...row, dedupKey: OutboundMessages.dedupKey(setup.integration.id, 'refused') });
    await repo.update({ id: failed.message.id }, { status: 'delivered' });
    await outbound.finish(failed.message, failed.payload, errorAnswer(422, 'window_closed', 'Closed'), null);
    expect(await repo.findOneByOrFail({ id: failed.message.id })).toMatchObject({ status: 'failed', externalId: null, lastError: 'Closed' });

    const repeat = await outbound.claim({ ...row, dedupKey: OutboundMessages.dedupKey(setup.integration.id, 'plain') });
    expect(repeat).toMatchObject({ claimed: false, message: { id: sent.message.id, status: 'sent' } });
  });

  it('takes a rotated token and a disabled integration into account from the next reply on', async () => {
    const setup = await setUpPage(world);
    const repo = world.relay.get(Database).repo(Integration);
    const query = `?token=${encodeURIComponent(setup.replyToken)}`;
    const body = { body: 'x', Contact: { facebook: setup.customer.psid } };
    expect((await postReply(world.relay, query, body)).status).toBe(200);

    await repo.update({ id: setup.integration.id }, { enabled: false });
    expect((await postReply(world.relay, query, body)).status).toBe(409);
    await repo.update({ id: setup.integration.id }, { enabled: true, replyTokenHash: hashSecret('a-newer-token') });
    expect((await postReply(world.relay, query, body)).status).toBe(401);
    expect((await postReply(world.relay, '?token=a-newer-token', body)).status).toBe(200);
  });
});
