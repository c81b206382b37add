import { classifyWebhook, WebhookFormatError } from '../../src/webhooks/classify';
import { InboundEvent, ReceiptEvent } from '../../src/webhooks/inbound-event';
import { verifyHubSignature } from '../../src/webhooks/signature';
import { feed, hubSignature, messaging, metaJson, page } from './webhook-signing';

const PAGE = '1357924680';
const PSID = '24920318375';
const OUR_APP = '1000000000000001';
const frame = (body: object, ts = 1747217400871) => ({ sender: { id: PSID }, recipient: { id: PAGE }, timestamp: ts, ...body });
const one = (entry: object) => classifyWebhook(page(entry), OUR_APP).events as InboundEvent[];

describe('webhook signature', () => {
  const secret = 'app-secret-123';
  it('accepts the HMAC of the exact bytes, with non-ASCII escaped as Facebook does', () => {
    const body = Buffer.from(metaJson(page(messaging(PAGE, [frame({ message: { mid: 'm_1', text: 'Olá, ação 😀 / ok' } })]))));
    expect(body.toString()).toContain('Ol\\u00e1');
    expect(verifyHubSignature(body, hubSignature(body, secret), secret)).toBe(true);
  });
  it('refuses a missing, wrong, truncated or re-serialised signature', () => {
    const raw = metaJson({ text: 'ação' });
    const body = Buffer.from(raw);
    expect(verifyHubSignature(body, undefined, secret)).toBe(false);
    expect(verifyHubSignature(body, hubSignature(body, 'other'), secret)).toBe(false);
    expect(verifyHubSignature(body, hubSignature(body, secret).slice(0, 20), secret)).toBe(false);
    expect(verifyHubSignature(body, hubSignature(JSON.stringify(JSON.parse(raw)), secret), secret)).toBe(false);
  });
});

