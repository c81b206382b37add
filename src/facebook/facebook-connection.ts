import { Injectable, Logger } from '@nestjs/common';
import { RelayHttpError } from '../common/errors/http-errors';
import { AppConfig } from '../config/app-config';
import { IntegrationsService } from '../integrations/integrations.service';
import { FacebookIdentities } from './facebook-identities';
import { CallbackOutcome } from './facebook-login';
import { FacebookPages, ManagedPage, pageUnavailableReason } from './facebook-pages';
import { GraphError, GraphUnavailableError } from './graph-errors';
import { describeMissing, MESSENGER_SCOPES, missingScopes, REQUIRED_SCOPES, splitScopes } from './permissions';

export type TokenState = 'valid' | 'expired' | 'invalid' | 'unknown';

/** What happens around the Facebook login: completing it, the connection status, the page list. */
@Injectable()
export class FacebookConnection {
  private readonly logger = new Logger('FacebookLogin');

  constructor(
    private readonly identities: FacebookIdentities,
    private readonly pagesApi: FacebookPages,
    private readonly integrations: IntegrationsService,
    private readonly config: AppConfig,
  ) {}

  /** Finishes a login; answers the UI route (after `#`) to send the browser to. */
  async complete(tenantId: string, outcome: CallbackOutcome): Promise<string> {
    if (outcome.kind === 'failure') {
      this.logger.log(`Facebook login for tenant ${tenantId} did not complete: ${outcome.code}`);
      return route('/integrations/new', { error: outcome.code, message: outcome.message });
    }
    const { facebook } = this.config;
    let granted: string[];
    try {
      const long = await this.identities.exchangeForLongLived(outcome.user.shortToken, facebook.appId, facebook.appSecret);
      const scopes = await this.identities.permissions(long.token);
      granted = scopes.granted;
      await this.identities.save(tenantId, { facebookUserId: outcome.user.facebookUserId, name: outcome.user.name, longLivedToken: long.token, expiresInSeconds: long.expiresInSeconds }, scopes);
    } catch (error) {
      if (!(error instanceof GraphError) && !(error instanceof GraphUnavailableError)) throw error;
      this.logger.warn(`Facebook login for tenant ${tenantId} failed after the dialog: ${error.message}`);
      const message = error instanceof GraphError && (error.code === 101 || error.code === 1)
        ? 'Facebook did not accept the relay\'s app credentials (wrong app setup): ask the relay operator to check FACEBOOK_APP_ID and FACEBOOK_APP_SECRET.'
        : 'The relay could not finish the login with Facebook. Please connect again in a moment.';
      return route('/integrations/new', { error: error instanceof GraphError && (error.code === 101 || error.code === 1) ? 'app_setup' : 'facebook_error', message });
    }

    if (outcome.reactivate) {
      try {
        await this.integrations.reactivate(tenantId, outcome.reactivate);
        return route(`/integrations/${outcome.reactivate}`, { reactivated: '1' });
      } catch (error) {
        if (!(error instanceof RelayHttpError)) throw error;
        const body = error.getResponse() as { error: string; message: string };
        return route(`/integrations/${outcome.reactivate}`, { error: body.error, message: body.message });
      }
    }
    const missing = missingScopes(granted);
    if (missing.length) {
      return route('/integrations/new', { connected: '1', error: 'missing_permissions', missing: missing.join(','), message: describeMissing(missing) });
    }
    return route('/integrations/new', { connected: '1' });
  }

  async status(tenantId: string) {
    const identity = await this.identities.current(tenantId);
    if (!identity) {
      return { connected: false, user: null, grantedScopes: [], declinedScopes: [], missingScopes: [...REQUIRED_SCOPES], missingMessage: null, tokenState: null, tokenExpiresAt: null, connectUrl: '/api/v1/facebook/connect' };
    }
    let tokenState: TokenState = 'unknown';
    let tokenProblem: string | null = null;
    try {
      const debug = await this.pagesApi.debugToken(this.identities.token(identity));
      tokenState = debug.isValid ? 'valid' : debug.error?.code === 190 && debug.error.subcode === 463 ? 'expired' : 'invalid';
      if (!debug.isValid) tokenProblem = debug.error?.message ?? 'Facebook no longer accepts this login';
      if (debug.isValid) {
        const scopes = await this.identities.permissions(this.identities.token(identity));
        await this.identities.updateScopes(identity, scopes);
      }
    } catch (error) {
      if (!(error instanceof GraphError) && !(error instanceof GraphUnavailableError)) throw error;
      this.logger.warn(`Could not check the Facebook login of tenant ${tenantId}: ${error.message}`);
    }
    const granted = splitScopes(identity.grantedScopes);
    const missing = missingScopes(granted);
    return {
      connected: true,
      user: { id: identity.facebookUserId, name: identity.name },
      grantedScopes: granted,
      declinedScopes: splitScopes(identity.declinedScopes),
      missingScopes: missing,
      missingMessage: missing.length ? describeMissing(missing) : null,
      tokenState,
      tokenProblem,
      tokenExpiresAt: identity.tokenExpiresAt ? new Date(identity.tokenExpiresAt).toISOString() : null,
      connectUrl: '/api/v1/facebook/connect',
      rerequestUrl: '/api/v1/facebook/connect?rerequest=1',
    };
  }

  /** The user's pages, each with why it cannot be bound (a missing permission or page task) when it cannot. */
  async pages(tenantId: string): Promise<Array<ManagedPage & { unavailableReason: string | null }>> {
    const identity = await this.identities.current(tenantId);
    if (!identity) throw new RelayHttpError(409, 'facebook_not_connected', 'Connect Facebook first: log in with the Facebook account that manages the page.');
    const token = this.identities.token(identity);
    try {
      const scopes = await this.identities.permissions(token);
      await this.identities.updateScopes(identity, scopes);
      const missing = missingScopes(scopes.granted, MESSENGER_SCOPES);
      if (missing.includes('pages_show_list')) {
        throw new RelayHttpError(422, 'missing_permission', describeMissing(missing));
      }
      const pages = await this.pagesApi.listManaged(token);
      return pages.map(({ accessToken: _token, ...page }) => ({
        ...page,
        unavailableReason: missing.length ? describeMissing(missing) : pageUnavailableReason(page, false),
      }));
    } catch (error) {
      if (error instanceof RelayHttpError) throw error;
      if (error instanceof GraphUnavailableError) throw new RelayHttpError(502, 'facebook_unavailable', `${error.message}. Try again in a moment.`);
      if (error instanceof GraphError && error.classification === 'reauth') {
        throw new RelayHttpError(409, 'facebook_reauth_required', `Facebook no longer accepts the login of ${identity.name}: connect Facebook again.`);
      }
      if (error instanceof GraphError) throw new RelayHttpError(422, 'facebook_refused', error.explanation);
      throw error;
    }
  }
}

function route(path: string, query: Record<string, string>): string {
  return `${path}?${new URLSearchParams(query).toString()}`;
}
