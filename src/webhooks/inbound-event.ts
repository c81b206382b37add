/** What the webhook parser hands to ingestion: facts about each Facebook event, no policy yet. */

export type InboundRole =
  /** Written by the customer: forwarded. */
  | 'customer'
  /** Sent by the page from another app or the Page Inbox: forwarded as the page's message. */
  | 'page_echo'
  /** The echo of the relay's own send: stored, matched to the outbound message, never forwarded. */
  | 'own_echo'
  /** Posts and comments written by the page itself on its wall: remembered, not forwarded. */
  | 'page_authored'
  /** A Messenger reaction: forwarded as a short text only when the tenant wants reactions. */
  | 'reaction'
  /** An edit or removal of a wall post or comment: stored, forwarded as a note when the tenant wants edits. */
  | 'edit';

export interface InboundAttachment {
  /** image, video, audio, file (stickers and reels arrive as image/video). */
  type: string;
  url: string;
  filename?: string;
}

/** One message row: a Facebook event becomes one part per text and per attachment. */
export interface InboundPart {
  kind: string;
  text: string | null;
  attachment?: InboundAttachment;
  part: number;
  dedupKey: string;
}

export interface InboundEvent {
  type: 'event';
  pageId: string;
  channel: 'messenger' | 'wall';
  role: InboundRole;
  /** X-Relay-Event: message, postback, referral, echo, reaction, post, comment, edit, remove. */
  event: string;
  /** PSID for Messenger (the recipient for echoes), the author's id on the wall. */
  customerId: string;
  /** '' for Messenger, the post id on the wall. */
  threadId: string;
  customerName?: string;
  occurredAt: number;
  /** Facebook's id: message mid, comment id or post id. */
  externalId: string | null;
  parts: InboundPart[];
  /** Kept for the agent: reply_to, referral, quick reply payload, permalink, parent comment, standby. */
  context: Record<string, unknown>;
  /** Reactions: the mid reacted to (an outbound message of ours, usually). */
  targetMid?: string;
}

/** Delivery and read receipts: update outbound messages, never stored as messages. */
export interface ReceiptEvent {
  type: 'receipt';
  pageId: string;
  customerId: string;
  status: 'delivered' | 'read';
  watermark: number;
  mids: string[];
}

export type ClassifiedEvent = InboundEvent | ReceiptEvent;

export interface ParsedWebhook {
  events: ClassifiedEvent[];
  /** Page ids with at least one entry, for the one integration lookup per POST. */
  pageIds: string[];
  /** Events of kinds the relay does not handle (handover, optin, feed likes, ...). */
  ignored: number;
}
