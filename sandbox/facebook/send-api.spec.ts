import { FacebookSandbox, startFacebookSandbox } from './server';
import { Receiver, graph, startReceiver } from './spec-helpers';

const DAY = 24 * 3600_000;

describe('facebook sandbox: Send API, comments, error injection', () => {
  let fb: FacebookSandbox;
  let rx: Receiver;
  let store: string;
  let token: string;
  let seed: NonNullable<FacebookSandbox['seed']>;

  beforeEach(async () => {
    rx = await startReceiver();
    fb = await startFacebookSandbox({ webhookCallbackUrl: rx.url, webhookVerifyToken: rx.verifyToken, subscribeSeededPages: true });
    seed = fb.seed!;
    store = seed.pages.store;
    token = fb.control.issueToken({ userId: seed.users.ana, pageId: store }).pageToken!;
  });
  afterEach(async () => {
    await fb.close();
    await rx.close();
  });

  const send = (body: Record<string, unknown>, path = `/v24.0/${store}/messages`) => graph(fb.url, path, { json: { access_token: token, ...body } });

  it('sends text, answers {recipient_id, message_id} and emits an echo with our app_id and metadata, then a delivery', async () => {
    const psid = seed.customers.maria;
    const res = await send({ recipient: { id: psid }, messaging_type: 'RESPONSE', message: { text: 'Olá! ✓', metadata: 'relay:1' } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ recipient_id: psid, message_id: expect.stringMatching(/^m_/) });
    await rx.waitFor(() => rx.posts().length >= 2);
    const [echo, delivery] = rx.posts().map((p) => p.json.entry[0].messaging[0]);
    expect(echo).toMatchObject({ sender: { id: store }, recipient: { id: psid }, message: { is_echo: true, app_id: Number(fb.appId), metadata: 'relay:1', mid: res.body.message_id, text: 'Olá! ✓' } });
    expect(delivery).toMatchObject({ sender: { id: psid }, recipient: { id: store }, delivery: { mids: [res.body.message_id] } });
    expect(fb.control.sentMessages({ psid })).toEqual([expect.objectContaining({ text: 'Olá! ✓', messagingType: 'RESPONSE', mid: res.body.message_id })]);

    // form-encoded on /me/messages, values JSON-encoded
    const form = await graph(fb.url, '/v24.0/me/messages', { form: { access_token: token, recipient: JSON.stringify({ id: psid }), message: JSON.stringify({ text: 'form' }), messaging_type: 'UPDATE' } });
    expect(form.body.recipient_id).toBe(psid);
    // unknown PSID
    expect((await send({ recipient: { id: '123' }, message: { text: 'x' } })).body.error).toMatchObject({ code: 100, error_subcode: 2018001 });
  });

  it('enforces the 24 h window, HUMAN_AGENT for 7 days, and 10/2018278 outside', async () => {
    const psid = seed.customers.joao; // last message 3 days ago
    expect((await send({ recipient: { id: psid }, messaging_type: 'RESPONSE', message: { text: 'late' } })).body.error).toMatchObject({ code: 10, error_subcode: 2018278 });
    const tagged = await send({ recipient: { id: psid }, messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT', message: { text: 'agent here' } });
    expect(tagged.status).toBe(200);
    fb.control.updateCustomer(psid, { lastMessageAgoMs: 8 * DAY });
    expect((await send({ recipient: { id: psid }, messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT', message: { text: 'too late' } })).body.error).toMatchObject({ code: 10, error_subcode: 2018278 });
    // a new customer message re-opens the window
    fb.control.events.customerMessage({ psid, text: 'hello again' });
    expect((await send({ recipient: { id: psid }, messaging_type: 'RESPONSE', message: { text: 'welcome back' } })).status).toBe(200);
    // the clock can move too
    fb.control.advanceClock(DAY + 1000);
    expect((await send({ recipient: { id: psid }, message: { text: 'x' } })).body.error.error_subcode).toBe(2018278);
  });

  it('rejects text of 2000 characters or more with code 100', async () => {
    const psid = seed.customers.maria;
    expect((await send({ recipient: { id: psid }, message: { text: 'a'.repeat(1999) } })).status).toBe(200);
    const tooLong = await send({ recipient: { id: psid }, message: { text: 'a'.repeat(2000) } });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.code).toBe(100);
  });

  it('multipart filedata: wrong content type → 100/2018047; right one is stored and echoed with a CDN URL', async () => {
    const psid = seed.customers.maria;
    const build = (type: string) => {
      const fd = new FormData();
      fd.set('recipient', JSON.stringify({ id: psid }));
      fd.set('messaging_type', 'RESPONSE');
      fd.set('message', JSON.stringify({ attachment: { type: 'image', payload: { is_reusable: true } } }));
      fd.set('filedata', new Blob([Buffer.from('\x89PNG fake', 'latin1')], { type }), 'shirt.png');
      return fd;
    };
    const bad = await graph(fb.url, `/v24.0/me/messages`, { params: { access_token: token }, body: build('application/pdf') });
    expect(bad.body.error).toMatchObject({ code: 100, error_subcode: 2018047, message: '(#100) Upload attachment failure.' });
    const ok = await graph(fb.url, `/v24.0/me/messages`, { params: { access_token: token }, body: build('image/png') });
    expect(ok.body).toEqual({ recipient_id: psid, message_id: expect.any(String), attachment_id: expect.any(String) });
    const [sent] = fb.control.sentMessages({ psid });
    expect(sent.attachments![0]).toMatchObject({ type: 'image', source: 'upload', contentType: 'image/png', filename: 'shirt.png', size: 9 });
    await rx.waitFor(() => rx.posts().length >= 1);
    const echoUrl = rx.posts()[0].json.entry[0].messaging[0].message.attachments[0].payload.url;
    expect(Buffer.from(await (await fetch(echoUrl)).arrayBuffer()).toString('latin1')).toBe('\x89PNG fake');
    // reuse by attachment_id, and by URL (fetched like Meta does)
    expect((await send({ recipient: { id: psid }, message: { attachment: { type: 'image', payload: { attachment_id: ok.body.attachment_id } } } })).status).toBe(200);
    expect((await send({ recipient: { id: psid }, message: { attachment: { type: 'file', payload: { url: echoUrl } } } })).status).toBe(200);
    expect((await send({ recipient: { id: psid }, message: { attachment: { type: 'file', payload: { url: 'http://127.0.0.1:9/nothing' } } } })).body.error.error_subcode).toBe(2018008);
  });

  it('private reply: once per comment, within 7 days; public reply, hide and delete', async () => {
    const ev = fb.control.events.comment({ parentId: seed.posts.storeWelcome, psid: seed.customers.commenter, message: 'Price?' });
    const first = await send({ recipient: { comment_id: ev.commentId }, message: { text: 'Sent you a DM' } });
    expect(first.body.recipient_id).toBe(seed.customers.commenter);
    const again = await send({ recipient: { comment_id: ev.commentId }, message: { text: 'again' } });
    expect(again.body.error.code).toBe(10900);
    const old = fb.control.events.comment({ parentId: seed.posts.storeWelcome, psid: seed.customers.commenter, message: 'old' });
    fb.control.ageObject(old.commentId!, 8 * DAY);
    expect((await send({ recipient: { comment_id: old.commentId }, message: { text: 'late' } })).body.error.code).toBe(10903);
    // a private reply does not open the 24 h window
    expect((await send({ recipient: { id: seed.customers.commenter }, message: { text: 'more' } })).body.error.error_subcode).toBe(2018278);

    await fb.control.waitForWebhooks();
    rx.received.length = 0;
    const reply = await graph(fb.url, `/v24.0/${ev.commentId}/comments`, { form: { access_token: token, message: 'Thanks for asking!' } });
    expect(reply.body.id).toMatch(/^\d+_\d+$/);
    const hide = await graph(fb.url, `/v24.0/${ev.commentId}`, { form: { access_token: token, is_hidden: 'true' } });
    expect(hide.body).toEqual({ success: true });
    const del = await graph(fb.url, `/v24.0/${ev.commentId}`, { method: 'DELETE', params: { access_token: token } });
    expect(del.body).toEqual({ success: true });
    await rx.waitFor(() => rx.posts().filter((p) => p.json.entry[0].changes).length >= 3);
    const values = rx.posts().filter((p) => p.json.entry[0].changes).map((p) => p.json.entry[0].changes[0].value);
    expect(values[0]).toMatchObject({ item: 'comment', verb: 'add', comment_id: reply.body.id, parent_id: ev.commentId, from: { id: store } });
    expect(values[1]).toMatchObject({ verb: 'hide', comment_id: ev.commentId });
    expect(values[2]).toMatchObject({ verb: 'remove', comment_id: ev.commentId });
    const list = await graph(fb.url, `/v24.0/${seed.posts.storeWelcome}/comments`, { params: { access_token: token, filter: 'stream' } });
    expect(list.body.data.map((c: { id: string }) => c.id)).toContain(old.commentId);
    expect(list.body.data.map((c: { id: string }) => c.id)).not.toContain(ev.commentId);
  });

  it('injects each listed error on command, for N calls, by path/page', async () => {
    const psid = seed.customers.maria;
    const msg = { recipient: { id: psid }, message: { text: 'x' } };
    const cases: [Parameters<typeof fb.control.injectError>[0]['kind'], number, number | undefined, number][] = [
      ['token_expired', 190, 463, 400],
      ['token_revoked', 190, 460, 400],
      ['rate_limit_app', 4, undefined, 400],
      ['rate_limit_custom', 613, undefined, 400],
      ['rate_limit_messenger', 80006, undefined, 400],
      ['person_unavailable', 551, 1545041, 400],
      ['outside_window', 10, 2018278, 400],
      ['transient', 2, undefined, 500],
    ];
    for (const [kind, code, subcode, status] of cases) {
      fb.control.injectError({ kind, path: '/messages', pageId: store });
      const res = await send(msg);
      expect([kind, res.status, res.body.error.code, res.body.error.error_subcode]).toEqual([kind, status, code, subcode]);
      if (code === 80006) expect(JSON.parse(res.headers.get('x-business-use-case-usage')!)[store][0].type).toBe('messenger');
    }
    expect((await send(msg)).status).toBe(200);

    // only matching paths, N times
    fb.control.injectError({ kind: 'transient', path: '/messages', times: 2 });
    expect((await graph(fb.url, '/me', { params: { access_token: token } })).status).toBe(200);
    expect((await send(msg)).status).toBe(500);
    expect((await send(msg)).status).toBe(500);
    expect((await send(msg)).status).toBe(200);

    // slow answers
    fb.control.injectDelay(300, { path: '/messages' });
    const t0 = Date.now();
    expect((await send(msg)).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);

    // the send takes effect, its answer is lost: the caller sees the connection close, the echo still goes out
    const before = fb.control.sentMessages({ psid: msg.recipient.id }).length;
    fb.control.injectError({ kind: 'lost_answer', path: '/messages', delayMs: 50 });
    await expect(send({ ...msg, message: { text: 'lost', metadata: 'relay:lost' } })).rejects.toThrow();
    expect(fb.control.sentMessages({ psid: msg.recipient.id })).toHaveLength(before + 1);
    await rx.waitFor(() => rx.posts().some((p) => p.json.entry[0].messaging?.[0]?.message?.metadata === 'relay:lost'));
    expect(fb.control.calls({ path: '/messages', method: 'POST' }).at(-1)).toMatchObject({ status: 200, injected: true });

    // down
    fb.control.setDown(true);
    expect((await send(msg)).status).toBe(503);
    fb.control.setDown(false);

    // the call log records everything, with tokens redacted
    const calls = fb.control.calls({ path: '/messages', method: 'POST' });
    expect(calls.filter((c) => c.injected).length).toBeGreaterThanOrEqual(11);
    expect(JSON.stringify(calls)).not.toContain(token);
    const http = await graph(fb.url, '/_control/calls', { params: { path: '/messages', status: '500' } });
    expect(http.body.length).toBe(3);
  });

  it('the HTTP control API drives the same operations', async () => {
    const info = await graph(fb.url, '/_control');
    expect(info.body).toMatchObject({ appId: fb.appId, graphVersion: 'v24.0' });
    const ev = await graph(fb.url, '/_control/events/message', { json: { psid: seed.customers.maria, text: 'via http', attachments: [{ type: 'audio' }] } });
    expect(ev.body.mid).toMatch(/^m_/);
    await rx.waitFor(() => rx.posts().length >= 1);
    expect(rx.posts()[0].json.entry[0].messaging[0].message.attachments[0].type).toBe('audio');
    const err = await graph(fb.url, '/_control/errors', { json: { kind: 'rate_limit_app' } });
    expect(err.body.kind).toBe('rate_limit_app');
    expect((await send({ recipient: { id: seed.customers.maria }, message: { text: 'x' } })).body.error.code).toBe(4);
    const tok = await graph(fb.url, '/_control/tokens/revoke', { json: { token } });
    expect(tok.body).toEqual({ revoked: 1 });
    const state = await graph(fb.url, '/_control/state');
    expect(state.body.pages.find((p: { id: string }) => p.id === store).roles[seed.users.ana]).toContain('MESSAGING');
    const deliveries = await graph(fb.url, '/_control/webhook/deliveries');
    expect(deliveries.body[0].status).toBe('delivered');
  });
});
