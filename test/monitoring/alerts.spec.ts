import { Database } from '../../src/database/database';
import { GraphError } from '../../src/facebook/graph-errors';
import { Integration } from '../../src/integrations/integration.entity';
import { IntegrationHealth } from '../../src/integrations/integration-health';
import { MailService } from '../../src/mail/mail.service';
import { AlertIncident } from '../../src/monitoring/alert-incident.entity';
import { DeliveryFailingCheck } from '../../src/monitoring/delivery-failing-check';
import { DeliverySettings } from '../../src/relay/delivery.settings';
import { Message } from '../../src/relay/message.entity';
import { backends } from '../support/backends';
import { registerAndLogin } from '../support/tenant-client';
import { Harness, messagesOf, newTenant, startHarness, waitFor } from '../relay/inbound-harness';
import { messaging, page, postWebhook, textEvent } from '../relay/webhook-signing';

describe.each(backends())('alert e-mails, once per incident, on %s', (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend, { env: { ALERT_FAILING_MINUTES: '15' } });
    Object.assign(h.relay.get(DeliverySettings), { retryDelaysMs: [400], maxAttempts: 1000 });
  });
  afterAll(() => h?.close());

  const mails = (email: string, subject: RegExp) => h.relay.get(MailService).sandboxOutbox(email).filter((mail) => subject.test(mail.subject));
  const incidents = (integrationId: string) => h.relay.get(Database).repo(AlertIncident).find({ where: { integrationId }, order: { openedAt: 'ASC' } });
  /** Makes the integration's waiting messages look 20 minutes old (ALERT_FAILING_MINUTES is 15). */
  const age = (integrationId: string) => h.relay.get(Database).repo(Message).update({ integrationId, status: 'queued' }, { createdAt: new Date(Date.now() - 20 * 60_000) });

  it('deliveries failing for more than N minutes: one e-mail per incident, closed on recovery, a new one when it fails again', async () => {
    const tenant = await registerAndLogin(h.relay);
    const { integration, pageId } = await newTenant(h, { tenantId: tenant.tenantId });
    const check = h.relay.get(DeliveryFailingCheck);
    const subject = /not reaching your contact center/;

    h.cc.control.setFailures({ errors: { status: 503, message: 'maintenance' } });
    expect((await postWebhook(h.relay.url, h.fb.appSecret, page(messaging(pageId, [textEvent(pageId, 'p1', 'Olá?')])))).status).toBe(200);
    await waitFor('a failed try', async () => (await messagesOf(h.relay, integration.id)).some((m) => m.status === 'queued' && m.attempts > 0));

    // Failing, but not for 15 minutes yet: nothing.
    expect((await check.check()).opened).not.toContain(integration.id);
    expect(mails(tenant.email, subject)).toHaveLength(0);

    await age(integration.id);
    expect((await check.check()).opened).toEqual([integration.id]);
    expect((await check.check()).opened).toEqual([]); // the second check of the same incident sends nothing
    const first = mails(tenant.email, subject);
    expect(first).toHaveLength(1);
    expect(first[0].text).toContain('503');
    expect(first[0].text).toContain(`/#/integrations/${integration.id}`);
    expect((await tenant.request('GET', '/api/v1/integrations')).body.find((i: any) => i.id === integration.id)).toMatchObject({ failing: true });
    expect((await tenant.request('GET', `/api/v1/integrations/${integration.id}/health`)).body.failing).toBe(true);

    // The contact center is back: delivered, the incident closes, no e-mail.
    h.cc.control.clearFailures();
    await waitFor('delivered', async () => (await messagesOf(h.relay, integration.id)).every((m) => m.status === 'delivered'));
    expect((await check.check()).closed).toEqual([integration.id]);
    expect((await tenant.request('GET', `/api/v1/integrations/${integration.id}`)).body.failing).toBe(false);
    let rows = await incidents(integration.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ kind: 'delivery_failing', openKey: null });
    expect(rows[0].notifiedAt).not.toBeNull();
    expect(rows[0].closedAt).not.toBeNull();

    // It fails again: a new incident, a second e-mail.
    h.cc.control.setFailures({ errors: { status: 503 } });
    expect((await postWebhook(h.relay.url, h.fb.appSecret, page(messaging(pageId, [textEvent(pageId, 'p1', 'Ainda aí?')])))).status).toBe(200);
    await waitFor('a failed try', async () => (await messagesOf(h.relay, integration.id)).some((m) => m.status === 'queued' && m.attempts > 0));
    await age(integration.id);
    expect((await check.check()).opened).toEqual([integration.id]);
    await check.check();
    expect(mails(tenant.email, subject)).toHaveLength(2);
    rows = await incidents(integration.id);
    expect(rows.map((row) => Boolean(row.closedAt))).toEqual([true, false]);
    h.cc.control.clearFailures();
    await waitFor('delivered', async () => (await messagesOf(h.relay, integration.id)).every((m) => m.status === 'delivered'));
    await check.check();
  }, 30_000);

  it('token needs re-authorization and page unsubscribed: one e-mail per incident, a new one after recovery', async () => {
    const tenant = await registerAndLogin(h.relay);
    const { integration } = await newTenant(h, { tenantId: tenant.tenantId });
    const health = h.relay.get(IntegrationHealth);
    const revoked = new GraphError(400, 190, 460, 'Error validating access token: session invalidated');
    expect(revoked.classification).toBe('reauth');

    await health.reportGraphError(integration.id, revoked);
    await health.reportGraphError(integration.id, revoked);
    await health.markReauthRequired(integration.id, 'again');
    const reauth = /re-activate .* with Facebook/;
    expect(mails(tenant.email, reauth)).toHaveLength(1);

    // Re-activated (what IntegrationsService.reactivate does), then revoked again: a second e-mail.
    await h.relay.get(Database).repo(Integration).update({ id: integration.id }, { status: 'active' });
    await health.recovered(integration.id, ['reauth_required', 'unsubscribed', 'superseded']);
    await health.reportGraphError(integration.id, revoked);
    expect(mails(tenant.email, reauth)).toHaveLength(2);

    await h.relay.get(Database).repo(Integration).update({ id: integration.id }, { status: 'active' });
    await health.recovered(integration.id, ['reauth_required']);
    const unsubscribed = /no longer receives Facebook events/;
    expect(await health.markUnsubscribed(integration.id, 'The app was removed')).toBe(true);
    expect(await health.markUnsubscribed(integration.id, 'The app was removed')).toBe(false);
    expect(mails(tenant.email, unsubscribed)).toHaveLength(1);

    const kinds = (await incidents(integration.id)).map((row) => [row.kind, Boolean(row.closedAt)]);
    expect(kinds).toEqual([['reauth_required', true], ['reauth_required', true], ['unsubscribed', false]]);
  });

  it('integration superseded: the previous owner gets one e-mail per incident', async () => {
    const tenant = await registerAndLogin(h.relay);
    const { integration } = await newTenant(h, { tenantId: tenant.tenantId });
    const health = h.relay.get(IntegrationHealth);
    await health.notifySuperseded(integration);
    await health.notifySuperseded(integration);
    expect(mails(tenant.email, /was replaced by a newer integration/)).toHaveLength(1);
    await health.recovered(integration.id, ['superseded']);
    await health.notifySuperseded(integration);
    expect(mails(tenant.email, /was replaced by a newer integration/)).toHaveLength(2);
  });
});
