import { Tenant } from '../../src/accounts/tenant.entity';
import { hashSecret, randomToken, SecretBox } from '../../src/common/crypto/secret-box';
import { newId } from '../../src/common/ids';
import { Database } from '../../src/database/database';
import { Integration } from '../../src/integrations/integration.entity';
import { Conversation } from '../../src/relay/conversation.entity';
import { TestApp } from './test-app';

/**
 * Rows written straight into the database, for suites that test one feature without walking
 * through registration and Facebook login first. Each call makes fresh ids: no shared state.
 */
export async function createTenant(relay: TestApp, email = `t-${newId()}@example.com`): Promise<Tenant> {
  const now = new Date();
  const tenant: Tenant = { id: newId(), email, passwordHash: 'not-a-real-hash', status: 'active', createdAt: now, updatedAt: now };
  await relay.get(Database).repo(Tenant).insert(tenant);
  return tenant;
}

export interface IntegrationFixture {
  tenantId?: string;
  pageId?: string;
  pageName?: string;
  pageToken?: string;
  openchannelUrl: string;
  apiKey?: string | null;
  wallPosts?: boolean;
  enabled?: boolean;
  status?: Integration['status'];
  humanAgentTag?: boolean;
  forwardReactions?: boolean;
  forwardEdits?: boolean;
  signingSecret?: string | null;
}

/** An integration bound to a page, with its secrets encrypted as the real code stores them. */
export async function createIntegration(relay: TestApp, fixture: IntegrationFixture): Promise<{ integration: Integration; replyToken: string }> {
  const box = relay.get(SecretBox);
  const tenantId = fixture.tenantId ?? (await createTenant(relay)).id;
  const replyToken = randomToken();
  const now = new Date();
  const pageId = fixture.pageId ?? String(100000000 + Math.floor(Math.random() * 899999999));
  const integration: Integration = {
    id: newId(),
    tenantId,
    name: `Integration ${pageId}`,
    pageId,
    pageName: fixture.pageName ?? `Page ${pageId}`,
    boundPageId: fixture.status === 'superseded' ? null : pageId,
    facebookIdentityId: null,
    pageTokenEnc: box.encrypt(fixture.pageToken ?? `page-token-${pageId}`),
    openchannelUrlEnc: box.encrypt(fixture.openchannelUrl),
    apiKeyEnc: box.encryptOptional(fixture.apiKey),
    replyTokenHash: hashSecret(replyToken),
    replyTokenEnc: box.encrypt(replyToken),
    signingSecretEnc: box.encryptOptional(fixture.signingSecret),
    wallPosts: fixture.wallPosts ?? true,
    enabled: fixture.enabled ?? true,
    status: fixture.status ?? 'active',
    statusReason: null,
    humanAgentTag: fixture.humanAgentTag ?? false,
    forwardReactions: fixture.forwardReactions ?? false,
    forwardEdits: fixture.forwardEdits ?? false,
    pageSubscribed: true,
    lastEventAt: null,
    lastDeliveryAt: null,
    lastCheckedAt: null,
    createdAt: now,
    updatedAt: now,
  };
  await relay.get(Database).repo(Integration).insert(integration);
  return { integration, replyToken };
}

/** A conversation as inbound ingestion leaves it (customer wrote `lastCustomerMessageAt`). */
export async function createConversation(
  relay: TestApp,
  integration: Integration,
  fields: Partial<Conversation> & { customerId: string },
): Promise<Conversation> {
  const now = new Date();
  const conversation: Conversation = {
    id: newId(),
    tenantId: integration.tenantId,
    integrationId: integration.id,
    channel: fields.threadId ? 'wall' : 'messenger',
    threadId: '',
    customerName: null,
    firstName: null,
    lastName: null,
    lastCustomerMessageAt: now,
    lastCustomerCommentId: null,
    createdAt: now,
    updatedAt: now,
    ...fields,
  };
  await relay.get(Database).repo(Conversation).insert(conversation);
  return conversation;
}
