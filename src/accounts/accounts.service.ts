import { Injectable, Logger } from '@nestjs/common';
import * as argon2 from 'argon2';
import { DataSource } from 'typeorm';
import { RelayHttpError } from '../common/errors/http-errors';
import { newId } from '../common/ids';
import { Database } from '../database/database';
import { MailError, MailService } from '../mail/mail.service';
import { AppConfig } from '../config/app-config';
import { CODE_MAX_TRIES, CodeCheck, VerificationCodes } from './verification-codes';
import { assertGoodPassword } from './password-policy';
import { SessionStore } from './session.store';
import { Tenant } from './tenant.entity';
import { TenantLifecycle } from './tenant-lifecycle';
import { THROTTLE, Throttle, ThrottleRule } from './throttle';

export const MESSAGES = {
  registered: 'Check your e-mail: we sent a 6-digit code to activate the account. It is valid for 15 minutes.',
  codeSent: 'If an account waiting for activation uses this address, a new 6-digit code is on its way. It is valid for 15 minutes.',
  activated: 'Your account is active. You can log in now.',
  resetSent: 'If an account uses this address, a 6-digit code to reset the password is on its way. It is valid for 15 minutes.',
  passwordReset: 'Your password was changed. Log in with the new password.',
};

/** Used to spend the same time on unknown addresses as on known ones, so timing reveals no accounts. */
const DUMMY_HASH_PASSWORD = 'not-a-password-of-anyone';

@Injectable()
export class AccountsService {
  private readonly logger = new Logger('Accounts');
  private dummyHash?: Promise<string>;

  constructor(
    private readonly database: Database,
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly mail: MailService,
    private readonly codes: VerificationCodes,
    private readonly sessions: SessionStore,
    private readonly throttle: Throttle,
    private readonly lifecycle: TenantLifecycle,
  ) {}

  /** The same answer whether or not the address is taken; the mailbox owner learns which by e-mail. */
  async register(email: string, password: string, ip: string): Promise<void> {
    await this.limit([THROTTLE.registerIp, ip], [THROTTLE.registerAddress, email]);
    assertGoodPassword(password, email);
    const passwordHash = await argon2.hash(password);
    const existing = await this.findTenant(email);
    if (existing?.status === 'active') {
      await this.sendMail(email, 'You already have an Open Channel Relay account', [
        'Someone (maybe you) tried to sign up for the Open Channel Relay with this e-mail address, which already has an account.',
        '', `If it was you, log in at ${this.config.publicUrl}/ , or use "Forgot password" there if you no longer know the password.`,
        'If it was not you, you can ignore this e-mail; nothing was changed.',
      ]);
      return;
    }
    let tenantId = existing?.id;
    const now = new Date();
    if (existing) {
      // The newest sign-up's password counts; only the mailbox owner can activate it.
      await this.database.repo(Tenant).update({ id: existing.id }, { passwordHash, updatedAt: now });
    } else {
      tenantId = newId();
      try {
        await this.database.repo(Tenant).insert({ id: tenantId, email, passwordHash, status: 'pending', createdAt: now, updatedAt: now });
      } catch (error) {
        const raced = await this.findTenant(email);
        if (!raced) throw error;
        return; // a parallel sign-up for the same address won; its mail is on the way
      }
    }
    await this.sendActivationCode(tenantId!, email);
  }

  async resendActivationCode(email: string, ip: string): Promise<void> {
    await this.limit([THROTTLE.resendIp, ip], [THROTTLE.resendAddress, email]);
    const tenant = await this.findTenant(email);
    if (tenant?.status === 'pending') await this.sendActivationCode(tenant.id, email);
  }

  async activate(email: string, code: string, ip: string): Promise<void> {
    await this.limit([THROTTLE.activateIp, ip], [THROTTLE.activateAddress, email]);
    const tenant = await this.findTenant(email);
    const result: CodeCheck = tenant?.status === 'pending' ? await this.codes.check(tenant.id, 'activate', code) : 'invalid';
    if (result !== 'ok') throw codeError(result);
    await this.database.repo(Tenant).update({ id: tenant!.id }, { status: 'active', updatedAt: new Date() });
  }

  /** Returns the new session's cookie values. */
  async login(email: string, password: string, ip: string): Promise<{ tenant: { id: string; email: string }; token: string; csrf: string }> {
    await this.limit([THROTTLE.loginIp, ip], [THROTTLE.loginAddress, email]);
    const tenant = await this.findTenant(email);
    if (!(await this.passwordMatches(tenant, password))) {
      throw new RelayHttpError(401, 'invalid_credentials', 'The e-mail address or the password is wrong.');
    }
    if (tenant!.status !== 'active') {
      throw new RelayHttpError(403, 'not_activated', 'This account is not activated yet. Enter the 6-digit code we e-mailed you, or ask for a new code.');
    }
    const { token, csrf } = await this.sessions.create(tenant!.id);
    return { tenant: { id: tenant!.id, email: tenant!.email }, token, csrf };
  }

