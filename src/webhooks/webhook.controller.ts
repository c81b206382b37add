import { Controller, Get, Header, Query } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { safeEqual } from '../common/crypto/secret-box';
import { RelayHttpError } from '../common/errors/http-errors';
import { AppConfig } from '../config/app-config';

/**
 * Facebook's subscription check for the webhook callback (facebook-platform.md §1). The event POSTs
 * to the same path are answered by WebhookIntake, in front of the framework.
 */
@ApiExcludeController()
@Controller('webhooks/facebook')
export class WebhookController {
  constructor(private readonly config: AppConfig) {}

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
}
