import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiCookieAuth, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { AuthenticatedTenant, CurrentTenant } from '../accounts/current-tenant.decorator';
import { SessionGuard } from '../accounts/session.guard';
import { AuditLog } from './audit-log';

export class AuditQuery {
  @ApiPropertyOptional({ default: 1 }) @IsOptional() @Type(() => Number) @IsInt({ message: 'page must be a whole number' }) @Min(1, { message: 'page must be 1 or more' })
  page?: number;

  @ApiPropertyOptional({ default: 50, maximum: 200 }) @IsOptional() @Type(() => Number) @IsInt({ message: 'pageSize must be a whole number' })
  @Min(1, { message: 'pageSize must be between 1 and 200' }) @Max(200, { message: 'pageSize must be between 1 and 200' })
  pageSize?: number;
}

@ApiTags('audit')
@ApiCookieAuth()
@UseGuards(SessionGuard)
@Controller('api/v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditLog) {}

  /** The account's audit log, newest first. */
  @Get()
  list(@CurrentTenant() tenant: AuthenticatedTenant, @Query() query: AuditQuery) {
    return this.audit.list(tenant.id, query.page ?? 1, query.pageSize ?? 50);
  }
}
