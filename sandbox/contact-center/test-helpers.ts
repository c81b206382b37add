import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A tiny Reply URL receiver standing in for the relay in tests. */
export interface ReplyReceiver {
  url: string;
  received: Array<{ url: string; headers: IncomingHttpHeaders; body: Record<string, unknown> }>;
  /** What to answer next (default 200 {"id":"m_<n>"}). */
  answer: { status: number; body: unknown };
  close(): Promise<void>;
}

export async function startReplyReceiver(): Promise<ReplyReceiver> {
  const received: ReplyReceiver['received'] = [];
  const receiver = { received, answer: { status: 200, body: null as unknown } } as ReplyReceiver;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ url: req.url ?? '', headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      const body = receiver.answer.body ?? { id: `m_${received.length}` };
      res.writeHead(receiver.answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return receiver;
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; json: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : null };
}

export async function getJson(url: string): Promise<{ status: number; json: any }> {
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}
