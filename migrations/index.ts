import { InitialSchema1763700000000 } from './1763700000000-initial-schema';
import { Accounts1763700100000 } from './1763700100000-accounts';
import { RelayDelivery1763700300000 } from './1763700300000-relay-delivery';
import { Monitoring1763700500000 } from './1763700500000-monitoring';
import { Availability1763700600000 } from './1763700600000-availability';
import { WebhookInbox1763700700000 } from './1763700700000-webhook-inbox';
import { LeanMessageIndexes1763700800000 } from './1763700800000-lean-message-indexes';
import { QueuedHeadIndex1763700900000 } from './1763700900000-queued-head-index';
import { UnreadOutboundIndex1763701000000 } from './1763701000000-unread-outbound-index';

/** Every migration, oldest first. Add new ones at the end (name them <timestamp>-<what>.ts). */
export const migrations = [
  InitialSchema1763700000000, Accounts1763700100000, RelayDelivery1763700300000, Monitoring1763700500000, Availability1763700600000,
  WebhookInbox1763700700000, LeanMessageIndexes1763700800000,
  QueuedHeadIndex1763700900000, UnreadOutboundIndex1763701000000,
];
