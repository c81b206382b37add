/** Event generators: what customers, visitors and page admins do, turned into webhook entries. */
import { SandboxCdn, placeholderMedia } from './cdn';
import { SandboxComment, SandboxCustomer, SandboxPost, SandboxState, SentAttachment, ThreadMessage } from './state';
import { PAGE_INBOX_APP_ID } from './types';
import { graphTime, newMid } from './util';
import { WebhookDispatcher } from './webhooks';

export interface MediaInput {
  type: 'image' | 'video' | 'audio' | 'file';
  filename?: string;
  contentType?: string;
  /** File content; a small placeholder is used when absent. */
  dataBase64?: string;
}

export interface CustomerRef {
  /** An existing customer's PSID; or pageId (+ optional names) to create a new customer. */
  psid?: string;
  pageId?: string;
  firstName?: string;
  lastName?: string;
}

export interface CustomerMessageInput extends CustomerRef {
  text?: string;
  quickReplyPayload?: string;
  attachments?: MediaInput[];
  /** Sticker: 'both' (transition: sticker + image attachments, sticker_id), 'classic' (image + sticker_id), 'sticker' (new type only). */
  sticker?: { stickerId?: number; style?: 'both' | 'classic' | 'sticker' };
  location?: { lat: number; long: number; title?: string };
  fallback?: { url?: string; title?: string };
  replyToMid?: string;
  referral?: Record<string, unknown>;
  /** Deliver under entry.standby (app is not thread owner). */
  standby?: boolean;
}

export interface EventResult {
  pageId: string;
  psid?: string;
  mid?: string;
  timestamp: number;
  /** false if no subscription covered the event (nothing was sent). */
  queued: boolean;
  attachmentUrls?: string[];
  postId?: string;
  commentId?: string;
}

export const LIKE_STICKER_ID = 369239263222822;

export class EventGenerator {
  constructor(
    private readonly state: SandboxState,
    private readonly cdn: SandboxCdn,
    private readonly webhooks: WebhookDispatcher,
    private readonly appId: string,
  ) {}

  // ---------- helpers ----------

  resolveCustomer(ref: CustomerRef): SandboxCustomer {
    if (ref.psid) return this.state.requireCustomer(ref.psid);
    if (!ref.pageId) throw new Error('psid or pageId is required');
    return this.state.addCustomer({ pageId: ref.pageId, firstName: ref.firstName, lastName: ref.lastName });
  }

  storeMedia(input: MediaInput): { mediaId: string; url: string; contentType: string; filename: string; size: number } {
    const ph = placeholderMedia(input.type, input.filename);
    const bytes = input.dataBase64 ? Buffer.from(input.dataBase64, 'base64') : ph.bytes;
    const item = this.cdn.store({ bytes, contentType: input.contentType ?? ph.contentType, filename: input.filename ?? ph.filename, kind: input.type });
    return { mediaId: item.id, url: this.cdn.url(item.id), contentType: item.contentType, filename: item.filename, size: bytes.length };
  }

  private messaging(pageId: string, event: Record<string, unknown>, field: string, standby = false): boolean {
    const key = standby ? 'standby' : 'messaging';
    return this.webhooks.emit({
      pageId,
      field: standby ? 'standby' : field,
      entry: { id: pageId, time: this.state.clock.now(), [key]: [event] },
    });
  }

  private feed(pageId: string, value: Record<string, unknown>): boolean {
    return this.webhooks.emit({ pageId, field: 'feed', entry: { id: pageId, time: this.state.clock.nowSeconds(), changes: [{ field: 'feed', value }] } });
  }

  // ---------- Messenger ----------

