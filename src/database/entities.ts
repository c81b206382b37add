import { Tenant } from '../accounts/tenant.entity';
import { Blob } from '../blobs/blob.entity';
import { FacebookIdentity } from '../facebook/facebook-identity.entity';
import { Integration } from '../integrations/integration.entity';
import { Conversation } from '../relay/conversation.entity';
import { Message } from '../relay/message.entity';

/** Every entity the data source knows. A feature adding a table adds its entity here. */
export const entities = [Tenant, FacebookIdentity, Integration, Conversation, Message, Blob];
