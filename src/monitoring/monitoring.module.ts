import { Global, Module } from '@nestjs/common';
import { Alerts } from './alerts';
import { DeliveryFailingCheck } from './delivery-failing-check';
import { DeliveryFigures } from './delivery-figures';
import { HealthFiguresController } from './health.controller';
import { IntegrationHealthFigures } from './integration-health-figures';

/**
 * Integration health figures and alert incidents. Global: IntegrationHealth opens and closes
 * incidents through Alerts, and the integration list reads DeliveryFigures.
 */
@Global()
@Module({
  controllers: [HealthFiguresController],
  providers: [Alerts, DeliveryFigures, IntegrationHealthFigures, DeliveryFailingCheck],
  exports: [Alerts, DeliveryFigures, IntegrationHealthFigures, DeliveryFailingCheck],
})
export class MonitoringModule {}
