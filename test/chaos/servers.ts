import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import IORedis from 'ioredis';
import { freePort } from '../support/test-app';

/**
 * Throw-away MariaDB and Redis servers on spare ports, owned by one chaos suite, so it can kill,
 * restart and flush them without touching the machine's shared 3306/6379. Each keeps its data
 * directory across restarts (MariaDB) or loses everything (Redis, no persistence: a restart is a flush).
 */
export interface OwnServer {
  url: string;
  port: number;
  /** SIGKILL (crash) or SIGTERM (clean stop), and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Start again on the same port (and data directory), resolving once it answers. */
  start(): Promise<void>;
  /** Stop for good and remove the data directory. */
  destroy(): Promise<void>;
}

const MARIADBD = process.env.MARIADBD_PATH ?? '/usr/sbin/mariadbd';

export async function startOwnMariaDb(): Promise<OwnServer> {
  const dir = mkdtempSync(join(tmpdir(), 'chaos-mariadb-'));
  const port = await freePort();
  execFileSync('mariadb-install-db', [
    '--no-defaults', `--datadir=${dir}/data`, '--auth-root-authentication-method=normal', '--user=root', '--skip-test-db',
  ], { stdio: 'pipe' });
  let child: ChildProcess | null = null;
  const server: OwnServer = {
    url: `mysql://root@127.0.0.1:${port}/mysql`,
    port,
    async start() {
      child = spawn(MARIADBD, [
        '--no-defaults', `--datadir=${dir}/data`, `--port=${port}`, `--socket=${dir}/sock`, `--pid-file=${dir}/pid`, '--bind-address=127.0.0.1',
        '--user=root', '--skip-log-bin', '--innodb-buffer-pool-size=64M', '--innodb-log-file-size=48M', '--max-connections=500', '--skip-name-resolve',
      ], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000); });
      await waitUntil(`MariaDB on port ${port}`, async () => {
        if (child!.exitCode !== null) throw new Error(`mariadbd exited with ${child!.exitCode}: ${stderr}`);
        const connection = await createConnection({ host: '127.0.0.1', port, user: 'root' });
        await connection.end();
        return true;
      }, 60_000);
    },
    async stop(signal = 'SIGKILL') {
      await kill(child, signal);
      child = null;
    },
    async destroy() {
      await kill(child, 'SIGKILL');
      child = null;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

export async function startOwnRedis(): Promise<OwnServer> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const server: OwnServer = {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    async start() {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], { stdio: 'ignore' });
      await waitUntil(`Redis on port ${port}`, async () => {
        if (child!.exitCode !== null) throw new Error(`redis-server exited with ${child!.exitCode}`);
        const redis = new IORedis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        try {
          await redis.connect();
          return (await redis.ping()) === 'PONG';
        } finally {
          redis.disconnect();
        }
      }, 20_000);
    },
    async stop(signal = 'SIGKILL') {
      await kill(child, signal);
      child = null;
    },
    async destroy() {
      await kill(child, 'SIGKILL');
      child = null;
    },
  };
  await server.start();
  return server;
}

/** A new empty database on a server, its URL returned. */
export async function createDatabase(server: OwnServer, name = `relay_chaos_${Date.now()}`): Promise<string> {
  const connection = await createConnection({ host: '127.0.0.1', port: server.port, user: 'root' });
  await connection.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await connection.end();
  return `mysql://root@127.0.0.1:${server.port}/${name}`;
}

async function kill(child: ChildProcess | null, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
      if (error instanceof Error && /exited with/.test(error.message)) throw error;
    }
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
