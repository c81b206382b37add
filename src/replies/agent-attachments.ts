import { Injectable } from '@nestjs/common';
import { BlobStore, StoredBlob } from '../blobs/blob-store';
import { OutboundHttpError } from '../common/http/outbound-http';
import { OpenChannelClient, OpenChannelTarget } from '../contact-center/open-channel-client';
import { MAX_ATTACHMENT_BYTES, normalizeMime, refuseReason } from './attachment-types';
import { errorAnswer, ReplyAnswer } from './reply-errors';
import { FILE_LINK_TTL_MS } from './file-links';

export interface AgentFile {
  blob: StoredBlob;
  bytes: Buffer;
  mime: string;
  filename: string;
}

/** A refusal while fetching an agent's file, carried up to the reply's answer. */
export class AttachmentProblem extends Error {
  constructor(readonly answer: ReplyAnswer) {
    super(String(answer.body.message));
  }
}

/**
 * Agent attachments: downloaded from the contact center with its API key (open-channel.md §3),
 * checked (size, type) and kept in the blob store for 24 hours.
 */
@Injectable()
export class AgentAttachments {
  constructor(private readonly openChannel: OpenChannelClient, private readonly blobs: BlobStore) {}

  async fetch(tenantId: string, integrationId: string, target: OpenChannelTarget, attachmentId: string, fallbackName: string): Promise<AgentFile> {
    let download;
    try {
      download = await this.openChannel.downloadAttachment(target, attachmentId, MAX_ATTACHMENT_BYTES);
    } catch (error) {
      if (error instanceof OutboundHttpError && error.kind === 'too_large') {
        throw new AttachmentProblem(errorAnswer(413, 'attachment_too_large', `Attachment ${attachmentId} is larger than 25 MB, the most Facebook accepts: send a smaller file.`));
      }
      if (error instanceof OutboundHttpError) {
        throw new AttachmentProblem(errorAnswer(502, 'contact_center_unreachable', `The relay could not download attachment ${attachmentId} from the contact center (${error.message}): try again in a moment.`, true));
      }
      throw error;
    }
    const { meta, file } = download;
    if (meta.status === 404) {
      throw new AttachmentProblem(errorAnswer(422, 'attachment_not_found', `Attachment ${attachmentId} was not found on the contact center: attach the file again.`));
    }
    if (meta.status === 401 || meta.status === 403) {
      throw new AttachmentProblem(errorAnswer(424, 'contact_center_refused', `The contact center refused the relay's API key when it downloaded attachment ${attachmentId}: update the XCALLY API key in the integration.`, true));
    }
    if (meta.status !== 200 || file.status !== 200) {
      const status = meta.status !== 200 ? meta.status : file.status;
      throw new AttachmentProblem(errorAnswer(502, 'contact_center_error', `The contact center answered HTTP ${status} when the relay downloaded attachment ${attachmentId}: try again in a moment.`, true));
    }
    const info = meta.json<{ type?: string; name?: string }>() ?? {};
    const filename = (typeof info.name === 'string' && info.name.trim()) || fallbackName.trim() || `attachment-${attachmentId}`;
    const headerType = file.headers['content-type'];
    const mime = normalizeMime(info.type ?? (typeof headerType === 'string' ? headerType : undefined));
    const bytes = file.body;
    if (bytes.length === 0) {
      throw new AttachmentProblem(errorAnswer(422, 'attachment_empty', `Attachment "${filename}" is empty: attach the file again.`));
    }
    if (bytes.length > MAX_ATTACHMENT_BYTES) {
      throw new AttachmentProblem(errorAnswer(413, 'attachment_too_large', `Attachment "${filename}" is larger than 25 MB, the most Facebook accepts: send a smaller file.`));
    }
    const refused = refuseReason(mime, filename);
    if (refused) throw new AttachmentProblem(errorAnswer(415, 'attachment_type_unsupported', refused));
    const blob = await this.blobs.put(tenantId, { bytes, contentType: mime, filename, integrationId, ttlMs: FILE_LINK_TTL_MS });
    return { blob, bytes, mime, filename };
  }
}
