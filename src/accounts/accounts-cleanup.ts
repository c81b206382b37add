import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { SessionStore } from './session.store';
import { Throttle } from './throttle';
import { VerificationCodes } from './verification-codes';

const INTERVAL_MS = 60 * 60_000;

/**
 * Deletes expired sessions, codes and throttle windows once an hour in each worker process. The
 * deletes are idempotent, so several workers doing it at once is harmless; expired rows are
 * already ignored by the lookups, this only keeps the tables small.
 */
@Injectable()
export class AccountsCleanup implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('AccountsCleanup');
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly config: AppConfig,
    private readonly sessions: SessionStore,
    private readonly codes: VerificationCodes,
    private readonly throttle: Throttle,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.runsWorkers) return;
    this.timer = setInterval(() => void this.run(), INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async run(): Promise<void> {
    try {
      await this.sessions.deleteExpired();
      await this.codes.deleteExpired();
      await this.throttle.deleteExpired();
    } catch (error) {
      this.logger.warn(`Removing expired sessions and codes failed: ${(error as Error).message}`);
    }
  }
}
