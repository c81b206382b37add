import { existsSync } from 'node:fs';
import { testMysqlSocket } from './backends';

/** Says once, plainly, which optional backends this run covers and which suites are skipped. */
export default async function globalSetup(): Promise<void> {
  const lines = [
    process.env.TEST_DATABASE_URL
      ? `MySQL/MariaDB: ${redactUrl(process.env.TEST_DATABASE_URL)} (integration suites run on it too)`
      : 'MySQL/MariaDB: TEST_DATABASE_URL not set, suites run on SQLite only (MySQL variants skipped)',
    process.env.TEST_REDIS_URL
      ? `Redis: ${redactUrl(process.env.TEST_REDIS_URL)} (integration suites run on BullMQ too)`
      : 'Redis: TEST_REDIS_URL not set, suites run on the in-process queue only (BullMQ variants skipped)',
    existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium')
      ? 'Chromium: found, browser tests run'
      : 'Chromium: not found at /usr/bin/chromium, browser tests skipped',
  ];
  const socket = testMysqlSocket();
  if (process.env.TEST_DATABASE_URL) {
    lines.push(existsSync(socket) ? `MySQL socket: ${socket} (the socket suite runs)` : `MySQL socket: none at ${socket} (TEST_MYSQL_SOCKET names another), the socket suite skipped`);
  }
  process.stdout.write(`\n[test backends]\n  ${lines.join('\n  ')}\n\n`);
  if (process.env.REQUIRE_TEST_BACKENDS) {
    const missing = [
      !process.env.TEST_DATABASE_URL && 'TEST_DATABASE_URL',
      !process.env.TEST_REDIS_URL && 'TEST_REDIS_URL',
      !existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium') && 'Chromium',
      !existsSync(socket) && `the MySQL socket (${socket})`,
    ].filter(Boolean);
    if (missing.length) throw new Error(`REQUIRE_TEST_BACKENDS is set but ${missing.join(', ')} missing: CI runs every suite`);
  }
}

function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(unparseable URL)';
  }
}
