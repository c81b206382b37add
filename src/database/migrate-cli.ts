import { loadConfig } from '../config/app-config';
import { createDataSource } from './data-source';
import { runMigrations } from './migrate';

/** `npm run migrate`: applies pending migrations to the configured database and exits. */
async function main(): Promise<void> {
  const config = loadConfig();
  const dataSource = createDataSource(config);
  await dataSource.initialize();
  const applied = await runMigrations(dataSource);
  await dataSource.destroy();
  console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Schema is up to date');
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
