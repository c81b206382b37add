import { randomBytes, createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { EnvSchema } from './env.schema';

export type Role = 'api' | 'worker' | 'all';

export interface EncryptionKey {
  /** Short id derived from the key itself, written into every ciphertext so old keys can be found. */
  id: string;
  key: Buffer;
}

/** The one typed configuration object. Built once at boot; injected everywhere as AppConfig. */
export class AppConfig {
  port: number;
  publicUrl: string;
  nodeEnv: string;
  isProduction: boolean;
  role: Role;
  dataDir: string;
  database: { kind: 'sqlite'; file: string } | { kind: 'mysql'; url: string };
  redisUrl?: string;
  queuePrefix: string;
  /** Conversations a worker process delivers at the same time (each one in order, one message at a time). */
  deliveryConcurrency: number;
  encryption: { current: EncryptionKey; previous: EncryptionKey[]; generatedFile?: string };
  facebook: {
    /** true when no Facebook app is configured: the relay talks to the built-in sandbox. */
    sandbox: boolean;
    appId: string;
    appSecret: string;
    verifyToken: string;
    graphUrl: string;
    dialogUrl: string;
    graphVersion: string;
  };
  mail: { smtpUrl?: string; from: string };
  allowPrivateTargets: boolean;
  logLevel: string;
  retentionDays: number;
  /** Minutes a message may keep failing to reach the contact center before the owner is e-mailed. */
  alertFailingMinutes: number;
  /** When set, `GET /metrics` answers only `Authorization: Bearer <metricsToken>`. */
  metricsToken?: string;

  get runsHttpApi(): boolean {
    return this.role === 'api' || this.role === 'all';
  }

  get runsWorkers(): boolean {
    return this.role === 'worker' || this.role === 'all';
  }
}

export class ConfigError extends Error {}

/** Credentials the relay uses against the built-in Facebook sandbox when no real app is configured. */
export const SANDBOX_FACEBOOK_APP = {
  appId: '1000000000000001',
  appSecret: 'sandbox-app-secret-not-for-production',
  verifyToken: 'sandbox-verify-token',
};

export function keyFromBase64(base64: string): EncryptionKey {
  const key = Buffer.from(base64, 'base64');
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 8), key };
}

/**
 * Validates the environment and returns the typed config, or throws a ConfigError whose message
 * is one line naming each wrong variable and what is wrong with it.
 */
/** Enough to keep a contact center that takes 20–50 ms per notify busy; see docs/performance.md. */
export const DEFAULT_DELIVERY_CONCURRENCY = 32;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = plainToInstance(EnvSchema, pickKnown(env));
  const errors = validateSync(parsed, { whitelist: false, forbidUnknownValues: false, stopAtFirstError: true });
  if (errors.length) throw new ConfigError(`Invalid configuration: ${errors.map(describe).join('; ')}`);

  const nodeEnv = parsed.NODE_ENV ?? 'development';
  const isProduction = nodeEnv === 'production';
  const port = parsed.PORT ?? 3000;
  const dataDir = resolve(parsed.DATA_DIR ?? './data');
  const role = parsed.ROLE ?? 'all';

  if (role !== 'all' && !parsed.REDIS_URL) {
    throw new ConfigError(`Invalid configuration: ROLE=${role} needs REDIS_URL (the in-process queue cannot be shared between processes)`);
  }
  if (isProduction && !parsed.ENCRYPTION_KEY) {
    throw new ConfigError('Invalid configuration: ENCRYPTION_KEY is required when NODE_ENV=production (32 random bytes in base64, e.g. from: openssl rand -base64 32)');
  }
  const fbGiven = [parsed.FACEBOOK_APP_ID, parsed.FACEBOOK_APP_SECRET, parsed.FACEBOOK_VERIFY_TOKEN];
  if (fbGiven.some(Boolean) && !fbGiven.every(Boolean)) {
    const missing = ['FACEBOOK_APP_ID', 'FACEBOOK_APP_SECRET', 'FACEBOOK_VERIFY_TOKEN'].filter((_, i) => !fbGiven[i]);
    throw new ConfigError(`Invalid configuration: ${missing.join(', ')} must be set too (the three Facebook app variables go together)`);
  }
  const sandbox = !parsed.FACEBOOK_APP_ID;
  if (sandbox && isProduction) {
    throw new ConfigError('Invalid configuration: FACEBOOK_APP_ID, FACEBOOK_APP_SECRET and FACEBOOK_VERIFY_TOKEN are required when NODE_ENV=production');
  }
  if (isProduction && parsed.PUBLIC_URL === undefined) {
    throw new ConfigError('Invalid configuration: PUBLIC_URL is required when NODE_ENV=production (the https address Facebook and contact centers reach the relay at)');
  }

  const config = new AppConfig();
  config.port = port;
  config.publicUrl = (parsed.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, '');
  config.nodeEnv = nodeEnv;
  config.isProduction = isProduction;
  config.role = role;
  config.dataDir = dataDir;
  config.database = parsed.DATABASE_URL
    ? { kind: 'mysql', url: parsed.DATABASE_URL }
    : { kind: 'sqlite', file: join(dataDir, 'relay.sqlite') };
  config.redisUrl = parsed.REDIS_URL;
  config.queuePrefix = parsed.QUEUE_PREFIX ?? 'relay';
  config.deliveryConcurrency = parsed.DELIVERY_CONCURRENCY ?? DEFAULT_DELIVERY_CONCURRENCY;
  config.encryption = encryptionKeys(parsed, dataDir);
  config.facebook = {
    sandbox,
    appId: parsed.FACEBOOK_APP_ID ?? SANDBOX_FACEBOOK_APP.appId,
    appSecret: parsed.FACEBOOK_APP_SECRET ?? SANDBOX_FACEBOOK_APP.appSecret,
    verifyToken: parsed.FACEBOOK_VERIFY_TOKEN ?? SANDBOX_FACEBOOK_APP.verifyToken,
    graphUrl: (parsed.FACEBOOK_GRAPH_URL ?? 'https://graph.facebook.com').replace(/\/+$/, ''),
    dialogUrl: (parsed.FACEBOOK_DIALOG_URL ?? 'https://www.facebook.com').replace(/\/+$/, ''),
    graphVersion: parsed.FACEBOOK_GRAPH_VERSION ?? 'v24.0',
  };
  config.mail = { smtpUrl: parsed.SMTP_URL, from: parsed.MAIL_FROM ?? 'relay@localhost' };
  config.allowPrivateTargets = parsed.ALLOW_PRIVATE_TARGETS ?? !isProduction;
  config.logLevel = parsed.LOG_LEVEL ?? (nodeEnv === 'test' ? 'silent' : 'info');
  config.retentionDays = parsed.RETENTION_DAYS ?? 90;
  config.alertFailingMinutes = parsed.ALERT_FAILING_MINUTES ?? 15;
  config.metricsToken = parsed.METRICS_TOKEN;
  return config;
}

