/** The Graph API surface: OAuth token endpoint, /me, /accounts, debug_token, subscribed_apps, Send API, profile, comments. */
import { createHash } from 'node:crypto';
import { SandboxCdn } from './cdn';
import { Errors, GraphError } from './errors';
import { EventGenerator } from './events';
import { UploadedFile } from './http-util';
import { SandboxComment, SandboxCustomer, SandboxPage, SandboxPost, SandboxState, SandboxToken, SentAttachment, ThreadMessage } from './state';
import { ALL_WEBHOOK_FIELDS, MESSENGER_FIELDS, ResolvedOptions } from './types';
import { asBool, asString, decodeParam, graphTime, hmacHex, newMid } from './util';
import { WebhookDispatcher } from './webhooks';

export interface GraphRequest {
  method: string;
  /** Path without the version prefix, e.g. /me/accounts */
  path: string;
  /** Version prefix the caller used ('' if none). */
  version: string;
  params: Record<string, unknown>;
  files: UploadedFile[];
  authorization?: string;
}

export interface GraphResult {
  status?: number;
  body: unknown;
  headers?: Record<string, string>;
}

const DAY = 24 * 3600_000;
const MESSAGE_TAGS = ['HUMAN_AGENT', 'ACCOUNT_UPDATE', 'CONFIRMED_EVENT_UPDATE', 'POST_PURCHASE_UPDATE', 'CUSTOMER_FEEDBACK'];
const MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024;

export function tokenFrom(req: Pick<GraphRequest, 'params' | 'authorization'>): string | undefined {
  const p = asString(req.params.access_token);
  if (p) return p;
  const m = /^(?:Bearer|OAuth)\s+(.+)$/i.exec(req.authorization ?? '');
  return m?.[1].trim();
}

export class GraphApi {
  private timers = new Set<NodeJS.Timeout>();
  private profilePics = new Map<string, string>();

  constructor(
    private readonly state: SandboxState,
    private readonly cdn: SandboxCdn,
    private readonly events: EventGenerator,
    private readonly webhooks: WebhookDispatcher,
    private readonly options: ResolvedOptions,
    private readonly baseUrl: () => string,
  ) {}

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  async handle(req: GraphRequest): Promise<GraphResult> {
    const segs = req.path.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
    if (segs.length === 0) throw Errors.unknownPath('');
    if (segs[0] === 'oauth' && segs[1] === 'access_token') return { body: this.accessToken(req) };
    if (segs[0] === 'debug_token') return { body: this.debugToken(req) };
    if (segs.length > 3) throw Errors.unknownPath(segs.slice(2).join('/'));

    let id = segs[0];
    const edge = segs[1];
    let token: SandboxToken | undefined;
    if (id === 'me') {
      token = this.auth(req, true)!;
      if (token.type === 'USER') id = token.userId!;
      else if (token.type === 'PAGE') id = token.pageId!;
      else throw new GraphError(2500, 'An active access token must be used to query information about the current user.');
    }

    if (id === this.state.appId) return this.appObject(req, edge);
    const user = this.state.users.get(id);
    if (user) return this.userObject(req, user.id, edge, segs[2]);
    const page = this.state.pages.get(id);
    if (page) return this.pageObject(req, page, edge);
    const customer = this.state.customers.get(id);
    if (customer && !edge) return this.profile(req, customer);
    const post = this.state.posts.get(id);
    if (post && !post.removed) return this.postObject(req, post, edge);
    const comment = this.state.comments.get(id);
    if (comment && !comment.removed) return this.commentObject(req, comment, edge);
    this.auth(req, true);
    throw Errors.unknownObject(id, req.method);
  }

  // ---------- auth ----------

  /** Resolves and validates the caller's token (and appsecret_proof). */
  auth(req: GraphRequest, required: boolean): SandboxToken | undefined {
    const raw = tokenFrom(req);
    if (!raw) {
      if (!required) return undefined;
      throw new GraphError(104, 'An access token is required to request this resource.');
    }
    const t = this.state.lookupToken(raw);
    if (!t) throw Errors.invalidToken();
    const problem = this.state.tokenProblem(t);
    if (problem) throw problem;
    const proof = asString(req.params.appsecret_proof);
    if (proof !== undefined) {
      if (proof !== hmacHex('sha256', this.state.appSecret, raw)) throw Errors.badProof();
    } else if (this.options.requireAppSecretProof && t.type !== 'APP') {
      throw Errors.proofRequired();
    }
    return t;
  }

