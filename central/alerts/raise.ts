/**
 * `raiseAlert`: the one way an alert comes to exist, called by the detection engine and by
 * `POST /api/alerts`. In one transaction, serialised per (rule, entity) by an advisory lock so
 * that concurrent hits cannot open two alerts: an active suppression swallows the hit; an open
 * alert (new or acknowledged) of the same rule on the same entity whose first hit is within the
 * group window takes it (count, last seen, event ids, highest severity); otherwise a new alert is
 * stored with a `raised` history row, and `onCreated` runs in the same transaction (the sinks'
 * durable outbox), so an alert is never stored without its forwarding being queued. The
 * enrichment of what the alert names (central/enrich/alert.ts), when given, is stored with a new
 * alert and merged into the open one a repeat folds into; its search tags replace any tag of the
 * input that looks like one, so a caller cannot forge them. A raise with a `key` (central's
 * detection: `raiseKey`) records it in the same transaction, and one whose key is recorded already
 * changes nothing (`repeated`): the same hit raised again after a leader hand-over or a restart.
 */
import { createHash } from 'node:crypto';
import type { AlertEnrichment } from '../../protocols/api/central.ts';
import { mergeEnrichment, enrichmentTags } from '../enrich/alert.ts';
import type { SqlClient, SqlExecutor } from '../store/sql-client.ts';
import { ALERT_COLUMNS, toAlert } from './rows.ts';
import {
  type Alert,
  type AlertInput,
  alertInputSchema,
  LEVEL_SEVERITY,
  MAX_EVENT_IDS,
  type RaiseResult,
} from './types.ts';

export interface RaiseOptions {
  /** Repeats whose time is within this of the alert's first hit fold into it. */
  groupWindowMs: number;
  now?: () => Date;
  /** Who raises it, for the history (default `central`). */
  actor?: string;
  /** Runs inside the transaction of a newly created alert (forwarding outbox). */
  onCreated?: (tx: SqlExecutor, alert: Alert) => Promise<void>;
  /** What central knows of the addresses and asset the alert names. */
  enrichment?: AlertEnrichment;
  /** Recorded with the raise; a raise with a key already recorded changes nothing (`raiseKey`). */
  key?: string;
}

/**
 * The key of a raise by its content: who raises it and the validated input (rule, entity, event
 * ids, count, time). Detection raises the same content for the same hit whenever its engine is
 * rebuilt from the same events; two distinct hits differ at least in their event ids or time.
 */
export function raiseKey(raw: AlertInput, actor: string): string {
  const input = alertInputSchema.parse(raw);
  return createHash('sha256')
    .update(JSON.stringify([actor, input]))
    .digest('base64url');
}

/** The search terms of enrichment (`geo.country:RU`, `intel.feed:abuse`, `asset.site:north`). */
export const ENRICHMENT_TAG = /^(?:geo|intel|asset)\.[a-z_]+:/;
const MAX_TAGS = 64;

function withTags(base: readonly string[], enrichment: AlertEnrichment | undefined): string[] {
  if (!enrichment) return [...base];
  const own = base.filter((t) => !ENRICHMENT_TAG.test(t));
  return [...new Set([...own, ...enrichmentTags(enrichment)])].slice(0, MAX_TAGS);
}

/** The first half of `old`, then the latest ids, at most MAX_EVENT_IDS, without repeats. */
export function mergeEventIds(old: readonly string[], added: readonly string[]): string[] {
  const all = [...new Set([...old, ...added])];
  if (all.length <= MAX_EVENT_IDS) return all;
  const head = Math.floor(MAX_EVENT_IDS / 2);
  return [...all.slice(0, head), ...all.slice(all.length - (MAX_EVENT_IDS - head))];
}

