/**
 * The engine's public shapes: the alert it raises (the contract with the gateway's alert lane and
 * central's alert store), its options with their bounds, its counters, and the engine interface.
 * Kept apart from engine.ts so that consumers can import the types without the implementation.
 */
import type { Event } from '../event/schema.ts';
import type { SigmaCompileOptions, SigmaRuleSet } from './compile.ts';
import type { GroupSnapshot } from './correlation.ts';
import type { CorrelationType, SigmaCorrelationRule, SigmaError, SigmaLevel } from './types.ts';
export interface SigmaAlert {
  /** Stable for one grouped alert: the `update` has the id of its `new`. */
  id: string;
  /** `new`: first hit of this rule on this entity; `update`: its window closed with `count` hits. */
  kind: 'new' | 'update';
  rule: { id: string; title: string; name?: string; type: 'detection' | CorrelationType };
  level: SigmaLevel;
  /** Syslog scale, as `Event.severity`: critical 2, high 3, medium 4, low 5, informational 6. */
  severity: number;
  /** ATT&CK (Enterprise and ICS) technique ids from the rule's `attack.t…` tags, e.g. `T0855`. */
  techniques: string[];
  tactics: string[];
  entity: {
    key: string;
    device?: string;
    host?: string;
    gateway?: string;
    group?: Record<string, string | null>;
  };
  /** The triggering events' ids (at most `maxEventIds`: the first ones and the latest). */
  event_ids: string[];
  count: number;
  first_ms: number;
  last_ms: number;
  /** For correlations: the value that met the condition (count, distinct values, sum, average). */
  correlation?: { value: number; timespan_ms: number };
}

export interface SigmaEngineOptions extends SigmaCompileOptions {
  /** Groups kept per correlation (default 10,000); beyond, the least recently used is evicted. */
  maxGroupsPerCorrelation?: number;
  /** Bound on a correlation's condition threshold and per-group memory (default 10,000). */
  maxEventsPerGroup?: number;
  /** Event ids carried per alert (default 32). */
  maxEventIds?: number;
  /** Alert grouping window (default 300,000 ms; 0: no grouping) and bound (default 10,000 groups). */
  alertWindowMs?: number;
  maxAlertGroups?: number;
}

export interface SigmaEngineSnapshot {
  v: 1;
  /** The engine clock (ms) when taken, or null before the first event. */
  clock: number | null;
  correlations: Array<{ key: string; fingerprint: string; groups: GroupSnapshot[] }>;
}

export interface SigmaEngineStats {
  events: number;
  ruleMatches: number;
  correlationHits: number;
  alertsNew: number;
  alertsUpdated: number;
  /** Open correlation groups now, over all correlations. */
  correlationGroups: number;
  /** Correlation groups dropped because a correlation held `maxGroupsPerCorrelation`. */
  evictedCorrelationGroups: number;
  alertGroups: number;
  evictedAlertGroups: number;
}

export interface SigmaEngine {
  readonly ruleSet: SigmaRuleSet;
  /** Everything refused at build time: rules, filters and correlations. */
  readonly errors: readonly SigmaError[];
  readonly correlations: readonly SigmaCorrelationRule[];
  process(event: Event, nowMs: number): SigmaAlert[];
  /** Moves the clock without an event (a quiet network still closes windows). */
  advance(nowMs: number): SigmaAlert[];
  /** Closes every window and alert group (end of a replay). */
  flush(): SigmaAlert[];
  /**
   * The open correlation windows as JSON (SPEC.md "Restarts"), at most `maxGroups` (default 1,000,
   * the most recent) per correlation. Alert groups are not included.
   */
  snapshot(maxGroups?: number): SigmaEngineSnapshot;
  /**
   * Reopens the windows of a snapshot for every correlation whose definition is unchanged (others
   * are skipped, as is anything malformed); never throws.
   */
  restore(snapshot: unknown): { restored: number; skipped: number };
  /**
   * Takes over every open window of `previous` (the engine of the rule set this one replaces) for
   * the correlations both define alike: a rule set swapped in keeps what it was counting.
   */
  carryOver(previous: SigmaEngine): { restored: number; skipped: number };
  stats(): SigmaEngineStats;
}
