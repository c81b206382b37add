import { Module } from '@nestjs/common';
import { RelayModule } from '../relay/relay.module';
import { InboxProcessor } from './inbox-processor';
import { WebhookController } from './webhook.controller';
import { WebhookInbox } from './webhook-inbox';
import { WebhookIntake } from './webhook-intake';

@Module({
  imports: [RelayModule],
  controllers: [WebhookController],
  providers: [WebhookInbox, InboxProcessor, WebhookIntake],
  exports: [WebhookInbox, InboxProcessor, WebhookIntake],
})
export class WebhooksModule {}
