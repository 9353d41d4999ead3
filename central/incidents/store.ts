/**
 * Incidents in SQL: `fold` puts a newly created alert into its attacker's incident (called in the
 * alert's own transaction, so an alert and its incident commit together), and the lifecycle an
 * analyst works with (list, one incident with its child alerts, comments and history, status and
 * assignee changes, comments, the timeline). Each change writes its history row in the same
 * transaction: who, when, from what to what. An unchanged value is no change.
 */
import type { Alert, AlertStatus } from '../alerts/types.ts';
import { ALERT_COLUMNS, toAlert, utcColumn } from '../alerts/rows.ts';
import type { SqlClient, SqlExecutor } from '../store/sql-client.ts';
import { commentCase, INCIDENT_TABLES, updateCase, writeHistory } from '../alerts/triage.ts';
import {
  type Attacker,
  type AttackerEvidence,
  attackerOf,
  decide,
  MAX_CANDIDATES,
  MAX_EVIDENCE_EVENTS,
} from './grouping.ts';

export const MAX_INCIDENT_PAGE = 500;
/** The timeline lists at most this many triggering events of the children. */
export const MAX_TIMELINE_EVENTS = 500;

export interface Incident {
  id: number;
  attacker_kind: Attacker['kind'];
  attacker: string;
  title: string;
  severity: number;
  alert_count: number;
  first_seen: string;
  last_seen: string;
  status: AlertStatus;
  assignee: string | null;
  created_at: string;
  updated_at: string;
}

export interface IncidentHistoryEntry {
  at: string;
  actor: string;
  change: 'opened' | 'alert' | 'merged' | 'status' | 'assignee' | 'comment';
  from: string | null;
  to: string | null;
}

export interface IncidentComment {
  id: number;
  author: string;
  body: string;
  created_at: string;
}

export interface IncidentDetail extends Incident {
  alerts: Alert[];
  comments: IncidentComment[];
  history: IncidentHistoryEntry[];
}

export interface TimelineEntry {
  at: string;
  kind: 'alert' | 'event';
  alert_id: number;
  /** The alert's rule title, or the event's message. */
  text: string;
  severity: number;
  event_id?: string;
  action?: string;
  src_ip?: string | null;
}

export interface FoldResult {
  incident: Incident;
  opened: boolean;
}

const INCIDENT_COLUMNS = `id, attacker_kind, attacker, title, severity, alert_count, ${utcColumn('first_seen')},
  ${utcColumn('last_seen')}, status, assignee, ${utcColumn('created_at')}, ${utcColumn('updated_at')}`;

const toIncident = (row: Record<string, unknown>): Incident => ({
  ...(row as unknown as Incident),
  id: Number(row.id),
  alert_count: Number(row.alert_count),
});

/** `<gateway>:<seq>` → its parts (a gateway name may itself hold a colon). */
function splitEventId(id: string): { gateway: string; seq: string } | undefined {
  const at = id.lastIndexOf(':');
  if (at <= 0) return undefined;
  const seq = id.slice(at + 1);
  return /^\d{1,18}$/.test(seq) ? { gateway: id.slice(0, at), seq } : undefined;
}

/** The triggering events of `ids` (at most `limit`) with the columns `select` names. */
async function eventsOf<T extends object>(
  db: SqlExecutor,
  ids: readonly string[],
  select: string,
  limit: number,
): Promise<T[]> {
  const parts = ids
    .slice(0, limit)
    .map(splitEventId)
    .filter((p) => p !== undefined);
  if (parts.length === 0) return [];
  const { rows } = await db.query<T>(
    `SELECT ${select} FROM events e
       JOIN unnest($1::text[], $2::bigint[]) AS k (gateway, seq) ON e.gateway = k.gateway AND e.seq = k.seq`,
    [parts.map((p) => p.gateway), parts.map((p) => p.seq)],
  );
  return rows;
}

