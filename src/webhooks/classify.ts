import { createHash } from 'node:crypto';
import { ClassifiedEvent, InboundAttachment, InboundEvent, InboundPart, ParsedWebhook, ReceiptEvent } from './inbound-event';

/** A body that is not a Facebook page notification at all (answered 400). */
export class WebhookFormatError extends Error {}

type Json = Record<string, any>;

/** Facebook's "like" thumb stickers (small, medium, large). */
const LIKE_STICKERS = new Set(['369239263222822', '369239343222814', '369239383222810']);
const MEDIA_TYPES = new Set(['image', 'video', 'audio', 'file']);

/**
 * Turns a parsed `object: "page"` body into classified events (facebook-platform.md §2.9, §3).
 * Pure: it knows only the relay's own app id (to recognise its echoes). Malformed single events are
 * skipped, counted as ignored; only a body that is not a page notification throws.
 */
export function classifyWebhook(body: unknown, ownAppId: string): ParsedWebhook {
  if (!isObject(body)) throw new WebhookFormatError('The body is not a JSON object');
  if (body.object !== 'page') {
    throw new WebhookFormatError(`Unsupported webhook object ${JSON.stringify(body.object ?? null)}: only "page" is handled`);
  }
  if (!Array.isArray(body.entry)) throw new WebhookFormatError('The body has no "entry" list');
  const events: ClassifiedEvent[] = [];
  const pageIds = new Set<string>();
  let ignored = 0;
  for (const entry of body.entry) {
    if (!isObject(entry) || entry.id === undefined) { ignored++; continue; }
    const pageId = String(entry.id);
    pageIds.add(pageId);
    for (const [list, standby] of [[entry.messaging, false], [entry.standby, true]] as const) {
      if (!Array.isArray(list)) continue;
      for (const ev of list) {
        const classified = isObject(ev) ? safe(() => messagingEvent(pageId, ev, standby, ownAppId)) : null;
        if (classified) events.push(classified); else ignored++;
      }
    }
    if (Array.isArray(entry.changes)) {
      for (const change of entry.changes) {
        const classified = isObject(change) && change.field === 'feed' && isObject(change.value)
          ? safe(() => feedEvent(pageId, change.value))
          : null;
        if (classified) events.push(classified); else ignored++;
      }
    }
  }
  return { events, pageIds: [...pageIds], ignored };
}

