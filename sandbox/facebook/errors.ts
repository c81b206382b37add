/** Graph-shaped errors, and the catalogue of errors the control API can inject. */

export interface GraphErrorBody {
  message: string;
  type: string;
  code: number;
  error_subcode?: number;
  is_transient?: boolean;
  error_user_title?: string;
  error_user_msg?: string;
  fbtrace_id?: string;
}

export class GraphError extends Error {
  constructor(
    public readonly code: number,
    message: string,
    public readonly subcode?: number,
    public readonly httpStatus = 400,
    public readonly type = 'OAuthException',
    public readonly extra: Partial<GraphErrorBody> = {},
    public readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toBody(fbtraceId: string): { error: GraphErrorBody } {
    const body: GraphErrorBody = { message: this.message, type: this.type, code: this.code };
    if (this.subcode !== undefined) body.error_subcode = this.subcode;
    Object.assign(body, this.extra);
    body.fbtrace_id = fbtraceId;
    return { error: body };
  }
}

export const Errors = {
  invalidToken: () => new GraphError(190, 'Invalid OAuth access token - Cannot parse access token'),
  noToken: () => new GraphError(2500, 'An active access token must be used to query information about the current user.'),
  tokenExpired: (expiredAt: number, now: number) =>
    new GraphError(
      190,
      `Error validating access token: Session has expired on ${new Date(expiredAt).toUTCString()}. The current time is ${new Date(now).toUTCString()}.`,
      463,
    ),
  tokenRevoked: () =>
    new GraphError(
      190,
      'Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.',
      460,
    ),
  appNotAuthorized: (userId: string, appId: string) =>
    new GraphError(190, `Error validating access token: User ${userId} has not authorized application ${appId}.`, 458),
  noPageRole: () => new GraphError(190, 'Error validating access token: The user is not an admin, editor, or moderator of this page.', 492),
  pageTokenRequired: () => new GraphError(190, '(#190) This method must be called with a Page Access Token', 2069032),
  badProof: () => new GraphError(100, 'Invalid appsecret_proof provided in the API argument', undefined, 400, 'GraphMethodException'),
  proofRequired: () => new GraphError(100, 'API calls from the server require an appsecret_proof argument', undefined, 400, 'GraphMethodException'),
  param: (message: string, subcode?: number) => new GraphError(100, message.startsWith('(#') ? message : `(#100) ${message}`, subcode),
  unknownObject: (id: string, method: string) =>
    new GraphError(
      100,
      `Unsupported ${method.toLowerCase()} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
      33,
      400,
      'GraphMethodException',
    ),
  unknownPath: (segment: string) => new GraphError(2500, `Unknown path components: /${segment}`),
  permission: (perm: string) => new GraphError(200, `(#200) Requires ${perm} permission to manage the object`),
  taskMissing: (task: string) =>
    new GraphError(200, `(#200) The user must be able to perform the ${task} task on the Page in order to do this`),
  noRecipient: () => new GraphError(100, '(#100) No matching user found', 2018001),
  uploadFailure: () => new GraphError(100, '(#100) Upload attachment failure.', 2018047),
  fetchFailure: () => new GraphError(100, '(#100) Failed to fetch the file from the url', 2018008),
  outsideWindow: () =>
    new GraphError(
      10,
      '(#10) This message is sent outside of allowed window. Learn more about the new policy here: https://developers.facebook.com/docs/messenger-platform/policy-overview',
      2018278,
    ),
  personUnavailable: () => new GraphError(551, "(#551) This person isn't available right now.", 1545041),
  alreadyReplied: () => new GraphError(10900, '(#10900) Activity already replied to'),
  cantReply: () => new GraphError(10903, '(#10903) This user cant reply to this activity'),
  noProfile: () => new GraphError(100, 'No profile available for this user.', 2018218),
  postToWall: () => new GraphError(1705, '(#1705) There was an error posting to this wall'),
  transient: () => new GraphError(2, 'An unexpected error has occurred. Please retry your request later.', undefined, 500, 'OAuthException', { is_transient: true }),
  unknown: () => new GraphError(1, 'An unknown error has occurred.', 99, 500, 'OAuthException', { is_transient: false }),
};

/** Named errors for the injection API (POST /_control/errors { kind }). */
export type InjectableErrorKind =
  | 'token_expired'
  | 'token_revoked'
  | 'app_not_authorized'
  | 'rate_limit_app'
  | 'rate_limit_user'
  | 'rate_limit_page'
  | 'rate_limit_custom'
  | 'rate_limit_messenger'
  | 'person_unavailable'
  | 'outside_window'
  | 'permission'
  | 'transient'
  | 'unknown'
  | 'down'
  | 'delay'
  | 'lost_answer'
  | 'custom';

function usageHeaders(pageId: string | undefined, type: string): Record<string, string> {
  const usage = { call_count: 100, total_cputime: 28, total_time: 43 };
  const headers: Record<string, string> = { 'x-app-usage': JSON.stringify(usage) };
  const business = pageId ?? '0';
  headers['x-business-use-case-usage'] = JSON.stringify({
    [business]: [{ type, call_count: 100, total_cputime: 28, total_time: 43, estimated_time_to_regain_access: 1 }],
  });
  return headers;
}

export function injectableError(
  kind: InjectableErrorKind,
  opts: { pageId?: string; code?: number; subcode?: number; message?: string; httpStatus?: number },
): GraphError | undefined {
  switch (kind) {
    case 'token_expired':
      return Errors.tokenExpired(Date.now() - 3600_000, Date.now());
    case 'token_revoked':
      return Errors.tokenRevoked();
    case 'app_not_authorized':
      return new GraphError(190, 'Error validating access token: The user has not authorized application.', 458);
    case 'rate_limit_app':
      return new GraphError(4, '(#4) Application request limit reached', undefined, 400, 'OAuthException', { is_transient: true }, usageHeaders(opts.pageId, 'pages'));
    case 'rate_limit_user':
      return new GraphError(17, '(#17) User request limit reached', undefined, 400, 'OAuthException', { is_transient: true }, usageHeaders(opts.pageId, 'pages'));
    case 'rate_limit_page':
      return new GraphError(32, '(#32) Page request limit reached', undefined, 400, 'OAuthException', {}, usageHeaders(opts.pageId, 'pages'));
    case 'rate_limit_custom':
      return new GraphError(613, '(#613) Calls to this api have exceeded the rate limit.', undefined, 400, 'OAuthException', {}, usageHeaders(opts.pageId, 'messenger'));
    case 'rate_limit_messenger':
      return new GraphError(
        80006,
        '(#80006) There have been too many messages sent to this Messenger user. Please wait a while before sending more.',
        undefined,
        400,
        'OAuthException',
        {},
        usageHeaders(opts.pageId, 'messenger'),
      );
    case 'person_unavailable':
      return Errors.personUnavailable();
    case 'outside_window':
      return Errors.outsideWindow();
    case 'permission':
      return Errors.permission('pages_messaging');
    case 'transient':
      return Errors.transient();
    case 'unknown':
      return Errors.unknown();
    case 'custom':
      return new GraphError(opts.code ?? 1, opts.message ?? `(#${opts.code ?? 1}) Injected error`, opts.subcode, opts.httpStatus ?? 400);
    default:
      return undefined;
  }
}
