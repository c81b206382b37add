import { InitialSchema1763700000000 } from './1763700000000-initial-schema';
import { Accounts1763700100000 } from './1763700100000-accounts';
import { RelayDelivery1763700300000 } from './1763700300000-relay-delivery';

/** Every migration, oldest first. Add new ones at the end (name them <timestamp>-<what>.ts). */
export const migrations = [InitialSchema1763700000000, Accounts1763700100000, RelayDelivery1763700300000];
