import { DEFAULT_DELIVERY_CONCURRENCY } from '../config/app-config';
import { defineJob } from '../queue/job';

/**
 * Delivers a conversation's queued inbound messages in order, oldest first. Job ids are
 * deterministic (`c-<conversation>-<message>-a<attempts>`) so re-enqueueing the same work is a no-op.
 */
export const DeliverConversation = defineJob<{ conversationId: string }>('relay.deliver', {
  attempts: 3, backoffMs: 2_000, concurrency: DEFAULT_DELIVERY_CONCURRENCY, concurrencyFromConfig: (config) => config.deliveryConcurrency,
});

/** Copies one inbound attachment from Facebook's CDN into the blob store right away (the URLs expire). */
export const FetchMedia = defineJob<{ messageId: string }>('relay.fetch-media', { attempts: 4, backoffMs: 2_000, concurrency: 4 });

export function deliveryJobId(conversationId: string, messageId: string, attempts: number): string {
  return `c-${conversationId}-${messageId}-a${attempts}`;
}
