/**
 * Detection on central. Two inputs become alerts in the alert queue (central/alerts):
 * - the alerts gateways raised at the edge, which arrive as `alert` events (rule, ATT&CK ids,
 *   device, triggering event ids, and later an update with the final count of the group);
 * - central's own Sigma engine (`detection.rules_dirs`, e.g. rules/central), which sees every
 *   stored event from every gateway and so can correlate across devices, sites and gateways.
 * Each stored event is seen once: a re-sent batch repeats events, so ids already handled are
 * remembered (bounded). The engine's clock is the events' own (corrected) time; a timer advances
 * it when nothing arrives, so correlation windows still close.
 * After a restart, windows still open are rebuilt from the stored events of the longest correlation
 * timespan (replayed without raising alerts, which were raised before), so a brute force in
 * progress is not forgotten. The rules API replaces the running set (`reloadFrom`): open windows of
 * unchanged correlations carry over.
 */
import type { Logger } from 'pino';
import { decodeAlertEvent } from '../protocols/event/alert.ts';
import type { Event } from '../protocols/event/schema.ts';
import type { SigmaAlert } from '../protocols/sigma/index.ts';
import { buildRuleSet, type LoadedRules, loadRuleDirectories } from '../protocols/sigma/rules-dir.ts';
import type { Alerts } from './alerts/index.ts';
import type { AlertInput } from './alerts/types.ts';
import { createOrderedTasks } from './ordered-tasks.ts';
import type { RulesStore } from './rules/store.ts';
import type { EventStore } from './store/types.ts';

const SEEN_MAX = 200_000;
/** The first slice of time the restart's rebuild reads (it adapts to how many events a slice holds). */
const REBUILD_SLICE_MS = 10_000;

export interface CentralDetectionOptions {
  rulesDirs: string[];
  alertWindowMs: number;
  alerts: () => Alerts;
  logger: Logger;
  /** Where stored events are read back after a restart to reopen correlation windows. */
  store?: Pick<EventStore, 'queryEvents'>;
  /** Most events replayed at start (default 200,000, the newest). */
  rebuildMaxEvents?: number;
  /** Clock (tests). */
  now?: () => number;
  /**
   * Rebuild open windows from stored events at start (default true). Several central nodes
   * (central/cluster) turn it off: there the leader rebuilds from the event feed when it takes over.
   */
  rebuildAtStart?: boolean;
}

const hasRules = (loaded: LoadedRules) => loaded.engine.ruleSet.rules.length > 0;

