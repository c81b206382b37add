import { DataSource } from 'typeorm';

const LOCK_NAME = 'relay_schema_migrations';

/**
 * Runs pending migrations. On MySQL several relay processes may boot at once, and MySQL DDL is
 * not transactional, so a named lock makes them take turns; SQLite has a single writer anyway.
 * Returns the names of the migrations applied.
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  if (dataSource.options.type !== 'mysql') {
    return (await dataSource.runMigrations({ transaction: 'each' })).map((m) => m.name);
  }
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    const [row] = await runner.query('SELECT GET_LOCK(?, 120) AS locked', [LOCK_NAME]);
    if (Number(row.locked) !== 1) throw new Error('Timed out waiting for another process to finish migrations');
    try {
      return (await dataSource.runMigrations({ transaction: 'none' })).map((m) => m.name);
    } finally {
      await runner.query('SELECT RELEASE_LOCK(?)', [LOCK_NAME]);
    }
  } finally {
    await runner.release();
  }
}