  private requirePageToken(req: GraphRequest, page: SandboxPage): SandboxToken {
    const t = this.auth(req, true)!;
    if (t.type !== 'PAGE') throw new GraphError(210, '(#210) This call requires a Page access token.');
    if (t.pageId !== page.id) throw Errors.unknownObject(page.id, req.method);
    return t;
  }

  private requireScope(t: SandboxToken, perm: string, code = 200): void {
    if (!this.state.tokenScopes(t).includes(perm)) throw new GraphError(code, `(#${code}) Requires ${perm} permission to manage the object`);
  }

  private requireTask(t: SandboxToken, page: SandboxPage, anyOf: string[]): void {
    const tasks = page.roles.get(t.userId ?? '') ?? [];
    if (!anyOf.some((task) => tasks.includes(task))) throw Errors.taskMissing(anyOf.join(' or '));
  }

  // ---------- OAuth ----------

  private checkClient(req: GraphRequest): void {
    const clientId = asString(req.params.client_id);
    if (!clientId) throw Errors.param('Missing client_id parameter.');
    if (clientId !== this.state.appId) throw new GraphError(101, 'Error validating application. Invalid application ID.');
    if (asString(req.params.client_secret) !== this.state.appSecret) throw new GraphError(1, 'Error validating client secret.');
  }

  private accessToken(req: GraphRequest): unknown {
    const grant = asString(req.params.grant_type);
    if (grant === 'client_credentials') {
      this.checkClient(req);
      return { access_token: this.state.issueAppToken().token, token_type: 'bearer' };
    }
    if (grant === 'fb_exchange_token') {
      this.checkClient(req);
      const raw = asString(req.params.fb_exchange_token);
      if (!raw) throw Errors.param('Missing fb_exchange_token parameter.');
      const t = this.state.lookupToken(raw);
      if (!t || t.type !== 'USER') throw Errors.invalidToken();
      const problem = this.state.tokenProblem(t);
      if (problem) throw problem;
      const long = this.state.issueUserToken(t.userId!, true);
      return { access_token: long.token, token_type: 'bearer', expires_in: Math.floor((long.expiresAt - this.state.clock.now()) / 1000) };
    }
    if (grant && grant !== 'authorization_code') throw Errors.param(`Unsupported grant_type: ${grant}`);
    this.checkClient(req);
    const codeValue = asString(req.params.code);
    if (!codeValue) throw Errors.param('Missing authorization code');
    const code = this.state.codes.get(codeValue);
    if (!code) throw new GraphError(100, 'Invalid verification code format.', 36007);
    if (code.used) throw new GraphError(100, 'This authorization code has been used.', 36009);
    if (asString(req.params.redirect_uri) !== code.redirectUri) {
      throw new GraphError(100, 'Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request', 36008);
    }
    if (this.state.clock.now() - code.createdAt > 10 * 60_000) throw new GraphError(100, 'This authorization code has expired.', 36007);
    code.used = true;
    const t = this.state.issueUserToken(code.userId, false);
    return { access_token: t.token, token_type: 'bearer', expires_in: Math.floor((t.expiresAt - this.state.clock.now()) / 1000) };
  }

  private debugToken(req: GraphRequest): unknown {
    const caller = this.auth(req, true)!;
    if (caller.appId !== this.state.appId) throw Errors.invalidToken();
    const input = asString(req.params.input_token);
    if (!input) throw Errors.param('The parameter input_token is required');
    const t = this.state.lookupToken(input);
    if (!t) {
      return { data: { is_valid: false, error: { code: 190, message: 'Invalid OAuth access token.' }, scopes: [] } };
    }
    const problem = this.state.tokenProblem(t);
    const scopes = this.state.tokenScopes(t);
    const data: Record<string, unknown> = {
      app_id: t.appId,
      type: t.type,
      application: this.options.appName,
      data_access_expires_at: Math.floor((t.issuedAt + 90 * DAY) / 1000),
      expires_at: t.expiresAt === 0 ? 0 : Math.floor(t.expiresAt / 1000),
      is_valid: !problem,
      issued_at: Math.floor(t.issuedAt / 1000),
    };
    if (t.type === 'PAGE') data.profile_id = t.pageId;
    data.scopes = scopes;
    if (t.type !== 'APP') {
      const pageIds = t.type === 'PAGE' ? [t.pageId!] : [...this.state.pages.values()].filter((p) => p.roles.has(t.userId!)).map((p) => p.id);
      data.granular_scopes = scopes.filter((s) => s.startsWith('pages_')).map((scope) => ({ scope, target_ids: pageIds }));
      data.user_id = t.userId;
    }
    if (problem) data.error = { code: problem.code, message: problem.message, subcode: problem.subcode };
    return { data };
  }

