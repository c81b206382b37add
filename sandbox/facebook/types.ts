/** Public types of the Facebook sandbox. */

export const MESSENGER_FIELDS = [
  'messages',
  'message_echoes',
  'message_deliveries',
  'message_reads',
  'message_reactions',
  'message_edits',
  'messaging_postbacks',
  'messaging_referrals',
  'messaging_optins',
  'messaging_handovers',
  'messaging_policy_enforcement',
  'messaging_account_linking',
  'messaging_feedback',
  'messaging_game_plays',
  'messaging_customer_information',
  'standby',
  'inbox_labels',
  'response_feedback',
  'send_cart',
] as const;

export const PAGE_FIELDS = ['feed', 'mention', 'live_videos', 'ratings', 'name', 'picture', 'conversations', 'leadgen'] as const;

export const ALL_WEBHOOK_FIELDS: readonly string[] = [...MESSENGER_FIELDS, ...PAGE_FIELDS];

export const DEFAULT_APP_FIELDS = [
  'messages',
  'message_echoes',
  'message_deliveries',
  'message_reads',
  'message_reactions',
  'messaging_postbacks',
  'messaging_referrals',
  'messaging_handovers',
  'standby',
  'feed',
];

export const PAGE_INBOX_APP_ID = '263902037430900';

export const PAGE_TASKS = ['ADVERTISE', 'ANALYZE', 'CREATE_CONTENT', 'MANAGE', 'MANAGE_LEADS', 'MESSAGING', 'MODERATE', 'VIEW_MONETIZATION_INSIGHTS'] as const;
export const ALL_TASKS: string[] = [...PAGE_TASKS];

export const RELAY_PERMISSIONS = [
  'public_profile',
  'email',
  'pages_show_list',
  'pages_manage_metadata',
  'pages_messaging',
  'pages_read_engagement',
  'pages_read_user_content',
  'pages_manage_engagement',
  'business_management',
];

export interface WebhookDeliveryOptions {
  /** Several entries (pages/events) per POST. */
  batch: boolean;
  /** Max entries in one POST (Meta: 1000). */
  batchMax: number;
  /** How long events are gathered before a flush (ms). 0 = next tick. */
  flushDelayMs: number;
  /** Delays between attempts; the last value repeats. */
  retryDelaysMs: number[];
  /** Total attempts (first + retries). */
  maxAttempts: number;
  /** Receiver must answer within this (Meta: 5 s). */
  timeoutMs: number;
  /** Re-send every successfully delivered body once more. */
  duplicates: boolean;
  /** Send each flushed group in reverse order. */
  outOfOrder: boolean;
  /** Parallel POSTs. 1 keeps order. */
  concurrency: number;
  /** Unsubscribe the app from a page after this many consecutive failed attempts (0 = never). */
  autoUnsubscribeAfterFailures: number;
  /** Escape '%' as \u0025 like some old captures. */
  escapePercent: boolean;
  /** Delivery and read receipts after a Send API call. */
  autoDeliveryReceipts: boolean;
  autoReadReceipts: boolean;
  /** Delay before emitting automatic receipts (ms). */
  receiptDelayMs: number;
}

export interface FacebookSandboxOptions {
  port?: number;
  host?: string;
  appId?: string;
  appSecret?: string;
  appName?: string;
  graphVersion?: string;
  /** true: approve at once with the first test user; a user id: approve as that user. */
  autoApprove?: boolean | string;
  /** Lifetime of CDN media URLs (ms). Default 1 h. */
  cdnTtlMs?: number;
  /** Create demo users, pages, posts and customers. Default true. */
  seed?: boolean;
  /** If set, the login dialog accepts only redirect URIs starting with one of these. */
  allowedRedirectUris?: string[];
  /** Require appsecret_proof on every Graph call with a token. */
  requireAppSecretProof?: boolean;
  /** App-level webhook subscription set at start (verification GET is done at once). */
  webhookCallbackUrl?: string;
  webhookVerifyToken?: string;
  webhookFields?: string[];
  /** Subscribe the app to all seeded pages at start (like a relay that already onboarded them). */
  subscribeSeededPages?: boolean;
  webhook?: Partial<WebhookDeliveryOptions>;
  /** Public base URL if different from the listening address (used in paging.next and CDN URLs). */
  publicUrl?: string;
  /** Logger for one-line notes (default: silent). */
  log?: (line: string) => void;
}

export interface ResolvedOptions {
  port: number;
  host: string;
  appId: string;
  appSecret: string;
  appName: string;
  graphVersion: string;
  autoApprove: boolean | string;
  cdnTtlMs: number;
  seed: boolean;
  allowedRedirectUris?: string[];
  requireAppSecretProof: boolean;
  webhook: WebhookDeliveryOptions;
  log: (line: string) => void;
}

export const DEFAULT_APP_ID = '1000000000000001';
export const DEFAULT_APP_SECRET = 'sandbox0app0secret0000000000000001';

export const DEFAULT_WEBHOOK_OPTIONS: WebhookDeliveryOptions = {
  batch: false,
  batchMax: 1000,
  flushDelayMs: 0,
  retryDelaysMs: [1000, 2000, 4000, 8000, 16000, 30000],
  maxAttempts: 8,
  timeoutMs: 5000,
  duplicates: false,
  outOfOrder: false,
  concurrency: 1,
  autoUnsubscribeAfterFailures: 0,
  escapePercent: false,
  autoDeliveryReceipts: true,
  autoReadReceipts: false,
  receiptDelayMs: 0,
};
