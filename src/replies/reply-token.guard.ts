import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { hashSecret } from '../common/crypto/secret-box';
import { RelayHttpError } from '../common/errors/http-errors';
import { bearerToken } from '../common/http/bearer-token';
import { Integration } from '../integrations/integration.entity';
import { IntegrationsRepository } from '../integrations/integrations.repository';
import { plainReply } from './reply-body.pipe';
import { PrefetchedConversation, ReplyLookups } from './reply-lookups';
import { recipientOfReply } from './reply.dto';

export type ReplyRequest = Request & { integration?: Integration; prefetched?: PrefetchedConversation };

/**
 * Authenticates `POST /api/reply` by the integration's reply token (`?token=` or
 * `Authorization: Bearer`), looked up by its SHA-256 (the token itself is never stored or logged).
 * Runs before body validation, so a caller without a valid token learns nothing about the body.
 * When the body plainly names its recipient, the conversation is read in the same statement
 * (ReplyService uses it when the validated body names the same recipient).
 */
@Injectable()
export class ReplyTokenGuard implements CanActivate {
  constructor(private readonly integrations: IntegrationsRepository, private readonly lookups: ReplyLookups) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<ReplyRequest>();
    const token = tokenOf(request);
    if (!token) {
      throw new RelayHttpError(401, 'missing_token', 'The reply token is missing: use the Reply URL the relay shows for the integration (it ends with ?token=...).');
    }
    const tokenHash = hashSecret(token);
    // Only a body ReplyBodyPipe takes as it is: any other is validated first, and its conversation read after.
    const plain = plainReply(request.body);
    const recipient = plain && recipientOfReply(plain);
    let integration: Integration | null;
    let prefetched: PrefetchedConversation | undefined;
    if (recipient) {
      const found = await this.lookups.integrationWithConversation(tokenHash, recipient);
      integration = found?.integration ?? null;
      prefetched = found?.prefetched;
    } else {
      integration = await this.integrations.findByReplyTokenHash(tokenHash);
    }
    if (!integration) {
      throw new RelayHttpError(401, 'invalid_token', 'The reply token is not valid: copy the Reply URL again from the integration in the relay.');
    }
    if (integration.status === 'superseded') {
      throw new RelayHttpError(409, 'integration_superseded', `The integration for page "${integration.pageName}" was replaced by a newer integration of the same page: put the new integration's Reply URL in the contact center.`);
    }
    if (!integration.enabled) {
      throw new RelayHttpError(409, 'integration_disabled', `The integration for page "${integration.pageName}" is disabled in the relay: enable it to send replies.`);
    }
    request.integration = integration;
    request.prefetched = prefetched;
    return true;
  }
}

function tokenOf(request: Request): string | null {
  const bearer = bearerToken(request.headers.authorization);
  if (bearer) return bearer;
  const query = request.query.token;
  return typeof query === 'string' && query.length > 0 ? query : null;
}
