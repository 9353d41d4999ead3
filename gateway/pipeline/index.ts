/**
 * The gateway pipeline: what happens to observations between the sources and the durable queue.
 * Each batch runs through the ordered stages (stage.ts, built by build.ts from `pipeline:`), one
 * event at a time; every stage counts what came in, went out, was dropped and was created, so an
 * OT engineer can see why an event is not on central. Alerts leave the stages at `detect` and go
 * to the alert lane after the batch is durable, with their evidence (evidence.ts); reduction
 * never touches them. Stateful stages release what is due on `tick` (the gateway's 1 s timer, or
 * the file's clock in replay) and everything on `tick(now, { final: true })`. A refused or failed
 * append is counted, reported to the health reporter and rethrown, so that the source does not
 * acknowledge the events to the device.
 */
import { Counter, type Registry } from 'prom-client';
import type { PendingEvent } from '../../protocols/event/schema.ts';
import type { SigmaEngine } from '../../protocols/sigma/index.ts';
import { alertToEvent } from '../detection/index.ts';
import type { HealthReporter } from '../health/reporter.ts';
import type { GatewayMetrics } from '../metrics.ts';
import { QueueFullError } from '../queue/leveldb-queue.ts';
import { type Enqueued, idList, NO_IDS } from '../queue/types.ts';
import { createEvidence, type Evidence } from './evidence.ts';
import { OBSERVING_STAGES, type Stage, type StageContext, type StageCounts } from './stage.ts';

/**
 * Where events go once through the stages: the durable queue live, the output in replay. The ids
 * come back at once and `durable` resolves once the events are: the sink keeps no event object
 * meanwhile, so that events die young (V8's old-space collections were most of the gateway's CPU
 * per event, issue 18). A sink that cannot take the events throws or rejects `durable`.
 */
export interface PipelineSink {
  enqueue(
    events: readonly PendingEvent[],
    stamp?: { clockOffsetMs?: number; state?: Record<string, string | null>; urgent?: boolean },
  ): Enqueued;
}

/** A sink that identifies events at once, with nothing to wait for (replay, benchmarks, tests). */
export function immediateSink(
  identify: (events: readonly PendingEvent[]) => ReadonlyArray<{ id: string }>,
): PipelineSink {
  return {
    enqueue: (events) => ({ ids: idList(identify(events).map((e) => e.id)), durable: Promise.resolve() }),
  };
}

export interface PipelineOptions {
  sink: PipelineSink;
  /** Builds the stages; `alert` takes the alerts detection raises. */
  stages: (hooks: { evidence: Evidence; alert: (event: PendingEvent) => void }) => Stage[];
  metrics?: GatewayMetrics;
  health?: HealthReporter;
  /** The running rules, for windows that close as time passes (`tick`). */
  engine?: () => SigmaEngine | undefined;
  clockOffsetMs?: () => number | undefined;
  /**
   * Every observation as the observing stages saw it (before any reduction) and every alert:
   * the device dashboard charts and lists these, not only what is forwarded.
   */
  onObserved?: (events: ReadonlyArray<PendingEvent & { id?: string }>) => void;
  evidence?: Evidence;
}

interface Ctx extends StageContext {
  made: PendingEvent[];
}

