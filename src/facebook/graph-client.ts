import { Injectable } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { OutboundHttp, OutboundHttpError } from '../common/http/outbound-http';
import { AppConfig } from '../config/app-config';
import { GraphError, GraphErrorBody, GraphUnavailableError } from './graph-errors';

export interface GraphCallOptions {
  token?: string;
  /** Query parameters (GET, DELETE) or form fields (POST without json/form). */
  params?: Record<string, string | number | boolean | undefined>;
  json?: unknown;
  form?: FormData;
  timeoutMs?: number;
}

/** appsecret_proof values kept at most (one per page or user token in use); the map starts over beyond it. */
const PROOF_CACHE_SIZE = 1000;

/**
 * The Graph API at FACEBOOK_GRAPH_URL/FACEBOOK_GRAPH_VERSION (the real one, or the sandbox).
 * Adds appsecret_proof to every token call; turns error bodies into classified GraphErrors.
 */
@Injectable()
export class GraphClient {
  private readonly proofs = new Map<string, string>();

  constructor(private readonly config: AppConfig, private readonly http: OutboundHttp) {}

  get baseUrl(): string {
    return `${this.config.facebook.graphUrl}/${this.config.facebook.graphVersion}`;
  }

  get<T>(path: string, options: GraphCallOptions = {}): Promise<T> {
    return this.call<T>('GET', path, options);
  }

  post<T>(path: string, options: GraphCallOptions = {}): Promise<T> {
    return this.call<T>('POST', path, options);
  }

  delete<T>(path: string, options: GraphCallOptions = {}): Promise<T> {
    return this.call<T>('DELETE', path, options);
  }

  /**
   * Follows `paging.next` and returns every item of a list edge (bounded to `maxPages`, 50), or the items up to the
   * first page for which `enough` says no more are wanted.
   */
  async getAll<T>(path: string, options: GraphCallOptions = {}, until: { maxPages?: number; enough?: (page: T[]) => boolean } = {}): Promise<T[]> {
    const items: T[] = [];
    let page = await this.get<{ data: T[]; paging?: { next?: string; cursors?: { after?: string } } }>(path, options);
    for (let i = 0; i < (until.maxPages ?? 50); i++) {
      items.push(...(page.data ?? []));
      const after = page.paging?.next ? page.paging.cursors?.after ?? new URL(page.paging.next).searchParams.get('after') : undefined;
      if (!after || until.enough?.(page.data ?? []) || i + 1 >= (until.maxPages ?? 50)) break;
      page = await this.get(path, { ...options, params: { ...options.params, after } });
    }
    return items;
  }

  /** Cached per token: every reply of a page signs the same token. */
  appsecretProof(token: string): string {
    let proof = this.proofs.get(token);
    if (proof === undefined) {
      proof = createHmac('sha256', this.config.facebook.appSecret).update(token).digest('hex');
      if (this.proofs.size >= PROOF_CACHE_SIZE) this.proofs.clear();
      this.proofs.set(token, proof);
    }
    return proof;
  }

  private async call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, options: GraphCallOptions): Promise<T> {
    const url = new URL(`${this.baseUrl}/${path.replace(/^\//, '')}`);
    const params: Record<string, string> = {};
    for (const [key, value] of Object.entries(options.params ?? {})) if (value !== undefined) params[key] = String(value);
    if (options.token) {
      params.access_token = options.token;
      params.appsecret_proof = this.appsecretProof(options.token);
    }
    let body: string | FormData | undefined;
    const headers: Record<string, string> = {};
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] = 'application/json';
      for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    } else if (options.form) {
      body = options.form;
      for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    } else if (method === 'POST') {
      body = new URLSearchParams(params).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else {
      for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    }

    let response;
    try {
      response = await this.http.send(url.toString(), { method, headers, body, timeoutMs: options.timeoutMs ?? 15_000, trust: 'operator' });
    } catch (error) {
      if (error instanceof OutboundHttpError) throw new GraphUnavailableError(`Facebook could not be reached: ${error.message}`);
      throw error;
    }
    const parsed = response.json<{ error?: GraphErrorBody } & T>();
    if (response.status >= 200 && response.status < 300 && parsed && !parsed.error) return parsed as T;
    if (parsed?.error?.code !== undefined) {
      const retryAfter = Number(response.headers['retry-after']) || undefined;
      throw new GraphError(response.status, parsed.error.code, parsed.error.error_subcode, parsed.error.message ?? 'no message', Boolean(parsed.error.is_transient), retryAfter);
    }
    if (response.status >= 500) throw new GraphUnavailableError(`Facebook answered HTTP ${response.status}`);
    throw new GraphError(response.status, 100, undefined, `unexpected answer (HTTP ${response.status})`);
  }
}