function pickKnown(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const known = Object.keys(new EnvSchemaKeys());
  return Object.fromEntries(known.map((name) => [name, env[name]]));
}

/** Lists the schema's variable names (class-validator metadata is keyed by property). */
class EnvSchemaKeys {
  PORT = 1; PUBLIC_URL = 1; DATABASE_URL = 1; REDIS_URL = 1; DATA_DIR = 1; ROLE = 1; NODE_ENV = 1;
  ENCRYPTION_KEY = 1; ENCRYPTION_KEY_PREVIOUS = 1; FACEBOOK_APP_ID = 1; FACEBOOK_APP_SECRET = 1;
  FACEBOOK_VERIFY_TOKEN = 1; FACEBOOK_GRAPH_URL = 1; FACEBOOK_DIALOG_URL = 1; FACEBOOK_GRAPH_VERSION = 1;
  SMTP_URL = 1; MAIL_FROM = 1; ALLOW_PRIVATE_TARGETS = 1; LOG_LEVEL = 1; QUEUE_PREFIX = 1; DELIVERY_CONCURRENCY = 1; RETENTION_DAYS = 1; ALERT_FAILING_MINUTES = 1;
  SANDBOX = 1; METRICS_TOKEN = 1;
}

const SECRET_VARIABLES = new Set(['ENCRYPTION_KEY', 'ENCRYPTION_KEY_PREVIOUS', 'FACEBOOK_APP_SECRET', 'FACEBOOK_VERIFY_TOKEN', 'METRICS_TOKEN']);

function describe(error: ValidationError): string {
  const reasons = Object.values(error.constraints ?? {}).map((text) => text.replace(new RegExp(`^${error.property} `), ''));
  const value = SECRET_VARIABLES.has(error.property) || /URL$/.test(error.property) ? '' : ` (got ${JSON.stringify(error.value)})`;
  return `${error.property} ${reasons[0] ?? 'is invalid'}${value}`;
}

function encryptionKeys(parsed: EnvSchema, dataDir: string): AppConfig['encryption'] {
  const previous = (parsed.ENCRYPTION_KEY_PREVIOUS ?? '').split(',').filter(Boolean).map(keyFromBase64);
  if (parsed.ENCRYPTION_KEY) return { current: keyFromBase64(parsed.ENCRYPTION_KEY), previous };
  // Outside production: one key generated on first boot and kept next to the SQLite file.
  const file = join(dataDir, 'encryption.key');
  if (!existsSync(file)) {
    if (!isAbsolute(dataDir)) throw new ConfigError('Invalid configuration: DATA_DIR must resolve to an absolute path');
    mkdirSync(dataDir, { recursive: true });
    try {
      writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error; // another process won the race
    }
  }
  const stored = readFileSync(file, 'utf8').trim();
  if (!/^[A-Za-z0-9+/]{43}=$/.test(stored)) {
    throw new ConfigError(`Invalid configuration: ${file} does not hold a base64 32-byte key; restore it or set ENCRYPTION_KEY`);
  }
  return { current: keyFromBase64(stored), previous, generatedFile: file };
}
