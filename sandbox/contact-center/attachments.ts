import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxContext } from './context';
import { HttpError, parseForm, readBody, sendJson } from './http-util';
import { attachmentMeta, type Attachment } from './state';

/** Multipart overhead allowed on top of the file limit (part headers, boundaries). */
const MULTIPART_OVERHEAD = 64 * 1024;

/**
 * `POST /api/attachments` (multipart, part `file`), `GET /api/attachments/{id}` (metadata) and
 * `GET /api/attachments/{id}/download` (bytes). Any account's API key is accepted (Motion's keys are
 * per user, not per account); when no account has a key, no key is needed.
 */
export async function handleAttachments(ctx: SandboxContext, req: IncomingMessage, res: ServerResponse, path: string, search: string): Promise<void> {
  const query = new URLSearchParams(search);
  const parts = path.split('/').filter(Boolean); // ['api','attachments', id?, 'download'?]

  if (!ctx.failures.idle('attachments')) {
    const delay = ctx.failures.takeDelay('attachments');
    if (delay > 0) await ctx.delay(delay);
    const injected = ctx.failures.takeError('attachments');
    if (injected) {
      req.resume();
      return sendJson(res, injected.status, injected.body, injected.headers);
    }
  }

  const apikey = query.get('apikey');
  if (ctx.state.anyApiKeyConfigured() && !ctx.state.isKnownApiKey(apikey)) {
    req.resume();
    return sendJson(res, 401, { message: apikey ? 'Invalid API key' : 'Missing API key: add ?apikey=<key> to the URL' });
  }

  if (parts.length === 2) {
    if (req.method !== 'POST') return sendJson(res, 405, { message: 'Method not allowed: POST a multipart file' });
    return upload(ctx, req, res, apikey);
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { message: 'Method not allowed' });
  const attachment = ctx.state.getAttachment(parts[2]);
  if (!attachment) return sendJson(res, 404, { message: `Attachment ${parts[2]} not found` });
  if (parts.length === 3) return sendJson(res, 200, attachmentMeta(attachment));
  if (parts.length === 4 && parts[3] === 'download') return sendFile(res, attachment, req.method === 'HEAD');
  sendJson(res, 404, { message: `Not found: ${path}` });
}

async function upload(ctx: SandboxContext, req: IncomingMessage, res: ServerResponse, apikey: string | null): Promise<void> {
  try {
    const raw = await readBody(req, ctx.maxAttachmentBytes + MULTIPART_OVERHEAD);
    const form = await parseForm(raw, req.headers['content-type']);
    const file = form.get('file');
    if (!file || typeof file === 'string') throw new HttpError(400, 'Expected one multipart part named "file" with a filename');
    if (file.size > ctx.maxAttachmentBytes) {
      throw new HttpError(413, `File too large: ${file.size} bytes, the limit is ${ctx.maxAttachmentBytes} bytes`);
    }
    const data = Buffer.from(await file.arrayBuffer());
    const attachment = ctx.state.addAttachment({
      name: file.name || 'file',
      type: file.type || 'application/octet-stream',
      data,
      origin: 'upload',
      accountId: ctx.state.accountForKey(apikey)?.id ?? null,
    });
    sendJson(res, ctx.uploadStatus, attachmentMeta(attachment));
  } catch (err) {
    if (err instanceof HttpError) {
      const message = err.status === 413 && err.message.startsWith('Request body') ? `File too large: the limit is ${ctx.maxAttachmentBytes} bytes` : err.message;
      return sendJson(res, err.status, { message }, err.headers);
    }
    sendJson(res, 400, { message: err instanceof Error ? err.message : 'Bad upload' });
  }
}

export function sendFile(res: ServerResponse, attachment: Attachment, headOnly = false, inline = false): void {
  res.writeHead(200, {
    'content-type': attachment.type,
    'content-length': attachment.size,
    'content-disposition': `${inline ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(attachment.name)}`,
  });
  res.end(headOnly ? undefined : attachment.data);
}
