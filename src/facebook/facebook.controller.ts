import { Controller, Get, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiCookieAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AuthenticatedTenant, CurrentTenant } from '../accounts/current-tenant.decorator';
import { SessionGuard } from '../accounts/session.guard';
import { AppConfig } from '../config/app-config';
import { IntegrationsRepository } from '../integrations/integrations.repository';
import { IntegrationsService } from '../integrations/integrations.service';
import { FacebookConnection } from './facebook-connection';
import { FacebookLogin } from './facebook-login';

@ApiTags('facebook')
@ApiCookieAuth('relay_session')
@Controller('api/v1/facebook')
@UseGuards(SessionGuard)
export class FacebookController {
  constructor(
    private readonly login: FacebookLogin,
    private readonly connection: FacebookConnection,
    private readonly integrations: IntegrationsService,
    private readonly repository: IntegrationsRepository,
    private readonly config: AppConfig,
  ) {}

  @Get('connect')
  @ApiOperation({ summary: 'Redirects to the Facebook Login dialog. `?rerequest=1` asks again for declined permissions; `?reactivate=<integration id>` restores that integration after the login.' })
  async connect(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Req() req: Request,
    @Res() res: Response,
    @Query('reactivate') reactivate?: string,
    @Query('rerequest') rerequest?: string,
  ): Promise<void> {
    if (reactivate) await this.integrations.require(tenant.id, String(reactivate));
    await this.login.start(req, res, { tenantId: tenant.id, reactivate: reactivate ? String(reactivate) : undefined }, Boolean(rerequest) || Boolean(reactivate));
  }

  @Get('callback')
  @ApiOperation({ summary: 'Facebook\'s redirect after the Login dialog: stores the long-lived user token and sends the browser back to the UI.' })
  async callback(@CurrentTenant() tenant: AuthenticatedTenant, @Req() req: Request, @Res() res: Response): Promise<void> {
    const outcome = await this.login.finish(req, res, tenant.id);
    this.login.stateStore.clear(res);
    const target = await this.connection.complete(tenant.id, outcome);
    res.redirect(302, `${this.config.publicUrl}/#${target}`);
  }

  @Get('status')
  @ApiOperation({ summary: 'The connected Facebook user, granted/declined/missing permissions and the state of the user token.' })
  status(@CurrentTenant() tenant: AuthenticatedTenant) {
    return this.connection.status(tenant.id);
  }

  @Get('pages')
  @ApiOperation({ summary: 'Pages the connected Facebook user manages, with whether each is bound and why one cannot be bound.' })
  async pages(@CurrentTenant() tenant: AuthenticatedTenant) {
    const pages = await this.connection.pages(tenant.id);
    const owners = new Map((await this.repository.findBoundPages(pages.map((page) => page.id))).map((owner) => [owner.boundPageId!, owner]));
    return pages.map((page) => {
      const owner = owners.get(page.id);
      return {
        id: page.id,
        name: page.name,
        category: page.category ?? null,
        tasks: page.tasks,
        bound: Boolean(owner),
        boundTo: owner ? (owner.tenantId === tenant.id ? 'this_account' : 'another_account') : null,
        integrationId: owner && owner.tenantId === tenant.id ? owner.id : null,
        integrationName: owner && owner.tenantId === tenant.id ? owner.name : null,
        available: !page.unavailableReason,
        unavailableReason: page.unavailableReason,
      };
    });
  }
}

