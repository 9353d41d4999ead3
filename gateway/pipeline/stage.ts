/**
 * The stage contract of the gateway pipeline (STYLE.md "one pipeline contract"). A stage is built
 * by a factory from its validated config and handles one event at a time: it hands the event on
 * (possibly changed), or returns null to drop it (counted under the stage's `dropReason`), and may
 * hand on new events it made (a baseline deviation, a summary) through `ctx.emit`. Stateful stages
 * (sample, aggregate, dedupe) hold state keyed by time passed in as `ctx.nowMs` — the wall clock
 * live, the file's clock in replay — and release what is due in `flush`, and everything on stop
 * (`final`), so nothing held is lost.
 */
import type { PendingEvent } from '../../protocols/event/schema.ts';

export const STAGE_TYPES = [
  'normalise',
  'inventory',
  'baselines',
  'detect',
  'filter',
  'sample',
  'aggregate',
  'modbus_reads',
  'dedupe',
  'pseudonymise',
  'route',
] as const;

/** `forward` (pipeline.forward) and `telemetry` (the sources' telemetry rules) are implied, never listed. */
export type StageType = (typeof STAGE_TYPES)[number] | 'forward' | 'telemetry';

/** Stages that reduce what crosses the WAN: they run after detection, never on alerts. */
export const REDUCING_STAGES: ReadonlySet<StageType> = new Set([
  'filter',
  'sample',
  'aggregate',
  'modbus_reads',
  'dedupe',
  'forward',
  'telemetry',
]);

/** Stages that must see every observation, before any reduction. */
export const OBSERVING_STAGES: ReadonlySet<StageType> = new Set(['inventory', 'baselines', 'detect']);

export interface StageContext {
  /** The pipeline clock in ms: the wall clock live, the file's own clock in replay. */
  nowMs: number;
  /** Hands on an event this stage made; it continues at the next stage (counted as created). */
  emit(event: PendingEvent): void;
}

export interface Stage {
  readonly name: string;
  readonly type: StageType;
  /** Why `process` returned null (the drop reason in the counts). */
  readonly dropReason: string;
  /** Hands the event on (the same object or a changed copy), or null to drop it. */
  process(event: PendingEvent, ctx: StageContext): PendingEvent | null;
  /** Releases held state that is due at `ctx.nowMs`, or all of it with `final`, through `ctx.emit`. */
  flush?(ctx: StageContext, final: boolean): void;
  /**
   * What the stage does to an alert and its evidence on their way out (they skip the stages):
   * only pseudonymise has a say, so that no alert leaks what it hides. Default: nothing.
   */
  outgoing?(event: PendingEvent): PendingEvent;
}

/** What a stage has done since start: in + created = out + dropped, always. */
export interface StageCounts {
  name: string;
  type: StageType;
  in: number;
  out: number;
  dropped: number;
  created: number;
  drop_reason: string;
}
