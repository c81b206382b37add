import { Injectable } from '@nestjs/common';
import { In } from 'typeorm';
import { Database } from '../database/database';
import { RawRows } from '../database/raw-rows';
import { Integration } from './integration.entity';

/** Lookups on integrations. Tenant-facing ones take the tenantId; relay-facing ones are by page or reply token. */
@Injectable()
export class IntegrationsRepository {
  private integrations?: RawRows<Integration>;

  constructor(private readonly database: Database) {}

  listForTenant(tenantId: string): Promise<Integration[]> {
    return this.database.repo(Integration).find({ where: { tenantId }, order: { createdAt: 'DESC' } });
  }

  findForTenant(tenantId: string, id: string): Promise<Integration | null> {
    return this.database.repo(Integration).findOneBy({ tenantId, id });
  }

  findById(id: string): Promise<Integration | null> {
    return this.database.repo(Integration).findOneBy({ id });
  }

  /** The integration that owns a page now (superseded ones have no boundPageId), whatever its status. */
  findByBoundPageId(pageId: string): Promise<Integration | null> {
    return this.database.repo(Integration).findOneBy({ boundPageId: pageId });
  }

  /**
   * The integration a contact center's reply token (sha256 hex) belongs to. Read on every reply, so a
   * raw statement (the query builder cost more than it), and never cached: a rotated token or a
   * disabled integration counts from the next reply on, in every process.
   */
  async findByReplyTokenHash(hash: string): Promise<Integration | null> {
    this.integrations ??= new RawRows(this.database.dataSource, Integration);
    const table = this.integrations;
    const rows: Array<Record<string, unknown>> = await this.database.dataSource.query(
      `SELECT ${table.selectList} FROM ${table.table} WHERE ${table.column('replyTokenHash')} = ? LIMIT 1`,
      [hash],
    );
    return rows.length ? table.read(rows[0]) : null;
  }

  /** Owners of these pages (for the page picker's "bound" marks). */
  findBoundPages(pageIds: string[]): Promise<Integration[]> {
    if (!pageIds.length) return Promise.resolve([]);
    return this.database.repo(Integration).findBy({ boundPageId: In(pageIds) });
  }

  /** Integrations the periodic check looks at: they own their page and are not superseded. */
  listChecked(): Promise<Integration[]> {
    return this.database.repo(Integration).findBy({ status: In(['active', 'unsubscribed']) });
  }
}
