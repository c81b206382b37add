import { Injectable, Logger } from '@nestjs/common';
import { EntityManager, In, QueryFailedError } from 'typeorm';
import { hashSecret, randomToken, SecretBox } from '../common/crypto/secret-box';
import { RelayHttpError } from '../common/errors/http-errors';
import { newId } from '../common/ids';
import { redactUrl } from '../common/logging/redact';
import { AppConfig } from '../config/app-config';
import { OpenChannelClient, OpenChannelTarget } from '../contact-center/open-channel-client';
import { Database } from '../database/database';
import { FacebookIdentities } from '../facebook/facebook-identities';
import { FacebookIdentity } from '../facebook/facebook-identity.entity';
import { FacebookPages, ManagedPage, pageUnavailableReason } from '../facebook/facebook-pages';
import { GraphError, GraphUnavailableError } from '../facebook/graph-errors';
import { describeMissing, MESSENGER_SCOPES, missingScopes, WALL_SCOPES } from '../facebook/permissions';
import { Blob } from '../blobs/blob.entity';
import { Conversation } from '../relay/conversation.entity';
import { DeliveryAttempt } from '../relay/delivery-attempt.entity';
import { DeliveryService } from '../relay/delivery.service';
import { Message } from '../relay/message.entity';
import { PageIntegrations } from '../relay/page-integrations';
import { CreateIntegrationDto, UpdateIntegrationDto } from './integration.dto';
import { Integration } from './integration.entity';
import { IntegrationHealth } from './integration-health';
import { IntegrationView, toView } from './integration-view';
import { IntegrationsRepository } from './integrations.repository';
import { openchannelUrlProblem } from './openchannel-url';
import { AuditLog } from '../audit/audit-log';
import { AlertIncident } from '../monitoring/alert-incident.entity';
import { DeliveryFigures, ListFigures } from '../monitoring/delivery-figures';
import { mergeAvailability } from '../availability/schedule';

interface BoundPage {
  page: ManagedPage;
  pageToken: string;
  identity: FacebookIdentity;
}

/** Creating, editing, re-activating and deleting a tenant's integrations (Page ⇄ Open Channel account). */
@Injectable()
export class IntegrationsService {
  private readonly logger = new Logger('Integrations');

  constructor(
    private readonly database: Database,
    private readonly repository: IntegrationsRepository,
    private readonly box: SecretBox,
    private readonly config: AppConfig,
    private readonly identities: FacebookIdentities,
    private readonly pages: FacebookPages,
    private readonly openChannel: OpenChannelClient,
    private readonly health: IntegrationHealth,
    private readonly pageIntegrations: PageIntegrations,
    private readonly delivery: DeliveryService,
    private readonly audit: AuditLog,
    private readonly figures: DeliveryFigures,
  ) {}

  async list(tenantId: string): Promise<IntegrationView[]> {
    const integrations = await this.repository.listForTenant(tenantId);
    const figures = await this.figures.forList(tenantId, integrations.map((integration) => integration.id));
    return integrations.map((integration) => this.view(integration, figures.get(integration.id)));
  }

  async get(tenantId: string, id: string): Promise<IntegrationView> {
    const integration = await this.require(tenantId, id);
    return this.view(integration, (await this.figures.forList(tenantId, [id])).get(id));
  }

  async require(tenantId: string, id: string): Promise<Integration> {
    const integration = await this.repository.findForTenant(tenantId, id);
    if (!integration) throw new RelayHttpError(404, 'not_found', 'No such integration');
    return integration;
  }

  view(integration: Integration, figures?: ListFigures): IntegrationView {
    return toView(
      integration,
      { openchannelUrl: this.box.decrypt(integration.openchannelUrlEnc), replyToken: this.box.decrypt(integration.replyTokenEnc) },
      this.config.publicUrl,
      figures,
    );
  }

