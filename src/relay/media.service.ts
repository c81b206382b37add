import { Injectable, Logger } from '@nestjs/common';
import { IsNull } from 'typeorm';
import { OutboundHttp, OutboundHttpError } from '../common/http/outbound-http';
import { BlobStore } from '../blobs/blob-store';
import { Database } from '../database/database';
import { JobHandler } from '../queue/job';
import { DeliverySettings } from './delivery.settings';
import { Message } from './message.entity';
import { parsePayload } from './notification';
import { FetchMedia } from './relay.jobs';

/** Transient trouble at Facebook's CDN: try again later. */
export class MediaTemporarilyUnavailable extends Error {}

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg', 'image/png': 'png', 'image/gif': 'gif', 'image/webp': 'webp', 'video/mp4': 'mp4',
  'audio/mpeg': 'mp3', 'audio/mp4': 'm4a', 'audio/aac': 'aac', 'application/pdf': 'pdf',
};

/**
 * Copies inbound attachments from Facebook's CDN into the blob store as soon as they arrive, whatever
 * the contact center's state: the CDN links expire. A link that is already dead turns the message
 * into a note saying so, so the agent still learns a file was sent.
 */
@Injectable()
export class MediaService {
  private readonly logger = new Logger('Media');

  constructor(
    private readonly database: Database,
    private readonly http: OutboundHttp,
    private readonly blobs: BlobStore,
    private readonly settings: DeliverySettings,
  ) {}

  @JobHandler(FetchMedia)
  async fetchJob(data: { messageId: string }): Promise<void> {
    const message = await this.database.repo(Message).findOne({ where: { id: data.messageId } });
    if (message) await this.ensureCopied(message);
  }

  /**
   * Makes sure the message's file is in the blob store (returns the updated message). Throws
   * MediaTemporarilyUnavailable when the CDN did not answer usefully and a later try may work.
   */
  async ensureCopied(message: Message): Promise<Message> {
    if (message.kind !== 'attachment' || message.blobId) return message;
    const attachment = parsePayload(message).attachment;
    if (!attachment?.url) return this.markUnavailable(message, 'the message carried no file link');
    let response;
    try {
      response = await this.http.send(attachment.url, {
        timeoutMs: 30_000, maxResponseBytes: this.settings.maxAttachmentBytes, maxRedirects: 3, trust: 'tenant',
      });
    } catch (error) {
      if (error instanceof OutboundHttpError) {
        if (error.kind === 'too_large') return this.markUnavailable(message, `it is larger than the ${Math.round(this.settings.maxAttachmentBytes / 1048576)} MB the relay copies`);
        if (error.kind === 'blocked' || error.kind === 'invalid_url') return this.markUnavailable(message, 'its link is not a Facebook address the relay may fetch');
        throw new MediaTemporarilyUnavailable(`Facebook's file server: ${error.message}`);
      }
      throw error;
    }
    if (response.status === 403 || response.status === 404 || response.status === 410) {
      return this.markUnavailable(message, 'Facebook\'s link to it had expired before the relay could copy it');
    }
    if (response.status !== 200) throw new MediaTemporarilyUnavailable(`Facebook's file server answered ${response.status}`);
    const contentType = String(response.headers['content-type'] ?? 'application/octet-stream').split(';')[0].trim();
    const filename = attachment.filename || `${attachment.type}.${EXTENSIONS[contentType] ?? 'bin'}`;
    const blob = await this.blobs.put(message.tenantId, {
      bytes: response.body, contentType, filename, integrationId: message.integrationId, ttlMs: this.settings.blobTtlMs,
    });
    const claimed = await this.database.repo(Message).update({ id: message.id, blobId: IsNull() }, { blobId: blob.id, updatedAt: new Date() });
    if (!claimed.affected) {
      await this.blobs.delete(message.tenantId, blob.id); // another worker copied it first
      return (await this.database.repo(Message).findOne({ where: { id: message.id } })) ?? message;
    }
    return { ...message, blobId: blob.id };
  }

  private async markUnavailable(message: Message, why: string): Promise<Message> {
    const type = parsePayload(message).attachment?.type ?? 'file';
    const article = /^[aeiou]/.test(type) ? 'an' : 'a';
    const who = message.event === 'echo' ? 'The page' : 'The customer';
    const text = `${who} sent ${article} ${type} that the relay could not pass on: ${why}.`;
    this.logger.warn(`Attachment of message ${message.id} not copied: ${why}`);
    await this.database.repo(Message).update({ id: message.id }, { kind: 'media_unavailable', text, updatedAt: new Date() });
    return { ...message, kind: 'media_unavailable', text };
  }
}