  customerMessage(input: CustomerMessageInput): EventResult {
    const customer = this.resolveCustomer(input);
    const pageId = customer.pageId;
    const timestamp = this.state.clock.now();
    const mid = newMid();
    const message: Record<string, unknown> = { mid };
    if (input.text !== undefined) message.text = input.text;
    if (input.quickReplyPayload !== undefined) message.quick_reply = { payload: input.quickReplyPayload };
    if (input.replyToMid) message.reply_to = { mid: input.replyToMid, is_self_reply: this.state.messagesByMid.get(input.replyToMid)?.direction === 'inbound' };
    const attachments: Record<string, unknown>[] = [];
    const recorded: SentAttachment[] = [];
    const urls: string[] = [];
    for (const a of input.attachments ?? []) {
      const m = this.storeMedia(a);
      attachments.push({ type: a.type, payload: { url: m.url } });
      recorded.push({ type: a.type, source: 'upload', url: m.url, contentType: m.contentType, filename: m.filename, size: m.size, mediaId: m.mediaId });
      urls.push(m.url);
    }
    if (input.sticker) {
      const stickerId = input.sticker.stickerId ?? LIKE_STICKER_ID;
      const style = input.sticker.style ?? 'both';
      const m = this.storeMedia({ type: 'image', filename: `sticker_${stickerId}.png` });
      urls.push(m.url);
      if (style !== 'sticker') message.sticker_id = stickerId;
      if (style !== 'classic') attachments.push({ type: 'sticker', payload: { url: m.url, sticker_id: stickerId } });
      if (style !== 'sticker') attachments.push({ type: 'image', payload: { url: m.url, sticker_id: stickerId } });
      recorded.push({ type: 'sticker', source: 'upload', url: m.url, mediaId: m.mediaId, payload: { sticker_id: stickerId } });
    }
    if (input.location) {
      const { lat, long } = input.location;
      const title = input.location.title ?? `${customer.firstName}'s Location`;
      attachments.push({
        title,
        url: `https://l.facebook.com/l.php?u=https%3A%2F%2Fwww.bing.com%2Fmaps%2Fdefault.aspx%3Fv%3D2%26pc%3DFACEBK%26mid%3D8100%26where1%3D${lat}%252C%2B${long}`,
        type: 'location',
        payload: { coordinates: { lat, long } },
      });
      recorded.push({ type: 'location', source: 'template', payload: { lat, long, title } });
    }
    if (input.fallback) {
      attachments.push({ type: 'fallback', payload: { url: input.fallback.url ?? 'https://example.com/shared-link', title: input.fallback.title ?? 'Shared link' } });
      recorded.push({ type: 'fallback', source: 'template', payload: input.fallback });
    }
    if (attachments.length) message.attachments = attachments;
    if (input.referral) message.referral = input.referral;
    if (message.text === undefined && !attachments.length) message.text = '';
    customer.lastMessageAt = timestamp;
    this.state.recordMessage({ mid, pageId, psid: customer.psid, direction: 'inbound', origin: 'customer', timestamp, text: input.text, attachments: recorded.length ? recorded : undefined, raw: message });
    const queued = this.messaging(pageId, { sender: { id: customer.psid }, recipient: { id: pageId }, timestamp, message }, 'messages', input.standby);
    return { pageId, psid: customer.psid, mid, timestamp, queued, attachmentUrls: urls };
  }

  postback(input: CustomerRef & { title?: string; payload: string; referral?: Record<string, unknown>; standby?: boolean }): EventResult {
    const customer = this.resolveCustomer(input);
    const timestamp = this.state.clock.now();
    const mid = newMid();
    customer.lastMessageAt = timestamp;
    const postback: Record<string, unknown> = { mid, title: input.title ?? 'Get Started', payload: input.payload };
    if (input.referral) postback.referral = input.referral;
    const queued = this.messaging(customer.pageId, { sender: { id: customer.psid }, recipient: { id: customer.pageId }, timestamp, postback }, 'messaging_postbacks', input.standby);
    return { pageId: customer.pageId, psid: customer.psid, mid, timestamp, queued };
  }

  referral(input: CustomerRef & { ref?: string; source?: string; type?: string; adId?: string; refererUri?: string }): EventResult {
    const customer = this.resolveCustomer(input);
    const timestamp = this.state.clock.now();
    customer.lastMessageAt = timestamp;
    const referral: Record<string, unknown> = { ref: input.ref ?? 'sandbox', source: input.source ?? 'SHORTLINK', type: input.type ?? 'OPEN_THREAD' };
    if (input.adId) referral.ad_id = input.adId;
    if (input.refererUri) referral.referer_uri = input.refererUri;
    const queued = this.messaging(customer.pageId, { sender: { id: customer.psid }, recipient: { id: customer.pageId }, timestamp, referral }, 'messaging_referrals');
    return { pageId: customer.pageId, psid: customer.psid, timestamp, queued };
  }