  // ---------- objects ----------

  private appObject(req: GraphRequest, edge?: string): GraphResult {
    const t = this.auth(req, true)!;
    if (!edge) return { body: { id: this.state.appId, name: this.options.appName, link: `https://www.facebook.com/games/?app_id=${this.state.appId}` } };
    if (edge !== 'subscriptions') throw Errors.unknownPath(edge);
    if (t.type !== 'APP') throw new GraphError(15, '(#15) This method must be called with an app access_token.');
    return { body: this.appSubscriptions(req) } as GraphResult;
  }

  private appSubscriptions(req: GraphRequest): unknown {
    if (req.method === 'GET') {
      const app = this.webhooks.app;
      return {
        data: app ? [{ object: 'page', callback_url: app.callbackUrl, active: app.active, fields: app.fields.map((name) => ({ name, version: this.options.graphVersion })) }] : [],
      };
    }
    if (req.method === 'DELETE') {
      this.webhooks.removeApp();
      return { success: true };
    }
    // POST is handled asynchronously by the server (verification GET); see subscribeApp.
    return { success: true };
  }

  /** POST /{app-id}/subscriptions: performs the verification request first. */
  async subscribeApp(req: GraphRequest): Promise<GraphResult> {
    const t = this.auth(req, true)!;
    if (t.type !== 'APP') throw new GraphError(15, '(#15) This method must be called with an app access_token.');
    if (asString(req.params.object) !== 'page') throw Errors.param('Param object must be one of {page, user, permissions, instagram} - only page is emulated');
    const callbackUrl = asString(req.params.callback_url);
    if (!callbackUrl) throw Errors.param('Param callback_url is required');
    const fields = this.fieldList(req.params.fields, 'fields');
    const sub = await this.webhooks.configure({ callbackUrl, verifyToken: asString(req.params.verify_token) ?? '', fields }, fields);
    if (!sub.active) throw new GraphError(2200, `(#2200) callback verification failed: ${sub.lastVerification?.error ?? `HTTP ${sub.lastVerification?.status}, body did not match the challenge`}`);
    return { body: { success: true } };
  }

  private userObject(req: GraphRequest, userId: string, edge?: string, sub?: string): GraphResult {
    const t = this.auth(req, true)!;
    if (t.type === 'PAGE' || (t.type === 'USER' && t.userId !== userId)) {
      // Other users are only visible with app-scoped basics.
      if (edge) throw Errors.unknownObject(userId, req.method);
    }
    const user = this.state.requireUser(userId);
    if (!edge) {
      const fields = this.fieldsParam(req, ['id', 'name']);
      const all: Record<string, unknown> = {
        id: user.id,
        name: user.name,
        first_name: user.firstName,
        last_name: user.lastName,
        short_name: user.firstName,
        email: user.email,
        picture: { data: { height: 50, width: 50, is_silhouette: false, url: `${this.baseUrl()}/static/profile/${user.id}.png` } },
      };
      if (!this.state.tokenScopes(t).includes('email')) delete all.email;
      return { body: { ...pick(all, fields), id: user.id } };
    }
    if (edge === 'accounts') {
      if (t.type !== 'USER') throw Errors.unknownPath(edge);
      const rows = [...this.state.pages.values()]
        .filter((p) => p.roles.has(user.id))
        .map((p) => ({
          access_token: this.state.pageTokenFor(t, p.id).token,
          category: p.category,
          category_list: [{ id: p.categoryId, name: p.category }],
          name: p.name,
          id: p.id,
          tasks: p.roles.get(user.id),
        }));
      const visible = this.state.tokenScopes(t).includes('pages_show_list') ? rows : [];
      const fields = asString(req.params.fields);
      const projected = fields ? visible.map((r) => pick(r, ['id', ...fields.split(',').map((f) => f.trim())])) : visible;
      return { body: this.paginate(projected, req, `/${user.id === t.userId && req.path.startsWith('/me') ? 'me' : user.id}/accounts`) };
    }
    if (edge === 'permissions') {
      if (req.method === 'DELETE') {
        if (sub) user.permissions.set(sub, 'declined');
        else user.appAuthorized = false;
        return { body: { success: true } };
      }
      return { body: { data: [...user.permissions].map(([permission, status]) => ({ permission, status })) } };
    }
    throw Errors.unknownPath(edge);
  }