export function createCentralDetection(options: CentralDetectionOptions) {
  const now = options.now ?? Date.now;
  let loaded: LoadedRules | undefined =
    options.rulesDirs.length > 0
      ? loadRuleDirectories({ rulesDirs: options.rulesDirs, alertWindowMs: options.alertWindowMs })
      : undefined;
  for (const e of loaded?.errors ?? []) options.logger.warn({ file: e.file }, 'rule refused: %s', e.message);
  // The ids handled lately, in two generations of SEEN_MAX / 2: when the newer fills up, the
  // older is dropped whole. Evicting one id at a time from the front of a Set instead costs
  // O(size) per call in V8 (the iterator walks the deleted slots): measured 15–60 µs per event
  // once 200,000 ids were remembered, more than all the rest of central's per-event work.
  let seenNew = new Set<string>();
  let seenOld = new Set<string>();
  const seen = { has: (id: string) => seenNew.has(id) || seenOld.has(id) };
  /** The engine's work, one task at a time in the order asked (the engine is not reentrant). */
  const tasks = createOrderedTasks((what, error) =>
    options.logger.error({ err: error.message }, 'detection: %s failed', what),
  );
  const serial = tasks.run;
  /** Events queued by `onStored` and not handled yet. */
  let waiting = 0;
  const remember = (id: string) => {
    seenNew.add(id);
    if (seenNew.size >= SEEN_MAX / 2) {
      seenOld = seenNew;
      seenNew = new Set();
    }
  };

  /** Never throws back into the task: an alert that cannot be raised is logged. */
  const raise = async (input: AlertInput, actor: string): Promise<void> => {
    try {
      await options.alerts().raise(input, actor);
    } catch (error) {
      options.logger.error({ err: (error as Error).message }, 'could not raise an alert');
    }
  };

  /** An alert a gateway raised at the edge; a malformed one is logged and not raised. */
  const fromGateway = (event: Event): AlertInput | undefined => {
    const decoded = decodeAlertEvent(event);
    if (!decoded.ok) {
      options.logger.warn({ gateway: event.gateway, id: event.id }, 'edge alert refused: %s', decoded.error);
      return undefined;
    }
    const { action, threat, fields } = decoded.alert;
    // `alert.raised` is the first hit; `alert.updated` closes the group with its total count.
    const count = action === 'alert.updated' ? fields.count - 1 : 1;
    if (count < 1) return undefined;
    const host = event.host ?? (event.device ? undefined : (fields.entity ?? event.gateway));
    return {
      rule: {
        id: threat.rule_id,
        title: threat.rule_name ?? threat.rule_id,
        severity: event.severity,
        techniques: threat.techniques,
      },
      entity: {
        ...(event.device && { device_id: event.device.id }),
        ...(host && { host }),
        gateway: event.gateway,
      },
      event_ids: fields.event_ids.slice(0, 1000),
      count,
      at: event.ts,
    };
  };

  const fromEngine = (alert: SigmaAlert): AlertInput => ({
    rule: { id: alert.rule.id, title: alert.rule.title, level: alert.level, techniques: alert.techniques },
    entity: {
      ...(alert.entity.device && { device_id: alert.entity.device }),
      ...(alert.entity.host || !alert.entity.device ? { host: alert.entity.host ?? alert.entity.key } : {}),
      ...(alert.entity.gateway && { gateway: alert.entity.gateway }),
    },
    event_ids: alert.event_ids,
    count: alert.kind === 'new' ? 1 : Math.max(1, alert.count - 1),
    at: new Date(alert.last_ms).toISOString(),
  });

  /** Handles a batch; resolves with how many alerts it raised (or grouped). */
  const handle = async (events: Event[]): Promise<number> => {
    let raised = 0;
    for (const event of events) {
      // An event neither an edge alert nor one for central's rules (none run, or central's own)
      // needs nothing, and so no place among the ids seen: looking each id up and keeping it
      // cost central's link path about 1.2 of its 16 µs per event when no central rule runs.
      if (event.kind !== 'alert' && (!loaded || event.source === 'central' || !hasRules(loaded))) continue;
      if (seen.has(event.id)) continue;
      remember(event.id);
      if (event.kind === 'alert') {
        const input = event.source === 'gateway' ? fromGateway(event) : undefined;
        if (input) {
          await raise(input, `gateway:${event.gateway}`);
          raised += 1;
        }
        continue;
      }
      if (!loaded || event.source === 'central') continue;
      const at = Date.parse(event.ts);
      for (const alert of loaded.engine.process(event, Number.isFinite(at) ? at : now())) {
        if (alert.kind === 'update' && alert.count <= 1) continue;
        await raise(fromEngine(alert), 'central:detection');
        raised += 1;
      }
    }
    return raised;
  };

  // Off on a central node that is not the cluster's leader: its engine sees no events then, and
  // windows it held as a former leader must not close into alerts the new leader raises too.
  let active = true;
  const timer = setInterval(() => {
    if (!loaded || !active) return;
    void serial('closing windows', async () => {
      if (!loaded) return;
      for (const alert of loaded.engine.advance(now())) {
        if (alert.kind === 'update' && alert.count <= 1) continue;
        await raise(fromEngine(alert), 'central:detection');
      }
    });
  }, 5000);
  timer.unref();

  /**
   * Reopens the windows of the last max-timespan from stored events, oldest first, without
   * raising: those alerts were raised before the restart. Only the events a rule matches are kept
   * while the span is read (the rest change nothing but the engine's clock, moved to the newest
   * one read at the end): holding every event read, up to 200,000, took about 1 GB for minutes
   * after a restart under load.
   */
  const rebuild = async (): Promise<{ events: number; kept: number; windows: number }> => {
    const engine = loaded?.engine;
    const spanMs = Math.max(0, ...(engine?.correlations.map((c) => c.timespanMs) ?? []));
    if (!engine || !options.store || spanMs === 0) return { events: 0, kept: 0, windows: 0 };
    const max = options.rebuildMaxEvents ?? 200_000;
    const to = now();
    const from = to - spanMs;
    /** Newest first, as read. */
    const kept: Event[] = [];
    let count = 0;
    let newestAt = Number.NEGATIVE_INFINITY;
    // Newest first, a slice of time at a time: the open hour has no index in the listing's order
    // (migration 019), so each page sorts every row of its range below the cursor. Paged over the
    // whole span, a restart under load read 200 pages each sorting millions of rows, for minutes,
    // while every batch stored meanwhile waited in memory behind it (the 60-minute soak's central
    // ran out of heap). A slice doubles while it holds under a page, and halves when it needed
    // more than four.
    let end = to + 1;
    let slice = REBUILD_SLICE_MS;
    while (end > from && count < max) {
      const start = Math.max(from, end - slice);
      let cursor: string | undefined;
      let inSlice = 0;
      let lastPage = 0;
      do {
        const page = await options.store.queryEvents({
          from: new Date(start),
          to: new Date(end),
          limit: 1000,
          cursor,
        });
        for (const event of page.events) {
          if (count >= max) break; // the newest `max` of the span
          count += 1;
          if (event.source === 'central') continue;
          // An edge alert was raised before the restart: a re-sent batch must not raise it again.
          if (event.kind === 'alert') {
            remember(event.id);
            continue;
          }
          const at = Date.parse(event.ts);
          if (!Number.isFinite(at)) continue;
          if (at > newestAt) newestAt = at;
          if (engine.ruleSet.match(event).length > 0) kept.push(event);
        }
        lastPage = page.events.length;
        inSlice += 1;
        cursor = page.nextCursor ?? undefined;
      } while (cursor && count < max);
      end = start;
      if (inSlice === 1 && lastPage < 1000) slice *= 2;
      else if (inSlice > 4) slice = Math.max(1000, slice / 2);
    }
    for (let i = kept.length - 1; i >= 0; i--) {
      const event = kept[i]!;
      if (seen.has(event.id)) continue;
      remember(event.id);
      engine.process(event, Date.parse(event.ts));
    }
    // Where the replay of every event read would have left the clock (what closes is not raised).
    if (Number.isFinite(newestAt)) engine.advance(newestAt);
    return { events: count, kept: kept.length, windows: engine.stats().correlationGroups };
  };
  if (options.rebuildAtStart !== false)
    void serial('the rebuild', async () => {
      try {
        const { events, kept, windows } = await rebuild();
        if (windows > 0)
          options.logger.info({ events, kept, windows }, 'correlation windows rebuilt from storage');
      } catch (error) {
        options.logger.error({ err: (error as Error).message }, 'could not rebuild correlation windows');
      }
    });
  const rebuilt: Promise<void> = tasks.idle();

  let documents: string[] | undefined;
  /** Runs `documents` instead of the current set; open windows of unchanged correlations carry over. */
  const replace = (nextDocuments: string[]): LoadedRules['errors'] => {
    documents = nextDocuments;
    const next = buildRuleSet(nextDocuments, { alertWindowMs: options.alertWindowMs });
    for (const e of next.errors) options.logger.warn({ file: e.file }, 'rule refused: %s', e.message);
    if (loaded) next.engine.carryOver(loaded.engine);
    loaded = next;
    return next.errors;
  };

  return {
    get rules() {
      return loaded?.engine.ruleSet.rules.length ?? 0;
    },
    get errors() {
      return loaded?.errors ?? [];
    },
    /** Resolves once the windows open before the restart are rebuilt. */
    rebuilt,
    replace,
    /** Runs the enabled central rules of the store (at start, and after each change through the API). */
    reloadFrom(rules: Pick<RulesStore, 'documents'>): Promise<void> {
      return serial('loading rules', async () => {
        try {
          replace(await rules.documents('central'));
        } catch (error) {
          options.logger.error({ err: (error as Error).message }, 'could not load central rules');
        }
      });
    },
    stats: () => loaded?.engine.stats(),
    /** Called with every committed batch; work is queued so batches are handled in order. */
    onStored(events: Event[]): void {
      waiting += events.length;
      void serial('a stored batch', async () => {
        try {
          await handle(events);
        } finally {
          waiting -= events.length;
        }
      });
    },
    /** Events given to `onStored` and not handled yet (central/ingest.ts bounds it). */
    backlog: () => waiting,
    /**
     * `onStored` that resolves once the batch is handled and its alerts raised (the cluster leader
     * moves its feed cursor only then).
     */
    consume(events: Event[]): Promise<number> {
      return serial('a fed batch', () => handle(events));
    },
    /**
     * Feeds events to the engine without raising anything: a new cluster leader replays what the
     * previous one had already handled, so that its windows are where the previous one left them.
     */
    replay(events: readonly Event[]): Promise<void> {
      return serial('a replay', () => {
        for (const event of events) {
          if (seen.has(event.id)) continue;
          remember(event.id);
          if (!loaded || event.kind === 'alert' || event.source === 'central') continue;
          const at = Date.parse(event.ts);
          loaded.engine.process(event, Number.isFinite(at) ? at : now());
        }
      });
    },
    /** Forgets every window and every id seen (a node that stops or starts leading the cluster). */
    reset(): Promise<void> {
      return serial('a reset', () => {
        seenNew = new Set();
        seenOld = new Set();
        if (documents) loaded = buildRuleSet(documents, { alertWindowMs: options.alertWindowMs });
        else if (options.rulesDirs.length > 0)
          loaded = loadRuleDirectories({
            rulesDirs: options.rulesDirs,
            alertWindowMs: options.alertWindowMs,
          });
      });
    },
    /** Whether the timer closes windows (false on a cluster node that is not the leader). */
    setActive(value: boolean): void {
      active = value;
    },
    /** Whether any rule of central's own runs (without, only the gateways' alerts matter). */
    hasRules(): boolean {
      return (loaded?.engine.ruleSet.rules.length ?? 0) > 0;
    },
    /** The longest correlation timespan of the running rules (how far back a new leader replays). */
    maxTimespanMs(): number {
      return Math.max(0, ...(loaded?.engine.correlations.map((c) => c.timespanMs) ?? []));
    },
    async stop(): Promise<void> {
      clearInterval(timer);
      await tasks.idle();
    },
  };
}
