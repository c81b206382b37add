import { createHmac, randomBytes } from 'node:crypto';

/** A clock the control API can move forward (tokens, windows, CDN expiry all read it). */
export class SandboxClock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomAlnum(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += ALNUM[bytes[i] % ALNUM.length];
  return out;
}

export function randomToken(prefix: string, length = 120): string {
  return prefix + randomAlnum(length - prefix.length);
}

/** Meta-looking message id: m_ + url-safe base64. */
export function newMid(): string {
  return 'm_' + randomBytes(48).toString('base64url');
}

export function newTraceId(): string {
  return 'A' + randomAlnum(22);
}

/** Numeric string ids in separate ranges so a glance tells what an id is. */
export class IdGenerator {
  private counters: Record<string, number> = {};
  private static readonly BASES: Record<string, number> = {
    user: 100010000000000,
    page: 108470000000000,
    psid: 6780460000000000,
    post: 122100000000000,
    comment: 122200000000000,
    media: 900000000000000,
    attachment: 1857770000000000,
  };
  next(kind: keyof typeof IdGenerator.BASES | string): string {
    const base = IdGenerator.BASES[kind] ?? 500000000000000;
    this.counters[kind] = (this.counters[kind] ?? 0) + 1;
    return String(base + this.counters[kind]);
  }
}

export function hmacHex(algo: 'sha1' | 'sha256', key: string, data: string | Buffer): string {
  return createHmac(algo, key).update(data).digest('hex');
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** Graph-style ISO time: 2025-05-14T10:21:37+0000 */
export function graphTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+0000');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Values in query strings / forms are JSON-encoded strings for objects; decode those. */
export function decodeParam(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  if ((trimmed.startsWith('{') && trimmed.endsWith('}')) || (trimmed.startsWith('[') && trimmed.endsWith(']'))) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return value;
    }
  }
  return value;
}

export function asString(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

export function asBool(value: unknown): boolean | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'boolean') return value;
  const s = String(value).toLowerCase();
  return s === 'true' || s === '1';
}
