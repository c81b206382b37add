import { Body, Controller, Delete, Get, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiCookieAuth, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AppConfig } from '../config/app-config';
import { AccountsService } from './accounts.service';
import { clearSessionCookies } from './cookies';
import { AuthenticatedTenant, CurrentTenant } from './current-tenant.decorator';
import { ChangePasswordDto, DeleteAccountDto, MeDto } from './dto';
import { SessionGuard, SessionRequest } from './session.guard';

@ApiTags('accounts')
@ApiCookieAuth('relay_session')
@ApiResponse({ status: 401, description: 'Not logged in' })
@Controller('api/v1/me')
@UseGuards(SessionGuard)
export class MeController {
  constructor(private readonly accounts: AccountsService, private readonly config: AppConfig) {}

  @Get()
  @ApiOperation({ summary: 'The logged-in account' })
  @ApiResponse({ status: 200, type: MeDto })
  me(@CurrentTenant() tenant: AuthenticatedTenant): MeDto {
    return { id: tenant.id, email: tenant.email };
  }

  @Post('password')
  @HttpCode(204)
  @ApiHeader({ name: 'X-XSRF-TOKEN', required: true })
  @ApiOperation({ summary: 'Change the password; other sessions of the account end' })
  @ApiResponse({ status: 204 })
  @ApiResponse({ status: 400, description: 'wrong_password (current password) or weak_password (new password)' })
  async changePassword(@CurrentTenant() tenant: AuthenticatedTenant, @Req() request: SessionRequest, @Body() body: ChangePasswordDto): Promise<void> {
    await this.accounts.changePassword(tenant.id, request.relaySession!.id, body.currentPassword, body.newPassword);
  }

  @Delete()
  @HttpCode(204)
  @ApiHeader({ name: 'X-XSRF-TOKEN', required: true })
  @ApiOperation({ summary: 'Delete the account: its integrations are removed (pages unsubscribed) and every session ends' })
  @ApiResponse({ status: 204 })
  @ApiResponse({ status: 400, description: 'wrong_password' })
  async delete(@CurrentTenant() tenant: AuthenticatedTenant, @Body() body: DeleteAccountDto, @Res({ passthrough: true }) response: Response): Promise<void> {
    await this.accounts.deleteAccount(tenant.id, body.password);
    clearSessionCookies(response, this.config);
  }
}
