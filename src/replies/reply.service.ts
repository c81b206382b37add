import { Injectable, Logger, Optional } from '@nestjs/common';
import { Counter } from 'prom-client';
import { SecretBox } from '../common/crypto/secret-box';
import { RelayHttpError } from '../common/errors/http-errors';
import { Database } from '../database/database';
import { GraphError, GraphErrorClass, GraphUnavailableError } from '../facebook/graph-errors';
import { IntegrationHealth } from '../integrations/integration-health';
import { Integration } from '../integrations/integration.entity';
import { MetricsService } from '../metrics/metrics.service';
import { Conversation } from '../relay/conversation.entity';
import { Message } from '../relay/message.entity';
import { outboundMetadata } from '../relay/outbound-echo';
import { AgentAttachments, AgentFile, AttachmentProblem } from './agent-attachments';
import { commentAcceptsMime, messengerTypeFor } from './attachment-types';
import { FacebookSends, MessagingPolicy, MessengerRecipient, PostedComment } from './facebook-sends';
import { FileLinks } from './file-links';
import { OutboundMessages, OutboundPayload, parsePayload, ReplyKind } from './outbound-messages';
import { PagePacer, SendKind } from './page-pacer';
import { PrefetchedConversation, ReplyLookups } from './reply-lookups';
import { answerForGraphFailure, errorAnswer, ReplyAnswer, successAnswer } from './reply-errors';
import { decideMessengerWindow, privateReplyOpen } from './reply-window';
import { attachmentIdOf, recipientOfReply, ReplyDto } from './reply.dto';
import { MESSENGER_TEXT_LIMIT, splitText } from './text-splitter';

/** Facebook's limit for a comment's text. */
const COMMENT_TEXT_LIMIT = 8000;
/** Decrypted page tokens kept at most (one per page that replies); the map starts over beyond it. */
const PAGE_TOKEN_CACHE_SIZE = 1000;
/** How much earlier than the reply's row Facebook's time on a comment it posted may be (their clock, in whole seconds). */
const COMMENT_CLOCK_MARGIN_MS = 60_000;
/** Graph errors of a comments read-back after which the comment is posted again rather than the repeat failing. */
const REFUSED_READ: ReadonlySet<GraphErrorClass> = new Set(['permission', 'invalid', 'recipient']);
/** How long a repeat waits for the first request of the same reply to finish. */
const DUPLICATE_WAIT_MS = 25_000;

type Route = 'messenger' | 'comment' | 'private_reply';

/** One reply, resolved: who it goes to, how, and the row that records it. */
interface ReplyJob {
  integration: Integration;
  conversation: Conversation;
  route: Route;
  text: string;
  attachmentId: string | null;
  message: Message;
  payload: OutboundPayload;
  /** A repeat took the row over: an earlier request sent it, or part of it, as far as the row says. */
  resumed: boolean;
}

interface SendResult {
  answer: ReplyAnswer;
  externalId: string | null;
}

/** A send the relay holds back itself to stay under Facebook's per-page rate. */
class PacingLimit extends Error {}

/**
 * `POST /api/reply`: routes an agent's reply (Messenger or wall thread), applies Facebook's window
 * rules before calling it, sends while the contact center waits, and records the row and the
 * answer so that a repeat of the same reply is answered the same way without a second send.
 */
@Injectable()
export class ReplyService {
  private readonly logger = new Logger('Replies');
  private readonly replies: Counter<string>;
  /** Decrypted page tokens by their stored ciphertext (AES-GCM per reply is a measurable share of its CPU). */
  private readonly pageTokens = new Map<string, string>();

  constructor(
    private readonly database: Database,
    private readonly box: SecretBox,
    private readonly outbound: OutboundMessages,
    private readonly sends: FacebookSends,
    private readonly attachments: AgentAttachments,
    private readonly links: FileLinks,
    private readonly pacer: PagePacer,
    private readonly lookups: ReplyLookups,
    metrics: MetricsService,
    @Optional() private readonly health?: IntegrationHealth,
  ) {
    this.replies = metrics.counter('relay_replies_total', 'Agent replies by route and answer status', ['route', 'status']);
  }

