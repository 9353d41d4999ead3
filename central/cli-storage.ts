/**
 * The storage commands of `siem-central`: `lifecycle` runs the partition lifecycle once (the job
 * a running central runs hourly) and prints its report as JSON; `archive restore FILE` puts an
 * archived partition (its manifest, or the archive file beside it) back into `events`. Both open
 * the configured store directly; they may run while central is up (PostgreSQL) or, for the
 * embedded PGlite whose data directory one process owns, while it is stopped.
 */
import type { CentralConfig } from './config/schema.ts';
import { createCentralEvents } from './events.ts';
import { createLifecycleJob } from './lifecycle.ts';
import { createLogger } from './log.ts';
import { createCentralMetrics } from './metrics.ts';
import { createStore } from './store/index.ts';
import { restoreArchive } from './store/restore.ts';

export async function lifecycleCommand(config: CentralConfig): Promise<number> {
  const store = await createStore(config.storage);
  try {
    await store.init(new Date());
    const logger = createLogger('silent');
    const metrics = createCentralMetrics({ processMetrics: false });
    const job = createLifecycleJob({
      store,
      storage: config.storage,
      playbooks: config.playbooks,
      metrics,
      logger,
      centralEvents: createCentralEvents({ store, centralId: config.central.id, logger, metrics }),
    });
    const report = await job.run();
    if (!report) {
      process.stderr.write(
        'siem-central: lifecycle failed (see the metrics and logs of a running central)\n',
      );
      return 1;
    }
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return report.failed.length > 0 ? 1 : 0;
  } finally {
    await store.close();
  }
}

export async function restoreCommand(config: CentralConfig, file: string): Promise<number> {
  const store = await createStore(config.storage);
  try {
    await store.init(new Date());
    const result = await restoreArchive(store.sql, file);
    process.stdout.write(
      `restored ${result.manifest.partition}: ${result.rows} rows read, ${result.inserted} stored, ${result.rows - result.inserted} already present\n`,
    );
    return 0;
  } catch (error) {
    process.stderr.write(`siem-central: archive restore failed: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await store.close();
  }
}
