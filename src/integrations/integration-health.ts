import { Injectable } from '@nestjs/common';
import { In } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { Database } from '../database/database';
import { GraphError } from '../facebook/graph-errors';
import { AlertKind } from '../monitoring/alert-incident.entity';
import { Alerts } from '../monitoring/alerts';
import { Integration, IntegrationStatus } from './integration.entity';

/**
 * The integration's token/subscription state machine:
 *   active ──190 family──▶ reauth_required ──re-activate──▶ active
 *   active ──app removed from page, re-subscribe refused──▶ unsubscribed ──check/re-activate──▶ active
 *   any ──page bound by a newer integration──▶ superseded (final; re-activating takes the page back)
 * Every move into a problem state opens an alert incident (src/monitoring/alerts.ts): the owner gets
 * one e-mail per incident, and recovering (re-activation, re-subscription) closes it.
 */
@Injectable()
export class IntegrationHealth {
  constructor(
    private readonly database: Database,
    private readonly alerts: Alerts,
    private readonly config: AppConfig,
  ) {}

  /**
   * For the inbound and reply features: Facebook rejected a call made with this integration's page
   * token. 190-family errors mark it "token needs re-authorization" and e-mail the owner once.
   */
  async reportGraphError(integrationId: string, error: GraphError): Promise<void> {
    if (error.classification !== 'reauth') return;
    await this.markReauthRequired(integrationId, `Facebook no longer accepts the page token (error ${error.code}${error.subcode ? `/${error.subcode}` : ''}): ${error.facebookMessage}`);
  }

  async markReauthRequired(integrationId: string, reason: string): Promise<boolean> {
    const moved = await this.transition(integrationId, ['active', 'unsubscribed'], { status: 'reauth_required', statusReason: reason });
    if (moved) {
      await this.notify(moved, 'reauth_required', reason, `Action needed: re-activate "${moved.name}" with Facebook`, [
        `Facebook stopped accepting the access token of your integration "${moved.name}" (page ${moved.pageName}).`,
        `Reason given by Facebook: ${reason}`,
        '',
        'This happens when the Facebook password changes, the app is removed, your role on the page changes, or Facebook ends sessions for security reasons.',
        'Messages from Facebook are still received, but agents\' replies cannot be sent until you re-activate it:',
        `open ${this.integrationLink(moved.id)} and press "Re-activate with Facebook".`,
      ]);
    }
    return Boolean(moved);
  }

  async markUnsubscribed(integrationId: string, reason: string): Promise<boolean> {
    const moved = await this.transition(integrationId, ['active'], { status: 'unsubscribed', statusReason: reason, pageSubscribed: false });
    if (moved) {
      await this.notify(moved, 'unsubscribed', reason, `Action needed: "${moved.name}" no longer receives Facebook events`, [
        `Facebook removed the relay from the page ${moved.pageName}, and the relay could not subscribe it again.`,
        `Reason: ${reason}`,
        '',
        `Open ${this.integrationLink(moved.id)} and press "Re-activate with Facebook".`,
      ]);
    }
    return Boolean(moved);
  }

  /** Tells the owner of an integration that a newer one took its page (called after the move committed). */
  async notifySuperseded(previous: Integration): Promise<void> {
    await this.notify(previous, 'superseded', 'The page was bound to a newer integration', `"${previous.name}" was replaced by a newer integration`, [
      `The Facebook page ${previous.pageName} was bound to another integration, so your integration "${previous.name}" no longer receives its messages.`,
      'Facebook delivers a page\'s events to one integration only: the newest one wins.',
      '',
      `Your integration and its history are kept: ${this.integrationLink(previous.id)}. Press "Re-activate with Facebook" there to take the page back, or delete it.`,
    ]);
  }

  private async transition(integrationId: string, from: IntegrationStatus[], fields: Partial<Integration>): Promise<Integration | null> {
    const repo = this.database.repo(Integration);
    const result = await repo.update({ id: integrationId, status: In(from) }, { ...fields, updatedAt: new Date() });
    if (!result.affected) return null;
    return repo.findOneBy({ id: integrationId });
  }

  /** The integration works again (re-activated, page subscribed again): its incidents of these kinds end. */
  async recovered(integrationId: string, kinds: AlertKind[]): Promise<void> {
    await this.alerts.close(integrationId, kinds);
  }

  private async notify(integration: Integration, kind: AlertKind, reason: string, subject: string, lines: string[]): Promise<void> {
    await this.alerts.open(integration, kind, reason, { subject, lines });
  }

  private integrationLink(id: string): string {
    return `${this.config.publicUrl}/#/integrations/${id}`;
  }
}
