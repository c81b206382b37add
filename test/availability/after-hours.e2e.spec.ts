import { AfterHoursService } from '../../src/availability/after-hours.service';
import { Database } from '../../src/database/database';
import { Conversation } from '../../src/relay/conversation.entity';
import { backends } from '../support/backends';
import { bindStorePage, openChannelAccount, startWorld, TenantBrowser, World } from '../integrations/support';

const CLOSED_TEXT = 'We are closed now; we answer Monday to Friday from 09:00.';
const ALWAYS_OPEN = [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, from: '00:00', to: '24:00' }));

/** The schedule and the after-hours message, through the public API and the sandboxes. */
describe.each(backends())('availability and after-hours messages on %s', (backend) => {
  let world: World;
  let browser: TenantBrowser;
  let integrationId: string;
  let account: ReturnType<typeof openChannelAccount>;
  let store: string;

  beforeAll(async () => {
    world = await startWorld(backend);
    browser = await TenantBrowser.create(world.relay);
    ({ integrationId, account, store } = await bindStorePage(world, browser));
  });
  afterAll(() => world?.close());

  const customer = (firstName: string) => world.fb.control.createCustomer({ pageId: store, firstName, lastName: 'Test' }).psid;
  const patch = (availability: object) => browser.request('PATCH', `/api/v1/integrations/${integrationId}`, { availability });
  const conversationOf = async (psid: string) => {
    const list = await browser.get(`/api/v1/conversations?customer=${psid}`);
    return list.body.items[0] ? (await browser.get(`/api/v1/conversations/${list.body.items[0].id}`)).body : null;
  };
  const afterHoursRows = async (psid: string) => ((await conversationOf(psid))?.messages ?? []).filter((m: { kind: string }) => m.kind === 'after_hours');
  const sentTo = (psid: string) => world.fb.control.sentMessages({ psid });

  it('shows the defaults, validates and saves the settings', async () => {
    const view = await browser.get(`/api/v1/integrations/${integrationId}`);
    expect(view.body.availability).toEqual({
      enabled: false, timezone: 'UTC', days: [1, 2, 3, 4, 5].map((day) => ({ day, from: '09:00', to: '18:00' })),
      afterHoursMessage: '', forwardAfterHours: true, afterHoursIntervalHours: 12,
    });
    const zone = await patch({ timezone: 'Europe/Lisboa' });
    expect(zone.status).toBe(400);
    expect(zone.body.message).toMatch(/availability\.timezone "Europe\/Lisboa" is not a known IANA time zone/);
    const day = await patch({ days: [{ day: 0, from: '09:00', to: '25:00' }] });
    expect(day.status).toBe(400);
    expect(day.body.message).toMatch(/day must be from 1 \(Monday\) to 7 \(Sunday\)/);
    expect(day.body.message).toMatch(/to must be a time like 18:00/);
    expect((await patch({ afterHoursMessage: 'x'.repeat(1001) })).status).toBe(400);
    expect((await browser.request('PATCH', `/api/v1/integrations/${integrationId}`, { availability: 'open' })).status).toBe(400);

    const saved = await patch({ enabled: true, timezone: 'America/New_York', days: [{ day: 6, from: '10:00', to: '14:00' }, { day: 5, from: '22:00', to: '02:00' }], afterHoursMessage: CLOSED_TEXT, afterHoursIntervalHours: 6 });
    expect(saved.status).toBe(200);
    expect(saved.body.availability).toEqual({
      enabled: true, timezone: 'America/New_York', days: [{ day: 5, from: '22:00', to: '02:00' }, { day: 6, from: '10:00', to: '14:00' }],
      afterHoursMessage: CLOSED_TEXT, forwardAfterHours: true, afterHoursIntervalHours: 6,
    });
    const partial = await patch({ forwardAfterHours: false });
    expect(partial.body.availability).toMatchObject({ timezone: 'America/New_York', forwardAfterHours: false, afterHoursIntervalHours: 6 });
    expect((await browser.get('/api/v1/integrations')).body[0].availability.forwardAfterHours).toBe(false);
  });

  it('answers after hours once per interval and keeps the messages without forwarding them', async () => {
    expect((await patch({ enabled: true, days: [], afterHoursMessage: CLOSED_TEXT, forwardAfterHours: false, afterHoursIntervalHours: 12 })).status).toBe(200);
    const psid = customer('Nora');
    // Two messages at once: one after-hours answer.
    world.fb.control.events.customerMessage({ psid, text: 'Hello?' });
    world.fb.control.events.customerMessage({ psid, text: 'Anyone there?' });
    await waitFor(async () => (await afterHoursRows(psid)).some((m: { status: string }) => ['sent', 'delivered', 'read'].includes(m.status)));
    await world.fb.control.waitForWebhooks();
    await new Promise((r) => setTimeout(r, 500));
    world.fb.control.events.customerMessage({ psid, text: 'Third try' });
    await waitFor(async () => (await conversationOf(psid))?.messages.some((m: { text: string }) => m.text === 'Third try'));
    await new Promise((r) => setTimeout(r, 700));

    const sent = sentTo(psid);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ text: CLOSED_TEXT, messagingType: 'RESPONSE' });
    const thread = await conversationOf(psid);
    const inbound = thread.messages.filter((m: { direction: string }) => m.direction === 'in');
    expect(inbound.map((m: { text: string; status: string }) => `${m.text}:${m.status}`).sort()).toEqual(['Anyone there?:skipped', 'Hello?:skipped', 'Third try:skipped']);
    const [auto] = thread.messages.filter((m: { kind: string }) => m.kind === 'after_hours');
    expect(auto).toMatchObject({ direction: 'out', event: 'auto_reply', text: CLOSED_TEXT, status: expect.stringMatching(/sent|delivered|read/) });
    // The echo of our own send is recognised and not shown twice.
    expect(thread.messages).toHaveLength(4);
    expect(world.cc.control.notifications({ accountId: account.account.id })).toHaveLength(0);

    // Once the interval has passed, the next message gets the answer again.
    const conversations = world.relay.get(Database).repo(Conversation);
    await conversations.update({ id: thread.conversation.id }, { afterHoursSentAt: new Date(Date.now() - 13 * 3600_000) });
    world.fb.control.events.customerMessage({ psid, text: 'Next morning?' });
    await waitFor(async () => sentTo(psid).length === 2);
  });

  it('still forwards after hours when asked to, and stays quiet inside the schedule', async () => {
    expect((await patch({ forwardAfterHours: true })).status).toBe(200);
    const late = customer('Omar');
    world.fb.control.events.customerMessage({ psid: late, text: 'Late question' });
    const [note] = await world.cc.control.waitForNotifications(1, { accountId: account.account.id, acceptedOnly: true, timeoutMs: 10_000 });
    expect(note.body).toMatchObject({ from: late, body: 'Late question' });
    await waitFor(async () => sentTo(late).length === 1);

    expect((await patch({ days: ALWAYS_OPEN })).status).toBe(200);
    const early = customer('Pia');
    world.fb.control.events.customerMessage({ psid: early, text: 'Open?' });
    await world.cc.control.waitForNotifications(2, { accountId: account.account.id, acceptedOnly: true, timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 500));
    expect(sentTo(early)).toHaveLength(0);
    expect(await afterHoursRows(early)).toHaveLength(0);
  });

  it('sends nothing outside the 24-hour window, and reports a rejected page token', async () => {
    expect((await patch({ days: [] })).status).toBe(200);
    const psid = customer('Quinn');
    world.fb.control.events.customerMessage({ psid, text: 'First' });
    await waitFor(async () => sentTo(psid).length === 1);
    const thread = await conversationOf(psid);
    const conversations = world.relay.get(Database).repo(Conversation);
    const service = world.relay.get(AfterHoursService);

    await conversations.update({ id: thread.conversation.id }, { afterHoursSentAt: null, lastCustomerMessageAt: new Date(Date.now() - 25 * 3600_000) });
    expect(await service.send(thread.conversation.id)).toBe('window_closed');

    await conversations.update({ id: thread.conversation.id }, { lastCustomerMessageAt: new Date() });
    world.fb.control.injectError({ kind: 'token_revoked', path: '/messages', forever: true });
    expect(await service.send(thread.conversation.id)).toBe('failed');
    const failed = (await afterHoursRows(psid)).find((m: { status: string }) => m.status === 'failed');
    expect(failed.lastError).toBeTruthy();
    expect((await conversations.findOneByOrFail({ id: thread.conversation.id })).afterHoursSentAt).toBeNull();
    const view = await browser.get(`/api/v1/integrations/${integrationId}`);
    expect(view.body).toMatchObject({ status: 'reauth_required', tokenActive: false });
    world.fb.control.clearInjections();
  });
});

async function waitFor(probe: () => Promise<unknown> | unknown, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
