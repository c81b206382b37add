import 'reflect-metadata';
import { setFlagsFromString } from 'node:v8';
import { createApp } from './app';
import { createRootLogger } from './common/logging/logger';
import { ConfigError, loadConfig } from './config/app-config';
import { demoEnvironment, demoInstructions, startDemoSandboxes, wantsDemo } from './demo/demo-sandboxes';

/**
 * V8 lets the old generation grow to several times what survives a collection before it collects
 * again (the factor is dynamic, up to 4×), so at a steady 500 events/s the RSS swung between about
 * 180 and 300 MB. Growing it by 30 % at most keeps it flat at about 180 MB; it costs about 12 % of the
 * throughput of 100-event webhook bursts (more frequent full collections; docs/performance.md). A
 * `--heap-growing-percent` given to node takes precedence (`=0` is V8's own dynamic factor).
 *
 * The young generation is smaller too, but that flag is in the start command (`npm start`, `start:prod`,
 * the Dockerfile): V8 reads `--max-semi-space-size` only when it creates the heap, so setting it here does
 * nothing. 2 × 8 MB instead of 2 × 16 MB took about 16 MB off the RSS at a steady load, at no cost in
 * throughput that the bench could see (docs/performance.md, round 7).
 */
const HEAP_GROWING_PERCENT = 30;

function limitHeapGrowth(): void {
  if (process.execArgv.some((arg) => arg.startsWith('--heap-growing-percent') || arg.startsWith('--heap_growing_percent'))) return;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

async function main(): Promise<void> {
  limitHeapGrowth();
  const demo = wantsDemo(process.env);
  let config;
  try {
    config = loadConfig(demo ? demoEnvironment(process.env) : process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createRootLogger(config.logLevel);
  const app = await createApp(config, { logger });
  await app.listen(config.port);

  const where = config.runsHttpApi ? `open ${config.publicUrl}` : `health on ${config.publicUrl}/health/ready`;
  logger.info(
    { role: config.role, database: config.database.kind, queue: config.redisUrl ? 'bullmq' : 'in-process', sandbox: config.facebook.sandbox },
    `Open Channel Relay is running (${config.role}): ${where}`,
  );
  process.stdout.write(`\n  Open Channel Relay is running: ${where}\n  API docs: ${config.publicUrl}/api/docs\n`);
  if (demo && config.runsHttpApi) {
    const sandboxes = await startDemoSandboxes(config);
    process.stdout.write(demoInstructions(config, sandboxes));
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal} received: finishing in-flight requests and jobs`);
    const timer = setTimeout(() => {
      logger.error('Shutdown took longer than 30 s, exiting');
      process.exit(1);
    }, 30_000);
    timer.unref();
    // Stop taking connections first, then let Nest finish jobs and close the database.
    const server = app.getHttpServer();
    server.close();
    server.closeIdleConnections?.();
    await app.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

void main().catch((error) => {
  process.stderr.write(`The relay could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
