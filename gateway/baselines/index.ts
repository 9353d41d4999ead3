/**
 * Learned baselines, per device: which peers talk to it, which actions it sees (Modbus function
 * codes, MQTT topics, CoAP methods and paths all show up as action + a detail), the value range of
 * each point it carries (registers written or read, poller readings, MQTT and CoAP telemetry; named
 * as protocols/telemetry/values.ts names them, the same names the device dashboard charts), and
 * its message rate. During the learning period everything is learned silently; after it, a
 * first-time peer or action, a value outside the learned range (with a margin), or a rate far
 * above the learned one becomes a `baseline.*` security event that rules can alert on
 * (rules/ics/baselines.yml). A written value out of range is reported once per point and value
 * (each write is a decision by a master); a reading or telemetry value once per excursion (until
 * the point is back within its range), so a sensor polled every second raises one event, not one
 * a second. Modbus roles are learned per address: an address seen only answering (a server, a
 * field device) that starts sending requests after its learning period is a `baseline.role_change`
 * (a new master: ATT&CK for ICS T0848 Rogue Master, T0855 Unauthorized Command Message), once per
 * address. State is bounded per device. Pure apart from `now`; persisted by the caller.
 */
import type { PendingEvent } from '../../protocols/event/schema.ts';
import { eventValues } from '../../protocols/telemetry/values.ts';

export interface BaselineOptions {
  /** How long a device is watched before deviations are reported. */
  learningMs: number;
  /**
   * Instead of a period per device: learn everything seen before this time, detect after it
   * (`siem-gateway replay --learn SECS`: the first SECS of the file).
   */
  learningUntilMs?: number;
  /** Values beyond the learned range by more than this share of the range are out of range. */
  rangeMargin: number;
  /** A rate this many times the learned one (and at least `minRatePerMin`) is a surge. */
  rateFactor: number;
  minRatePerMin: number;
}

export const DEFAULT_BASELINE_OPTIONS: BaselineOptions = {
  learningMs: 24 * 3600_000,
  rangeMargin: 0.1,
  rateFactor: 10,
  minRatePerMin: 60,
};

/** Bounds per device, so a scan cannot grow the state without end. */
const MAX_PEERS = 256;
const MAX_ACTIONS = 512;
const MAX_RANGES = 1024;
/** Addresses whose Modbus role is learned. */
const MAX_ROLE_ADDRESSES = 4096;
/** The snapshot key of the role table (device ids are `<protocol>:...`, never this). */
const ROLES_KEY = '#modbus_roles';

/** What an address has been seen doing on Modbus: answering (server), asking (master). */
export interface ModbusRole {
  since: number;
  server: boolean;
  master: boolean;
  reported?: boolean;
}

export interface DeviceBaseline {
  since: number;
  peers: string[];
  actions: string[];
  ranges: Record<string, [number, number]>;
  /** Learned busiest per-minute rate. */
  rate: number;
  /** Current minute's bucket. */
  minute: number;
  count: number;
  reported: string[];
  /** Points whose readings are out of range now (reported once until back in range). */
  excursions?: string[];
}

interface Traits {
  peer?: string;
  action: string;
  values: ReadonlyArray<{ name: string; value: number }>;
  /** Values written by a request (reported per value), not read or reported by the device. */
  written: boolean;
}

/** The behaviour an event shows: peer, action (with detail), and the values of its points. */
function traits(event: PendingEvent): Traits {
  const f = event.fields as Record<string, unknown>;
  const detail = f.function_code ?? f.topic ?? f.path ?? f.sub_function;
  const action = detail === undefined ? event.action : `${event.action}:${String(detail)}`;
  const written = event.source === 'modbus' && f.direction === 'request';
  return { peer: event.src?.ip, action, values: eventValues(event), written };
}

/** How far past a learned range a value may go: a share of its width, at least 1 for integers. */
function marginOf(lo: number, hi: number, share: number): number {
  const scaled = (hi - lo) * share || Math.max(Math.abs(lo), Math.abs(hi)) * share;
  return Number.isInteger(lo) && Number.isInteger(hi) ? Math.max(1, scaled) : scaled;
}

