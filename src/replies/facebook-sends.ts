import { Injectable } from '@nestjs/common';
import { GraphClient } from '../facebook/graph-client';
import { MessengerAttachmentType } from './attachment-types';

/** Well under a contact center's usual 30 s, so the agent gets Facebook's verdict, not a timeout. */
export const GRAPH_SEND_TIMEOUT_MS = 8_000;

/** An upload of up to 25 MB gets longer, still under the contact center's 30 s. */
export const GRAPH_UPLOAD_TIMEOUT_MS = 20_000;

export type MessengerRecipient = { id: string } | { comment_id: string } | { post_id: string };

export interface MessagingPolicy {
  messagingType: 'RESPONSE' | 'MESSAGE_TAG';
  tag?: 'HUMAN_AGENT';
}

/** The Graph calls a reply makes (facebook-platform.md §4): Send API text and upload, comments. */
@Injectable()
export class FacebookSends {
  constructor(private readonly graph: GraphClient) {}

  async text(pageId: string, token: string, recipient: MessengerRecipient, policy: MessagingPolicy, text: string, metadata: string): Promise<string> {
    const answer = await this.graph.post<{ message_id: string }>(`${pageId}/messages`, {
      token,
      json: { recipient, ...policyFields(policy), message: { text, metadata } },
      timeoutMs: GRAPH_SEND_TIMEOUT_MS,
    });
    return answer.message_id;
  }

  /** Multipart upload: the file part carries its real content type, or Facebook refuses it (100/2018047). */
  async upload(pageId: string, token: string, recipient: MessengerRecipient, policy: MessagingPolicy, file: { bytes: Buffer; mime: string; filename: string; type: MessengerAttachmentType; metadata: string }): Promise<string> {
    const form = new FormData();
    form.append('recipient', JSON.stringify(recipient));
    const fields = policyFields(policy);
    form.append('messaging_type', fields.messaging_type);
    if (fields.tag) form.append('tag', fields.tag);
    form.append('message', JSON.stringify({ attachment: { type: file.type, payload: { is_reusable: true } }, metadata: file.metadata }));
    form.append('filedata', new globalThis.Blob([file.bytes], { type: file.mime }), file.filename);
    const answer = await this.graph.post<{ message_id: string }>(`${pageId}/messages`, { token, form, timeoutMs: GRAPH_UPLOAD_TIMEOUT_MS });
    return answer.message_id;
  }

  /** A public comment under `targetId` (a comment or a post), with text or a picture by URL. */
  async comment(targetId: string, token: string, content: { message?: string; attachmentUrl?: string }): Promise<string> {
    const answer = await this.graph.post<{ id: string }>(`${targetId}/comments`, {
      token,
      params: { message: content.message, attachment_url: content.attachmentUrl },
      timeoutMs: GRAPH_SEND_TIMEOUT_MS,
    });
    return answer.id;
  }

  /**
   * The post's comments at every level made since `since` (ms), newest first (`GET /{post-id}/comments?filter=stream`,
   * facebook-platform.md §4.5), with their parent: how the relay finds out whether a comment it sent went up when
   * Facebook's answer never came. The whole post, so the comment is found wherever Facebook filed it; pages of 50 until
   * one reaches back before `since`, at most 6, each within 5 s: with the parent's lookup the read-back ends within
   * 35 s, well before a repeat would take a `sending` row over (60 s).
   */
  async commentsSince(postId: string, token: string, since: number): Promise<PostedComment[]> {
    const comments = await this.graph.getAll<PostedComment>(`${postId}/comments`, {
      token,
      params: { fields: 'id,message,from,created_time,parent', filter: 'stream', order: 'reverse_chronological', limit: COMMENTS_PER_PAGE },
      timeoutMs: GRAPH_READ_BACK_TIMEOUT_MS,
    }, { maxPages: COMMENT_PAGES_MAX, enough: (page) => page.some((comment) => !(madeAt(comment) >= since)) });
    return comments.filter((comment) => madeAt(comment) >= since);
  }

  /** The comment a comment answers, or null when it is directly on the post (`GET /{comment-id}?fields=parent`). */
  async parentOf(commentId: string, token: string): Promise<string | null> {
    const comment = await this.graph.get<{ parent?: { id?: string } }>(commentId, { token, params: { fields: 'parent' }, timeoutMs: GRAPH_READ_BACK_TIMEOUT_MS });
    return comment.parent?.id ?? null;
  }
}

function madeAt(comment: PostedComment): number {
  return Date.parse(comment.created_time ?? '');
}

/** Comments per page of a read-back, pages at most, and how long each of its calls may take. */
const COMMENTS_PER_PAGE = 50;
const COMMENT_PAGES_MAX = 6;
const GRAPH_READ_BACK_TIMEOUT_MS = 5_000;

export interface PostedComment {
  id: string;
  message?: string;
  from?: { id?: string };
  created_time?: string;
  /** The comment it answers; absent on a comment directly on the post. */
  parent?: { id?: string };
}

function policyFields(policy: MessagingPolicy): { messaging_type: string; tag?: string } {
  return policy.tag ? { messaging_type: policy.messagingType, tag: policy.tag } : { messaging_type: policy.messagingType };
}