  /** `prefetched`: the conversation ReplyTokenGuard read with the integration, if it did. */
  async handle(integration: Integration, dto: ReplyDto, idempotencyKey?: string, prefetched?: PrefetchedConversation): Promise<ReplyAnswer> {
    const recipient = recipientOfReply(dto);
    if (!recipient) {
      throw new RelayHttpError(400, 'missing_recipient', 'The recipient is missing: the reply needs Contact.facebook (the customer id the relay sent as "from"), or "to".');
    }
    const { customerId, threadId } = recipient;
    const attachmentId = attachmentIdOf(dto);
    if (!attachmentId && !dto.body.trim()) throw new RelayHttpError(400, 'empty_body', 'body is empty: there is no text to send.');
    if (dto.privateReply && !threadId) {
      throw new RelayHttpError(400, 'private_reply_needs_thread', 'privateReply answers a wall comment: it needs Interaction.threadId (the wall thread).');
    }
    const conversation =
      prefetched && prefetched.customerId === customerId && prefetched.threadId === threadId
        ? prefetched.conversation
        : await this.lookups.conversation({ tenantId: integration.tenantId, integrationId: integration.id, customerId, threadId });
    if (!conversation) {
      const where = threadId ? `on wall thread ${threadId}` : 'on Messenger';
      throw new RelayHttpError(404, 'unknown_recipient', `The relay has never received a message from customer ${customerId} ${where} for page "${integration.pageName}": Facebook only allows replies to people who wrote to the page.`);
    }

    const route: Route = !threadId ? 'messenger' : dto.privateReply ? 'private_reply' : 'comment';
    const key = idempotencyKey ?? (dto.id === undefined || dto.id === null || dto.id === '' ? undefined : String(dto.id));
    const payload: OutboundPayload = { key, attachmentId: attachmentId ?? undefined, target: targetOf(route, conversation) };
    const claim = await this.outbound.claim({
      tenantId: integration.tenantId,
      integrationId: integration.id,
      conversationId: conversation.id,
      kind: kindOf(route, attachmentId),
      text: dto.body,
      dedupKey: key ? OutboundMessages.dedupKey(integration.id, key) : null,
      payload,
    });
    let job: ReplyJob;
    if (claim.claimed) {
      job = { integration, conversation, route, text: dto.body, attachmentId, message: claim.message, payload: claim.payload, resumed: false };
    } else {
      const taken = await this.takeOver(claim.message);
      if ('answer' in taken) return taken.answer;
      job = { integration, conversation, route, text: dto.body, attachmentId, message: taken.message, payload: taken.payload, resumed: true };
    }
    return this.sendAndRecord(job);
  }

  /**
   * A repeat of a reply already recorded: replay its answer, wait for the request still sending
   * it, or send it again when the earlier failure may end differently now.
   */
  private async takeOver(existing: Message): Promise<{ answer: ReplyAnswer } | { message: Message; payload: OutboundPayload }> {
    let row: Message | null = existing;
    for (let round = 0; round < 5 && row; round++) {
      if (row.status === 'sending') {
        if (this.outbound.isStale(row) && (await this.outbound.reclaim(row))) return { message: row, payload: parsePayload(row) };
        row = await this.outbound.waitSettled(row, DUPLICATE_WAIT_MS);
        continue;
      }
      const payload = parsePayload(row);
      const retry = row.status === 'failed' && (payload.answer?.retryable ?? true);
      if (!retry) return { answer: recordedAnswer(row, payload) };
      if (await this.outbound.reclaim(row)) return { message: row, payload };
      row = await this.database.repo(Message).findOne({ where: { id: row.id, tenantId: row.tenantId } });
    }
    return { answer: errorAnswer(409, 'reply_in_progress', 'This reply is still being sent by an earlier request with the same id: try again in a minute.', true) };
  }

