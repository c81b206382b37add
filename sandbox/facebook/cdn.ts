/** Local stand-in for scontent.xx.fbcdn.net / cdn.fbsbx.com: signed media URLs that expire (oe=hex, oh=sig). */
import { IncomingMessage, ServerResponse } from 'node:http';
import { SandboxClock, hmacHex, randomAlnum } from './util';

export interface MediaItem {
  id: string;
  bytes: Buffer;
  contentType: string;
  filename: string;
  kind: string;
}

interface IssuedUrl {
  mediaId: string;
  expiresAt: number;
}

// A 1x1 transparent PNG.
const PNG_1X1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

/** Tiny placeholder bytes per kind (content is not validated by anyone; type and size are what matter). */
export function placeholderMedia(kind: string, filename?: string): { bytes: Buffer; contentType: string; filename: string } {
  switch (kind) {
    case 'image':
    case 'sticker':
      return { bytes: PNG_1X1, contentType: 'image/png', filename: filename ?? 'image.png' };
    case 'video':
      return { bytes: Buffer.from('\x00\x00\x00\x18ftypmp42sandbox-video', 'binary'), contentType: 'video/mp4', filename: filename ?? 'video.mp4' };
    case 'audio':
      return { bytes: Buffer.from('\x00\x00\x00\x18ftypM4A sandbox-audio', 'binary'), contentType: 'audio/mp4', filename: filename ?? `audioclip-${Date.now()}-1.mp4` };
    default:
      return { bytes: Buffer.from('%PDF-1.4\n% sandbox file\n', 'binary'), contentType: 'application/pdf', filename: filename ?? 'document.pdf' };
  }
}

const PATH_PREFIX: Record<string, string> = {
  image: 'v/t1.15752-9',
  sticker: 'v/t39.1997-6',
  video: 'v/t42.3356-2',
  audio: 'v/t59.3654-21',
  file: 'v/t59.2708-21',
};

export class SandboxCdn {
  private media = new Map<string, MediaItem>();
  private issued = new Map<string, IssuedUrl>();
  private seq = 0;

  constructor(
    private readonly clock: SandboxClock,
    private readonly secret: string,
    public ttlMs: number,
    private readonly baseUrl: () => string,
  ) {}

  store(input: { bytes: Buffer; contentType: string; filename: string; kind: string }): MediaItem {
    const id = `${Date.now().toString().slice(-8)}${++this.seq}_${randomAlnum(8)}`;
    const item: MediaItem = { id, ...input };
    this.media.set(id, item);
    return item;
  }

  get(id: string): MediaItem | undefined {
    return this.media.get(id);
  }

  /** A fresh signed URL for a stored item, valid for ttlMs (or the given ttl). */
  url(mediaId: string, ttlMs = this.ttlMs): string {
    const item = this.media.get(mediaId);
    if (!item) throw new Error(`unknown media ${mediaId}`);
    const expiresAt = this.clock.now() + ttlMs;
    const oe = Math.ceil(expiresAt / 1000).toString(16).toUpperCase();
    const nonce = randomAlnum(6);
    const oh = '00_' + hmacHex('sha256', this.secret, `${mediaId}:${oe}:${nonce}`).slice(0, 40);
    this.issued.set(oh, { mediaId, expiresAt });
    const prefix = PATH_PREFIX[item.kind] ?? PATH_PREFIX.file;
    const name = encodeURIComponent(item.filename);
    return `${this.baseUrl()}/cdn/${prefix}/${mediaId}_n/${name}?_nc_cat=1&_nc_sid=${nonce}&_nc_ohc=sandbox&oh=${oh}&oe=${oe}`;
  }

  /** Serves GET /cdn/... and returns the HTTP status it answered. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): number {
    const match = /^\/cdn\/v\/[^/]+\/([^/]+)_n\//.exec(url.pathname);
    const oh = url.searchParams.get('oh') ?? '';
    const oe = url.searchParams.get('oe') ?? '';
    const issued = this.issued.get(oh);
    const send = (status: number, text: string) => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(text);
      return status;
    };
    if (!match || !issued || issued.mediaId !== match[1] || Math.ceil(issued.expiresAt / 1000).toString(16).toUpperCase() !== oe.toUpperCase()) {
      return send(403, 'Bad URL hash');
    }
    if (this.clock.now() > issued.expiresAt) return send(403, 'URL signature expired');
    const item = this.media.get(issued.mediaId);
    if (!item) return send(404, 'Not found');
    res.writeHead(200, {
      'content-type': item.contentType,
      'content-length': String(item.bytes.length),
      'cache-control': 'max-age=1209600, no-transform',
    });
    res.end(req.method === 'HEAD' ? undefined : item.bytes);
    return 200;
  }
}
