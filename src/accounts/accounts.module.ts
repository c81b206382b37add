import { Global, Module } from '@nestjs/common';
import { AccountsCleanup } from './accounts-cleanup';
import { AccountsService } from './accounts.service';
import { AuthController } from './auth.controller';
import { MeController } from './me.controller';
import { SessionGuard } from './session.guard';
import { SessionStore } from './session.store';
import { TenantLifecycle } from './tenant-lifecycle';
import { Throttle } from './throttle';
import { VerificationCodes } from './verification-codes';

/** Global so any feature can use `@UseGuards(SessionGuard)` and inject TenantLifecycle. */
@Global()
@Module({
  controllers: [AuthController, MeController],
  providers: [AccountsService, AccountsCleanup, SessionStore, SessionGuard, TenantLifecycle, Throttle, VerificationCodes],
  exports: [SessionStore, SessionGuard, TenantLifecycle],
})
export class AccountsModule {}
