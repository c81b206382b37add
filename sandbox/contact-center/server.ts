import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleAttachments } from './attachments';
import type { SandboxContext } from './context';
import { SandboxControl, type DownOptions, type DownState } from './control';
import { handleControl } from './control-routes';
import { Failures } from './failures';
import { sendJson, splitUrl } from './http-util';
import { handleOpenChannel, OPENCHANNEL_PREFIX } from './openchannel-routes';
import { SandboxState, SEED_ACCOUNT, type AccountInput } from './state';
import { handleUi } from './ui';

export interface ContactCenterSandboxOptions {
  /** Default 0 (a free port). The CLI uses 3002. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Create the demo account (id 1, "Demo Open Channel", apiKey "demo-key"). Default false. */
  seed?: boolean;
  /** Accounts to create at start (after the seed one). */
  accounts?: AccountInput[];
  /** Base URL shown on the page / in Receive URLs when the sandbox is reached through another address. */
  publicUrl?: string;
  /** Attachment size limit, bytes. Default 25 MB (Motion's maximum). */
  maxAttachmentBytes?: number;
  /** JSON body limit (notify, control), bytes. Default 1 MB. */
  maxJsonBytes?: number;
  /** Fixed latency added to every notify (benchmarks), ms. Default 0. */
  notifyLatencyMs?: number;
  /** Status of a successful upload. Default 201 (as Motion). */
  uploadStatus?: number;
  /** Notification records kept in memory before the oldest half is dropped. Default 200000. */
  maxStoredNotifications?: number;
}

export interface ContactCenterSandbox {
  /** http://HOST:PORT, no trailing slash (stays the same across down/up). */
  url: string;
  port: number;
  host: string;
  control: SandboxControl;
  /** Shortcut for `control.receiveUrl(accountId)`: the Receive URL with `?apikey=`. */
  receiveUrl(accountId: number, endpoint?: 'notify' | 'receive'): string;
  close(): Promise<void>;
}

export const DEFAULT_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024;

export async function startContactCenterSandbox(options: ContactCenterSandboxOptions = {}): Promise<ContactCenterSandbox> {
  const host = options.host ?? '127.0.0.1';
  const state = new SandboxState(options.maxStoredNotifications);
  const failures = new Failures(options.notifyLatencyMs ?? 0);
  const timers = new Set<NodeJS.Timeout>();
  let port = options.port ?? 0;
  let baseUrl = '';
  let downState: DownState | null = null;
  let upTimer: NodeJS.Timeout | null = null;
  let closed = false;

  const ctx: SandboxContext = {
    state,
    failures,
    maxAttachmentBytes: options.maxAttachmentBytes ?? DEFAULT_MAX_ATTACHMENT_BYTES,
    maxJsonBytes: options.maxJsonBytes ?? 1024 * 1024,
    uploadStatus: options.uploadStatus ?? 201,
    publicUrl: () => (options.publicUrl ?? baseUrl).replace(/\/+$/, ''),
    delay: (ms) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve();
        }, ms);
        timers.add(timer);
      }),
  };

  const server: Server = createServer({ keepAliveTimeout: 5000 }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      sendJson(res, 500, { message: `Sandbox error: ${err instanceof Error ? err.message : String(err)}` });
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        port = (server.address() as AddressInfo).port;
        resolve();
      });
    });

  const stopListening = (): Promise<void> =>
    new Promise((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });

  const lifecycle = {
    async down(opts: DownOptions): Promise<void> {
      if (closed) return;
      const mode = opts.mode ?? 'refuse';
      if (upTimer) clearTimeout(upTimer);
      upTimer = null;
      const forMs = opts.forMs !== undefined && opts.forMs > 0 ? opts.forMs : null;
      downState = { mode, since: new Date().toISOString(), until: forMs ? new Date(Date.now() + forMs).toISOString() : null };
      if (mode === 'refuse') await stopListening();
      if (forMs) {
        upTimer = setTimeout(() => void lifecycle.up().catch(() => undefined), forMs);
      }
    },
    async up(): Promise<void> {
      if (upTimer) clearTimeout(upTimer);
      upTimer = null;
      if (closed) return;
      if (!server.listening) await listen();
      downState = null;
    },
    downState: () => downState,
  };

  const control = new SandboxControl(ctx, lifecycle, options.seed ?? false);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { path, search } = splitUrl(req.url);
    if (downState !== null && downState.mode === 'reset' && !path.startsWith('/_control/')) {
      req.socket.destroy();
      return;
    }
    if (path.startsWith(OPENCHANNEL_PREFIX)) return handleOpenChannel(ctx, req, res, path, search);
    if (path === '/api/attachments' || path.startsWith('/api/attachments/')) return handleAttachments(ctx, req, res, path, search);
    if (path.startsWith('/_control/')) return handleControl(ctx, control, req, res, path, search);
    if (path === '/' || path.startsWith('/_ui/')) return handleUi(ctx, control, req, res, path, search);
    if (path === '/health') return sendJson(res, 200, { ok: true });
    req.resume();
    sendJson(res, 404, { message: `Not found: ${req.method} ${path}` });
  }

  if (options.seed) state.createAccount({ ...SEED_ACCOUNT });
  for (const account of options.accounts ?? []) state.createAccount(account);

  await listen();
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  baseUrl = `http://${urlHost}:${port}`;

  return {
    url: baseUrl,
    port,
    host,
    control,
    receiveUrl: (accountId, endpoint = 'notify') => control.receiveUrl(accountId, endpoint),
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (upTimer) clearTimeout(upTimer);
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await stopListening();
    },
  };
}
