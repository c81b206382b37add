import { createParamDecorator, ExecutionContext } from '@nestjs/common';

/** The logged-in tenant, as SessionGuard found it. */
export interface AuthenticatedTenant {
  id: string;
  email: string;
}

/** `@CurrentTenant() tenant: AuthenticatedTenant` on a route guarded by SessionGuard. */
export const CurrentTenant = createParamDecorator((_data: unknown, context: ExecutionContext): AuthenticatedTenant => {
  const tenant = context.switchToHttp().getRequest<{ tenant?: AuthenticatedTenant }>().tenant;
  if (!tenant) throw new Error('CurrentTenant used on a route without @UseGuards(SessionGuard)');
  return tenant;
});
