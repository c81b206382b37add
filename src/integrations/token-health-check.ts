import { Injectable, Logger } from '@nestjs/common';
import { In } from 'typeorm';
import { SecretBox } from '../common/crypto/secret-box';
import { Database } from '../database/database';
import { FacebookPages, subscribedFields } from '../facebook/facebook-pages';
import { GraphError, GraphUnavailableError } from '../facebook/graph-errors';
import { defineJob, JobHandler } from '../queue/job';
import { Integration } from './integration.entity';
import { IntegrationHealth } from './integration-health';
import { IntegrationsRepository } from './integrations.repository';

export const CHECK_INTERVAL_MS = 15 * 60_000;

export const TokenHealthCheckJob = defineJob<{ slot: number }>('integrations.token-health', { attempts: 1, concurrency: 1, every: { intervalMs: CHECK_INTERVAL_MS } });

export type CheckOutcome = 'ok' | 'resubscribed' | 'reauth_required' | 'unsubscribed' | 'unknown';

/**
 * Every 15 minutes: each integration that owns its page gets its page token checked
 * (`debug_token`) and its page subscription read (`subscribed_apps`); a page Facebook unsubscribed
 * is subscribed again. Runs once per slot across all relay processes (the job id is the slot).
 */
@Injectable()
export class TokenHealthCheck {
  private readonly logger = new Logger('TokenHealthCheck');

  constructor(
    private readonly repository: IntegrationsRepository,
    private readonly database: Database,
    private readonly box: SecretBox,
    private readonly pages: FacebookPages,
    private readonly health: IntegrationHealth,
  ) {}

  @JobHandler(TokenHealthCheckJob)
  async run(): Promise<void> {
    await this.checkAll();
  }

  /** Checks every integration now (the job calls this; so can tests). */
  async checkAll(): Promise<Record<string, CheckOutcome>> {
    const outcomes: Record<string, CheckOutcome> = {};
    for (const integration of await this.repository.listChecked()) {
      if (!integration.boundPageId) continue;
      outcomes[integration.id] = await this.checkOne(integration);
    }
    return outcomes;
  }

  async checkOne(integration: Integration): Promise<CheckOutcome> {
    if (!integration.pageTokenEnc) return 'unknown';
    const pageToken = this.box.decrypt(integration.pageTokenEnc);
    const now = new Date();
    try {
      const debug = await this.pages.debugToken(pageToken);
      if (!debug.isValid) {
        const code = debug.error?.code ? ` (error ${debug.error.code}${debug.error.subcode ? `/${debug.error.subcode}` : ''})` : '';
        await this.health.markReauthRequired(integration.id, `Facebook reports the page token is no longer valid${code}${debug.error?.message ? `: ${debug.error.message}` : ''}`);
        await this.touch(integration.id, now);
        return 'reauth_required';
      }
      const fields = await this.pages.subscription(integration.pageId, pageToken);
      const wanted = subscribedFields(integration.wallPosts);
      if (fields && wanted.every((field) => fields.includes(field))) {
        await this.touch(integration.id, now, integration.status === 'unsubscribed');
        return 'ok';
      }
      try {
        await this.pages.subscribe(integration.pageId, pageToken, integration.wallPosts);
      } catch (error) {
        if (error instanceof GraphError && error.classification !== 'reauth' && error.classification !== 'transient' && error.classification !== 'throttle') {
          await this.health.markUnsubscribed(integration.id, `The relay could not subscribe to the page again: ${error.explanation}`);
          await this.touch(integration.id, now);
          return 'unsubscribed';
        }
        throw error;
      }
      this.logger.warn(`Page ${integration.pageId} had ${fields ? 'missing webhook fields' : 'removed the relay'}; subscribed it again for integration ${integration.id}`);
      await this.database.repo(Integration).update({ id: integration.id, status: In(['active', 'unsubscribed']) }, {
        status: 'active',
        statusReason: fields ? null : `Facebook had unsubscribed the relay from the page; it was subscribed again automatically on ${now.toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
        pageSubscribed: true,
        lastCheckedAt: now,
        updatedAt: now,
      });
      await this.health.recovered(integration.id, ['unsubscribed']);
      return 'resubscribed';
    } catch (error) {
      if (error instanceof GraphError && error.classification === 'reauth') {
        await this.health.reportGraphError(integration.id, error);
        await this.touch(integration.id, now);
        return 'reauth_required';
      }
      if (error instanceof GraphError || error instanceof GraphUnavailableError) {
        this.logger.warn(`Token check of integration ${integration.id} did not finish: ${error.message}`);
        return 'unknown';
      }
      throw error;
    }
  }

  private async touch(id: string, now: Date, recovered = false): Promise<void> {
    const fields: Partial<Integration> = { lastCheckedAt: now };
    if (recovered) Object.assign(fields, { status: 'active', statusReason: null, pageSubscribed: true, updatedAt: now });
    await this.database.repo(Integration).update({ id }, fields);
    if (recovered) await this.health.recovered(id, ['unsubscribed']);
  }

}
