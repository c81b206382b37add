import { Injectable, Logger } from '@nestjs/common';
import { In, IsNull, Not, QueryFailedError } from 'typeorm';
import { Tenant } from '../accounts/tenant.entity';
import { newId } from '../common/ids';
import { Database } from '../database/database';
import { MailService } from '../mail/mail.service';
import { AlertIncident, AlertKind } from './alert-incident.entity';

export interface AlertMail {
  subject: string;
  lines: string[];
}

/**
 * Incidents and their e-mails: `open` creates the incident and mails the owner only when no
 * incident of that kind is open for the integration; `close` ends it, so the next occurrence is a
 * new incident with a new e-mail. The unique `open_key` makes this hold across relay processes.
 */
@Injectable()
export class Alerts {
  private readonly logger = new Logger('Alerts');

  constructor(private readonly database: Database, private readonly mail: MailService) {}

  /** Returns true when a new incident was opened (and its e-mail sent). */
  async open(integration: { id: string; tenantId: string }, kind: AlertKind, reason: string, mail: AlertMail): Promise<boolean> {
    const now = new Date();
    const incident: AlertIncident = {
      id: newId(),
      tenantId: integration.tenantId,
      integrationId: integration.id,
      kind,
      openKey: openKey(integration.id, kind),
      reason: reason.slice(0, 2000),
      openedAt: now,
      notifiedAt: null,
      closedAt: null,
    };
    try {
      await this.database.repo(AlertIncident).insert(incident);
    } catch (error) {
      if (error instanceof QueryFailedError && /unique|duplicate/i.test(error.message)) return false;
      throw error;
    }
    if (await this.send(integration.tenantId, mail)) {
      await this.database.repo(AlertIncident).update({ id: incident.id }, { notifiedAt: new Date() });
    }
    return true;
  }

  /** Ends the open incidents of these kinds (all kinds when none given); returns how many closed. */
  async close(integrationId: string, kinds?: AlertKind[]): Promise<number> {
    const keys = (kinds ?? ALL_KINDS).map((kind) => openKey(integrationId, kind));
    const result = await this.database.repo(AlertIncident).update({ openKey: In(keys) }, { openKey: null, closedAt: new Date() });
    return result.affected ?? 0;
  }

  /** Open incidents of one kind, for the periodic detectors (small: one row per troubled integration). */
  async openOfKind(kind: AlertKind): Promise<AlertIncident[]> {
    return this.database.repo(AlertIncident).find({ where: { kind, openKey: Not(IsNull()) } });
  }

  async list(tenantId: string, integrationId: string, limit = 20): Promise<AlertIncident[]> {
    return this.database.repo(AlertIncident).find({ where: { tenantId, integrationId }, order: { openedAt: 'DESC' }, take: limit });
  }

  private async send(tenantId: string, mail: AlertMail): Promise<boolean> {
    const tenant = await this.database.repo(Tenant).findOneBy({ id: tenantId });
    if (!tenant) return false;
    try {
      await this.mail.send({ to: tenant.email, subject: mail.subject, text: mail.lines.join('\n') });
      return true;
    } catch (error) {
      this.logger.warn(`Could not e-mail tenant ${tenantId} about an incident: ${(error as Error).message}`);
      return false;
    }
  }
}

export const ALL_KINDS: AlertKind[] = ['reauth_required', 'unsubscribed', 'delivery_failing', 'superseded'];

function openKey(integrationId: string, kind: AlertKind): string {
  return `${integrationId}:${kind}`;
}
