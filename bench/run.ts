import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Collector } from './collector';
import type { BenchContext, Row, RunOptions, ScenarioResult } from './context';
import { log } from './load';
import { productionNodeFlags } from './processes';
import { drainScenario } from './scenarios/drain';
import { e2eScenario } from './scenarios/e2e';
import { ingestScenario } from './scenarios/ingest';
import { memoryScenario } from './scenarios/memory';
import { repliesScenario } from './scenarios/replies';
import { scaleoutScenario } from './scenarios/scaleout';
import { RelayUnderTest, Sandboxes } from './world';

const SCENARIOS: Record<string, (ctx: BenchContext) => Promise<ScenarioResult>> = {
  ingest: ingestScenario,
  e2e: e2eScenario,
  replies: repliesScenario,
  drain: drainScenario,
  memory: memoryScenario,
  scaleout: scaleoutScenario,
};

const USAGE = `npm run bench -- [options]

  --duration <s>          seconds per measured step (default 20)
  --rate <list>           steady end-to-end rates, events/s (default 500,2000)
  --scenarios <list>      ${Object.keys(SCENARIOS).join(',')} (default all)
  --soak <minutes>        memory soak at 500 events/s (default 10)
  --drain-messages <n>    backlog for the drain scenario (default 50000)
  --scaleout-messages <n> backlog per scale-out run (default 16000)
  --scaleout-concurrency <list>  DELIVERY_CONCURRENCY of the scale-out workers, one pair of runs each (default 8,32)
  --ingest-events <list>  events per POST of the ingest steps, 1 and/or 100 (default 1,100)
  --concurrency <n>       connections of the closed-loop ingest (default 16; replies use half, 100-event POSTs a quarter)
  --pages <n>             Facebook pages / integrations (default 8)
  --customers <n>         customers per page (default 250)
  --database-url <url>    MariaDB/MySQL server (default DATABASE_URL; else embedded SQLite). A fresh database per scenario is created and dropped.
  --redis-url <url>       Redis (default REDIS_URL; else the in-process queue). Keys under a unique prefix, deleted afterwards.
  --cpu-prof              write V8 CPU profiles of the relay processes next to the results
  --node-flags <flags>    node/V8 flags for the relay processes, space-separated, instead of those of npm run start:prod
                          (to compare settings: "--max-semi-space-size=16"; "" for none)
  --out <file>            JSON results (default bench/results/<timestamp>.json)
`;

function parseArgs(argv: string[]): RunOptions {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(USAGE);
      process.exit(0);
    }
    if (!arg.startsWith('--')) throw new Error(`Unexpected argument "${arg}"\n\n${USAGE}`);
    const [name, inline] = arg.slice(2).split('=', 2);
    if (name === 'cpu-prof') {
      args.set(name, 'true');
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value\n\n${USAGE}`);
    args.set(name, value);
  }
  const known = ['duration', 'rate', 'scenarios', 'soak', 'drain-messages', 'scaleout-messages', 'scaleout-concurrency', 'ingest-events', 'concurrency', 'pages', 'customers', 'database-url', 'redis-url', 'cpu-prof', 'node-flags', 'out'];
  for (const name of args.keys()) if (!known.includes(name)) throw new Error(`Unknown option --${name}\n\n${USAGE}`);
  const number = (name: string, fallback: number) => {
    const raw = args.get(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number (got "${raw}")`);
    return value;
  };
  const scenarios = (args.get('scenarios') ?? Object.keys(SCENARIOS).join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of scenarios) if (!SCENARIOS[s]) throw new Error(`Unknown scenario "${s}" (choose from ${Object.keys(SCENARIOS).join(', ')})`);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const out = resolve(args.get('out') ?? join(__dirname, '..', '..', 'bench', 'results', `${stamp}.json`));
  return {
    durationS: number('duration', 20),
    rates: (args.get('rate') ?? '500,2000').split(',').map((r) => {
      const value = Number(r);
      if (!Number.isFinite(value) || value <= 0) throw new Error(`--rate takes positive numbers separated by commas (got "${r}")`);
      return value;
    }),
    scenarios,
    soakMinutes: number('soak', 10),
    drainMessages: Math.round(number('drain-messages', 50_000)),
    scaleoutMessages: Math.round(number('scaleout-messages', 16_000)),
    scaleoutConcurrency: wholeNumbers(args, 'scaleout-concurrency', '8,32'),
    ingestEvents: wholeNumbers(args, 'ingest-events', '1,100').map((events) => {
      if (events !== 1 && events !== 100) throw new Error(`--ingest-events takes 1 and/or 100, the sizes the targets are set for (got ${events})`);
      return events;
    }),
    concurrency: Math.round(number('concurrency', 16)),
    pages: Math.round(number('pages', 8)),
    customersPerPage: Math.round(number('customers', 250)),
    databaseUrl: args.get('database-url') ?? process.env.DATABASE_URL,
    redisUrl: args.get('redis-url') ?? process.env.REDIS_URL,
    cpuProfDir: args.has('cpu-prof') ? join(dirname(out), `prof-${stamp}`) : undefined,
    nodeFlags: args.has('node-flags') ? nodeFlags(args.get('node-flags')) : productionNodeFlags(),
    out,
  };
}

