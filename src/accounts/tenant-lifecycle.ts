import { Injectable, Logger } from '@nestjs/common';

export type TenantDeletedHandler = (tenantId: string) => Promise<void>;

/**
 * Lets features clean up when an account is deleted (e.g. unsubscribe pages, drop integrations).
 * Register in onModuleInit. Handlers run in registration order, before the account's rows are
 * removed; one that throws is logged and the deletion goes on (the tenant asked to leave).
 */
@Injectable()
export class TenantLifecycle {
  private readonly logger = new Logger(TenantLifecycle.name);
  private readonly deletedHandlers: TenantDeletedHandler[] = [];

  onTenantDeleted(fn: TenantDeletedHandler): void {
    this.deletedHandlers.push(fn);
  }

  /** Called by the accounts feature only. */
  async runTenantDeleted(tenantId: string): Promise<void> {
    for (const handler of this.deletedHandlers) {
      try {
        await handler(tenantId);
      } catch (error) {
        this.logger.warn(`A cleanup step for deleted tenant ${tenantId} failed: ${(error as Error).message}`);
      }
    }
  }
}
