export const HOUR_MS = 3600_000;
export const DAY_MS = 24 * HOUR_MS;
export const STANDARD_WINDOW_MS = DAY_MS;
export const HUMAN_AGENT_WINDOW_MS = 7 * DAY_MS;

export type WindowDecision =
  | { allowed: true; messagingType: 'RESPONSE' }
  | { allowed: true; messagingType: 'MESSAGE_TAG'; tag: 'HUMAN_AGENT' }
  | { allowed: false; message: string };

/**
 * Facebook's Messenger windows (facebook-platform.md §4.2), checked before any Graph call:
 * RESPONSE within 24 hours of the customer's last message; HUMAN_AGENT up to 7 days when the
 * integration may use that tag (it needs Facebook's approval); closed beyond.
 */
export function decideMessengerWindow(lastCustomerMessageAt: Date | null, humanAgentTag: boolean, now = Date.now()): WindowDecision {
  if (!lastCustomerMessageAt) {
    return { allowed: false, message: 'This customer has not written on Messenger yet: Facebook lets a page answer only after the customer writes first.' };
  }
  const age = now - lastCustomerMessageAt.getTime();
  if (age <= STANDARD_WINDOW_MS) return { allowed: true, messagingType: 'RESPONSE' };
  if (age <= HUMAN_AGENT_WINDOW_MS) {
    if (humanAgentTag) return { allowed: true, messagingType: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' };
    return {
      allowed: false,
      message: `The customer last wrote ${describeAge(age)} ago: Facebook allows replies only within 24 hours of the customer's last message, and the HUMAN_AGENT tag (7 days) is not enabled for this integration. The conversation reopens when the customer writes again.`,
    };
  }
  return {
    allowed: false,
    message: `The customer last wrote ${describeAge(age)} ago: Facebook closes the conversation after 24 hours (7 days for a human agent) until the customer writes again.`,
  };
}

/** Facebook's private-reply rule: one reply within 7 days of the comment. */
export function privateReplyOpen(commentAt: Date | null, now = Date.now()): boolean {
  return commentAt !== null && now - commentAt.getTime() <= HUMAN_AGENT_WINDOW_MS;
}

export function describeAge(ms: number): string {
  const hours = Math.floor(ms / HOUR_MS);
  if (hours < 48) return hours === 1 ? '1 hour' : `${hours} hours`;
  const days = Math.floor(ms / DAY_MS);
  return `${days} days`;
}
