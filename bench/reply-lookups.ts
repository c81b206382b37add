import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { newId } from '../src/common/ids';
import { loadConfig } from '../src/config/app-config';
import { Database } from '../src/database/database';
import { createDataSource } from '../src/database/data-source';
import { runMigrations } from '../src/database/migrate';
import { Integration } from '../src/integrations/integration.entity';
import { IntegrationsRepository } from '../src/integrations/integrations.repository';
import { Conversation } from '../src/relay/conversation.entity';
import { ReplyLookups } from '../src/replies/reply-lookups';
import { round, summarize } from './stats';
import { benchIntegration, connectToServer, seedTenant } from './world';

/**
 * `node dist/bench/reply-lookups.js [--database-url mysql://root@127.0.0.1:3306] [--count 4000]`: what a
 * reply's reads cost, as the token guard reads them (the integration joined to the conversation, one
 * statement) and as it would one after the other (two statements), alternating the two on the same
 * connection so the machine's changing load weighs on both alike. The replies scenario's overhead
 * varies by more than this difference from run to run. A fresh database (8 integrations, 2,000
 * conversations) is created and dropped.
 */
async function main(): Promise<void> {
  const args = new Map<string, string>();
  for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
  const server = new URL(args.get('database-url') ?? process.env.DATABASE_URL ?? 'mysql://root@127.0.0.1:3306');
  const count = Number(args.get('count') ?? 4000);
  const name = `relay_bench_lookups_${Date.now().toString(36)}`;
  const admin = await connectToServer(server.toString());
  await admin.query(`CREATE DATABASE \`${name}\``);
  server.pathname = `/${name}`;
  let dataSource: DataSource | undefined;
  try {
    dataSource = createDataSource(loadConfig({ DATABASE_URL: server.toString(), ENCRYPTION_KEY: randomBytes(32).toString('base64'), PORT: '1' }));
    await dataSource.initialize();
    await runMigrations(dataSource);
    const targets = await seed(dataSource);
    const database = new Database(dataSource);
    const lookups = new ReplyLookups(database);
    const integrations = new IntegrationsRepository(database);
    const ways = {
      'integration SELECT, then conversation SELECT': async (t: Target) => {
        const integration = (await integrations.findByReplyTokenHash(t.hash))!;
        return lookups.conversation({ tenantId: integration.tenantId, integrationId: integration.id, customerId: t.customerId, threadId: '' });
      },
      'one SELECT, integration joined to conversation': async (t: Target) =>
        (await lookups.integrationWithConversation(t.hash, { customerId: t.customerId, threadId: '' }))!.prefetched.conversation,
    };
    const names = Object.keys(ways) as Array<keyof typeof ways>;
    const samples = new Map<string, number[]>(names.map((way) => [way, []]));
    const warmUp = 200;
    for (let i = 0; i < count + warmUp; i++) {
      const target = targets[i % targets.length];
      for (const way of i % 2 ? names : [...names].reverse()) {
        const started = process.hrtime.bigint();
        if (!(await ways[way](target))) throw new Error('a seeded conversation was not found');
        if (i >= warmUp) samples.get(way)!.push(Number(process.hrtime.bigint() - started) / 1e6);
      }
    }
    for (const way of names) {
      const s = summarize(samples.get(way)!);
      process.stdout.write(`${way}: p50 ${s.p50} ms, mean ${s.mean} ms, p99 ${s.p99} ms (${s.count} each)\n`);
    }
    const [two, one] = names.map((way) => summarize(samples.get(way)!));
    process.stdout.write(`saved per reply: ${round(two.p50 - one.p50, 3)} ms at p50, ${round(two.mean - one.mean, 3)} ms on average\n`);
  } finally {
    if (dataSource?.isInitialized) await dataSource.destroy();
    await admin.query(`DROP DATABASE IF EXISTS \`${name}\``).catch((error: Error) => process.stderr.write(`could not drop ${name}: ${error.message}\n`));
    await admin.end();
  }
}

interface Target {
  hash: string;
  customerId: string;
}

/** 8 integrations with 250 Messenger conversations each, as the bench's other scenarios have. */
async function seed(dataSource: DataSource): Promise<Target[]> {
  const tenantId = await seedTenant(dataSource, 'lookups@example.com');
  const now = new Date();
  const targets: Target[] = [];
  for (let p = 0; p < 8; p++) {
    const integration = benchIntegration(tenantId, `10847000000${p}`, `token-${p}`, { pageTokenEnc: 'unused', openchannelUrlEnc: 'unused', replyTokenEnc: 'unused' });
    await dataSource.getRepository(Integration).insert(integration);
    const conversations: Conversation[] = [];
    for (let c = 0; c < 250; c++) {
      const customerId = `67804600000${p}${String(c).padStart(3, '0')}`;
      conversations.push({
        id: newId(), tenantId, integrationId: integration.id, channel: 'messenger', customerId, threadId: '', customerName: 'Ana Silva',
        firstName: 'Ana', lastName: 'Silva', lastCustomerMessageAt: now, lastCustomerCommentId: null, createdAt: now, updatedAt: now,
      });
      targets.push({ hash: integration.replyTokenHash, customerId });
    }
    await dataSource.getRepository(Conversation).insert(conversations);
  }
  return targets;
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
