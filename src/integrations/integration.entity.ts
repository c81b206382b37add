import { Column, Entity, PrimaryColumn } from 'typeorm';
import { booleanColumn } from '../database/column-types';

/**
 * active: forwarding; reauth_required: Facebook rejected the page token (190 family);
 * unsubscribed: Facebook removed the app from the page; superseded: the page was bound again
 * by a newer integration. `enabled` is the tenant's own switch, independent of status.
 */
export type IntegrationStatus = 'active' | 'reauth_required' | 'unsubscribed' | 'superseded';

@Entity('integrations')
export class Integration {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ name: 'tenant_id', type: 'varchar', length: 36 }) tenantId: string;
  @Column({ type: 'varchar', length: 100 }) name: string;
  @Column({ name: 'page_id', type: 'varchar', length: 64 }) pageId: string;
  @Column({ name: 'page_name', type: 'varchar', length: 255 }) pageName: string;
  /** Equals pageId while this integration owns the page; NULL once superseded (unique: one owner per page). */
  @Column({ name: 'bound_page_id', type: 'varchar', length: 64, nullable: true }) boundPageId: string | null;
  @Column({ name: 'facebook_identity_id', type: 'varchar', length: 36, nullable: true }) facebookIdentityId: string | null;
  @Column({ name: 'page_token_enc', type: 'text', nullable: true }) pageTokenEnc: string | null;
  /** The Receive URL may carry a proxy token in its query, so it is encrypted like a secret. */
  @Column({ name: 'openchannel_url_enc', type: 'text' }) openchannelUrlEnc: string;
  @Column({ name: 'api_key_enc', type: 'text', nullable: true }) apiKeyEnc: string | null;
  @Column({ name: 'reply_token_hash', type: 'varchar', length: 64 }) replyTokenHash: string;
  @Column({ name: 'reply_token_enc', type: 'text' }) replyTokenEnc: string;
  @Column({ name: 'signing_secret_enc', type: 'text', nullable: true }) signingSecretEnc: string | null;
  @Column({ name: 'wall_posts', type: 'boolean', transformer: booleanColumn }) wallPosts: boolean;
  @Column({ type: 'boolean', transformer: booleanColumn }) enabled: boolean;
  @Column({ type: 'varchar', length: 32 }) status: IntegrationStatus;
  @Column({ name: 'status_reason', type: 'text', nullable: true }) statusReason: string | null;
  @Column({ name: 'human_agent_tag', type: 'boolean', transformer: booleanColumn }) humanAgentTag: boolean;
  @Column({ name: 'forward_reactions', type: 'boolean', transformer: booleanColumn }) forwardReactions: boolean;
  @Column({ name: 'forward_edits', type: 'boolean', transformer: booleanColumn }) forwardEdits: boolean;
  @Column({ name: 'page_subscribed', type: 'boolean', transformer: booleanColumn }) pageSubscribed: boolean;
  @Column({ name: 'last_event_at', type: 'datetime', precision: 3, nullable: true }) lastEventAt: Date | null;
  @Column({ name: 'last_delivery_at', type: 'datetime', precision: 3, nullable: true }) lastDeliveryAt: Date | null;
  @Column({ name: 'last_checked_at', type: 'datetime', precision: 3, nullable: true }) lastCheckedAt: Date | null;
  @Column({ name: 'created_at', type: 'datetime', precision: 3 }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'datetime', precision: 3 }) updatedAt: Date;
  /** Schedule and after-hours message (JSON, src/availability/schedule.ts); NULL = the defaults, switched off. */
  @Column({ type: 'text', nullable: true }) availability?: string | null;
}
