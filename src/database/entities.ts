import { Session } from '../accounts/session.entity';
import { Tenant } from '../accounts/tenant.entity';
import { ThrottleCounter } from '../accounts/throttle-counter.entity';
import { VerificationCode } from '../accounts/verification-code.entity';
import { Blob } from '../blobs/blob.entity';
import { FacebookIdentity } from '../facebook/facebook-identity.entity';
import { Integration } from '../integrations/integration.entity';
import { Conversation } from '../relay/conversation.entity';
import { Message } from '../relay/message.entity';
import { DeliveryAttempt } from '../relay/delivery-attempt.entity';
import { AlertIncident } from '../monitoring/alert-incident.entity';
import { AuditEntry } from '../audit/audit-entry.entity';

/** Every entity the data source knows. A feature adding a table adds its entity here. */
export const entities = [Tenant, FacebookIdentity, Integration, Conversation, Message, Blob, Session, VerificationCode, ThrottleCounter, DeliveryAttempt, AlertIncident, AuditEntry];
