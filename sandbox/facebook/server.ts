/** Facebook platform sandbox: one HTTP server for the Graph API, the Login dialog, the media CDN and the control API. */
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { SandboxCdn } from './cdn';
import { SandboxControl } from './control';
import { controlRoutes, handleControl } from './control-routes';
import { LoginDialog } from './dialog';
import { Errors, GraphError } from './errors';
import { EventGenerator } from './events';
import { GraphApi, GraphRequest, tokenFrom } from './graph-routes';
import { ParsedBody, readBody, readRaw, redirect, sendHtml, sendJson } from './http-util';
import { CustomerSimulator, isSimulatorRequest } from './simulator';
import { SandboxState } from './state';
import { DEFAULT_APP_FIELDS, DEFAULT_APP_ID, DEFAULT_APP_SECRET, DEFAULT_WEBHOOK_OPTIONS, FacebookSandboxOptions, ResolvedOptions } from './types';
import { SandboxClock, newTraceId, sleep } from './util';
import { WebhookDispatcher } from './webhooks';

export * from './types';
export { SandboxControl } from './control';
export type { InjectionInput, InjectionRule, CallFilter } from './control';
export { metaJson, signatureHeaders } from './webhooks';
export type { DeliveryRecord } from './webhooks';
export type { CustomerMessageInput, MediaInput, EventResult } from './events';
export type { SeedInfo, ThreadMessage, CallRecord } from './state';

export interface FacebookSandbox {
  /** Base URL, e.g. http://127.0.0.1:3001 (Graph API, dialog, CDN and /_control all live here). */
  url: string;
  /** `${url}/${graphVersion}` — what FACEBOOK_GRAPH_URL should point at (versioned paths). */
  graphUrl: string;
  port: number;
  appId: string;
  appSecret: string;
  graphVersion: string;
  /** Ids of the demo world (undefined when seed=false). */
  seed: SandboxState['seedInfo'];
  control: SandboxControl;
  close(): Promise<void>;
}

const SECRET_PARAMS = ['access_token', 'client_secret', 'fb_exchange_token', 'input_token', 'appsecret_proof', 'code'];

function redact(value: unknown, key?: string): unknown {
  if (typeof value === 'string') {
    if (key && SECRET_PARAMS.includes(key)) return value.length > 10 ? `${value.slice(0, 6)}…(${value.length})` : '***';
    return value.length > 500 ? `${value.slice(0, 500)}…(${value.length} chars)` : value;
  }
  if (Array.isArray(value)) return value.map((v) => redact(v));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]));
  return value;
}

