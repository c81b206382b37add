import { createHmac } from 'node:crypto';
import { Conversation } from './conversation.entity';
import { Message } from './message.entity';

export interface CustomerNames {
  firstName?: string;
  lastName?: string;
  name?: string;
}

export interface MessagePayload {
  attachment?: { type: string; url: string; filename?: string };
  context?: Record<string, unknown>;
}

export function parsePayload(message: Pick<Message, 'payload'>): MessagePayload {
  if (!message.payload) return {};
  try {
    return JSON.parse(message.payload) as MessagePayload;
  } catch {
    return {};
  }
}

/** The Open Channel notify body (open-channel.md §1) for one stored inbound message. */
export function buildNotification(
  message: Message,
  conversation: Conversation,
  names: CustomerNames,
  attachment?: { id: string; filename: string },
): Record<string, unknown> {
  const payload = parsePayload(message);
  const context = payload.context ?? {};
  const wall = conversation.channel === 'wall';
  let body = attachment ? attachment.filename : message.text || '(empty message)';
  if (message.event === 'echo' && !attachment) body = `[Sent from Facebook by the page] ${body}`;
  const notification: Record<string, unknown> = {
    from: conversation.customerId,
    body,
    mapKey: 'facebook',
    ...(names.firstName ? { firstName: names.firstName } : {}),
    ...(names.lastName ? { lastName: names.lastName } : {}),
    ...(names.name ? { name: names.name } : {}),
    phone: 'none',
    AttachmentId: attachment ? attachment.id : null,
    description: wall ? 'Created from a Facebook wall post' : 'Created from Facebook Messenger',
  };
  if (wall) {
    notification.threadId = conversation.threadId;
    notification.externalUrl = context.externalUrl ?? `https://www.facebook.com/${conversation.threadId}`;
    if (context.parentId) notification.parentCommentId = context.parentId;
  }
  if (message.event === 'echo') notification.sentByPage = true;
  if (context.replyTo) notification.replyTo = context.replyTo;
  if (context.referral) notification.referral = context.referral;
  if (context.quickReply !== undefined) notification.quickReplyPayload = context.quickReply;
  if (context.postbackPayload !== undefined) notification.postbackPayload = context.postbackPayload;
  if (message.externalId) notification.facebookId = message.externalId;
  return notification;
}

/** Names for the contact: Messenger profile (first/last) or the wall author's name split once. */
export function namesOf(conversation: Conversation): CustomerNames {
  if (conversation.firstName || conversation.lastName) {
    const name = [conversation.firstName, conversation.lastName].filter(Boolean).join(' ');
    return { firstName: conversation.firstName ?? undefined, lastName: conversation.lastName ?? undefined, name };
  }
  if (conversation.customerName) {
    const [first, ...rest] = conversation.customerName.trim().split(/\s+/);
    return { firstName: first, lastName: rest.length ? rest.join(' ') : undefined, name: conversation.customerName };
  }
  return {};
}

/**
 * Standard Webhooks headers: `v1,<base64 HMAC-SHA256("<id>.<timestamp>.<body>")>`. A `whsec_` secret is
 * base64 after the prefix; any other secret is used as its UTF-8 bytes.
 */
export function standardWebhookHeaders(secret: string, id: string, body: string, now = Date.now()): Record<string, string> {
  const timestamp = String(Math.floor(now / 1000));
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };
}