  private async sendAndRecord(job: ReplyJob): Promise<ReplyAnswer> {
    let result: SendResult;
    let answerLost = false;
    try {
      result = await this.send(job);
    } catch (error) {
      result = { answer: await this.answerForFailure(job, error), externalId: null };
      answerLost = error instanceof GraphUnavailableError;
    }
    await this.outbound.finish(job.message, job.payload, result.answer, result.externalId);
    if (answerLost) {
      // Facebook may have sent it without its answer reaching the relay: if the echo came meanwhile, it was sent.
      const confirmed = await this.outbound.confirmedBySend(job.message);
      if (confirmed) result = { answer: successAnswer({ id: confirmed }), externalId: confirmed };
    }
    this.replies.inc({ route: job.route, status: String(result.answer.status) });
    if (result.answer.status !== 200) {
      this.logger.warn(`reply ${job.message.id} (integration ${job.integration.id}, ${job.route}) answered ${result.answer.status}: ${String(result.answer.body.message)}`);
    }
    return result.answer;
  }

  private async answerForFailure(job: ReplyJob, error: unknown): Promise<ReplyAnswer> {
    if (error instanceof AttachmentProblem) return error.answer;
    if (error instanceof PacingLimit) {
      return errorAnswer(429, 'paced', "The relay is pacing this page's sends under Facebook's limits (300 texts and 10 files a second): send again in a second.", true, { 'Retry-After': '1' });
    }
    if (error instanceof GraphError || error instanceof GraphUnavailableError) {
      if (error instanceof GraphError && error.classification === 'reauth') await this.markReauthRequired(job.integration, error);
      return answerForGraphFailure(error);
    }
    // A bug, not Facebook: record it, let the repeat try again, and let the global filter answer 500.
    await this.outbound.finish(job.message, job.payload, errorAnswer(500, 'internal_error', 'The relay failed to send this reply.', true), null);
    throw error;
  }

  private async send(job: ReplyJob): Promise<SendResult> {
    const { integration } = job;
    if (integration.status === 'reauth_required' || !integration.pageTokenEnc) {
      return refusal(errorAnswer(424, 'facebook_token_invalid', `Facebook no longer accepts the token of page "${integration.pageName}": re-authorize the page in the relay, then send again.`, true));
    }
    if (job.route === 'messenger') return this.sendMessenger(job);
    if (job.route === 'comment') return this.sendComment(job);
    return this.sendPrivateReply(job);
  }

  private async sendMessenger(job: ReplyJob): Promise<SendResult> {
    const decision = decideMessengerWindow(job.conversation.lastCustomerMessageAt, job.integration.humanAgentTag);
    if (!decision.allowed) return refusal(errorAnswer(422, 'window_closed', decision.message));
    const policy: MessagingPolicy = 'tag' in decision ? { messagingType: decision.messagingType, tag: decision.tag } : { messagingType: decision.messagingType };
    const recipient = { id: job.conversation.customerId };
    if (job.attachmentId) return this.uploadToMessenger(job, recipient, policy);

    const parts = splitText(job.text);
    const sent = job.payload.parts ?? [];
    const token = this.pageToken(job.integration);
    const firstMissing = sent.length;
    for (let i = firstMissing; i < parts.length; i++) {
      // Only the first part still missing can have gone out unrecorded: the earlier request stopped at it.
      const earlier = job.resumed && parts.length > 1 && i === firstMissing ? await this.outbound.sentPart(job.message, i) : null;
      const mid = earlier ?? await this.sendPart(job, token, recipient, policy, parts, i);
      sent.push(mid);
      job.payload.parts = sent;
      if (i > 0) await this.outbound.insertSentPart(job.message, i, parts[i], mid);
      // After the last part, finish() records the ids with the answer in the same statement. Until then the
      // first row has no Facebook id: that is left to an echo that confirms a whole reply (outbound-echo.ts).
      if (i < parts.length - 1) await this.outbound.saveProgress(job.message, job.payload);
    }
    return { answer: successAnswer(sent.length > 1 ? { id: sent[0], ids: sent } : { id: sent[0] }), externalId: sent[0] };
  }

  private async sendPart(job: ReplyJob, token: string, recipient: MessengerRecipient, policy: MessagingPolicy, parts: string[], i: number): Promise<string> {
    await this.pace(job.integration.pageId, 'text');
    return this.sends.text(job.integration.pageId, token, recipient, policy, parts[i], outboundMetadata(job.message.id, { index: i, of: parts.length }));
  }