  async create(tenantId: string, dto: CreateIntegrationDto, actor?: string): Promise<IntegrationView> {
    const wallPosts = dto.wallPosts ?? true;
    const apiKey = dto.apiKey || null;
    this.checkUrl(dto.openchannelUrl);
    const bound = await this.preparePage(tenantId, dto.pageId, wallPosts);
    await this.verifyTarget({ openchannelUrl: dto.openchannelUrl, apiKey });
    await this.subscribe(bound, wallPosts);

    const now = new Date();
    const replyToken = randomToken();
    const integration: Integration = {
      id: newId(),
      tenantId,
      name: dto.name,
      pageId: bound.page.id,
      pageName: bound.page.name.slice(0, 255),
      boundPageId: bound.page.id,
      facebookIdentityId: bound.identity.id,
      pageTokenEnc: this.box.encrypt(bound.pageToken),
      openchannelUrlEnc: this.box.encrypt(dto.openchannelUrl),
      apiKeyEnc: this.box.encryptOptional(apiKey),
      replyTokenHash: hashSecret(replyToken),
      replyTokenEnc: this.box.encrypt(replyToken),
      signingSecretEnc: null,
      wallPosts,
      enabled: dto.enabled ?? true,
      status: 'active',
      statusReason: null,
      humanAgentTag: false,
      forwardReactions: false,
      forwardEdits: false,
      pageSubscribed: true,
      lastEventAt: null,
      lastDeliveryAt: null,
      lastCheckedAt: now,
      createdAt: now,
      updatedAt: now,
    };
    const previous = await this.takePage(integration.pageId, integration.id, (manager) => manager.insert(Integration, integration));
    this.pageIntegrations.invalidate(integration.pageId);
    if (previous) await this.health.notifySuperseded(previous);
    await this.audit.record(tenantId, actor, 'integration.created', { integrationId: integration.id, details: { pageId: integration.pageId, pageName: integration.pageName } });
    this.logger.log(`Integration ${integration.id} created for page ${integration.pageId} (Openchannel URL ${redactUrl(dto.openchannelUrl)})`);
    return this.view(integration);
  }

  async update(tenantId: string, id: string, dto: UpdateIntegrationDto, actor?: string): Promise<IntegrationView> {
    const integration = await this.require(tenantId, id);
    const currentUrl = this.box.decrypt(integration.openchannelUrlEnc);
    const currentKey = this.box.decryptOptional(integration.apiKeyEnc);
    const fields: Partial<Integration> = {};

    // The UI shows the URL with its secrets masked; sending that back unchanged keeps the stored one.
    const newUrl = dto.openchannelUrl !== undefined && dto.openchannelUrl !== currentUrl && dto.openchannelUrl !== redactUrl(currentUrl) ? dto.openchannelUrl : undefined;
    const newKey = dto.apiKey === undefined ? undefined : dto.apiKey || null;
    if (newUrl !== undefined) this.checkUrl(newUrl);
    if (newUrl !== undefined || (newKey !== undefined && newKey !== currentKey)) {
      await this.verifyTarget({ openchannelUrl: newUrl ?? currentUrl, apiKey: newKey === undefined ? currentKey : newKey });
      if (newUrl !== undefined) fields.openchannelUrlEnc = this.box.encrypt(newUrl);
      if (newKey !== undefined) fields.apiKeyEnc = this.box.encryptOptional(newKey);
    }

    if (dto.wallPosts !== undefined && dto.wallPosts !== integration.wallPosts) {
      // Only the page's current owner with a working token changes Facebook's subscription now;
      // otherwise the fields are applied when the integration is re-activated.
      if (integration.boundPageId && integration.status === 'active' && integration.pageTokenEnc) {
        try {
          await this.pages.subscribe(integration.pageId, this.box.decrypt(integration.pageTokenEnc), dto.wallPosts);
        } catch (error) {
          throw await this.facebookRefusal(error, integration);
        }
      }
      fields.wallPosts = dto.wallPosts;
    }
    for (const key of ['name', 'enabled', 'humanAgentTag', 'forwardReactions', 'forwardEdits'] as const) {
      if (dto[key] !== undefined) (fields as Record<string, unknown>)[key] = dto[key];
    }
    if (dto.signingSecret !== undefined) fields.signingSecretEnc = this.box.encryptOptional(dto.signingSecret || null);
    if (dto.availability !== undefined) fields.availability = mergeAvailability(integration.availability, dto.availability);

    if (Object.keys(fields).length) {
      fields.updatedAt = new Date();
      await this.database.repo(Integration).update({ id, tenantId }, fields);
      this.pageIntegrations.invalidate(integration.pageId);
      await this.audit.record(tenantId, actor, 'integration.changed', { integrationId: id, details: { fields: changedFieldNames(fields) } });
    }
    // Events stored while it was switched off go to the contact center now, in order.
    if (dto.enabled === true && !integration.enabled) await this.delivery.releaseHeld(id);
    return this.get(tenantId, id);
  }

  async remove(tenantId: string, id: string, actor?: string): Promise<void> {
    const integration = await this.require(tenantId, id);
    await this.unsubscribeQuietly(integration);
    await this.deleteRows([integration]);
    await this.audit.record(tenantId, actor, 'integration.deleted', { integrationId: id, integrationName: integration.name, details: { pageId: integration.pageId, pageName: integration.pageName } });
    this.logger.log(`Integration ${id} deleted`);
  }

