import { Module } from '@nestjs/common';
import { RelayModule } from '../relay/relay.module';
import { WebhookController } from './webhook.controller';

@Module({ imports: [RelayModule], controllers: [WebhookController] })
export class WebhooksModule {}
