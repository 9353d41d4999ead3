/**
 * Alert grouping (DESIGN.md "Detection": repeats of the same rule on the same entity within a
 * window group into one alert with a count). The first hit of a (rule, entity) pair is emitted at
 * once as a `new` alert; later hits within `windowMs` of that first hit only raise its count; when
 * the window has passed (by the clock the caller passes in) an `update` carrying the final count is
 * emitted if there were repeats. State is bounded by `maxGroups`: when full, the oldest group is
 * closed early (its `update` emitted, and counted in `evicted`). Pure: time is a parameter.
 */

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
  /** Closes the groups whose window ended before `nowMs`; returns those with repeats (`update`s). */
  advance(nowMs: number): AlertGroup<D>[];
  /** Closes every group (end of a replay). */
  flush(): AlertGroup<D>[];
  readonly size: number;
  readonly evicted: number;
}

export function createAlertGrouper<D extends AlertDraft>(options: AlertGrouperOptions = {}): AlertGrouper<D> {
  const windowMs = options.windowMs ?? 300_000;
  const maxGroups = Math.max(1, options.maxGroups ?? 10_000);
  const maxIds = Math.max(1, options.maxEventIds ?? 32);
  // Insertion order is first-hit order, so the groups to close are always at the front.
  const groups = new Map<string, AlertGroup<D>>();
  let evicted = 0;
  /** Groups closed outside `advance` (replaced or evicted) whose `update` is still owed. */
  let owed: AlertGroup<D>[] = [];

  const close = (key: string, g: AlertGroup<D>, out: AlertGroup<D>[]) => {
    groups.delete(key);
    if (g.count > 1) out.push(g);
  };

  return {
    offer(draft, nowMs) {
      const key = `${draft.ruleKey}\u0000${draft.entityKey}`;
      const g = groups.get(key);
      if (g && windowMs > 0 && nowMs - g.firstMs <= windowMs) {
        g.count++;
        g.lastMs = Math.max(g.lastMs, nowMs);
        for (const id of draft.eventIds) {
          if (g.eventIds.length >= maxIds) g.eventIds.splice(Math.ceil(maxIds / 2), 1);
          g.eventIds.push(id);
        }
        return undefined;
      }
      if (g) close(key, g, owed); // its window is over: its update is owed, a new group starts
      const fresh: AlertGroup<D> = {
        id: `${draft.ruleKey}|${draft.entityKey}|${nowMs}`,
        draft,
        count: 1,
        firstMs: nowMs,
        lastMs: nowMs,
        eventIds: draft.eventIds.slice(0, maxIds),
      };
      if (windowMs > 0) {
        groups.set(key, fresh);
        if (groups.size > maxGroups) {
          const [oldKey, old] = groups.entries().next().value as [string, AlertGroup<D>];
          close(oldKey, old, owed);
          evicted++;
        }
      }
      return fresh;
    },
    advance(nowMs) {
      const out = owed;
      owed = [];
      for (const [key, g] of groups) {
        if (nowMs - g.firstMs <= windowMs) break;
        close(key, g, out);
      }
      return out;
    },
    flush() {
      const out = owed;
      owed = [];
      for (const [key, g] of groups) close(key, g, out);
      return out;
    },
    get size() {
      return groups.size;
    },
    get evicted() {
      return evicted;
    },
  };
}