export function createPipeline(options: PipelineOptions) {
  const { sink, metrics } = options;
  let health = options.health;
  const evidence = options.evidence ?? createEvidence();
  let pendingAlerts: PendingEvent[] = [];
  const stages = options.stages({ evidence, alert: (e) => pendingAlerts.push(e) });
  const n = stages.length;
  const counts: StageCounts[] = stages.map((s) => ({
    name: s.name,
    type: s.type,
    in: 0,
    out: 0,
    dropped: 0,
    created: 0,
    drop_reason: s.dropReason,
  }));
  const ctxs: Ctx[] = stages.map((_, i) => {
    const ctx: Ctx = {
      nowMs: 0,
      made: [],
      emit(event) {
        counts[i]!.created++;
        counts[i]!.out++;
        ctx.made.push(event);
      },
    };
    return ctx;
  });
  /** Observations are what enters the first stage after the last observing one. */
  let observeAt = 0;
  stages.forEach((s, i) => {
    if (OBSERVING_STAGES.has(s.type)) observeAt = i + 1;
  });
  const detectAt = stages.findIndex((s) => s.type === 'detect');
  const outgoing = stages.flatMap((s) => (s.outgoing ? [s.outgoing] : []));
  let evidenceForwarded = 0;
  if (metrics)
    registerStageMetrics(
      metrics.registry,
      () => counts,
      () => evidenceForwarded,
      evidence,
    );

  // The batch being built (stages run synchronously, so one at a time).
  let out: PendingEvent[] = [];
  let observed: PendingEvent[] = [];

  function runFrom(start: number, event: PendingEvent): void {
    let deferred: Array<[number, PendingEvent]> | undefined;
    let e: PendingEvent | null = event;
    let i = start;
    for (; i < n; i++) {
      if (i === observeAt) observed.push(e);
      const c = counts[i]!;
      const ctx = ctxs[i]!;
      c.in++;
      const r: PendingEvent | null = stages[i]!.process(e, ctx);
      if (ctx.made.length > 0) {
        deferred ??= [];
        for (const m of ctx.made) deferred.push([i + 1, m]);
        ctx.made = [];
      }
      if (r === null) {
        c.dropped++;
        if (detectAt >= 0 && i > detectAt) evidence.heldBack(e);
        e = null;
        break;
      }
      c.out++;
      if (r !== e) evidence.carry(e, r);
      e = r;
    }
    if (e !== null) {
      if (observeAt === n) observed.push(e);
      out.push(e);
    }
    // What a stage made continues after the event that caused it (an event, then its deviation).
    if (deferred) for (const [at, m] of deferred) runFrom(at, m);
  }

  function setClock(nowMs: number) {
    for (const ctx of ctxs) ctx.nowMs = nowMs;
  }

  function flushStages(final: boolean): void {
    for (let i = 0; i < n; i++) {
      const stage = stages[i]!;
      if (!stage.flush) continue;
      const ctx = ctxs[i]!;
      stage.flush(ctx, final);
      if (ctx.made.length === 0) continue;
      const made = ctx.made;
      ctx.made = [];
      for (const m of made) runFrom(i + 1, m);
    }
  }

  function take() {
    const batch = { out, observed, alerts: pendingAlerts };
    out = [];
    observed = [];
    pendingAlerts = [];
    if (batch.observed.length > 0 || batch.alerts.length > 0)
      options.onObserved?.(batch.alerts.length > 0 ? [...batch.observed, ...batch.alerts] : batch.observed);
    return batch;
  }

  const hide = (event: PendingEvent) => {
    let e = event;
    for (const f of outgoing) e = f(e);
    return e;
  };

  /** Hands events to the sink: their ids at once, counted once durable (or refused). */
  function write(
    events: readonly PendingEvent[],
    component: string,
    state?: Record<string, string | null>,
    urgent = false,
  ): Enqueued {
    const offset = options.clockOffsetMs?.();
    const stamp =
      offset === undefined
        ? state || urgent
          ? { state, urgent }
          : undefined
        : { clockOffsetMs: offset, state, urgent };
    let queued: Enqueued;
    try {
      queued = sink.enqueue(events, stamp);
    } catch (error) {
      queued = { ids: NO_IDS, durable: Promise.reject(error as Error) };
    }
    // The count, not the events: nothing here keeps them alive until the write is done.
    const n = events.length;
    return {
      ids: queued.ids,
      durable: queued.durable.then(
        () => {
          metrics?.queued.inc(n);
          health?.writeSucceeded();
        },
        (error: unknown) => {
          const full = error instanceof QueueFullError;
          metrics?.dropped.inc({ source: component, reason: full ? 'queue_full' : 'queue_write_failed' }, n);
          if (full) health?.refused(n);
          else health?.writeFailed(n, error as Error);
          throw error;
        },
      ),
    };
  }

  /** Queues alerts after their evidence: held-back events first, then ids rewritten to real ones. */
  async function raise(alerts: PendingEvent[]): Promise<void> {
    if (alerts.length === 0) return;
    const held = new Map<string, PendingEvent>();
    for (const a of alerts) {
      const ids = (a.fields as { event_ids?: string[] }).event_ids ?? [];
      for (const f of evidence.resolve(ids).forward) held.set(f.id, f.event);
    }
    if (held.size > 0) {
      const obsIds = [...held.keys()];
      const batch = [...held.values()].map((e) => {
        const shown = hide(e);
        return {
          ...shown,
          tags: [...shown.tags.filter((t) => !t.startsWith('lane:')), 'evidence', 'lane:alert'],
        };
      });
      try {
        const queued = write(batch, 'detection');
        await queued.durable;
        obsIds.forEach((id, k) => evidence.settle(id, queued.ids, k));
        evidenceForwarded += queued.ids.length;
      } catch {
        // Counted by write(); the alert still goes, naming the observations.
      }
    }
    const final = alerts.map((a) => {
      const f = a.fields as { event_ids?: string[] };
      const shown = hide(a);
      return f.event_ids
        ? { ...shown, fields: { ...shown.fields, event_ids: evidence.resolve(f.event_ids).ids } }
        : shown;
    });
    metrics?.alerts.inc(final.length);
    try {
      await write(final, 'detection').durable;
    } catch {
      // Counted by write(); a local alert stays visible on the dashboard (onObserved).
    }
  }

  /**
   * Writes a batch, then raises its alerts once its events are durable (their evidence ids are
   * real ids then). Only the events' observation numbers wait for the write, not the events: an
   * event whose write failed is lost (counted) and an alert naming it names its observation id.
   */
  function commit(
    component: string,
    batch: ReturnType<typeof take>,
    state?: Record<string, string | null>,
    urgent = false,
  ): Promise<void> {
    const alerts = batch.alerts;
    // A source's state (a file's offset) goes with its batch, even when every event was dropped.
    if (batch.out.length === 0 && !state) return raise(alerts);
    const out = batch.out;
    const observations = new Float64Array(out.length);
    for (let k = 0; k < out.length; k++) observations[k] = evidence.observation(out[k]!);
    const { ids, durable } = write(out, component, state, urgent);
    return durable.then(
      () => {
        for (let k = 0; k < ids.length; k++) evidence.queuedAs(observations[k]!, ids, k);
        return raise(alerts);
      },
      async (error: unknown) => {
        await raise(alerts);
        throw error;
      },
    );
  }

  return {
    evidence,
    /** Where refused and failed writes are reported (the reporter itself emits into the pipeline). */
    reportTo(reporter: HealthReporter): void {
      health = reporter;
    },
    /**
     * Runs a source's batch through the stages; resolves once what was handed on is durable.
     * `state` (the source's own, e.g. file offsets) is written in the same atomic batch; `urgent`
     * (a device waits for its acknowledgement) writes without waiting for the group-commit window.
     */
    emit(
      sourceName: string,
      events: PendingEvent[],
      nowMs = Date.now(),
      state?: Record<string, string | null>,
      urgent = false,
    ): Promise<void> {
      // Not an async function: its frame would keep `events` alive until the write is done.
      try {
        metrics?.received.inc({ source: sourceName }, events.length);
        setClock(nowMs);
        for (const event of events) runFrom(0, event);
        return commit(sourceName, take(), state, urgent);
      } catch (error) {
        return Promise.reject(error as Error);
      }
    },
    /**
     * Moves the clock: stages release what is due (all of it with `final`), correlation windows
     * and alert groups close (`flushDetection`: every open one, at the end of a replay).
     */
    async tick(nowMs = Date.now(), { final = false, flushDetection = false } = {}): Promise<void> {
      setClock(nowMs);
      flushStages(final);
      const engine = options.engine?.();
      if (engine) {
        const closed = flushDetection ? engine.flush() : engine.advance(nowMs);
        for (const a of closed) pendingAlerts.push(alertToEvent(a, new Date(nowMs)));
      }
      await commit('pipeline', take());
    },
    /** Queues alerts raised outside the stages. */
    alerts: raise,
    /** Per-stage counts (/api/status, the dashboard, /metrics). */
    counts(): StageCounts[] {
      return counts.map((c) => ({ ...c }));
    },
    stages: () => stages,
  };
}