function messagingEvent(pageId: string, ev: Json, standby: boolean, ownAppId: string): ClassifiedEvent | null {
  const senderId = idOf(ev.sender);
  const recipientId = idOf(ev.recipient);
  const timestamp = epochOr(ev.timestamp, Date.now());
  const context: Json = standby ? { standby: true } : {};

  if (isObject(ev.message)) {
    const message = ev.message;
    const mid = str(message.mid);
    if (!mid) return null;
    if (message.is_echo) {
      if (!recipientId) return null;
      const own = message.app_id !== undefined && message.app_id !== null && String(message.app_id) === ownAppId;
      if (message.app_id !== undefined && message.app_id !== null) context.appId = String(message.app_id);
      if (typeof message.metadata === 'string') context.metadata = message.metadata;
      const parts = messageParts(pageId, mid, message, 'echo');
      if (!parts.length) parts.push({ kind: 'echo', text: 'The page sent a message', part: 0, dedupKey: dedupKey(pageId, `m:${mid}:0`) });
      return messengerEvent(pageId, timestamp, { role: own ? 'own_echo' : 'page_echo', event: 'echo', customerId: recipientId, externalId: mid, parts, context });
    }
    if (!senderId) return null;
    if (isObject(message.reply_to) && message.reply_to.mid) context.replyTo = String(message.reply_to.mid);
    if (isObject(message.quick_reply) && message.quick_reply.payload !== undefined) context.quickReply = String(message.quick_reply.payload);
    if (isObject(message.referral)) context.referral = referralOf(message.referral);
    const parts = messageParts(pageId, mid, message, 'text');
    if (!parts.length) return null;
    return messengerEvent(pageId, timestamp, { role: 'customer', event: 'message', customerId: senderId, externalId: mid, parts, context });
  }
  if (!senderId) return null;

  if (isObject(ev.postback)) {
    const postback = ev.postback;
    const text = str(postback.title) || str(postback.payload) || 'Get Started';
    if (postback.payload !== undefined) context.postbackPayload = String(postback.payload);
    if (isObject(postback.referral)) context.referral = referralOf(postback.referral);
    const key = postback.mid ? `pb:${postback.mid}` : `pb:${senderId}:${timestamp}:${postback.payload ?? ''}`;
    return messengerEvent(pageId, timestamp, {
      role: 'customer', event: 'postback', customerId: senderId, externalId: str(postback.mid) || null,
      parts: [{ kind: 'postback', text, part: 0, dedupKey: dedupKey(pageId, key) }], context,
    });
  }
  if (isObject(ev.referral)) {
    const referral = referralOf(ev.referral);
    context.referral = referral;
    return messengerEvent(pageId, timestamp, {
      role: 'customer', event: 'referral', customerId: senderId, externalId: null,
      parts: [{ kind: 'referral', text: describeReferral(referral), part: 0, dedupKey: dedupKey(pageId, `ref:${senderId}:${timestamp}`) }], context,
    });
  }
  if (isObject(ev.reaction)) {
    const reaction = ev.reaction;
    const action = reaction.action === 'unreact' ? 'unreact' : 'react';
    const emoji = str(reaction.emoji) || str(reaction.reaction) || 'a reaction';
    const text = action === 'react' ? `Reacted ${emoji} to a message` : `Removed the reaction ${emoji} from a message`;
    const key = `rx:${reaction.mid ?? ''}:${senderId}:${action}:${reaction.reaction ?? ''}:${reaction.emoji ?? ''}:${timestamp}`;
    context.reaction = reaction.reaction;
    context.action = action;
    return messengerEvent(pageId, timestamp, {
      role: 'reaction', event: 'reaction', customerId: senderId, externalId: null, targetMid: str(reaction.mid) || undefined,
      parts: [{ kind: 'reaction', text, part: 0, dedupKey: dedupKey(pageId, key) }], context,
    });
  }
  if (isObject(ev.delivery) || isObject(ev.read)) {
    const receipt = (ev.delivery ?? ev.read) as Json;
    const watermark = epochOr(receipt.watermark, NaN);
    if (Number.isNaN(watermark)) return null;
    const result: ReceiptEvent = {
      type: 'receipt', pageId, customerId: senderId, status: ev.read ? 'read' : 'delivered', watermark,
      mids: Array.isArray(receipt.mids) ? receipt.mids.map(String) : [],
    };
    return result;
  }
  return null; // optin, handover, policy enforcement, account linking...: not for the contact center
}

/** What an event is, apart from where it happened. */
type EventFacts = Pick<InboundEvent, 'role' | 'event' | 'customerId' | 'externalId' | 'parts' | 'context' | 'targetMid'>;
/** Where a wall event happened, and who wrote it. */
type WallPlace = Pick<InboundEvent, 'pageId' | 'threadId' | 'customerId' | 'customerName' | 'occurredAt'>;

/*
 * The events are written out property by property, not as `{ ...base, role, ... }`: on Node 20 every property
 * added after a spread costs about 1 µs (V8 gives each such object a map of its own), which was 8 µs per
 * message, most of classifying a webhook.
 */
function messengerEvent(pageId: string, occurredAt: number, facts: EventFacts): InboundEvent {
  const event: InboundEvent = {
    type: 'event', pageId, channel: 'messenger', threadId: '', occurredAt, role: facts.role, event: facts.event,
    customerId: facts.customerId, externalId: facts.externalId, parts: facts.parts, context: facts.context,
  };
  if (facts.targetMid !== undefined) event.targetMid = facts.targetMid;
  return event;
}

function wallEvent(place: WallPlace, facts: Omit<EventFacts, 'customerId' | 'targetMid'>): InboundEvent {
  return {
    type: 'event', pageId: place.pageId, channel: 'wall', threadId: place.threadId, occurredAt: place.occurredAt,
    customerId: place.customerId, customerName: place.customerName, role: facts.role, event: facts.event,
    externalId: facts.externalId, parts: facts.parts, context: facts.context,
  };
}

