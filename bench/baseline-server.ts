import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The ingest ceiling: a bare node:http server that buffers the body, checks X-Hub-Signature-256
 * exactly as the relay does (HMAC-SHA256 over the raw bytes, timing-safe) and answers 200.
 * Run as a child process by the bench; prints its port on the first line of stdout.
 */
const secret = process.env.APP_SECRET ?? '';
const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const raw = Buffer.concat(chunks);
    const given = String(req.headers['x-hub-signature-256'] ?? '').trim().toLowerCase();
    const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`);
    const actual = Buffer.from(given);
    const ok = actual.length === expected.length && timingSafeEqual(actual, expected);
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
    res.end(ok ? '{"ok":true}' : '{"error":"invalid_signature"}');
  });
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
