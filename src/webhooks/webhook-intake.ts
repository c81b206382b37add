import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable } from '@nestjs/common';
import { Logger as PinoLogger } from 'pino';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { RelayMetrics } from '../relay/relay-metrics';
import { WebhooksFirst } from '../relay/webhooks-first';
import { classifyWebhook, WebhookFormatError } from './classify';
import { InboxProcessor } from './inbox-processor';
import { ParsedWebhook } from './inbound-event';
import { verifyHubSignature } from './signature';

export const WEBHOOK_PATH = '/webhooks/facebook';
/** Largest webhook body accepted; a full Facebook batch of 1000 entries fits well inside. */
export const WEBHOOK_BODY_LIMIT = 8 * 1024 * 1024;

class Refusal extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/**
 * The webhook POST (facebook-platform.md §1), answered by plain `node:http` code in front of Express
 * and Nest: it is the relay's hottest request, and the framework's pipeline (routing, body parsers,
 * guards, pipes) cost more than everything it needs. It checks the signature on the raw bytes, parses
 * and classifies the events (a malformed body gets its 400 now, not later), commits the bytes to the
 * webhook inbox and only then answers 200. Turning the events into messages happens right after, off
 * the answer path (InboxProcessor). The subscription check (GET) stays in WebhookController.
 */
@Injectable()
export class WebhookIntake {
  constructor(
    private readonly config: AppConfig,
    private readonly processor: InboxProcessor,
    private readonly relayMetrics: RelayMetrics,
    private readonly metrics: MetricsService,
    private readonly webhooksFirst: WebhooksFirst,
  ) {}

  handles(req: IncomingMessage): boolean {
    if (req.method !== 'POST' || !req.url) return false;
    const query = req.url.indexOf('?');
    return (query === -1 ? req.url : req.url.slice(0, query)) === WEBHOOK_PATH;
  }

  handle(req: IncomingMessage, res: ServerResponse, logger: PinoLogger): void {
    const started = process.hrtime.bigint();
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    this.webhooksFirst.received();
    const timing = { bodyReadAt: started, events: 0 };
    res.on('close', () => this.webhooksFirst.answered(Number(process.hrtime.bigint() - timing.bodyReadAt) / 1e6, timing.events));
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.metrics.httpDuration.observe({ method: 'POST', route: WEBHOOK_PATH, status: String(res.statusCode) }, seconds);
      const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
      if (logger.isLevelEnabled(level)) {
        logger[level]({ req: { id: requestId, method: 'POST', url: WEBHOOK_PATH, remoteAddress: req.socket.remoteAddress }, res: { statusCode: res.statusCode }, responseTime: Math.round(seconds * 1000) }, 'request completed');
      }
    });
    this.receive(req, timing)
      .then(() => answer(res, 200, { ok: true }))
      .catch((error: unknown) => {
        if (error instanceof Refusal) {
          return answer(res, error.status, { statusCode: error.status, message: error.message, error: error.code });
        }
        logger.error({ reqId: requestId, err: { message: (error as Error).message } }, 'Could not store a webhook POST; Facebook will send it again');
        answer(res, 503, { statusCode: 503, message: 'The relay could not store this webhook right now; send it again later', error: 'unavailable' });
      });
  }

  private async receive(req: IncomingMessage, timing: { bodyReadAt: bigint; events: number }): Promise<void> {
    const type = req.headers['content-type'] ?? '';
    const charset = /;\s*charset=["']?([\w-]+)/i.exec(type)?.[1];
    const encoding = req.headers['content-encoding'];
    if (!/^application\/json\s*(;|$)/i.test(type) || (charset && !/^utf-?8$/i.test(charset)) || (encoding && encoding !== 'identity')) {
      drain(req);
      throw new Refusal(415, 'unsupported_media_type', 'Webhook POSTs must be uncompressed UTF-8 application/json, as Facebook sends them');
    }
    const raw = await readBody(req);
    timing.bodyReadAt = process.hrtime.bigint();
    if (!verifyHubSignature(raw, req.headers['x-hub-signature-256'], this.config.facebook.appSecret)) {
      this.relayMetrics.rejected.inc({ reason: 'signature' });
      throw new Refusal(401, 'invalid_signature', 'The X-Hub-Signature-256 header is missing or does not match the body');
    }
    let parsed: ParsedWebhook;
    try {
      parsed = classifyWebhook(JSON.parse(raw.toString('utf8')), this.config.facebook.appId);
    } catch (error) {
      this.relayMetrics.rejected.inc({ reason: 'format' });
      throw new Refusal(400, 'bad_webhook', error instanceof WebhookFormatError ? error.message : 'The request body is not valid JSON');
    }
    if (!parsed.events.length) {
      // Only kinds the relay does not handle (optins, handovers, likes): nothing to keep.
      if (parsed.ignored) this.relayMetrics.events.inc({ outcome: 'ignored' }, parsed.ignored);
      return;
    }
    timing.events = parsed.events.length;
    await this.processor.accept(raw, parsed);
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > WEBHOOK_BODY_LIMIT) {
      drain(req);
      return reject(tooLarge());
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > WEBHOOK_BODY_LIMIT) {
        drain(req);
        reject(tooLarge());
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

function tooLarge(): Refusal {
  return new Refusal(413, 'payload_too_large', `The body is larger than ${WEBHOOK_BODY_LIMIT / 1024 / 1024} MB`);
}

/** Reads and discards the rest of a refused body, so the answer reaches a client still sending it. */
function drain(req: IncomingMessage): void {
  req.removeAllListeners('data');
  req.resume();
}

function answer(res: ServerResponse, status: number, body: object): void {
  if (res.headersSent) return;
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}