/** Validates `raw` (throws a ZodError naming the field) and raises, groups or suppresses it. */
export async function raiseAlert(
  db: SqlClient,
  raw: AlertInput,
  options: RaiseOptions,
): Promise<RaiseResult> {
  const input = alertInputSchema.parse(raw);
  const now = options.now?.() ?? new Date();
  const at = input.at ? new Date(input.at) : now;
  const severity = input.rule.severity ?? LEVEL_SEVERITY[input.rule.level!];
  const [entityType, entity] = input.entity.device_id
    ? (['device', input.entity.device_id] as const)
    : (['host', input.entity.host!] as const);
  const windowStart = new Date(at.getTime() - options.groupWindowMs).toISOString();
  const windowEnd = new Date(at.getTime() + options.groupWindowMs).toISOString();

  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1)::bigint)', [
      `alert|${input.rule.id}|${entityType}|${entity}`,
    ]);
    if (options.key !== undefined) {
      const { rowCount } = await tx.query(
        'INSERT INTO alert_raise_keys (key, at) VALUES ($1, $2::timestamptz) ON CONFLICT (key) DO NOTHING',
        [options.key, now.toISOString()],
      );
      if (rowCount === 0) return { outcome: 'repeated' };
    }
    const { rows: suppressed } = await tx.query(
      `SELECT id FROM alert_suppressions
        WHERE starts_at <= $1::timestamptz AND ends_at > $1::timestamptz
          AND (rule_id IS NULL OR rule_id = $2) AND (entity IS NULL OR entity = $3) LIMIT 1`,
      [at.toISOString(), input.rule.id, entity],
    );
    if (suppressed.length > 0) return { outcome: 'suppressed' };

    const { rows: open } = await tx.query<{
      id: string | number;
      event_ids: string[];
      techniques: string[];
      tags: string[];
      enrichment: AlertEnrichment | null;
    }>(
      `SELECT id, event_ids, techniques, tags, enrichment FROM alerts
        WHERE rule_id = $1 AND entity_type = $2 AND entity = $3 AND status IN ('new', 'acknowledged')
          AND first_seen > $4::timestamptz AND first_seen < $5::timestamptz
        ORDER BY first_seen DESC LIMIT 1 FOR UPDATE`,
      [input.rule.id, entityType, entity, windowStart, windowEnd],
    );
    const current = open[0];
    if (current) {
      const enrichment = options.enrichment
        ? mergeEnrichment(current.enrichment, options.enrichment)
        : current.enrichment;
      const tags = enrichment ? withTags(current.tags, enrichment) : current.tags;
      const { rows } = await tx.query(
        `UPDATE alerts SET count = count + $2, first_seen = least(first_seen, $3::timestamptz),
                last_seen = greatest(last_seen, $3::timestamptz), severity = least(severity, $4),
                event_ids = $5::text[], techniques = $6::text[], updated_at = $7::timestamptz,
                tags = $8::text[], enrichment = $9::jsonb
          WHERE id = $1 RETURNING ${ALERT_COLUMNS}`,
        [
          current.id,
          input.count,
          at.toISOString(),
          severity,
          mergeEventIds(current.event_ids, input.event_ids),
          [...new Set([...current.techniques, ...input.rule.techniques])],
          now.toISOString(),
          tags,
          enrichment === null ? null : JSON.stringify(enrichment),
        ],
      );
      return { outcome: 'grouped', alert: toAlert(rows[0]!) };
    }

    const { rows } = await tx.query(
      `INSERT INTO alerts (rule_id, rule_title, severity, techniques, tags, entity_type, entity, device_id,
              host, gateway, site, event_ids, count, first_seen, last_seen, created_at, updated_at, enrichment)
       VALUES ($1, $2, $3, $4::text[], $5::text[], $6, $7, $8, $9, $10, $11, $12::text[], $13,
               $14::timestamptz, $14::timestamptz, $15::timestamptz, $15::timestamptz, $16::jsonb)
       RETURNING ${ALERT_COLUMNS}`,
      [
        input.rule.id,
        input.rule.title,
        severity,
        input.rule.techniques,
        withTags(input.rule.tags, options.enrichment),
        entityType,
        entity,
        input.entity.device_id ?? null,
        input.entity.host ?? null,
        input.entity.gateway ?? null,
        input.entity.site ?? options.enrichment?.asset?.site ?? null,
        mergeEventIds([], input.event_ids),
        input.count,
        at.toISOString(),
        now.toISOString(),
        options.enrichment ? JSON.stringify(options.enrichment) : null,
      ],
    );
    const alert = toAlert(rows[0]!);
    await tx.query(
      `INSERT INTO alert_history (alert_id, at, actor, change, to_value) VALUES ($1, $2::timestamptz, $3, 'raised', 'new')`,
      [alert.id, now.toISOString(), options.actor ?? 'central'],
    );
    await options.onCreated?.(tx, alert);
    return { outcome: 'created', alert };
  });
}
