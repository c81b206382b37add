import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { BlobStore } from '../blobs/blob-store';
import { SecretBox } from '../common/crypto/secret-box';
import { OutboundHttpError } from '../common/http/outbound-http';
import { RelayHttpError } from '../common/errors/http-errors';
import { newId } from '../common/ids';
import { OpenChannelClient, OpenChannelTarget } from '../contact-center/open-channel-client';
import { Database } from '../database/database';
import { Integration } from '../integrations/integration.entity';
import { JobContext, JobHandler } from '../queue/job';
import { JobQueue } from '../queue/job-queue';
import { Conversation } from './conversation.entity';
import { AttemptResult, classifyAnswer, classifyNoAnswer } from './delivery-failure';
import { AttemptRow, DeliveryIntegration, DeliveryStore, LoadedConversation, NewState } from './delivery-store';
import { DeliverySettings } from './delivery.settings';
import { MediaService, MediaTemporarilyUnavailable } from './media.service';
import { Message } from './message.entity';
import { buildNotification, CustomerNames, standardWebhookHeaders } from './notification';
import { ProfileService } from './profile.service';
import { RelayMetrics } from './relay-metrics';
import { DeliverConversation, deliveryJobId } from './relay.jobs';
import { WebhooksFirst } from './webhooks-first';

interface Delivery {
  integration: DeliveryIntegration;
  target: OpenChannelTarget;
  signingSecret: string | null;
}

interface DecryptedTarget {
  at: number;
  openchannelUrlEnc: string;
  apiKeyEnc: string | null;
  signingSecretEnc: string | null;
  target: OpenChannelTarget;
  signingSecret: string | null;
}

/**
 * What a job already knows of its conversation's head when it goes on to the next message: `leased`, the head
 * this job leased (on SQLite in the commit that recorded the last attempt, null: none; on MySQL at the job's
 * start); or, on MySQL, `read`, the head as read at the job's start (when it could not lease it) or in the round
 * trip that recorded the last attempt (null: none). Neither: look it up.
 */
interface KnownHead {
  leased?: Message | null;
  read?: Message | null;
}

/** A lease a failed step took, or may have taken, on a message of the conversation (on `messageId` when it knows which). */
interface HeldLease {
  conversationId: string;
  leaseUntil: Date;
  messageId?: string;
}

/** Leases kept to give back later at most; past it the oldest are left to run out. */
const LEASES_TO_GIVE_BACK_MAX = 10_000;
/** How often kept leases are tried again while there are any. */
const KEPT_LEASES_RETRY_MS = 2_000;
const LAST_DELIVERY_WRITE_MS = 10_000;
const DECRYPTED_TARGET_TTL_MS = 60_000;
const DECRYPTED_TARGETS_MAX = 10_000;

/**
 * Hands a conversation's inbound messages to the contact center, oldest first. Only the oldest queued
 * message of a conversation (the head) is ever attempted, under a lease in the database, so order holds
 * across workers and processes; while the head waits for a retry, later messages wait with it, and
 * other conversations (other jobs) go on.
 */
@Injectable()
export class DeliveryService implements OnApplicationShutdown {
  private readonly logger = new Logger('Delivery');
  private readonly lastDeliveryWritten = new Map<string, number>();
  private readonly decryptedTargets = new Map<string, DecryptedTarget>();
  /** Leases failed steps could not give back at once (the database was down), tried again every 2 s. */
  private readonly leasesToGiveBack = new Map<string, HeldLease>();
  private keptLeasesTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly store: DeliveryStore;

  constructor(
    private readonly database: Database,
    private readonly queue: JobQueue,
    private readonly box: SecretBox,
    private readonly client: OpenChannelClient,
    private readonly blobs: BlobStore,
    private readonly media: MediaService,
    private readonly profiles: ProfileService,
    private readonly settings: DeliverySettings,
    private readonly metrics: RelayMetrics,
    private readonly webhooksFirst: WebhooksFirst,
  ) {
    this.store = new DeliveryStore(database);
  }

