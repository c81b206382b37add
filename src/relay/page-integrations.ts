import { Injectable } from '@nestjs/common';
import { Integration } from '../integrations/integration.entity';
import { IntegrationsRepository } from '../integrations/integrations.repository';

const TTL_MS = 5_000;

/**
 * Which integration owns each page, for the webhook hot path: one query per POST for the pages not
 * cached, answers kept 5 s. Modules that change integrations call `invalidate()` so a change is seen at once.
 */
@Injectable()
export class PageIntegrations {
  private readonly cache = new Map<string, { at: number; integration: Integration | null }>();

  constructor(private readonly integrations: IntegrationsRepository) {}

  async forPages(pageIds: string[]): Promise<Map<string, Integration>> {
    const now = Date.now();
    const result = new Map<string, Integration>();
    const missing: string[] = [];
    for (const pageId of pageIds) {
      const hit = this.cache.get(pageId);
      if (hit && now - hit.at < TTL_MS) {
        if (hit.integration) result.set(pageId, hit.integration);
      } else {
        missing.push(pageId);
      }
    }
    if (missing.length) {
      const rows = await this.integrations.findBoundPages(missing);
      const byPage = new Map(rows.map((row) => [row.boundPageId!, row]));
      for (const pageId of missing) {
        const integration = byPage.get(pageId) ?? null;
        this.cache.set(pageId, { at: now, integration });
        if (integration) result.set(pageId, integration);
      }
    }
    return result;
  }

  /** Forget one page (or all): call after creating, changing, superseding or deleting an integration. */
  invalidate(pageId?: string): void {
    if (pageId === undefined) this.cache.clear();
    else this.cache.delete(pageId);
  }
}
