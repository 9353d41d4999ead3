/**
 * Working the alert queue: list and read alerts (with comments and history), change status and
 * assignee, comment, find what is related (events and other alerts on the same device or host),
 * and manage suppression windows. Each change writes its history row in the same transaction:
 * who (the API token's name or a user), when, from what to what. An unchanged value is no change.
 */
import { EVENT_COLUMNS_FOR_RELATED, relatedEventsWhere } from './related.ts';
import { rowToEvent, type EventRow } from '../store/event-rows.ts';
import type { SqlClient } from '../store/sql-client.ts';
import type { Event } from '../../protocols/event/schema.ts';
import { ALERT_COLUMNS, toAlert, utcColumn } from './rows.ts';
import type { Alert, AlertStatus } from './types.ts';
import { ALERT_TABLES, commentCase, updateCase } from './triage.ts';

export const MAX_ALERT_PAGE = 500;

export interface AlertListQuery {
  status?: AlertStatus;
  /** At least this severe (severity <= value). */
  severityMax?: number;
  entity?: string;
  ruleId?: string;
  assignee?: string;
  /** Alerts carrying every one of these tags (the enrichment terms: `geo.country:RU`, `intel.feed:c2`). */
  tags?: string[];
  /** Alerts with an id below this (keyset; the previous page's last id). */
  beforeId?: number;
  limit: number;
}

export interface AlertHistoryEntry {
  at: string;
  actor: string;
  change: 'raised' | 'status' | 'assignee' | 'comment';
  from: string | null;
  to: string | null;
}

export interface AlertComment {
  id: number;
  author: string;
  body: string;
  created_at: string;
}

export interface AlertDetail extends Alert {
  comments: AlertComment[];
  history: AlertHistoryEntry[];
}

export interface Suppression {
  id: number;
  rule_id: string | null;
  entity: string | null;
  starts_at: string;
  ends_at: string;
  reason: string;
  created_by: string;
}

export function createAlertStore(db: SqlClient, now: () => Date = () => new Date()) {
  async function get(id: number): Promise<AlertDetail | undefined> {
    const { rows } = await db.query(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE id = $1`, [id]);
    if (!rows[0]) return undefined;
    const comments = await db.query<AlertComment>(
      `SELECT id, author, body, ${utcColumn('created_at')} FROM alert_comments WHERE alert_id = $1 ORDER BY id`,
      [id],
    );
    const history = await db.query<AlertHistoryEntry>(
      `SELECT ${utcColumn('at')}, actor, change, from_value AS "from", to_value AS "to"
         FROM alert_history WHERE alert_id = $1 ORDER BY id`,
      [id],
    );
    return {
      ...toAlert(rows[0]),
      comments: comments.rows.map((c) => ({ ...c, id: Number(c.id) })),
      history: history.rows,
    };
  }

  return {
    get,

    async list(query: AlertListQuery): Promise<{ alerts: Alert[]; next_before_id: number | null }> {
      const where: string[] = [];
      const params: unknown[] = [];
      const p = (v: unknown) => {
        params.push(v);
        return `$${params.length}`;
      };
      if (query.status) where.push(`status = ${p(query.status)}`);
      if (query.severityMax !== undefined) where.push(`severity <= ${p(query.severityMax)}`);
      if (query.entity) where.push(`entity = ${p(query.entity)}`);
      if (query.ruleId) where.push(`rule_id = ${p(query.ruleId)}`);
      if (query.assignee) where.push(`assignee = ${p(query.assignee)}`);
      if (query.tags && query.tags.length > 0) where.push(`tags @> ${p(query.tags)}::text[]`);
      if (query.beforeId !== undefined) where.push(`id < ${p(query.beforeId)}`);
      const limit = Math.min(MAX_ALERT_PAGE, Math.max(1, query.limit));
      const { rows } = await db.query(
        `SELECT ${ALERT_COLUMNS} FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
          ORDER BY id DESC LIMIT ${p(limit + 1)}`,
        params,
      );
      const alerts = rows.slice(0, limit).map(toAlert);
      return { alerts, next_before_id: rows.length > limit ? alerts[alerts.length - 1]!.id : null };
    },

    /** Applies the changes that differ; returns the alert after, or undefined when it does not exist. */
    async update(
      id: number,
      changes: { status?: AlertStatus; assignee?: string | null },
      actor: string,
    ): Promise<AlertDetail | undefined> {
      const found = await updateCase(db, ALERT_TABLES, id, changes, actor, now().toISOString());
      return found ? get(id) : undefined;
    },

    comment(id: number, body: string, author: string): Promise<AlertComment | undefined> {
      return commentCase(db, ALERT_TABLES, id, body, author, now().toISOString());
    },

    /** Events on the alert's device (or host) around it, and the other alerts on the same entity. */
    async related(
      id: number,
      options: { marginMs: number; limit: number },
    ): Promise<{ events: Event[]; alerts: Alert[] } | undefined> {
      const alert = (await get(id)) as Alert | undefined;
      if (!alert) return undefined;
      const events = await db.query<EventRow>(
        `SELECT ${EVENT_COLUMNS_FOR_RELATED} FROM events WHERE ${relatedEventsWhere(alert.entity_type)}
           AND ts >= $2::timestamptz AND ts < $3::timestamptz
         ORDER BY ts DESC, gateway DESC, seq DESC LIMIT $4`,
        [
          alert.entity,
          new Date(Date.parse(alert.first_seen) - options.marginMs).toISOString(),
          new Date(Date.parse(alert.last_seen) + options.marginMs).toISOString(),
          options.limit,
        ],
      );
      const alerts = await db.query(
        `SELECT ${ALERT_COLUMNS} FROM alerts WHERE entity_type = $1 AND entity = $2 AND id <> $3
          ORDER BY id DESC LIMIT $4`,
        [alert.entity_type, alert.entity, id, options.limit],
      );
      return { events: events.rows.map(rowToEvent), alerts: alerts.rows.map(toAlert) };
    },

    async suppress(
      s: { ruleId?: string; entity?: string; startsAt: Date; endsAt: Date; reason: string },
      actor: string,
    ): Promise<Suppression> {
      const { rows } = await db.query<Suppression>(
        `INSERT INTO alert_suppressions (rule_id, entity, starts_at, ends_at, reason, created_by)
         VALUES ($1, $2, $3::timestamptz, $4::timestamptz, $5, $6)
         RETURNING id, rule_id, entity, ${utcColumn('starts_at')}, ${utcColumn('ends_at')}, reason, created_by`,
        [
          s.ruleId ?? null,
          s.entity ?? null,
          s.startsAt.toISOString(),
          s.endsAt.toISOString(),
          s.reason,
          actor,
        ],
      );
      return { ...rows[0]!, id: Number(rows[0]!.id) };
    },

    /** Suppressions not yet ended. */
    async suppressions(): Promise<Suppression[]> {
      const { rows } = await db.query<Suppression>(
        `SELECT id, rule_id, entity, ${utcColumn('starts_at')}, ${utcColumn('ends_at')}, reason, created_by
           FROM alert_suppressions WHERE ends_at > $1::timestamptz ORDER BY id LIMIT 1000`,
        [now().toISOString()],
      );
      return rows.map((r) => ({ ...r, id: Number(r.id) }));
    },

    async unsuppress(id: number): Promise<boolean> {
      return (await db.query('DELETE FROM alert_suppressions WHERE id = $1', [id])).rowCount > 0;
    },
  };
}

export type AlertStore = ReturnType<typeof createAlertStore>;
