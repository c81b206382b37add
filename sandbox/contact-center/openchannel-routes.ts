import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxContext } from './context';
import { HttpError, readBody, sendJson } from './http-util';
import { publicAccount, type Account, type NotifyFields } from './state';

export const OPENCHANNEL_PREFIX = '/api/openchannel/accounts/';

/**
 * `GET /api/openchannel/accounts/{id}` and `POST /api/openchannel/accounts/{id}/notify|receive`.
 * The notify path is the benchmark's hot path: no URL objects, no awaits unless a failure is injected.
 */
export async function handleOpenChannel(ctx: SandboxContext, req: IncomingMessage, res: ServerResponse, path: string, search: string): Promise<void> {
  let rest = path.slice(OPENCHANNEL_PREFIX.length);
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  const slash = rest.indexOf('/');
  const idText = slash < 0 ? rest : rest.slice(0, slash);
  const action = slash < 0 ? '' : rest.slice(slash + 1);
  const id = /^\d+$/.test(idText) ? Number(idText) : NaN;
  const query = new URLSearchParams(search);

  if (action === '') {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { message: 'Method not allowed' });
    return getAccount(ctx, res, id, query);
  }
  if (action === 'notify' || action === 'receive') {
    if (req.method !== 'POST') return sendJson(res, 405, { message: 'Method not allowed: use POST' });
    return notify(ctx, req, res, id, action, query);
  }
  sendJson(res, 404, { message: `Not found: ${path}` });
}

async function getAccount(ctx: SandboxContext, res: ServerResponse, id: number, query: URLSearchParams): Promise<void> {
  if (!ctx.failures.idle('account')) {
    const delay = ctx.failures.takeDelay('account');
    if (delay > 0) await ctx.delay(delay);
    const injected = ctx.failures.takeError('account');
    if (injected) return sendJson(res, injected.status, injected.body, injected.headers);
  }
  const account = ctx.state.accounts.get(id);
  const denied = checkAccount(account, id, query.get('apikey'));
  if (denied) return sendJson(res, denied.status, { message: denied.message });
  sendJson(res, 200, publicAccount(account!));
}

/** 404 for unknown accounts and deleted lists, 401 for a wrong API key; null when allowed. */
function checkAccount(account: Account | undefined, id: number, apikey: string | null): { status: number; message: string } | null {
  if (!account) return { status: 404, message: Number.isNaN(id) ? 'Open Channel account not found' : `Open Channel account ${id} not found` };
  if (account.apiKey && apikey !== account.apiKey) {
    return { status: 401, message: apikey ? 'Invalid API key' : 'Missing API key: add ?apikey=<key> to the URL' };
  }
  if (account.listDeleted) {
    return { status: 404, message: `The contact list of Open Channel account ${account.id} no longer exists` };
  }
  return null;
}

