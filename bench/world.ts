import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection, type Connection } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { startContactCenterSandbox, type ContactCenterSandbox } from '../sandbox/contact-center/server';
import { startFacebookSandbox, type FacebookSandbox } from '../sandbox/facebook/server';
import { ALL_TASKS } from '../sandbox/facebook/types';
import { Tenant } from '../src/accounts/tenant.entity';
import { hashSecret, randomToken, SecretBox } from '../src/common/crypto/secret-box';
import { newId } from '../src/common/ids';
import { loadConfig } from '../src/config/app-config';
import { parseMysqlUrl } from '../src/config/mysql-url';
import { createDataSource } from '../src/database/data-source';
import { runMigrations } from '../src/database/migrate';
import { Integration } from '../src/integrations/integration.entity';
import { Child, freePort, sleep, startRelay } from './processes';
import { deleteKeys } from './redis-keys';
import type { PageLoad } from './webhook-payload';

/** A connection to the server a mysql:// URL names (over TCP or its socketPath), as root unless it names a user, in no database. */
export function connectToServer(databaseUrl: string): Promise<Connection> {
  const server = parseMysqlUrl(databaseUrl);
  return createConnection({ ...server, user: server.user ?? 'root', database: undefined });
}

/** How long the bench waits for POSTs answered 200 to become message rows. */
export const STORE_WAIT_MS = 180_000;

export interface BenchOptions {
  databaseUrl?: string;
  redisUrl?: string;
  pages: number;
  customersPerPage: number;
  cpuProfDir?: string;
  /** node/V8 flags for the relay processes (by default those of `npm run start:prod`). */
  nodeFlags: string[];
}

export interface FacebookPage extends PageLoad {
  pageToken: string;
}

/** The sandboxes (in the bench process) and the Facebook world: pages with customers and page tokens. */
export class Sandboxes {
  private constructor(readonly facebook: FacebookSandbox, readonly contactCenter: ContactCenterSandbox, readonly pages: FacebookPage[]) {}

  static async start(options: BenchOptions): Promise<Sandboxes> {
    const facebook = await startFacebookSandbox({ port: 0, seed: true, appSecret: `bench-secret-${randomBytes(8).toString('hex')}` });
    const contactCenter = await startContactCenterSandbox({ port: 0, seed: true, maxStoredNotifications: 20_000 });
    const ana = facebook.seed!.users.ana;
    const pages: FacebookPage[] = [];
    for (let p = 0; p < options.pages; p++) {
      const page = facebook.control.createPage({ name: `Bench page ${p}`, roles: { [ana]: ALL_TASKS } });
      const { pageToken } = facebook.control.issueToken({ userId: ana, pageId: page.id });
      const psids: string[] = [];
      for (let c = 0; c < options.customersPerPage; c++) {
        psids.push(facebook.control.createCustomer({ pageId: page.id, firstName: `Cliente${c}`, lastName: `Página${p}`, lastMessageAgoMs: 60_000 }).psid);
      }
      pages.push({ pageId: page.id, psids, pageToken: pageToken! });
    }
    return new Sandboxes(facebook, contactCenter, pages);
  }

  async close(): Promise<void> {
    await Promise.all([this.facebook.close(), this.contactCenter.close()]);
  }
}

/** A tenant as `test/support/fixtures.ts` writes one; answers its id. */
export async function seedTenant(dataSource: DataSource, email: string): Promise<string> {
  const now = new Date();
  const tenant = { id: newId(), email, passwordHash: 'not-a-real-hash', status: 'active', createdAt: now, updatedAt: now };
  await dataSource.getRepository(Tenant).insert(tenant as Tenant);
  return tenant.id;
}

/** An active integration of one page, bound to it, with its reply token's hash and these encrypted values. */
export function benchIntegration(tenantId: string, pageId: string, replyToken: string, encrypted: Pick<Integration, 'pageTokenEnc' | 'openchannelUrlEnc' | 'replyTokenEnc'>): Integration {
  const now = new Date();
  return {
    id: newId(), tenantId, name: `Bench ${pageId}`, pageId, pageName: `Bench page ${pageId}`, boundPageId: pageId,
    facebookIdentityId: null, ...encrypted, apiKeyEnc: null, replyTokenHash: hashSecret(replyToken), signingSecretEnc: null, wallPosts: true, enabled: true,
    status: 'active', statusReason: null, humanAgentTag: false, forwardReactions: false, forwardEdits: false, pageSubscribed: true,
    lastEventAt: null, lastDeliveryAt: null, lastCheckedAt: null, createdAt: now, updatedAt: now,
  };
}

/**
 * One scenario's relay: a fresh database (temporary SQLite file, or a new MariaDB database
 * dropped afterwards) and queue prefix, seeded with a tenant and one integration per page, then
 * relay processes started from dist/ with the roles asked for.
 */
export class RelayUnderTest {
  readonly children: Child[] = [];
  replyTokens = new Map<string, string>();
  private dataSource!: DataSource;
  private env!: Record<string, string>;

  private constructor(
    private readonly name: string,
    private readonly options: BenchOptions,
    private readonly sandboxes: Sandboxes,
    private readonly dataDir: string,
    private readonly databaseName: string | null,
    private readonly queuePrefix: string,
  ) {}

