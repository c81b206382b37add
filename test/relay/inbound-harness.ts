import { startContactCenterSandbox, ContactCenterSandbox } from '../../sandbox/contact-center/server';
import { startFacebookSandbox, FacebookSandbox } from '../../sandbox/facebook/server';
import { Database } from '../../src/database/database';
import { Integration } from '../../src/integrations/integration.entity';
import { DeliverySettings } from '../../src/relay/delivery.settings';
import { Message } from '../../src/relay/message.entity';
import { InboxProcessor } from '../../src/webhooks/inbox-processor';
import { Backend } from '../support/backends';
import { createIntegration, IntegrationFixture } from '../support/fixtures';
import { startTestApp, TestApp, TestAppOptions } from '../support/test-app';
import { postWebhook } from './webhook-signing';

export const VERIFY_TOKEN = 'relay-verify-token-123';

export interface Harness {
  fb: FacebookSandbox;
  cc: ContactCenterSandbox;
  relay: TestApp;
  close(): Promise<void>;
}

/** Short timings so retries, the sweeper and leases play out within a test. */
export function fastDelivery(relay: TestApp): DeliverySettings {
  const settings = relay.get(DeliverySettings);
  Object.assign(settings, {
    retryDelaysMs: [300, 600], maxAttempts: 6, jitter: 0, sweepIntervalMs: 300, sweepGraceMs: 800, leaseMs: 3_000, profileRetryMs: 60_000,
  });
  return settings;
}

export function relayEnv(fb: FacebookSandbox): Record<string, string> {
  return { FACEBOOK_APP_ID: fb.appId, FACEBOOK_APP_SECRET: fb.appSecret, FACEBOOK_VERIFY_TOKEN: VERIFY_TOKEN, FACEBOOK_GRAPH_URL: fb.url };
}

/** The Facebook sandbox (Graph, CDN, webhooks to the relay), the contact-center sandbox, and a relay on the backend. */
export async function startHarness(backend: Backend, options: TestAppOptions = {}): Promise<Harness> {
  const fb = await startFacebookSandbox({ port: 0, autoApprove: true, webhook: { retryDelaysMs: [50, 100, 200], flushDelayMs: 5 } as never });
  const cc = await startContactCenterSandbox({});
  const relay = await startTestApp({ backend, ...options, env: { ...relayEnv(fb), ...options.env } });
  fastDelivery(relay);
  await fb.control.configureWebhook({ callbackUrl: `${relay.url}/webhooks/facebook`, verifyToken: VERIFY_TOKEN });
  return {
    fb, cc, relay,
    close: async () => {
      await relay.close();
      await cc.close();
      await fb.close();
    },
  };
}

export interface Tenant {
  pageId: string;
  accountId: number;
  integration: Integration;
  customer: (firstName?: string, lastName?: string, hasProfile?: boolean) => string;
}

/** A page on the Facebook sandbox, an Open Channel account, and an integration binding them (fresh tenant). */
export async function newTenant(h: Harness, fixture: Partial<IntegrationFixture> = {}): Promise<Tenant> {
  const ana = h.fb.seed!.users.ana;
  const created = h.fb.control.createPage({ name: `Page ${Math.random().toString(36).slice(2, 8)}`, roles: { [ana]: ['MANAGE', 'CREATE_CONTENT', 'MODERATE', 'MESSAGING', 'ADVERTISE', 'ANALYZE'] } });
  const { pageToken } = h.fb.control.issueToken({ userId: ana, pageId: created.id }) as { pageToken: string };
  h.fb.control.subscribePage(created.id);
  const account = h.cc.control.createAccount({ apiKey: `key-${created.id}` });
  const { integration } = await createIntegration(h.relay, {
    openchannelUrl: h.cc.receiveUrl(account.id).replace(/[?&]apikey=[^&]*/, ''), apiKey: `key-${created.id}`, pageId: created.id, pageToken, ...fixture,
  });
  return {
    pageId: created.id, accountId: account.id, integration,
    customer: (firstName = 'Ana', lastName = 'Silva', hasProfile = true) =>
      (h.fb.control.createCustomer({ pageId: created.id, firstName, lastName, hasProfile }) as { psid: string }).psid,
  };
}

export async function messagesOf(relay: TestApp, integrationId: string): Promise<Message[]> {
  return relay.get(Database).repo(Message).find({ where: { integrationId }, order: { occurredAt: 'ASC', part: 'ASC' } });
}

export async function waitFor<T>(what: string, check: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The integration's messages once none is queued any more (the contact center may answer before the row is updated). */
export async function settledMessages(relay: TestApp, integrationId: string, timeoutMs = 10_000): Promise<Message[]> {
  return waitFor('no queued messages', async () => {
    const rows = await messagesOf(relay, integrationId);
    return rows.every((m) => m.status !== 'queued') && rows;
  }, timeoutMs);
}

/**
 * A webhook POST, then the wait until the relay has turned what it accepted into messages: the 200
 * comes once the body is in the webhook inbox, the message rows a moment later.
 */
export async function postAndStore(relay: TestApp, appSecret: string, ...[payload, options]: [unknown, Parameters<typeof postWebhook>[3]?]) {
  const answer = await postWebhook(relay.url, appSecret, payload, options);
  await relay.get(InboxProcessor).idle();
  return answer;
}
