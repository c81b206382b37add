import { Message } from '../../src/relay/message.entity';
import { backends } from '../support/backends';
import { DAY, graphCalls, HOUR, MINUTE, outboundRows, ReplyWorld, setUpPage, startReplyWorld } from './reply-harness';

describe.each(backends())('replies to Messenger on %s', (backend) => {
  let world: ReplyWorld;
  beforeAll(async () => {
    world = await startReplyWorld(backend);
  });
  afterAll(() => world?.close());

  it('sends the agent text with RESPONSE inside 24 hours (23h59) and records it', async () => {
    const setup = await setUpPage(world, { lastMessageAgoMs: 23 * HOUR + 59 * MINUTE });
    const result = await setup.reply({ body: 'Hello Ana, let me check.' });
    expect(result.status).toBe(200);
    const sent = world.fb.control.sentMessages({ pageId: setup.page.id });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ psid: setup.customer.psid, text: 'Hello Ana, let me check.', messagingType: 'RESPONSE' });
    expect(sent[0].tag).toBeUndefined();
    expect(result.answer).toEqual({ id: sent[0].mid });

    const [row] = await outboundRows(world.relay, setup.integration.id);
    expect(row).toMatchObject<Partial<Message>>({ direction: 'out', kind: 'text', event: 'reply', status: 'sent', externalId: sent[0].mid, text: 'Hello Ana, let me check.', conversationId: setup.conversation.id, remoteId: String(result.id) });
    expect(sent[0].metadata).toBe(`relay:outbound:${row.id}`);
  });

  it('refuses at 24h01 without HUMAN_AGENT with a 422 and no call to Facebook', async () => {
    const setup = await setUpPage(world, { lastMessageAgoMs: DAY + MINUTE });
    const result = await setup.reply();
    expect(result.status).toBe(422);
    expect(result.answer).toMatchObject({ statusCode: 422, error: 'window_closed' });
    expect((result.answer as { message: string }).message).toMatch(/within 24 hours/);
    expect(graphCalls(world.fb, setup.page.id, '/messages')).toHaveLength(0);
    const [row] = await outboundRows(world.relay, setup.integration.id);
    expect(row).toMatchObject({ status: 'failed', externalId: null });
    expect(row.lastError).toMatch(/24 hours/);
  });

  it('sends at 24h01 with the HUMAN_AGENT tag when the integration allows it', async () => {
    const setup = await setUpPage(world, { lastMessageAgoMs: DAY + MINUTE, humanAgentTag: true });
    const result = await setup.reply();
    expect(result.status).toBe(200);
    const [sent] = world.fb.control.sentMessages({ pageId: setup.page.id });
    expect(sent).toMatchObject({ messagingType: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' });
  });

  it('refuses beyond 7 days even with HUMAN_AGENT', async () => {
    const setup = await setUpPage(world, { lastMessageAgoMs: 7 * DAY + MINUTE, humanAgentTag: true });
    const result = await setup.reply();
    expect(result.status).toBe(422);
    expect((result.answer as { message: string }).message).toMatch(/until the customer writes again/);
    expect(graphCalls(world.fb, setup.page.id, '/messages')).toHaveLength(0);
  });

  it("maps Facebook's own window error (10/2018278) to 422", async () => {
    const setup = await setUpPage(world);
    world.fb.control.updateCustomer(setup.customer.psid, { lastMessageAgoMs: 2 * DAY });
    const result = await setup.reply();
    expect(result.status).toBe(422);
    expect(result.answer).toMatchObject({ error: 'window_closed' });
    expect((result.answer as { message: string }).message).toMatch(/2018278/);
  });

  it('splits text over 2000 characters at word boundaries into messages sent in order', async () => {
    const setup = await setUpPage(world);
    const words = Array.from({ length: 700 }, (_, i) => `w${i}`);
    const text = `${words.join(' ')} ${'ä'.repeat(10)}`;
    const result = await setup.reply({ body: text });
    expect(result.status).toBe(200);
    const sent = world.fb.control.sentMessages({ pageId: setup.page.id });
    expect(sent.length).toBeGreaterThanOrEqual(2);
    for (const message of sent) expect(message.text!.length).toBeLessThan(2000);
    expect(sent.map((m) => m.text).join(' ')).toBe(text);
    expect(result.answer).toEqual({ id: sent[0].mid, ids: sent.map((m) => m.mid) });
    const rows = await outboundRows(world.relay, setup.integration.id);
    expect(rows.map((r) => r.externalId)).toEqual(sent.map((m) => m.mid));
    expect(rows.map((r) => r.part)).toEqual(sent.map((_, i) => i));
    expect(rows.every((r) => r.status === 'sent')).toBe(true);
  });

  it('accepts the Motion 1 shape (to, no Contact or Interaction)', async () => {
    const setup = await setUpPage(world);
    const result = await setup.reply({ style: 'motion1', body: 'Old Motion here' });
    expect(result.status).toBe(200);
    expect(world.fb.control.sentMessages({ pageId: setup.page.id })[0].text).toBe('Old Motion here');
  });

  it('uploads an agent image to Messenger with the right type and content type', async () => {
    const setup = await setUpPage(world);
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
    const attachment = world.cc.control.addAttachment({ data: png, name: 'bike.png', type: 'image/png' });
    const result = await setup.reply({ attachmentId: attachment.id, body: '' });
    expect(result.status).toBe(200);
    const [sent] = world.fb.control.sentMessages({ pageId: setup.page.id });
    expect(sent.attachments).toEqual([expect.objectContaining({ type: 'image', source: 'upload', contentType: 'image/png', filename: 'bike.png', size: png.length })]);
    expect(result.answer).toEqual({ id: sent.mid });
    const [row] = await outboundRows(world.relay, setup.integration.id);
    expect(row).toMatchObject({ kind: 'attachment', status: 'sent', externalId: sent.mid });
    expect(row.blobId).toBeTruthy();
  });

  it('sends a PDF as a file and an MP3 as audio', async () => {
    const setup = await setUpPage(world);
    const pdf = world.cc.control.addAttachment({ data: '%PDF-1.4 invoice', name: 'invoice.pdf', type: 'application/pdf' });
    const mp3 = world.cc.control.addAttachment({ data: Buffer.alloc(64, 1), name: 'note.mp3', type: 'audio/mpeg' });
    expect((await setup.reply({ attachmentId: pdf.id })).status).toBe(200);
    expect((await setup.reply({ attachmentId: mp3.id })).status).toBe(200);
    const sent = world.fb.control.sentMessages({ pageId: setup.page.id });
    expect(sent.map((m) => m.attachments?.[0].type)).toEqual(['file', 'audio']);
    expect(sent[1].attachments?.[0].contentType).toBe('audio/mpeg');
  });

  it('refuses a program (415) and a file over 25 MB (413) with a message', async () => {
    const setup = await setUpPage(world);
    const exe = world.cc.control.addAttachment({ data: 'MZ', name: 'setup.exe', type: 'application/x-msdownload' });
    const refused = await setup.reply({ attachmentId: exe.id });
    expect(refused.status).toBe(415);
    expect((refused.answer as { message: string }).message).toMatch(/setup\.exe.*program/);
    const big = world.cc.control.addAttachment({ data: Buffer.alloc(25 * 1024 * 1024 + 1), name: 'huge.mp4', type: 'video/mp4' });
    const tooBig = await setup.reply({ attachmentId: big.id });
    expect(tooBig.status).toBe(413);
    expect((tooBig.answer as { message: string }).message).toMatch(/25 MB/);
    const missing = await setup.reply({ attachmentId: 999999 });
    expect(missing.status).toBe(422);
    expect((missing.answer as { message: string }).message).toMatch(/not found/);
    expect(graphCalls(world.fb, setup.page.id, '/messages')).toHaveLength(0);
  });
});
