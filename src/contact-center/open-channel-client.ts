import { Injectable } from '@nestjs/common';
import { OutboundHttp, OutboundHttpError, OutboundResponse } from '../common/http/outbound-http';

/** Where and how to reach one contact center's Open Channel account (decrypted, in memory only). */
export interface OpenChannelTarget {
  /** The Receive URL as the tenant pasted it, query string included. */
  openchannelUrl: string;
  apiKey?: string | null;
}

export type VerificationFailure = 'not_found' | 'unauthorized' | 'unreachable' | 'invalid_url' | 'blocked' | 'unexpected';

export type VerificationResult = { ok: true } | { ok: false; reason: VerificationFailure; message: string };

const MOTION_PATH = /^(.*\/api\/openchannel\/accounts\/[^/]+)\/(notify|receive)\/?$/;

/** The Receive URL with `apikey` added to its query (never replacing what is there). */
export function withApiKey(url: string, apiKey?: string | null, path?: string): string {
  const target = new URL(url);
  if (path !== undefined) {
    target.pathname = path;
    target.search = '';
  }
  if (apiKey) target.searchParams.set('apikey', apiKey);
  return target.toString();
}

/**
 * The contact center's side of the Open Channel protocol (open-channel.md): notify, attachment
 * upload and download, and the check that an Openchannel URL answers before it is saved.
 */
@Injectable()
export class OpenChannelClient {
  /** Notify URLs per target object: delivery keeps its decrypted targets a while, so this saves a URL parse per message. */
  private readonly notifyUrls = new WeakMap<OpenChannelTarget, { openchannelUrl: string; apiKey?: string | null; url: string }>();

  constructor(private readonly http: OutboundHttp) {}

  /**
   * POSTs one notification (`body`: the object, or its JSON already serialised, e.g. because it was signed).
   * Returns the answer whatever its status; throws OutboundHttpError when there is none.
   */
  notify(target: OpenChannelTarget, body: object | string, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<OutboundResponse> {
    return this.http.send(this.notifyUrl(target), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      timeoutMs,
      maxResponseBytes: 1024 * 1024,
    });
  }

  private notifyUrl(target: OpenChannelTarget): string {
    const known = this.notifyUrls.get(target);
    if (known && known.openchannelUrl === target.openchannelUrl && known.apiKey === target.apiKey) return known.url;
    const url = withApiKey(target.openchannelUrl, target.apiKey);
    this.notifyUrls.set(target, { openchannelUrl: target.openchannelUrl, apiKey: target.apiKey, url });
    return url;
  }

  /** Uploads a file to `<origin>/api/attachments`; answers the contact center's attachment id. */
  async uploadAttachment(target: OpenChannelTarget, file: { bytes: Buffer; filename: string; contentType: string }): Promise<OutboundResponse> {
    const form = new FormData();
    form.append('file', new Blob([file.bytes], { type: file.contentType }), file.filename);
    return this.http.send(withApiKey(target.openchannelUrl, target.apiKey, '/api/attachments'), {
      method: 'POST',
      body: form,
      timeoutMs: 60_000,
      maxResponseBytes: 1024 * 1024,
    });
  }

  /** Metadata (`type`, `name`) and bytes of an agent's attachment. */
  async downloadAttachment(target: OpenChannelTarget, attachmentId: string, maxBytes: number): Promise<{ meta: OutboundResponse; file: OutboundResponse }> {
    const id = encodeURIComponent(attachmentId);
    const meta = await this.http.send(withApiKey(target.openchannelUrl, target.apiKey, `/api/attachments/${id}`), { timeoutMs: 10_000 });
    if (meta.status !== 200) return { meta, file: meta };
    const file = await this.http.send(withApiKey(target.openchannelUrl, target.apiKey, `/api/attachments/${id}/download`), {
      timeoutMs: 60_000,
      maxResponseBytes: maxBytes,
    });
    return { meta, file };
  }

  /**
   * Checks the account behind an Openchannel URL exists and takes the API key (open-channel.md §4):
   * `GET <account URL>` for Motion-shaped URLs (query kept), else a harmless GET of the URL itself.
   */
  async verify(target: OpenChannelTarget): Promise<VerificationResult> {
    let checkUrl: string;
    try {
      const url = new URL(target.openchannelUrl);
      const motion = MOTION_PATH.exec(url.pathname);
      if (motion) url.pathname = motion[1];
      checkUrl = withApiKey(url.toString(), target.apiKey);
    } catch {
      return { ok: false, reason: 'invalid_url', message: 'The Openchannel URL is not a valid URL' };
    }
    let answer: OutboundResponse;
    try {
      answer = await this.http.send(checkUrl, { timeoutMs: 8_000, maxResponseBytes: 256 * 1024 });
    } catch (error) {
      if (error instanceof OutboundHttpError) {
        if (error.kind === 'blocked') return { ok: false, reason: 'blocked', message: `The Openchannel URL points at a private or local address: ${error.message}` };
        if (error.kind === 'invalid_url') return { ok: false, reason: 'invalid_url', message: error.message };
        return { ok: false, reason: 'unreachable', message: `The contact center is not reachable from the relay: ${error.message}` };
      }
      throw error;
    }
    if (answer.status >= 200 && answer.status < 300) return { ok: true };
    // Non-Motion receivers may not answer GET at all; a 405 still proves the URL and key reach something.
    if (answer.status === 405) return { ok: true };
    if (answer.status === 404) {
      return { ok: false, reason: 'not_found', message: 'Error 404: the Open Channel account or its list no longer exists on the contact center' };
    }
    if (answer.status === 401 || answer.status === 403) {
      return { ok: false, reason: 'unauthorized', message: `Error ${answer.status}: the contact center refused the API key; copy it again from the contact center` };
    }
    return { ok: false, reason: 'unexpected', message: `The contact center answered HTTP ${answer.status} when the relay checked the Openchannel URL` };
  }
}
