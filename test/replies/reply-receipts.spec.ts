import { Database } from '../../src/database/database';
import { Message } from '../../src/relay/message.entity';
import { backends } from '../support/backends';
import { outboundRows, ReplyWorld, setUpPage, setUpWallThread, startReplyWorld } from './reply-harness';
import { waitFor } from '../relay/inbound-harness';

/** With Facebook's webhooks flowing back: echoes of the relay's own sends and receipts. */
describe.each(backends())('replies and what Facebook sends back on %s', (backend) => {
  let world: ReplyWorld;
  beforeAll(async () => {
    world = await startReplyWorld(backend, { webhooks: true });
  });
  afterAll(() => world?.close());

  it('marks a reply delivered, then read, from the receipts; its echo is not forwarded', async () => {
    const setup = await setUpPage(world);
    const result = await setup.reply({ body: 'Your bike is ready' });
    expect(result.status).toBe(200);
    await waitFor('the delivery receipt', async () => (await outboundRows(world.relay, setup.integration.id))[0]?.status === 'delivered');
    world.fb.control.events.read({ psid: setup.customer.psid });
    await waitFor('the read receipt', async () => (await outboundRows(world.relay, setup.integration.id))[0]?.status === 'read');
    await world.fb.control.waitForWebhooks();
    expect(world.cc.control.notifications({ accountId: setup.account.id })).toHaveLength(0);
  });

  it("does not forward the page's own public reply back to the contact center", async () => {
    const setup = await setUpPage(world);
    const thread = await setUpWallThread(world, setup);
    const result = await setup.reply({ threadId: thread.post.id, body: 'Public answer' });
    expect(result.status).toBe(200);
    const commentId = (result.answer as { id: string }).id;
    // The feed webhook for the page's comment reached the relay and was kept without forwarding.
    const inbound = await waitFor('the feed webhook of the reply', async () =>
      (await world.relay.get(Database).repo(Message).find({ where: { integrationId: setup.integration.id, direction: 'in' } })).find((m) => m.externalId === commentId),
    );
    expect(inbound.status).toBe('skipped');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const forwarded = world.cc.control.notifications({ accountId: setup.account.id });
    expect(forwarded.filter((n) => JSON.stringify(n.body).includes('Public answer'))).toHaveLength(0);
  });
});