  async rotateReplyToken(tenantId: string, id: string, actor?: string): Promise<IntegrationView> {
    await this.require(tenantId, id);
    const replyToken = randomToken();
    await this.database.repo(Integration).update(
      { id, tenantId },
      { replyTokenHash: hashSecret(replyToken), replyTokenEnc: this.box.encrypt(replyToken), updatedAt: new Date() },
    );
    await this.audit.record(tenantId, actor, 'integration.reply_token_rotated', { integrationId: id });
    return this.get(tenantId, id);
  }

  /**
   * "Re-activate with Facebook": with the tenant's current Facebook login, fetch a fresh page token,
   * subscribe the page again and make the integration active, keeping its id, settings and history.
   * A superseded integration takes its page back (the newest binding wins).
   */
  async reactivate(tenantId: string, id: string, actor?: string): Promise<IntegrationView> {
    const integration = await this.require(tenantId, id);
    const bound = await this.preparePage(tenantId, integration.pageId, integration.wallPosts);
    await this.subscribe(bound, integration.wallPosts);
    const fields: Partial<Integration> = {
      boundPageId: integration.pageId,
      pageName: bound.page.name.slice(0, 255),
      facebookIdentityId: bound.identity.id,
      pageTokenEnc: this.box.encrypt(bound.pageToken),
      status: 'active',
      statusReason: null,
      pageSubscribed: true,
      lastCheckedAt: new Date(),
      updatedAt: new Date(),
    };
    const previous = await this.takePage(integration.pageId, integration.id, (manager) => manager.update(Integration, { id, tenantId }, fields));
    this.pageIntegrations.invalidate(integration.pageId);
    if (previous) await this.health.notifySuperseded(previous);
    await this.health.recovered(id, ['reauth_required', 'unsubscribed', 'superseded']);
    await this.audit.record(tenantId, actor, 'integration.reauthorized', { integrationId: id, details: { previousStatus: integration.status } });
    this.logger.log(`Integration ${id} re-activated for page ${integration.pageId}`);
    return this.get(tenantId, id);
  }

  /** Account deletion: unsubscribe the tenant's pages (best effort) and remove every row of its integrations. */
  async deleteAllForTenant(tenantId: string): Promise<void> {
    const integrations = await this.repository.listForTenant(tenantId);
    for (const integration of integrations) await this.unsubscribeQuietly(integration);
    await this.deleteRows(integrations);
    await this.database.repo(FacebookIdentity).delete({ tenantId });
  }

  // ---- steps ----

  private checkUrl(url: string): void {
    const problem = openchannelUrlProblem(url, this.config.allowPrivateTargets);
    if (problem) throw new RelayHttpError(400, 'invalid_openchannel_url', problem);
  }

  /** Open Channel §4: the account exists and takes the key; answers 422 in the tenant's words otherwise. */
  private async verifyTarget(target: OpenChannelTarget): Promise<void> {
    const result = await this.openChannel.verify(target);
    if (result.ok) return;
    const status = result.reason === 'invalid_url' || result.reason === 'blocked' ? 400 : 422;
    throw new RelayHttpError(status, `openchannel_${result.reason}`, result.message);
  }

  /** The page among the connected user's pages, with a page token, the tasks and permissions it needs. */
  private async preparePage(tenantId: string, pageId: string, wallPosts: boolean): Promise<BoundPage> {
    const identity = await this.identities.current(tenantId);
    if (!identity) throw new RelayHttpError(409, 'facebook_not_connected', 'Connect Facebook first: log in with the Facebook account that manages the page.');
    const userToken = this.identities.token(identity);
    let page: ManagedPage | null;
    try {
      const scopes = await this.identities.permissions(userToken);
      await this.identities.updateScopes(identity, scopes);
      const missing = missingScopes(scopes.granted, wallPosts ? [...MESSENGER_SCOPES, ...WALL_SCOPES] : MESSENGER_SCOPES);
      if (missing.length) throw new RelayHttpError(422, 'missing_permission', describeMissing(missing));
      page = await this.pages.findManaged(userToken, pageId);
    } catch (error) {
      throw this.userTokenRefusal(error, identity);
    }
    if (!page) {
      throw new RelayHttpError(400, 'unknown_page', `Page ${pageId} is not among the pages ${identity.name} manages on Facebook: pick a page from the list, or connect with the Facebook account that manages it.`);
    }
    const reason = pageUnavailableReason(page, wallPosts);
    if (reason) throw new RelayHttpError(422, 'page_unavailable', `The page ${page.name} cannot be bound: ${reason}`);
    if (!page.accessToken) throw new RelayHttpError(422, 'page_unavailable', `Facebook did not give the relay a token for the page ${page.name}: check your role on the page and connect again.`);
    return { page, pageToken: page.accessToken, identity };
  }