export type Pipeline = ReturnType<typeof createPipeline>;

function registerStageMetrics(
  registry: Registry,
  counts: () => StageCounts[],
  forwarded: () => number,
  evidence: Evidence,
): void {
  const existing = registry.getSingleMetric('siem_gateway_pipeline_events_total');
  if (existing) registry.removeSingleMetric('siem_gateway_pipeline_events_total');
  for (const m of ['siem_gateway_pipeline_dropped_total', 'siem_gateway_alert_evidence_total'])
    if (registry.getSingleMetric(m)) registry.removeSingleMetric(m);
  new Counter({
    name: 'siem_gateway_pipeline_events_total',
    help: 'Events per pipeline stage: in, out (handed on), dropped, created (summaries, deviations, new devices).',
    labelNames: ['stage', 'type', 'outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of counts()) {
        for (const outcome of ['in', 'out', 'dropped', 'created'] as const)
          this.inc({ stage: c.name, type: c.type, outcome }, c[outcome]);
      }
    },
  });
  new Counter({
    name: 'siem_gateway_pipeline_dropped_total',
    help: 'Events a pipeline stage did not hand on, by stage and reason (sampled, aggregated, deduplicated, filtered, not_forwarded).',
    labelNames: ['stage', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of counts())
        if (c.dropped > 0) this.inc({ stage: c.name, reason: c.drop_reason }, c.dropped);
    },
  });
  new Counter({
    name: 'siem_gateway_alert_evidence_total',
    help: 'Alert evidence events held back by a reduction stage and forwarded with their alert (outcome=forwarded), or too old to forward (outcome=missing).',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ outcome: 'forwarded' }, forwarded());
      this.inc({ outcome: 'missing' }, evidence.missing);
    },
  });
}