  async requestPasswordReset(email: string, ip: string): Promise<void> {
    await this.limit([THROTTLE.forgotIp, ip], [THROTTLE.forgotAddress, email]);
    const tenant = await this.findTenant(email);
    if (!tenant) return;
    const code = await this.codes.issue(tenant.id, 'reset');
    await this.sendMail(email, 'Your Open Channel Relay password reset code', [
      `Your code to choose a new password for the Open Channel Relay is: ${code}`,
      '', `It is valid for 15 minutes and for ${CODE_MAX_TRIES} tries.`,
      'If you did not ask for it, ignore this e-mail: your password stays as it is.',
    ]);
  }

  /** A correct code proves the mailbox, so a pending account becomes active too. Every session ends. */
  async resetPassword(email: string, code: string, password: string, ip: string): Promise<void> {
    await this.limit([THROTTLE.resetIp, ip], [THROTTLE.resetAddress, email]);
    assertGoodPassword(password, email);
    const tenant = await this.findTenant(email);
    const result: CodeCheck = tenant ? await this.codes.check(tenant.id, 'reset', code) : 'invalid';
    if (result !== 'ok') throw codeError(result);
    const passwordHash = await argon2.hash(password);
    await this.database.repo(Tenant).update({ id: tenant!.id }, { passwordHash, status: 'active', updatedAt: new Date() });
    await this.codes.discard(tenant!.id, 'activate');
    await this.sessions.deleteAllFor(tenant!.id);
  }

  /** Other sessions end; the one making the change stays logged in. */
  async changePassword(tenantId: string, sessionId: string, currentPassword: string, newPassword: string): Promise<void> {
    const tenant = await this.confirmPassword(tenantId, currentPassword, 'currentPassword');
    assertGoodPassword(newPassword, tenant.email);
    await this.database.repo(Tenant).update({ id: tenantId }, { passwordHash: await argon2.hash(newPassword), updatedAt: new Date() });
    await this.sessions.deleteAllFor(tenantId, sessionId);
  }

  /**
   * Runs the features' clean-up (integrations unsubscribe their pages), then removes every row the
   * tenant owns in any table with a tenant_id, and the tenant.
   */
  async deleteAccount(tenantId: string, password: string): Promise<void> {
    await this.confirmPassword(tenantId, password, 'password');
    await this.lifecycle.runTenantDeleted(tenantId);
    const owned = this.dataSource.entityMetadatas.filter((meta) => meta.target !== Tenant && meta.findColumnWithPropertyName('tenantId'));
    await this.database.transaction(async (manager) => {
      for (const meta of owned) await manager.delete(meta.target, { tenantId });
      await manager.delete(Tenant, { id: tenantId });
    });
    this.logger.log(`Tenant ${tenantId} deleted their account`);
  }

  private async confirmPassword(tenantId: string, password: string, field: string): Promise<Tenant> {
    const tenant = await this.database.repo(Tenant).findOneByOrFail({ id: tenantId });
    await this.throttle.hit(THROTTLE.loginAddress, tenant.email);
    if (!(await this.passwordMatches(tenant, password))) {
      throw new RelayHttpError(400, 'wrong_password', `The ${field === 'password' ? 'password' : 'current password'} is wrong.`);
    }
    return tenant;
  }

  private async passwordMatches(tenant: Tenant | null, password: string): Promise<boolean> {
    if (!tenant) {
      this.dummyHash ??= argon2.hash(DUMMY_HASH_PASSWORD);
      await argon2.verify(await this.dummyHash, password).catch(() => false);
      return false;
    }
    return argon2.verify(tenant.passwordHash, password).catch(() => false);
  }

  private async sendActivationCode(tenantId: string, email: string): Promise<void> {
    const code = await this.codes.issue(tenantId, 'activate');
    await this.sendMail(email, 'Your Open Channel Relay activation code', [
      `Welcome to the Open Channel Relay. Your activation code is: ${code}`,
      '', `Enter it on the activation page (${this.config.publicUrl}/#/activate). It is valid for 15 minutes and for ${CODE_MAX_TRIES} tries.`,
      'If you did not sign up, ignore this e-mail: the account stays inactive.',
    ]);
  }

  private async sendMail(to: string, subject: string, lines: string[]): Promise<void> {
    try {
      await this.mail.send({ to, subject, text: lines.join('\n') + '\n' });
    } catch (error) {
      if (error instanceof MailError) {
        throw new RelayHttpError(503, 'mail_unavailable', 'The relay could not send the e-mail right now. Try again in a few minutes.');
      }
      throw error;
    }
  }

  private findTenant(email: string): Promise<Tenant | null> {
    return this.database.repo(Tenant).findOneBy({ email });
  }

  private async limit(...checks: Array<[ThrottleRule, string]>): Promise<void> {
    for (const [rule, subject] of checks) await this.throttle.hit(rule, subject);
  }
}

function codeError(result: CodeCheck): RelayHttpError {
  return result === 'exhausted'
    ? new RelayHttpError(400, 'code_exhausted', `That code was entered wrongly ${CODE_MAX_TRIES} times and no longer works. Ask for a new code.`)
    : new RelayHttpError(400, 'invalid_code', 'That code is not valid. Codes work for 15 minutes and only the newest one counts; ask for a new code if needed.');
}
