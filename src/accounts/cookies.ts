import type { Request, Response } from 'express';
import { AppConfig } from '../config/app-config';

export const SESSION_COOKIE = 'relay_session';
export const XSRF_COOKIE = 'XSRF-TOKEN';
export const XSRF_HEADER = 'x-xsrf-token';

/** Reads one cookie from the request header (the relay has no cookie-parser middleware). */
export function readCookie(request: Request, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  }
  return undefined;
}

/**
 * SameSite=Lax, not Strict: the Facebook Login dialog redirects back to the relay as a cross-site
 * top-level navigation, and that request must still carry the session its `state` is bound to.
 */
export function setSessionCookies(response: Response, config: AppConfig, token: string, csrf: string, maxAgeMs: number): void {
  const secure = config.publicUrl.startsWith('https:');
  response.cookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'lax', secure, path: '/', maxAge: maxAgeMs });
  response.cookie(XSRF_COOKIE, csrf, { httpOnly: false, sameSite: 'lax', secure, path: '/', maxAge: maxAgeMs });
}

export function clearSessionCookies(response: Response, config: AppConfig): void {
  const secure = config.publicUrl.startsWith('https:');
  response.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', secure, path: '/' });
  response.clearCookie(XSRF_COOKIE, { httpOnly: false, sameSite: 'lax', secure, path: '/' });
}
