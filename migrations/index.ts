import { InitialSchema1763700000000 } from './1763700000000-initial-schema';

/** Every migration, oldest first. Add new ones at the end (name them <timestamp>-<what>.ts). */
export const migrations = [InitialSchema1763700000000];
