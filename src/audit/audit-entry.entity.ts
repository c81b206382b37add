import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One thing a tenant did (who, what, when), for the account's audit log. */
@Entity('audit_entries')
export class AuditEntry {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ name: 'tenant_id', type: 'varchar', length: 36 }) tenantId: string;
  @Column({ type: 'datetime', precision: 3 }) at: Date;
  /** The e-mail of the logged-in account that acted ('system' for the relay itself). */
  @Column({ type: 'varchar', length: 254 }) actor: string;
  @Column({ type: 'varchar', length: 48 }) action: string;
  @Column({ name: 'integration_id', type: 'varchar', length: 36, nullable: true }) integrationId: string | null;
  /** Kept with the entry so the log still reads well after the integration is deleted. */
  @Column({ name: 'integration_name', type: 'varchar', length: 100, nullable: true }) integrationName: string | null;
  /** JSON object: changed field names, counts, message ids. Never secrets. */
  @Column({ type: 'text', nullable: true }) details: string | null;
}
