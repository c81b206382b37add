import { Global, Module, OnModuleInit } from '@nestjs/common';
import { TenantLifecycle } from '../accounts/tenant-lifecycle';
import { AuditController } from './audit.controller';
import { AuditLog } from './audit-log';

/** The tenant's audit log. Global: any feature records actions through AuditLog.record(). */
@Global()
@Module({
  controllers: [AuditController],
  providers: [AuditLog],
  exports: [AuditLog],
})
export class AuditModule implements OnModuleInit {
  constructor(private readonly lifecycle: TenantLifecycle, private readonly audit: AuditLog) {}

  onModuleInit(): void {
    this.lifecycle.onTenantDeleted((tenantId) => this.audit.deleteForTenant(tenantId));
  }
}