  reaction(input: CustomerRef & { mid: string; reaction?: string; emoji?: string; action?: 'react' | 'unreact'; standby?: boolean }): EventResult {
    const customer = this.resolveCustomer(input);
    const timestamp = this.state.clock.now();
    const action = input.action ?? 'react';
    if (action === 'react') customer.lastMessageAt = timestamp;
    const reaction: Record<string, unknown> = { mid: input.mid, action };
    if (action === 'react') {
      reaction.reaction = input.reaction ?? 'love';
      reaction.emoji = input.emoji ?? '\u2764\uFE0F';
    }
    const queued = this.messaging(customer.pageId, { sender: { id: customer.psid }, recipient: { id: customer.pageId }, timestamp, reaction }, 'message_reactions', input.standby);
    return { pageId: customer.pageId, psid: customer.psid, timestamp, queued };
  }

  delivery(input: { psid: string; mids?: string[]; watermark?: number; standby?: boolean }): EventResult {
    const customer = this.state.requireCustomer(input.psid);
    const timestamp = this.state.clock.now();
    const delivery: Record<string, unknown> = { watermark: input.watermark ?? timestamp };
    if (input.mids) delivery.mids = input.mids;
    const queued = this.messaging(customer.pageId, { sender: { id: customer.psid }, recipient: { id: customer.pageId }, timestamp, delivery }, 'message_deliveries', input.standby);
    return { pageId: customer.pageId, psid: customer.psid, timestamp, queued };
  }

  read(input: { psid: string; watermark?: number; standby?: boolean }): EventResult {
    const customer = this.state.requireCustomer(input.psid);
    const timestamp = this.state.clock.now();
    const queued = this.messaging(customer.pageId, { sender: { id: customer.psid }, recipient: { id: customer.pageId }, timestamp, read: { watermark: input.watermark ?? timestamp } }, 'message_reads', input.standby);
    return { pageId: customer.pageId, psid: customer.psid, timestamp, queued };
  }

  /** Echo of a message the page sent (by our app through the Send API, or by a human in the Page Inbox). */
  echo(msg: ThreadMessage, standby = false): boolean {
    const message: Record<string, unknown> = { mid: msg.mid, is_echo: true, app_id: Number(msg.appId ?? this.appId) };
    if (msg.metadata !== undefined) message.metadata = msg.metadata;
    if (msg.text !== undefined) message.text = msg.text;
    if (msg.attachments?.length) {
      message.attachments = msg.attachments.map((a) => {
        if (a.source === 'template') return { type: 'template', payload: a.payload };
        return { type: a.type, payload: { url: a.mediaId ? this.cdn.url(a.mediaId) : a.url } };
      });
    }
    return this.messaging(msg.pageId, { sender: { id: msg.pageId }, recipient: { id: msg.psid }, timestamp: msg.timestamp, message }, 'message_echoes', standby);
  }

  /** A page admin answers in the Page Inbox / Business Suite: an echo whose app_id is the Page Inbox (or another tool). */
  pageInboxReply(input: { psid: string; text?: string; attachments?: MediaInput[]; appId?: string; standby?: boolean }): EventResult {
    const customer = this.state.requireCustomer(input.psid);
    const timestamp = this.state.clock.now();
    const attachments: SentAttachment[] = (input.attachments ?? []).map((a) => {
      const m = this.storeMedia(a);
      return { type: a.type, source: 'upload' as const, url: m.url, contentType: m.contentType, filename: m.filename, size: m.size, mediaId: m.mediaId };
    });
    const msg = this.state.recordMessage({
      mid: newMid(),
      pageId: customer.pageId,
      psid: customer.psid,
      direction: 'outbound',
      origin: input.appId && input.appId !== PAGE_INBOX_APP_ID ? input.appId : 'page_inbox',
      appId: input.appId ?? PAGE_INBOX_APP_ID,
      timestamp,
      text: input.text,
      attachments: attachments.length ? attachments : undefined,
    });
    const queued = this.echo(msg, input.standby);
    return { pageId: customer.pageId, psid: customer.psid, mid: msg.mid, timestamp, queued };
  }

  // ---------- Feed ----------

