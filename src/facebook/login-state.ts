import { createHmac, randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { readCookie } from '../accounts/cookies';
import { safeEqual } from '../common/crypto/secret-box';

export const LOGIN_STATE_COOKIE = 'relay_fb_login';
const LIFETIME_MS = 10 * 60_000;

/** What the relay remembers between `connect` and Facebook's redirect to `callback`. */
export interface LoginContext {
  tenantId: string;
  /** Integration to restore after the login ("Re-activate with Facebook"). */
  reactivate?: string;
}

interface StoredState extends LoginContext {
  state: string;
  expiresAt: number;
}

type Callback = (error: Error | null, ok?: boolean | string, state?: unknown) => void;

/**
 * passport-oauth2 state store backed by a signed, httpOnly, 10-minute cookie (express-session is
 * not used): the `state` sent to Facebook must come back in the callback together with the
 * cookie, and the cookie names the tenant whose session started the login.
 */
export class SignedCookieStateStore {
  constructor(private readonly key: Buffer, private readonly secureCookie: boolean) {}

  /** Called by passport on `connect`; `req.relayLogin` is set by the controller beforehand. */
  store(req: Request, _meta: unknown, callback: (error: Error | null, state?: string) => void): void {
    const context = (req as Request & { relayLogin?: LoginContext }).relayLogin;
    if (!context) return callback(new Error('login context missing'));
    const state = randomBytes(24).toString('base64url');
    const value: StoredState = { ...context, state, expiresAt: Date.now() + LIFETIME_MS };
    this.setCookie(req.res!, this.sign(value), LIFETIME_MS);
    callback(null, state);
  }

  /** Called by passport on `callback` before the code is exchanged. */
  verify(req: Request, state: string, _meta: unknown, callback: Callback): void {
    const stored = this.read(req);
    if (!stored || !state || !safeEqual(stored.state, String(state))) {
      return callback(null, false, { message: 'state_mismatch' });
    }
    const tenantId = (req as Request & { relayTenantId?: string }).relayTenantId;
    if (stored.tenantId !== tenantId) return callback(null, false, { message: 'state_mismatch' });
    callback(null, true, { reactivate: stored.reactivate });
  }

  /** The context of the login in progress (valid signature, not expired), if any. */
  read(req: Request): StoredState | null {
    const raw = readCookie(req, LOGIN_STATE_COOKIE);
    if (!raw) return null;
    const dot = raw.lastIndexOf('.');
    if (dot < 0) return null;
    const payload = raw.slice(0, dot);
    if (!safeEqual(raw.slice(dot + 1), this.mac(payload))) return null;
    try {
      const value = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as StoredState;
      return value.expiresAt > Date.now() ? value : null;
    } catch {
      return null;
    }
  }

  clear(res: Response): void {
    this.setCookie(res, '', 0);
  }

  private sign(value: StoredState): string {
    const payload = Buffer.from(JSON.stringify(value)).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }

  private setCookie(res: Response, value: string, maxAgeMs: number): void {
    const parts = [`${LOGIN_STATE_COOKIE}=${value}`, 'Path=/api/v1/facebook', 'HttpOnly', 'SameSite=Lax', `Max-Age=${Math.floor(maxAgeMs / 1000)}`];
    if (this.secureCookie) parts.push('Secure');
    const previous = res.getHeader('Set-Cookie');
    const list = Array.isArray(previous) ? previous : previous ? [String(previous)] : [];
    res.setHeader('Set-Cookie', [...list, parts.join('; ')]);
  }
}