/** Text first (part 0), then each attachment in order; stickers and shared links become readable text. */
function messageParts(pageId: string, mid: string, message: Json, textKind: string): InboundPart[] {
  const parts: InboundPart[] = [];
  const add = (kind: string, text: string | null, attachment?: InboundAttachment) => {
    const part = parts.length;
    parts.push({ kind, text, attachment, part, dedupKey: dedupKey(pageId, `m:${mid}:${part}`) });
  };
  if (typeof message.text === 'string' && message.text.length) add(textKind, message.text);
  const attachments: Json[] = Array.isArray(message.attachments) ? message.attachments.filter(isObject) : [];
  const stickerId = message.sticker_id !== undefined ? String(message.sticker_id) : undefined;
  const seenStickers = new Set<string>();
  for (const attachment of attachments) {
    const payload: Json = isObject(attachment.payload) ? attachment.payload : {};
    const type = String(attachment.type ?? '');
    const sticker = payload.sticker_id !== undefined ? String(payload.sticker_id) : type === 'sticker' ? stickerId ?? 'sticker' : undefined;
    if (sticker !== undefined) {
      // During Meta's transition a sticker arrives both as `sticker` and as `image`: forward it once.
      if (seenStickers.has(sticker)) continue;
      seenStickers.add(sticker);
      if (LIKE_STICKERS.has(sticker) || !str(payload.url)) add('sticker', LIKE_STICKERS.has(sticker) ? '👍' : 'Sent a sticker');
      else add('attachment', null, { type: 'image', url: String(payload.url), filename: `sticker-${sticker}.png` });
      continue;
    }
    if ((MEDIA_TYPES.has(type) || type === 'reel' || type === 'ig_reel') && str(payload.url)) {
      const mediaType = MEDIA_TYPES.has(type) ? type : 'video';
      add('attachment', null, { type: mediaType, url: String(payload.url), filename: filenameFromUrl(String(payload.url)) });
      continue;
    }
    if (type === 'location') {
      const coordinates: Json = isObject(payload.coordinates) ? payload.coordinates : {};
      const title = str(attachment.title) || 'Location';
      const where = coordinates.lat !== undefined ? ` https://maps.google.com/?q=${coordinates.lat},${coordinates.long}` : str(attachment.url) ? ` ${attachment.url}` : '';
      add('location', `${title}:${where}`.replace(/:$/, ''));
      continue;
    }
    // fallback (shared links), templates, products, posts: what the agent can read of it.
    const url = str(payload.url) || str(attachment.url) || str(attachment.URL);
    const title = str(payload.title) || str(attachment.title);
    if (url || title) add('link', [title, url].filter(Boolean).join(': '));
    else if (type) add('link', `The customer shared content Messenger cannot show here (${type})`);
  }
  if (!parts.length && stickerId) add('sticker', LIKE_STICKERS.has(stickerId) ? '👍' : 'Sent a sticker');
  return parts;
}

function feedEvent(pageId: string, value: Json): InboundEvent | null {
  const item = String(value.item ?? '');
  const verb = String(value.verb ?? '');
  const authorId = idOf(value.from) ?? (value.sender_id !== undefined ? String(value.sender_id) : undefined);
  const postId = str(value.post_id);
  if (!authorId || !postId) return null;
  const createdSeconds = epochOr(value.created_time, Math.floor(Date.now() / 1000));
  // Feed times are seconds; some fixtures use ms.
  const occurredAt = createdSeconds > 1e12 ? createdSeconds : createdSeconds * 1000;
  const name = isObject(value.from) ? str(value.from.name) || undefined : str(value.sender_name) || undefined;
  const byPage = authorId === pageId;
  const place: WallPlace = { pageId, threadId: postId, customerId: authorId, customerName: name, occurredAt };
  const externalUrl = (isObject(value.post) && str(value.post.permalink_url)) || postUrl(postId);
  const context: Json = { externalUrl };

  if (item === 'comment') {
    const commentId = str(value.comment_id);
    if (!commentId) return null;
    const parentId = str(value.parent_id);
    if (parentId && parentId !== postId) context.parentId = parentId;
    if (verb === 'add') {
      const parts = wallParts(pageId, `c:${commentId}:add`, value, 'comment');
      if (!parts.length) return null;
      return wallEvent(place, { role: byPage ? 'page_authored' : 'customer', event: 'comment', externalId: commentId, parts, context });
    }
    return editEvent(place, pageId, verb, 'comment', commentId, value, context);
  }
  if (['post', 'status', 'photo', 'video', 'share'].includes(item)) {
    if (verb === 'add') {
      const parts = wallParts(pageId, `p:${postId}:add`, value, 'post');
      if (!parts.length) return null;
      return wallEvent(place, { role: byPage ? 'page_authored' : 'customer', event: 'post', externalId: postId, parts, context });
    }
    if (byPage) return null; // the page editing or trashing its own post is not news for the agent
    return editEvent(place, pageId, verb, 'post', postId, value, context);
  }
  return null; // reactions, likes, albums, events...
}

