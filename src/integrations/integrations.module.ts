import { Global, Module, OnModuleInit } from '@nestjs/common';
import { TenantLifecycle } from '../accounts/tenant-lifecycle';
import { FacebookConnection } from '../facebook/facebook-connection';
import { FacebookController } from '../facebook/facebook.controller';
import { FacebookIdentities } from '../facebook/facebook-identities';
import { FacebookLogin } from '../facebook/facebook-login';
import { FacebookPages } from '../facebook/facebook-pages';
import { IntegrationHealth } from './integration-health';
import { IntegrationsController } from './integrations.controller';
import { IntegrationsRepository } from './integrations.repository';
import { IntegrationsService } from './integrations.service';
import { TokenHealthCheck } from './token-health-check';

/**
 * Connecting Facebook (login, pages) and the tenant's integrations (bind, verify, edit, token
 * health). Exports what the inbound and reply features need: IntegrationHealth and IntegrationsRepository.
 */
@Global()
@Module({
  controllers: [FacebookController, IntegrationsController],
  providers: [
    FacebookLogin, FacebookIdentities, FacebookPages, FacebookConnection,
    IntegrationsRepository, IntegrationsService, IntegrationHealth, TokenHealthCheck,
  ],
  exports: [IntegrationHealth, IntegrationsRepository, FacebookPages, FacebookIdentities],
})
export class IntegrationsModule implements OnModuleInit {
  constructor(private readonly lifecycle: TenantLifecycle, private readonly integrations: IntegrationsService) {}

  onModuleInit(): void {
    this.lifecycle.onTenantDeleted((tenantId) => this.integrations.deleteAllForTenant(tenantId));
  }
}