  private async pageObject(req: GraphRequest, page: SandboxPage, edge?: string): Promise<GraphResult> {
    if (!edge) {
      const t = this.auth(req, true)!;
      const fields = this.fieldsParam(req, ['id', 'name']);
      const all: Record<string, unknown> = { id: page.id, name: page.name, category: page.category, category_list: [{ id: page.categoryId, name: page.category }], link: `https://www.facebook.com/${page.id}` };
      if (fields.includes('access_token')) {
        if (t.type === 'PAGE' && t.pageId === page.id) all.access_token = t.token;
        else if (t.type === 'USER' && page.roles.has(t.userId!)) all.access_token = this.state.pageTokenFor(t, page.id).token;
      }
      if (fields.includes('tasks') && t.userId) all.tasks = page.roles.get(t.userId);
      return { body: { ...pick(all, fields), id: page.id } };
    }
    switch (edge) {
      case 'subscribed_apps':
        return { body: this.subscribedApps(req, page) };
      case 'messages':
        if (req.method !== 'POST') throw Errors.unknownPath(edge);
        return { body: await this.sendMessage(req, page) };
      case 'message_attachments':
        if (req.method !== 'POST') throw Errors.unknownPath(edge);
        return { body: await this.uploadAttachment(req, page) };
      case 'feed':
      case 'posts':
      case 'published_posts': {
        this.auth(req, true);
        const posts = [...this.state.posts.values()]
          .filter((p) => p.pageId === page.id && !p.removed && (edge === 'feed' || p.fromId === page.id))
          .sort((a, b) => b.createdAt - a.createdAt)
          .map((p) => this.postJson(p));
        return { body: this.paginate(posts, req, `/${page.id}/${edge}`) };
      }
      default:
        throw Errors.unknownPath(edge);
    }
  }

  // ---------- subscribed_apps ----------

