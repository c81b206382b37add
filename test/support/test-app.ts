import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Type } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import pino from 'pino';
import { deleteKeys } from '../../bench/redis-keys';
import { createApp } from '../../src/app';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import { Backend, backends } from './backends';
import { createScratchMysqlDatabase } from './test-database';

export interface TestApp {
  app: NestExpressApplication;
  config: AppConfig;
  /** Base URL of the listening relay (real HTTP, ephemeral port). */
  url: string;
  get<T>(token: Type<T> | string | symbol | (abstract new (...args: never[]) => T)): T;
  close(): Promise<void>;
}

export interface TestAppOptions {
  backend?: Backend;
  env?: Record<string, string | undefined>;
  modules?: Type[];
  /** Capture log lines (JSON strings) instead of discarding them. */
  logLines?: string[];
}

/**
 * Boots the whole relay on a fresh database (temp SQLite file, or a scratch MySQL database) and a
 * private queue prefix, listening on an ephemeral port.
 */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const backend = options.backend ?? backends()[0];
  const dataDir = mkdtempSync(join(tmpdir(), 'relay-test-'));
  const scratch = backend.databaseUrl ? await createScratchMysqlDatabase(backend.databaseUrl) : undefined;
  const port = await freePort();
  const env: Record<string, string | undefined> = {
    NODE_ENV: 'test',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATA_DIR: dataDir,
    DATABASE_URL: scratch?.url,
    REDIS_URL: backend.redisUrl,
    QUEUE_PREFIX: `t${randomBytes(5).toString('hex')}`,
    LOG_LEVEL: options.logLines ? 'debug' : 'silent',
    ...options.env,
  };
  const config = loadConfig(env as NodeJS.ProcessEnv);
  const logger = options.logLines
    ? pino({ level: 'debug' }, { write: (line: string) => void options.logLines!.push(line) })
    : undefined;
  let app: NestExpressApplication | undefined;
  try {
    app = await createApp(config, { logger, modules: options.modules });
    await app.listen(port, '127.0.0.1');
  } catch (error) {
    // A start that failed half-way (in a module's init, or on listen) may hold connections and threads.
    await app?.close().catch(() => undefined);
    await scratch?.drop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  let closed = false;
  const started = app;
  return {
    app: started,
    config,
    url: config.publicUrl,
    get: (token) => started.get(token as never),
    close: async () => {
      if (closed) return;
      closed = true;
      await started.close();
      await scratch?.drop().catch(() => undefined);
      if (config.redisUrl) await deleteKeys(config.redisUrl, `${config.queuePrefix}:*`).catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A port nothing listens on right now, so PUBLIC_URL can be known before the app boots. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
