import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../database/column-types';

export type Direction = 'in' | 'out';

/**
 * Inbound (Facebook → contact center): queued → delivered | failed (final 4xx or retries exhausted,
 * replayable) | skipped (kept, not forwarded). Outbound (contact center → Facebook):
 * sending → sent → delivered → read | failed.
 */
export type MessageStatus = 'queued' | 'delivered' | 'failed' | 'skipped' | 'held' | 'sending' | 'sent' | 'read';

@Entity('messages')
export class Message {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ name: 'tenant_id', type: 'varchar', length: 36 }) tenantId: string;
  @Column({ name: 'integration_id', type: 'varchar', length: 36 }) integrationId: string;
  @Column({ name: 'conversation_id', type: 'varchar', length: 36, nullable: true }) conversationId: string | null;
  @Column({ type: 'varchar', length: 3 }) direction: Direction;
  /** What it is: text, attachment, postback, echo, post, comment, reaction, note, ... */
  @Column({ type: 'varchar', length: 24 }) kind: string;
  /** Sent to the contact center as X-Relay-Event. */
  @Column({ type: 'varchar', length: 24 }) event: string;
  @Column({ type: 'text', nullable: true }) text: string | null;
  /** JSON with what delivery needs beyond the text (attachment source, names, thread, context). */
  @Column({ type: 'text', nullable: true }) payload: string | null;
  @Column({ type: 'varchar', length: 16 }) status: MessageStatus;
  @Column({ type: 'int' }) attempts: number;
  @Column({ name: 'last_error', type: 'text', nullable: true }) lastError: string | null;
  @Column({ name: 'next_attempt_at', type: 'datetime', precision: 3, nullable: true }) nextAttemptAt: Date | null;
  /** Idempotency key (page id + Facebook's event key, or reply token hash + contact-center id); unique. */
  @Column({ name: 'dedup_key', type: 'varchar', length: 191, nullable: true }) dedupKey: string | null;
  /** Facebook's id for it: message mid, comment id, post id. */
  @Column({ name: 'external_id', type: 'varchar', length: 191, nullable: true }) externalId: string | null;
  /** The contact center's id for it once delivered (interaction or attachment id). */
  @Column({ name: 'remote_id', type: 'varchar', length: 64, nullable: true }) remoteId: string | null;
  @Column({ name: 'blob_id', type: 'varchar', length: 36, nullable: true }) blobId: string | null;
  /** Facebook's event time in epoch ms: the order of a conversation. */
  @Column({ name: 'occurred_at', type: 'bigint', transformer: bigintNumber }) occurredAt: number;
  /** Position inside one Facebook event (text first, then each attachment). */
  @Column({ type: 'int' }) part: number;
  @Column({ name: 'created_at', type: 'datetime', precision: 3 }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'datetime', precision: 3 }) updatedAt: Date;
  @Column({ name: 'delivered_at', type: 'datetime', precision: 3, nullable: true }) deliveredAt: Date | null;
  /** Inbound delivery lease: while in the future, one worker owns this message's delivery. */
  @Column({ name: 'locked_until', type: 'datetime', precision: 3, nullable: true }) lockedUntil?: Date | null;
  /** The contact center's attachment id once the file is uploaded (kept so a retry does not upload again). */
  @Column({ name: 'cc_attachment_id', type: 'varchar', length: 64, nullable: true }) ccAttachmentId?: string | null;
}
