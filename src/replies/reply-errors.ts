import { RelayHttpError } from '../common/errors/http-errors';
import { GraphError, GraphUnavailableError } from '../facebook/graph-errors';

/** Seconds a contact center should wait after Facebook throttled the page, when Facebook does not say. */
export const DEFAULT_RETRY_AFTER_SECONDS = 60;

/**
 * What one reply attempt answered: the HTTP status and JSON body the contact center gets, and
 * whether sending the same reply again may end differently (then a repeat is sent again instead
 * of replayed).
 */
export interface ReplyAnswer {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
  retryable: boolean;
}

export function successAnswer(body: Record<string, unknown>): ReplyAnswer {
  return { status: 200, body, retryable: false };
}

/** A refusal in the relay's JSON error shape, which also carries open-channel's `message`. */
export function errorAnswer(status: number, code: string, message: string, retryable = false, headers?: Record<string, string>): ReplyAnswer {
  return { status, body: { statusCode: status, message, error: code }, headers, retryable };
}

export function toHttpError(answer: ReplyAnswer): RelayHttpError {
  return new RelayHttpError(answer.status, String(answer.body.error ?? 'reply_failed'), String(answer.body.message ?? 'The reply failed'), answer.headers ?? {});
}

/**
 * Facebook's answer to a send, in words an agent can act on (facebook-platform.md §5):
 * token problems 424, throttling 429 with Retry-After, person unavailable or window closed 422,
 * Facebook down 502.
 */
export function answerForGraphFailure(error: unknown): ReplyAnswer {
  if (error instanceof GraphUnavailableError) {
    return errorAnswer(502, 'facebook_unavailable', 'Facebook did not answer in time or could not be reached, so the message was probably not sent: try again in a moment.', true);
  }
  if (!(error instanceof GraphError)) throw error;
  const ref = `(Facebook error ${error.code}${error.subcode ? `/${error.subcode}` : ''})`;
  if (error.code === 10900) {
    return errorAnswer(409, 'already_replied', `This comment already has its private reply: Facebook allows one private reply per comment ${ref}. Answer publicly, or wait until the customer writes on Messenger.`);
  }
  if (error.code === 10903) {
    return errorAnswer(422, 'cannot_reply_privately', `Facebook does not allow a private reply to this comment (it is older than 7 days or was not written by a person) ${ref}.`);
  }
  if (error.code === 100 && error.subcode === 2018047) {
    return errorAnswer(422, 'attachment_rejected', `Facebook refused the file ${ref}: check that it is a valid image, audio, video or document under 25 MB.`);
  }
  switch (error.classification) {
    case 'reauth':
      return errorAnswer(424, 'facebook_token_invalid', `Facebook token expired or was revoked: re-authorize the page in the relay, then send again ${ref}.`, true);
    case 'permission':
      return errorAnswer(424, 'facebook_permission_missing', `${error.explanation}`, true);
    case 'throttle': {
      const seconds = error.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
      return errorAnswer(429, 'facebook_rate_limited', `Facebook is rate-limiting this page ${ref}: send again in ${seconds} seconds.`, true, { 'Retry-After': String(seconds) });
    }
    case 'recipient':
      return errorAnswer(422, 'recipient_unavailable', `${error.explanation} The message was not sent ${ref}.`);
    case 'window':
      return errorAnswer(422, 'window_closed', `${error.explanation} ${ref}`);
    case 'transient':
      return errorAnswer(502, 'facebook_unavailable', `Facebook had a temporary problem and did not send the message ${ref}: try again in a moment.`, true);
    default:
      return errorAnswer(422, 'facebook_rejected', `Facebook rejected the message ${ref}: ${error.facebookMessage}`);
  }
}
