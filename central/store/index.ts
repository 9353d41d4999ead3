/**
 * Central's event storage: the factory choosing an adapter from config, and the public surface
 * of this folder (the `EventStore` contract, the typed errors, the adapter factories).
 */
import { type StoreConfig, storeConfigSchema } from './config.ts';
import { createPgliteStore } from './pglite.ts';
import { createPostgresStore, type PostgresStoreOptions } from './postgres.ts';
import { DEFAULT_FLAG_CLOCK_SKEW_SECS } from './clock-skew.ts';
import type { SqlStoreOptions } from './sql-store.ts';
import type { EventStore, PartitionPolicy } from './types.ts';

export { type StoreConfig, storeConfigSchema } from './config.ts';
export { InvalidCursorError, InvalidQueryError, RowsHeldError } from './errors.ts';
export { MAX_LIMIT } from './event-query.ts';
export { DEFAULT_PARTITION_POLICY } from './partitions.ts';
export { createPgliteStore, type PgliteStoreOptions } from './pglite.ts';
export { createPostgresStore, type PostgresStoreOptions } from './postgres.ts';
export type { SqlStoreOptions } from './sql-store.ts';
export type * from './types.ts';
export { TOP_FIELDS } from './types.ts';

/** Opens the configured store; call `init(now)` on it before use. */
export async function createStore(
  config: StoreConfig,
  options: Pick<SqlStoreOptions, 'clock' | 'onInserted'> &
    Pick<PostgresStoreOptions, 'onWarning' | 'onHostSwitch'> = {},
): Promise<EventStore> {
  const parsed = storeConfigSchema.parse(config);
  const partitions: PartitionPolicy | undefined = parsed.partitions && {
    pastDays: parsed.partitions.past_days,
    aheadDays: parsed.partitions.ahead_days,
  };
  const common = {
    ...options,
    ...(partitions && { partitions }),
    clockSkewMs: (parsed.flag_clock_skew_secs ?? DEFAULT_FLAG_CLOCK_SKEW_SECS) * 1000,
  };
  if (parsed.type === 'pglite') return createPgliteStore({ ...common, dataDir: parsed.data_dir });
  return createPostgresStore({
    ...common,
    connectionString: parsed.url,
    poolMax: parsed.pool_max,
    lockWaitMs: Math.round(parsed.lock_wait_secs * 1000),
    stalledSessionMs: Math.round(parsed.stalled_session_secs * 1000),
  });
}
