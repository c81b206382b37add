import { signStandardWebhook } from './openchannel-routes';
import { startContactCenterSandbox, type ContactCenterSandbox } from './server';
import { getJson, postJson, startReplyReceiver, type ReplyReceiver } from './test-helpers';

const ANA = { from: '24920318375', body: "Hi, my order hasn't arrived", mapKey: 'facebook', firstName: 'Ana', lastName: 'Silva', name: 'Ana Silva', phone: 'none', AttachmentId: null };

describe('contact-center sandbox: Open Channel endpoints', () => {
  let cc: ContactCenterSandbox;
  beforeEach(async () => {
    cc = await startContactCenterSandbox({ seed: true, maxAttachmentBytes: 1000 });
  });
  afterEach(() => cc.close());

  it('notify creates the contact and interaction and answers interaction.id', async () => {
    const res = await postJson(`${cc.url}/api/openchannel/accounts/1/notify?apikey=demo-key`, ANA);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: expect.any(Number), interaction: { id: expect.any(Number) }, contact: { id: expect.any(Number), facebook: ANA.from } });

    const again = await postJson(`${cc.url}/api/openchannel/accounts/1/notify?apikey=demo-key`, { ...ANA, body: 'Still waiting' });
    expect(again.json.interaction.id).toBe(res.json.interaction.id);
    expect(again.json.contact.id).toBe(res.json.contact.id);

    const [interaction] = cc.control.interactions({ accountId: 1 });
    expect(interaction.contact).toMatchObject({ from: ANA.from, firstName: 'Ana', lastName: 'Silva', mapKey: 'facebook' });
    expect(interaction.threadId).toBeNull();
    expect(interaction.messages.map((m) => m.body)).toEqual([ANA.body, 'Still waiting']);
  });

  it('Motion 1 /receive works too, and unknown query params are kept (apikey redacted)', async () => {
    const res = await postJson(`${cc.url}/api/openchannel/accounts/1/receive?apikey=demo-key&token=proxy-token`, ANA);
    expect(res.status).toBe(200);
    const [n] = cc.control.notifications({ accountId: 1 });
    expect(n).toMatchObject({ endpoint: 'receive', status: 200, query: { apikey: '***', token: 'proxy-token' }, interactionId: res.json.interaction.id });
  });

  it('GET account answers the account without secrets', async () => {
    const res = await getJson(`${cc.url}/api/openchannel/accounts/1?apikey=demo-key`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: 1, name: 'Demo Open Channel' });
    expect(JSON.stringify(res.json)).not.toContain('demo-key');
    expect((await getJson(`${cc.url}/api/openchannel/accounts/99?apikey=demo-key`)).status).toBe(404);
  });

  it('requires the API key: missing or wrong gives 401 JSON', async () => {
    for (const suffix of ['', '?apikey=wrong']) {
      const get = await getJson(`${cc.url}/api/openchannel/accounts/1${suffix}`);
      expect(get.status).toBe(401);
      expect(get.json.message).toEqual(expect.any(String));
      const notify = await postJson(`${cc.url}/api/openchannel/accounts/1/notify${suffix}`, ANA);
      expect(notify.status).toBe(401);
    }
    // An account without a key needs none.
    cc.control.createAccount({ id: 7, name: 'Open' });
    expect((await postJson(`${cc.url}/api/openchannel/accounts/7/notify`, ANA)).status).toBe(200);
  });

  it('a deleted contact list makes the account answer 404 until restored', async () => {
    cc.control.deleteList(1);
    const get = await getJson(`${cc.url}/api/openchannel/accounts/1?apikey=demo-key`);
    expect(get.status).toBe(404);
    expect(get.json.message).toMatch(/list/);
    expect((await postJson(`${cc.url}/api/openchannel/accounts/1/notify?apikey=demo-key`, ANA)).status).toBe(404);

    // Over the control API too.
    expect((await postJson(`${cc.url}/_control/accounts/1/list/restore`, {})).status).toBe(200);
    expect((await getJson(`${cc.url}/api/openchannel/accounts/1?apikey=demo-key`)).status).toBe(200);
    expect((await postJson(`${cc.url}/api/openchannel/accounts/1/notify?apikey=demo-key`, ANA)).status).toBe(200);
    expect((await postJson(`${cc.url}/_control/accounts/1/list/delete`, {})).status).toBe(200);
    expect((await postJson(`${cc.url}/api/openchannel/accounts/1/notify?apikey=demo-key`, ANA)).status).toBe(404);
    // A deleted account is 404 as well.
    cc.control.deleteAccount(1);
    expect((await getJson(`${cc.url}/api/openchannel/accounts/1?apikey=demo-key`)).status).toBe(404);
  });

  it('rejects invalid notifies with 400', async () => {
    const url = `${cc.url}/api/openchannel/accounts/1/notify?apikey=demo-key`;
    expect((await postJson(url, { ...ANA, body: '' })).status).toBe(400);
    expect((await postJson(url, { ...ANA, from: undefined })).status).toBe(400);
    expect((await postJson(url, { ...ANA, AttachmentId: 12345 })).status).toBe(400);
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
    expect(res.status).toBe(400);
    expect(cc.control.interactions()).toHaveLength(0);
  });

  it('groups interactions by contact and threadId', async () => {
    const url = `${cc.url}/api/openchannel/accounts/1/notify?apikey=demo-key`;
    const chat = await postJson(url, ANA);
    const post1 = await postJson(url, { ...ANA, body: 'Is this still available?', threadId: '1357924680_2468013579', externalUrl: 'https://www.facebook.com/1357924680/posts/2468013579' });
    const post1b = await postJson(url, { ...ANA, body: 'Hello?', threadId: '1357924680_2468013579' });
    const post2 = await postJson(url, { ...ANA, body: 'Other post', threadId: '1357924680_111' });
    const other = await postJson(url, { ...ANA, from: '555', body: 'Me too', threadId: '1357924680_2468013579' });

    expect(new Set([chat.json.interaction.id, post1.json.interaction.id, post2.json.interaction.id, other.json.interaction.id]).size).toBe(4);
    expect(post1b.json.interaction.id).toBe(post1.json.interaction.id);
    expect(other.json.contact.id).not.toBe(chat.json.contact.id);
    const thread = cc.control.interactions({ contactFrom: ANA.from, threadId: '1357924680_2468013579' });
    expect(thread).toHaveLength(1);
    expect(thread[0].externalUrl).toBe('https://www.facebook.com/1357924680/posts/2468013579');
    expect(thread[0].messages.map((m) => m.body)).toEqual(['Is this still available?', 'Hello?']);

    // Closing an interaction makes the next notify open a new one.
    cc.control.closeInteraction(chat.json.interaction.id);
    const reopened = await postJson(url, { ...ANA, body: 'Back again' });
    expect(reopened.json.interaction.id).not.toBe(chat.json.interaction.id);
  });

  it('records relay headers, in order, and counts duplicates by delivery id', async () => {
    const url = `${cc.url}/api/openchannel/accounts/1/notify?apikey=demo-key`;
    await postJson(url, { ...ANA, body: 'one' }, { 'X-Relay-Delivery-Id': 'd-1', 'X-Relay-Event': 'message' });
    await postJson(url, { ...ANA, body: 'two' }, { 'X-Relay-Delivery-Id': 'd-2', 'X-Relay-Event': 'message' });
    await postJson(url, { ...ANA, body: 'one' }, { 'X-Relay-Delivery-Id': 'd-1', 'X-Relay-Event': 'message' });
    // A failed attempt followed by its retry is not a duplicate.
    cc.control.setFailures({ errors: { status: 503, count: 1 } });
    expect((await postJson(url, { ...ANA, body: 'three' }, { 'X-Relay-Delivery-Id': 'd-3' })).status).toBe(503);
    expect((await postJson(url, { ...ANA, body: 'three' }, { 'X-Relay-Delivery-Id': 'd-3' })).status).toBe(200);

    const all = cc.control.notifications({ accountId: 1 });
    expect(all.map((n) => [n.deliveryId, n.status, n.duplicate])).toEqual([
      ['d-1', 200, false],
      ['d-2', 200, false],
      ['d-1', 200, true],
      ['d-3', 503, false],
      ['d-3', 200, false],
    ]);
    expect(all[0].event).toBe('message');
    expect(cc.control.duplicates(1)).toEqual({ total: 1, byDeliveryId: { 'd-1': 2 } });
    const http = await getJson(`${cc.url}/_control/duplicates?accountId=1`);
    expect(http.json).toEqual({ total: 1, byDeliveryId: { 'd-1': 2 } });
    const accepted = await getJson(`${cc.url}/_control/notifications?accountId=1&acceptedOnly=1`);
    expect(accepted.json).toHaveLength(4);
  });

  it('waitForNotifications resolves once enough notifications were accepted', async () => {
    const waiting = cc.control.waitForNotifications(3, { accountId: 1, timeoutMs: 2000 });
    const url = cc.receiveUrl(1);
    await Promise.all([1, 2, 3].map((i) => postJson(url, { ...ANA, body: `m${i}` }, { 'X-Relay-Delivery-Id': `w-${i}` })));
    const list = await waiting;
    expect(list.map((n) => n.deliveryId).sort()).toEqual(['w-1', 'w-2', 'w-3']);
    await expect(cc.control.waitForNotifications(10, { timeoutMs: 50 })).rejects.toThrow(/Timed out/);
  });

  it('checks Standard Webhooks signatures when the account has a secret', async () => {
    const secret = 'whsec_' + Buffer.from('super-secret-key-0123456789').toString('base64');
    cc.control.updateAccount(1, { signingSecret: secret });
    const body = JSON.stringify(ANA);
    const ts = String(Math.floor(Date.now() / 1000));
    const sig = signStandardWebhook(secret, 'msg_1', ts, body);
    const url = `${cc.url}/api/openchannel/accounts/1/notify?apikey=demo-key`;
    const headers = { 'content-type': 'application/json', 'webhook-id': 'msg_1', 'webhook-timestamp': ts };
    await fetch(url, { method: 'POST', headers: { ...headers, 'webhook-signature': sig }, body });
    await fetch(url, { method: 'POST', headers: { ...headers, 'webhook-signature': 'v1,AAAA' }, body });
    const [good, bad] = cc.control.notifications({ accountId: 1 });
    expect(good).toMatchObject({ signatureValid: true, webhookId: 'msg_1', webhookTimestamp: ts, webhookSignature: sig });
    expect(bad.signatureValid).toBe(false);
    cc.control.updateAccount(1, { requireSignature: true });
    const rejected = await fetch(url, { method: 'POST', headers, body });
    expect(rejected.status).toBe(401);
  });
});

