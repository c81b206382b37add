import { Column, Entity, PrimaryColumn } from 'typeorm';

export type AlertKind = 'reauth_required' | 'unsubscribed' | 'delivery_failing' | 'superseded';

/**
 * One problem of one integration, from when it was noticed until it recovered. The owner is
 * e-mailed once per incident (notifiedAt), never per message or per check.
 */
@Entity('alert_incidents')
export class AlertIncident {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ name: 'tenant_id', type: 'varchar', length: 36 }) tenantId: string;
  @Column({ name: 'integration_id', type: 'varchar', length: 36 }) integrationId: string;
  @Column({ type: 'varchar', length: 32 }) kind: AlertKind;
  /** `<integrationId>:<kind>` while open, NULL once closed: a unique index makes "one open incident per kind" hold across processes. */
  @Column({ name: 'open_key', type: 'varchar', length: 80, nullable: true }) openKey: string | null;
  @Column({ type: 'text', nullable: true }) reason: string | null;
  @Column({ name: 'opened_at', type: 'datetime', precision: 3 }) openedAt: Date;
  @Column({ name: 'notified_at', type: 'datetime', precision: 3, nullable: true }) notifiedAt: Date | null;
  @Column({ name: 'closed_at', type: 'datetime', precision: 3, nullable: true }) closedAt: Date | null;
}
