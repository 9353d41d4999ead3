/**
 * Central's incidents (issue 21): alerts that share an attacker within `alerts.incident_window_secs`
 * fold into one incident (grouping.ts says how, store.ts keeps them). `onAlertCreated` runs in the
 * transaction of each new alert and says whether the sinks should forward it: with
 * `incident_notify: incident`, only the alert that opens an incident (or one without an attacker)
 * is forwarded, so a brute force with rotating identities is one notification, not seventeen.
 */
import { EventEmitter } from 'node:events';
import type { Alert } from '../alerts/types.ts';
import type { SqlClient, SqlExecutor } from '../store/sql-client.ts';
import { createIncidentStore, type FoldResult, type Incident } from './store.ts';

export type * from './store.ts';

export interface IncidentsOptions {
  sql: SqlClient;
  windowSecs: number;
  notify: 'alert' | 'incident';
  now?: () => Date;
}

export function createIncidents(options: IncidentsOptions) {
  const base = createIncidentStore(options.sql, options.now);
  // Every incident an analyst changed, after commit, for live views.
  const changes = new EventEmitter<{ incident: [Incident] }>();
  const emit = <T extends Incident | undefined>(incident: T): T => {
    if (incident) changes.emit('incident', incident);
    return incident;
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
  return {
    store,
    changes,
    /** Folds a new alert into its incident in `tx`; true when the sinks should forward the alert. */
    async onAlertCreated(tx: SqlExecutor, alert: Alert): Promise<{ forward: boolean; folded?: FoldResult }> {
      if (options.windowSecs <= 0) return { forward: true };
      const folded = await base.fold(tx, alert, options.windowSecs * 1000);
      return { forward: options.notify === 'alert' || !folded || folded.opened, folded };
    },
  };
}

export type Incidents = ReturnType<typeof createIncidents>;
