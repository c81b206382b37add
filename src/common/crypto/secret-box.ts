import { Injectable } from '@nestjs/common';
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppConfig, EncryptionKey } from '../../config/app-config';

const PREFIX = 'enc1';

export class DecryptionError extends Error {}

/**
 * Encrypts secrets (tokens, API keys) before they reach the database.
 * Format: `enc1:<key id>:<base64 iv(12) | tag(16) | ciphertext>`, AES-256-GCM.
 * The key id lets the relay keep decrypting with ENCRYPTION_KEY_PREVIOUS after a rotation.
 */
@Injectable()
export class SecretBox {
  private readonly current: EncryptionKey;
  private readonly byId: Map<string, EncryptionKey>;

  constructor(config: AppConfig) {
    this.current = config.encryption.current;
    this.byId = new Map([config.encryption.current, ...config.encryption.previous].map((k) => [k.id, k]));
  }

  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(Buffer.from(this.current.id));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${PREFIX}:${this.current.id}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  decrypt(stored: string): string {
    const [prefix, keyId, payload] = stored.split(':');
    if (prefix !== PREFIX || !keyId || !payload) throw new DecryptionError('not an encrypted value');
    const key = this.byId.get(keyId);
    if (!key) throw new DecryptionError(`encrypted with unknown key ${keyId}: add it to ENCRYPTION_KEY_PREVIOUS`);
    const raw = Buffer.from(payload, 'base64');
    if (raw.length < 28) throw new DecryptionError('ciphertext too short');
    const decipher = createDecipheriv('aes-256-gcm', key.key, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(keyId));
    decipher.setAuthTag(raw.subarray(12, 28));
    try {
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw new DecryptionError('ciphertext was tampered with or the key is wrong');
    }
  }

  encryptOptional(plain: string | null | undefined): string | null {
    return plain ? this.encrypt(plain) : null;
  }

  decryptOptional(stored: string | null | undefined): string | null {
    return stored ? this.decrypt(stored) : null;
  }

  /** Whether a stored value was written with an older key and should be re-encrypted. */
  needsRotation(stored: string): boolean {
    return stored.split(':')[1] !== this.current.id;
  }
}

/** SHA-256 hex of a secret, for lookups by token without storing the token (reply tokens). */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** A random URL-safe secret (reply tokens, session ids). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
