import { Controller, Get, Header, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { hashSecret, safeEqual } from '../common/crypto/secret-box';
import { RelayHttpError } from '../common/errors/http-errors';
import { AppConfig } from '../config/app-config';
import { MetricsService } from './metrics.service';

/** Prometheus's scrape endpoint; with METRICS_TOKEN set, only for `Authorization: Bearer <token>`. */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService, private readonly config: AppConfig) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async scrape(@Req() request: Request, @Res() response: Response): Promise<void> {
    if (this.config.metricsToken) this.authorize(request, response, this.config.metricsToken);
    response.setHeader('Content-Type', this.metrics.registry.contentType);
    response.send(await this.metrics.registry.metrics());
  }

  private authorize(request: Request, response: Response, token: string): void {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    // Hashes of equal length: the comparison tells nothing about the token's length either.
    if (match && safeEqual(hashSecret(match[1]), hashSecret(token))) return;
    response.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
    throw match
      ? new RelayHttpError(401, 'invalid_metrics_token', 'The metrics token is not valid: use the METRICS_TOKEN this relay was started with.')
      : new RelayHttpError(401, 'missing_metrics_token', 'This relay requires a metrics token: send Authorization: Bearer <METRICS_TOKEN> (in Prometheus: authorization.credentials).');
  }
}
