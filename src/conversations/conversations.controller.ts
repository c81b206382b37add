import { Controller, Get, HttpCode, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import { ApiCookieAuth, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AuthenticatedTenant, CurrentTenant } from '../accounts/current-tenant.decorator';
import { SessionGuard } from '../accounts/session.guard';
import { AuditLog } from '../audit/audit-log';
import { BlobStore } from '../blobs/blob-store';
import { RelayHttpError } from '../common/errors/http-errors';
import { Database } from '../database/database';
import { Message } from '../relay/message.entity';
import { ConversationHistory } from './conversation-history';
import { ConversationQuery, ThreadQuery } from './conversation-query.dto';
import { Deliveries } from './deliveries';

/** Types a browser may show inline from the relay's own origin; anything else is downloaded. */
const INLINE_TYPES = /^(image\/(png|jpe?g|gif|webp|bmp)|video\/(mp4|webm|ogg|quicktime)|audio\/[a-z0-9.+-]+|application\/pdf|text\/plain)$/i;

@ApiTags('conversations')
@ApiCookieAuth()
@UseGuards(SessionGuard)
@Controller('api/v1')
export class ConversationsController {
  constructor(
    private readonly history: ConversationHistory,
    private readonly deliveries: Deliveries,
    private readonly database: Database,
    private readonly blobs: BlobStore,
    private readonly audit: AuditLog,
  ) {}

  @Get('conversations')
  list(@CurrentTenant() tenant: AuthenticatedTenant, @Query() query: ConversationQuery) {
    return this.history.list(tenant.id, query);
  }

  /** The latest messages of a thread, oldest first; `earlier` names the page before them (null: none). */
  @Get('conversations/:id')
  thread(@CurrentTenant() tenant: AuthenticatedTenant, @Param('id') id: string, @Query() query: ThreadQuery) {
    return this.history.thread(tenant.id, id, query);
  }

  /** A message's file from the blob store while it is kept. */
  @Get('messages/:messageId/attachment')
  async attachment(@CurrentTenant() tenant: AuthenticatedTenant, @Param('messageId') messageId: string, @Res() res: Response): Promise<void> {
    const message = await this.database.repo(Message).findOne({ where: { id: messageId, tenantId: tenant.id }, select: { id: true, kind: true, blobId: true } });
    if (!message || (!message.blobId && message.kind !== 'attachment')) throw new RelayHttpError(404, 'not_found', 'No message with a file under this id in your account');
    const meta = message.blobId ? await this.blobs.find(tenant.id, message.blobId) as ({ expiresAt?: Date | null } & object) | null : null;
    const file = meta && !(meta.expiresAt && new Date(meta.expiresAt).getTime() < Date.now()) ? await this.blobs.read(tenant.id, message.blobId!) : null;
    if (!file) throw new RelayHttpError(410, 'file_gone', 'This file is no longer kept by the relay (files are kept for a limited time, or it could not be copied from Facebook).');
    const inline = INLINE_TYPES.test(file.contentType);
    res.setHeader('Content-Type', inline ? file.contentType : 'application/octet-stream');
    res.setHeader('Content-Length', String(file.bytes.length));
    res.setHeader('Content-Disposition', `${inline ? 'inline' : 'attachment'}; filename="${asciiName(file.filename)}"; filename*=UTF-8''${encodeURIComponent(file.filename)}`);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
    res.setHeader('Cache-Control', 'private, max-age=300');
    res.end(file.bytes);
  }

  @Get('integrations/:id/messages/:messageId/attempts')
  attempts(@CurrentTenant() tenant: AuthenticatedTenant, @Param('id') id: string, @Param('messageId') messageId: string) {
    return this.deliveries.attempts(tenant.id, id, messageId);
  }

  /** Every failed inbound message of the integration back in line (202: delivery happens later). */
  @Post('integrations/:id/messages/replay-failed')
  @HttpCode(202)
  async replayFailed(@CurrentTenant() tenant: AuthenticatedTenant, @Param('id') id: string) {
    const count = await this.deliveries.replayFailed(tenant.id, id);
    if (count) await this.audit.record(tenant.id, tenant.email, 'messages.replayed_bulk', { integrationId: id, details: { count } });
    return { count };
  }
}

function asciiName(filename: string): string {
  return filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
}