  private async sendComment(job: ReplyJob): Promise<SendResult> {
    const target = job.payload.target!;
    const token = this.pageToken(job.integration);
    if (job.attachmentId) {
      const file = await this.fetchAttachment(job);
      if (!commentAcceptsMime(file.mime)) {
        return refusal(errorAnswer(415, 'attachment_type_unsupported', `Facebook comments can show only pictures (JPEG, PNG, GIF, WebP); "${file.filename}" is ${file.mime}. Send it by Messenger with privateReply, or share a link.`));
      }
      await this.pace(job.integration.pageId, 'media');
      const id = await this.sends.comment(target, token, { attachmentUrl: this.links.url(file.blob.id) });
      return { answer: successAnswer({ id }), externalId: id };
    }
    const text = job.text.trim();
    if (text.length > COMMENT_TEXT_LIMIT) {
      return refusal(errorAnswer(422, 'text_too_long', `A comment can hold at most ${COMMENT_TEXT_LIMIT} characters; this one has ${text.length}: shorten it or split it in several replies.`));
    }
    const posted = job.resumed ? await this.postedEarlier(job, target, token, text) : null;
    if (posted) return { answer: successAnswer({ id: posted }), externalId: posted };
    await this.pace(job.integration.pageId, 'text');
    const id = await this.sends.comment(target, token, { message: text });
    return { answer: successAnswer({ id }), externalId: id };
  }

  /**
   * A public comment taken over by a repeat may have gone up without Facebook's answer reaching the relay (the answer
   * lost, a timeout, a crash before the record). Comments have no echo that names the row, so the relay reads back the
   * post's comments made since the reply began: one by the page with the same text, under the target (or under the
   * target's own parent, where Facebook may file an answer to a reply), recorded for no other reply, is this one. Not
   * while another reply with the same text to the same target is unrecorded: that one may be its. A read that Facebook
   * refuses (a permission, a bad request) leaves the comment to be posted again, as before; a throttled, failing or
   * unreachable Graph answers the repeat with that error, to be tried again.
   */
  private async postedEarlier(job: ReplyJob, target: string, token: string, text: string): Promise<string | null> {
    const postId = job.conversation.threadId;
    try {
      const since = job.message.createdAt.getTime() - COMMENT_CLOCK_MARGIN_MS;
      const candidates = (await this.sends.commentsSince(postId, token, since)).filter((comment) => comment.from?.id === job.integration.pageId && comment.message === text);
      if (!candidates.length || (await this.outbound.unrecordedCommentsLike(job.message, target, text))) return null;
      const parentOf = (comment: PostedComment) => comment.parent?.id ?? postId;
      const under = async (parent: string) => {
        for (const comment of candidates) {
          if (parentOf(comment) === parent && !(await this.outbound.isAnotherReplysId(job.message, comment.id))) return comment.id;
        }
        return null;
      };
      const found = await under(target);
      if (found || target === postId || candidates.every((comment) => parentOf(comment) === postId || parentOf(comment) === target)) return found;
      const targetsParent = await this.sends.parentOf(target, token);
      return targetsParent ? under(targetsParent) : null;
    } catch (error) {
      if (!(error instanceof GraphError) || !REFUSED_READ.has(error.classification)) throw error;
      this.logger.warn(`reply ${job.message.id}: could not read back the comments of post ${postId} (${error.message}); posting the comment again`);
      return null;
    }
  }

  private async sendPrivateReply(job: ReplyJob): Promise<SendResult> {
    const target = job.payload.target!;
    if (!privateReplyOpen(job.conversation.lastCustomerMessageAt)) {
      return refusal(errorAnswer(422, 'cannot_reply_privately', "The customer's latest comment is older than 7 days: Facebook allows a private reply only within 7 days of the comment. Answer publicly instead."));
    }
    if (await this.outbound.privateReplySent(job.integration.tenantId, job.conversation.id, target, job.message.id)) {
      return refusal(errorAnswer(409, 'already_replied', "This comment already has its private reply: Facebook allows one private reply per comment. Answer publicly, or wait until the customer writes on Messenger."));
    }
    const text = job.text.trim();
    if (!job.attachmentId && text.length > MESSENGER_TEXT_LIMIT) {
      return refusal(errorAnswer(422, 'text_too_long', `A private reply is a single message of fewer than 2000 characters; this one has ${text.length}: shorten it.`));
    }
    const recipient: MessengerRecipient = job.conversation.lastCustomerCommentId ? { comment_id: target } : { post_id: target };
    const policy: MessagingPolicy = { messagingType: 'RESPONSE' };
    if (job.attachmentId) return this.uploadToMessenger(job, recipient, policy);
    await this.pace(job.integration.pageId, 'text');
    const mid = await this.sends.text(job.integration.pageId, this.pageToken(job.integration), recipient, policy, text, outboundMetadata(job.message.id));
    return { answer: successAnswer({ id: mid }), externalId: mid };
  }

