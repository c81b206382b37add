/** Runs the Facebook sandbox as its own process: `npm run sandbox:facebook`. Configured from the environment. */
import { startFacebookSandbox } from './server';

function bool(v: string | undefined): boolean | undefined {
  if (v === undefined || v === '') return undefined;
  return ['1', 'true', 'yes', 'on'].includes(v.toLowerCase());
}

function list(v: string | undefined): string[] | undefined {
  return v ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
}

async function main(): Promise<void> {
  const env = process.env;
  const autoApprove = env.FB_SANDBOX_AUTO_APPROVE;
  const retry = list(env.FB_SANDBOX_WEBHOOK_RETRY_DELAYS_MS)?.map(Number);
  const sandbox = await startFacebookSandbox({
    port: Number(env.PORT ?? env.FB_SANDBOX_PORT ?? 3001),
    host: env.FB_SANDBOX_HOST ?? '127.0.0.1',
    appId: env.FB_SANDBOX_APP_ID,
    appSecret: env.FB_SANDBOX_APP_SECRET,
    graphVersion: env.FB_SANDBOX_GRAPH_VERSION,
    autoApprove: !autoApprove || ['0', 'false', 'no', 'off'].includes(autoApprove.toLowerCase()) ? false : /^\d{6,}$/.test(autoApprove) ? autoApprove : true,
    cdnTtlMs: env.FB_SANDBOX_CDN_TTL_MS ? Number(env.FB_SANDBOX_CDN_TTL_MS) : undefined,
    seed: bool(env.FB_SANDBOX_SEED),
    publicUrl: env.FB_SANDBOX_PUBLIC_URL,
    allowedRedirectUris: list(env.FB_SANDBOX_REDIRECT_URIS),
    requireAppSecretProof: bool(env.FB_SANDBOX_REQUIRE_PROOF),
    webhookCallbackUrl: env.FB_SANDBOX_WEBHOOK_URL,
    webhookVerifyToken: env.FB_SANDBOX_WEBHOOK_VERIFY_TOKEN,
    webhookFields: list(env.FB_SANDBOX_WEBHOOK_FIELDS),
    subscribeSeededPages: bool(env.FB_SANDBOX_SUBSCRIBE_PAGES),
    webhook: {
      ...(bool(env.FB_SANDBOX_WEBHOOK_BATCH) !== undefined ? { batch: bool(env.FB_SANDBOX_WEBHOOK_BATCH) } : {}),
      ...(retry ? { retryDelaysMs: retry } : {}),
      ...(env.FB_SANDBOX_WEBHOOK_MAX_ATTEMPTS ? { maxAttempts: Number(env.FB_SANDBOX_WEBHOOK_MAX_ATTEMPTS) } : {}),
      ...(env.FB_SANDBOX_AUTO_UNSUBSCRIBE_AFTER ? { autoUnsubscribeAfterFailures: Number(env.FB_SANDBOX_AUTO_UNSUBSCRIBE_AFTER) } : {}),
    },
    log: (line) => process.stdout.write(`[facebook-sandbox] ${line}\n`),
  });
  const info = sandbox.control.info();
  process.stdout.write(
    [
      `[facebook-sandbox] listening on ${sandbox.url}`,
      `  FACEBOOK_GRAPH_URL=${sandbox.url}  (versioned: ${sandbox.graphUrl})`,
      `  FACEBOOK_DIALOG_URL=${sandbox.url}  (dialog: ${info.dialogUrl})`,
      `  app id ${sandbox.appId}, app secret ${sandbox.appSecret}, Graph ${sandbox.graphVersion}`,
      `  control API: ${sandbox.url}/_control (state: ${sandbox.url}/_control/state)`,
      sandbox.seed ? `  demo users: ${JSON.stringify(sandbox.seed.users)} pages: ${JSON.stringify(sandbox.seed.pages)}` : '  (no demo data)',
      '',
    ].join('\n'),
  );
  const stop = () => {
    void sandbox.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => {
  process.stderr.write(`[facebook-sandbox] failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
