import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ApiCookieAuth, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { AuthenticatedTenant, CurrentTenant } from '../accounts/current-tenant.decorator';
import { SessionGuard } from '../accounts/session.guard';
import { RelayHttpError } from '../common/errors/http-errors';
import { IntegrationsRepository } from '../integrations/integrations.repository';
import { HealthWindow, IntegrationHealthFigures, IntegrationHealthReport } from './integration-health-figures';

export class HealthQuery {
  @ApiPropertyOptional({ enum: ['24h', '7d'], default: '24h' }) @IsOptional() @IsIn(['24h', '7d'], { message: 'window must be 24h or 7d' })
  window?: HealthWindow;
}

@ApiTags('monitoring')
@ApiCookieAuth()
@UseGuards(SessionGuard)
@Controller('api/v1/integrations/:id/health')
export class HealthFiguresController {
  constructor(private readonly integrations: IntegrationsRepository, private readonly figures: IntegrationHealthFigures) {}

  @Get()
  @ApiOperation({ summary: 'Token and subscription state, last event and delivery, failures, backlog, and in/out/failed/latency per bucket over 24 hours or 7 days.' })
  async health(@CurrentTenant() tenant: AuthenticatedTenant, @Param('id') id: string, @Query() query: HealthQuery): Promise<IntegrationHealthReport> {
    const integration = await this.integrations.findForTenant(tenant.id, id);
    if (!integration) throw new RelayHttpError(404, 'not_found', 'No such integration');
    return this.figures.report(integration, query.window ?? '24h');
  }
}
