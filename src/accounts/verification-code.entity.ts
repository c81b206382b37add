import { Column, Entity, PrimaryColumn } from 'typeorm';

export type CodePurpose = 'activate' | 'reset';

/** The one live e-mailed code per tenant and purpose; stored as a keyed hash, never in clear. */
@Entity('verification_codes')
export class VerificationCode {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ name: 'tenant_id', type: 'varchar', length: 36 }) tenantId: string;
  @Column({ type: 'varchar', length: 16 }) purpose: CodePurpose;
  @Column({ name: 'code_hash', type: 'varchar', length: 64 }) codeHash: string;
  @Column({ type: 'int' }) attempts: number;
  @Column({ name: 'expires_at', type: 'datetime', precision: 3 }) expiresAt: Date;
  @Column({ name: 'created_at', type: 'datetime', precision: 3 }) createdAt: Date;
}