export function createIncidentStore(db: SqlClient, now: () => Date = () => new Date()) {
  async function get(id: number): Promise<IncidentDetail | undefined> {
    const { rows } = await db.query(`SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE id = $1`, [id]);
    if (!rows[0]) return undefined;
    const alerts = await db.query(
      `SELECT ${ALERT_COLUMNS} FROM alerts WHERE id IN (SELECT alert_id FROM incident_alerts WHERE incident_id = $1)
        ORDER BY first_seen, id`,
      [id],
    );
    const comments = await db.query<IncidentComment>(
      `SELECT id, author, body, ${utcColumn('created_at')} FROM incident_comments WHERE incident_id = $1 ORDER BY id`,
      [id],
    );
    const history = await db.query<IncidentHistoryEntry>(
      `SELECT ${utcColumn('at')}, actor, change, from_value AS "from", to_value AS "to"
         FROM incident_history WHERE incident_id = $1 ORDER BY id`,
      [id],
    );
    return {
      ...toIncident(rows[0]),
      alerts: alerts.rows.map(toAlert),
      comments: comments.rows.map((c) => ({ ...c, id: Number(c.id) })),
      history: history.rows,
    };
  }

  const history = (
    tx: SqlExecutor,
    incident: number,
    at: string,
    actor: string,
    change: IncidentHistoryEntry['change'],
    from: string | null,
    to: string | null,
  ) => writeHistory(tx, INCIDENT_TABLES, { id: incident, at, actor, change, from, to });

  return {
    get,

    /**
     * Folds a newly created alert into the incident of its attacker (within `windowMs`), opening
     * one when none is open; undefined when the alert's events name no attacker. Runs in `tx`.
     */
    async fold(tx: SqlExecutor, alert: Alert, windowMs: number): Promise<FoldResult | undefined> {
      const evidence = await eventsOf<AttackerEvidence>(
        tx,
        alert.event_ids,
        `e.src_ip, coalesce(e.fields->>'username', e.fields->>'user', e.fields->>'user_name') AS "user"`,
        MAX_EVIDENCE_EVENTS,
      );
      const attacker = attackerOf(evidence);
      if (!attacker) return undefined;
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1)::bigint)', [
        `incident|${attacker.kind}|${attacker.value}`,
      ]);
      const atMs = Date.parse(alert.first_seen);
      const at = alert.first_seen;
      const { rows: spans } = await tx.query<{
        id: string | number;
        first_seen: Date | string;
        last_seen: Date | string;
      }>(
        `SELECT id, first_seen, last_seen FROM incidents
          WHERE attacker_kind = $1 AND attacker = $2 AND status IN ('new', 'acknowledged')
            AND first_seen <= $3::timestamptz AND last_seen >= $4::timestamptz
          ORDER BY id LIMIT ${MAX_CANDIDATES} FOR UPDATE`,
        [
          attacker.kind,
          attacker.value,
          new Date(atMs + windowMs).toISOString(),
          new Date(atMs - windowMs).toISOString(),
        ],
      );
      const decision = decide(
        spans.map((s) => ({
          id: Number(s.id),
          firstMs: new Date(s.first_seen).getTime(),
          lastMs: new Date(s.last_seen).getTime(),
        })),
        atMs,
        windowMs,
      );
      const stamp = now().toISOString();
      let incidentId: number;
      if (decision.kind === 'open') {
        const { rows } = await tx.query<{ id: string | number }>(
          `INSERT INTO incidents (attacker_kind, attacker, title, severity, alert_count, first_seen, last_seen,
                  created_at, updated_at)
           VALUES ($1, $2, $3, $4, 0, $5::timestamptz, $5::timestamptz, $6::timestamptz, $6::timestamptz) RETURNING id`,
          [
            attacker.kind,
            attacker.value,
            `${alert.rule_title} from ${attacker.value}`,
            alert.severity,
            at,
            stamp,
          ],
        );
        incidentId = Number(rows[0]!.id);
        await history(tx, incidentId, stamp, 'central', 'opened', null, 'new');
      } else {
        incidentId = decision.target;
        for (const other of decision.absorb) {
          // Children of an incident the hit bridges move here; the emptied one goes away.
          await tx.query('UPDATE incident_alerts SET incident_id = $1 WHERE incident_id = $2', [
            incidentId,
            other,
          ]);
          await tx.query(
            `UPDATE incidents t SET first_seen = least(t.first_seen, o.first_seen),
                    last_seen = greatest(t.last_seen, o.last_seen), severity = least(t.severity, o.severity),
                    alert_count = t.alert_count + o.alert_count
               FROM incidents o WHERE t.id = $1 AND o.id = $2`,
            [incidentId, other],
          );
          await tx.query('DELETE FROM incidents WHERE id = $1', [other]);
          await history(tx, incidentId, stamp, 'central', 'merged', String(other), null);
        }
      }
      await tx.query(
        'INSERT INTO incident_alerts (alert_id, incident_id, added_at) VALUES ($1, $2, $3::timestamptz)',
        [alert.id, incidentId, stamp],
      );
      const { rows } = await tx.query(
        `UPDATE incidents SET alert_count = alert_count + 1, first_seen = least(first_seen, $2::timestamptz),
                last_seen = greatest(last_seen, $3::timestamptz), severity = least(severity, $4), updated_at = $5::timestamptz
          WHERE id = $1 RETURNING ${INCIDENT_COLUMNS}`,
        [incidentId, at, alert.last_seen, alert.severity, stamp],
      );
      await history(tx, incidentId, stamp, 'central', 'alert', null, String(alert.id));
      return { incident: toIncident(rows[0]!), opened: decision.kind === 'open' };
    },

    async list(query: {
      status?: AlertStatus;
      attacker?: string;
      assignee?: string;
      beforeId?: number;
      limit: number;
    }): Promise<{ incidents: Incident[]; next_before_id: number | null }> {
      const where: string[] = [];
      const params: unknown[] = [];
      const p = (v: unknown) => {
        params.push(v);
        return `$${params.length}`;
      };
      if (query.status) where.push(`status = ${p(query.status)}`);
      if (query.attacker) where.push(`attacker = ${p(query.attacker)}`);
      if (query.assignee) where.push(`assignee = ${p(query.assignee)}`);
      if (query.beforeId !== undefined) where.push(`id < ${p(query.beforeId)}`);
      const limit = Math.min(MAX_INCIDENT_PAGE, Math.max(1, query.limit));
      const { rows } = await db.query(
        `SELECT ${INCIDENT_COLUMNS} FROM incidents ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
          ORDER BY id DESC LIMIT ${p(limit + 1)}`,
        params,
      );
      const incidents = rows.slice(0, limit).map(toIncident);
      return { incidents, next_before_id: rows.length > limit ? incidents[incidents.length - 1]!.id : null };
    },

    /** Applies the changes that differ; returns the incident after, or undefined when it does not exist. */
    async update(
      id: number,
      changes: { status?: AlertStatus; assignee?: string | null },
      actor: string,
    ): Promise<IncidentDetail | undefined> {
      const found = await updateCase(db, INCIDENT_TABLES, id, changes, actor, now().toISOString());
      return found ? get(id) : undefined;
    },

    comment(id: number, body: string, author: string): Promise<IncidentComment | undefined> {
      return commentCase(db, INCIDENT_TABLES, id, body, author, now().toISOString());
    },

    /** The children and their triggering events, in time order (oldest first). */
    async timeline(id: number): Promise<TimelineEntry[] | undefined> {
      const incident = await get(id);
      if (!incident) return undefined;
      const entries: TimelineEntry[] = [];
      const owner = new Map<string, number>();
      for (const alert of incident.alerts) {
        entries.push({
          at: alert.first_seen,
          kind: 'alert',
          alert_id: alert.id,
          text: alert.rule_title,
          severity: alert.severity,
        });
        for (const e of alert.event_ids) if (!owner.has(e)) owner.set(e, alert.id);
      }
      const events = await eventsOf<{
        id: string;
        ts: string;
        action: string;
        message: string;
        severity: number;
        src_ip: string | null;
      }>(
        db,
        [...owner.keys()],
        `e.id, to_char(e.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ts, e.action, e.message,
          e.severity, e.src_ip`,
        MAX_TIMELINE_EVENTS,
      );
      for (const e of events)
        entries.push({
          at: e.ts,
          kind: 'event',
          alert_id: owner.get(e.id) ?? 0,
          text: e.message,
          severity: Number(e.severity),
          event_id: e.id,
          action: e.action,
          src_ip: e.src_ip,
        });
      // Events before the alert they triggered at the same instant.
      return entries.sort(
        (a, b) => a.at.localeCompare(b.at) || (a.kind === b.kind ? 0 : a.kind === 'event' ? -1 : 1),
      );
    },
  };
}

export type IncidentStore = ReturnType<typeof createIncidentStore>;