  @JobHandler(DeliverConversation)
  async deliverConversation(data: { conversationId: string }, context?: JobContext): Promise<void> {
    let known: KnownHead = {};
    let loaded: LoadedConversation | null;
    if (this.store.claimsHeadInOneStatement) {
      loaded = await this.store.conversationForDelivery(data.conversationId);
    } else {
      // MySQL: the head is leased in the same round trip that reads the conversation, so a job's first message costs one.
      const now = new Date();
      const leaseUntil = this.leaseUntil(now);
      const start = await this.givingBackOnFailure(data.conversationId, leaseUntil, () => this.store.leaseHeadWithConversation(data.conversationId, now, leaseUntil));
      loaded = start.loaded;
      known = start.leased ? { leased: start.leased } : { read: loaded?.head ?? null };
    }
    if (!loaded) return;
    const { conversation, integration } = loaded;
    // Null: the integration is switched off, and its queued messages are held.
    const deliveryOrHold = async (): Promise<Delivery | null> => {
      if (integration.enabled) return this.deliveryTo(integration);
      await this.database.repo(Message).update({ conversationId: conversation.id, direction: 'in', status: 'queued' }, { status: 'held', nextAttemptAt: null, lockedUntil: null });
      return null;
    };
    const lease = known.leased?.lockedUntil;
    const delivery = lease ? await this.givingBackOnFailure(conversation.id, lease, deliveryOrHold, known.leased!.id) : await deliveryOrHold();
    if (!delivery) return;
    for (let done = 0; ; done++) {
      const step = await this.webhooksFirst.inTurn(() => this.deliverNext(conversation, delivery, done, known, context));
      if (step === 'stop') return;
      known = step;
    }
  }

  /** The job's next message: one unit of background work (WebhooksFirst). Answers whether the job goes on. */
  private async deliverNext(conversation: Conversation, delivery: Delivery, done: number, known: KnownHead, context?: JobContext): Promise<'stop' | KnownHead> {
    // On MySQL the next head is read with the attempt's record (not leased); on SQLite it is leased in the same commit.
    const readsNext = !this.store.claimsHeadInOneStatement;
    if (done < this.settings.batchPerJob && (known.leased !== undefined || this.store.claimsHeadInOneStatement)) {
      const now = new Date();
      const claimed = known.leased !== undefined ? known.leased : await this.store.claimHead(conversation.id, now, this.leaseUntil(now));
      if (claimed) {
        const { result, next } = await this.attempt(claimed, conversation, delivery, readsNext || done + 1 < this.settings.batchPerJob);
        return result.kind === 'retry' ? 'stop' : readsNext ? { read: next } : { leased: next };
      }
      // No head, or it waits for a retry, or another worker holds it: the head says which.
    }
    const head = known.read !== undefined ? known.read : await this.store.head(conversation.id);
    if (!head) return 'stop';
    const dueIn = (head.nextAttemptAt?.getTime() ?? 0) - Date.now();
    if (dueIn > 0 || done >= this.settings.batchPerJob) {
      // Waiting for a retry (or handing over for fairness): the job for that moment carries on.
      let jobId = deliveryJobId(conversation.id, head.id, head.attempts);
      // A delayed job may fire a little early; re-adding its own id would be ignored while it runs.
      if (jobId === context?.jobId) jobId = `${jobId}-t${Date.now()}`;
      await this.queue.add(DeliverConversation, { conversationId: conversation.id }, { jobId, delayMs: Math.max(0, dueIn) });
      return 'stop';
    }
    const now = new Date();
    const leaseUntil = this.leaseUntil(now);
    // Another worker holds the head and carries on from it.
    if (!(await this.givingBackOnFailure(conversation.id, leaseUntil, () => this.store.claim(head.id, now, leaseUntil), head.id))) return 'stop';
    const { result, next } = await this.attempt({ ...head, lockedUntil: leaseUntil }, conversation, delivery, readsNext);
    return result.kind === 'retry' ? 'stop' : readsNext ? { read: next } : {};
  }

  /**
   * When a lease taken now runs out. Jitter of up to a thirtieth of the lease (10 s of 5 minutes, at least a second),
   * in milliseconds, makes each lease's time its own: it is how `leaseHeadWithConversation` tells the head it leased
   * from one that arrived just after, and how `releaseLease` gives back only its own lease.
   */
  private leaseUntil(now: Date): Date {
    return new Date(now.getTime() + this.settings.leaseMs + Math.floor(Math.random() * Math.max(1_000, this.settings.leaseMs / 30)));
  }

  /**
   * A step that takes a lease until `leaseUntil`, or records the message held under it. When the step fails, the lease
   * is given back before the job fails, so the job's retry (seconds later) delivers the message rather than it waiting
   * out `leaseMs`: a record that failed leaves the message queued under the lease, and a lease's round trip that failed
   * may have committed first. A message the step did record is no longer under the lease, so it is left as it is. When
   * the database cannot take the give-back either (it is down), the lease is kept and tried again (`giveBackKeptLeases`).
   */
  private async givingBackOnFailure<T>(conversationId: string, leaseUntil: Date, step: () => Promise<T>, messageId?: string): Promise<T> {
    try {
      return await step();
    } catch (error) {
      const lease: HeldLease = { conversationId, leaseUntil, messageId };
      await this.store.releaseLease(conversationId, leaseUntil, messageId).catch((releaseError: Error) => {
        this.keepToGiveBack(lease);
        this.logger.warn(`A lease in conversation ${conversationId} could not be given back after a failed step (tried again every 2 s): ${releaseError.message}`);
      });
      throw error;
    }
  }

