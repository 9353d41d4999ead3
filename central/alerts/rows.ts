/**
 * Row mapping of `alerts`, shared by raising and the API: one SELECT list with timestamps as UTC
 * ISO text (independent of the session time zone) and ids as numbers on both adapters.
 */
import type { Alert } from './types.ts';

const UTC = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const time = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', ${UTC}) AS ${column}`;

export const ALERT_COLUMNS = `id, rule_id, rule_title, severity, techniques, tags, entity_type, entity,
  device_id, host, gateway, site, event_ids, count, ${time('first_seen')}, ${time('last_seen')}, status,
  assignee, ${time('created_at')}, ${time('updated_at')}, enrichment`;

export function toAlert(row: Record<string, unknown>): Alert {
  // jsonb: an object from both adapters; null on alerts raised before enrichment was stored.
  const enrichment =
    typeof row.enrichment === 'string' ? JSON.parse(row.enrichment) : (row.enrichment ?? null);
  return { ...(row as unknown as Alert), id: Number(row.id), count: Number(row.count), enrichment };
}

export { time as utcColumn };
