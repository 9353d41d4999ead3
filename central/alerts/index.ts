/**
 * Central's alerts: the service a running central holds (`raise` for detection and the API,
 * the queue store for analysts), built from the `alerts:` config. `raise` never throws on a
 * storage failure towards the detection engine's hot path without counting it: callers get the
 * error, and the metrics count every outcome.
 */
import { EventEmitter } from 'node:events';
import type { CentralMetrics } from '../metrics.ts';
import type { SqlClient, SqlExecutor } from '../store/sql-client.ts';
import { createAlertStore } from './alert-store.ts';
import { raiseAlert, raiseKey } from './raise.ts';
import type { AlertEnrichment } from '../../protocols/api/central.ts';
import type { Alert, AlertInput, RaiseResult } from './types.ts';

export { raiseAlert, raiseKey, type RaiseOptions } from './raise.ts';
export type * from './types.ts';

export interface AlertsOptions {
  sql: SqlClient;
  metrics: CentralMetrics;
  groupWindowSecs: number;
  now?: () => Date;
  /** Runs in the transaction of each new alert (the sinks' outbox). */
  onCreated?: (tx: SqlExecutor, alert: Alert) => Promise<void>;
  /** Called after a new alert committed (wakes the sinks). */
  onCommitted?: () => void;
  /**
   * The enrichment of what an alert names (central/enrich/alert.ts), looked up before each raise;
   * settable later since enrichment is built after the alerts. A failure raises the alert bare.
   */
  enrich?: (input: AlertInput) => Promise<AlertEnrichment | undefined>;
  /** Called after a new alert committed, with who raised it (response playbooks). */
  onRaised?: (alert: Alert, actor: string) => void;
}

/**
 * How long the keys of raises are kept (raise.ts): far longer than a new leader's replay (the
 * longest correlation timespan and a minute) or a restart's rebuild (the timespan).
 */
export const RAISE_KEY_HOURS = 24;
const PRUNE_EVERY_MS = 60 * 60 * 1000;

export function createAlerts(options: AlertsOptions) {
  const now = options.now ?? (() => new Date());
  const base = createAlertStore(options.sql, now);
  // Every new or changed alert, after commit, for live views (`alert` on GET /api/stream).
  const changes = new EventEmitter<{ alert: [Alert] }>();
  const emit = <T extends Alert | undefined>(alert: T): T => {
    if (alert) changes.emit('alert', alert);
    return alert;
  };
  const store: typeof base = {
    ...base,
    update: async (id, update, actor) => emit(await base.update(id, update, actor)),
    comment: async (id, body, author) => {
      const comment = await base.comment(id, body, author);
      if (comment) emit(await base.get(id));
      return comment;
    },
  };
  let enrich = options.enrich;
  let pruned = 0;
  /** Drops keys older than RAISE_KEY_HOURS, at most hourly; a failure waits for the next time. */
  const pruneKeys = (at: Date) => {
    if (at.getTime() - pruned < PRUNE_EVERY_MS) return;
    pruned = at.getTime();
    const before = new Date(at.getTime() - RAISE_KEY_HOURS * 3_600_000).toISOString();
    void options.sql
      .query('DELETE FROM alert_raise_keys WHERE at < $1::timestamptz', [before])
      .catch(() => options.metrics.errors.inc({ component: 'alerts', stage: 'processing', code: 'prune' }));
  };
  return {
    store,
    changes,
    /** Sets (or clears) the enrichment lookup of every later raise. */
    setEnricher(next: AlertsOptions['enrich']): void {
      enrich = next;
    },
    /**
     * Raises, groups or suppresses one alert (see raise.ts); `actor` is recorded in the history.
     * `once` (central's detection): the same content raised again by the same actor is `repeated`.
     */
    async raise(input: AlertInput, actor = 'central', { once = false } = {}): Promise<RaiseResult> {
      let enrichment: AlertEnrichment | undefined;
      try {
        enrichment = await enrich?.(input);
      } catch {
        options.metrics.errors.inc({ component: 'enrichment', stage: 'processing', code: 'alert' });
      }
      try {
        const result = await raiseAlert(options.sql, input, {
          ...(enrichment && { enrichment }),
          groupWindowMs: options.groupWindowSecs * 1000,
          now,
          actor,
          onCreated: options.onCreated,
          ...(once && { key: raiseKey(input, actor) }),
        });
        if (once) pruneKeys(now());
        options.metrics.alerts.inc({ outcome: result.outcome });
        if (result.outcome === 'created') {
          options.onCommitted?.();
          if (result.alert) options.onRaised?.(result.alert, actor);
        }
        emit(result.alert);
        return result;
      } catch (error) {
        options.metrics.alerts.inc({ outcome: 'error' });
        throw error;
      }
    },
  };
}

export type Alerts = ReturnType<typeof createAlerts>;
