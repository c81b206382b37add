import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { hashSecret, safeEqual } from '../common/crypto/secret-box';
import { RelayHttpError } from '../common/errors/http-errors';
import { bearerToken } from '../common/http/bearer-token';
import { AppConfig } from '../config/app-config';

const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="metrics"' };

/** With METRICS_TOKEN set, `/metrics` answers only `Authorization: Bearer <token>`; unset, it is open. */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  constructor(private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const expected = this.config.metricsToken;
    if (!expected) return true;
    const sent = bearerToken(context.switchToHttp().getRequest<Request>().headers.authorization);
    if (!sent) {
      throw new RelayHttpError(401, 'missing_metrics_token', 'This relay requires a metrics token: send Authorization: Bearer <METRICS_TOKEN> (in Prometheus: authorization.credentials).', CHALLENGE);
    }
    // Hashes of equal length: the comparison tells nothing about the token's length either.
    if (!safeEqual(hashSecret(sent), hashSecret(expected))) {
      throw new RelayHttpError(401, 'invalid_metrics_token', 'The metrics token is not valid: use the METRICS_TOKEN this relay was started with.', CHALLENGE);
    }
    return true;
  }
}
