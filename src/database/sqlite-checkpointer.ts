import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Worker } from 'node:worker_threads';
import { AppConfig } from '../config/app-config';
import { Database } from './database';

/** How often the checkpoint thread copies the WAL back into the database file. */
const CHECKPOINT_INTERVAL_MS = 200;
/** SQLite's own default: what the relay's connection goes back to if the thread stops. */
const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;
/** While the thread runs, the relay's connection checkpoints only if the WAL got this long anyway (about 80 MB). */
const FALLBACK_AUTOCHECKPOINT_PAGES = 20_000;

/**
 * The checkpoint thread's code. It opens the same file on a connection of its own and, every interval,
 * runs a PASSIVE checkpoint: it copies committed pages from the WAL into the database file and syncs
 * it, without blocking writers or readers on the relay's connection.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Sqlite = require(workerData.driver);
const db = new Sqlite(workerData.file);
db.pragma('busy_timeout = 1000');
db.pragma('synchronous = NORMAL');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (error) { parentPort.postMessage({ error: String(error && error.message || error) }); }
}, workerData.intervalMs);
parentPort.on('message', () => { clearInterval(timer); db.close(); parentPort.close(); });
`;

/**
 * SQLite in WAL mode copies the log back into the database file (a checkpoint, with an fsync) inside
 * whichever commit crosses 1,000 pages, on the thread that commits: the event loop that also answers
 * webhooks. Here a worker thread does it instead, and the relay's own connection only checkpoints
 * as a fallback when the log has grown very long (the thread fell behind or stopped).
 */
@Injectable()
export class SqliteCheckpointer implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('SqliteCheckpoint');
  private worker: Worker | null = null;
  private stopping = false;

  constructor(private readonly config: AppConfig, private readonly database: Database) {}

  onModuleInit(): void {
    if (this.config.database.kind !== 'sqlite') return;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driver: require.resolve('better-sqlite3'), file: this.config.database.file, intervalMs: CHECKPOINT_INTERVAL_MS },
    });
    worker.on('message', (message: { error?: string }) => {
      if (message.error) this.logger.warn(`A WAL checkpoint failed (the next one tries again): ${message.error}`);
    });
    worker.on('error', (error) => this.logger.error(`The checkpoint thread stopped: ${error.message}`));
    worker.on('exit', () => {
      this.worker = null;
      if (this.stopping) return;
      this.logger.warn('The checkpoint thread exited; the relay checkpoints the WAL itself again');
      this.autocheckpoint(DEFAULT_AUTOCHECKPOINT_PAGES);
    });
    // After the listeners: adding a 'message' listener refs the worker's port again. main.ts exits on a failed
    // start, but a process that keeps going after one (a test runner) then never ended.
    worker.unref();
    this.worker = worker;
    this.autocheckpoint(FALLBACK_AUTOCHECKPOINT_PAGES);
  }

  /** Whether the checkpoint thread is running (tests). */
  get running(): boolean {
    return this.worker !== null;
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.postMessage('stop');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
    if (this.worker) await worker.terminate();
  }

  private autocheckpoint(pages: number): void {
    if (this.database.dataSource.isInitialized) this.database.sqlitePragma(`wal_autocheckpoint = ${pages}`);
  }
}
