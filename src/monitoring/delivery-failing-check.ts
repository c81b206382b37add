import { Injectable } from '@nestjs/common';
import { In, MoreThan } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { Database } from '../database/database';
import { Integration } from '../integrations/integration.entity';
import { defineJob, JobHandler } from '../queue/job';
import { Message } from '../relay/message.entity';
import { Alerts } from './alerts';
import { DeliveryFigures, FailingIntegration } from './delivery-figures';

export const FAILING_CHECK_INTERVAL_MS = 60_000;

export const DeliveryFailingCheckJob = defineJob<{ slot: number }>('monitoring.delivery-failing', { attempts: 1, concurrency: 1, every: { intervalMs: FAILING_CHECK_INTERVAL_MS } });

/**
 * Every minute: integrations whose messages have kept failing to reach the contact center for more
 * than ALERT_FAILING_MINUTES get an incident (one e-mail); incidents of integrations that deliver
 * again are closed. Runs once per slot across processes (the job id is the slot).
 */
@Injectable()
export class DeliveryFailingCheck {
  constructor(
    private readonly config: AppConfig,
    private readonly database: Database,
    private readonly figures: DeliveryFigures,
    private readonly alerts: Alerts,
  ) {}

  @JobHandler(DeliveryFailingCheckJob)
  async run(): Promise<void> {
    await this.check();
  }

  /** One pass (the job calls this; so can tests): returns the ids opened and closed. */
  async check(now = new Date()): Promise<{ opened: string[]; closed: string[] }> {
    const failing = await this.figures.failing(now);
    const failingIds = new Set(failing.map((row) => row.integrationId));
    const opened: string[] = [];
    const integrations = failing.length ? await this.database.repo(Integration).findBy({ id: In([...failingIds]) }) : [];
    for (const integration of integrations) {
      const row = failing.find((entry) => entry.integrationId === integration.id)!;
      const error = await this.lastError(row);
      const reason = `Messages have not reached the contact center since ${row.since.toISOString()}${error ? `: ${error}` : ''}`;
      if (await this.alerts.open(integration, 'delivery_failing', reason, this.mail(integration, row, error, now))) opened.push(integration.id);
    }
    const closed: string[] = [];
    for (const incident of await this.alerts.openOfKind('delivery_failing')) {
      if (failingIds.has(incident.integrationId)) continue;
      if (await this.alerts.close(incident.integrationId, ['delivery_failing'])) closed.push(incident.integrationId);
    }
    return { opened, closed };
  }

  private async lastError(row: FailingIntegration): Promise<string | null> {
    const head = await this.database.repo(Message).findOne({
      where: { integrationId: row.integrationId, status: 'queued', direction: 'in', attempts: MoreThan(0) },
      order: { createdAt: 'ASC' },
      select: { id: true, lastError: true },
    });
    return head?.lastError ?? null;
  }

  private mail(integration: Integration, row: FailingIntegration, error: string | null, now: Date) {
    const minutes = Math.max(1, Math.round((now.getTime() - row.since.getTime()) / 60_000));
    return {
      subject: `Messages are not reaching your contact center ("${integration.name}")`,
      lines: [
        `For about ${minutes} minutes, the relay has not been able to deliver messages from the Facebook page ${integration.pageName} to the Open Channel account of your integration "${integration.name}".`,
        error ? `Last error: ${error}` : 'The contact center did not accept them.',
        '',
        'The relay keeps them and retries on its own; they are delivered in order once the contact center accepts them again.',
        'Check that the contact center is reachable and that the Openchannel URL and API key are still right,',
        `then look at the Deliveries tab: ${this.config.publicUrl}/#/integrations/${integration.id}`,
        '',
        'You get this e-mail once per incident; we will not write again until deliveries have recovered and fail anew.',
      ],
    };
  }

}