describe('contact-center sandbox: attachments', () => {
  let cc: ContactCenterSandbox;
  beforeAll(async () => {
    cc = await startContactCenterSandbox({ seed: true, maxAttachmentBytes: 1000 });
  });
  afterAll(() => cc.close());

  const upload = (bytes: Buffer, name: string, type: string, apikey?: string): Promise<Response> => {
    const form = new FormData();
    form.append('file', new Blob([bytes], { type }), name);
    return fetch(`${cc.url}/api/attachments${apikey ? `?apikey=${apikey}` : ''}`, { method: 'POST', body: form });
  };

  it('uploads, describes and downloads a file', async () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4, 5]);
    const res = await upload(bytes, 'photo 1.png', 'image/png', 'demo-key');
    expect(res.status).toBe(201);
    const meta = (await res.json()) as any;
    expect(meta).toEqual({ id: expect.any(Number), name: 'photo 1.png', type: 'image/png', size: bytes.length });

    const info = await getJson(`${cc.url}/api/attachments/${meta.id}?apikey=demo-key`);
    expect(info).toEqual({ status: 200, json: meta });
    const download = await fetch(`${cc.url}/api/attachments/${meta.id}/download?apikey=demo-key`);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await download.arrayBuffer())).toEqual(bytes);

    // The uploaded id can be notified.
    const notify = await postJson(`${cc.url}/api/openchannel/accounts/1/notify?apikey=demo-key`, { ...ANA, body: 'photo 1.png', AttachmentId: meta.id });
    expect(notify.status).toBe(200);
    expect(cc.control.interaction(notify.json.interaction.id)!.messages[0].attachmentId).toBe(meta.id);
  });

  it('requires a known API key (any account) and answers 404 for unknown ids', async () => {
    expect((await upload(Buffer.from('x'), 'a.txt', 'text/plain')).status).toBe(401);
    expect((await upload(Buffer.from('x'), 'a.txt', 'text/plain', 'nope')).status).toBe(401);
    cc.control.createAccount({ name: 'Second', apiKey: 'second-key' });
    expect((await upload(Buffer.from('x'), 'a.txt', 'text/plain', 'second-key')).status).toBe(201);
    expect((await fetch(`${cc.url}/api/attachments/1/download`)).status).toBe(401);
    expect((await fetch(`${cc.url}/api/attachments/9999?apikey=demo-key`)).status).toBe(404);
    expect((await fetch(`${cc.url}/api/attachments/9999/download?apikey=demo-key`)).status).toBe(404);
  });

  it('answers 413 over the size limit and 400 without a file part', async () => {
    const res = await upload(Buffer.alloc(1001, 7), 'big.bin', 'application/octet-stream', 'demo-key');
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).message).toMatch(/limit/);
    const huge = await upload(Buffer.alloc(200_000, 7), 'huge.bin', 'application/octet-stream', 'demo-key');
    expect(huge.status).toBe(413);
    expect((await upload(Buffer.alloc(1000, 7), 'ok.bin', 'application/octet-stream', 'demo-key')).status).toBe(201);
    const form = new FormData();
    form.append('other', 'text');
    expect((await fetch(`${cc.url}/api/attachments?apikey=demo-key`, { method: 'POST', body: form })).status).toBe(400);
  });

  it('adds agent attachments from the control API', async () => {
    const meta = cc.control.addAttachment({ data: 'hello', name: 'note.txt', type: 'text/plain' });
    const res = await fetch(`${cc.url}/api/attachments/${meta.id}/download?apikey=demo-key`);
    expect(await res.text()).toBe('hello');
    const viaHttp = await postJson(`${cc.url}/_control/attachments`, { name: 'b.bin', type: 'application/pdf', base64: Buffer.from('pdf!').toString('base64') });
    expect(viaHttp.status).toBe(201);
    expect(viaHttp.json).toMatchObject({ name: 'b.bin', type: 'application/pdf', size: 4 });
  });
});

