import { DynamicModule, Module, Type } from '@nestjs/common';
import { BlobsModule } from './blobs/blobs.module';
import { CommonModule } from './common/common.module';
import { ContactCenterModule } from './contact-center/contact-center.module';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { GraphModule } from './facebook/graph.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { QueueModule } from './queue/queue.module';

/** The relay's feature modules. A new feature adds its module here. */
export const featureModules: Type[] = [];

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
