import { Injectable } from '@nestjs/common';
import { LessThan } from 'typeorm';
import { hashSecret, randomToken } from '../common/crypto/secret-box';
import { newId } from '../common/ids';
import { Database } from '../database/database';
import { Tenant } from './tenant.entity';
import { Session } from './session.entity';

export const SESSION_TTL_MS = 7 * 24 * 3600_000;
/** A session used again after this long gets its expiry pushed out (one write per day at most). */
const REFRESH_AFTER_MS = 24 * 3600_000;

export interface ActiveSession {
  session: Session;
  tenant: { id: string; email: string };
}

/** Server-side sessions, looked up by the SHA-256 of the cookie value so a database leak yields no cookies. */
@Injectable()
export class SessionStore {
  constructor(private readonly database: Database) {}

  async create(tenantId: string): Promise<{ token: string; csrf: string; session: Session }> {
    const token = randomToken();
    const csrf = randomToken();
    const now = new Date();
    const session: Session = {
      id: newId(),
      tenantId,
      tokenHash: hashSecret(token),
      csrfHash: hashSecret(csrf),
      expiresAt: new Date(now.getTime() + SESSION_TTL_MS),
      createdAt: now,
      lastSeenAt: now,
    };
    await this.database.repo(Session).insert(session);
    return { token, csrf, session };
  }

  async find(token: string): Promise<ActiveSession | null> {
    const session = await this.database.repo(Session).findOneBy({ tokenHash: hashSecret(token) });
    if (!session) return null;
    const now = Date.now();
    if (session.expiresAt.getTime() <= now) {
      await this.database.repo(Session).delete({ id: session.id });
      return null;
    }
    const tenant = await this.database.repo(Tenant).findOne({ where: { id: session.tenantId }, select: ['id', 'email', 'status'] });
    if (!tenant || tenant.status !== 'active') return null;
    if (now - session.lastSeenAt.getTime() > REFRESH_AFTER_MS) {
      session.lastSeenAt = new Date(now);
      session.expiresAt = new Date(now + SESSION_TTL_MS);
      await this.database.repo(Session).update({ id: session.id }, { lastSeenAt: session.lastSeenAt, expiresAt: session.expiresAt });
    }
    return { session, tenant: { id: tenant.id, email: tenant.email } };
  }

  async delete(sessionId: string): Promise<void> {
    await this.database.repo(Session).delete({ id: sessionId });
  }

  /** Ends every session of a tenant, optionally keeping the one in use. */
  async deleteAllFor(tenantId: string, exceptSessionId?: string): Promise<void> {
    const query = this.database.repo(Session).createQueryBuilder().delete().where('tenant_id = :tenantId', { tenantId });
    if (exceptSessionId) query.andWhere('id <> :id', { id: exceptSessionId });
    await query.execute();
  }

  async deleteExpired(): Promise<void> {
    await this.database.repo(Session).delete({ expiresAt: LessThan(new Date()) });
  }
}
