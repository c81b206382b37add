import { Injectable } from '@nestjs/common';
import { createHmac, randomInt } from 'node:crypto';
import { LessThanOrEqual } from 'typeorm';
import { safeEqual } from '../common/crypto/secret-box';
import { newId } from '../common/ids';
import { AppConfig } from '../config/app-config';
import { Database } from '../database/database';
import { CodePurpose, VerificationCode } from './verification-code.entity';

export const CODE_TTL_MS = 15 * 60_000;
export const CODE_MAX_TRIES = 5;

export type CodeCheck = 'ok' | 'invalid' | 'exhausted';

/**
 * Six-digit e-mailed codes. A million possible codes would fall to a brute force of a plain
 * hash, so they are stored as an HMAC under the relay's encryption key.
 */
@Injectable()
export class VerificationCodes {
  constructor(private readonly database: Database, private readonly config: AppConfig) {}

  /** Replaces any earlier code of this purpose and returns the new one (in clear, for the e-mail). */
  async issue(tenantId: string, purpose: CodePurpose): Promise<string> {
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const now = new Date();
    const row: VerificationCode = {
      id: newId(), tenantId, purpose, codeHash: this.hash(tenantId, purpose, code), attempts: 0,
      expiresAt: new Date(now.getTime() + CODE_TTL_MS), createdAt: now,
    };
    await this.database.transaction(async (manager) => {
      await manager.delete(VerificationCode, { tenantId, purpose });
      await manager.insert(VerificationCode, row);
    });
    return code;
  }

  /** Every check uses up one try, right or wrong; the code is gone once it worked or ran out of tries. */
  async check(tenantId: string, purpose: CodePurpose, code: string): Promise<CodeCheck> {
    const repo = this.database.repo(VerificationCode);
    const row = await repo.findOneBy({ tenantId, purpose });
    if (!row) return 'invalid';
    if (row.expiresAt.getTime() <= Date.now()) {
      await repo.delete({ id: row.id });
      return 'invalid';
    }
    const used = await repo.createQueryBuilder().update().set({ attempts: () => 'attempts + 1' })
      .where('id = :id AND attempts < :max', { id: row.id, max: CODE_MAX_TRIES }).execute();
    if (!used.affected) {
      await repo.delete({ id: row.id });
      return 'exhausted';
    }
    if (safeEqual(this.hash(tenantId, purpose, code), row.codeHash)) {
      await repo.delete({ id: row.id });
      return 'ok';
    }
    if (row.attempts + 1 >= CODE_MAX_TRIES) {
      await repo.delete({ id: row.id });
      return 'exhausted';
    }
    return 'invalid';
  }

  async discard(tenantId: string, purpose: CodePurpose): Promise<void> {
    await this.database.repo(VerificationCode).delete({ tenantId, purpose });
  }

  async deleteExpired(): Promise<void> {
    await this.database.repo(VerificationCode).delete({ expiresAt: LessThanOrEqual(new Date()) });
  }

  private hash(tenantId: string, purpose: CodePurpose, code: string): string {
    return createHmac('sha256', this.config.encryption.current.key).update(`verification-code:${purpose}:${tenantId}:${code}`).digest('hex');
  }
}
