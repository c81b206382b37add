import { backends } from '../support/backends';
import { createConversation, createIntegration } from '../support/fixtures';
import { graphCalls, integrationRow, outboundRows, postReply, ReplyWorld, setUpPage, startReplyWorld } from './reply-harness';

describe.each(backends())('reply errors, idempotency and authentication on %s', (backend) => {
  let world: ReplyWorld;
  beforeAll(async () => {
    world = await startReplyWorld(backend);
  });
  afterAll(() => world?.close());
  afterEach(() => world.fb.control.clearInjections());

  describe('Facebook errors in words', () => {
    it('answers 424 when Facebook rejects the page token, and marks the integration for re-authorization', async () => {
      const setup = await setUpPage(world);
      world.fb.control.expireToken({ token: setup.pageToken });
      const result = await setup.reply();
      expect(result.status).toBe(424);
      expect(result.answer).toMatchObject({ statusCode: 424, error: 'facebook_token_invalid' });
      expect((result.answer as { message: string }).message).toMatch(/Facebook token expired.*re-authorize the page in the relay/);
      const integration = await integrationRow(world.relay, setup.integration.id);
      expect(integration.status).toBe('reauth_required');
      expect(integration.statusReason).toBeTruthy();

      const callsBefore = graphCalls(world.fb, setup.page.id, '/messages').length;
      const again = await setup.reply();
      expect(again.status).toBe(424);
      expect(graphCalls(world.fb, setup.page.id, '/messages')).toHaveLength(callsBefore);
    });

    it('answers 429 with Retry-After when Facebook rate-limits the page', async () => {
      const setup = await setUpPage(world);
      world.fb.control.injectError({ kind: 'rate_limit_page', path: '/messages', pageId: setup.page.id });
      const result = await postReply(world.relay, `?token=${encodeURIComponent(setup.replyToken)}`, { body: 'hi', Contact: { facebook: setup.customer.psid } });
      expect(result.status).toBe(429);
      expect(result.headers.get('retry-after')).toBe('60');
      expect(result.body).toMatchObject({ error: 'facebook_rate_limited', message: expect.stringMatching(/rate-limiting this page/) });
    });

    it('answers 422 when the person is not available', async () => {
      const setup = await setUpPage(world);
      world.fb.control.updateCustomer(setup.customer.psid, { unavailable: true });
      const result = await setup.reply();
      expect(result.status).toBe(422);
      expect(result.answer).toMatchObject({ error: 'recipient_unavailable', message: expect.stringMatching(/not available on Messenger/) });
    });

    it('answers 502 when Facebook is down, and sends on a repeat once it is back', async () => {
      const setup = await setUpPage(world);
      world.fb.control.setDown(true);
      const down = await setup.reply({ id: 7001 });
      expect(down.status).toBe(502);
      expect(down.answer).toMatchObject({ error: 'facebook_unavailable' });
      world.fb.control.setDown(false);
      const repeat = await setup.reply({ id: 7001 });
      expect(repeat.status).toBe(200);
      expect(world.fb.control.sentMessages({ pageId: setup.page.id })).toHaveLength(1);
      const rows = await outboundRows(world.relay, setup.integration.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: 'sent', attempts: 2, lastError: null });
    });

    it('answers 502 when Facebook does not answer at all', async () => {
      const setup = await setUpPage(world);
      world.fb.control.injectError({ kind: 'down', refuse: true, path: '/messages', pageId: setup.page.id });
      const result = await setup.reply();
      expect(result.status).toBe(502);
      expect((result.answer as { message: string }).message).toMatch(/could not be reached|did not answer/);
    });
  });

  describe('idempotency', () => {
    it('sends the same contact-center message once and answers the same both times', async () => {
      const setup = await setUpPage(world);
      const first = await setup.reply({ id: 90211, body: 'Only once' });
      const second = await setup.reply({ id: 90211, body: 'Only once' });
      expect(first.status).toBe(200);
      expect(second.status).toBe(200);
      expect(second.answer).toEqual(first.answer);
      expect(world.fb.control.sentMessages({ pageId: setup.page.id })).toHaveLength(1);
      expect(await outboundRows(world.relay, setup.integration.id)).toHaveLength(1);
    });

    it('replays a refusal the same way (window closed)', async () => {
      const setup = await setUpPage(world, { lastMessageAgoMs: 3 * 24 * 3600_000 });
      const first = await setup.reply({ id: 5 });
      const second = await setup.reply({ id: 5 });
      expect([first.status, second.status]).toEqual([422, 422]);
      expect(second.answer).toEqual(first.answer);
    });

    it('honours an Idempotency-Key header, and sends a concurrent duplicate once', async () => {
      const setup = await setUpPage(world);
      world.fb.control.injectDelay(300, { path: '/messages', pageId: setup.page.id });
      const query = `?token=${encodeURIComponent(setup.replyToken)}`;
      const body = { body: 'Concurrent', Contact: { facebook: setup.customer.psid } };
      const [a, b] = await Promise.all([
        postReply(world.relay, query, body, { 'idempotency-key': 'motion-msg-42' }),
        postReply(world.relay, query, body, { 'idempotency-key': 'motion-msg-42' }),
      ]);
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(b.body).toEqual(a.body);
      expect(world.fb.control.sentMessages({ pageId: setup.page.id })).toHaveLength(1);
      const other = await postReply(world.relay, query, body, { 'idempotency-key': 'motion-msg-43' });
      expect(other.status).toBe(200);
      expect(world.fb.control.sentMessages({ pageId: setup.page.id })).toHaveLength(2);
    });

    it('keeps the same id of two integrations apart', async () => {
      const one = await setUpPage(world);
      const two = await setUpPage(world);
      expect((await one.reply({ id: 1 })).status).toBe(200);
      expect((await two.reply({ id: 1 })).status).toBe(200);
      expect(world.fb.control.sentMessages({ pageId: two.page.id })).toHaveLength(1);
    });
  });

  describe('authentication and the body', () => {
    it('answers 401 without a token or with a wrong one, and accepts a Bearer token', async () => {
      const setup = await setUpPage(world);
      const body = { body: 'hi', Contact: { facebook: setup.customer.psid } };
      const missing = await postReply(world.relay, '', body);
      expect(missing.status).toBe(401);
      expect(missing.body.message).toMatch(/token is missing/);
      const wrong = await postReply(world.relay, '?token=not-the-token', body);
      expect(wrong.status).toBe(401);
      expect(wrong.body).toMatchObject({ statusCode: 401, error: 'invalid_token', message: expect.stringMatching(/not valid/) });
      const bearer = await postReply(world.relay, '', body, { authorization: `Bearer ${setup.replyToken}` });
      expect(bearer.status).toBe(200);
      expect(graphCalls(world.fb, setup.page.id, '/messages')).toHaveLength(1);
    });

    it('answers 409 for a disabled or superseded integration', async () => {
      const disabled = await setUpPage(world, { enabled: false });
      const a = await disabled.reply();
      expect(a.status).toBe(409);
      expect((a.answer as { message: string }).message).toMatch(/disabled/);
      const superseded = await setUpPage(world, { status: 'superseded' });
      const b = await superseded.reply();
      expect(b.status).toBe(409);
      expect((b.answer as { message: string }).message).toMatch(/replaced by a newer integration/);
    });

    it('answers 400 for a missing body or recipient, and accepts unknown fields', async () => {
      const setup = await setUpPage(world);
      const query = `?token=${encodeURIComponent(setup.replyToken)}`;
      const noBody = await postReply(world.relay, query, { Contact: { facebook: setup.customer.psid } });
      expect(noBody.status).toBe(400);
      expect(noBody.body.message).toMatch(/body is required/);
      const noRecipient = await postReply(world.relay, query, { body: 'hi', Contact: { id: 804, phone: 'none' } });
      expect(noRecipient.status).toBe(400);
      expect(noRecipient.body.message).toMatch(/recipient is missing/);
      const extra = await postReply(world.relay, query, { body: 'hi', Contact: { facebook: setup.customer.psid }, interface: 'motion', agent: { id: 3 }, whatever: [1] });
      expect(extra.status).toBe(200);
    });

    it("answers 404 for a recipient the integration never heard from, including another tenant's customer", async () => {
      const mine = await setUpPage(world);
      const theirs = await setUpPage(world);
      const query = `?token=${encodeURIComponent(mine.replyToken)}`;
      const stranger = await postReply(world.relay, query, { body: 'hi', Contact: { facebook: '999999999' } });
      expect(stranger.status).toBe(404);
      expect(stranger.body.message).toMatch(/never received a message from customer 999999999/);
      const other = await postReply(world.relay, query, { body: 'hi', Contact: { facebook: theirs.customer.psid } });
      expect(other.status).toBe(404);
      const wrongThread = await postReply(world.relay, query, { body: 'hi', Contact: { facebook: mine.customer.psid }, Interaction: { threadId: 'no_such_post' } });
      expect(wrongThread.status).toBe(404);
      expect(graphCalls(world.fb, mine.page.id, '/messages')).toHaveLength(0);
      expect(graphCalls(world.fb, theirs.page.id, '/messages')).toHaveLength(0);
    });

    it('reaches a customer of the same id only through the integration that knows them', async () => {
      const setup = await setUpPage(world);
      const { integration, replyToken } = await createIntegration(world.relay, { openchannelUrl: 'http://127.0.0.1:9/none', pageId: `${setup.page.id}9` });
      await createConversation(world.relay, integration, { customerId: 'shared-id' });
      const result = await postReply(world.relay, `?token=${encodeURIComponent(setup.replyToken)}`, { body: 'hi', Contact: { facebook: 'shared-id' } });
      expect(result.status).toBe(404);
      expect(replyToken).not.toBe(setup.replyToken);
    });
  });
});
