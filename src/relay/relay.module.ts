import { Global, Module } from '@nestjs/common';
import { DeliveryService } from './delivery.service';
import { DeliverySettings } from './delivery.settings';
import { IngestService } from './ingest.service';
import { MediaService } from './media.service';
import { MessagesController } from './messages.controller';
import { MessageHistory } from './message-history';
import { PageIntegrations } from './page-integrations';
import { ProfileService } from './profile.service';
import { RelayMetrics } from './relay-metrics';
import { DeliverySweeper } from './sweeper';
import { WebhooksFirst } from './webhooks-first';

/**
 * Inbound relay: ingestion of webhook events, delivery to contact centers, retries, the sweeper,
 * the profile cache, and the tenant's message history and replay. Global so other features can
 * call PageIntegrations.invalidate() and DeliveryService.replay()/releaseHeld() without imports.
 */
@Global()
@Module({
  controllers: [MessagesController],
  providers: [WebhooksFirst, DeliverySettings, RelayMetrics, PageIntegrations, IngestService, MediaService, ProfileService, DeliveryService, DeliverySweeper, MessageHistory],
  exports: [WebhooksFirst, DeliverySettings, RelayMetrics, PageIntegrations, IngestService, DeliveryService, DeliverySweeper, MessageHistory],
})
export class RelayModule {}
