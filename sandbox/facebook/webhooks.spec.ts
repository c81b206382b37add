import { createHmac } from 'node:crypto';
import { FacebookSandbox, startFacebookSandbox } from './server';
import { Receiver, graph, startReceiver } from './spec-helpers';
import { metaJson } from './webhooks';

describe('facebook sandbox: webhooks', () => {
  let fb: FacebookSandbox;
  let rx: Receiver;
  let store: string;
  let maria: string;

  beforeEach(async () => {
    rx = await startReceiver();
    fb = await startFacebookSandbox({ webhook: { retryDelaysMs: [30, 60], maxAttempts: 3, timeoutMs: 1000 }, cdnTtlMs: 400 });
    store = fb.seed!.pages.store;
    maria = fb.seed!.customers.maria;
    const sub = await fb.control.configureWebhook({ callbackUrl: rx.url, verifyToken: rx.verifyToken });
    expect(sub.active).toBe(true);
    fb.control.subscribePage(store);
  });

  afterEach(async () => {
    await fb.close();
    await rx.close();
  });

  it('serialises like Meta and signs the exact bytes', async () => {
    expect(metaJson({ t: 'äöå/€ 😀' })).toBe('{"t":"\\u00e4\\u00f6\\u00e5\\/\\u20ac \\ud83d\\ude00"}');
    const sent = fb.control.events.customerMessage({ psid: maria, text: 'Grüße aus Köln / 50% off? 😀' });
    await rx.waitFor(() => rx.posts().length >= 1);
    const hit = rx.posts()[0];
    const raw = hit.raw.toString('latin1');
    expect(raw).toContain('Gr\\u00fc\\u00dfe aus K\\u00f6ln \\/ 50% off? \\ud83d\\ude00');
    expect(/[^\x00-\x7f]/.test(raw)).toBe(false);
    expect(raw.startsWith('{"object":"page","entry":[{"id":"')).toBe(true);
    const expected = 'sha256=' + createHmac('sha256', fb.appSecret).update(hit.raw).digest('hex');
    expect(hit.headers['x-hub-signature-256']).toBe(expected);
    expect(hit.headers['x-hub-signature']).toBe('sha1=' + createHmac('sha1', fb.appSecret).update(hit.raw).digest('hex'));
    expect(hit.headers['facebook-api-version']).toBe('v24.0');
    const ev = hit.json.entry[0].messaging[0];
    expect(ev).toMatchObject({ sender: { id: maria }, recipient: { id: store }, message: { mid: sent.mid, text: 'Grüße aus Köln / 50% off? 😀' } });
    expect(ev.timestamp).toBeGreaterThan(1e12);
  });

  it('verification: a callback that does not echo the challenge is not activated', async () => {
    const bad = await fb.control.configureWebhook({ callbackUrl: rx.url, verifyToken: 'wrong' });
    expect(bad.active).toBe(false);
    expect(bad.lastVerification?.status).toBe(403);
    const verifications = rx.received.filter((x) => x.method === 'GET');
    expect(new URL(verifications[0].url, 'http://x').searchParams.get('hub.mode')).toBe('subscribe');
  });

  it('only delivers fields subscribed at both app and page level', async () => {
    fb.control.subscribePage(store, ['feed']);
    const r = fb.control.events.customerMessage({ psid: maria, text: 'hi' });
    expect(r.queued).toBe(false);
    expect(fb.control.skippedEvents()[0].reason).toMatch(/page subscription lacks field messages/);
    const c = fb.control.events.comment({ parentId: fb.seed!.posts.storeWelcome, psid: maria, message: 'nice' });
    expect(c.queued).toBe(true);
    await rx.waitFor(() => rx.posts().length >= 1);
    const post = rx.posts()[0].json;
    expect(post.entry[0].changes[0]).toMatchObject({ field: 'feed', value: { item: 'comment', verb: 'add', comment_id: c.commentId, parent_id: fb.seed!.posts.storeWelcome, from: { id: maria } } });
    expect(post.entry[0].time).toBeLessThan(1e11); // feed times are seconds
  });

  it('retries a failing receiver with the configured schedule, then gives up', async () => {
    rx.failNext.push(500, 503);
    fb.control.events.customerMessage({ psid: maria, text: 'retry me' });
    await rx.waitFor(() => rx.posts().length >= 3);
    expect(new Set(rx.posts().map((p) => p.raw.toString())).size).toBe(1);
    await fb.control.waitForWebhooks();
    const [d] = fb.control.deliveries();
    expect(d.status).toBe('delivered');
    expect(d.attempts.map((a) => a.status)).toEqual([500, 503, 200]);

    rx.failNext.push(500, 500, 500);
    fb.control.events.customerMessage({ psid: maria, text: 'lost' });
    await fb.control.waitForWebhooks();
    expect(fb.control.deliveries({ status: 'failed' })).toHaveLength(1);
  });

  it('unsubscribes the app from a page after N consecutive failures when configured, and on command', async () => {
    fb.control.setWebhookOptions({ autoUnsubscribeAfterFailures: 2, maxAttempts: 2 });
    rx.failNext.push(500, 500);
    fb.control.events.customerMessage({ psid: maria, text: 'x' });
    await fb.control.waitForWebhooks();
    expect(fb.control.webhookStatus().unsubscribedByFailure.map((u) => u.pageId)).toEqual([store]);
    const t = fb.control.issueToken({ userId: fb.seed!.users.ana, pageId: store });
    const res = await graph(fb.url, `/v24.0/${store}/subscribed_apps`, { params: { access_token: t.pageToken! } });
    expect(res.body).toEqual({ data: [] });
    fb.control.subscribePage(store);
    fb.control.unsubscribePage(store);
    expect(fb.control.events.customerMessage({ psid: maria, text: 'y' }).queued).toBe(false);
  });

  it('batches entries of several pages into one POST when asked, and can duplicate/reorder', async () => {
    const bakery = fb.seed!.pages.bakery;
    fb.control.subscribePage(bakery);
    fb.control.setWebhookOptions({ batch: true, flushDelayMs: 20 });
    fb.control.events.customerMessage({ psid: maria, text: 'one' });
    fb.control.events.customerMessage({ psid: fb.seed!.customers.bakeryMaria, text: 'two' });
    fb.control.events.customerMessage({ psid: maria, text: 'three' });
    await fb.control.waitForWebhooks();
    expect(rx.posts()).toHaveLength(1);
    const entries = rx.posts()[0].json.entry;
    expect(entries.map((e: { id: string }) => e.id)).toEqual([store, bakery, store]);

    fb.control.setWebhookOptions({ batch: false, duplicates: true, outOfOrder: true });
    fb.control.events.customerMessage({ psid: maria, text: 'first' });
    fb.control.events.customerMessage({ psid: maria, text: 'second' });
    await fb.control.waitForWebhooks();
    const texts = rx.posts().slice(1).map((p) => p.json.entry[0].messaging[0].message.text);
    expect(texts[0]).toBe('second');
    expect([...texts].sort()).toEqual(['first', 'first', 'second', 'second']);
    expect(fb.control.deliveries().filter((d) => d.duplicateOf !== undefined)).toHaveLength(2);
  });

  it('media URLs work on the CDN, then answer 403 after the TTL', async () => {
    const r = fb.control.events.customerMessage({
      psid: maria,
      attachments: [{ type: 'image' }, { type: 'file', filename: 'invoice.pdf', contentType: 'application/pdf', dataBase64: Buffer.from('%PDF-1.7 hello').toString('base64') }],
    });
    await rx.waitFor(() => rx.posts().length >= 1);
    const hit = rx.posts()[0];
    const atts = hit.json.entry[0].messaging[0].message.attachments;
    expect(atts.map((a: { type: string }) => a.type)).toEqual(['image', 'file']);
    const fileUrl: string = atts[1].payload.url;
    expect(fileUrl).toBe(r.attachmentUrls![1]);
    expect(fileUrl).toMatch(/oh=[^&]+&oe=[0-9A-F]+$/);
    expect(hit.raw.toString()).toContain('\\/cdn\\/v\\/');
    const ok = await fetch(fileUrl);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('application/pdf');
    expect(await ok.text()).toBe('%PDF-1.7 hello');
    const tampered = await fetch(fileUrl.replace(/oe=[0-9A-F]+/, 'oe=FFFFFFFF'));
    expect(tampered.status).toBe(403);
    await new Promise((res) => setTimeout(res, 450));
    const expired = await fetch(fileUrl);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toBe('URL signature expired');
  });

  it('generates the other Messenger and feed event kinds with the documented shapes', async () => {
    const ev = fb.control.events;
    ev.customerMessage({ psid: maria, sticker: {} });
    ev.customerMessage({ psid: maria, text: 'ok', quickReplyPayload: 'YES', replyToMid: 'm_prev' });
    ev.customerMessage({ psid: maria, location: { lat: 1.5, long: 2.5 } });
    ev.postback({ psid: maria, title: 'Start', payload: 'GET_STARTED', referral: { ref: 'ad', source: 'ADS', type: 'OPEN_THREAD' } });
    ev.reaction({ psid: maria, mid: 'm_x', reaction: 'love' });
    ev.customerMessage({ psid: maria, text: 'standby', standby: true });
    const inbox = ev.pageInboxReply({ psid: maria, text: 'Hi from the inbox' });
    const post = ev.visitorPost({ psid: maria, message: 'Great shop' });
    ev.pagePost({ pageId: store, message: 'News' });
    await fb.control.waitForWebhooks();
    const entries = rx.posts().map((p) => p.json.entry[0]);
    const msgs = entries.map((e) => (e.messaging ?? e.standby)?.[0]);
    expect(msgs[0].message.sticker_id).toBe(369239263222822);
    expect(msgs[0].message.attachments.map((a: { type: string }) => a.type)).toEqual(['sticker', 'image']);
    expect(msgs[1].message).toMatchObject({ quick_reply: { payload: 'YES' }, reply_to: { mid: 'm_prev' } });
    expect(msgs[2].message.attachments[0]).toMatchObject({ type: 'location', payload: { coordinates: { lat: 1.5, long: 2.5 } } });
    expect(msgs[3].postback).toMatchObject({ title: 'Start', payload: 'GET_STARTED', referral: { source: 'ADS' } });
    expect(msgs[4].reaction).toMatchObject({ action: 'react', reaction: 'love', mid: 'm_x' });
    expect(entries[5].standby[0].message.text).toBe('standby');
    expect(msgs[6]).toMatchObject({ sender: { id: store }, recipient: { id: maria }, message: { is_echo: true, app_id: 263902037430900, mid: inbox.mid } });
    expect(entries[7].changes[0].value).toMatchObject({ item: 'post', verb: 'add', post_id: post.postId, from: { id: maria } });
    expect(entries[8].changes[0].value).toMatchObject({ item: 'status', verb: 'add', published: 1, from: { id: store } });
  });
});