function wholeNumbers(args: Map<string, string>, name: string, fallback: string): number[] {
  return (args.get(name) ?? fallback).split(',').map((item) => {
    const value = Number(item);
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} takes whole numbers separated by commas (got "${item}")`);
    return value;
  });
}

function nodeFlags(raw: string | undefined): string[] {
  const flags = (raw ?? '').split(/\s+/).filter(Boolean);
  for (const flag of flags) if (!flag.startsWith('--')) throw new Error(`--node-flags takes flags that start with -- (got "${flag}")`);
  return flags;
}

function formatTable(rows: Row[]): string {
  const header = ['scenario', 'figure', 'relay', 'unit', 'baseline', 'ratio', 'target', 'met'];
  const cells = rows.map((r) => [
    r.scenario, r.figure, String(r.value), r.unit, r.baseline === undefined ? '' : String(r.baseline), r.ratio === undefined ? '' : String(r.ratio),
    r.target ?? '', r.met === undefined ? '' : r.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => `| ${c.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const backend = `${options.databaseUrl ? 'MariaDB' : 'SQLite'} + ${options.redisUrl ? 'BullMQ/Redis' : 'in-process queue'}`;
  log(`bench: ${options.scenarios.join(', ')} on ${backend}, ${options.durationS} s per step, ${cpus().length} cores, relay flags ${options.nodeFlags.join(' ') || '(none)'}`);
  const sandboxes = await Sandboxes.start(options);
  const collector = new Collector(sandboxes.contactCenter);
  let tags = 0;
  const runTag = Date.now().toString(36);
  const ctx: BenchContext = {
    options, sandboxes, collector,
    relay: (name) => RelayUnderTest.create(name, options, sandboxes),
    tag: () => `${runTag}${(tags++).toString(36)}`,
  };
  const rows: Row[] = [];
  const details: Record<string, unknown> = {};
  const startedAt = new Date();
  let failed = false;
  try {
    for (const name of options.scenarios) {
      log(`scenario ${name}`);
      const began = Date.now();
      try {
        const result = await SCENARIOS[name](ctx);
        rows.push(...result.rows);
        details[name] = result.details;
      } catch (error) {
        failed = true;
        log(`scenario ${name} failed: ${(error as Error).stack ?? error}`);
        rows.push({ scenario: name, figure: 'failed', value: (error as Error).message.split('\n')[0], unit: '' });
        details[name] = { error: (error as Error).message };
      }
      await sandboxes.contactCenter.control.reset({ keepAccounts: true });
      sandboxes.facebook.control.clearCalls();
      log(`scenario ${name} done in ${((Date.now() - began) / 1000).toFixed(0)} s`);
    }
  } finally {
    collector.close();
    await sandboxes.close();
  }
  const table = formatTable(rows);
  process.stdout.write(`\nOpen Channel Relay benchmark, ${backend}, ${startedAt.toISOString()}\n\n${table}\n\n`);
  mkdirSync(dirname(options.out), { recursive: true });
  const { out, ...recorded } = options;
  writeFileSync(out, `${JSON.stringify({
    startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), backend,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version },
    options: { ...recorded, databaseUrl: recorded.databaseUrl ? 'set' : undefined, redisUrl: recorded.redisUrl ? 'set' : undefined },
    table: rows, details,
  }, null, 2)}\n`);
  process.stdout.write(`Results written to ${out}\n`);
  if (options.cpuProfDir) process.stdout.write(`CPU profiles in ${options.cpuProfDir}\n`);
  if (failed) process.exitCode = 1;
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
