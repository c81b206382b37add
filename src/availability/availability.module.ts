import { Module } from '@nestjs/common';
import { AfterHoursService } from './after-hours.service';

/**
 * Availability (uContact's Schedule and After Hours message): the schedule itself is a field of the
 * integration (checked in memory by ingestion); this module sends the after-hours answers.
 */
@Module({
  providers: [AfterHoursService],
  exports: [AfterHoursService],
})
export class AvailabilityModule {}
