/** HTTP control API under /_control (JSON in, JSON out), mapped onto SandboxControl. */
import { IncomingMessage, ServerResponse } from 'node:http';
import { SandboxControl } from './control';
import { readRaw, sendJson } from './http-util';

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Handler = (m: string[], body: Body, q: URLSearchParams) => unknown | Promise<unknown>;

const num = (v: string | null): number | undefined => (v === null || v === '' ? undefined : Number(v));

export function controlRoutes(c: SandboxControl): [string, RegExp, Handler][] {
  const ev = c.events;
  return [
    ['GET', /^\/_control$/, () => c.info()],
    ['GET', /^\/_control\/info$/, () => c.info()],
    ['GET', /^\/_control\/state$/, () => c.snapshot()],
    ['POST', /^\/_control\/reset$/, (_m, b) => c.reset(b)],
    ['POST', /^\/_control\/clock\/advance$/, (_m, b) => c.advanceClock(Number(b.ms))],

    ['POST', /^\/_control\/users$/, (_m, b) => c.createUser(b as { name: string })],
    ['DELETE', /^\/_control\/users\/([^/]+)\/permissions\/([^/]+)$/, (m) => c.removePermission(m[1], m[2])],
    ['POST', /^\/_control\/users\/([^/]+)\/deauthorize$/, (m) => c.deauthorizeUser(m[1])],
    ['POST', /^\/_control\/pages$/, (_m, b) => c.createPage(b as { name: string })],
    ['PUT', /^\/_control\/pages\/([^/]+)\/roles\/([^/]+)$/, (m, b) => c.setPageRole(m[1], m[2], b.tasks)],
    ['DELETE', /^\/_control\/pages\/([^/]+)\/roles\/([^/]+)$/, (m) => c.removePageRole(m[1], m[2])],
    ['POST', /^\/_control\/pages\/([^/]+)\/subscribe$/, (m, b) => c.subscribePage(m[1], b.fields)],
    ['POST', /^\/_control\/pages\/([^/]+)\/unsubscribe$/, (m) => c.unsubscribePage(m[1])],
    ['POST', /^\/_control\/customers$/, (_m, b) => c.createCustomer(b as { pageId: string })],
    ['PATCH', /^\/_control\/customers\/([^/]+)$/, (m, b) => c.updateCustomer(m[1], b)],
    ['POST', /^\/_control\/objects\/([^/]+)\/age$/, (m, b) => c.ageObject(m[1], Number(b.agoMs))],

    ['GET', /^\/_control\/tokens$/, (_m, _b, q) => c.listTokens({ userId: q.get('userId') ?? undefined, pageId: q.get('pageId') ?? undefined, type: q.get('type') ?? undefined })],
    ['POST', /^\/_control\/tokens$/, (_m, b) => c.issueToken(b as { userId: string })],
    ['POST', /^\/_control\/tokens\/revoke$/, (_m, b) => c.revokeToken(b)],
    ['POST', /^\/_control\/tokens\/expire$/, (_m, b) => c.expireToken(b as { token: string })],

    ['GET', /^\/_control\/webhook$/, () => c.webhookStatus()],
    ['PUT', /^\/_control\/webhook$/, (_m, b) => c.configureWebhook(b as { callbackUrl: string; verifyToken: string })],
    ['DELETE', /^\/_control\/webhook$/, () => c.removeWebhook()],
    ['PATCH', /^\/_control\/webhook\/options$/, (_m, b) => c.setWebhookOptions(b)],
    ['GET', /^\/_control\/webhook\/deliveries$/, (_m, _b, q) => c.deliveries({ status: q.get('status') ?? undefined, pageId: q.get('pageId') ?? undefined, sinceId: num(q.get('sinceId')), limit: num(q.get('limit')) })],
    ['DELETE', /^\/_control\/webhook\/deliveries$/, () => c.clearDeliveries()],
    ['GET', /^\/_control\/webhook\/skipped$/, () => c.skippedEvents()],
    ['POST', /^\/_control\/webhook\/wait$/, async (_m, b) => ({ idle: await c.waitForWebhooks(b.timeoutMs) })],

    ['POST', /^\/_control\/events\/message$/, (_m, b) => ev.customerMessage(b)],
    ['POST', /^\/_control\/events\/postback$/, (_m, b) => ev.postback(b as { payload: string })],
    ['POST', /^\/_control\/events\/referral$/, (_m, b) => ev.referral(b)],
    ['POST', /^\/_control\/events\/reaction$/, (_m, b) => ev.reaction(b as { mid: string })],
    ['POST', /^\/_control\/events\/delivery$/, (_m, b) => ev.delivery(b as { psid: string })],
    ['POST', /^\/_control\/events\/read$/, (_m, b) => ev.read(b as { psid: string })],
    ['POST', /^\/_control\/events\/page-inbox-reply$/, (_m, b) => ev.pageInboxReply(b as { psid: string })],
    ['POST', /^\/_control\/events\/visitor-post$/, (_m, b) => ev.visitorPost(b)],
    ['POST', /^\/_control\/events\/comment$/, (_m, b) => ev.comment(b as { parentId: string })],
    ['POST', /^\/_control\/events\/comment-edit$/, (_m, b) => ev.editComment(b as { commentId: string; message: string })],
    ['POST', /^\/_control\/events\/comment-remove$/, (_m, b) => ev.removeComment(b as { commentId: string })],
    ['POST', /^\/_control\/events\/comment-hide$/, (_m, b) => ev.hideComment(b as { commentId: string })],
    ['POST', /^\/_control\/events\/page-post$/, (_m, b) => ev.pagePost(b as { pageId: string })],
    ['POST', /^\/_control\/events\/page-comment$/, (_m, b) => ev.pageComment(b as { parentId: string })],
    ['POST', /^\/_control\/events\/post-remove$/, (_m, b) => ev.removePost(b as { postId: string })],
    ['POST', /^\/_control\/events\/feed-reaction$/, (_m, b) => ev.feedReaction(b as { postId: string })],

    ['GET', /^\/_control\/errors$/, () => c.listInjections()],
    ['POST', /^\/_control\/errors$/, (_m, b) => c.injectError(b as { kind: 'transient' })],
    ['DELETE', /^\/_control\/errors$/, () => c.clearInjections()],
    ['POST', /^\/_control\/down$/, (_m, b) => c.setDown(b.down !== false)],

    ['GET', /^\/_control\/calls$/, (_m, _b, q) => c.calls({ method: q.get('method') ?? undefined, path: q.get('path') ?? undefined, kind: q.get('kind') ?? undefined, status: num(q.get('status')), sinceId: num(q.get('sinceId')), limit: num(q.get('limit')) })],
    ['DELETE', /^\/_control\/calls$/, () => c.clearCalls()],

    ['GET', /^\/_control\/messages$/, (_m, _b, q) =>
      c.messages({ pageId: q.get('pageId') ?? undefined, psid: q.get('psid') ?? undefined, direction: (q.get('direction') as 'inbound') ?? undefined, origin: q.get('origin') ?? undefined }),
    ],
    ['GET', /^\/_control\/media\/([^/]+)\/url$/, (m, _b, q) => ({ url: c.mediaUrl(m[1], num(q.get('ttlMs'))) })],
    ['PUT', /^\/_control\/cdn\/ttl$/, (_m, b) => c.setCdnTtl(Number(b.ms))],
  ];
}

