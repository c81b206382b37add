import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A Facebook user a tenant logged in with; its long-lived user token is kept encrypted. */
@Entity('facebook_identities')
export class FacebookIdentity {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ name: 'tenant_id', type: 'varchar', length: 36 }) tenantId: string;
  @Column({ name: 'facebook_user_id', type: 'varchar', length: 64 }) facebookUserId: string;
  @Column({ type: 'varchar', length: 255 }) name: string;
  @Column({ name: 'user_token_enc', type: 'text' }) userTokenEnc: string;
  @Column({ name: 'token_expires_at', type: 'datetime', precision: 3, nullable: true }) tokenExpiresAt: Date | null;
  /** Comma-separated permissions Facebook reported as granted, and as declined. */
  @Column({ name: 'granted_scopes', type: 'text', nullable: true }) grantedScopes: string | null;
  @Column({ name: 'declined_scopes', type: 'text', nullable: true }) declinedScopes: string | null;
  @Column({ name: 'created_at', type: 'datetime', precision: 3 }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'datetime', precision: 3 }) updatedAt: Date;
}
