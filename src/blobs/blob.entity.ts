import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Attachment bytes the relay keeps for a while: inbound media copied from Facebook, agent files. */
@Entity('blobs')
export class Blob {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ name: 'tenant_id', type: 'varchar', length: 36 }) tenantId: string;
  @Column({ name: 'integration_id', type: 'varchar', length: 36, nullable: true }) integrationId: string | null;
  @Column({ name: 'content_type', type: 'varchar', length: 127 }) contentType: string;
  @Column({ type: 'varchar', length: 255 }) filename: string;
  @Column({ type: 'int' }) size: number;
  @Column({ type: 'varchar', length: 64 }) sha256: string;
  @Column({ type: 'blob', select: false }) data: Buffer;
  @Column({ name: 'expires_at', type: 'datetime', precision: 3, nullable: true }) expiresAt: Date | null;
  @Column({ name: 'created_at', type: 'datetime', precision: 3 }) createdAt: Date;
}
