import { AppConfig, keyFromBase64 } from '../../config/app-config';
import { DecryptionError, hashSecret, SecretBox } from './secret-box';

function box(current: Buffer, previous: Buffer[] = []): SecretBox {
  const config = new AppConfig();
  config.encryption = { current: keyFromBase64(current.toString('base64')), previous: previous.map((k) => keyFromBase64(k.toString('base64'))) };
  return new SecretBox(config);
}

describe('SecretBox', () => {
  const keyA = Buffer.alloc(32, 1);
  const keyB = Buffer.alloc(32, 2);

  it('round-trips text, including non-ASCII, and never stores it in clear', () => {
    const secrets = box(keyA);
    const plain = 'EAAB-page-token-çå✓';
    const stored = secrets.encrypt(plain);
    expect(stored).toMatch(/^enc1:[0-9a-f]{8}:[A-Za-z0-9+/=]+$/);
    expect(stored).not.toContain('EAAB');
    expect(secrets.decrypt(stored)).toBe(plain);
    expect(secrets.encrypt(plain)).not.toBe(stored); // fresh IV each time
  });

  it('detects tampering with the ciphertext, the tag or the key id', () => {
    const secrets = box(keyA);
    const stored = secrets.encrypt('api-key-123');
    const [prefix, keyId, payload] = stored.split(':');
    const raw = Buffer.from(payload, 'base64');
    raw[raw.length - 1] ^= 1;
    expect(() => secrets.decrypt(`${prefix}:${keyId}:${raw.toString('base64')}`)).toThrow(DecryptionError);
    const tag = Buffer.from(payload, 'base64');
    tag[14] ^= 1;
    expect(() => secrets.decrypt(`${prefix}:${keyId}:${tag.toString('base64')}`)).toThrow('tampered');
    expect(() => secrets.decrypt(`${prefix}:00000000:${payload}`)).toThrow('unknown key');
    expect(() => secrets.decrypt('plain-text')).toThrow(DecryptionError);
  });

  it('keeps reading values written with a previous key after rotation', () => {
    const old = box(keyA).encrypt('old-token');
    const rotated = box(keyB, [keyA]);
    expect(rotated.decrypt(old)).toBe('old-token');
    expect(rotated.needsRotation(old)).toBe(true);
    expect(rotated.needsRotation(rotated.encrypt('x'))).toBe(false);
    expect(() => box(keyB).decrypt(old)).toThrow('unknown key');
  });

  it('hashes secrets for lookups', () => {
    expect(hashSecret('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