  private fieldList(value: unknown, name: string): string[] {
    const decoded = decodeParam(value);
    const list = Array.isArray(decoded) ? decoded.map(String) : (asString(decoded) ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (!list.length) throw Errors.param(`The parameter ${name} is required`);
    list.forEach((f, i) => {
      if (!ALL_WEBHOOK_FIELDS.includes(f)) throw Errors.param(`Param ${name}[${i}] must be one of {${ALL_WEBHOOK_FIELDS.join(', ')}} - got "${f}".`);
    });
    return [...new Set(list)];
  }

  private subscribedApps(req: GraphRequest, page: SandboxPage): unknown {
    const t = this.requirePageToken(req, page);
    if (req.method === 'GET') {
      return {
        data: page.subscribedFields === null ? [] : [{ category: 'Business', link: `https://sandbox.example/app/${this.state.appId}`, name: this.options.appName, id: this.state.appId, subscribed_fields: page.subscribedFields }],
      };
    }
    this.requireScope(t, 'pages_manage_metadata');
    if (req.method === 'DELETE') {
      page.subscribedFields = null;
      return { success: true };
    }
    if (req.method !== 'POST') throw Errors.unknownPath('subscribed_apps');
    const fields = this.fieldList(req.params.subscribed_fields, 'subscribed_fields');
    const messenger = fields.filter((f) => (MESSENGER_FIELDS as readonly string[]).includes(f));
    if (messenger.length) {
      this.requireScope(t, 'pages_messaging');
      this.requireTask(t, page, ['MODERATE']);
    }
    if (fields.length > messenger.length) this.requireTask(t, page, ['MODERATE', 'CREATE_CONTENT', 'MANAGE']);
    page.subscribedFields = fields;
    return { success: true };
  }

  // ---------- Send API ----------

  private async sendMessage(req: GraphRequest, page: SandboxPage): Promise<unknown> {
    const t = this.auth(req, true)!;
    if (t.type !== 'PAGE') throw Errors.pageTokenRequired();
    if (t.pageId !== page.id) throw Errors.unknownObject(page.id, req.method);
    this.requireScope(t, 'pages_messaging', 230);
    this.requireTask(t, page, ['MESSAGING']);

    const recipient = decodeParam(req.params.recipient);
    if (!recipient || typeof recipient !== 'object') throw Errors.param('param recipient must be non-empty.');
    const r = recipient as Record<string, unknown>;
    const keys = ['id', 'comment_id', 'post_id', 'user_ref', 'phone_number'].filter((k) => r[k] !== undefined && r[k] !== '');
    if (keys.length !== 1) throw Errors.param('Parameter error: You must specify exactly one of recipient.id, recipient.user_ref, recipient.comment_id, recipient.post_id');
    const message = decodeParam(req.params.message) as Record<string, unknown> | undefined;
    const senderAction = asString(req.params.sender_action);
    const messagingType = asString(req.params.messaging_type) ?? 'RESPONSE';
    const tag = asString(req.params.tag);

    if (senderAction && message) throw Errors.param('param sender_action cannot be sent with message');
    if (!senderAction && (!message || typeof message !== 'object')) throw Errors.param('param message must be non-empty.');
    if (!['RESPONSE', 'UPDATE', 'MESSAGE_TAG', 'UTILITY'].includes(messagingType)) throw Errors.param(`Param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG, UTILITY} - got "${messagingType}".`);
    if (messagingType === 'MESSAGE_TAG' && (!tag || !MESSAGE_TAGS.includes(tag))) throw Errors.param(`Param tag must be one of {${MESSAGE_TAGS.join(', ')}} - got "${tag ?? ''}".`);

    // Recipient
    let customer: SandboxCustomer | undefined;
    let privateTarget: SandboxComment | SandboxPost | undefined;
    const privateReply = keys[0] === 'comment_id' || keys[0] === 'post_id';
    if (keys[0] === 'id') {
      customer = this.state.customers.get(String(r.id));
      if (!customer || customer.pageId !== page.id) throw Errors.noRecipient();
    } else if (privateReply) {
      const targetId = String(r[keys[0]]);
      const target = keys[0] === 'comment_id' ? this.state.comments.get(targetId) : this.state.posts.get(targetId);
      const targetPageId = target ? ('postId' in target ? this.state.posts.get(target.postId)?.pageId : target.pageId) : undefined;
      if (!target || target.removed || targetPageId !== page.id) throw Errors.param(`Invalid ${keys[0]}`);
      if (target.fromId === page.id) throw Errors.cantReply();
      if (target.privateReplied) throw Errors.alreadyReplied();
      if (this.state.clock.now() - target.createdAt > 7 * DAY) throw Errors.cantReply();
      customer = this.state.customers.get(target.fromId);
      if (!customer) throw Errors.noRecipient();
      privateTarget = target;
    } else {
      throw Errors.param(`recipient.${keys[0]} is not supported by the sandbox`);
    }

    if (senderAction) {
      if (!['typing_on', 'typing_off', 'mark_seen', 'react', 'unreact'].includes(senderAction)) throw Errors.param(`Param sender_action must be one of {typing_on, typing_off, mark_seen, react, unreact}`);
      return { recipient_id: customer.psid };
    }

    // Message content
    const msg = message!;
    const text = asString(msg.text);
    if (text !== undefined && [...text].length >= 2000) throw Errors.param('Length of param message[text] must be less than 2000 characters');
    const metadata = asString(msg.metadata);
    if (metadata !== undefined && metadata.length >= 1000) throw Errors.param('Length of param message[metadata] must be less than 1000 characters');
    const file = req.files.find((f) => f.field === 'filedata');
    const attachmentSpec = msg.attachment as Record<string, unknown> | undefined;
    if (text === undefined && !attachmentSpec) throw Errors.param('Must send either message.text or message.attachment');
    if (text !== undefined && text.length === 0 && !attachmentSpec) throw Errors.param('param message[text] must be non-empty.');

    // Window rules (private replies have their own 7-day rule, checked above)
    if (!privateReply) {
      const last = customer.lastMessageAt;
      const age = last === null ? Infinity : this.state.clock.now() - last;
      const allowed =
        messagingType === 'MESSAGE_TAG' ? (tag === 'HUMAN_AGENT' ? age <= 7 * DAY : true) : messagingType === 'UTILITY' ? true : age <= DAY;
      if (!allowed) throw Errors.outsideWindow();
    }
    if (customer.unavailable) throw Errors.personUnavailable();

    let attachment: SentAttachment | undefined;
    let attachmentId: string | undefined;
    if (attachmentSpec) {
      attachment = await this.resolveAttachment(attachmentSpec, file, page);
      const payload = (attachmentSpec.payload ?? {}) as Record<string, unknown>;
      if (asBool(payload.is_reusable) && attachment.source !== 'template' && attachment.source !== 'attachment_id') {
        attachmentId = this.state.ids.next('attachment');
        this.state.reusableAttachments.set(attachmentId, { pageId: page.id, attachment, createdAt: this.state.clock.now() });
      }
    }

    const timestamp = this.state.clock.now();
    const sent: ThreadMessage = this.state.recordMessage({
      mid: newMid(),
      pageId: page.id,
      psid: customer.psid,
      direction: 'outbound',
      origin: 'app',
      appId: this.state.appId,
      timestamp,
      text,
      attachments: attachment ? [attachment] : undefined,
      metadata,
      messagingType,
      tag,
      recipient: r,
      raw: msg,
    });
    if (privateTarget) privateTarget.privateReplied = true;

    this.events.echo(sent);
    this.scheduleReceipts(customer.psid, sent.mid, timestamp);

    const answer: Record<string, unknown> = { recipient_id: customer.psid, message_id: sent.mid };
    if (attachmentId) answer.attachment_id = attachmentId;
    return answer;
  }

  private scheduleReceipts(psid: string, mid: string, watermark: number): void {
    const o = this.webhooks.options;
    const fire = (fn: () => void) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        try {
          fn();
        } catch {
          /* customer removed meanwhile */
        }
      }, o.receiptDelayMs);
      this.timers.add(timer);
    };
    if (o.autoDeliveryReceipts) fire(() => this.events.delivery({ psid, mids: [mid], watermark }));
    if (o.autoReadReceipts) fire(() => this.events.read({ psid, watermark }));
  }

  private async resolveAttachment(spec: Record<string, unknown>, file: UploadedFile | undefined, page: SandboxPage): Promise<SentAttachment> {
    const type = asString(spec.type) ?? '';
    const payload = (spec.payload ?? {}) as Record<string, unknown>;
    if (type === 'template') return { type, source: 'template', payload };
    if (!['image', 'audio', 'video', 'file'].includes(type)) throw Errors.param(`Param message[attachment][type] must be one of {image, audio, video, file, template} - got "${type}".`);
    if (file) {
      const ct = (file.contentType ?? '').toLowerCase();
      const okType = type === 'file' ? ct !== '' : ct.startsWith(`${type}/`);
      if (!okType) throw Errors.uploadFailure();
      if (file.data.length > MAX_ATTACHMENT_BYTES || file.data.length === 0) throw Errors.uploadFailure();
      return this.storeSent(type, 'upload', file.data, ct, file.filename ?? `upload.${type}`);
    }
    const attachmentId = asString(payload.attachment_id);
    if (attachmentId) {
      const saved = this.state.reusableAttachments.get(attachmentId);
      if (!saved || saved.pageId !== page.id || this.state.clock.now() - saved.createdAt > 90 * DAY) throw Errors.param('Invalid attachment_id', 2018047);
      return { ...saved.attachment, source: 'attachment_id', payload: { attachment_id: attachmentId } };
    }
    const url = asString(payload.url);
    if (!url) throw Errors.param('param message[attachment][payload] must have url, attachment_id or an uploaded filedata');
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(type === 'video' ? 75_000 : 10_000) });
    } catch {
      throw Errors.fetchFailure();
    }
    if (!res.ok) throw Errors.fetchFailure();
    const data = Buffer.from(await res.arrayBuffer());
    if (data.length > MAX_ATTACHMENT_BYTES) throw Errors.uploadFailure();
    const filename = decodeURIComponent(new URL(url).pathname.split('/').pop() || `file.${type}`);
    const stored = this.storeSent(type, 'url', data, res.headers.get('content-type') ?? 'application/octet-stream', filename);
    stored.url = url;
    return stored;
  }

  private storeSent(type: string, source: SentAttachment['source'], data: Buffer, contentType: string, filename: string): SentAttachment {
    const item = this.cdn.store({ bytes: data, contentType, filename, kind: type });
    return { type, source, contentType, filename, size: data.length, mediaId: item.id, payload: { sha256: createHash('sha256').update(data).digest('hex') } };
  }

  private async uploadAttachment(req: GraphRequest, page: SandboxPage): Promise<unknown> {
    const t = this.requirePageToken(req, page);
    this.requireScope(t, 'pages_messaging', 230);
    const message = decodeParam(req.params.message) as Record<string, unknown> | undefined;
    const spec = message?.attachment as Record<string, unknown> | undefined;
    if (!spec) throw Errors.param('param message[attachment] is required');
    const attachment = await this.resolveAttachment(spec, req.files.find((f) => f.field === 'filedata'), page);
    const id = this.state.ids.next('attachment');
    this.state.reusableAttachments.set(id, { pageId: page.id, attachment, createdAt: this.state.clock.now() });
    return { attachment_id: id };
  }

  // ---------- profile ----------

  private profile(req: GraphRequest, customer: SandboxCustomer): GraphResult {
    const t = this.auth(req, true)!;
    if (t.type !== 'PAGE' || t.pageId !== customer.pageId) throw Errors.unknownObject(customer.psid, req.method);
    if (!customer.hasProfile) throw Errors.noProfile();
    const fields = this.fieldsParam(req, ['first_name', 'last_name', 'profile_pic']);
    let picId = this.profilePics.get(customer.psid);
    if (!picId) {
      picId = this.cdn.store({ ...placeholderPng(), kind: 'image', filename: `${customer.psid}.png` }).id;
      this.profilePics.set(customer.psid, picId);
    }
    const all: Record<string, unknown> = {
      first_name: customer.firstName,
      last_name: customer.lastName,
      name: this.state.customerName(customer),
      profile_pic: this.cdn.url(picId),
      locale: customer.locale,
      timezone: 0,
      gender: 'unknown',
    };
    return { body: { ...pick(all, fields), id: customer.psid } };
  }

  // ---------- posts & comments ----------

  private postJson(p: SandboxPost): Record<string, unknown> {
    const out: Record<string, unknown> = { id: p.id, created_time: graphTime(p.createdAt), from: { id: p.fromId, name: p.fromName } };
    if (p.message !== undefined) out.message = p.message;
    if (p.photoMediaId) out.full_picture = this.cdn.url(p.photoMediaId);
    out.permalink_url = `https://www.facebook.com/${p.pageId}/posts/${p.localId}`;
    out.is_hidden = p.isHidden;
    return out;
  }

  private commentJson(c: SandboxComment): Record<string, unknown> {
    const out: Record<string, unknown> = { id: c.id, created_time: graphTime(c.createdAt), from: { id: c.fromId, name: c.fromName } };
    if (c.message !== undefined) out.message = c.message;
    if (c.parentId !== c.postId) out.parent = { id: c.parentId };
    if (c.photoMediaId) {
      const src = this.cdn.url(c.photoMediaId);
      out.attachment = { type: 'photo', media: { image: { height: 1, width: 1, src } }, url: src };
    }
    out.is_hidden = c.isHidden;
    out.can_reply_privately = !c.byPage && !c.privateReplied && this.state.clock.now() - c.createdAt <= 7 * DAY;
    return out;
  }

  private pageOf(post: SandboxPost): SandboxPage {
    return this.state.requirePage(post.pageId);
  }

  private async postObject(req: GraphRequest, post: SandboxPost, edge?: string): Promise<GraphResult> {
    if (!edge) {
      this.auth(req, true);
      return { body: pick(this.postJson(post), this.fieldsParam(req, ['id', 'message', 'created_time'])) };
    }
    if (edge !== 'comments') throw Errors.unknownPath(edge);
    if (req.method === 'POST') return { body: this.createComment(req, post.id, this.pageOf(post)) };
    this.auth(req, true);
    const stream = asString(req.params.filter) === 'stream';
    return { body: this.commentList(req, (c) => c.postId === post.id && (stream || c.parentId === post.id), `/${post.id}/comments`) };
  }

  /** A `comments` edge: oldest first unless `order=reverse_chronological`, with the `fields` asked for, paged. */
  private commentList(req: GraphRequest, under: (c: SandboxComment) => boolean, path: string) {
    let list = [...this.state.comments.values()].filter((c) => !c.removed && under(c));
    list.sort((a, b) => a.createdAt - b.createdAt);
    if (asString(req.params.order) === 'reverse_chronological') list = list.reverse();
    const fields = asString(req.params.fields);
    const rows = list.map((c) => (fields ? pick(this.commentJson(c), ['id', ...fields.split(',')]) : pick(this.commentJson(c), ['id', 'message', 'created_time', 'from'])));
    return this.paginate(rows, req, path);
  }

  private async commentObject(req: GraphRequest, comment: SandboxComment, edge?: string): Promise<GraphResult> {
    const page = this.pageOf(this.state.posts.get(comment.postId)!);
    if (edge === 'comments') {
      if (req.method === 'POST') return { body: this.createComment(req, comment.id, page) };
      this.auth(req, true);
      return { body: this.commentList(req, (c) => c.parentId === comment.id, `/${comment.id}/comments`) };
    }
    if (edge) throw Errors.unknownPath(edge);
    if (req.method === 'GET') {
      this.auth(req, true);
      return { body: pick(this.commentJson(comment), this.fieldsParam(req, ['id', 'message', 'created_time', 'from'])) };
    }
    const t = this.moderatorToken(req, page);
    if (req.method === 'DELETE') {
      comment.removed = true;
      this.events.emitComment(comment, 'remove');
      return { body: { success: true } };
    }
    // POST: hide/unhide or edit
    const hidden = asBool(req.params.is_hidden);
    const newMessage = asString(req.params.message);
    if (hidden === undefined && newMessage === undefined) throw Errors.param('Nothing to update: pass is_hidden or message');
    if (newMessage !== undefined) {
      if (!comment.byPage) throw new GraphError(10, '(#10) Application does not have permission for this action');
      comment.message = newMessage;
      this.events.emitComment(comment, 'edited');
    }
    if (hidden !== undefined && hidden !== comment.isHidden) {
      if (comment.byPage && hidden) throw Errors.param('Cannot hide a comment made by the Page');
      comment.isHidden = hidden;
      this.events.emitComment(comment, hidden ? 'hide' : 'unhide');
    }
    void t;
    return { body: { success: true } };
  }

  private moderatorToken(req: GraphRequest, page: SandboxPage): SandboxToken {
    const t = this.auth(req, true)!;
    if (t.type !== 'PAGE') throw Errors.postToWall();
    if (t.pageId !== page.id) throw Errors.unknownObject(page.id, req.method);
    this.requireScope(t, 'pages_manage_engagement');
    this.requireTask(t, page, ['MODERATE', 'CREATE_CONTENT']);
    return t;
  }

  private createComment(req: GraphRequest, parentId: string, page: SandboxPage): unknown {
    this.moderatorToken(req, page);
    const message = asString(req.params.message);
    const attachmentUrl = asString(req.params.attachment_url) ?? asString(req.params.attachment_share_url);
    const upload = req.files.find((f) => f.field === 'source');
    if (!message && !attachmentUrl && !upload && !req.params.attachment_id) throw Errors.param('Missing message or attachment');
    let photoMediaId: string | undefined;
    if (upload) photoMediaId = this.cdn.store({ bytes: upload.data, contentType: upload.contentType ?? 'image/jpeg', filename: upload.filename ?? 'photo.jpg', kind: 'image' }).id;
    else if (attachmentUrl || req.params.attachment_id) photoMediaId = this.cdn.store({ ...placeholderPng(), kind: 'image', filename: 'photo.png' }).id;
    const c = this.state.addComment({ parentId, fromId: page.id, fromName: page.name, message, photoMediaId, byPage: true });
    this.events.emitComment(c, 'add');
    return { id: c.id };
  }

  // ---------- helpers ----------

  private fieldsParam(req: GraphRequest, defaults: string[]): string[] {
    const f = asString(req.params.fields);
    if (!f) return defaults;
    return f.split(',').map((s) => s.trim().replace(/\{.*$/, '').replace(/\..*$/, '')).filter(Boolean);
  }

  private paginate<T>(items: T[], req: GraphRequest, path: string): { data: T[]; paging?: Record<string, unknown> } {
    const limit = Math.max(1, Math.min(100, Number(asString(req.params.limit) ?? 25) || 25));
    const after = asString(req.params.after);
    const start = after ? Number(Buffer.from(after, 'base64url').toString('utf8').replace(/\D/g, '')) + 1 : 0;
    const slice = items.slice(start, start + limit);
    if (!slice.length) return { data: [] };
    const cursor = (i: number) => Buffer.from(`cursor:${i}`).toString('base64url');
    const paging: Record<string, unknown> = { cursors: { before: cursor(start), after: cursor(start + slice.length - 1) } };
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(req.params)) {
      const s = asString(v);
      if (s !== undefined && k !== 'after' && k !== 'before') query.set(k, s);
    }
    const version = req.version || this.options.graphVersion;
    if (start + slice.length < items.length) {
      query.set('limit', String(limit));
      query.set('after', cursor(start + slice.length - 1));
      paging.next = `${this.baseUrl()}/${version}${path}?${query.toString()}`;
    }
    if (start > 0) {
      const prev = new URLSearchParams(query);
      prev.delete('after');
      prev.set('before', cursor(start));
      paging.previous = `${this.baseUrl()}/${version}${path}?${prev.toString()}`;
    }
    return { data: slice, paging };
  }
}

function placeholderPng(): { bytes: Buffer; contentType: string } {
  return {
    bytes: Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64'),
    contentType: 'image/png',
  };
}

export function pick(obj: Record<string, unknown>, fields: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) if (obj[f] !== undefined) out[f] = obj[f];
  return out;
}