  private async subscribe(bound: BoundPage, wallPosts: boolean): Promise<void> {
    try {
      await this.pages.subscribe(bound.page.id, bound.pageToken, wallPosts);
    } catch (error) {
      if (error instanceof GraphUnavailableError) throw new RelayHttpError(502, 'facebook_unavailable', `${error.message}. Try again in a moment.`);
      if (error instanceof GraphError) {
        throw new RelayHttpError(422, 'facebook_refused', `Facebook refused to subscribe the relay to the page ${bound.page.name}: ${error.explanation}`);
      }
      throw error;
    }
  }

  /**
   * Moves the page to `integrationId` in one transaction: the page's previous owner (if another
   * integration) is marked superseded and returned so its owner can be told.
   */
  private async takePage(pageId: string, integrationId: string, write: (manager: EntityManager) => Promise<unknown>): Promise<Integration | null> {
    try {
      return await this.database.transaction(async (manager) => {
        const previous = await manager.findOneBy(Integration, { boundPageId: pageId });
        const taken = previous && previous.id !== integrationId ? previous : null;
        if (taken) {
          await manager.update(Integration, { id: taken.id }, {
            boundPageId: null,
            status: 'superseded',
            statusReason: `The page was bound to a newer integration on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; this one no longer receives its events.`,
            pageSubscribed: false,
            updatedAt: new Date(),
          });
        }
        await write(manager);
        return taken;
      });
    } catch (error) {
      if (error instanceof QueryFailedError && /unique|duplicate/i.test(error.message)) {
        throw new RelayHttpError(409, 'page_busy', 'This page was being bound by another request at the same moment: please try again.');
      }
      throw error;
    }
  }

  private userTokenRefusal(error: unknown, identity: FacebookIdentity): Error {
    if (error instanceof RelayHttpError) return error;
    if (error instanceof GraphUnavailableError) return new RelayHttpError(502, 'facebook_unavailable', `${error.message}. Try again in a moment.`);
    if (error instanceof GraphError) {
      if (error.classification === 'reauth') {
        return new RelayHttpError(409, 'facebook_reauth_required', `Facebook no longer accepts the login of ${identity.name} (error ${error.code}${error.subcode ? `/${error.subcode}` : ''}): connect Facebook again.`);
      }
      return new RelayHttpError(422, 'facebook_refused', error.explanation);
    }
    return error as Error;
  }

  private async facebookRefusal(error: unknown, integration: Integration): Promise<Error> {
    if (error instanceof GraphError && error.classification === 'reauth') {
      await this.health.reportGraphError(integration.id, error);
      return new RelayHttpError(409, 'facebook_reauth_required', `${error.explanation} Nothing was changed.`);
    }
    if (error instanceof GraphUnavailableError) return new RelayHttpError(502, 'facebook_unavailable', `${error.message}. Nothing was changed; try again in a moment.`);
    if (error instanceof GraphError) return new RelayHttpError(422, 'facebook_refused', `${error.explanation} Nothing was changed.`);
    return error as Error;
  }

  private async unsubscribeQuietly(integration: Integration): Promise<void> {
    if (!integration.boundPageId || !integration.pageTokenEnc) return;
    try {
      await this.pages.unsubscribe(integration.pageId, this.box.decrypt(integration.pageTokenEnc));
    } catch (error) {
      this.logger.warn(`Could not unsubscribe page ${integration.pageId} while deleting integration ${integration.id}: ${(error as Error).message}`);
    }
  }

  private async deleteRows(integrations: Integration[]): Promise<void> {
    if (!integrations.length) return;
    const ids = integrations.map((integration) => integration.id);
    await this.database.transaction(async (manager) => {
      await manager.delete(DeliveryAttempt, { integrationId: In(ids) });
      await manager.delete(Message, { integrationId: In(ids) });
      await manager.delete(Conversation, { integrationId: In(ids) });
      await manager.delete(Blob, { integrationId: In(ids) });
      await manager.delete(AlertIncident, { integrationId: In(ids) });
      await manager.delete(Integration, { id: In(ids) });
    });
    for (const integration of integrations) this.pageIntegrations.invalidate(integration.pageId);
  }
}

/** The public names of the settings an update changed (never their values: some are secrets). */
function changedFieldNames(fields: Partial<Integration>): string[] {
  const publicName: Record<string, string> = { openchannelUrlEnc: 'openchannelUrl', apiKeyEnc: 'apiKey', signingSecretEnc: 'signingSecret' };
  return Object.keys(fields).filter((key) => key !== 'updatedAt').map((key) => publicName[key] ?? key);
}
