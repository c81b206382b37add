/**
 * The storage/queue combinations integration suites run on: the embedded defaults always, and
 * MySQL/MariaDB + BullMQ when TEST_DATABASE_URL and TEST_REDIS_URL are set (CI sets both).
 * Usage: describe.each(backends())('thing on %s', (backend) => { ... startTestApp({ backend }) ... })
 */
export interface Backend {
  name: string;
  databaseUrl?: string;
  redisUrl?: string;
  toString(): string;
}

export function backends(): Backend[] {
  const list: Backend[] = [named({ name: 'sqlite+in-process' })];
  const databaseUrl = process.env.TEST_DATABASE_URL;
  const redisUrl = process.env.TEST_REDIS_URL;
  if (databaseUrl && redisUrl) list.push(named({ name: 'mysql+bullmq', databaseUrl, redisUrl }));
  return list;
}

export function mysqlBackendAvailable(): boolean {
  return Boolean(process.env.TEST_DATABASE_URL);
}

/** The MySQL/MariaDB server's Unix socket for the socket suite (Debian's and CI's path); TEST_MYSQL_SOCKET names another. */
export function testMysqlSocket(): string {
  return process.env.TEST_MYSQL_SOCKET ?? '/run/mysqld/mysqld.sock';
}

export function redisBackendAvailable(): boolean {
  return Boolean(process.env.TEST_REDIS_URL);
}

function named(backend: Omit<Backend, 'toString'>): Backend {
  return { ...backend, toString: () => backend.name };
}
