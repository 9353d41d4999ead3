/**
 * The partition lifecycle job of a running central: runs `runLifecycle` (partitions ahead,
 * retention with optional archive, DEFAULT partition count) and the playbook tables' retention
 * (playbooks/retention.ts) once at start and then hourly, never two runs at once. It reports what it finds: the DEFAULT partition's row count as a
 * metric and, above `storage.default_partition_max_rows` and growing, a
 * `central.default_partition_rows` health event; every failure is logged and counted.
 */
import type { Logger } from 'pino';
import type { CentralConfig } from './config/schema.ts';
import type { CentralEvents } from './events.ts';
import type { CentralMetrics } from './metrics.ts';
import { prunePlaybookRows, type PrunedPlaybookRows } from './playbooks/retention.ts';
import { type LifecycleReport, runLifecycle } from './store/lifecycle.ts';
import type { RetentionPolicy } from './store/retention.ts';
import type { RowRetentionPolicy } from './store/retention-rows.ts';
import type { EventStore } from './store/types.ts';

export const LIFECYCLE_INTERVAL_MS = 60 * 60 * 1000;

export function retentionPolicy(storage: CentralConfig['storage']): RetentionPolicy & RowRetentionPolicy {
  const archive = storage.retention?.archive;
  return {
    eventsDays: storage.retention?.events_days ?? 0,
    alertsDays: storage.retention?.alerts_days ?? 0,
    outboxDays: storage.retention?.outbox_days ?? 7,
    auditDays: storage.retention?.audit_days ?? 365,
    ...(archive && { archive: { dir: archive.dir, format: archive.format } }),
  };
}

/** One run's report: the partition lifecycle's, with the playbook rows pruned counted in `pruned`. */
export type CentralLifecycleReport = LifecycleReport & {
  pruned: LifecycleReport['pruned'] & PrunedPlaybookRows;
};

export interface LifecycleJobOptions {
  store: EventStore;
  storage: CentralConfig['storage'];
  /** The `playbooks:` block: how long playbook runs and audit rows are kept (none pruned without it). */
  playbooks?: CentralConfig['playbooks'];
  metrics: CentralMetrics;
  centralEvents: CentralEvents;
  logger: Logger;
  now?: () => Date;
}

export function createLifecycleJob(options: LifecycleJobOptions) {
  const { store, metrics, centralEvents, logger } = options;
  const now = options.now ?? (() => new Date());
  const policy = retentionPolicy(options.storage);
  const maxDefaultRows = options.storage.default_partition_max_rows ?? 0;
  let lastReportedDefault = maxDefaultRows;
  let running: Promise<CentralLifecycleReport | undefined> | undefined;
  let timer: NodeJS.Timeout | undefined;

  async function once(): Promise<CentralLifecycleReport | undefined> {
    let report: CentralLifecycleReport;
    try {
      const at = now();
      const partitions = await runLifecycle(store, policy, at);
      const playbooks = options.playbooks
        ? await prunePlaybookRows(store.sql, options.playbooks.retention, at)
        : { playbookRuns: 0, playbookAudit: 0 };
      report = { ...partitions, pruned: { ...partitions.pruned, ...playbooks } };
    } catch (error) {
      metrics.errors.inc({ component: 'store', stage: 'processing', code: 'lifecycle' });
      logger.error({ err: (error as Error).message }, 'partition lifecycle failed');
      return undefined;
    }
    for (const d of report.dropped) {
      metrics.partitionsDropped.inc({ archived: d.manifest ? 'yes' : 'no' });
      logger.info({ partition: d.name, rows: d.rows, archive: d.manifest?.file }, 'partition dropped');
    }
    const { alerts, outbox, audit, playbookRuns, playbookAudit } = report.pruned;
    if (alerts + outbox + audit > 0)
      logger.info({ alerts, outbox, audit }, 'closed alerts, finished outbox rows and old audit rows pruned');
    if (playbookRuns + playbookAudit > 0)
      logger.info({ playbookRuns, playbookAudit }, 'old playbook runs and audit rows pruned');
    for (const f of report.failed) {
      metrics.errors.inc({ component: 'store', stage: 'processing', code: 'retention' });
      logger.error({ partition: f.name, err: f.error }, 'could not archive or drop an expired partition');
    }
    metrics.defaultPartitionRows.set(report.defaultRows);
    // Reported when above the threshold and more than last reported, so an hourly job does not
    // repeat the same finding all day; a drop back below re-arms it.
    if (report.defaultRows > lastReportedDefault) {
      await centralEvents.raise({
        kind: 'health',
        action: 'central.default_partition_rows',
        severity: 4,
        message: `${report.defaultRows} events are stored outside every daily partition (events_default): their timestamps are outside the partition window`,
        fields: { rows: report.defaultRows, max_rows: maxDefaultRows },
      });
      lastReportedDefault = report.defaultRows;
    } else if (report.defaultRows <= maxDefaultRows) {
      lastReportedDefault = maxDefaultRows;
    }
    return report;
  }

  return {
    /** One run now (waits for a run already under way instead of starting a second). */
    run(): Promise<CentralLifecycleReport | undefined> {
      running ??= once().finally(() => {
        running = undefined;
      });
      return running;
    },
    start() {
      void this.run();
      timer = setInterval(() => void this.run(), LIFECYCLE_INTERVAL_MS);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}

export type LifecycleJob = ReturnType<typeof createLifecycleJob>;