export async function startFacebookSandbox(input: FacebookSandboxOptions = {}): Promise<FacebookSandbox> {
  const options: ResolvedOptions = {
    port: input.port ?? 0,
    host: input.host ?? '127.0.0.1',
    appId: input.appId ?? DEFAULT_APP_ID,
    appSecret: input.appSecret ?? DEFAULT_APP_SECRET,
    appName: input.appName ?? 'Open Channel Relay (sandbox)',
    graphVersion: input.graphVersion ?? 'v24.0',
    autoApprove: input.autoApprove ?? false,
    cdnTtlMs: input.cdnTtlMs ?? 3600_000,
    seed: input.seed ?? true,
    allowedRedirectUris: input.allowedRedirectUris,
    requireAppSecretProof: input.requireAppSecretProof ?? false,
    webhook: { ...DEFAULT_WEBHOOK_OPTIONS, ...input.webhook },
    log: input.log ?? (() => undefined),
  };
  let baseUrl = input.publicUrl ?? '';
  const base = () => baseUrl;

  const clock = new SandboxClock();
  const state = new SandboxState(clock, options.appId, options.appSecret);
  const cdn = new SandboxCdn(clock, options.appSecret + ':cdn', options.cdnTtlMs, base);
  const webhooks = new WebhookDispatcher(state, options.webhook, options.graphVersion, options.log);
  const events = new EventGenerator(state, cdn, webhooks, options.appId);
  const graph = new GraphApi(state, cdn, events, webhooks, options, base);
  const dialog = new LoginDialog(state, options);
  const control = new SandboxControl(state, cdn, webhooks, events, options, base);
  const routes = controlRoutes(control);
  const simulator = new CustomerSimulator(control);
  if (options.seed) state.seed();

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'http://sandbox.local');
    const method = (req.method ?? 'GET').toUpperCase();
    if (url.pathname.startsWith('/_control')) return handleControl(control, routes, req, res, url);
    // Customer simulator web page: GET / (without a token) and /simulator/... (no Graph id looks like that).
    if (isSimulatorRequest(method, url, req)) return simulator.handle(req, res, url);

    const query = Object.fromEntries(url.searchParams);
    if (url.pathname.startsWith('/cdn/')) {
      const status = cdn.handle(req, res, url);
      state.recordCall({ at: new Date(started).toISOString(), kind: 'cdn', method, path: url.pathname, query: {}, status, durationMs: Date.now() - started });
      return;
    }

    const m = /^\/(v\d+\.\d+)(\/.*)?$/.exec(url.pathname);
    const version = m ? m[1] : '';
    const path = m ? m[2] ?? '/' : url.pathname;

    if (path === '/dialog/oauth' || path === '/dialog/oauth/') {
      let result;
      if (method === 'POST') result = dialog.submit(new URLSearchParams((await readRaw(req)).toString('utf8')));
      else result = dialog.show(url.searchParams, url.pathname);
      if (result.kind === 'redirect') redirect(res, result.location);
      else sendHtml(res, result.status, result.html);
      state.recordCall({ at: new Date(started).toISOString(), kind: 'dialog', method, path, query: redact(query) as Record<string, string>, status: result.kind === 'redirect' ? 302 : result.status, durationMs: Date.now() - started });
      return;
    }

    // ---- Graph API ----
    const traceId = newTraceId();
    const headers: Record<string, string> = {
      'x-fb-trace-id': traceId,
      'x-fb-rev': '1020000000',
      'facebook-api-version': version || options.graphVersion,
      'x-app-usage': '{"call_count":1,"total_cputime":1,"total_time":1}',
      'access-control-allow-origin': '*',
    };
    let parsed: ParsedBody = { fields: {}, files: [], raw: Buffer.alloc(0), kind: 'none' };
    let status = 200;
    let body: unknown;
    let graphError: GraphError | undefined;
    let injected = false;
    let tokenType: string | undefined;
    let pageId: string | undefined;
    try {
      try {
        parsed = await readBody(req);
      } catch {
        throw Errors.param('Invalid JSON in request body');
      }
      const params: Record<string, unknown> = { ...query, ...parsed.fields };
      const greq: GraphRequest = { method, path, version, params, files: parsed.files, authorization: req.headers.authorization };
      const raw = tokenFrom(greq);
      const token = raw ? state.lookupToken(raw) : undefined;
      tokenType = token?.type;
      const firstSeg = path.split('/').filter(Boolean)[0];
      pageId = token?.type === 'PAGE' ? token.pageId : state.pages.has(firstSeg) ? firstSeg : undefined;

      const isAppSubscribe = method === 'POST' && new RegExp(`^/(${options.appId})/subscriptions/?$`).test(path);
      const perform = () => (isAppSubscribe ? graph.subscribeApp(greq) : graph.handle(greq));
      /** No answer at all: the caller sees the connection close. `callStatus` is what the call did here. */
      const dropConnection = (callStatus: number) => {
        req.socket.destroy();
        state.recordCall({ at: new Date(started).toISOString(), kind: 'graph', method, path, query: redact(query) as Record<string, string>, status: callStatus, durationMs: Date.now() - started, injected: true, tokenType: tokenType as 'USER', pageId });
      };
      if (control.down) {
        injected = true;
        throw new GraphError(2, 'Service temporarily unavailable', undefined, 503, 'OAuthException', { is_transient: true });
      }
      const inj = control.takeInjection(method, path, pageId);
      if (inj) {
        injected = inj.rule.kind !== 'delay';
        if (inj.loseAnswer) {
          // Facebook did the work; its answer never reaches the caller (a connection lost on the way back).
          const result = await perform().catch((error: Error) => error);
          if (inj.delayMs > 0) await sleep(inj.delayMs);
          dropConnection(result instanceof Error ? 0 : result.status ?? 200);
          return;
        }
        if (inj.delayMs > 0) await sleep(inj.delayMs);
        if (inj.refuse) {
          dropConnection(0);
          return;
        }
        if (inj.down) throw new GraphError(2, 'Service temporarily unavailable', undefined, 503, 'OAuthException', { is_transient: true });
        if (inj.error) throw inj.error;
      }
      const result = await perform();
      status = result.status ?? 200;
      body = result.body;
      Object.assign(headers, result.headers ?? {});
    } catch (err) {
      if (err instanceof GraphError) graphError = err;
      else graphError = Errors.param((err as Error).message ?? 'Invalid parameter');
      status = graphError.httpStatus;
      body = graphError.toBody(traceId);
      Object.assign(headers, graphError.headers);
      if (graphError.code === 190) headers['www-authenticate'] = `OAuth "Facebook Platform" "invalid_token" "${graphError.message.replace(/"/g, "'")}"`;
    }
    sendJson(res, status, body, headers);
    state.recordCall({
      at: new Date(started).toISOString(),
      kind: 'graph',
      method,
      path,
      query: redact(query) as Record<string, string>,
      body: parsed.kind === 'none' ? undefined : { ...(redact(parsed.fields) as object), ...(parsed.files.length ? { _files: parsed.files.map((f) => ({ field: f.field, filename: f.filename, contentType: f.contentType, size: f.data.length })) } : {}) },
      status,
      durationMs: Date.now() - started,
      errorCode: graphError?.code,
      errorSubcode: graphError?.subcode,
      injected: injected || undefined,
      tokenType: tokenType as 'USER' | undefined,
      pageId,
    });
  };

  const server: Server = createServer((req, res) => {
    handler(req, res).catch((err: Error) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: err.message, type: 'SandboxError', code: 1 } });
      else res.end();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const hostForUrl = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  if (!baseUrl) baseUrl = `http://${hostForUrl.includes(':') ? `[${hostForUrl}]` : hostForUrl}:${addr.port}`;

  if (input.subscribeSeededPages && state.seedInfo) {
    for (const id of Object.values(state.seedInfo.pages)) if (id !== state.seedInfo.pages.limited) state.requirePage(id).subscribedFields = [...(input.webhookFields ?? DEFAULT_APP_FIELDS)];
  }
  if (input.webhookCallbackUrl) {
    await control.configureWebhook({ callbackUrl: input.webhookCallbackUrl, verifyToken: input.webhookVerifyToken ?? '', fields: input.webhookFields });
  }

  return {
    url: baseUrl,
    graphUrl: `${baseUrl}/${options.graphVersion}`,
    port: addr.port,
    appId: options.appId,
    appSecret: options.appSecret,
    graphVersion: options.graphVersion,
    seed: state.seedInfo,
    control,
    close: async () => {
      webhooks.close();
      graph.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
