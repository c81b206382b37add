import { defineJob } from '../queue/job';
import { JobQueue } from '../queue/job-queue';

/** Sends the integration's after-hours message to the customer of one Messenger conversation. */
export const SendAfterHoursMessage = defineJob<{ conversationId: string; messageId: string }>('availability.after-hours', {
  attempts: 3, backoffMs: 5_000, concurrency: 4,
});

/**
 * Called by ingestion after the commit, with the new customer messages that arrived outside the
 * schedule: one job per conversation (the job itself decides whether the interval allows a send).
 */
export async function enqueueAfterHours(queue: JobQueue, rows: Array<{ id: string; conversationId: string | null }>): Promise<void> {
  const byConversation = new Map<string, string>();
  for (const row of rows) if (row.conversationId && !byConversation.has(row.conversationId)) byConversation.set(row.conversationId, row.id);
  if (!byConversation.size) return;
  await queue.addBulk(SendAfterHoursMessage, [...byConversation].map(([conversationId, messageId]) => ({
    data: { conversationId, messageId }, jobId: `ah-${conversationId}-${messageId}`,
  })));
}