describe('webhook classification', () => {
  it('rejects bodies that are not page notifications', () => {
    expect(() => classifyWebhook({ object: 'instagram', entry: [] }, OUR_APP)).toThrow(WebhookFormatError);
    expect(() => classifyWebhook([], OUR_APP)).toThrow(WebhookFormatError);
    expect(() => classifyWebhook({ object: 'page' }, OUR_APP)).toThrow(WebhookFormatError);
  });

  it('ignores unknown event kinds without failing the body', () => {
    const parsed = classifyWebhook(page(messaging(PAGE, [frame({ optin: { ref: 'x' } }), frame({ pass_thread_control: {} })])), OUR_APP);
    expect(parsed.events).toHaveLength(0);
    expect(parsed.ignored).toBe(2);
    expect(parsed.pageIds).toEqual([PAGE]);
  });

  it('text with reply_to and quick reply; standby is handled like messaging', () => {
    const [event] = one({ id: PAGE, time: 1, standby: [frame({ message: { mid: 'm_2', text: 'Sim', quick_reply: { payload: 'YES' }, reply_to: { mid: 'm_0' } } })] });
    expect(event).toMatchObject({ role: 'customer', event: 'message', customerId: PSID, threadId: '', externalId: 'm_2', occurredAt: 1747217400871 });
    expect(event.context).toEqual({ standby: true, quickReply: 'YES', replyTo: 'm_0' });
    expect(event.parts).toEqual([{ kind: 'text', text: 'Sim', part: 0, dedupKey: `${PAGE}:m:m_2:0`, attachment: undefined }]);
  });

  it('several attachments become one part each, after the text', () => {
    const [event] = one(messaging(PAGE, [frame({ message: { mid: 'm_3', text: 'fotos', attachments: [
      { type: 'image', payload: { url: 'https://scontent.xx.fbcdn.net/v/t1/a_n.jpg?oe=1' } },
      { type: 'video', payload: { url: 'https://video.xx.fbcdn.net/v/b.mp4' } },
      { type: 'audio', payload: { url: 'https://cdn.fbsbx.com/v/audioclip-1-2.mp4' } },
      { type: 'file', payload: { url: 'https://cdn.fbsbx.com/v/t59/invoice.pdf?x=1' } },
    ] } })]));
    expect(event.parts.map((p) => [p.kind, p.part, p.attachment?.type, p.attachment?.filename])).toEqual([
      ['text', 0, undefined, undefined], ['attachment', 1, 'image', 'a_n.jpg'], ['attachment', 2, 'video', 'b.mp4'],
      ['attachment', 3, 'audio', 'audioclip-1-2.mp4'], ['attachment', 4, 'file', 'invoice.pdf'],
    ]);
  });

  it('stickers (once during the transition), locations and shared links become readable text', () => {
    const [like] = one(messaging(PAGE, [frame({ message: { mid: 'm_4', sticker_id: 369239263222822, attachments: [
      { type: 'image', payload: { url: 'https://x/s.png', sticker_id: 369239263222822 } }, { type: 'sticker', payload: { sticker_id: 369239263222822 } },
    ] } })]));
    expect(like.parts.map((p) => p.text)).toEqual(['👍']);
    const [location] = one(messaging(PAGE, [frame({ message: { mid: 'm_5', attachments: [{ type: 'location', title: "Ana's Location", payload: { coordinates: { lat: 38.7, long: -9.1 } } }] } })]));
    expect(location.parts[0]).toMatchObject({ kind: 'location', text: "Ana's Location: https://maps.google.com/?q=38.7,-9.1" });
    const [link] = one(messaging(PAGE, [frame({ message: { mid: 'm_6', attachments: [{ type: 'fallback', payload: { url: 'https://example.com/a', title: 'A page' } }] } })]));
    expect(link.parts[0]).toMatchObject({ kind: 'link', text: 'A page: https://example.com/a' });
    const [bare] = one(messaging(PAGE, [frame({ message: { mid: 'm_7', attachments: [{ type: 'fallback' }] } })]));
    expect(bare.parts[0].text).toContain('cannot show');
  });

  it('postbacks use the title (or payload) and keep a first-message referral', () => {
    const [pb] = one(messaging(PAGE, [frame({ postback: { mid: 'm_8', title: 'Get Started', payload: 'GET_STARTED', referral: { ref: 'summer', source: 'SHORTLINK', type: 'OPEN_THREAD' } } })]));
    expect(pb).toMatchObject({ role: 'customer', event: 'postback', parts: [{ kind: 'postback', text: 'Get Started', dedupKey: `${PAGE}:pb:m_8` }] });
    expect(pb.context.referral).toEqual({ ref: 'summer', source: 'SHORTLINK', type: 'OPEN_THREAD' });
    const [noTitle] = one(messaging(PAGE, [frame({ postback: { payload: 'MENU_PRICES' } }, 5)]));
    expect(noTitle.parts[0]).toMatchObject({ text: 'MENU_PRICES', dedupKey: `${PAGE}:pb:${PSID}:5:MENU_PRICES` });
    const [ref] = one(messaging(PAGE, [frame({ referral: { ref: 'promo', source: 'ADS', ad_id: '42' } })]));
    expect(ref).toMatchObject({ event: 'referral', parts: [{ text: 'Opened the conversation from an ad (ref promo, ad id 42)' }] });
  });

  it('echoes: ours are own_echo, others (Page Inbox, no app id) are page echoes addressed to the customer', () => {
    const echo = (appId?: number) => ({ sender: { id: PAGE }, recipient: { id: PSID }, timestamp: 9, message: { is_echo: true, mid: `m_e${appId}`, text: 'hello', ...(appId ? { app_id: appId } : {}) } });
    const events = classifyWebhook(page(messaging(PAGE, [echo(Number(OUR_APP)), echo(263902037430900), echo()])), OUR_APP).events as InboundEvent[];
    expect(events.map((e) => [e.role, e.customerId, e.event])).toEqual([['own_echo', PSID, 'echo'], ['page_echo', PSID, 'echo'], ['page_echo', PSID, 'echo']]);
  });

  it('reads, deliveries and reactions', () => {
    const events = classifyWebhook(page(messaging(PAGE, [
      frame({ read: { watermark: 100 } }), frame({ delivery: { mids: ['m_a'], watermark: 50 } }),
      frame({ reaction: { reaction: 'love', emoji: '\u2764\uFE0F', action: 'react', mid: 'm_out' } }),
    ])), OUR_APP).events;
    expect(events[0]).toEqual({ type: 'receipt', pageId: PAGE, customerId: PSID, status: 'read', watermark: 100, mids: [] } satisfies ReceiptEvent);
    expect(events[1]).toMatchObject({ type: 'receipt', status: 'delivered', mids: ['m_a'] });
    expect(events[2]).toMatchObject({ role: 'reaction', targetMid: 'm_out', parts: [{ text: 'Reacted ❤️ to a message' }] });
  });

  it('wall: visitor posts, comments, replies with photos, the page\'s own posts and comments, edits and removals', () => {
    const post = `${PAGE}_111`;
    const events = classifyWebhook(page(feed(PAGE, [
      { from: { id: '77', name: 'Cinderella Hoover' }, item: 'post', post_id: post, verb: 'add', created_time: 1520544814, message: 'I want cake' },
      { from: { id: '78', name: 'Jane Doe' }, item: 'comment', verb: 'add', post_id: post, comment_id: '111_1', parent_id: post, created_time: 1747218099,
        message: 'Size M?', post: { id: post, permalink_url: 'https://www.facebook.com/p/111' } },
      { from: { id: '79', name: 'Zé' }, item: 'comment', verb: 'add', post_id: post, comment_id: '111_2', parent_id: '111_1', created_time: 1747218100, photo: 'https://scontent.xx.fbcdn.net/v/p.jpg' },
      { from: { id: PAGE, name: 'The Page' }, item: 'comment', verb: 'add', post_id: post, comment_id: '111_3', parent_id: post, created_time: 1747218101, message: 'Yes!' },
      { from: { id: PAGE, name: 'The Page' }, item: 'status', verb: 'add', post_id: `${PAGE}_222`, created_time: 1747218102, message: 'News', published: 1 },
      { from: { id: '78', name: 'Jane Doe' }, item: 'comment', verb: 'edited', post_id: post, comment_id: '111_1', parent_id: post, created_time: 1747218200, message: 'Size L?' },
      { from: { id: '78' }, item: 'comment', verb: 'remove', post_id: post, comment_id: '111_1', parent_id: post, created_time: 1747218300 },
      { from: { id: '78' }, item: 'reaction', verb: 'add', post_id: post, reaction_type: 'like', created_time: 1 },
    ])), OUR_APP);
    const events_ = parsed(events.events);
    expect(events_.map((e) => [e.role, e.event, e.customerId, e.threadId])).toEqual([
      ['customer', 'post', '77', post], ['customer', 'comment', '78', post], ['customer', 'comment', '79', post],
      ['page_authored', 'comment', PAGE, post], ['page_authored', 'post', PAGE, `${PAGE}_222`], ['edit', 'edit', '78', post], ['edit', 'remove', '78', post],
    ]);
    expect(events.ignored).toBe(1);
    expect(events_[0]).toMatchObject({ customerName: 'Cinderella Hoover', occurredAt: 1520544814000, context: { externalUrl: `https://www.facebook.com/${PAGE}/posts/111` } });
    expect(events_[1].context.externalUrl).toBe('https://www.facebook.com/p/111');
    expect(events_[2].context.parentId).toBe('111_1');
    expect(events_[2].parts).toMatchObject([{ kind: 'attachment', attachment: { type: 'image', url: 'https://scontent.xx.fbcdn.net/v/p.jpg' } }]);
    expect(events_[5].parts[0].text).toBe('Edited their comment: Size L?');
    expect(events_[6].parts[0].text).toBe('Removed their comment');
  });
});

function parsed(events: unknown[]): InboundEvent[] {
  return events as InboundEvent[];
}
