import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { hashSecret, safeEqual } from '../common/crypto/secret-box';
import { RelayHttpError } from '../common/errors/http-errors';
import { readCookie, SESSION_COOKIE, XSRF_COOKIE, XSRF_HEADER } from './cookies';
import { AuthenticatedTenant } from './current-tenant.decorator';
import { Session } from './session.entity';
import { SessionStore } from './session.store';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface SessionRequest extends Request {
  tenant?: AuthenticatedTenant;
  relaySession?: Session;
}

/**
 * Lets a request through when it carries a live session cookie; answers 401 otherwise. On
 * state-changing methods the `X-XSRF-TOKEN` header must equal the `XSRF-TOKEN` cookie and belong
 * to this session (a token planted by another site or another session does not pass).
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(private readonly sessions: SessionStore) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<SessionRequest>();
    const token = readCookie(request, SESSION_COOKIE);
    const found = token ? await this.sessions.find(token) : null;
    if (!found) throw new RelayHttpError(401, 'not_logged_in', 'You are not logged in, or your session has ended. Log in again.');
    if (!SAFE_METHODS.has(request.method)) checkCsrf(request, found.session);
    request.tenant = found.tenant;
    request.relaySession = found.session;
    return true;
  }
}

export function checkCsrf(request: Request, session: Session): void {
  const header = request.headers[XSRF_HEADER];
  const sent = Array.isArray(header) ? header[0] : header;
  const cookie = readCookie(request, XSRF_COOKIE);
  if (!sent || !cookie || !safeEqual(sent, cookie) || !safeEqual(hashSecret(sent), session.csrfHash)) {
    throw new RelayHttpError(403, 'csrf_failed', 'This request is missing its security token (X-XSRF-TOKEN header matching the XSRF-TOKEN cookie). Reload the page and try again.');
  }
}
