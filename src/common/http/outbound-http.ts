import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { lookup as dnsLookup, LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, Dispatcher, request } from 'undici';
import { AppConfig } from '../../config/app-config';
import { isPrivateAddress } from './private-addresses';

export type OutboundFailureKind = 'invalid_url' | 'blocked' | 'timeout' | 'connection' | 'too_large';

/** A request that got no HTTP answer. Messages name the host, never the query (it may hold keys). */
export class OutboundHttpError extends Error {
  constructor(readonly kind: OutboundFailureKind, message: string) {
    super(message);
  }
}

export interface OutboundRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  headers?: Record<string, string>;
  body?: string | Buffer | Uint8Array | FormData;
  /** Whole request, connect to last byte. */
  timeoutMs?: number;
  maxResponseBytes?: number;
  maxRedirects?: number;
  /**
   * 'tenant': the URL came from a tenant or from a webhook (Openchannel URLs, CDN links) and private
   * addresses are refused unless ALLOW_PRIVATE_TARGETS. 'operator': configured by the operator (Graph API).
   */
  trust?: 'tenant' | 'operator';
}

export interface OutboundResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  durationMs: number;
  json<T = unknown>(): T | undefined;
  text(): string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_BYTES = 30 * 1024 * 1024;

/**
 * The one HTTP client for calls leaving the relay: connect and total timeouts, a response size cap,
 * and the SSRF guard, applied to the addresses a name resolves to (so DNS names and redirects
 * cannot reach loopback, private, link-local or metadata addresses when private targets are off).
 */
@Injectable()
export class OutboundHttp implements OnApplicationShutdown {
  private readonly guarded: Agent;
  private readonly trusted: Agent;

  constructor(private readonly config: AppConfig) {
    const common = { keepAliveTimeout: 10_000, connections: 128, headersTimeout: 30_000, bodyTimeout: 30_000 };
    this.trusted = new Agent({ ...common, connect: { timeout: 5_000 } });
    this.guarded = config.allowPrivateTargets
      ? this.trusted
      : new Agent({ ...common, connect: { timeout: 5_000, lookup: guardedLookup } as Agent.Options['connect'] });
  }

  async send(url: string, options: OutboundRequest = {}): Promise<OutboundResponse> {
    const started = performance.now();
    let target = this.parse(url);
    const trust = options.trust ?? 'tenant';
    const dispatcher: Dispatcher = trust === 'tenant' ? this.guarded : this.trusted;
    const signal = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    let redirectsLeft = options.maxRedirects ?? 0;

    for (;;) {
      if (trust === 'tenant' && !this.config.allowPrivateTargets) this.refuseLiteralPrivateHost(target);
      let answer: Dispatcher.ResponseData;
      try {
        answer = await request(target, {
          dispatcher,
          method: options.method ?? 'GET',
          headers: options.headers,
          body: options.body as never,
          signal,
        });
      } catch (error) {
        throw this.describe(error, target);
      }
      const location = answer.headers.location;
      if (answer.statusCode >= 300 && answer.statusCode < 400 && typeof location === 'string' && redirectsLeft > 0) {
        await answer.body.dump();
        redirectsLeft--;
        target = this.parse(new URL(location, target).toString());
        continue;
      }
      const body = await this.readCapped(answer, options.maxResponseBytes ?? DEFAULT_MAX_BYTES, target, signal);
      return makeResponse(answer.statusCode, answer.headers, body, performance.now() - started);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.trusted.close(), this.guarded === this.trusted ? undefined : this.guarded.close()]);
  }

  private parse(url: string): URL {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new OutboundHttpError('invalid_url', 'The address is not a valid URL');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new OutboundHttpError('invalid_url', `Only http and https addresses can be called, not ${parsed.protocol.replace(':', '')}`);
    }
    return parsed;
  }

  private refuseLiteralPrivateHost(target: URL): void {
    // "localhost." (fully qualified) is the same host as "localhost".
    const host = target.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
    if (isIP(host) && isPrivateAddress(host)) {
      throw new OutboundHttpError('blocked', `${target.host} is a private or local address, which the relay does not call`);
    }
    if (host === 'localhost' || host.endsWith('.localhost')) {
      throw new OutboundHttpError('blocked', `${target.host} is a local address, which the relay does not call`);
    }
  }

  private async readCapped(answer: Dispatcher.ResponseData, maxBytes: number, target: URL, signal: AbortSignal): Promise<Buffer> {
    const declared = Number(answer.headers['content-length'] ?? 0);
    if (declared > maxBytes) {
      await answer.body.dump().catch(() => undefined);
      throw new OutboundHttpError('too_large', `${target.host} answered with ${declared} bytes, more than the ${maxBytes} allowed`);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of answer.body) {
        total += chunk.length;
        if (total > maxBytes) {
          answer.body.destroy();
          throw new OutboundHttpError('too_large', `${target.host} answered with more than the ${maxBytes} bytes allowed`);
        }
        chunks.push(chunk as Buffer);
      }
    } catch (error) {
      if (error instanceof OutboundHttpError) throw error;
      throw this.describe(signal.aborted ? signal.reason : error, target);
    }
    return Buffer.concat(chunks);
  }

  private describe(error: unknown, target: URL): OutboundHttpError {
    if (error instanceof OutboundHttpError) return error;
    const err = error as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
    const code = err.code ?? err.cause?.code;
    if (code === 'ERR_RELAY_BLOCKED' || err.cause?.code === 'ERR_RELAY_BLOCKED') {
      return new OutboundHttpError('blocked', `${target.host} resolves to a private or local address, which the relay does not call`);
    }
    if (err.name === 'TimeoutError' || err.name === 'AbortError' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
      return new OutboundHttpError('timeout', `${target.host} did not answer in time`);
    }
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new OutboundHttpError('connection', `${target.hostname} could not be found (DNS)`);
    if (code === 'ECONNREFUSED') return new OutboundHttpError('connection', `${target.host} refused the connection`);
    if (code && /CERT|SSL|TLS/.test(code)) return new OutboundHttpError('connection', `${target.host} has an invalid TLS certificate (${code})`);
    return new OutboundHttpError('connection', `${target.host} could not be reached (${code ?? err.message ?? 'network error'})`);
  }
}

function guardedLookup(
  hostname: string,
  options: { family?: number; all?: boolean },
  callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '', 0);
    const list = addresses as LookupAddress[];
    const bad = list.find((entry) => isPrivateAddress(entry.address));
    if (bad) {
      const refusal: NodeJS.ErrnoException = new Error(`${hostname} resolves to a private address`);
      refusal.code = 'ERR_RELAY_BLOCKED';
      return callback(refusal, '', 0);
    }
    if (options.all) return callback(null, list);
    callback(null, list[0].address, list[0].family);
  });
}

function makeResponse(status: number, headers: OutboundResponse['headers'], body: Buffer, durationMs: number): OutboundResponse {
  return {
    status,
    headers,
    body,
    durationMs,
    text: () => body.toString('utf8'),
    json<T>() {
      try {
        return JSON.parse(body.toString('utf8')) as T;
      } catch {
        return undefined;
      }
    },
  };
}
