import { OutboundHttpError, OutboundResponse } from '../common/http/outbound-http';

/** What one try at the contact center came to, with the reason in words the tenant can act on. */
export type AttemptResult =
  | { kind: 'delivered'; httpStatus: number; remoteId: string | null }
  | { kind: 'retry'; reason: string; httpStatus: number | null; retryAfterMs?: number }
  | { kind: 'final'; reason: string; httpStatus: number | null };

const RETRYABLE = (status: number) => status === 408 || status === 429 || status >= 500;

/** An HTTP answer from the contact center (`what`: "notify" or "attachment upload"). */
export function classifyAnswer(response: OutboundResponse, what: string): AttemptResult {
  const status = response.status;
  if (status >= 200 && status < 300) {
    const json = response.json<{ id?: unknown; interaction?: { id?: unknown } }>();
    const remote = json?.interaction?.id ?? json?.id;
    return { kind: 'delivered', httpStatus: status, remoteId: remote === undefined || remote === null ? null : String(remote).slice(0, 64) };
  }
  const detail = contactCenterMessage(response);
  if (RETRYABLE(status)) {
    const retryAfterMs = status === 429 || status === 503 ? parseRetryAfter(response.headers['retry-after']) : undefined;
    const label = status === 429 ? 'too many requests' : status === 408 ? 'request timeout' : 'server error';
    return { kind: 'retry', httpStatus: status, retryAfterMs, reason: `The contact center answered ${status} (${label}) to the ${what}${detail}` };
  }
  if (status === 404) {
    return { kind: 'final', httpStatus: status, reason: 'The contact center answered 404: the Open Channel account or its list no longer exists' };
  }
  if (status === 401 || status === 403) {
    return { kind: 'final', httpStatus: status, reason: `The contact center answered ${status}: it refused the API key; copy the key again from the contact center` };
  }
  if (status === 413) return { kind: 'final', httpStatus: status, reason: `The contact center answered 413: the ${what} is too large for it` };
  return { kind: 'final', httpStatus: status, reason: `The contact center answered ${status} to the ${what}${detail}` };
}

/** No answer at all: timeouts and connection errors are retried; a refused address is final. */
export function classifyNoAnswer(error: OutboundHttpError, timeoutMs: number): AttemptResult {
  switch (error.kind) {
    case 'timeout':
      return { kind: 'retry', httpStatus: null, reason: `Timed out after ${Math.round(timeoutMs / 1000)} s waiting for the contact center` };
    case 'connection':
      return { kind: 'retry', httpStatus: null, reason: `Could not connect to the contact center: ${error.message}` };
    case 'too_large':
      return { kind: 'retry', httpStatus: null, reason: `The contact center's answer was too large: ${error.message}` };
    case 'blocked':
      return { kind: 'final', httpStatus: null, reason: `The Openchannel URL points at a private or local address, which the relay does not call (${error.message})` };
    case 'invalid_url':
      return { kind: 'final', httpStatus: null, reason: `The Openchannel URL is not usable: ${error.message}` };
  }
}

/** Retry-After in seconds or as an HTTP date. */
export function parseRetryAfter(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function contactCenterMessage(response: OutboundResponse): string {
  const json = response.json<{ message?: unknown }>();
  const message = typeof json?.message === 'string' ? json.message : '';
  return message ? `: ${message.slice(0, 200)}` : '';
}
