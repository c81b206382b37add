import { DynamicModule, Module, Type } from '@nestjs/common';
import { AccountsModule } from './accounts/accounts.module';
import { MailModule } from './mail/mail.module';
import { WebModule } from './web/web.module';
import { BlobsModule } from './blobs/blobs.module';
import { CommonModule } from './common/common.module';
import { ContactCenterModule } from './contact-center/contact-center.module';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { GraphModule } from './facebook/graph.module';
import { HealthModule } from './health/health.module';
import { IntegrationsModule } from './integrations/integrations.module';
import { MetricsModule } from './metrics/metrics.module';
import { QueueModule } from './queue/queue.module';
import { RepliesModule } from './replies/replies.module';
import { RelayModule } from './relay/relay.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { AuditModule } from './audit/audit.module';
import { MonitoringModule } from './monitoring/monitoring.module';
import { RetentionModule } from './retention/retention.module';
import { AvailabilityModule } from './availability/availability.module';
import { ConversationsModule } from './conversations/conversations.module';

/** The relay's feature modules. A new feature adds its module here. */
export const featureModules: Type[] = [MailModule, AccountsModule, WebModule, RepliesModule, IntegrationsModule, RelayModule, WebhooksModule, AuditModule, MonitoringModule, RetentionModule, ConversationsModule, AvailabilityModule];

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, extra: Type[] = []): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        CommonModule,
        DatabaseModule,
        QueueModule,
        MetricsModule,
        HealthModule,
        BlobsModule,
        GraphModule,
        ContactCenterModule,
        ...featureModules,
        ...extra,
      ],
    };
  }
}
