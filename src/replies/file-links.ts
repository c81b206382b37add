import { Injectable } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { safeEqual } from '../common/crypto/secret-box';
import { AppConfig } from '../config/app-config';

/** How long a file link works (XCALLY: "Conversation attachments are available for 24 hours only"). */
export const FILE_LINK_TTL_MS = 24 * 3600_000;

export type FileLinkCheck = 'ok' | 'invalid' | 'expired';

/**
 * Signed, expiring links to a blob: `${PUBLIC_URL}/files/<blobId>?expires=<unix>&signature=<hmac>`,
 * for Facebook to fetch an agent's picture posted on a comment. The HMAC key is derived from the
 * encryption key, so links need no table and die with a key rotation. The query parameter is named
 * `signature` so request logs redact it.
 */
@Injectable()
export class FileLinks {
  private readonly key: Buffer;

  constructor(private readonly config: AppConfig) {
    this.key = createHmac('sha256', config.encryption.current.key).update('relay:file-links:v1').digest();
  }

  url(blobId: string, now = Date.now(), ttlMs = FILE_LINK_TTL_MS): string {
    const expires = Math.floor((now + ttlMs) / 1000);
    return `${this.config.publicUrl}/files/${encodeURIComponent(blobId)}?expires=${expires}&signature=${this.sign(blobId, expires)}`;
  }

  check(blobId: string, expires: string | undefined, signature: string | undefined, now = Date.now()): FileLinkCheck {
    if (!expires || !signature || !/^\d{1,12}$/.test(expires)) return 'invalid';
    if (!safeEqual(this.sign(blobId, Number(expires)), signature)) return 'invalid';
    return Number(expires) * 1000 < now ? 'expired' : 'ok';
  }

  private sign(blobId: string, expires: number): string {
    return createHmac('sha256', this.key).update(`${blobId}.${expires}`).digest('base64url');
  }
}
