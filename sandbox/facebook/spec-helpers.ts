/** Helpers for the sandbox's own tests: a tiny webhook receiver that keeps raw bytes. */
import { IncomingMessage, Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  raw: Buffer;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface Receiver {
  url: string;
  received: ReceivedWebhook[];
  /** Status codes for the next POSTs (then 200). */
  failNext: number[];
  verifyToken: string;
  waitFor(predicate: (all: ReceivedWebhook[]) => boolean, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  posts(): ReceivedWebhook[];
  close(): Promise<void>;
}

export async function startReceiver(verifyToken = 'verify-me'): Promise<Receiver> {
  const received: ReceivedWebhook[] = [];
  const r: Partial<Receiver> = { received, failNext: [], verifyToken };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'GET') {
        received.push({ method: 'GET', url: req.url ?? '', headers: req.headers, raw, json: undefined });
        if (url.searchParams.get('hub.mode') === 'subscribe' && url.searchParams.get('hub.verify_token') === r.verifyToken) {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end(url.searchParams.get('hub.challenge'));
        } else {
          res.writeHead(403);
          res.end('forbidden');
        }
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(raw.toString('utf8'));
      } catch {
        json = undefined;
      }
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, raw, json });
      const status = r.failNext!.length ? r.failNext!.shift()! : 200;
      res.writeHead(status);
      res.end(status === 200 ? 'EVENT_RECEIVED' : 'nope');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  r.url = `http://127.0.0.1:${port}/webhooks/facebook`;
  r.posts = () => received.filter((x) => x.method === 'POST');
  r.waitFor = async (predicate, timeoutMs = 5000) => {
    const until = Date.now() + timeoutMs;
    while (!predicate(received)) {
      if (Date.now() > until) throw new Error(`timeout waiting for webhooks; got ${received.length}: ${received.map((x) => x.raw.toString()).join('\n')}`);
      await new Promise((res) => setTimeout(res, 5));
    }
    return received;
  };
  r.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return r as Receiver;
}

/** GET/POST a Graph path and return {status, body, headers}. */
export async function graph(
  base: string,
  path: string,
  init: { method?: string; params?: Record<string, string>; json?: unknown; form?: Record<string, string>; body?: FormData; headers?: Record<string, string> } = {},
) {
  const url = new URL(base + path);
  for (const [k, v] of Object.entries(init.params ?? {})) url.searchParams.set(k, v);
  const headers: Record<string, string> = { ...init.headers };
  let body: string | FormData | undefined;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  } else if (init.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  } else if (init.body) {
    body = init.body;
  }
  const res = await fetch(url, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
  const text = await res.text();
  let parsed: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed, headers: res.headers };
}
