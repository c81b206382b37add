import { Column, Entity, PrimaryColumn } from 'typeorm';

export type AttemptOutcome = 'delivered' | 'retry' | 'failed';

/** One try at handing an inbound message to the contact center (the tenant's "Deliveries" view). */
@Entity('delivery_attempts')
export class DeliveryAttempt {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ name: 'tenant_id', type: 'varchar', length: 36 }) tenantId: string;
  @Column({ name: 'integration_id', type: 'varchar', length: 36 }) integrationId: string;
  @Column({ name: 'message_id', type: 'varchar', length: 36 }) messageId: string;
  @Column({ type: 'int' }) attempt: number;
  @Column({ name: 'started_at', type: 'datetime', precision: 3 }) startedAt: Date;
  @Column({ name: 'duration_ms', type: 'int' }) durationMs: number;
  @Column({ name: 'http_status', type: 'int', nullable: true }) httpStatus: number | null;
  @Column({ type: 'varchar', length: 16 }) outcome: AttemptOutcome;
  @Column({ type: 'text', nullable: true }) error: string | null;
}
