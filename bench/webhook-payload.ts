import { metaJson, signatureHeaders } from '../sandbox/facebook/webhooks';

/** A page and the customers (PSIDs) the load generator writes as. */
export interface PageLoad {
  pageId: string;
  psids: string[];
}

/**
 * Builds webhook POSTs: `events` customer text messages spread over the pages and their customers
 * (round robin, so many conversations), each text carrying `#<tag>.<seq>@<send time ms>` for the e2e timing.
 */
export class WebhookBuilder {
  private seq = 0;
  private cursor = 0;

  constructor(private readonly pages: PageLoad[], private readonly appSecret: string, private readonly tag: string) {}

  build(events: number, sentAt: number): { body: string; signature: string; firstSeq: number } {
    const firstSeq = this.seq;
    const entries: unknown[] = [];
    for (let i = 0; i < events; i++) {
      const page = this.pages[this.cursor % this.pages.length];
      const psid = page.psids[Math.floor(this.cursor / this.pages.length) % page.psids.length];
      this.cursor++;
      const seq = this.seq++;
      const time = Math.floor(sentAt);
      entries.push({
        id: page.pageId,
        time,
        messaging: [{
          sender: { id: psid },
          recipient: { id: page.pageId },
          timestamp: time,
          message: { mid: `m_${this.tag}_${seq}`, text: `Olá, preciso de ajuda com a encomenda / #${this.tag}.${seq}@${sentAt.toFixed(3)}` },
        }],
      });
    }
    // Facebook's wire format, signed over those exact bytes (the sandbox's own serialiser).
    const body = metaJson({ object: 'page', entry: entries });
    return { body, signature: signatureHeaders(body, this.appSecret)['x-hub-signature-256'], firstSeq };
  }
}

/** The `#<seq>@<ms>` marker of a notification body, or null. */
export function markerOf(text: unknown): { id: string; sentAt: number } | null {
  if (typeof text !== 'string') return null;
  const match = /#([\w]+\.\d+)@([\d.]+)$/.exec(text);
  return match ? { id: match[1], sentAt: Number(match[2]) } : null;
}
