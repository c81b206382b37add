import { Injectable } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { Passport } from 'passport';
import { Strategy as FacebookStrategy } from 'passport-facebook';
import type { StateStore } from 'passport-oauth2';
import { AppConfig } from '../config/app-config';
import { LoginContext, SignedCookieStateStore } from './login-state';
import { REQUIRED_SCOPES } from './permissions';

/** What the strategy hands back after Facebook accepted the login. */
export interface LoginResult {
  shortToken: string;
  facebookUserId: string;
  name: string;
}

export type CallbackOutcome =
  | { kind: 'success'; user: LoginResult; reactivate?: string }
  | { kind: 'failure'; code: LoginFailureCode; message: string };

export type LoginFailureCode = 'denied' | 'state_mismatch' | 'app_setup' | 'facebook_error';

const STRATEGY = 'relay-facebook';

/**
 * Facebook Login through passport-facebook, pointed at FACEBOOK_DIALOG_URL / FACEBOOK_GRAPH_URL
 * (the real Facebook or the sandbox). A full-page redirect flow; nothing is kept in a session
 * store: the state lives in a signed cookie (SignedCookieStateStore).
 */
@Injectable()
export class FacebookLogin {
  readonly stateStore: SignedCookieStateStore;
  private readonly passport = new Passport();

  constructor(private readonly config: AppConfig) {
    const { appId, appSecret, graphUrl, dialogUrl, graphVersion } = config.facebook;
    const key = createHmac('sha256', config.encryption.current.key).update('facebook-login-state').digest();
    this.stateStore = new SignedCookieStateStore(key, config.publicUrl.startsWith('https://'));
    const strategy = new FacebookStrategy(
      {
        clientID: appId,
        clientSecret: appSecret,
        callbackURL: this.callbackUrl,
        authorizationURL: `${dialogUrl}/${graphVersion}/dialog/oauth`,
        tokenURL: `${graphUrl}/${graphVersion}/oauth/access_token`,
        profileURL: `${graphUrl}/${graphVersion}/me`,
        graphAPIVersion: graphVersion,
        enableProof: true,
        profileFields: ['id', 'displayName'],
        scope: [...REQUIRED_SCOPES],
        store: this.stateStore as unknown as StateStore,
        passReqToCallback: false,
      },
      (accessToken, _refresh, profile, done) =>
        done(null, { shortToken: accessToken, facebookUserId: String(profile.id), name: profile.displayName || `Facebook user ${profile.id}` }),
    );
    this.passport.use(STRATEGY, strategy);
  }

  get callbackUrl(): string {
    return `${this.config.publicUrl}/api/v1/facebook/callback`;
  }

  /** Sends the browser to the Login dialog (passport answers the 302 itself). */
  start(req: Request, res: Response, context: LoginContext, rerequest: boolean): Promise<void> {
    (req as Request & { relayLogin?: LoginContext }).relayLogin = context;
    return new Promise((resolve, reject) => {
      const options = { session: false, ...(rerequest ? { authType: 'rerequest' } : {}) };
      const middleware = this.passport.authenticate(STRATEGY, options, (error: unknown) => (error ? reject(error) : resolve()));
      res.once('finish', () => resolve());
      (middleware as (req: Request, res: Response, next: NextFunction) => void)(req, res, reject);
    });
  }

  /** Runs passport on Facebook's redirect and classifies what happened. */
  finish(req: Request, res: Response, tenantId: string): Promise<CallbackOutcome> {
    (req as Request & { relayTenantId?: string }).relayTenantId = tenantId;
    return new Promise((resolve) => {
      const middleware = this.passport.authenticate(STRATEGY, { session: false }, (error: unknown, user: LoginResult | false, info: { message?: string; state?: { reactivate?: string } } | undefined) => {
        if (error) return resolve(describeLoginError(error));
        if (!user) {
          if (info?.message === 'state_mismatch') {
            return resolve({ kind: 'failure', code: 'state_mismatch', message: 'The login could not be matched to your session (it took more than 10 minutes, or was started in another tab or browser). Please connect again.' });
          }
          return resolve({ kind: 'failure', code: 'denied', message: 'You cancelled the Facebook login or did not allow the relay, so nothing was connected. Connect again and choose "Continue" to allow it.' });
        }
        resolve({ kind: 'success', user, reactivate: info?.state?.reactivate });
      });
      (middleware as (req: Request, res: Response, next: NextFunction) => void)(req, res, (error?: unknown) => resolve(describeLoginError(error)));
    });
  }
}

/** passport-facebook's errors (FacebookAuthorizationError, FacebookTokenError, FacebookGraphAPIError, InternalOAuthError) in words. */
export function describeLoginError(error: unknown): CallbackOutcome {
  const err = (error ?? {}) as { name?: string; code?: number | string; subcode?: number; message?: string; oauthError?: { statusCode?: number; data?: string } };
  const code = Number(err.code);
  if (err.name === 'FacebookAuthorizationError') {
    if (code === 200) {
      return { kind: 'failure', code: 'app_setup', message: 'Facebook refused the permissions the relay asks for. The relay\'s Facebook app is probably not live yet or lacks access to these permissions: ask the relay operator to check the app setup.' };
    }
    return { kind: 'failure', code: 'app_setup', message: `Facebook refused the login (${err.message ?? `error ${code}`}). This usually means the relay's Facebook app setup is wrong: ask the relay operator.` };
  }
  if (err.name === 'FacebookTokenError' || err.name === 'FacebookGraphAPIError') {
    if (err.subcode === 36008 || code === 101 || code === 1) {
      return { kind: 'failure', code: 'app_setup', message: 'Facebook did not accept the relay\'s app credentials or redirect address (wrong app setup): ask the relay operator to check FACEBOOK_APP_ID, FACEBOOK_APP_SECRET and the Valid OAuth Redirect URI.' };
    }
    if (err.subcode === 36009 || err.subcode === 36007) {
      return { kind: 'failure', code: 'facebook_error', message: 'This login link was already used or has expired. Please connect again.' };
    }
    return { kind: 'failure', code: 'facebook_error', message: `Facebook refused the login (error ${code}${err.subcode ? `/${err.subcode}` : ''}). Please connect again.` };
  }
  if (err.name === 'AuthorizationError') {
    return { kind: 'failure', code: 'app_setup', message: `Facebook refused the login (${err.message ?? 'authorization error'}). Check the relay's Facebook app setup.` };
  }
  return { kind: 'failure', code: 'facebook_error', message: 'The relay could not complete the login with Facebook (Facebook did not answer as expected). Please try again in a moment.' };
}
