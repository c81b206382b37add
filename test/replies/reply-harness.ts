import { readBody } from '../support/http';
import { ContactCenterSandbox, startContactCenterSandbox } from '../../sandbox/contact-center/server';
import type { ReplyOptions, ReplyResult } from '../../sandbox/contact-center/agent';
import { FacebookSandbox, startFacebookSandbox } from '../../sandbox/facebook/server';
import { Database } from '../../src/database/database';
import { Integration } from '../../src/integrations/integration.entity';
import { Conversation } from '../../src/relay/conversation.entity';
import { Message } from '../../src/relay/message.entity';
import { Backend } from '../support/backends';
import { createConversation, createIntegration } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

export const HOUR = 3600_000;
export const MINUTE = 60_000;
export const DAY = 24 * HOUR;

const APP = { id: '7000000000000077', secret: 'replies-test-app-secret', verifyToken: 'replies-verify' };
const ALL_TASKS = ['ADVERTISE', 'ANALYZE', 'CREATE_CONTENT', 'MANAGE', 'MESSAGING', 'MODERATE'];

/** The relay between the two sandboxes, all in-process on free ports. */
export interface ReplyWorld {
  relay: TestApp;
  fb: FacebookSandbox;
  cc: ContactCenterSandbox;
  close(): Promise<void>;
}

/** `webhooks`: Facebook also sends its webhooks (echoes, receipts, comments) to the relay. */
export async function startReplyWorld(backend: Backend, options: { webhooks?: boolean } = {}): Promise<ReplyWorld> {
  const fb = await startFacebookSandbox({ port: 0, appId: APP.id, appSecret: APP.secret, seed: false, requireAppSecretProof: true });
  const cc = await startContactCenterSandbox({ port: 0 });
  const relay = await startTestApp({
    backend,
    env: {
      FACEBOOK_APP_ID: APP.id,
      FACEBOOK_APP_SECRET: APP.secret,
      FACEBOOK_VERIFY_TOKEN: APP.verifyToken,
      FACEBOOK_GRAPH_URL: fb.url,
      FACEBOOK_DIALOG_URL: fb.url,
    },
  });
  if (options.webhooks) await fb.control.configureWebhook({ callbackUrl: `${relay.url}/webhooks/facebook`, verifyToken: APP.verifyToken });
  return {
    relay,
    fb,
    cc,
    close: async () => {
      await relay.close();
      await fb.close();
      await cc.close();
    },
  };
}

export interface PageOptions {
  /** How long ago the customer last wrote, for both Facebook and the relay (default 1 hour). */
  lastMessageAgoMs?: number;
  humanAgentTag?: boolean;
  tenantId?: string;
  enabled?: boolean;
  status?: Integration['status'];
}

/**
 * One page bound to one contact-center account: the Facebook page with its token and a customer
 * who wrote, the relay's integration and Messenger conversation, and the account's Reply URL.
 */
export async function setUpPage(world: ReplyWorld, options: PageOptions = {}) {
  const { fb, cc, relay } = world;
  const ago = options.lastMessageAgoMs ?? HOUR;
  const owner = fb.control.createUser({ name: 'Page Owner' });
  const page = fb.control.createPage({ name: `Shop ${Math.random().toString(36).slice(2, 8)}`, roles: { [owner.id]: ALL_TASKS } });
  const { pageToken } = fb.control.issueToken({ userId: owner.id, pageId: page.id });
  fb.control.subscribePage(page.id);
  const customer = fb.control.createCustomer({ pageId: page.id, firstName: 'Ana', lastName: 'Silva', lastMessageAgoMs: ago });
  const apiKey = `cc-key-${Math.random().toString(36).slice(2)}`;
  const account = cc.control.createAccount({ apiKey });
  const { integration, replyToken } = await createIntegration(relay, {
    tenantId: options.tenantId,
    pageId: page.id,
    pageName: page.name,
    pageToken: pageToken!,
    openchannelUrl: cc.receiveUrl(account.id),
    apiKey,
    humanAgentTag: options.humanAgentTag ?? false,
    enabled: options.enabled,
    status: options.status,
  });
  const replyUrl = `${relay.url}/api/reply?token=${encodeURIComponent(replyToken)}`;
  cc.control.setReplyUrl(account.id, replyUrl);
  const conversation = await createConversation(relay, integration, { customerId: customer.psid, lastCustomerMessageAt: new Date(Date.now() - ago) });
  const reply = (opts: Partial<ReplyOptions> = {}): Promise<ReplyResult> => cc.control.reply({ accountId: account.id, contactFrom: customer.psid, body: 'Hello from the agent', ...opts });
  return { page, pageToken: pageToken!, customer, account, integration, replyToken, replyUrl, conversation, reply };
}

export type PageSetup = Awaited<ReturnType<typeof setUpPage>>;

/** A wall thread on the page: a page post and the customer's comment under it, known to the relay. */
export async function setUpWallThread(world: ReplyWorld, setup: PageSetup, options: { withComment?: boolean; commentAgoMs?: number } = {}) {
  const { fb, relay } = world;
  const post = fb.control.state.addPost({ pageId: setup.page.id, message: 'Spring sale!' });
  let commentId: string | null = null;
  if (options.withComment ?? true) {
    const at = Date.now() - (options.commentAgoMs ?? 10 * MINUTE);
    commentId = fb.control.state.addComment({ parentId: post.id, fromId: setup.customer.psid, fromName: 'Ana Silva', message: 'Kids bikes?', byPage: false, createdAt: at }).id;
  }
  const conversation = await createConversation(relay, setup.integration, {
    customerId: setup.customer.psid,
    threadId: post.id,
    lastCustomerMessageAt: new Date(Date.now() - (options.commentAgoMs ?? 10 * MINUTE)),
    lastCustomerCommentId: commentId,
  });
  return { post, commentId, conversation };
}

/** POST /api/reply directly (for token and body checks the sandbox agent would not send). */
export async function postReply(relay: TestApp, query: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${relay.url}/api/reply${query}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: (await readBody(res)).body, headers: res.headers };
}

/** Graph calls the sandbox received on a path (e.g. '/messages', '/comments'). */
export function graphCalls(fb: FacebookSandbox, pageId: string, path: string) {
  return fb.control.calls({ kind: 'graph', path }).filter((call) => call.pageId === pageId);
}

export async function outboundRows(relay: TestApp, integrationId: string): Promise<Message[]> {
  return relay.get(Database).repo(Message).find({ where: { integrationId, direction: 'out' }, order: { occurredAt: 'ASC', part: 'ASC' } });
}

export async function integrationRow(relay: TestApp, id: string): Promise<Integration> {
  return relay.get(Database).repo(Integration).findOneByOrFail({ id });
}

export async function conversationRow(relay: TestApp, id: string): Promise<Conversation> {
  return relay.get(Database).repo(Conversation).findOneByOrFail({ id });
}
