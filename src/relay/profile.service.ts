import { Injectable, Logger } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { SecretBox } from '../common/crypto/secret-box';
import { Database } from '../database/database';
import { GraphClient } from '../facebook/graph-client';
import { GraphError } from '../facebook/graph-errors';
import { IntegrationHealth } from '../integrations/integration-health';
import { Integration } from '../integrations/integration.entity';
import { Conversation } from './conversation.entity';
import { DeliverySettings } from './delivery.settings';
import { CustomerNames, namesOf } from './notification';

/**
 * Customer names for Messenger conversations from the profile lookup (facebook-platform.md §7),
 * cached on the conversation (one per person and page). A failed lookup (no permission, 2018218,
 * rate limit, Facebook down) never holds a message: it goes without names and the lookup is tried later.
 */
@Injectable()
export class ProfileService {
  private readonly logger = new Logger('Profiles');

  constructor(
    private readonly database: Database,
    private readonly graph: GraphClient,
    private readonly box: SecretBox,
    private readonly settings: DeliverySettings,
    private readonly moduleRef: ModuleRef,
  ) {}

  async names(conversation: Conversation, integration: Pick<Integration, 'id' | 'pageTokenEnc'>): Promise<CustomerNames> {
    if (conversation.channel !== 'messenger' || conversation.firstName || conversation.lastName) return namesOf(conversation);
    const checked = conversation.profileCheckedAt?.getTime() ?? 0;
    if (Date.now() - checked < this.settings.profileRetryMs || !integration.pageTokenEnc) return namesOf(conversation);
    const now = new Date();
    try {
      const profile = await this.graph.get<{ first_name?: string; last_name?: string; name?: string }>(encodeURIComponent(conversation.customerId), {
        token: this.box.decrypt(integration.pageTokenEnc),
        params: { fields: 'first_name,last_name' },
        timeoutMs: this.settings.profileTimeoutMs,
      });
      const firstName = profile.first_name?.slice(0, 128) || null;
      const lastName = profile.last_name?.slice(0, 128) || null;
      const customerName = [firstName, lastName].filter(Boolean).join(' ') || profile.name || conversation.customerName;
      await this.database.repo(Conversation).update({ id: conversation.id }, { firstName, lastName, customerName, profileCheckedAt: now });
      Object.assign(conversation, { firstName, lastName, customerName, profileCheckedAt: now });
    } catch (error) {
      this.logger.debug(`Profile lookup for conversation ${conversation.id} failed: ${(error as Error).message}`);
      await this.database.repo(Conversation).update({ id: conversation.id }, { profileCheckedAt: now });
      conversation.profileCheckedAt = now;
      if (error instanceof GraphError && error.classification === 'reauth') await this.reportReauth(integration.id, error);
    }
    return namesOf(conversation);
  }

  private async reportReauth(integrationId: string, error: GraphError): Promise<void> {
    try {
      await this.moduleRef.get(IntegrationHealth, { strict: false }).reportGraphError(integrationId, error);
    } catch (reportError) {
      this.logger.warn(`Integration ${integrationId}: Facebook refused the page token (${error.code}); could not record it: ${(reportError as Error).message}`);
    }
  }
}
