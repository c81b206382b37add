import { Module } from '@nestjs/common';
import { RetentionService } from './retention.service';

/** RETENTION_DAYS: the daily job that clears old message bodies, files and delivery attempts. */
@Module({ providers: [RetentionService], exports: [RetentionService] })
export class RetentionModule {}
