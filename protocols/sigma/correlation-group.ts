/**
 * One group of a Sigma correlation (the events that share the rule's group-by values) as the
 * correlation engine (correlation.ts) keeps it: its times, values, counts and triggering event
 * ids; the hit it becomes when the condition is met; and its plain-JSON snapshot, read back
 * defensively because it comes from a file that may be old or damaged (SPEC.md "Restarts").
 */
import type { Event } from '../event/schema.ts';

export interface CorrelationHit {
  groupKey: string;
  group: Record<string, string | null>;
  /** The count, distinct count, number of rules seen, sum or average that met the condition. */
  value: number;
  eventIds: string[];
  firstMs: number;
  lastMs: number;
  /** The event that completed it (window mode: the group's last event). */
  event: Event;
  /** value_percentile: the rare value whose share of the window met the condition. */
  rareValue?: string;
}

export interface CorrelationLimits {
  maxGroups: number;
  maxEventsPerGroup: number;
  maxEventIds: number;
}

export interface Group {
  key: string;
  group: Record<string, string | null>;
  firstMs: number;
  lastMs: number;
  lastEvent: Event;
  ids: string[];
  times: number[]; // sliding event_count
  values: Map<string, number>; // sliding value_count: value → last time; window: value → events
  count: number; // window mode: events; value_sum/avg: numeric events
  sum: number;
  seen: number[]; // temporal: last time per referenced rule (-Infinity: never)
  seenIds: string[][];
  chain: Array<{ start: number; ids: string[] } | undefined>; // temporal_ordered
}

/** One open group as plain JSON (Infinity becomes null), for `snapshot`/`restore`. */
export type GroupSnapshot = Omit<Group, 'values' | 'seen' | 'chain'> & {
  values: Array<[string, number]>;
  seen: Array<number | null>;
  chain: Array<{ start: number; ids: string[] } | null>;
};

/** A group's first event, at `t`, for a correlation of `n` referenced rules. */
export function freshGroup(
  key: string,
  group: Record<string, string | null>,
  t: number,
  event: Event,
  n: number,
): Group {
  return {
    key,
    group,
    firstMs: t,
    lastMs: t,
    lastEvent: event,
    ids: [],
    times: [],
    values: new Map(),
    count: 0,
    sum: 0,
    seen: new Array<number>(n).fill(-Infinity),
    seenIds: Array.from({ length: n }, () => []),
    chain: new Array(n).fill(undefined),
  };
}

/** Keeps a triggering event id, at most `max`: the first half, then the latest. */
export function keepId(g: Group, id: string, max: number): void {
  if (g.ids.length >= max) g.ids.splice(Math.ceil(max / 2), 1);
  g.ids.push(id);
}

export function hitOf(g: Group, value: number): CorrelationHit {
  return {
    groupKey: g.key,
    group: g.group,
    value,
    eventIds: g.ids,
    firstMs: g.firstMs,
    lastMs: g.lastMs,
    event: g.lastEvent,
  };
}

export function groupSnapshot(g: Group): GroupSnapshot {
  return {
    ...g,
    values: [...g.values],
    seen: g.seen.map((t) => (Number.isFinite(t) ? t : null)),
    chain: g.chain.map((c) => c ?? null),
  };
}

/**
 * A group from one element of a snapshot, for a correlation of `n` referenced rules, cut to the
 * limits; undefined when anything in it is malformed (never thrown).
 */
export function groupFromSnapshot(raw: unknown, n: number, limits: CorrelationLimits): Group | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const r = raw as Partial<GroupSnapshot>;
  const ok =
    typeof r.key === 'string' &&
    isRecord(r.group) &&
    Number.isFinite(r.firstMs) &&
    Number.isFinite(r.lastMs) &&
    isRecord(r.lastEvent) &&
    isStrings(r.ids) &&
    Array.isArray(r.times) &&
    r.times.every(Number.isFinite) &&
    Array.isArray(r.values) &&
    r.values.every((v) => Array.isArray(v) && typeof v[0] === 'string' && Number.isFinite(v[1])) &&
    Number.isFinite(r.count) &&
    Number.isFinite(r.sum) &&
    Array.isArray(r.seen) &&
    r.seen.length === n &&
    Array.isArray(r.seenIds) &&
    r.seenIds.length === n &&
    r.seenIds.every(isStrings) &&
    Array.isArray(r.chain) &&
    r.chain.length === n;
  if (!ok) return undefined;
  const g = r as GroupSnapshot;
  return {
    key: g.key,
    group: g.group,
    firstMs: g.firstMs,
    lastMs: g.lastMs,
    lastEvent: g.lastEvent,
    ids: g.ids.slice(-limits.maxEventIds),
    times: g.times.slice(-limits.maxEventsPerGroup),
    values: new Map(g.values.slice(-limits.maxEventsPerGroup)),
    count: g.count,
    sum: g.sum,
    seen: g.seen.map((t) => (typeof t === 'number' && Number.isFinite(t) ? t : -Infinity)),
    seenIds: g.seenIds.map((ids) => ids.slice(-limits.maxEventIds)),
    chain: g.chain.map((c) =>
      c && typeof c === 'object' && Number.isFinite(c.start) && isStrings(c.ids) ? c : undefined,
    ),
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
