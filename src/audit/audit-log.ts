import { Injectable, Logger } from '@nestjs/common';
import { newId } from '../common/ids';
import { Database } from '../database/database';
import { Tenant } from '../accounts/tenant.entity';
import { Integration } from '../integrations/integration.entity';
import { AuditEntry } from './audit-entry.entity';

export type AuditAction =
  | 'integration.created'
  | 'integration.changed'
  | 'integration.deleted'
  | 'integration.reauthorized'
  | 'integration.reply_token_rotated'
  | 'message.replayed'
  | 'messages.replayed_bulk';

export interface AuditRecordOptions {
  integrationId?: string | null;
  /** Name to keep with the entry when the integration is already gone (e.g. after deleting it). */
  integrationName?: string | null;
  /** Plain facts (field names, counts, ids). Never pass secrets here. */
  details?: Record<string, unknown> | null;
}

export interface AuditItem {
  id: string;
  at: string;
  actor: string;
  action: string;
  integrationId: string | null;
  integrationName: string | null;
  details: Record<string, unknown> | null;
}

/** The tenant-visible audit log: who did what, when. */
@Injectable()
export class AuditLog {
  private readonly logger = new Logger('AuditLog');

  constructor(private readonly database: Database) {}

  /**
   * Records one action. `actorEmail` is the logged-in account's e-mail (`@CurrentTenant().email`);
   * when a caller has none at hand (e.g. the Facebook login callback), the account's own e-mail is
   * used, since an account has one login. Never throws: the action already happened, and a lost audit line must not
   * turn the tenant's successful request into an error (it is logged instead).
   */
  async record(tenantId: string, actorEmail: string | null | undefined, action: AuditAction | string, options: AuditRecordOptions = {}): Promise<void> {
    try {
      const integrationId = options.integrationId ?? null;
      const actor = actorEmail || (await this.database.repo(Tenant).findOne({ where: { id: tenantId }, select: { id: true, email: true } }))?.email || 'system';
      let integrationName: string | null = options.integrationName ?? null;
      if (integrationId && !integrationName) {
        const integration = await this.database.repo(Integration).findOne({ where: { id: integrationId, tenantId }, select: { id: true, name: true } });
        integrationName = integration?.name ?? null;
      }
      await this.database.repo(AuditEntry).insert({
        id: newId(),
        tenantId,
        at: new Date(),
        actor: actor.slice(0, 254),
        action: action.slice(0, 48),
        integrationId,
        integrationName: integrationName ? integrationName.slice(0, 100) : null,
        details: options.details ? JSON.stringify(options.details) : null,
      });
    } catch (error) {
      this.logger.error(`Could not record audit action ${action} for tenant ${tenantId}: ${(error as Error).message}`);
    }
  }

  async list(tenantId: string, page: number, pageSize: number): Promise<{ items: AuditItem[]; total: number }> {
    const [rows, total] = await this.database.repo(AuditEntry).findAndCount({
      where: { tenantId },
      order: { at: 'DESC', id: 'DESC' },
      skip: (page - 1) * pageSize,
      take: pageSize,
    });
    return { items: rows.map(toItem), total };
  }

  async deleteForTenant(tenantId: string): Promise<void> {
    await this.database.repo(AuditEntry).delete({ tenantId });
  }
}

function toItem(row: AuditEntry): AuditItem {
  let details: Record<string, unknown> | null = null;
  if (row.details) {
    try {
      details = JSON.parse(row.details) as Record<string, unknown>;
    } catch {
      details = null;
    }
  }
  return {
    id: row.id,
    at: new Date(row.at).toISOString(),
    actor: row.actor,
    action: row.action,
    integrationId: row.integrationId,
    integrationName: row.integrationName,
    details,
  };
}