  private async uploadToMessenger(job: ReplyJob, recipient: MessengerRecipient, policy: MessagingPolicy): Promise<SendResult> {
    const file = await this.fetchAttachment(job);
    await this.pace(job.integration.pageId, 'media');
    const mid = await this.sends.upload(job.integration.pageId, this.pageToken(job.integration), recipient, policy, {
      bytes: file.bytes,
      mime: file.mime,
      filename: file.filename,
      type: messengerTypeFor(file.mime),
      metadata: outboundMetadata(job.message.id),
    });
    return { answer: successAnswer({ id: mid }), externalId: mid };
  }

  private async fetchAttachment(job: ReplyJob): Promise<AgentFile> {
    const { integration } = job;
    const target = { openchannelUrl: this.box.decrypt(integration.openchannelUrlEnc), apiKey: this.box.decryptOptional(integration.apiKeyEnc) };
    const file = await this.attachments.fetch(integration.tenantId, integration.id, target, job.attachmentId!, job.text);
    await this.outbound.saveProgress(job.message, job.payload, { blobId: file.blob.id });
    return file;
  }

  private async pace(pageId: string, kind: SendKind): Promise<void> {
    if (!(await this.pacer.acquire(pageId, kind))) throw new PacingLimit();
  }

  /** Cached by ciphertext: a re-authorized page has a new ciphertext, so it never meets an old token. */
  private pageToken(integration: Integration): string {
    const encrypted = integration.pageTokenEnc!;
    let token = this.pageTokens.get(encrypted);
    if (token === undefined) {
      token = this.box.decrypt(encrypted);
      if (this.pageTokens.size >= PAGE_TOKEN_CACHE_SIZE) this.pageTokens.clear();
      this.pageTokens.set(encrypted, token);
    }
    return token;
  }

  /** Facebook rejected the page token: the integration waits for the tenant to re-authorize it. */
  private async markReauthRequired(integration: Integration, error: GraphError): Promise<void> {
    this.logger.warn(`integration ${integration.id}: Facebook rejected the page token (${error.code}/${error.subcode ?? '-'})`);
    if (this.health) return this.health.reportGraphError(integration.id, error);
    // Without the integrations feature (a trimmed app), record the state directly.
    await this.database
      .repo(Integration)
      .update({ id: integration.id, tenantId: integration.tenantId, status: 'active' }, { status: 'reauth_required', statusReason: error.explanation, updatedAt: new Date() });
  }
}

/**
 * The answer a repeat gets for a settled row: the one recorded (a row failed for good always has it). A row
 * that is not failed was sent: when Facebook's echo confirmed it after the relay had answered a failure, or
 * with no answer recorded (a crash), the answer is its Facebook id.
 */
function recordedAnswer(row: Message, payload: OutboundPayload): ReplyAnswer {
  if (row.status === 'failed' || payload.answer?.status === 200) return payload.answer!;
  return successAnswer({ id: row.externalId });
}

function refusal(answer: ReplyAnswer): SendResult {
  return { answer, externalId: null };
}

function kindOf(route: Route, attachmentId: string | null): ReplyKind {
  if (route === 'comment') return 'comment';
  if (route === 'private_reply') return 'private_reply';
  return attachmentId ? 'attachment' : 'text';
}

/** Where a wall reply goes: under the customer's latest comment, else on the post itself. */
function targetOf(route: Route, conversation: Conversation): string | undefined {
  if (route === 'messenger') return undefined;
  return conversation.lastCustomerCommentId || conversation.threadId;
}