async function notify(ctx: SandboxContext, req: IncomingMessage, res: ServerResponse, id: number, endpoint: 'notify' | 'receive', query: URLSearchParams): Promise<void> {
  const receivedAt = Date.now();
  let raw: Buffer;
  try {
    raw = await readBody(req, ctx.maxJsonBytes);
  } catch (err) {
    const status = err instanceof HttpError ? err.status : 400;
    return sendJson(res, status, { message: err instanceof Error ? err.message : 'Bad request' });
  }
  const headers = req.headers;
  const record = {
    accountId: Number.isNaN(id) ? 0 : id,
    endpoint,
    receivedAt,
    status: 200,
    query: redactedQuery(query),
    deliveryId: headerValue(headers['x-relay-delivery-id']),
    event: headerValue(headers['x-relay-event']),
    webhookId: headerValue(headers['webhook-id']),
    webhookTimestamp: headerValue(headers['webhook-timestamp']),
    webhookSignature: headerValue(headers['webhook-signature']),
    signatureValid: null as boolean | null,
    contentType: headerValue(headers['content-type']),
    body: null as unknown,
    messageId: null as number | null,
    interactionId: null as number | null,
    contactId: null as number | null,
    error: null as string | null,
  };
  const fail = (status: number, message: string, extraHeaders?: Record<string, string>): void => {
    record.status = status;
    record.error = message;
    ctx.state.recordNotification(record);
    sendJson(res, status, { message }, extraHeaders);
  };

  if (!ctx.failures.idle('notify')) {
    const delay = ctx.failures.takeDelay('notify');
    if (delay > 0) await ctx.delay(delay);
    const injected = ctx.failures.takeError('notify');
    if (injected) {
      record.body = tryParse(raw);
      return fail(injected.status, injected.body.message, injected.headers);
    }
  }

  const account = ctx.state.accounts.get(id);
  const denied = checkAccount(account, id, query.get('apikey'));
  if (denied) {
    record.body = tryParse(raw);
    return fail(denied.status, denied.message);
  }

  if (account!.signingSecret) {
    record.signatureValid = verifySignature(account!.signingSecret, record.webhookId, record.webhookTimestamp, record.webhookSignature, raw);
    if (!record.signatureValid && account!.requireSignature) {
      record.body = tryParse(raw);
      return fail(401, 'Invalid or missing webhook signature');
    }
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    return fail(400, 'Request body is not valid JSON');
  }
  record.body = parsed;
  const fields = validateNotify(parsed, account!);
  if (typeof fields === 'string') return fail(400, fields);
  if (fields.AttachmentId !== null && !ctx.state.getAttachment(fields.AttachmentId)) {
    return fail(400, `Attachment ${String(fields.AttachmentId)} not found: upload it to /api/attachments first`);
  }

  const { contact, interaction, message } = ctx.state.receive(account!, fields, record.deliveryId, record.event);
  record.messageId = message.id;
  record.interactionId = interaction.id;
  record.contactId = contact.id;
  ctx.state.recordNotification(record);
  sendJson(res, 200, {
    id: message.id,
    body: message.body,
    AttachmentId: message.attachmentId,
    interaction: { id: interaction.id, threadId: interaction.threadId, closed: interaction.closed, ContactId: contact.id, OpenchannelAccountId: account!.id },
    contact: { id: contact.id, [contact.mapKey]: contact.from },
  });
}

function validateNotify(value: unknown, account: Account): NotifyFields | string {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'Request body must be a JSON object';
  const v = value as Record<string, unknown>;
  const from = text(v.from);
  if (!from) return '"from" is required (the customer id)';
  if (typeof v.body !== 'string' || v.body.trim() === '') return '"body" is required and must be a non-empty string';
  if (v.mapKey !== undefined && v.mapKey !== null && typeof v.mapKey !== 'string') return '"mapKey" must be a string';
  if (v.threadId !== undefined && v.threadId !== null && typeof v.threadId !== 'string') return '"threadId" must be a string or null';
  const attachmentId = v.AttachmentId;
  if (attachmentId !== undefined && attachmentId !== null && typeof attachmentId !== 'number' && typeof attachmentId !== 'string') {
    return '"AttachmentId" must be an id or null';
  }
  return {
    from,
    body: v.body,
    mapKey: (v.mapKey as string | undefined) || account.mapKey,
    firstName: text(v.firstName),
    lastName: text(v.lastName),
    name: text(v.name),
    phone: text(v.phone),
    AttachmentId: attachmentId === undefined || attachmentId === '' ? null : (attachmentId as number | string | null),
    threadId: (v.threadId as string | undefined) || null,
    externalUrl: text(v.externalUrl),
    description: text(v.description),
  };
}

function text(value: unknown): string | null {
  if (typeof value === 'string') return value === '' ? null : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : value;
}

function redactedQuery(query: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of query) out[key] = key === 'apikey' ? '***' : value;
  return out;
}

function tryParse(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return raw.toString('utf8').slice(0, 2000);
  }
}

/**
 * Standard Webhooks: signature = base64(HMAC-SHA256(key, `${id}.${timestamp}.${body}`)), header
 * `webhook-signature: v1,<sig> [v1,<sig2>...]`; key = base64-decoded part after `whsec_`, or the
 * secret's UTF-8 bytes when it has no `whsec_` prefix.
 */
export function verifySignature(secret: string, id: string | null, timestamp: string | null, header: string | null, raw: Buffer): boolean {
  if (!id || !timestamp || !header) return false;
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(raw).digest();
  for (const part of header.split(' ')) {
    const comma = part.indexOf(',');
    if (comma < 0 || part.slice(0, comma) !== 'v1') continue;
    const given = Buffer.from(part.slice(comma + 1), 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return true;
  }
  return false;
}

/** Builds a Standard Webhooks signature header value (for tests and for relays to compare against). */
export function signStandardWebhook(secret: string, id: string, timestamp: string, body: string | Buffer): string {
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
  return 'v1,' + createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
}
