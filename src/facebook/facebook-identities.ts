import { Injectable } from '@nestjs/common';
import { SecretBox } from '../common/crypto/secret-box';
import { newId } from '../common/ids';
import { Database } from '../database/database';
import { FacebookIdentity } from './facebook-identity.entity';
import { GraphClient } from './graph-client';
import { splitScopes } from './permissions';

export interface ConnectedUser {
  facebookUserId: string;
  name: string;
  longLivedToken: string;
  expiresInSeconds?: number;
}

/** The Facebook users a tenant logged in with, and their long-lived user tokens (encrypted). */
@Injectable()
export class FacebookIdentities {
  constructor(
    private readonly database: Database,
    private readonly box: SecretBox,
    private readonly graph: GraphClient,
  ) {}

  /** The identity the tenant logged in with most recently (the one pages are listed for). */
  async current(tenantId: string): Promise<FacebookIdentity | null> {
    return this.database.repo(FacebookIdentity).findOne({ where: { tenantId }, order: { updatedAt: 'DESC' } });
  }

  async find(tenantId: string, id: string): Promise<FacebookIdentity | null> {
    return this.database.repo(FacebookIdentity).findOneBy({ tenantId, id });
  }

  token(identity: FacebookIdentity): string {
    return this.box.decrypt(identity.userTokenEnc);
  }

  /** Swaps a short-lived login token for a long-lived one (facebook-platform.md §6.3). */
  async exchangeForLongLived(shortToken: string, appId: string, appSecret: string): Promise<{ token: string; expiresInSeconds?: number }> {
    const answer = await this.graph.get<{ access_token: string; expires_in?: number }>('oauth/access_token', {
      params: { grant_type: 'fb_exchange_token', client_id: appId, client_secret: appSecret, fb_exchange_token: shortToken },
    });
    return { token: answer.access_token, expiresInSeconds: answer.expires_in };
  }

  /** Granted and declined permissions of a user token, as Facebook reports them now. */
  async permissions(userToken: string): Promise<{ granted: string[]; declined: string[] }> {
    const rows = await this.graph.getAll<{ permission: string; status: string }>('me/permissions', { token: userToken });
    return {
      granted: rows.filter((row) => row.status === 'granted').map((row) => row.permission),
      declined: rows.filter((row) => row.status !== 'granted').map((row) => row.permission),
    };
  }

  /** Creates or refreshes the identity row for this Facebook user under this tenant. */
  async save(tenantId: string, user: ConnectedUser, scopes: { granted: string[]; declined: string[] }): Promise<FacebookIdentity> {
    const repo = this.database.repo(FacebookIdentity);
    const now = new Date();
    const fields = {
      name: user.name.slice(0, 255),
      userTokenEnc: this.box.encrypt(user.longLivedToken),
      tokenExpiresAt: user.expiresInSeconds ? new Date(now.getTime() + user.expiresInSeconds * 1000) : null,
      grantedScopes: scopes.granted.join(','),
      declinedScopes: scopes.declined.join(','),
      updatedAt: now,
    };
    const existing = await repo.findOneBy({ tenantId, facebookUserId: user.facebookUserId });
    if (existing) {
      await repo.update({ id: existing.id, tenantId }, fields);
      return { ...existing, ...fields };
    }
    const identity: FacebookIdentity = { id: newId(), tenantId, facebookUserId: user.facebookUserId, createdAt: now, ...fields };
    await repo.insert(identity);
    return identity;
  }

  async updateScopes(identity: FacebookIdentity, scopes: { granted: string[]; declined: string[] }): Promise<void> {
    const granted = scopes.granted.join(',');
    const declined = scopes.declined.join(',');
    if (granted === identity.grantedScopes && declined === identity.declinedScopes) return;
    await this.database.repo(FacebookIdentity).update({ id: identity.id, tenantId: identity.tenantId }, { grantedScopes: granted, declinedScopes: declined });
    identity.grantedScopes = granted;
    identity.declinedScopes = declined;
  }

  granted(identity: FacebookIdentity): string[] {
    return splitScopes(identity.grantedScopes);
  }
}
