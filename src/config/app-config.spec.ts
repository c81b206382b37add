import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './app-config';

const KEY = Buffer.alloc(32, 7).toString('base64');

function dataDir() {
  return mkdtempSync(join(tmpdir(), 'relay-config-'));
}

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const dir = dataDir();
    const config = loadConfig({ DATA_DIR: dir });
    expect(config.port).toBe(3000);
    expect(config.publicUrl).toBe('http://localhost:3000');
    expect(config.database).toEqual({ kind: 'sqlite', file: join(dir, 'relay.sqlite') });
    expect(config.redisUrl).toBeUndefined();
    expect(config.role).toBe('all');
    expect(config.runsHttpApi && config.runsWorkers).toBe(true);
    expect(config.facebook).toMatchObject({ sandbox: true, graphUrl: 'https://graph.facebook.com', dialogUrl: 'https://www.facebook.com', graphVersion: 'v24.0' });
    expect(config.mail).toEqual({ smtpUrl: undefined, from: 'relay@localhost' });
    expect(config.allowPrivateTargets).toBe(true);
    expect(config.deliveryConcurrency).toBe(32);
  });

  it('reads every variable of the contract', () => {
    const config = loadConfig({
      PORT: '8080', PUBLIC_URL: 'https://relay.example.com/', DATABASE_URL: 'mysql://u:p@db:3306/relay',
      REDIS_URL: 'redis://cache:6379/0', DATA_DIR: dataDir(), ROLE: 'worker', ENCRYPTION_KEY: KEY,
      FACEBOOK_APP_ID: '123456', FACEBOOK_APP_SECRET: 'a-very-secret-value', FACEBOOK_VERIFY_TOKEN: 'verify-me-please',
      FACEBOOK_GRAPH_URL: 'http://127.0.0.1:9999', FACEBOOK_DIALOG_URL: 'http://127.0.0.1:9998', FACEBOOK_GRAPH_VERSION: 'v25.0',
      SMTP_URL: 'smtp://user:pass@mail:587', MAIL_FROM: 'Relay <relay@example.com>', ALLOW_PRIVATE_TARGETS: 'false',
      DELIVERY_CONCURRENCY: '8',
    });
    expect(config.deliveryConcurrency).toBe(8);
    expect(config.port).toBe(8080);
    expect(config.publicUrl).toBe('https://relay.example.com');
    expect(config.database).toEqual({ kind: 'mysql', url: 'mysql://u:p@db:3306/relay' });
    expect(config.redisUrl).toBe('redis://cache:6379/0');
    expect(config.role).toBe('worker');
    expect(config.runsHttpApi).toBe(false);
    expect(config.facebook).toMatchObject({ sandbox: false, appId: '123456', graphUrl: 'http://127.0.0.1:9999', graphVersion: 'v25.0' });
    expect(config.mail.smtpUrl).toBe('smtp://user:pass@mail:587');
    expect(config.allowPrivateTargets).toBe(false);
    expect(config.encryption.current.key.equals(Buffer.alloc(32, 7))).toBe(true);
  });

  it.each([
    [{ PORT: 'abc' }, /^Invalid configuration: PORT must be a whole number \(got "abc"\)$/],
    [{ PORT: '70000' }, /PORT must not be greater than 65535/],
    [{ ROLE: 'web' }, /ROLE must be one of api, worker, all \(got "web"\)/],
    [{ DATABASE_URL: 'postgres://x' }, /DATABASE_URL must be a mysql:\/\/ URL/],
    [{ DATABASE_URL: 'mysql://u:p@localhost/relay?socketPath=' }, /^Invalid configuration: DATABASE_URL has an empty socketPath: name the server's Unix socket by its absolute path/],
    [{ DATABASE_URL: 'mysql://u:p@localhost/relay?socketPath=mysqld.sock' }, /^Invalid configuration: DATABASE_URL has a relative socketPath \(got "mysqld.sock"\): .*socketPath=\/run\/mysqld\/mysqld\.sock$/],
    [{ DATABASE_URL: 'mysql://u:p@localhost/relay?socketpath=/run/mysqld/mysqld.sock' }, /DATABASE_URL has the parameter "socketpath": write socketPath/],
    [{ DATABASE_URL: 'mysql://u:p@db:70000/relay' }, /DATABASE_URL is not a valid URL/],
    [{ REDIS_URL: 'localhost:6379' }, /REDIS_URL must be a redis:\/\//],
    [{ ENCRYPTION_KEY: 'short' }, /ENCRYPTION_KEY must be 32 random bytes in base64/],
    [{ ALLOW_PRIVATE_TARGETS: 'maybe' }, /ALLOW_PRIVATE_TARGETS must be true or false/],
    [{ PUBLIC_URL: 'relay.example.com' }, /PUBLIC_URL must be an http\(s\) URL/],
    [{ FACEBOOK_GRAPH_VERSION: '24' }, /FACEBOOK_GRAPH_VERSION must look like v24.0/],
    [{ ROLE: 'api' }, /ROLE=api needs REDIS_URL/],
    [{ DELIVERY_CONCURRENCY: '0' }, /DELIVERY_CONCURRENCY must not be less than 1/],
    [{ FACEBOOK_APP_ID: '123' }, /FACEBOOK_APP_SECRET, FACEBOOK_VERIFY_TOKEN must be set too/],
  ])('refuses %j with one line naming the variable', (env, message) => {
    let error: unknown;
    try {
      loadConfig({ DATA_DIR: dataDir(), ...env });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('reads METRICS_TOKEN, refuses a short one without echoing it, and leaves /metrics open when unset', () => {
    expect(loadConfig({ DATA_DIR: dataDir(), ENCRYPTION_KEY: KEY }).metricsToken).toBeUndefined();
    expect(loadConfig({ DATA_DIR: dataDir(), ENCRYPTION_KEY: KEY, METRICS_TOKEN: 'a'.repeat(32) }).metricsToken).toBe('a'.repeat(32));
    const short = () => loadConfig({ DATA_DIR: dataDir(), ENCRYPTION_KEY: KEY, METRICS_TOKEN: 'short-token' });
    expect(short).toThrow(/METRICS_TOKEN must be 16 to 200 printable characters/);
    expect(short).not.toThrow(/short-token/);
  });

  it('never echoes a secret value in the error', () => {
    expect(() => loadConfig({ DATA_DIR: dataDir(), ENCRYPTION_KEY: 'my-secret-but-wrong' })).toThrow(/^((?!my-secret-but-wrong).)*$/);
  });

  it('reads a DATABASE_URL that names a Unix socket, and never echoes its password when refusing one', () => {
    const url = 'mysql://relay:s3cret-pass@localhost/relay?socketPath=/run/mysqld/mysqld.sock';
    expect(loadConfig({ DATA_DIR: dataDir(), ENCRYPTION_KEY: KEY, DATABASE_URL: url }).database).toEqual({ kind: 'mysql', url });
    for (const wrong of ['mysql://relay:s3cret-pass@localhost/relay?socketPath=run/mysqld.sock', 'mysql://relay:s3cret-pass@localhost:70000/relay']) {
      expect(() => loadConfig({ DATA_DIR: dataDir(), ENCRYPTION_KEY: KEY, DATABASE_URL: wrong })).toThrow(/^Invalid configuration: DATABASE_URL ((?!s3cret).)*$/);
    }
  });

  it('refuses to start in production without ENCRYPTION_KEY', () => {
    expect(() =>
      loadConfig({
        NODE_ENV: 'production', DATA_DIR: dataDir(), PUBLIC_URL: 'https://relay.example.com',
        FACEBOOK_APP_ID: '1', FACEBOOK_APP_SECRET: 'secret-secret', FACEBOOK_VERIFY_TOKEN: 'verify-verify',
      }),
    ).toThrow('ENCRYPTION_KEY is required when NODE_ENV=production');
  });

  it('refuses sandbox mode in production, and private targets default to off there', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: dataDir(), ENCRYPTION_KEY: KEY, PUBLIC_URL: 'https://r.example.com' }))
      .toThrow(/FACEBOOK_APP_ID.*required when NODE_ENV=production/);
    const config = loadConfig({
      NODE_ENV: 'production', DATA_DIR: dataDir(), ENCRYPTION_KEY: KEY, PUBLIC_URL: 'https://r.example.com',
      FACEBOOK_APP_ID: '1', FACEBOOK_APP_SECRET: 'secret-secret', FACEBOOK_VERIFY_TOKEN: 'verify-verify',
    });
    expect(config.allowPrivateTargets).toBe(false);
  });

  it('generates a key once into DATA_DIR outside production and reuses it', () => {
    const dir = dataDir();
    const first = loadConfig({ DATA_DIR: dir });
    const stored = readFileSync(join(dir, 'encryption.key'), 'utf8').trim();
    expect(Buffer.from(stored, 'base64').equals(first.encryption.current.key)).toBe(true);
    const second = loadConfig({ DATA_DIR: dir });
    expect(second.encryption.current.key.equals(first.encryption.current.key)).toBe(true);
  });
});
