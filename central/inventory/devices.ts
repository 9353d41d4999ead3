/**
 * The central device inventory: every stored batch updates one row per device id (first and last
 * seen, gateways, protocols, the identity the protocol gives it, its host name, and its role when
 * the protocol says what kind of device it is: the CIP Identity object's device type name of an
 * EtherNet/IP List Identity reply, e.g. `Programmable Logic Controller`) in one upsert;
 * `list` serves `GET /api/devices`. Idempotent: re-sent events change nothing.
 */
import type * as Api from '../../protocols/api/central.ts';
import type { Event } from '../../protocols/event/schema.ts';
import type { SqlExecutor } from '../store/sql-client.ts';

/** A device row: the contract's (protocols/api/central.ts), which central/api adds `site` to. */
export type Device = Omit<Api.Device, 'site'>;

interface Seen {
  first: string;
  last: string;
  gateways: Set<string>;
  protocols: Set<string>;
  protocolId: string | null;
  name: string | null;
  host: string | null;
  role: string | null;
}

const MAX_ROLE = 64;

/** What kind of device the event says its device is (protocols/event/SPEC.md, enip). */
export function reportedRole(e: Event): string | null {
  if (e.source !== 'enip') return null;
  const identity = e.fields?.identity as Record<string, unknown> | undefined;
  const role = identity?.device_type_name;
  return typeof role === 'string' && role.trim() !== '' ? role.trim().slice(0, MAX_ROLE) : null;
}

const UPSERT = `INSERT INTO devices AS d (device_id, first_seen, last_seen, gateways, protocols, protocol_id, name, host, role)
SELECT u.id, u.first_seen, u.last_seen,
       ARRAY(SELECT jsonb_array_elements_text(u.gateways)), ARRAY(SELECT jsonb_array_elements_text(u.protocols)),
       u.protocol_id, u.name, u.host, u.role
  FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::jsonb[], $5::jsonb[], $6::text[], $7::text[], $8::text[], $9::text[])
    AS u(id, first_seen, last_seen, gateways, protocols, protocol_id, name, host, role)
ON CONFLICT (device_id) DO UPDATE SET
  first_seen = least(d.first_seen, EXCLUDED.first_seen),
  last_seen = greatest(d.last_seen, EXCLUDED.last_seen),
  gateways = ARRAY(SELECT DISTINCT g FROM unnest(d.gateways || EXCLUDED.gateways) AS g ORDER BY g),
  protocols = ARRAY(SELECT DISTINCT p FROM unnest(d.protocols || EXCLUDED.protocols) AS p ORDER BY p),
  protocol_id = coalesce(EXCLUDED.protocol_id, d.protocol_id),
  name = coalesce(EXCLUDED.name, d.name),
  host = coalesce(EXCLUDED.host, d.host),
  role = coalesce(EXCLUDED.role, d.role)`;

export async function recordDevices(db: SqlExecutor, events: readonly Event[]): Promise<number> {
  const seen = new Map<string, Seen>();
  for (const e of events) {
    if (!e.device || e.source === 'central') continue;
    const ts = new Date(e.ts).toISOString();
    let s = seen.get(e.device.id);
    if (!s) {
      s = {
        first: ts,
        last: ts,
        gateways: new Set(),
        protocols: new Set(),
        protocolId: null,
        name: null,
        host: null,
        role: null,
      };
      seen.set(e.device.id, s);
    }
    if (ts < s.first) s.first = ts;
    if (ts >= s.last) {
      s.last = ts;
      s.protocolId = e.device.protocol_id ?? s.protocolId;
      s.name = e.device.name ?? s.name;
      s.host = e.host ?? s.host;
    }
    s.role = reportedRole(e) ?? s.role;
    s.gateways.add(e.gateway);
    s.protocols.add(e.source);
  }
  if (seen.size === 0) return 0;
  // Sorted keys: concurrent batches lock rows in one order.
  const ids = [...seen.keys()].sort();
  const rows = ids.map((id) => seen.get(id)!);
  await db.query(UPSERT, [
    ids,
    rows.map((r) => r.first),
    rows.map((r) => r.last),
    rows.map((r) => JSON.stringify([...r.gateways])),
    rows.map((r) => JSON.stringify([...r.protocols])),
    rows.map((r) => r.protocolId),
    rows.map((r) => r.name),
    rows.map((r) => r.host),
    rows.map((r) => r.role),
  ]);
  return ids.length;
}

const UTC = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

export async function listDevices(
  db: SqlExecutor,
  query: { gateway?: string; protocol?: string; limit: number },
): Promise<Device[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (query.gateway) where.push(`$${params.push(query.gateway)} = ANY(gateways)`);
  if (query.protocol) where.push(`$${params.push(query.protocol)} = ANY(protocols)`);
  const { rows } = await db.query<Device>(
    `SELECT device_id, to_char(first_seen AT TIME ZONE 'UTC', ${UTC}) AS first_seen,
            to_char(last_seen AT TIME ZONE 'UTC', ${UTC}) AS last_seen, gateways, protocols, protocol_id, name, host
       FROM devices ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY last_seen DESC, device_id LIMIT $${params.push(Math.min(5000, Math.max(1, query.limit)))}`,
    params,
  );
  return rows;
}
