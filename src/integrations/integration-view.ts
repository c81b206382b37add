import { Availability, parseAvailability } from '../availability/schedule';
import { redactUrl } from '../common/logging/redact';
import { Integration, IntegrationStatus } from './integration.entity';

/** An integration as the management API shows it: no API key, no signing secret, masked URL query secrets. */
export interface IntegrationView {
  id: string;
  name: string;
  pageId: string;
  pageName: string;
  openchannelUrl: string;
  hasApiKey: boolean;
  hasSigningSecret: boolean;
  wallPosts: boolean;
  enabled: boolean;
  status: IntegrationStatus;
  statusReason: string | null;
  /** The uContact "ACTIVE TOKEN" light: false (red) when Facebook no longer accepts the page token. */
  tokenActive: boolean;
  pageSubscribed: boolean;
  humanAgentTag: boolean;
  forwardReactions: boolean;
  forwardEdits: boolean;
  /** The tenant's own credential, shown in full so it can be pasted into the Open Channel account. */
  replyUrl: string;
  lastEventAt: string | null;
  lastDeliveryAt: string | null;
  lastCheckedAt: string | null;
  createdAt: string;
  updatedAt: string;
  /** An inbound message has kept failing to reach the contact center for more than ALERT_FAILING_MINUTES. */
  failing: boolean;
  /** Inbound messages that ended failed in the last 24 hours. */
  failedDeliveries: number;
  /** Schedule and after-hours message (defaults when never set). */
  availability: Availability;
}

export function replyUrlFor(publicUrl: string, replyToken: string): string {
  return `${publicUrl}/api/reply?token=${encodeURIComponent(replyToken)}`;
}

export function toView(
  integration: Integration,
  secrets: { openchannelUrl: string; replyToken: string },
  publicUrl: string,
  figures: { failing: boolean; failedDeliveries: number } = { failing: false, failedDeliveries: 0 },
): IntegrationView {
  const iso = (date: Date | null) => (date ? new Date(date).toISOString() : null);
  return {
    id: integration.id,
    name: integration.name,
    pageId: integration.pageId,
    pageName: integration.pageName,
    openchannelUrl: redactUrl(secrets.openchannelUrl),
    hasApiKey: Boolean(integration.apiKeyEnc),
    hasSigningSecret: Boolean(integration.signingSecretEnc),
    wallPosts: integration.wallPosts,
    enabled: integration.enabled,
    status: integration.status,
    statusReason: integration.statusReason,
    tokenActive: integration.status !== 'reauth_required',
    pageSubscribed: integration.pageSubscribed,
    humanAgentTag: integration.humanAgentTag,
    forwardReactions: integration.forwardReactions,
    forwardEdits: integration.forwardEdits,
    replyUrl: replyUrlFor(publicUrl, secrets.replyToken),
    lastEventAt: iso(integration.lastEventAt),
    lastDeliveryAt: iso(integration.lastDeliveryAt),
    lastCheckedAt: iso(integration.lastCheckedAt),
    createdAt: iso(integration.createdAt)!,
    updatedAt: iso(integration.updatedAt)!,
    failing: figures.failing,
    failedDeliveries: figures.failedDeliveries,
    availability: parseAvailability(integration.availability),
  };
}
