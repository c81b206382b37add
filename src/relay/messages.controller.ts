import { Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiCookieAuth, ApiTags } from '@nestjs/swagger';
import { AuthenticatedTenant, CurrentTenant } from '../accounts/current-tenant.decorator';
import { SessionGuard } from '../accounts/session.guard';
import { AuditLog } from '../audit/audit-log';
import { DeliveryService } from './delivery.service';
import { MessageHistory, MessageHistoryQuery } from './message-history';

@ApiTags('messages')
@ApiCookieAuth()
@UseGuards(SessionGuard)
@Controller('api/v1/integrations/:id/messages')
export class MessagesController {
  constructor(private readonly history: MessageHistory, private readonly delivery: DeliveryService, private readonly audit: AuditLog) {}

  @Get()
  list(@CurrentTenant() tenant: AuthenticatedTenant, @Param('id') id: string, @Query() query: MessageHistoryQuery) {
    return this.history.list(tenant.id, id, query);
  }

  /** A failed inbound message goes back in line for the contact center (202: delivery happens later). */
  @Post(':messageId/replay')
  @HttpCode(202)
  async replay(@CurrentTenant() tenant: AuthenticatedTenant, @Param('id') id: string, @Param('messageId') messageId: string) {
    await this.history.integrationOf(tenant.id, id);
    const message = await this.delivery.replay(tenant.id, messageId, id);
    await this.audit.record(tenant.id, tenant.email, 'message.replayed', { integrationId: id, details: { messageId: message.id } });
    return { id: message.id, status: message.status };
  }
}
