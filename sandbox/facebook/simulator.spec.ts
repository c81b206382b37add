import { createHmac } from 'node:crypto';
import { FacebookSandbox, startFacebookSandbox } from './server';
import { Receiver, graph, startReceiver } from './spec-helpers';

describe('facebook sandbox: customer simulator web page', () => {
  let fb: FacebookSandbox;
  let rx: Receiver;
  let seed: NonNullable<FacebookSandbox['seed']>;
  let store: string;
  let maria: string;

  beforeEach(async () => {
    rx = await startReceiver();
    fb = await startFacebookSandbox({ webhookCallbackUrl: rx.url, webhookVerifyToken: rx.verifyToken, subscribeSeededPages: true, webhook: { autoDeliveryReceipts: false } });
    seed = fb.seed!;
    store = seed.pages.store;
    maria = seed.customers.maria;
  });
  afterEach(async () => {
    await fb.close();
    await rx.close();
  });

  const page = async (query: Record<string, string> = {}) => {
    const res = await fetch(`${fb.url}/?${new URLSearchParams(query)}`);
    expect(res.headers.get('content-type')).toContain('text/html');
    return { status: res.status, html: await res.text() };
  };
  const post = (path: string, body: Record<string, string> | FormData) =>
    fetch(fb.url + path, {
      method: 'POST',
      redirect: 'manual',
      ...(body instanceof FormData ? { body } : { body: new URLSearchParams(body).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    });
  const lastMessaging = () => rx.posts()[rx.posts().length - 1].json.entry[0].messaging[0];

  it('renders the seeded pages and the customers of the selected page; Graph paths keep answering JSON', async () => {
    const { status, html } = await page();
    expect(status).toBe(200);
    for (const name of ['Ana’s Bike Store', 'Padaria Silva', 'Silva Family Blog', 'Costa Surf School', 'María Müller', 'João Pereira', 'Chen Wei']) expect(html).toContain(name);
    expect(html).toContain('action="/simulator/send"');
    expect(html).toContain('http-equiv="refresh"');
    // status line: callback URL, active
    expect(html).toContain(rx.url);
    expect(html).toContain('active');

    const bakery = await page({ page: seed.pages.bakery });
    expect(bakery.html).toContain('María Müller');
    expect(bakery.html).not.toContain('João Pereira');

    // The root with a token, versioned root and /me stay Graph.
    expect((await graph(fb.url, '/', { params: { access_token: 'x' } })).body.error).toBeDefined();
    expect((await graph(fb.url, '/v24.0/')).body.error).toBeDefined();
    expect((await graph(fb.url, '/me')).body.error.code).toBe(104);
  });

  it('the send form emits a signed webhook with the typed text and redirects back to the conversation', async () => {
    const res = await post('/simulator/send', { customer: maria, text: 'Hello from the browser 👋' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toContain(`customer=${maria}`);
    await rx.waitFor(() => rx.posts().length >= 1);
    const hook = rx.posts()[0];
    expect(hook.headers['x-hub-signature-256']).toBe('sha256=' + createHmac('sha256', fb.appSecret).update(hook.raw).digest('hex'));
    expect(hook.json.entry[0].messaging[0]).toMatchObject({ sender: { id: maria }, recipient: { id: store }, message: { text: 'Hello from the browser 👋' } });

    const { html } = await page({ page: store, customer: maria });
    expect(html).toContain('Hello from the browser 👋');
    expect(html).toContain(hook.json.entry[0].messaging[0].message.mid);
    await fb.control.waitForWebhooks();
    expect(html).toMatch(/delivered|pending/);
  });

  it('a file becomes an image/audio/file attachment by MIME type; sticker, location and Get Started buttons work', async () => {
    const fd = new FormData();
    fd.set('customer', maria);
    fd.set('text', '');
    fd.set('file', new Blob([Buffer.from('\x89PNG fake', 'latin1')], { type: 'image/png' }), 'bike.png');
    expect((await post('/simulator/send', fd)).status).toBe(303);
    await rx.waitFor(() => rx.posts().length >= 1);
    expect(lastMessaging().message.attachments[0]).toMatchObject({ type: 'image', payload: { url: expect.stringContaining('/cdn/') } });

    const audio = new FormData();
    audio.set('customer', maria);
    audio.set('file', new Blob([Buffer.from('ogg')], { type: 'audio/ogg' }), 'voice.ogg');
    await post('/simulator/send', audio);
    await rx.waitFor(() => rx.posts().length >= 2);
    expect(lastMessaging().message.attachments[0].type).toBe('audio');

    const doc = new FormData();
    doc.set('customer', maria);
    doc.set('text', 'see attached');
    doc.set('file', new Blob([Buffer.from('a,b')], { type: 'text/csv' }), 'order.csv');
    await post('/simulator/send', doc);
    await rx.waitFor(() => rx.posts().length >= 4); // file, then the text as its own message
    const [fileMsg, textMsg] = rx.posts().slice(2).map((p) => p.json.entry[0].messaging[0].message);
    expect(fileMsg.attachments[0].type).toBe('file');
    expect(textMsg.text).toBe('see attached');

    await post('/simulator/sticker', { customer: maria });
    await rx.waitFor(() => rx.posts().length >= 5);
    expect(lastMessaging().message.sticker_id).toBe(369239263222822);
    await post('/simulator/location', { customer: maria });
    await rx.waitFor(() => rx.posts().length >= 6);
    expect(lastMessaging().message.attachments[0].type).toBe('location');
    await post('/simulator/postback', { customer: maria, title: 'Get Started', payload: 'GET_STARTED' });
    await rx.waitFor(() => rx.posts().length >= 7);
    expect(lastMessaging().postback).toMatchObject({ title: 'Get Started', payload: 'GET_STARTED' });

    const { html } = await page({ customer: maria });
    expect(html).toContain('order.csv');
    expect(html).toContain('Get Started');
    const link = /href="(\/simulator\/media\/[^"]+)"[^>]*>order\.csv/.exec(html)![1];
    const media = await fetch(fb.url + link);
    expect(await media.text()).toBe('a,b');
    expect(media.headers.get('content-security-policy')).toBe('sandbox');
  });

  it('a page reply sent through the Send API appears on the conversation view (and in the live JSON)', async () => {
    const token = fb.control.issueToken({ userId: seed.users.ana, pageId: store }).pageToken!;
    const before = (await (await fetch(`${fb.url}/simulator/live?customer=${maria}`)).json()) as { key: string };
    const sent = await graph(fb.url, `/v24.0/me/messages`, {
      json: { access_token: token, recipient: { id: maria }, messaging_type: 'RESPONSE', message: { text: 'Hi María, how can we help?', quick_replies: [{ content_type: 'text', title: 'Opening hours', payload: 'HOURS' }] } },
    });
    expect(sent.status).toBe(200);
    const { html } = await page({ page: store, customer: maria });
    expect(html).toContain('Hi María, how can we help?');
    expect(html).toContain(sent.body.message_id);
    expect(html).toContain('via Send API');
    const live = (await (await fetch(`${fb.url}/simulator/live?customer=${maria}`)).json()) as { key: string; main: string };
    expect(live.key).not.toBe(before.key);
    expect(live.main).toContain('Hi María, how can we help?');

    // the quick reply is a button that sends the title with its payload
    expect(html).toContain('value="HOURS"');
    await post('/simulator/send', { customer: maria, text: 'Opening hours', quickReplyPayload: 'HOURS' });
    await rx.waitFor(() => rx.posts().some((p) => p.json.entry[0].messaging?.[0].message?.quick_reply));
  });

  it('escapes HTML in messages, names and posts', async () => {
    const created = await post('/simulator/customers', { page: store, firstName: '<b>Eve</b>', lastName: '"><img src=x onerror=alert(1)>' });
    expect(created.status).toBe(303);
    const psid = new URL(created.headers.get('location')!, fb.url).searchParams.get('customer')!;
    expect(fb.control.state.requireCustomer(psid).firstName).toBe('<b>Eve</b>');
    await post('/simulator/send', { customer: psid, text: '<script>alert("x")</script>' });
    await post('/simulator/visitor-post', { customer: psid, message: '<i>wall</i>' });
    const chat = await page({ customer: psid });
    expect(chat.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(chat.html).not.toContain('<script>alert');
    expect(chat.html).toContain('&lt;b&gt;Eve&lt;/b&gt;');
    expect(chat.html).not.toContain('<img src=x');
    const wall = await page({ customer: psid, view: 'wall' });
    expect(wall.html).toContain('&lt;i&gt;wall&lt;/i&gt;');
    expect(wall.html).not.toContain('<i>wall</i>');
  });

  it('wall: visitor post, comment, reply, page post and page comment become feed webhooks and show threaded', async () => {
    const commentId = [...fb.control.state.comments.values()][0].id;
    await post('/simulator/visitor-post', { customer: maria, message: 'Do you repair e-bikes?' });
    await post('/simulator/comment', { customer: maria, parentId: seed.posts.storeNews, message: 'Which sizes?' });
    await post('/simulator/comment', { customer: maria, parentId: commentId, message: 'Me too!' });
    await post('/simulator/comment', { customer: maria, parentId: commentId, message: 'Yes, from 16"', as: 'page' });
    await post('/simulator/page-post', { page: store, message: 'Open on Sunday' });
    await rx.waitFor(() => rx.posts().length >= 5);
    const values = rx.posts().map((p) => p.json.entry[0].changes[0].value);
    expect(values.map((v) => [v.item, v.verb])).toEqual([
      ['post', 'add'],
      ['comment', 'add'],
      ['comment', 'add'],
      ['comment', 'add'],
      ['status', 'add'],
    ]);
    expect(values[2]).toMatchObject({ parent_id: commentId, from: { id: maria } });
    expect(values[3]).toMatchObject({ parent_id: commentId, from: { id: store } });

    const { html } = await page({ page: store, customer: maria, view: 'wall' });
    for (const text of ['Do you repair e-bikes?', 'Which sizes?', 'Me too!', 'Yes, from 16&quot;', 'Open on Sunday', 'Do you have kids bikes too?']) expect(html).toContain(text);
    // the reply is nested under the seeded comment
    expect(html.indexOf('Do you have kids bikes too?')).toBeLessThan(html.indexOf('Me too!'));
    expect(html).toMatch(/Do you have kids bikes too\?[\s\S]*<ul class="comments">[\s\S]*Me too!/);
  });

  it('says when an event was not sent (page not subscribed) and answers errors as HTML', async () => {
    fb.control.unsubscribePage(store);
    const res = await post('/simulator/send', { customer: maria, text: 'anyone?' });
    const location = res.headers.get('location')!;
    expect(new URL(location, fb.url).searchParams.get('notice')).toMatch(/Not sent/);
    const { html } = await page(Object.fromEntries(new URL(location, fb.url).searchParams));
    expect(html).toContain('app not installed on this page');
    const bad = await post('/simulator/send', { customer: '123', text: 'x' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('unknown customer 123');
  });
});
