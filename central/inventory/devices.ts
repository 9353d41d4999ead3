/**
 * The central device inventory: one row per device id (first and last seen, gateways, protocols,
 * the identity the protocol gives it, its host name, and its role when the protocol says what kind
 * of device it is: the CIP Identity object's device type name of an EtherNet/IP List Identity
 * reply, e.g. `Programmable Logic Controller`), merged from every stored batch in one upsert;
 * `list` serves `GET /api/devices`. Idempotent: re-sent events change nothing.
 *
 * Only rows that change are written (`createDeviceRecorder`): the recorder remembers what it last
 * wrote of each device, and a batch writes a device only when it is new to it, was seen earlier
 * than known, on a new gateway or protocol, with a new identity, name, host or role, or when its
 * last event is LAST_SEEN_STEP_MS or more after the last_seen written. So `last_seen` may lag a
 * device that talks all the time by up to that step; its readers (the device list's "… ago" and
 * its order, the enrichment's name refresh, the reports' new devices by `first_seen`) need no
 * finer, and a fleet of steady devices costs no write per batch.
 */
import type * as Api from '../../protocols/api/central.ts';
import type { Event } from '../../protocols/event/schema.ts';
import type { SqlExecutor } from '../store/sql-client.ts';

/** A device row: the contract's (protocols/api/central.ts), which central/api adds `site` to. */
export type Device = Omit<Api.Device, 'site'>;

/** What a batch says of one device; `first` and `last` in ms since the epoch. */
interface Seen {
  first: number;
  last: number;
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

/** A device's `last_seen` is written again once a batch moves it by this much (see above). */
export const LAST_SEEN_STEP_MS = 60_000;
/** Devices the recorder remembers; beyond, the least recently seen are forgotten (and written again when next seen). */
export const MAX_REMEMBERED = 100_000;

/** What the recorder last wrote of a device (the row holds at least this). */
interface Known {
  first: number;
  last: number;
  gateways: Set<string>;
  protocols: Set<string>;
  protocolId: string | null;
  name: string | null;
  host: string | null;
  role: string | null;
}

function collect(events: readonly Event[]): Map<string, Seen> {
  const seen = new Map<string, Seen>();
  for (const e of events) {
    if (!e.device || e.source === 'central') continue;
    // A number, not a Date and its ISO text per event (formatted per written device instead).
    const ts = Date.parse(e.ts);
    if (Number.isNaN(ts)) throw new RangeError(`invalid time ${e.ts} of event ${e.id}`);
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
  return seen;
}

/** A set of `b` not in `a`. */
function adds(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  for (const x of b) if (!a.has(x)) return true;
  return false;
}

/** A value the upsert would change: non-null (coalesce keeps the row's) and not the known one. */
const differs = (known: string | null, value: string | null) => value !== null && value !== known;

function changes(k: Known | undefined, s: Seen, step: number): boolean {
  return (
    !k ||
    s.first < k.first ||
    s.last - k.last >= step ||
    adds(k.gateways, s.gateways) ||
    adds(k.protocols, s.protocols) ||
    differs(k.protocolId, s.protocolId) ||
    differs(k.name, s.name) ||
    differs(k.host, s.host) ||
    differs(k.role, s.role)
  );
}

/** What the row holds after the upsert of `s` over `k` (as UPSERT merges them). */
function merged(k: Known | undefined, s: Seen): Known {
  const { first, last } = s;
  return {
    first: k ? Math.min(k.first, first) : first,
    last: k ? Math.max(k.last, last) : last,
    gateways: k ? new Set([...k.gateways, ...s.gateways]) : s.gateways,
    protocols: k ? new Set([...k.protocols, ...s.protocols]) : s.protocols,
    protocolId: s.protocolId ?? k?.protocolId ?? null,
    name: s.name ?? k?.name ?? null,
    host: s.host ?? k?.host ?? null,
    role: s.role ?? k?.role ?? null,
  };
}

/**
 * Records the devices of stored batches in the inventory, writing only the rows that change
 * (see above). One recorder per central node; several nodes each write what they saw change,
 * and the upsert merges them. `record` resolves to the number of rows written.
 */
export function createDeviceRecorder(
  db: SqlExecutor,
  options: { lastSeenStepMs?: number; maxRemembered?: number } = {},
) {
  const step = options.lastSeenStepMs ?? LAST_SEEN_STEP_MS;
  const max = options.maxRemembered ?? MAX_REMEMBERED;
  const known = new Map<string, Known>();
  return {
    async record(events: readonly Event[]): Promise<number> {
      const seen = collect(events);
      const write: string[] = [];
      for (const [id, s] of seen) {
        const k = known.get(id);
        if (changes(k, s, step)) write.push(id);
        else {
          // Most recently seen last: the first entries are the ones to forget.
          known.delete(id);
          known.set(id, k!);
        }
      }
      if (write.length === 0) return 0;
      // Sorted keys: concurrent batches lock rows in one order.
      write.sort();
      const rows = write.map((id) => seen.get(id)!);
      await db.query(UPSERT, [
        write,
        rows.map((r) => new Date(r.first).toISOString()),
        rows.map((r) => new Date(r.last).toISOString()),
        rows.map((r) => JSON.stringify([...r.gateways])),
        rows.map((r) => JSON.stringify([...r.protocols])),
        rows.map((r) => r.protocolId),
        rows.map((r) => r.name),
        rows.map((r) => r.host),
        rows.map((r) => r.role),
      ]);
      // Remembered only once written: a failed write is tried again with the next batch.
      for (const id of write) {
        const next = merged(known.get(id), seen.get(id)!);
        known.delete(id);
        known.set(id, next);
      }
      for (const id of known.keys()) {
        if (known.size <= max) break;
        known.delete(id);
      }
      return write.length;
    },
    /** Devices remembered (tests). */
    size: () => known.size,
  };
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
