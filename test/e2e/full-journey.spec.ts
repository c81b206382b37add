import { backends } from '../support/backends';
import { APP, connectFacebook, openChannelAccount, startWorld, TenantBrowser, World } from '../integrations/support';

/**
 * One tenant's whole journey through the public APIs only: sign up, connect Facebook, bind a page,
 * a customer writes, the agent answers, the tenant switches the integration off and on again.
 */
describe.each(backends())('full journey through the public APIs on %s', (backend) => {
  let world: World;
  let browser: TenantBrowser;

  beforeAll(async () => {
    world = await startWorld(backend);
    await world.fb.control.configureWebhook({ callbackUrl: `${world.relay.url}/webhooks/facebook`, verifyToken: APP.verifyToken });
    browser = await TenantBrowser.create(world.relay);
  });
  afterAll(() => world?.close());

  it('carries a customer message to the contact center and the agent reply back, and holds events while disabled', async () => {
    const connected = await connectFacebook(world, browser);
    expect(connected.route.query.get('connected')).toBe('1');
    const store = world.fb.seed!.pages.store;
    const maria = world.fb.seed!.customers.maria;

    const account = openChannelAccount(world);
    const created = await browser.request('POST', '/api/v1/integrations', {
      name: 'Bike store', pageId: store, openchannelUrl: account.url, apiKey: account.apiKey, wallPosts: true,
    });
    expect(created.status).toBe(201);
    const integration = created.body;
    expect(integration.replyUrl).toMatch(new RegExp(`^${world.relay.url}/api/reply\\?token=`));
    world.cc.control.setReplyUrl(account.account.id, integration.replyUrl);

    // A customer writes on Messenger: it reaches the contact center once, with the relay's headers.
    world.fb.control.events.customerMessage({ psid: maria, text: 'Olá! A minha bicicleta está pronta? ✓' });
    const [notified] = await world.cc.control.waitForNotifications(1, { accountId: account.account.id, acceptedOnly: true, timeoutMs: 10_000 });
    expect(notified.body).toMatchObject({ from: maria, body: 'Olá! A minha bicicleta está pronta? ✓', mapKey: 'facebook' });
    expect(notified.deliveryId).toBeTruthy();
    expect(notified.event).toBe('message');

    // The agent answers from the contact center; Facebook gets it as a Messenger reply.
    const reply = await world.cc.control.reply({ accountId: account.account.id, contactFrom: maria, body: 'Sim, pode vir buscar hoje.' });
    expect(reply.status).toBe(200);
    expect(reply.answer).toMatchObject({ id: expect.stringMatching(/^m_/) });
    const sent = world.fb.control.sentMessages({ psid: maria });
    expect(JSON.stringify(sent)).toContain('Sim, pode vir buscar hoje.');

    // Switched off: Facebook still gets 200, the event is kept, nothing is forwarded, replies are refused.
    expect((await browser.request('PATCH', `/api/v1/integrations/${integration.id}`, { enabled: false })).status).toBe(200);
    world.fb.control.events.customerMessage({ psid: maria, text: 'Still there?' });
    await waitForMessage(browser, integration.id, 'Still there?', 'held');
    expect(world.cc.control.notifications({ accountId: account.account.id, acceptedOnly: true })).toHaveLength(1);
    const refused = await world.cc.control.reply({ accountId: account.account.id, contactFrom: maria, body: 'Hello?' });
    expect(refused.status).toBe(409);

    // Switched on again: what was held goes out, in order.
    expect((await browser.request('PATCH', `/api/v1/integrations/${integration.id}`, { enabled: true })).status).toBe(200);
    const all = await world.cc.control.waitForNotifications(2, { accountId: account.account.id, acceptedOnly: true, timeoutMs: 10_000 });
    expect(all.map((n) => (n.body as { body: string }).body)).toEqual(['Olá! A minha bicicleta está pronta? ✓', 'Still there?']);

    // The history shows both directions.
    const history = await browser.get(`/api/v1/integrations/${integration.id}/messages`);
    expect(history.status).toBe(200);
    const directions = history.body.items.map((m: { direction: string }) => m.direction).sort();
    expect(directions).toEqual(['in', 'in', 'out']);
  });
});

async function waitForMessage(browser: TenantBrowser, integrationId: string, text: string, status: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const history = await browser.get(`/api/v1/integrations/${integrationId}/messages?q=${encodeURIComponent(text)}`);
    if (history.body?.items?.some((m: { text: string; status: string }) => m.text === text && m.status === status)) return;
    if (Date.now() > deadline) throw new Error(`"${text}" never reached status ${status}: ${JSON.stringify(history.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