describe('contact-center sandbox: agent replies', () => {
  let cc: ContactCenterSandbox;
  let relay: ReplyReceiver;
  beforeAll(async () => {
    relay = await startReplyReceiver();
    cc = await startContactCenterSandbox({ seed: true });
    cc.control.setReplyUrl(1, `${relay.url}/api/reply?token=reply-token`);
  });
  afterAll(async () => {
    await cc.close();
    await relay.close();
  });

  it('posts the Motion-shaped body to the Reply URL and records the answer', async () => {
    const n = await postJson(`${cc.url}/api/openchannel/accounts/1/notify?apikey=demo-key`, ANA);
    const result = await cc.control.reply({ interactionId: n.json.interaction.id, body: 'Hello Ana, let me check.' });
    expect(result).toMatchObject({ status: 200, ok: true, answer: { id: 'm_1' } });
    const got = relay.received[0];
    expect(got.url).toBe('/api/reply?token=reply-token');
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.body).toEqual({
      id: result.id,
      body: 'Hello Ana, let me check.',
      AttachmentId: null,
      OpenchannelAccountId: 1,
      OpenchannelInteractionId: n.json.interaction.id,
      UserId: 17,
      ContactId: n.json.contact.id,
      Contact: { id: n.json.contact.id, firstName: 'Ana', lastName: 'Silva', phone: 'none', facebook: ANA.from },
      Interaction: { id: n.json.interaction.id, threadId: null, closed: false, ContactId: n.json.contact.id, OpenchannelAccountId: 1, UserId: 17 },
    });
    const last = cc.control.interaction(n.json.interaction.id)!.messages.at(-1)!;
    expect(last).toMatchObject({ direction: 'out', id: result.id, reply: { status: 200, ok: true, answer: { id: 'm_1' } } });
    expect(last.reply!.url).toContain('token=***');
  });

  it('replies on a wall thread by contact + threadId, with attachments, privateReply, Motion 1 style and a forced id', async () => {
    const thread = '1357924680_2468013579';
    await postJson(`${cc.url}/api/openchannel/accounts/1/notify?apikey=demo-key`, { ...ANA, body: 'Nice post', threadId: thread });
    const file = cc.control.addAttachment({ data: Buffer.from('img'), name: 'answer.png', type: 'image/png' });
    relay.received.length = 0;

    const r1 = await cc.control.reply({ accountId: 1, contactFrom: ANA.from, threadId: thread, attachmentId: file.id, privateReply: true });
    expect(relay.received[0].body).toMatchObject({ body: 'answer.png', AttachmentId: file.id, privateReply: true, Interaction: { threadId: thread }, Contact: { facebook: ANA.from } });

    await cc.control.reply({ contactFrom: ANA.from, body: 'Motion 1', style: 'motion1' });
    const m1 = relay.received[1].body;
    expect(m1).toMatchObject({ body: 'Motion 1', to: ANA.from, AttachmentId: null });
    expect(m1.Contact).toBeUndefined();

    await cc.control.reply({ contactFrom: ANA.from, threadId: thread, body: 'again', id: r1.id });
    expect(relay.received[2].body.id).toBe(r1.id);
  });

  it('returns the relay error answer, and connection failures as status 0', async () => {
    const n = await postJson(`${cc.url}/api/openchannel/accounts/1/notify?apikey=demo-key`, ANA);
    relay.answer = { status: 502, body: { message: 'Facebook token expired: re-authorize the page in the relay' } };
    const failed = await cc.control.reply({ interactionId: n.json.interaction.id, body: 'x' });
    expect(failed).toMatchObject({ status: 502, ok: false, answer: { message: expect.stringContaining('re-authorize') } });
    relay.answer = { status: 200, body: null };

    const viaHttp = await postJson(`${cc.url}/_control/reply`, { interactionId: n.json.interaction.id, body: 'over http', replyUrl: 'http://127.0.0.1:9/nothing' });
    expect(viaHttp.status).toBe(200);
    expect(viaHttp.json).toMatchObject({ status: 0, ok: false, error: expect.any(String) });

    cc.control.createAccount({ id: 5, name: 'No reply url' });
    expect((await postJson(`${cc.url}/_control/reply`, { accountId: 5, contactFrom: '1', body: 'x' })).status).toBe(409);
    expect((await postJson(`${cc.url}/_control/reply`, { interactionId: 424242, body: 'x' })).status).toBe(404);
  });

  it('the web page shows accounts and interactions, and its forms set the Reply URL and reply', async () => {
    const page = await fetch(`${cc.url}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`${cc.url}/api/openchannel/accounts/1/notify?apikey=demo-key`);
    expect(html).toContain('Ana Silva');
    expect(html).toContain('1357924680_2468013579');

    const set = await fetch(`${cc.url}/_ui/accounts/1/reply-url`, {
      method: 'POST',
      body: new URLSearchParams({ replyUrl: `${relay.url}/api/reply?token=from-page` }),
      redirect: 'manual',
    });
    expect(set.status).toBe(303);
    expect(cc.control.account(1)!.replyUrl).toBe(`${relay.url}/api/reply?token=from-page`);

    const interaction = cc.control.interactions({ contactFrom: ANA.from, threadId: null })[0];
    const form = new FormData();
    form.append('body', 'Typed on the page');
    form.append('file', new Blob([Buffer.from('doc')], { type: 'application/pdf' }), 'doc.pdf');
    relay.received.length = 0;
    const sent = await fetch(`${cc.url}/_ui/interactions/${interaction.id}/reply`, { method: 'POST', body: form, redirect: 'manual' });
    expect(sent.status).toBe(303);
    expect(decodeURIComponent(sent.headers.get('location')!)).toContain('relay answered 200');
    expect(relay.received[0].url).toBe('/api/reply?token=from-page');
    expect(relay.received[0].body).toMatchObject({ body: 'Typed on the page', AttachmentId: expect.any(Number) });

    const after = await (await fetch(`${cc.url}/`)).text();
    expect(after).toContain('Typed on the page');
    expect(after).toContain('doc.pdf');
  });
});
