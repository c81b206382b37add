import { readBody } from '../support/http';
import { Database } from '../../src/database/database';
import { Integration } from '../../src/integrations/integration.entity';
import { DeliverySettings } from '../../src/relay/delivery.settings';
import { Message } from '../../src/relay/message.entity';
import { postAndStore } from '../relay/inbound-harness';
import { messaging, page, textEvent } from '../relay/webhook-signing';
import { Backend } from '../support/backends';
import { createIntegration } from '../support/fixtures';
import { startTestApp, TestApp, TestAppOptions } from '../support/test-app';
import { registerAndLogin, TenantClient } from '../support/tenant-client';

/** An address nothing listens on: deliveries to it fail fast and stay queued (retries pushed far away). */
export const DEAD_OPENCHANNEL_URL = 'http://127.0.0.1:9/api/openchannel/accounts/1/notify';

/** A relay whose every log line is kept (level debug), so suites can look for secrets in them. */
export async function startLoggedRelay(backend: Backend, options: TestAppOptions = {}): Promise<{ relay: TestApp; logs: string[] }> {
  const logs: string[] = [];
  const relay = await startTestApp({ backend, logLines: logs, ...options });
  // Deliveries to dead test addresses retry far in the future: nothing churns in the background.
  Object.assign(relay.get(DeliverySettings), { retryDelaysMs: [600_000], sweepIntervalMs: 600_000 });
  return { relay, logs };
}

export interface TenantWorld {
  client: TenantClient;
  integration: Integration;
  replyToken: string;
  apiKey: string;
  pageToken: string;
  customerId: string;
  /** An inbound message of this tenant, set to `failed` so a replay would be accepted by its owner. */
  messageId: string;
}

/** A tenant made through the real sign-up, with an integration and one inbound message of a customer. */
export async function tenantWorld(relay: TestApp, label: string, openchannelUrl = DEAD_OPENCHANNEL_URL): Promise<TenantWorld> {
  const client = await registerAndLogin(relay, `${label}-${Date.now()}-${Math.random().toString(36).slice(2, 7)}@example.com`);
  const pageId = String(300000000 + Math.floor(Math.random() * 600000000));
  const apiKey = `apikey-${label}-${Math.random().toString(36).slice(2)}`;
  const pageToken = `EAAG-page-token-${label}-${Math.random().toString(36).slice(2)}`;
  const { integration, replyToken } = await createIntegration(relay, { tenantId: client.tenantId, pageId, openchannelUrl, apiKey, pageToken });
  const customerId = `psid-${label}-${Math.random().toString(36).slice(2, 8)}`;
  const posted = await postAndStore(relay, relay.config.facebook.appSecret, page(messaging(pageId, [textEvent(pageId, customerId, `hello from ${label}`)])));
  if (posted.status !== 200) throw new Error(`webhook for ${label} answered ${posted.status}: ${posted.body}`);
  const message = await relay.get(Database).repo(Message).findOneOrFail({ where: { integrationId: integration.id, direction: 'in' } });
  await relay.get(Database).repo(Message).update({ id: message.id }, { status: 'failed', lastError: 'test' });
  return { client, integration, replyToken, apiKey, pageToken, customerId, messageId: message.id };
}

/** Every route Express knows for this app: method (upper case) and path pattern. */
export function routeTable(relay: TestApp): Array<{ method: string; path: string }> {
  const instance = relay.app.getHttpAdapter().getInstance() as { router?: RouterLike; _router?: RouterLike };
  const router = instance.router ?? instance._router;
  if (!router) throw new Error('Could not find the Express router of the app');
  const routes: Array<{ method: string; path: string }> = [];
  for (const layer of router.stack) {
    if (!layer.route) continue;
    for (const method of Object.keys(layer.route.methods)) routes.push({ method: method.toUpperCase(), path: layer.route.path });
  }
  return routes;
}

interface RouterLike {
  stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }>;
}

/** Plain fetch returning status, parsed body and headers; never throws on HTTP errors. */
export async function call(url: string, init: RequestInit & { json?: unknown } = {}): Promise<{ status: number; body: any; text: string; headers: Headers }> {
  const headers = new Headers(init.headers);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(init.json);
  }
  const res = await fetch(url, { ...init, headers, body, redirect: 'manual' });
  const { text, body: parsed } = await readBody(res);
  return { status: res.status, body: parsed, text, headers: res.headers };
}

/** The secrets given to `values` that appear in `haystack`, named by label (never printed themselves). */
export function leakedSecrets(haystack: string, values: Record<string, string>): string[] {
  return Object.entries(values)
    .filter(([, value]) => value.length >= 6 && haystack.includes(value))
    .map(([label]) => label);
}