  private postObject(post: SandboxPost): Record<string, unknown> {
    return {
      status_type: post.photoMediaId ? 'added_photos' : 'mobile_status_update',
      is_published: true,
      updated_time: graphTime(post.createdAt),
      permalink_url: `https://www.facebook.com/${post.pageId}/posts/${post.localId}`,
      promotion_status: 'inactive',
      id: post.id,
    };
  }

  commentValue(c: SandboxComment, verb: string): Record<string, unknown> {
    const post = this.state.posts.get(c.postId)!;
    const value: Record<string, unknown> = { from: { id: c.fromId, name: c.fromName }, post: this.postObject(post) };
    if (c.message !== undefined) value.message = c.message;
    if (c.photoMediaId) value.photo = this.cdn.url(c.photoMediaId);
    Object.assign(value, {
      post_id: c.postId,
      comment_id: c.id,
      created_time: Math.floor((verb === 'add' ? c.createdAt : this.state.clock.now()) / 1000),
      item: 'comment',
      parent_id: c.parentId,
      verb,
    });
    return value;
  }

  emitComment(c: SandboxComment, verb: 'add' | 'edited' | 'hide' | 'unhide' | 'remove'): boolean {
    const pageId = this.state.posts.get(c.postId)!.pageId;
    if (verb === 'remove') {
      return this.feed(pageId, { from: { id: c.fromId }, parent_id: c.parentId, comment_id: c.id, post_id: c.postId, verb: 'remove', item: 'comment', created_time: this.state.clock.nowSeconds() });
    }
    return this.feed(pageId, this.commentValue(c, verb));
  }

  /** A customer/visitor comments on a post (or replies to a comment when parentId is a comment id). */
  comment(input: CustomerRef & { parentId: string; message?: string; photo?: MediaInput | boolean }): EventResult {
    const parentPostId = this.state.posts.has(input.parentId) ? input.parentId : this.state.comments.get(input.parentId)?.postId;
    if (!parentPostId) throw new Error(`unknown post or comment ${input.parentId}`);
    const pageId = this.state.posts.get(parentPostId)!.pageId;
    const customer = this.resolveCustomer({ ...input, pageId: input.pageId ?? pageId });
    let photoMediaId: string | undefined;
    if (input.photo) photoMediaId = this.storeMedia(typeof input.photo === 'object' ? input.photo : { type: 'image' }).mediaId;
    const c = this.state.addComment({ parentId: input.parentId, fromId: customer.psid, fromName: this.state.customerName(customer), message: input.message, photoMediaId, byPage: false });
    const queued = this.emitComment(c, 'add');
    return { pageId, psid: customer.psid, timestamp: c.createdAt, queued, commentId: c.id, postId: c.postId };
  }

  /** A page admin comments as the Page from Facebook itself (not through the API). */
  pageComment(input: { parentId: string; message?: string; photo?: MediaInput | boolean }): EventResult {
    const postId = this.state.posts.has(input.parentId) ? input.parentId : this.state.comments.get(input.parentId)?.postId;
    if (!postId) throw new Error(`unknown post or comment ${input.parentId}`);
    const page = this.state.requirePage(this.state.posts.get(postId)!.pageId);
    let photoMediaId: string | undefined;
    if (input.photo) photoMediaId = this.storeMedia(typeof input.photo === 'object' ? input.photo : { type: 'image' }).mediaId;
    const c = this.state.addComment({ parentId: input.parentId, fromId: page.id, fromName: page.name, message: input.message, photoMediaId, byPage: true });
    const queued = this.emitComment(c, 'add');
    return { pageId: page.id, timestamp: c.createdAt, queued, commentId: c.id, postId };
  }

  editComment(input: { commentId: string; message: string }): EventResult {
    const c = this.requireComment(input.commentId);
    c.message = input.message;
    return this.commentResult(c, this.emitComment(c, 'edited'));
  }

  removeComment(input: { commentId: string }): EventResult {
    const c = this.requireComment(input.commentId);
    c.removed = true;
    return this.commentResult(c, this.emitComment(c, 'remove'));
  }

  hideComment(input: { commentId: string; hidden?: boolean }): EventResult {
    const c = this.requireComment(input.commentId);
    c.isHidden = input.hidden ?? true;
    return this.commentResult(c, this.emitComment(c, c.isHidden ? 'hide' : 'unhide'));
  }

