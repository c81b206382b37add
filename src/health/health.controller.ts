import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Database } from '../database/database';
import { JobQueue } from '../queue/job-queue';

const CHECK_TIMEOUT_MS = 3000;

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly database: Database, private readonly queue: JobQueue) {}

  /** The process is up and its event loop turns. */
  @Get('live')
  @HttpCode(200)
  live() {
    return { status: 'ok' };
  }

  /** The database and the queue answer: send traffic here. 503 names what is down. */
  @Get('ready')
  async ready(@Res() response: Response): Promise<void> {
    const [database, queue] = await Promise.all([check(() => this.database.ping()), check(() => this.queue.ping())]);
    const ok = database === 'ok' && queue === 'ok';
    response.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', checks: { database, queue: { driver: this.queue.driverName, status: queue } } });
  }
}

async function check(probe: () => Promise<void>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('no answer within 3 s')), CHECK_TIMEOUT_MS); }),
    ]);
    return 'ok';
  } catch (error) {
    return `down: ${(error as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}
