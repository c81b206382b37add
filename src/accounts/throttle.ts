import { Injectable } from '@nestjs/common';
import { LessThanOrEqual } from 'typeorm';
import { hashSecret } from '../common/crypto/secret-box';
import { RelayHttpError } from '../common/errors/http-errors';
import { Database } from '../database/database';
import { ThrottleCounter } from './throttle-counter.entity';

export interface ThrottleRule {
  /** Counter name, e.g. `login:address`. */
  name: string;
  limit: number;
  windowMs: number;
  /** Says what was limited, e.g. "login attempts for this e-mail address". */
  what: string;
}

const MINUTE = 60_000;
const rule = (name: string, limit: number, windowMinutes: number, what: string): ThrottleRule => ({ name, limit, windowMs: windowMinutes * MINUTE, what });

/** Brute-force limits per e-mail address and per client IP. */
export const THROTTLE = {
  registerAddress: rule('register:address', 5, 60, 'sign-ups for this e-mail address'),
  registerIp: rule('register:ip', 20, 60, 'sign-ups from your network'),
  resendAddress: rule('resend:address', 3, 15, 'new codes for this e-mail address'),
  resendIp: rule('resend:ip', 20, 60, 'code requests from your network'),
  activateAddress: rule('activate:address', 10, 15, 'activation attempts for this e-mail address'),
  activateIp: rule('activate:ip', 50, 15, 'activation attempts from your network'),
  loginAddress: rule('login:address', 10, 15, 'login attempts for this e-mail address'),
  loginIp: rule('login:ip', 50, 15, 'login attempts from your network'),
  forgotAddress: rule('forgot:address', 3, 15, 'password reset codes for this e-mail address'),
  forgotIp: rule('forgot:ip', 20, 60, 'password reset requests from your network'),
  resetAddress: rule('reset:address', 10, 15, 'password reset attempts for this e-mail address'),
  resetIp: rule('reset:ip', 50, 15, 'password reset attempts from your network'),
} satisfies Record<string, ThrottleRule>;

/**
 * Fixed-window counters in the database, so every relay process counts together. Each statement
 * is atomic on its own (reset an expired window, or add one, or create the row), which is enough
 * for a limit: a few racing requests can at worst all be counted.
 */
@Injectable()
export class Throttle {
  constructor(private readonly database: Database) {}

  /** Counts one attempt; throws 429 with Retry-After once the limit is passed. */
  async hit(rule: ThrottleRule, subject: string): Promise<void> {
    const key = `${rule.name}:${hashSecret(subject.toLowerCase())}`;
    const repo = this.database.repo(ThrottleCounter);
    const now = new Date();
    const resetsAt = new Date(now.getTime() + rule.windowMs);
    const restarted = await repo.update({ key, resetsAt: LessThanOrEqual(now) }, { hits: 1, resetsAt });
    if (!restarted.affected) {
      const added = await repo.update({ key }, { hits: () => 'hits + 1' });
      if (!added.affected) {
        try {
          await repo.insert({ key, hits: 1, resetsAt });
        } catch {
          await repo.update({ key }, { hits: () => 'hits + 1' }); // another process created it first
        }
      }
    }
    const counter = await repo.findOneByOrFail({ key });
    if (counter.hits > rule.limit) {
      const seconds = Math.max(1, Math.ceil((counter.resetsAt.getTime() - now.getTime()) / 1000));
      const minutes = Math.ceil(seconds / 60);
      throw new RelayHttpError(429, 'too_many_requests',
        `Too many ${rule.what}. Try again in ${minutes === 1 ? '1 minute' : `${minutes} minutes`}.`,
        { 'Retry-After': String(seconds) });
    }
  }

  async deleteExpired(): Promise<void> {
    await this.database.repo(ThrottleCounter).delete({ resetsAt: LessThanOrEqual(new Date()) });
  }
}