export async function handleControl(c: SandboxControl, routes: [string, RegExp, Handler][], req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const path = url.pathname.replace(/\/+$/, '') || '/';
  // Raw media bytes (not JSON).
  const media = /^\/_control\/media\/([^/]+)$/.exec(path);
  if (media && req.method === 'GET') {
    const item = c.media(decodeURIComponent(media[1]));
    if (!item) return sendJson(res, 404, { error: 'unknown media' });
    res.writeHead(200, { 'content-type': item.contentType, 'content-length': String(item.bytes.length), 'x-filename': encodeURIComponent(item.filename) });
    res.end(item.bytes);
    return;
  }
  let matchedPath = false;
  for (const [method, re, handler] of routes) {
    const m = re.exec(path);
    if (!m) continue;
    matchedPath = true;
    if (method !== req.method) continue;
    let body: Body = {};
    try {
      const raw = await readRaw(req);
      if (raw.length) body = JSON.parse(raw.toString('utf8')) as Body;
    } catch {
      return sendJson(res, 400, { error: 'body must be JSON' });
    }
    try {
      const result = await handler(m.map((s) => (s === undefined ? s : decodeURIComponent(s))), body, url.searchParams);
      return sendJson(res, 200, result ?? { success: true });
    } catch (err) {
      return sendJson(res, 400, { error: (err as Error).message });
    }
  }
  sendJson(res, matchedPath ? 405 : 404, { error: matchedPath ? 'method not allowed' : 'unknown control endpoint' });
}
