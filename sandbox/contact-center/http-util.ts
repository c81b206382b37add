import type { IncomingMessage, ServerResponse } from 'node:http';

/** An error that carries the HTTP status (and optional headers) the sandbox should answer with. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string | number>): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendHtml(res: ServerResponse, status: number, html: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
  res.end(html);
}

export function redirect(res: ServerResponse, location: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(303, { location, 'content-length': 0 });
  res.end();
}

/**
 * Reads the whole request body. Above `limit` bytes it keeps draining (so the client can read
 * the answer) up to a hard cap, then rejects with 413; far above the cap it drops the connection.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const hardCap = limit * 4 + 1024 * 1024;
  const declared = Number(req.headers['content-length'] ?? NaN);
  return new Promise((resolve, reject) => {
    if (declared > hardCap) {
      req.resume();
      reject(new HttpError(413, `Request body too large (limit ${limit} bytes)`, { connection: 'close' }));
      return;
    }
    const chunks: Buffer[] = [];
    let total = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) {
        tooLarge = true;
        chunks.length = 0;
        if (total > hardCap) {
          req.destroy();
          reject(new HttpError(413, `Request body too large (limit ${limit} bytes)`));
        }
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) reject(new HttpError(413, `Request body too large (limit ${limit} bytes)`));
      else resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total));
    });
    req.on('error', reject);
  });
}

/** Parses `application/json` (or anything that is JSON) into an object; 400 otherwise. */
export function parseJsonObject(raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) throw new HttpError(400, 'Request body must be a JSON object');
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'Request body is not valid JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new HttpError(400, 'Request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/** Parses a `multipart/form-data` or `application/x-www-form-urlencoded` body with the WHATWG parser Node ships. */
export async function parseForm(raw: Buffer, contentType: string | undefined): Promise<FormData> {
  if (!contentType || !/^(multipart\/form-data|application\/x-www-form-urlencoded)/i.test(contentType)) {
    throw new HttpError(400, 'Expected multipart/form-data or application/x-www-form-urlencoded');
  }
  try {
    const request = new Request('http://sandbox.invalid/', {
      method: 'POST',
      body: raw,
      headers: { 'content-type': contentType },
    });
    return await request.formData();
  } catch {
    throw new HttpError(400, 'Malformed form body');
  }
}

export function splitUrl(rawUrl: string | undefined): { path: string; search: string } {
  const url = rawUrl ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? { path: url, search: '' } : { path: url.slice(0, q), search: url.slice(q + 1) };
}

export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Replaces the value of secret-looking query parameters with `***`. */
export function redactUrl(url: string, names: string[] = ['apikey', 'token', 'access_token']): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  let changed = false;
  for (const name of names) {
    if (params.has(name)) {
      params.set(name, '***');
      changed = true;
    }
  }
  return changed ? `${url.slice(0, q)}?${params.toString().replace(/%2A/g, '*')}` : url;
}
