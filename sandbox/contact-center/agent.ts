import type { SandboxContext } from './context';
import { redactUrl } from './http-util';
import type { Account, Contact, Interaction, Message, ReplyOutcome } from './state';

/** An agent reply: what the sandbox POSTs to the account's Reply URL, shaped like XCALLY Motion's. */
export interface ReplyOptions {
  /** Needed unless `interactionId` is given; defaults to the only account when there is one. */
  accountId?: number;
  /** The interaction to answer on. */
  interactionId?: number;
  /** Or: the customer id (`from`) ... */
  contactFrom?: string;
  /** ... and the wall thread (post id); omit/null for the Messenger chat. */
  threadId?: string | null;
  /** The agent's text (when an attachment is sent and this is empty: the file's name). */
  body?: string;
  /** An agent attachment id (see `addAttachment`). */
  attachmentId?: number | string | null;
  /** `motion2` (default): full body with `Contact` and `Interaction`; `motion1`: `to` and no `Contact`/`Interaction`. */
  style?: 'motion2' | 'motion1';
  /** Add `privateReply: true` (answer a wall comment privately in Messenger). */
  privateReply?: boolean;
  /** Force the message `id` (e.g. re-send an earlier reply's id for idempotency tests). */
  id?: number;
  /** Extra top-level fields merged into the body. */
  extra?: Record<string, unknown>;
  /** Top-level fields to remove from the body (e.g. `['Interaction']`). */
  omit?: string[];
  /** Override the account's Reply URL for this reply. */
  replyUrl?: string;
  /** Extra request headers (e.g. `authorization`). */
  headers?: Record<string, string>;
  /** Motion's agent id; default 17. */
  userId?: number;
  /** Default 10000 ms. */
  timeoutMs?: number;
}

export interface ReplyResult {
  /** The `id` sent in the body (also the outbound message id in the sandbox). */
  id: number;
  interactionId: number;
  /** The relay's HTTP status; 0 when the request failed (connection refused, timeout). */
  status: number;
  ok: boolean;
  /** The relay's JSON answer (or text when it is not JSON). */
  answer: unknown;
  error?: string;
  /** The exact JSON body posted. */
  sentBody: Record<string, unknown>;
  /** The Reply URL with token redacted. */
  url: string;
  durationMs: number;
}

export class ReplyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const DEFAULT_USER_ID = 17;

export function resolveReplyTarget(ctx: SandboxContext, options: ReplyOptions): { account: Account; contact: Contact; interaction: Interaction } {
  const { state } = ctx;
  if (options.interactionId !== undefined && options.interactionId !== null) {
    const interaction = state.interactions.get(Number(options.interactionId));
    if (!interaction) throw new ReplyError(404, `Interaction ${options.interactionId} not found`);
    const account = state.accounts.get(interaction.accountId);
    if (!account) throw new ReplyError(404, `Account ${interaction.accountId} not found`);
    return { account, contact: state.contacts.get(interaction.contactId)!, interaction };
  }
  if (!options.contactFrom) throw new ReplyError(400, 'Give interactionId, or contactFrom (and threadId for a wall thread)');
  let accountId = options.accountId;
  if (accountId === undefined) {
    if (state.accounts.size !== 1) throw new ReplyError(400, 'accountId is required when there is not exactly one account');
    accountId = [...state.accounts.keys()][0];
  }
  const account = state.accounts.get(Number(accountId));
  if (!account) throw new ReplyError(404, `Account ${accountId} not found`);
  // An agent may start a conversation with a customer the contact center has not heard from yet.
  const contact = state.findOrCreateContact(account, { from: String(options.contactFrom), mapKey: account.mapKey });
  const interaction = state.findOrCreateInteraction(account, contact, options.threadId ?? null, null);
  return { account, contact, interaction };
}

export function buildReplyBody(ctx: SandboxContext, target: { account: Account; contact: Contact; interaction: Interaction }, options: ReplyOptions, id: number): Record<string, unknown> {
  const { account, contact, interaction } = target;
  const userId = options.userId ?? DEFAULT_USER_ID;
  const attachmentId = options.attachmentId === undefined || options.attachmentId === '' ? null : options.attachmentId;
  let text = options.body ?? '';
  if (!text && attachmentId !== null) text = ctx.state.getAttachment(attachmentId)?.name ?? 'attachment';
  let body: Record<string, unknown>;
  if (options.style === 'motion1') {
    body = {
      body: text,
      to: contact.from,
      AttachmentId: attachmentId,
      OpenchannelAccountId: account.id,
      OpenchannelInteractionId: interaction.id,
    };
  } else {
    body = {
      id,
      body: text,
      AttachmentId: attachmentId,
      OpenchannelAccountId: account.id,
      OpenchannelInteractionId: interaction.id,
      UserId: userId,
      ContactId: contact.id,
      Contact: {
        id: contact.id,
        firstName: contact.firstName,
        lastName: contact.lastName,
        phone: contact.phone ?? 'none',
        [contact.mapKey]: contact.from,
      },
      Interaction: {
        id: interaction.id,
        threadId: interaction.threadId,
        closed: interaction.closed,
        ContactId: contact.id,
        OpenchannelAccountId: account.id,
        UserId: userId,
      },
    };
  }
  if (options.privateReply) body.privateReply = true;
  if (options.extra) Object.assign(body, options.extra);
  for (const key of options.omit ?? []) delete body[key];
  return body;
}

/** Posts an agent reply to the Reply URL and records it (with the relay's answer) on the interaction. */
export async function postReply(ctx: SandboxContext, options: ReplyOptions): Promise<ReplyResult> {
  const target = resolveReplyTarget(ctx, options);
  const url = options.replyUrl || target.account.replyUrl;
  if (!url) {
    throw new ReplyError(409, `Account ${target.account.id} has no Reply URL: set it on the page or with the control API`);
  }
  const id = options.id ?? ctx.state.newMessageId();
  const sentBody = buildReplyBody(ctx, target, options, id);
  const message: Message = {
    id,
    interactionId: target.interaction.id,
    direction: 'out',
    body: String(sentBody.body ?? ''),
    attachmentId: (sentBody.AttachmentId as number | string | null | undefined) ?? null,
    at: ctx.state.now(),
    sentBody,
  };
  target.interaction.messages.push(message);

  const started = Date.now();
  const outcome: ReplyOutcome = { url: redactUrl(url), status: 0, ok: false, answer: null, durationMs: 0 };
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...options.headers },
      body: JSON.stringify(sentBody),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    outcome.status = response.status;
    outcome.ok = response.ok;
    const text = await response.text();
    try {
      outcome.answer = text ? JSON.parse(text) : null;
    } catch {
      outcome.answer = text;
    }
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    outcome.error = cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
  }
  outcome.durationMs = Date.now() - started;
  message.reply = outcome;
  if (ctx.state.events.listenerCount('reply') > 0) ctx.state.events.emit('reply', message);
  return {
    id,
    interactionId: target.interaction.id,
    status: outcome.status,
    ok: outcome.ok,
    answer: outcome.answer,
    ...(outcome.error ? { error: outcome.error } : {}),
    sentBody,
    url: outcome.url,
    durationMs: outcome.durationMs,
  };
}
