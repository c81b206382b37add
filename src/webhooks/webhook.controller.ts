import { Controller, Get, Header, HttpCode, Logger, Post, Query, Req } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { RawBodyRequest } from '@nestjs/common';
import type { Request } from 'express';
import { safeEqual } from '../common/crypto/secret-box';
import { RelayHttpError } from '../common/errors/http-errors';
import { AppConfig } from '../config/app-config';
import { IngestService } from '../relay/ingest.service';
import { RelayMetrics } from '../relay/relay-metrics';
import { classifyWebhook, WebhookFormatError } from './classify';
import { verifyHubSignature } from './signature';

/**
 * Facebook's webhook callback (facebook-platform.md §1): the subscription check, and event POSTs
 * that are verified on the raw bytes, stored in one transaction and only then acknowledged.
 */
@ApiExcludeController()
@Controller('webhooks/facebook')
export class WebhookController {
  private readonly logger = new Logger('Webhooks');

  constructor(
    private readonly config: AppConfig,
    private readonly ingest: IngestService,
    private readonly metrics: RelayMetrics,
  ) {}

  @Get()
  @Header('content-type', 'text/plain; charset=utf-8')
  verify(@Query() query: Record<string, string | undefined>): string {
    // PHP-style proxies turn "hub.mode" into "hub_mode": accept both.
    const mode = query['hub.mode'] ?? query.hub_mode;
    const token = query['hub.verify_token'] ?? query.hub_verify_token ?? '';
    const challenge = query['hub.challenge'] ?? query.hub_challenge;
    if (mode !== 'subscribe' || !challenge || !safeEqual(String(token), this.config.facebook.verifyToken)) {
      throw new RelayHttpError(403, 'verification_failed', 'The verify token does not match the relay\'s FACEBOOK_VERIFY_TOKEN');
    }
    return String(challenge);
  }

  @Post()
  @HttpCode(200)
  async receive(@Req() req: RawBodyRequest<Request>): Promise<{ ok: true }> {
    const raw = req.rawBody;
    if (!raw || !verifyHubSignature(raw, req.headers['x-hub-signature-256'], this.config.facebook.appSecret)) {
      this.metrics.rejected.inc({ reason: 'signature' });
      this.logger.warn(`Rejected a webhook POST: ${req.headers['x-hub-signature-256'] ? 'wrong' : 'missing'} X-Hub-Signature-256`);
      throw new RelayHttpError(401, 'invalid_signature', 'The X-Hub-Signature-256 header is missing or does not match the body');
    }
    let parsed;
    try {
      const body = typeof req.body === 'object' && req.body !== null && !Buffer.isBuffer(req.body) ? req.body : JSON.parse(raw.toString('utf8'));
      parsed = classifyWebhook(body, this.config.facebook.appId);
    } catch (error) {
      this.metrics.rejected.inc({ reason: 'format' });
      const message = error instanceof WebhookFormatError ? error.message : 'The request body is not valid JSON';
      throw new RelayHttpError(400, 'bad_webhook', message);
    }
    await this.ingest.ingest(parsed);
    return { ok: true };
  }
}