export function createBaselines(options: BaselineOptions = DEFAULT_BASELINE_OPTIONS) {
  const devices = new Map<string, DeviceBaseline>();
  const until = options.learningUntilMs;
  const isLearning = (since: number, nowMs: number) =>
    until === undefined ? nowMs - since < options.learningMs : nowMs < until;
  const roles = new Map<string, ModbusRole>();

  /** A request from an address known only as a server, after its learning period: a new master. */
  const roleChange = (event: PendingEvent, nowMs: number): PendingEvent | undefined => {
    const direction = (event.fields as { direction?: unknown }).direction;
    const ip = event.src?.ip;
    if (event.source !== 'modbus' || !ip || (direction !== 'request' && direction !== 'response')) return;
    let r = roles.get(ip);
    if (!r) {
      if (roles.size >= MAX_ROLE_ADDRESSES) return;
      r = { since: nowMs, server: false, master: false };
      roles.set(ip, r);
    }
    if (direction === 'response') {
      r.server = true;
      return;
    }
    if (r.master) return;
    const learning = isLearning(r.since, nowMs);
    if (learning || !r.server) {
      r.master = true;
      return;
    }
    if (r.reported) return;
    r.reported = true;
    const at = new Date(nowMs).toISOString();
    const f = event.fields as Record<string, unknown>;
    return {
      ts: at,
      received: at,
      time_source: 'gateway',
      source: 'gateway',
      kind: 'security',
      action: 'baseline.role_change',
      severity: 3,
      message: `${ip}, known only as a Modbus server since ${new Date(r.since).toISOString()}, sent a ${String(f.function ?? event.action)} request to ${event.device?.id ?? event.dst?.ip ?? '?'}`,
      ...(event.device && { device: event.device }),
      src: event.src,
      ...(event.dst && { dst: event.dst }),
      fields: {
        peer: ip,
        previous_role: 'server',
        new_role: 'master',
        function_code: f.function_code,
        unit_id: f.unit_id,
        learned_since: new Date(r.since).toISOString(),
        triggering_action: event.action,
      },
      tags: ['baseline'],
    };
  };

  const report = (b: DeviceBaseline, key: string): boolean => {
    if (b.reported.includes(key)) return false;
    b.reported.push(key);
    if (b.reported.length > MAX_ACTIONS) b.reported.shift();
    return true;
  };

  return {
    devices,
    /** Notes an event; returns the deviations it shows (none while learning). */
    observe(event: PendingEvent, nowMs: number): PendingEvent[] {
      const id = event.device?.id;
      if (!id || event.source === 'gateway' || event.source === 'central' || event.kind === 'alert')
        return [];
      const changed = event.source === 'modbus' ? roleChange(event, nowMs) : undefined;
      let b = devices.get(id);
      if (!b) {
        b = {
          since: nowMs,
          peers: [],
          actions: [],
          ranges: {},
          rate: 0,
          minute: Math.floor(nowMs / 60_000),
          count: 0,
          reported: [],
        };
        devices.set(id, b);
      }
      const learning = isLearning(b.since, nowMs);
      const out: PendingEvent[] = changed ? [changed] : [];
      const deviation = (kind: string, message: string, fields: Record<string, unknown>) => {
        const at = new Date(nowMs).toISOString();
        out.push({
          ts: at,
          received: at,
          time_source: 'gateway',
          source: 'gateway',
          kind: 'security',
          action: `baseline.${kind}`,
          severity: 4,
          message: `${id}: ${message}`,
          device: event.device,
          ...(event.host && { host: event.host }),
          ...(event.src && { src: event.src }),
          fields: {
            ...fields,
            learned_since: new Date(b.since).toISOString(),
            triggering_action: event.action,
          },
          tags: ['baseline'],
        });
      };
      const t = traits(event);
      if (t.peer && !b.peers.includes(t.peer)) {
        if (!learning && report(b, `peer:${t.peer}`))
          deviation('new_peer', `first message from ${t.peer}`, {
            peer: t.peer,
            known_peers: b.peers.length,
          });
        if (learning && b.peers.length < MAX_PEERS) b.peers.push(t.peer);
      }
      if (!b.actions.includes(t.action)) {
        if (!learning && report(b, `action:${t.action}`))
          deviation('new_action', `first ${t.action}`, { behaviour: t.action });
        if (learning && b.actions.length < MAX_ACTIONS) b.actions.push(t.action);
      }
      for (const { name: point, value } of t.values) {
        const range = b.ranges[point];
        if (learning) {
          if (range) b.ranges[point] = [Math.min(range[0], value), Math.max(range[1], value)];
          else if (Object.keys(b.ranges).length < MAX_RANGES) b.ranges[point] = [value, value];
          continue;
        }
        if (!range) continue;
        const margin = marginOf(range[0], range[1], options.rangeMargin);
        const out = value < range[0] - margin || value > range[1] + margin;
        let fresh: boolean;
        if (t.written) fresh = out && report(b, `range:${point}:${value}`);
        else {
          const open = b.excursions ?? (b.excursions = []);
          const at = open.length > 0 ? open.indexOf(point) : -1;
          if (!out) {
            if (at >= 0) open.splice(at, 1); // back in range: the next excursion is news again
            continue;
          }
          fresh = at < 0;
          if (fresh) {
            open.push(point);
            if (open.length > MAX_RANGES) open.shift();
            report(b, `range:${point}:${value}`); // listed among the changes since learning
          }
        }
        if (fresh) {
          deviation(
            'out_of_range',
            `${t.written ? 'value written' : 'value'} ${value} at ${point} outside the learned ${range[0]}..${range[1]}`,
            {
              point,
              value,
              learned_min: range[0],
              learned_max: range[1],
              written: t.written,
            },
          );
        }
      }
      const minute = Math.floor(nowMs / 60_000);
      if (minute !== b.minute) {
        if (learning) b.rate = Math.max(b.rate, b.count);
        b.minute = minute;
        b.count = 0;
      }
      b.count += 1;
      const ceiling = Math.max(options.minRatePerMin, b.rate * options.rateFactor);
      if (!learning && b.count === Math.floor(ceiling) + 1 && report(b, `rate:${minute}`)) {
        deviation(
          'rate_surge',
          `more than ${Math.floor(ceiling)} messages this minute (learned peak ${b.rate}/min)`,
          {
            rate_per_min: b.count,
            learned_peak_per_min: b.rate,
          },
        );
      }
      return out;
    },
    /** State for persistence (JSON). */
    roles,
    snapshot(): Record<string, DeviceBaseline> {
      const out: Record<string, unknown> = Object.fromEntries(devices);
      if (roles.size > 0) out[ROLES_KEY] = Object.fromEntries(roles);
      return out as Record<string, DeviceBaseline>;
    },
    restore(state: Record<string, DeviceBaseline>): void {
      for (const [id, b] of Object.entries(state)) {
        if (id === ROLES_KEY) {
          for (const [ip, r] of Object.entries(b as unknown as Record<string, ModbusRole>)) roles.set(ip, r);
        } else devices.set(id, b);
      }
    },
  };
}

export type Baselines = ReturnType<typeof createBaselines>;
