import { startContactCenterSandbox } from './server';

/**
 * `npm run sandbox:contact-center`: the Open Channel contact-center emulator as its own process.
 * Env: PORT (3002), HOST (127.0.0.1), PUBLIC_URL, SEED (1; 0 = no demo account),
 * MAX_ATTACHMENT_BYTES (25 MB), NOTIFY_LATENCY_MS (0).
 * Signals: SIGUSR2 toggles "down" (listening socket closed) / up.
 */
async function main(): Promise<void> {
  const env = process.env;
  const sandbox = await startContactCenterSandbox({
    port: env.PORT ? Number(env.PORT) : 3002,
    host: env.HOST || '127.0.0.1',
    publicUrl: env.PUBLIC_URL || undefined,
    seed: env.SEED !== '0',
    maxAttachmentBytes: env.MAX_ATTACHMENT_BYTES ? Number(env.MAX_ATTACHMENT_BYTES) : undefined,
    notifyLatencyMs: env.NOTIFY_LATENCY_MS ? Number(env.NOTIFY_LATENCY_MS) : undefined,
  });
  const log = (line: string): void => void process.stdout.write(`[contact-center sandbox] ${line}\n`);
  log(`listening on ${sandbox.url} (page: ${sandbox.url}/ , control API: ${sandbox.url}/_control/state)`);
  for (const account of sandbox.control.accounts()) {
    log(`account #${account.id} "${account.name}": Receive URL ${sandbox.control.receiveUrl(account.id)}`);
  }

  // While "down" the listening socket is closed; this keeps the process alive until it comes back.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  process.on('SIGUSR2', () => {
    const wasDown = sandbox.control.isDown;
    void (wasDown ? sandbox.control.up() : sandbox.control.down({ mode: 'refuse' })).then(() => log(wasDown ? 'up again' : 'down (connections refused); SIGUSR2 again to come back'));
  });
  const stop = (): void => {
    clearInterval(keepAlive);
    void sandbox.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`[contact-center sandbox] failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
