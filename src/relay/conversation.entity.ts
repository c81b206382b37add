import { Column, Entity, PrimaryColumn } from 'typeorm';

export type Channel = 'messenger' | 'wall';

/** One customer on one page: a Messenger chat (threadId '') or a wall thread (threadId = post id). */
@Entity('conversations')
export class Conversation {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ name: 'tenant_id', type: 'varchar', length: 36 }) tenantId: string;
  @Column({ name: 'integration_id', type: 'varchar', length: 36 }) integrationId: string;
  @Column({ type: 'varchar', length: 16 }) channel: Channel;
  /** PSID for Messenger, the author's id for wall posts and comments. */
  @Column({ name: 'customer_id', type: 'varchar', length: 64 }) customerId: string;
  @Column({ name: 'thread_id', type: 'varchar', length: 128 }) threadId: string;
  @Column({ name: 'customer_name', type: 'varchar', length: 255, nullable: true }) customerName: string | null;
  @Column({ name: 'first_name', type: 'varchar', length: 128, nullable: true }) firstName: string | null;
  @Column({ name: 'last_name', type: 'varchar', length: 128, nullable: true }) lastName: string | null;
  /** When the customer last wrote (opens Facebook's 24-hour window). */
  @Column({ name: 'last_customer_message_at', type: 'datetime', precision: 3, nullable: true }) lastCustomerMessageAt: Date | null;
  /** The customer's latest comment in a wall thread: where public replies go. */
  @Column({ name: 'last_customer_comment_id', type: 'varchar', length: 128, nullable: true }) lastCustomerCommentId: string | null;
  @Column({ name: 'created_at', type: 'datetime', precision: 3 }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'datetime', precision: 3 }) updatedAt: Date;
  /** Last Messenger profile lookup (success or not): names are looked up again later when they are missing. */
  @Column({ name: 'profile_checked_at', type: 'datetime', precision: 3, nullable: true }) profileCheckedAt?: Date | null;
  /** When the after-hours message last went to this customer (one per interval; src/availability). */
  @Column({ name: 'after_hours_sent_at', type: 'datetime', precision: 3, nullable: true }) afterHoursSentAt?: Date | null;
}
