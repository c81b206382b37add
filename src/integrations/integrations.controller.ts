import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { ApiCookieAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthenticatedTenant, CurrentTenant } from '../accounts/current-tenant.decorator';
import { SessionGuard } from '../accounts/session.guard';
import { CreateIntegrationDto, UpdateIntegrationDto } from './integration.dto';
import { IntegrationView } from './integration-view';
import { IntegrationsService } from './integrations.service';

@ApiTags('integrations')
@ApiCookieAuth('relay_session')
@Controller('api/v1/integrations')
@UseGuards(SessionGuard)
export class IntegrationsController {
  constructor(private readonly integrations: IntegrationsService) {}

  @Post()
  @ApiOperation({ summary: 'Binds a page to an Open Channel account: verifies the Openchannel URL, subscribes the page, answers the Reply URL.' })
  create(@CurrentTenant() tenant: AuthenticatedTenant, @Body() body: CreateIntegrationDto): Promise<IntegrationView> {
    return this.integrations.create(tenant.id, body, tenant.email);
  }

  @Get()
  list(@CurrentTenant() tenant: AuthenticatedTenant): Promise<IntegrationView[]> {
    return this.integrations.list(tenant.id);
  }

  @Get(':id')
  get(@CurrentTenant() tenant: AuthenticatedTenant, @Param('id') id: string): Promise<IntegrationView> {
    return this.integrations.get(tenant.id, id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Changes settings; a changed Openchannel URL or API key is verified again first.' })
  update(@CurrentTenant() tenant: AuthenticatedTenant, @Param('id') id: string, @Body() body: UpdateIntegrationDto): Promise<IntegrationView> {
    return this.integrations.update(tenant.id, id, body, tenant.email);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Unsubscribes the page and deletes the integration with its conversations, messages and files.' })
  async remove(@CurrentTenant() tenant: AuthenticatedTenant, @Param('id') id: string): Promise<void> {
    await this.integrations.remove(tenant.id, id, tenant.email);
  }

  @Post(':id/rotate-reply-token')
  @HttpCode(200)
  @ApiOperation({ summary: 'Issues a new Reply URL; the old one stops working at once.' })
  rotate(@CurrentTenant() tenant: AuthenticatedTenant, @Param('id') id: string): Promise<IntegrationView> {
    return this.integrations.rotateReplyToken(tenant.id, id, tenant.email);
  }

  @Post(':id/reactivate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Restores the integration with the current Facebook login (fresh page token, page subscribed again). When that login is no longer valid, use GET /api/v1/facebook/connect?reactivate=<id>.' })
  reactivate(@CurrentTenant() tenant: AuthenticatedTenant, @Param('id') id: string): Promise<IntegrationView> {
    return this.integrations.reactivate(tenant.id, id, tenant.email);
  }
}