  private keepToGiveBack(lease: HeldLease): void {
    if (this.leasesToGiveBack.size >= LEASES_TO_GIVE_BACK_MAX) this.leasesToGiveBack.delete(this.leasesToGiveBack.keys().next().value!);
    this.leasesToGiveBack.set(`${lease.messageId ?? lease.conversationId}|${lease.leaseUntil.getTime()}`, lease);
    this.scheduleKeptLeases();
  }

  private scheduleKeptLeases(): void {
    if (this.keptLeasesTimer || this.stopped || !this.leasesToGiveBack.size) return;
    this.keptLeasesTimer = setTimeout(() => {
      void this.giveBackKeptLeases().finally(() => {
        this.keptLeasesTimer = null;
        this.scheduleKeptLeases();
      });
    }, KEPT_LEASES_RETRY_MS);
    this.keptLeasesTimer.unref();
  }

  /**
   * Gives back the leases failed steps could not (`givingBackOnFailure`), oldest first, until the database refuses again;
   * one that has run out meanwhile is dropped. Each conversation given back gets a job of its own (a fresh id), since
   * its job may have failed for good while the database was away. Runs every 2 s while there are any. Answers how many
   * are left.
   */
  async giveBackKeptLeases(now = Date.now()): Promise<number> {
    for (const [key, lease] of this.leasesToGiveBack) {
      if (lease.leaseUntil.getTime() > now) {
        try {
          await this.store.releaseLease(lease.conversationId, lease.leaseUntil, lease.messageId);
        } catch {
          break;
        }
        await this.queue.add(DeliverConversation, { conversationId: lease.conversationId }, { jobId: `c-${lease.conversationId}-lease-${lease.leaseUntil.getTime()}` })
          .catch((error: Error) => this.logger.warn(`Conversation ${lease.conversationId} not enqueued after its lease was given back (the sweeper will): ${error.message}`));
      }
      this.leasesToGiveBack.delete(key);
    }
    return this.leasesToGiveBack.size;
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.keptLeasesTimer) clearTimeout(this.keptLeasesTimer);
  }

  /**
   * The decrypted target of an integration, kept a short while per process. The integration row is read
   * on every job, so its switch is always current; the cache is checked against the row's ciphertexts,
   * so an edited URL, key or secret is used from the next job on.
   */
  private deliveryTo(integration: DeliveryIntegration): Delivery {
    const now = Date.now();
    const cached = this.decryptedTargets.get(integration.id);
    if (cached && now - cached.at < DECRYPTED_TARGET_TTL_MS && cached.openchannelUrlEnc === integration.openchannelUrlEnc
      && cached.apiKeyEnc === integration.apiKeyEnc && cached.signingSecretEnc === integration.signingSecretEnc) {
      return { integration, target: cached.target, signingSecret: cached.signingSecret };
    }
    const target = { openchannelUrl: this.box.decrypt(integration.openchannelUrlEnc), apiKey: this.box.decryptOptional(integration.apiKeyEnc) };
    const signingSecret = this.box.decryptOptional(integration.signingSecretEnc);
    if (this.decryptedTargets.size >= DECRYPTED_TARGETS_MAX) this.decryptedTargets.clear();
    this.decryptedTargets.set(integration.id, {
      at: now, openchannelUrlEnc: integration.openchannelUrlEnc, apiKeyEnc: integration.apiKeyEnc, signingSecretEnc: integration.signingSecretEnc, target, signingSecret,
    });
    return { integration, target, signingSecret };
  }

  /** Puts a failed message back in line (the contract's replay). Answers 404/409 in plain words. */
  async replay(tenantId: string, messageId: string, integrationId?: string): Promise<Message> {
    const repo = this.database.repo(Message);
    const message = await repo.findOne({ where: { id: messageId, tenantId, ...(integrationId ? { integrationId } : {}) } });
    if (!message || message.direction !== 'in') throw new RelayHttpError(404, 'not_found', 'No inbound message with this id in this integration');
    if (message.status !== 'failed') {
      throw new RelayHttpError(409, 'not_failed', `Only failed messages can be replayed; this one is ${message.status}`);
    }
    const now = new Date();
    // Conditional: of two replays at once only one moves it, so it is never queued again once delivered.
    const moved = await repo.update({ id: message.id, tenantId, status: 'failed' }, { status: 'queued', attempts: 0, nextAttemptAt: now, lockedUntil: null, updatedAt: now });
    if (moved.affected === 0) throw new RelayHttpError(409, 'not_failed', 'This message is already being replayed');
    if (message.conversationId) {
      await this.queue.add(DeliverConversation, { conversationId: message.conversationId }, {
        jobId: `${deliveryJobId(message.conversationId, message.id, 0)}-replay-${now.getTime()}`,
      });
    }
    return { ...message, status: 'queued', attempts: 0, lastError: message.lastError };
  }

  /**
   * Sends the message and records the outcome. With `findNext`, unless the job stops (a retry), `next` is the
   * conversation's next head, found in the same round trip: leased on SQLite, read on MySQL.
   */
  private async attempt(message: Message, conversation: Conversation, delivery: Delivery, findNext: boolean): Promise<{ result: AttemptResult; next?: Message | null }> {
    const startedAt = new Date();
    let result: AttemptResult;
    try {
      result = await this.send(message, conversation, delivery);
    } catch (error) {
      if (error instanceof MediaTemporarilyUnavailable) {
        result = { kind: 'retry', httpStatus: null, reason: `Could not copy the attachment from Facebook yet: ${error.message}` };
      } else {
        this.logger.error(`Delivery of message ${message.id} broke: ${(error as Error).stack ?? error}`);
        result = { kind: 'retry', httpStatus: null, reason: 'The relay hit an internal error while delivering; it will try again' };
      }
    }
    const recording = () => this.record(message, startedAt, result, findNext);
    const next = await (message.lockedUntil ? this.givingBackOnFailure(conversation.id, message.lockedUntil, recording, message.id) : recording());
    return { result, next };
  }

  private async send(message: Message, conversation: Conversation, delivery: Delivery): Promise<AttemptResult> {
    const names = await this.profiles.names(conversation, delivery.integration);
    let attachment: { id: string; filename: string } | undefined;
    if (message.kind === 'attachment') {
      const uploaded = await this.upload(message, delivery);
      if ('kind' in uploaded) {
        if (uploaded.kind !== 'as_text') return uploaded;
        message = { ...message, text: uploaded.text };
      } else {
        attachment = uploaded;
      }
    }
    return this.notify(message, conversation, names, delivery, attachment);
  }

  /** The file to the contact center's /api/attachments (once: the id is kept for retries). */
  private async upload(message: Message, delivery: Delivery): Promise<{ id: string; filename: string } | AttemptResult | { kind: 'as_text'; text: string }> {
    const copied = await this.media.ensureCopied(message);
    if (copied.kind !== 'attachment') {
      return { kind: 'as_text', text: copied.text ?? 'The customer sent a file the relay could not pass on.' };
    }
    const file = await this.blobs.read(message.tenantId, copied.blobId!);
    if (!file) {
      await this.database.repo(Message).update({ id: message.id }, { blobId: null });
      return { kind: 'retry', httpStatus: null, reason: 'The copied file was no longer in the relay\'s store; copying it again' };
    }
    if (message.ccAttachmentId) return { id: message.ccAttachmentId, filename: file.filename };
    let response;
    try {
      response = await this.client.uploadAttachment(delivery.target, { bytes: file.bytes, filename: file.filename, contentType: file.contentType });
    } catch (error) {
      if (error instanceof OutboundHttpError) return classifyNoAnswer(error, 60_000);
      throw error;
    }
    if (response.status === 413) {
      const size = `${(file.size / 1048576).toFixed(1)} MB`;
      const who = message.event === 'echo' ? 'The page' : 'The customer';
      return { kind: 'as_text', text: `${who} sent the file "${file.filename}" (${size}), which is too large for the contact center.` };
    }
    const result = classifyAnswer(response, 'attachment upload');
    if (result.kind !== 'delivered') return result;
    const id = response.json<{ id?: unknown }>()?.id;
    if (id === undefined || id === null) return { kind: 'final', httpStatus: response.status, reason: 'The contact center accepted the attachment upload but answered no attachment id' };
    const ccAttachmentId = String(id).slice(0, 64);
    await this.database.repo(Message).update({ id: message.id }, { ccAttachmentId });
    message.ccAttachmentId = ccAttachmentId;
    return { id: ccAttachmentId, filename: file.filename };
  }

  private async notify(message: Message, conversation: Conversation, names: CustomerNames, delivery: Delivery, attachment?: { id: string; filename: string }): Promise<AttemptResult> {
    const body = JSON.stringify(buildNotification(message, conversation, names, attachment));
    const headers: Record<string, string> = { 'x-relay-delivery-id': message.id, 'x-relay-event': message.event };
    if (delivery.signingSecret) Object.assign(headers, standardWebhookHeaders(delivery.signingSecret, message.id, body));
    const timer = this.metrics.deliveryDuration.startTimer();
    try {
      const response = await this.client.notify(delivery.target, body, headers, this.settings.notifyTimeoutMs);
      return classifyAnswer(response, 'notification');
    } catch (error) {
      if (error instanceof OutboundHttpError) return classifyNoAnswer(error, this.settings.notifyTimeoutMs);
      throw error;
    } finally {
      timer();
    }
  }

  /** The attempt row and the message's new state; a retry schedules the job that picks the conversation up again. */
  private async record(message: Message, startedAt: Date, result: AttemptResult, findNext: boolean): Promise<Message | null | undefined> {
    const now = new Date();
    const attempts = message.attempts + 1;
    const exhausted = result.kind === 'retry' && attempts >= this.settings.maxAttempts;
    const outcome = result.kind === 'delivered' ? 'delivered' : result.kind === 'final' || exhausted ? 'failed' : 'retry';
    this.metrics.deliveries.inc({ outcome });
    const error = result.kind === 'delivered' ? null : exhausted ? `Gave up after ${attempts} attempts over ${hoursSince(message.createdAt)}: ${result.reason}` : result.reason;
    const attempt: AttemptRow = {
      id: newId(), tenantId: message.tenantId, integrationId: message.integrationId, messageId: message.id, attempt: attempts,
      startedAt, durationMs: now.getTime() - startedAt.getTime(), httpStatus: result.httpStatus, outcome, error,
    };
    // Only when the job goes on to the next message: not after a retry, nor after the last retry gave up.
    const next = findNext && result.kind !== 'retry' && message.conversationId
      ? { conversationId: message.conversationId, now, leaseUntil: this.leaseUntil(now) }
      : undefined;
    const retryDelay = result.kind !== 'retry' || exhausted ? 0
      : result.retryAfterMs !== undefined ? Math.min(Math.max(result.retryAfterMs, 1_000), this.settings.maxRetryAfterMs)
      : this.settings.retryDelay(attempts);
    const state: NewState = result.kind === 'delivered' ? { status: 'delivered', at: now, remoteId: result.remoteId, text: message.text }
      : outcome === 'failed' ? { status: 'failed', at: now, error }
      : { status: 'retry', at: now, error, nextAttemptAt: new Date(now.getTime() + retryDelay) };
    const nextHead = await this.store.record(attempt, state, next);
    if (state.status === 'delivered') this.touchIntegration(message.integrationId, now);
    if (state.status === 'failed') this.logger.warn(`Message ${message.id} failed: ${error}`);
    if (state.status === 'retry' && message.conversationId) {
      await this.queue.add(DeliverConversation, { conversationId: message.conversationId }, {
        jobId: deliveryJobId(message.conversationId, message.id, attempts), delayMs: retryDelay,
      }).catch((enqueueError: Error) => this.logger.warn(`Retry of ${message.id} not enqueued (the sweeper will): ${enqueueError.message}`));
    }
    return nextHead;
  }

  private touchIntegration(integrationId: string, now: Date): void {
    if (now.getTime() - (this.lastDeliveryWritten.get(integrationId) ?? 0) < LAST_DELIVERY_WRITE_MS) return;
    this.lastDeliveryWritten.set(integrationId, now.getTime());
    this.database.repo(Integration).update({ id: integrationId }, { lastDeliveryAt: now })
      .catch((error: Error) => this.logger.warn(`Could not record lastDeliveryAt: ${error.message}`));
  }

  /** Held messages of an integration that was switched on again go back in line. */
  async releaseHeld(integrationId: string): Promise<number> {
    const now = new Date();
    const held = await this.database.repo(Message).find({ select: { conversationId: true }, where: { integrationId, direction: 'in', status: 'held' } });
    if (!held.length) return 0;
    await this.database.repo(Message).update({ integrationId, direction: 'in', status: 'held' }, { status: 'queued', nextAttemptAt: now });
    const conversations = [...new Set(held.map((m) => m.conversationId).filter((id): id is string => Boolean(id)))];
    await this.queue.addBulk(DeliverConversation, conversations.map((conversationId) => ({
      data: { conversationId }, jobId: `c-${conversationId}-release-${now.getTime()}`,
    })));
    return held.length;
  }
}

function hoursSince(date: Date): string {
  const hours = (Date.now() - date.getTime()) / 3600_000;
  return hours >= 1 ? `${Math.round(hours)} h` : `${Math.max(1, Math.round(hours * 60))} min`;
}

