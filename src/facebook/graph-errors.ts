/**
 * Graph API errors classified by code and subcode (facebook-platform.md §5), never by message text.
 *  - reauth: the token is dead (190 family, 102, 2069032): the integration needs re-authorization.
 *  - throttle: rate limits (4, 17, 32, 613, 80001, 80006): back off and try later.
 *  - recipient: this message cannot go to this person (551, 200/1545041, 10/2018108, 100/2018001).
 *  - window: outside the messaging window (10/2018278, 10/2534022, 10/2018065).
 *  - permission: a permission or task is missing (10 without subcode, 200-299, 230).
 *  - transient: Facebook had a problem (1, 2, is_transient): retry.
 *  - invalid: a bad request (100 and others): do not retry.
 */
export type GraphErrorClass = 'reauth' | 'throttle' | 'recipient' | 'window' | 'permission' | 'transient' | 'invalid';

export interface GraphErrorBody {
  message?: string;
  type?: string;
  code?: number;
  error_subcode?: number;
  is_transient?: boolean;
  fbtrace_id?: string;
}

export class GraphError extends Error {
  readonly classification: GraphErrorClass;

  constructor(
    readonly httpStatus: number,
    readonly code: number,
    readonly subcode: number | undefined,
    readonly facebookMessage: string,
    isTransient = false,
    readonly retryAfterSeconds?: number,
  ) {
    super(`Facebook error ${code}${subcode ? `/${subcode}` : ''}: ${facebookMessage}`);
    this.classification = classifyGraphError(code, subcode, isTransient);
  }

  /** A sentence for the tenant or the agent. */
  get explanation(): string {
    return explainGraphError(this);
  }
}

/** The relay could not get an answer from Facebook at all (timeout, connection refused). */
export class GraphUnavailableError extends Error {}

const THROTTLE = new Set([4, 17, 32, 613, 80001, 80006]);
const RECIPIENT_SUBCODES = new Set([1545041, 2018108, 2018001]);
const WINDOW_SUBCODES = new Set([2018278, 2534022, 2018065]);

export function classifyGraphError(code: number, subcode?: number, isTransient = false): GraphErrorClass {
  if (code === 190 || code === 102 || subcode === 2069032 || (code >= 460 && code <= 467)) return 'reauth';
  if (THROTTLE.has(code)) return 'throttle';
  if (code === 551 || (subcode !== undefined && RECIPIENT_SUBCODES.has(subcode))) return 'recipient';
  if (code === 10 && subcode !== undefined && WINDOW_SUBCODES.has(subcode)) return 'window';
  if (code === 1 || code === 2 || isTransient) return 'transient';
  if (code === 10 || (code >= 200 && code <= 299) || code === 230 || code === 10903 || code === 10904) return 'permission';
  return 'invalid';
}

export function explainGraphError(error: GraphError): string {
  switch (error.classification) {
    case 'reauth':
      return 'Facebook no longer accepts the page token (it expired or was revoked): re-activate the integration with Facebook in the relay.';
    case 'throttle':
      return 'Facebook is rate-limiting this page right now: the relay will try again shortly.';
    case 'recipient':
      return 'This person is not available on Messenger right now (they may have blocked the page or deactivated their account).';
    case 'window':
      return 'Facebook closed this conversation: a page can answer within 24 hours of the customer\'s last message (7 days for a human agent with the HUMAN_AGENT tag). It reopens when the customer writes again.';
    case 'permission':
      return `Facebook refused the action for lack of a permission or page role (error ${error.code}${error.subcode ? `/${error.subcode}` : ''}): re-activate the integration and grant every permission asked.`;
    case 'transient':
      return 'Facebook had a temporary problem: try again in a moment.';
    default:
      return `Facebook rejected the request (error ${error.code}${error.subcode ? `/${error.subcode}` : ''}).`;
  }
}
