/**
 * Alert grouping (DESIGN.md "Detection": repeats of the same rule on the same entity within a
 * window group into one alert with a count). The first hit of a (rule, entity) pair is emitted at
 * once as a `new` alert; later hits within `windowMs` of that first hit only raise its count; when
 * the window has passed (by the clock the caller passes in) an `update` carrying the final count is
 * emitted if there were repeats. State is bounded by `maxGroups`: when full, the oldest group is
 * closed early (its `update` emitted, and counted in `evicted`). Pure: time is a parameter.
 */
import { EvictionCursor } from '../event/evict.ts';

export interface AlertDraft {
  ruleKey: string;
  entityKey: string;
  eventIds: readonly string[];
}

export interface AlertGroup<D extends AlertDraft> {
  /** Stable across the `new` and `update` of one group: `<rule>|<entity>|<first ms>`. */
  id: string;
  draft: D;
  count: number;
  firstMs: number;
  lastMs: number;
  /** The first hits' event ids, then the latest, at most `maxEventIds`. */
  eventIds: string[];
}

export interface AlertGrouperOptions {
  /** Default 300,000 (5 minutes). 0 disables grouping: every hit is a `new` alert. */
  windowMs?: number;
  /** Default 10,000. */
  maxGroups?: number;
  /** Event ids kept per group (default 32). */
  maxEventIds?: number;
}

export interface AlertGrouper<D extends AlertDraft> {
  /** A hit: returns the group if this is a `new` alert, undefined if it was folded into one. */
  offer(draft: D, nowMs: number): AlertGroup<D> | undefined;
  /**
   * The allocation-free fast path of `offer` for one event: folds the hit into the open group of
   * (rule, entity) and returns true, or returns false (no open group, or its window is over) and
   * changes nothing, so that the caller builds the draft and `offer`s it.
   */
  repeat(ruleKey: string, entityKey: string, eventId: string, nowMs: number): boolean;
  /** Closes the groups whose window ended before `nowMs`; returns those with repeats (`update`s). */
  advance(nowMs: number): readonly AlertGroup<D>[];
  /** Closes every group (end of a replay). */
  flush(): AlertGroup<D>[];
  readonly size: number;
  readonly evicted: number;
}

/** Returned when nothing closed (no allocation per call); never written to. */
const NONE: readonly unknown[] = Object.freeze([]);

export function createAlertGrouper<D extends AlertDraft>(options: AlertGrouperOptions = {}): AlertGrouper<D> {
  const windowMs = options.windowMs ?? 300_000;
  const maxGroups = Math.max(1, options.maxGroups ?? 10_000);
  const maxIds = Math.max(1, options.maxEventIds ?? 32);
  // Looked up by rule then entity (no key string built per hit); `order` is first-hit order, so
  // the groups to close are always at its front.
  const byRule = new Map<string, Map<string, AlertGroup<D>>>();
  const order = new Set<AlertGroup<D>>();
  const front = new EvictionCursor(order);
  let evicted = 0;
  /** Groups closed outside `advance` (replaced or evicted) whose `update` is still owed. */
  let owed: AlertGroup<D>[] = [];

  const close = (g: AlertGroup<D>, out: AlertGroup<D>[]) => {
    order.delete(g);
    const entities = byRule.get(g.draft.ruleKey);
    if (entities?.get(g.draft.entityKey) === g) {
      entities.delete(g.draft.entityKey);
      if (entities.size === 0) byRule.delete(g.draft.ruleKey);
    }
    if (g.count > 1) out.push(g);
  };
  const keep = (g: AlertGroup<D>, id: string) => {
    if (g.eventIds.length >= maxIds) g.eventIds.splice(Math.ceil(maxIds / 2), 1);
    g.eventIds.push(id);
  };
  const open = (ruleKey: string, entityKey: string, nowMs: number) => {
    const g = byRule.get(ruleKey)?.get(entityKey);
    return g && windowMs > 0 && nowMs - g.firstMs <= windowMs ? g : undefined;
  };

  return {
    repeat(ruleKey, entityKey, eventId, nowMs) {
      const g = open(ruleKey, entityKey, nowMs);
      if (!g) return false;
      g.count++;
      g.lastMs = Math.max(g.lastMs, nowMs);
      keep(g, eventId);
      return true;
    },
    offer(draft, nowMs) {
      const g = open(draft.ruleKey, draft.entityKey, nowMs);
      if (g) {
        g.count++;
        g.lastMs = Math.max(g.lastMs, nowMs);
        for (const id of draft.eventIds) keep(g, id);
        return undefined;
      }
      const stale = byRule.get(draft.ruleKey)?.get(draft.entityKey);
      if (stale) close(stale, owed); // its window is over: its update is owed, a new group starts
      const fresh: AlertGroup<D> = {
        id: `${draft.ruleKey}|${draft.entityKey}|${nowMs}`,
        draft,
        count: 1,
        firstMs: nowMs,
        lastMs: nowMs,
        eventIds: draft.eventIds.slice(0, maxIds),
      };
      if (windowMs > 0) {
        let entities = byRule.get(draft.ruleKey);
        if (!entities) byRule.set(draft.ruleKey, (entities = new Map()));
        entities.set(draft.entityKey, fresh);
        order.add(fresh);
        if (order.size > maxGroups) {
          close(front.peek()![0], owed);
          evicted++;
        }
      }
      return fresh;
    },
    advance(nowMs) {
      let out = NONE as AlertGroup<D>[];
      if (owed.length > 0) {
        out = owed;
        owed = [];
      }
      for (let g = front.peek()?.[0]; g && nowMs - g.firstMs > windowMs; g = front.peek()?.[0]) {
        if (out === NONE) out = [];
        close(g, out);
      }
      return out;
    },
    flush() {
      const out = owed;
      owed = [];
      for (const g of order) close(g, out);
      return out;
    },
    get size() {
      return order.size;
    },
    get evicted() {
      return evicted;
    },
  };
}
