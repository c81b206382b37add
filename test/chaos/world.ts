import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ContactCenterSandbox, startContactCenterSandbox } from '../../sandbox/contact-center/server';
import { FacebookSandbox, startFacebookSandbox } from '../../sandbox/facebook/server';
import { DeliverySettings } from '../../src/relay/delivery.settings';
import { relayEnv } from '../relay/inbound-harness';
import { FAST_DELIVERY, integrationFor } from '../reliability/traffic';
import { freePort, startTestApp, TestApp } from '../support/test-app';

export { FAST_DELIVERY, integrationFor };

/** The two sandboxes every chaos scenario talks to. */
export async function sandboxes(): Promise<{ fb: FacebookSandbox; cc: ContactCenterSandbox; close(): Promise<void> }> {
  const fb = await startFacebookSandbox({ port: 0, seed: false });
  const cc = await startContactCenterSandbox({ maxStoredNotifications: 1_000_000 } as never);
  return { fb, cc, close: async () => { await cc.close(); await fb.close(); } };
}

/** A relay in this process on the given database/Redis, with retry timings shortened. */
export async function inProcessRelay(fb: FacebookSandbox, databaseUrl: string, redisUrl: string, env: Record<string, string> = {}): Promise<TestApp> {
  const relay = await startTestApp({ backend: { name: 'chaos', databaseUrl, redisUrl, toString: () => 'chaos' }, env: { ...relayEnv(fb), ...env } });
  Object.assign(relay.get(DeliverySettings), FAST_DELIVERY);
  return relay;
}


export interface RelayProcess {
  url: string;
  child: ChildProcess;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** A relay in its own process (test/relay/child: sources compiled by @swc/core), e.g. ROLE=api or worker. */
export async function spawnRelay(env: Record<string, string>): Promise<RelayProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(__dirname, '../relay/child/relay-process.js')], {
    env: {
      ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`,
      CHILD_SETTINGS: JSON.stringify(FAST_DELIVERY), ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let errors = '';
    const timer = setTimeout(() => reject(new Error(`The relay child did not start: ${errors}`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('READY')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => { errors = (errors + chunk.toString()).slice(-4000); });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`The relay child exited with ${code}: ${errors}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    kill: async (signal = 'SIGKILL') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill(signal);
      await exited;
    },
  };
}

/** Environment shared by every process of one multi-process relay. */
export function sharedEnv(fb: FacebookSandbox, databaseUrl: string, redisUrl: string): Record<string, string> {
  return {
    ...relayEnv(fb), DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, QUEUE_PREFIX: `c${randomBytes(4).toString('hex')}`,
    ENCRYPTION_KEY: randomBytes(32).toString('base64'), DATA_DIR: join(require('node:os').tmpdir(), `chaos-data-${randomBytes(4).toString('hex')}`),
  };
}
