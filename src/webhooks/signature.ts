import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Checks `X-Hub-Signature-256: sha256=<hex>` against HMAC-SHA256(app secret, raw body bytes).
 * Must see the exact bytes Facebook sent: it escapes non-ASCII as \uXXXX, so re-serialised JSON differs.
 */
export function verifyHubSignature(rawBody: Buffer, header: string | string[] | undefined, appSecret: string): boolean {
  const given = Array.isArray(header) ? header[0] : header;
  if (!given || !rawBody) return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`);
  const actual = Buffer.from(given.trim().toLowerCase());
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
