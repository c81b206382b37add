import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A fixed-window counter (e.g. `login:ip:1.2.3.4`), shared by every relay process through the database. */
@Entity('throttle_counters')
export class ThrottleCounter {
  @PrimaryColumn({ name: 'counter_key', type: 'varchar', length: 191 }) key: string;
  @Column({ type: 'int' }) hits: number;
  @Column({ name: 'resets_at', type: 'datetime', precision: 3 }) resetsAt: Date;
}