function editEvent(place: WallPlace, pageId: string, verb: string, what: 'comment' | 'post', id: string, value: Json, context: Json): InboundEvent | null {
  const removed = verb === 'remove' || verb === 'delete';
  if (!removed && verb !== 'edited' && verb !== 'edit') return null; // hide/unhide are the page's own moderation
  const text = removed
    ? `Removed their ${what}`
    : `Edited their ${what}${typeof value.message === 'string' ? `: ${value.message}` : ''}`;
  const key = `${what === 'comment' ? 'c' : 'p'}:${id}:${removed ? 'remove' : `edited:${value.created_time ?? ''}:${hashOf(String(value.message ?? ''))}`}`;
  context.verb = verb;
  return wallEvent(place, {
    role: place.customerId === pageId ? 'page_authored' : 'edit', event: removed ? 'remove' : 'edit', externalId: id,
    parts: [{ kind: removed ? 'removal' : 'edit', text, part: 0, dedupKey: dedupKey(pageId, key) }], context,
  });
}

/** A wall post or comment: its text, then its photo or video (comments), or its photos/link (posts). */
function wallParts(pageId: string, key: string, value: Json, kind: string): InboundPart[] {
  const parts: InboundPart[] = [];
  const add = (text: string | null, attachment?: InboundAttachment) => {
    const part = parts.length;
    parts.push({ kind: attachment ? 'attachment' : kind, text, attachment, part, dedupKey: dedupKey(pageId, `${key}:${part}`) });
  };
  if (typeof value.message === 'string' && value.message.length) add(value.message);
  const media: InboundAttachment[] = [];
  if (str(value.photo)) media.push({ type: 'image', url: String(value.photo), filename: filenameFromUrl(String(value.photo)) });
  if (str(value.video)) media.push({ type: 'video', url: String(value.video), filename: filenameFromUrl(String(value.video)) });
  if (Array.isArray(value.photos)) for (const url of value.photos) if (str(url)) media.push({ type: 'image', url: String(url), filename: filenameFromUrl(String(url)) });
  if (!media.length && str(value.link) && (value.item === 'photo' || value.item === 'video')) {
    media.push({ type: value.item === 'photo' ? 'image' : 'video', url: String(value.link), filename: filenameFromUrl(String(value.link)) });
  } else if (!media.length && str(value.link)) {
    add(String(value.link));
  }
  for (const attachment of media) add(null, attachment);
  return parts;
}

export function dedupKey(pageId: string, key: string): string {
  const full = `${pageId}:${key}`;
  return full.length <= 191 ? full : `${pageId}:h:${hashOf(key)}`;
}

function referralOf(referral: Json): Json {
  const out: Json = {};
  for (const field of ['ref', 'source', 'type', 'ad_id', 'referer_uri']) if (referral[field] !== undefined) out[field] = referral[field];
  if (isObject(referral.ads_context_data) && referral.ads_context_data.ad_title) out.ad_title = referral.ads_context_data.ad_title;
  return out;
}

function describeReferral(referral: Json): string {
  const source = { SHORTLINK: 'an m.me link', ADS: 'an ad', CUSTOMER_CHAT_PLUGIN: 'the chat plugin on a website' }[String(referral.source)] ?? 'a link';
  const details = [referral.ref && `ref ${referral.ref}`, referral.ad_title && `ad "${referral.ad_title}"`, referral.ad_id && `ad id ${referral.ad_id}`]
    .filter(Boolean).join(', ');
  return `Opened the conversation from ${source}${details ? ` (${details})` : ''}`;
}

function filenameFromUrl(url: string): string | undefined {
  try {
    const last = new URL(url).pathname.split('/').filter(Boolean).pop();
    return last ? decodeURIComponent(last).slice(0, 200) : undefined;
  } catch {
    return undefined;
  }
}

function postUrl(postId: string): string {
  const [page, post] = postId.split('_');
  return post ? `https://www.facebook.com/${page}/posts/${post}` : `https://www.facebook.com/${postId}`;
}

function idOf(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  const id = value.id ?? value.user_ref;
  return id === undefined || id === null || id === '' ? undefined : String(id);
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

function hashOf(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function safe<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch {
    return null;
  }
}

/**
 * A time from the body as a whole number, or `fallback` when it is missing or absurd ("1e309" is
 * Infinity, which no database column takes: one such event must not fail the whole batch).
 */
function epochOr(value: unknown, fallback: number): number {
  const n = Math.round(Number(value));
  return n && Number.isSafeInteger(n) && n > 0 && n < 1e14 ? n : fallback;
}
