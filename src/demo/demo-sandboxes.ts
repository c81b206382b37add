import { ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AppConfig } from '../config/app-config';

/** Ports of the built-in sandboxes in the offline demo: next to the relay's own. */
export function demoPorts(relayPort: number) {
  return { facebook: relayPort + 1, contactCenter: relayPort + 2 };
}

/** `npm start` with no Facebook app configured (and not in production) runs the offline demo. */
export function wantsDemo(env: NodeJS.ProcessEnv): boolean {
  return !env.FACEBOOK_APP_ID && env.NODE_ENV !== 'production' && !['0', 'false', 'no', 'off'].includes((env.SANDBOX ?? '').toLowerCase());
}

/** Points the relay at the Facebook sandbox unless the operator said otherwise. */
export function demoEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const port = Number(env.PORT ?? 3000);
  const facebook = `http://127.0.0.1:${demoPorts(port).facebook}`;
  return { ...env, FACEBOOK_GRAPH_URL: env.FACEBOOK_GRAPH_URL ?? facebook, FACEBOOK_DIALOG_URL: env.FACEBOOK_DIALOG_URL ?? facebook };
}

/**
 * Starts the Facebook and contact-center sandboxes as processes of their own (compiled, from dist/),
 * wired to this relay: the Facebook sandbox knows the relay's webhook URL and app credentials.
 */
export async function startDemoSandboxes(config: AppConfig): Promise<{ facebookUrl: string; contactCenterUrl: string; stop: () => void }> {
  const ports = demoPorts(config.port);
  const sandboxDir = join(__dirname, '..', '..', 'sandbox');
  const children: ChildProcess[] = [];
  const start = (name: string, env: Record<string, string>) => {
    const script = join(sandboxDir, name, 'main.js');
    if (!existsSync(script)) throw new Error(`${script} is missing: run the relay with npm start, which builds it`);
    const child = fork(script, [], { env: { ...process.env, ...env }, stdio: 'inherit' });
    children.push(child);
    return child;
  };
  start('contact-center', { PORT: String(ports.contactCenter), HOST: '127.0.0.1', SEED: '1', PUBLIC_URL: `http://localhost:${ports.contactCenter}` });
  start('facebook', {
    PORT: String(ports.facebook),
    FB_SANDBOX_APP_ID: config.facebook.appId,
    FB_SANDBOX_APP_SECRET: config.facebook.appSecret,
    FB_SANDBOX_GRAPH_VERSION: config.facebook.graphVersion,
    FB_SANDBOX_PUBLIC_URL: config.facebook.dialogUrl,
    FB_SANDBOX_WEBHOOK_URL: `${config.publicUrl}/webhooks/facebook`,
    FB_SANDBOX_WEBHOOK_VERIFY_TOKEN: config.facebook.verifyToken,
  });
  const stop = () => children.forEach((child) => child.kill('SIGTERM'));
  process.once('exit', stop);
  await Promise.all([waitForHttp(`http://127.0.0.1:${ports.facebook}/_control/info`), waitForHttp(`http://127.0.0.1:${ports.contactCenter}/_control/state`)]);
  return { facebookUrl: config.facebook.dialogUrl, contactCenterUrl: `http://localhost:${ports.contactCenter}`, stop };
}

async function waitForHttp(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not come up within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

export function demoInstructions(config: AppConfig, sandboxes: { facebookUrl: string; contactCenterUrl: string }): string {
  const relay = config.publicUrl;
  return `
  Offline demo: no Facebook app is configured, so the relay talks to built-in sandboxes.
    Relay (the web UI)        ${relay}
    Facebook sandbox          ${sandboxes.facebookUrl}/   (customer simulator)
    Contact center sandbox    ${sandboxes.contactCenterUrl}   (account 1, API key demo-key)
    Sandbox mail outbox       ${relay}/sandbox/outbox

  Try the whole flow:
    1. Open ${relay}, sign up with any e-mail and a password.
    2. Read the 6-digit code in the mail outbox (${relay}/sandbox/outbox) and activate; log in.
    3. Connect Facebook: the sandbox login page opens; pick "Ana Silva" and approve.
    4. Create an integration: page "Ana's Bike Store", Openchannel URL
         ${sandboxes.contactCenterUrl}/api/openchannel/accounts/1/notify   API key: demo-key
    5. Copy the Reply URL the relay shows and paste it into account 1 on ${sandboxes.contactCenterUrl}
    6. Be the customer: open the Facebook sandbox's simulator at ${sandboxes.facebookUrl}/ , pick the page
       and a customer, and send a message (or comment on a post); watch it arrive at ${sandboxes.contactCenterUrl}
    7. Reply as the agent on the contact center page; the reply shows up in the simulator.
`;
}