  static async create(name: string, options: BenchOptions, sandboxes: Sandboxes): Promise<RelayUnderTest> {
    const stamp = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
    const dataDir = mkdtempSync(join(tmpdir(), `relay-bench-${name}-`));
    const databaseName = options.databaseUrl ? `relay_bench_${stamp}_${name}` : null;
    const relay = new RelayUnderTest(name, options, sandboxes, dataDir, databaseName, `relaybench-${stamp}-${name}`);
    await relay.prepare();
    return relay;
  }

  get url(): string {
    return this.children[0]?.url ?? '';
  }

  private async prepare(): Promise<void> {
    const fb = this.sandboxes.facebook;
    this.env = {
      DATA_DIR: this.dataDir,
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      FACEBOOK_APP_ID: fb.appId,
      FACEBOOK_APP_SECRET: fb.appSecret,
      FACEBOOK_VERIFY_TOKEN: 'bench-verify-token',
      FACEBOOK_GRAPH_URL: fb.url,
      FACEBOOK_DIALOG_URL: fb.url,
      FACEBOOK_GRAPH_VERSION: fb.graphVersion,
      SANDBOX: 'false',
      LOG_LEVEL: 'warn',
      QUEUE_PREFIX: this.queuePrefix,
    };
    if (this.options.databaseUrl) {
      const server = new URL(this.options.databaseUrl);
      const connection = await connectToServer(this.options.databaseUrl);
      await connection.query(`CREATE DATABASE \`${this.databaseName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
      await connection.end();
      server.pathname = `/${this.databaseName}`;
      this.env.DATABASE_URL = server.toString();
    }
    if (this.options.redisUrl) this.env.REDIS_URL = this.options.redisUrl;

    const config = loadConfig({ ...this.env, PORT: '1' });
    this.dataSource = createDataSource(config);
    await this.dataSource.initialize();
    await runMigrations(this.dataSource);
    const box = new SecretBox(config);
    const tenantId = await seedTenant(this.dataSource, `bench-${this.name}@example.com`);
    const receiveUrl = this.sandboxes.contactCenter.receiveUrl(1);
    for (const page of this.sandboxes.pages) {
      const replyToken = randomToken();
      this.replyTokens.set(page.pageId, replyToken);
      await this.dataSource.getRepository(Integration).insert(benchIntegration(tenantId, page.pageId, replyToken, {
        pageTokenEnc: box.encrypt(page.pageToken), openchannelUrlEnc: box.encrypt(receiveUrl), replyTokenEnc: box.encrypt(replyToken),
      }));
    }
  }

  /** Starts a relay process; `all` on the embedded queue, `api`/`worker` with Redis. */
  async start(role: 'all' | 'api' | 'worker', env: Record<string, string> = {}): Promise<Child> {
    const port = await freePort();
    const child = await startRelay({ ...this.env, ...env, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, ROLE: role }, { name: `${this.name}-${role}`, cpuProfDir: this.options.cpuProfDir, nodeFlags: this.options.nodeFlags });
    this.children.push(child);
    return child;
  }

  /** Inbound message rows stored so far (the durability check after an ingest run). */
  async storedInbound(): Promise<number> {
    const [row] = await this.dataSource.query("SELECT COUNT(*) AS n FROM messages WHERE direction = 'in'");
    return Number(row.n);
  }

  /**
   * Waits until `count` inbound message rows were stored after the `before` of `storedInbound()`, at most
   * STORE_WAIT_MS; answers how many were, and after how long.
   */
  async waitForStored(before: number, count: number): Promise<{ stored: number; seconds: number }> {
    const started = Date.now();
    let stored = (await this.storedInbound()) - before;
    while (stored < count && Date.now() - started < STORE_WAIT_MS) {
      await sleep(250);
      stored = (await this.storedInbound()) - before;
    }
    return { stored, seconds: (Date.now() - started) / 1000 };
  }

  /**
   * Inbound message rows, and webhook POSTs still in the inbox (not yet turned into messages), in one
   * statement: the processor moves POSTs from one to the other, so two statements could miss some.
   */
  async storedAndInbox(): Promise<{ stored: number; inboxRows: number }> {
    const [row] = await this.dataSource.query("SELECT (SELECT COUNT(*) FROM messages WHERE direction = 'in') AS stored, (SELECT COUNT(*) FROM webhook_inbox) AS inbox");
    return { stored: Number(row.stored), inboxRows: Number(row.inbox) };
  }

  async countByStatus(): Promise<Record<string, number>> {
    const rows: Array<{ status: string; n: string | number }> = await this.dataSource.query("SELECT status, COUNT(*) AS n FROM messages WHERE direction = 'in' GROUP BY status");
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  async stopChild(child: Child): Promise<void> {
    await child.stop();
    this.children.splice(this.children.indexOf(child), 1);
  }

  async close(): Promise<void> {
    for (const child of [...this.children].reverse()) await child.stop();
    this.children.length = 0;
    if (this.dataSource?.isInitialized) await this.dataSource.destroy();
    if (this.databaseName && this.options.databaseUrl) {
      const connection = await connectToServer(this.options.databaseUrl);
      await connection.query(`DROP DATABASE IF EXISTS \`${this.databaseName}\``);
      await connection.end();
    }
    if (this.options.redisUrl) await deleteKeys(this.options.redisUrl, `${this.queuePrefix}:*`);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