  visitorPost(input: CustomerRef & { pageId?: string; message?: string; photo?: MediaInput | boolean }): EventResult {
    const customer = this.resolveCustomer(input);
    let photoMediaId: string | undefined;
    if (input.photo) photoMediaId = this.storeMedia(typeof input.photo === 'object' ? input.photo : { type: 'image' }).mediaId;
    const post = this.state.addPost({ pageId: customer.pageId, fromId: customer.psid, fromName: this.state.customerName(customer), message: input.message, item: photoMediaId ? 'photo' : 'post', photoMediaId });
    const value: Record<string, unknown> = { from: { id: customer.psid, name: post.fromName }, item: post.item, post_id: post.id, verb: 'add', created_time: Math.floor(post.createdAt / 1000), is_hidden: false };
    if (post.message !== undefined) value.message = post.message;
    if (photoMediaId) {
      value.photo_id = photoMediaId.replace(/\D/g, '').slice(0, 15);
      value.link = this.cdn.url(photoMediaId);
    }
    const queued = this.feed(customer.pageId, value);
    return { pageId: customer.pageId, psid: customer.psid, timestamp: post.createdAt, queued, postId: post.id };
  }

  pagePost(input: { pageId: string; message?: string; photo?: MediaInput | boolean }): EventResult {
    const page = this.state.requirePage(input.pageId);
    let photoMediaId: string | undefined;
    if (input.photo) photoMediaId = this.storeMedia(typeof input.photo === 'object' ? input.photo : { type: 'image' }).mediaId;
    const post = this.state.addPost({ pageId: page.id, message: input.message, item: photoMediaId ? 'photo' : 'status', photoMediaId });
    const value: Record<string, unknown> = { from: { id: page.id, name: page.name } };
    if (post.message !== undefined) value.message = post.message;
    Object.assign(value, { post_id: post.id, created_time: Math.floor(post.createdAt / 1000), item: post.item, published: 1, verb: 'add' });
    if (photoMediaId) {
      value.photo_id = photoMediaId.replace(/\D/g, '').slice(0, 15);
      value.link = this.cdn.url(photoMediaId);
    }
    const queued = this.feed(page.id, value);
    return { pageId: page.id, timestamp: post.createdAt, queued, postId: post.id };
  }

  removePost(input: { postId: string }): EventResult {
    const post = this.state.posts.get(input.postId);
    if (!post) throw new Error(`unknown post ${input.postId}`);
    post.removed = true;
    const queued = this.feed(post.pageId, { from: { id: post.fromId }, post_id: post.id, created_time: this.state.clock.nowSeconds(), item: 'post', recipient_id: post.pageId, verb: 'remove' });
    return { pageId: post.pageId, timestamp: this.state.clock.now(), queued, postId: post.id };
  }

  feedReaction(input: CustomerRef & { postId: string; commentId?: string; reactionType?: string; verb?: 'add' | 'edit' | 'remove' }): EventResult {
    const post = this.state.posts.get(input.postId);
    if (!post) throw new Error(`unknown post ${input.postId}`);
    const customer = this.resolveCustomer({ ...input, pageId: input.pageId ?? post.pageId });
    const value: Record<string, unknown> = { reaction_type: input.reactionType ?? 'like', from: { id: customer.psid, name: this.state.customerName(customer) } };
    value.parent_id = input.commentId ? this.state.comments.get(input.commentId)?.parentId ?? post.id : post.id;
    if (input.commentId) value.comment_id = input.commentId;
    Object.assign(value, { post_id: post.id, verb: input.verb ?? 'add', item: 'reaction', created_time: this.state.clock.nowSeconds() });
    const queued = this.feed(post.pageId, value);
    return { pageId: post.pageId, psid: customer.psid, timestamp: this.state.clock.now(), queued, postId: post.id, commentId: input.commentId };
  }

  private requireComment(id: string): SandboxComment {
    const c = this.state.comments.get(id);
    if (!c) throw new Error(`unknown comment ${id}`);
    return c;
  }

  private commentResult(c: SandboxComment, queued: boolean): EventResult {
    return { pageId: this.state.posts.get(c.postId)!.pageId, timestamp: this.state.clock.now(), queued, commentId: c.id, postId: c.postId };
  }
}
